/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvmctl: command-line client for netvmd's control socket.
 *
 * Speaks the protocol of docs/control-protocol.md (one JSON object per line
 * each way) and shows the replies as tables.  Exit codes: 0 ok, 1 the
 * command failed (the daemon said ok:false, or the conversation broke),
 * 2 usage error, 3 cannot connect.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <netvm/netvm.h>
#include "common/ctl.h"
#include "netvmctl.h"

#define WAIT_POLL_NS	  (50 * 1000 * 1000L)
#define WAIT_DEFAULT_SECS 10.0

const char *sock_path;
static bool opt_json;
static bool connected;
static struct netvm_ctl_conn conn;

static const char usage_head[] =
    "Usage: netvmctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "Query and configure a running netvmd over its control socket.\n"
    "\n"
    "Options:\n"
    "  -s, --socket PATH  control socket (default: $NETVM_SOCKET, else\n"
    "                     " NETVM_DEFAULT_SOCKET ")\n"
    "  -j, --json         print the daemon's raw reply as pretty JSON\n"
    "  -h, --help         show this help and exit\n"
    "\n"
    "Commands (chain, rule and port need root or netvmd's admin_group):\n";

static const char usage_tail[] =
    "\n"
    "PREFIX is an address or prefix (10.0.0.0/8, fe80::/10) or 'any'; PROTO is tcp,\n"
    "udp, icmp, icmpv6, a number or 'any'; RANGE is a port, LO-HI or 'any'.\n"
    "\n"
    "Exit status: 0 success, 1 the command failed, 2 usage error, 3 cannot connect.\n";

static void help(void);

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("netvmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'netvmctl --help' for more information.\n", stderr);
	exit(EXIT_USAGE);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("netvmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EXIT_FAIL, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(EXIT_FAIL, "out of memory");
	va_end(ap);
	return s;
}

/* ---- talking to the daemon ---------------------------------------------- */

static void ctl_open(json_t *pending)
{
	int fd;

	if (connected)
		return;
	fd = netvm_ctl_connect(sock_path);
	if (fd < 0) {
		json_decref(pending);
		die(EXIT_CONNECT, "cannot connect to %s: %s — is netvmd running?", sock_path,
		    strerror(-fd));
	}
	netvm_ctl_conn_init(&conn, fd);
	conn.max = NETVM_CTL_MAX_REPLY; /* status with many NFs is long */
	connected = true;
}

/*
 * Send @req (stolen) and return the reply when it says ok:true.  On ok:false
 * print the daemon's error and exit 1; on a broken conversation exit 1 too.
 */
json_t *ctl_request_fd(json_t *req, int *fd_out)
{
	json_t *rep, *ok, *err;
	int fd = -1;

	if (!req)
		die(EXIT_FAIL, "out of memory");
	ctl_open(req);
	rep = netvm_ctl_call(&conn, req, &fd);
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	if (!rep) {
		if (errno == ECONNRESET || errno == EPIPE || errno == 0)
			die(EXIT_FAIL, "%s: the daemon closed the connection without replying",
			    sock_path);
		die(EXIT_FAIL, "%s: no reply from the daemon: %s", sock_path, strerror(errno));
	}
	ok = json_object_get(rep, "ok");
	if (!json_is_boolean(ok))
		die(EXIT_FAIL, "%s: malformed reply from the daemon (no \"ok\")", sock_path);
	if (!json_is_true(ok)) {
		err = json_object_get(rep, "error");
		die(EXIT_FAIL, "%s",
		    json_is_string(err) ? json_string_value(err) : "request failed (no message)");
	}
	return rep;
}

static json_t *ctl_request(json_t *req)
{
	return ctl_request_fd(req, NULL);
}

static json_t *request_status(void)
{
	return ctl_request(json_pack("{s:s}", "cmd", "status"));
}

static void print_json(json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		die(EXIT_FAIL, "cannot write output");
	putchar('\n');
}

/* ---- formatting helpers --------------------------------------------------- */

/* A JSON value as table text (malloc'd): missing or null is "-". */
static char *val_text(json_t *v, const char *sep)
{
	if (!v || json_is_null(v))
		return xstrdup("-");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_true(v))
		return xstrdup("yes");
	if (json_is_false(v))
		return xstrdup("no");
	if (json_is_array(v)) {
		size_t i, len = 1, sl = strlen(sep);
		json_t *e;
		char *out, **parts;

		if (json_array_size(v) == 0)
			return xstrdup("-");
		parts = xmalloc(json_array_size(v) * sizeof(*parts));
		json_array_foreach(v, i, e)
		{
			parts[i] = val_text(e, ",");
			len += strlen(parts[i]) + sl;
		}
		out = xmalloc(len);
		out[0] = '\0';
		json_array_foreach(v, i, e)
		{
			if (i)
				strcat(out, sep);
			strcat(out, parts[i]);
			free(parts[i]);
		}
		free(parts);
		return out;
	}
	return xstrdup("?");
}

static char *field(json_t *obj, const char *key)
{
	return val_text(json_object_get(obj, key), ",");
}

static long long int_field(json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* A table of text cells; columns whose spec is 'r' are right-aligned. */
struct table {
	int ncols;
	const char *const *hdr;
	const char *align;
	char **cells;
	size_t nrows, cap;
};

static void table_init(struct table *t, int ncols, const char *const *hdr, const char *align)
{
	*t = (struct table){.ncols = ncols, .hdr = hdr, .align = align};
}

/* Add a row of @t->ncols malloc'd strings (the table takes them). */
static void table_row(struct table *t, ...)
{
	va_list ap;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(*t->cells));
		if (!t->cells)
			die(EXIT_FAIL, "out of memory");
	}
	va_start(ap, t);
	for (int c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = va_arg(ap, char *);
	va_end(ap);
	t->nrows++;
}

static void table_line(const struct table *t, const int *w, const char *const *cells)
{
	for (int c = 0; c < t->ncols; c++) {
		bool last = c == t->ncols - 1;

		if (c)
			fputs("  ", stdout);
		if (t->align[c] == 'r')
			printf("%*s", w[c], cells[c]);
		else if (last)
			fputs(cells[c], stdout);
		else
			printf("%-*s", w[c], cells[c]);
	}
	putchar('\n');
}

/* Print and free; an empty table prints @empty instead. */
static void table_print(struct table *t, const char *empty)
{
	int w[32];

	if (t->nrows == 0) {
		printf("%s\n", empty);
		return;
	}
	for (int c = 0; c < t->ncols; c++)
		w[c] = (int)strlen(t->hdr[c]);
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			int l = (int)strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	table_line(t, w, t->hdr);
	for (size_t r = 0; r < t->nrows; r++)
		table_line(t, w, (const char *const *)&t->cells[r * t->ncols]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

static json_t *section_array(json_t *rep, const char *key)
{
	json_t *a = json_object_get(rep, key);

	return json_is_array(a) ? a : NULL;
}

/* ---- the status sections --------------------------------------------------- */

static void show_pool(json_t *rep)
{
	json_t *pool = json_object_get(rep, "pool");
	long long total = int_field(pool, "buffers", -1);
	long long nfree = int_field(pool, "free", -1);
	json_t *huge = json_object_get(pool, "hugepages");

	if (!json_is_object(pool)) {
		printf("pool: (not reported)\n");
		return;
	}
	printf("pool: %lld of %lld buffers free, %lld in use; %s\n", nfree, total,
	       total >= 0 && nfree >= 0 ? total - nfree : -1,
	       json_is_true(huge)    ? "hugepages"
	       : json_is_false(huge) ? "regular pages (no hugepages)"
				     : "page size unknown");
}

static void show_ports(json_t *rep)
{
	static const char *const hdr[] = {"ID",	  "NAME",     "TYPE",	  "OUTPUT", "RX",
					  "TX",	  "RX_BYTES", "TX_BYTES", "NOBUF",  "TOO_BIG",
					  "RUNT", "TX_ERR",   "RX_DONE"};
	json_t *ports = section_array(rep, "ports"), *p;
	struct table t;
	size_t i;

	table_init(&t, 13, hdr, "rlllrrrrrrrrl");
	json_array_foreach(ports, i, p)
	    table_row(&t, field(p, "id"), field(p, "name"), field(p, "type"), field(p, "output"),
		      field(p, "rx"), field(p, "tx"), field(p, "rx_bytes"), field(p, "tx_bytes"),
		      field(p, "rx_nobuf"), field(p, "rx_too_big"), field(p, "rx_runt"),
		      field(p, "tx_error"), field(p, "rx_done"));
	table_print(&t, "(no ports)");
}

static void show_services(json_t *rep)
{
	static const char *const hdr[] = {"ID", "NAME", "INSTANCES"};
	json_t *svcs = section_array(rep, "services"), *s;
	struct table t;
	size_t i;

	table_init(&t, 3, hdr, "rll");
	json_array_foreach(svcs, i, s)
	    table_row(&t, field(s, "id"), field(s, "name"), field(s, "instances"));
	table_print(&t, "(no services)");
}

/* An NF's own counters as "name=value name=value", "-" for none. */
static char *counters_text(json_t *n)
{
	json_t *ctr = json_object_get(n, "counters"), *v;
	char *text = xstrdup("");
	const char *name;

	json_object_foreach(ctr, name, v)
	{
		char *more = xasprintf("%s%s%s=%lld", text, text[0] ? " " : "", name,
				       json_is_integer(v) ? (long long)json_integer_value(v) : -1);
		free(text);
		text = more;
	}
	if (!text[0]) {
		free(text);
		text = xstrdup("-");
	}
	return text;
}

static void show_nfs(json_t *rep)
{
	static const char *const hdr[] = {"INSTANCE", "SERVICE",  "SLOT",  "PID",
					  "VM",	      "STATE",	  "RX",	   "TX",
					  "DROPPED",  "BAD_DESC", "STOCK", "COUNTERS"};
	json_t *nfs = section_array(rep, "nfs"), *n;
	struct table t;
	size_t i;

	/* PID is QEMU's for an NF in a VM. */
	table_init(&t, 12, hdr, "rlrrllrrrrrl");
	json_array_foreach(nfs, i, n) table_row(
	    &t, field(n, "instance"), field(n, "service"), field(n, "slot"), field(n, "pid"),
	    xstrdup(json_is_true(json_object_get(n, "vm")) ? "yes" : "no"), field(n, "state"),
	    field(n, "rx"), field(n, "tx"), field(n, "dropped"), field(n, "bad_desc"),
	    field(n, "stock"), counters_text(n));
	table_print(&t, "(no NFs attached)");
}

static void show_chains(json_t *rep)
{
	static const char *const hdr[] = {"ID", "NAME", "DEFAULT", "HOPS"};
	json_t *chains = section_array(rep, "chains"), *c;
	json_t *dflt = json_object_get(rep, "default_chain");
	const char *dname =
	    json_is_string(dflt) && *json_string_value(dflt) ? json_string_value(dflt) : NULL;
	struct table t;
	size_t i;

	table_init(&t, 4, hdr, "rlll");
	json_array_foreach(chains, i, c)
	{
		json_t *name = json_object_get(c, "name");
		bool is_dflt =
		    dname && json_is_string(name) && strcmp(json_string_value(name), dname) == 0;
		json_t *hops = json_object_get(c, "hops"), *links = json_object_get(c, "links"), *v;
		char *h = json_is_array(hops) && json_array_size(hops) == 0
			      ? xstrdup("(none: straight to the output port)")
			      : val_text(hops, " -> ");
		const char *from;
		json_object_foreach(links, from, v)
		{
			char *more = xasprintf("%s; %s -> %s", h, from,
					       json_is_string(v) ? json_string_value(v) : "?");
			free(h);
			h = more;
		}

		table_row(&t, field(c, "id"), field(c, "name"), xstrdup(is_dflt ? "*" : ""), h);
	}
	table_print(&t, "(no chains)");
	if (dname)
		printf("default chain: %s\n", dname);
	else
		printf(
		    "default chain: none (unmatched packets go straight to their output port)\n");
}

static void show_rules(json_t *rep)
{
	static const char *const hdr[] = {"ID", "MATCH", "CHAIN", "HITS"};
	json_t *rules = section_array(rep, "rules"), *r;
	struct table t;
	size_t i;

	table_init(&t, 4, hdr, "rllr");
	json_array_foreach(rules, i, r)
	    table_row(&t, field(r, "id"), field(r, "match"), field(r, "chain"), field(r, "hits"));
	table_print(&t, "(no rules)");
}

static void show_drops(json_t *rep)
{
	static const char *const hdr[] = {"CAUSE", "PACKETS"};
	json_t *drops = json_object_get(rep, "drops"), *v;
	const char *key;
	long long total = 0;
	struct table t;

	if (!json_is_object(drops)) {
		printf("(drops not reported)\n");
		return;
	}
	table_init(&t, 2, hdr, "lr");
	/* In the daemon's order (jansson keeps it): the daemon owns the list. */
	json_object_foreach(drops, key, v)
	{
		total += json_is_integer(v) ? json_integer_value(v) : 0;
		table_row(&t, xstrdup(key), val_text(v, ","));
	}
	table_row(&t, xstrdup("total"), xasprintf("%lld", total));
	table_print(&t, "(no drops reported)");
}

static void show_control(json_t *rep)
{
	json_t *ctl = json_object_get(rep, "control");

	if (!json_is_object(ctl)) {
		printf("(control socket not reported)\n");
		return;
	}
	printf("%lld connections (limit %lld, %lld more for admins); refused %lld, timed out %lld, "
	       "overflowed %lld\n",
	       int_field(ctl, "connections", -1), int_field(ctl, "max_connections", -1),
	       int_field(ctl, "admin_reserve", -1), int_field(ctl, "refused", -1),
	       int_field(ctl, "timed_out", -1), int_field(ctl, "overflowed", -1));
}

static void heading(const char *h)
{
	printf("\n%s:\n", h);
}

/* status, or one of its sections (argv[0]). */
static int cmd_show(int argc, char **argv)
{
	const char *what = argv[0];

	if (argc > 1)
		usage_error("'%s' takes no arguments", what);
	json_t *rep = request_status();

	if (opt_json) {
		print_json(rep);
	} else if (strcmp(what, "status") == 0) {
		show_pool(rep);
		heading("Ports");
		show_ports(rep);
		heading("Services");
		show_services(rep);
		heading("NFs");
		show_nfs(rep);
		heading("Chains");
		show_chains(rep);
		heading("Rules");
		show_rules(rep);
		heading("Drops");
		show_drops(rep);
		heading("Control socket");
		show_control(rep);
	} else if (strcmp(what, "pool") == 0) {
		show_pool(rep);
	} else if (strcmp(what, "ports") == 0) {
		show_ports(rep);
	} else if (strcmp(what, "services") == 0) {
		show_services(rep);
	} else if (strcmp(what, "nfs") == 0) {
		show_nfs(rep);
	} else if (strcmp(what, "chains") == 0) {
		show_chains(rep);
	} else if (strcmp(what, "rules") == 0) {
		show_rules(rep);
	} else if (strcmp(what, "control") == 0) {
		show_control(rep);
	} else {
		show_drops(rep);
	}
	json_decref(rep);
	return EXIT_OK;
}

/* ---- configuration commands ------------------------------------------------- */

static void print_done(json_t *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void print_done(json_t *rep, const char *fmt, ...)
{
	va_list ap;

	if (opt_json) {
		print_json(rep);
		return;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int cmd_chain_set(int argc, char **argv)
{
	json_t *rep, *hops = json_array();
	size_t nhops;

	json_t *links = json_object();

	if (argc < 3)
		usage_error("usage: chain set NAME SVC[,SVC...] [HOP.OUTPUT=TARGET...]  (or '' for "
			    "no hops)");
	if (!*argv[1])
		usage_error("chain name must not be empty");
	/* Hops may be given comma-separated, as separate words, or both;
	 * links are HOP.OUTPUT=TARGET. */
	for (int a = 2; a < argc; a++) {
		char *eq = strchr(argv[a], '=');
		if (eq) {
			if (eq == argv[a] || !eq[1])
				usage_error("chain set: a link is HOP.OUTPUT=TARGET, got '%s'",
					    argv[a]);
			*eq = '\0';
			json_object_set_new(links, argv[a], json_string(eq + 1));
			continue;
		}
		char *list = xstrdup(argv[a]), *save = NULL;

		if (*list &&
		    (list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,")))
			usage_error("empty service name in '%s'", argv[a]);
		for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save))
			json_array_append_new(hops, json_string(s));
		free(list);
	}
	nhops = json_array_size(hops); /* the request takes hops */
	rep = ctl_request(json_pack("{s:s, s:s, s:o, s:o}", "cmd", "chain_set", "name", argv[1],
				    "hops", hops, "links", links));
	print_done(rep, "chain %s set (id %lld, %zu hop%s)", argv[1], int_field(rep, "id", -1),
		   nhops, nhops == 1 ? "" : "s");
	json_decref(rep);
	return EXIT_OK;
}

static int cmd_chain_default(int argc, char **argv)
{
	json_t *rep;
	bool none;

	if (argc != 2)
		usage_error("usage: chain default NAME|none");
	none = strcmp(argv[1], "none") == 0 || !*argv[1];
	rep = ctl_request(json_pack("{s:s, s:o}", "cmd", "chain_default", "name",
				    none ? json_null() : json_string(argv[1])));
	if (none)
		print_done(rep, "no default chain: unmatched packets go straight to their "
				"output port");
	else
		print_done(rep, "default chain is now %s", argv[1]);
	json_decref(rep);
	return EXIT_OK;
}

static int cmd_rule_add(int argc, char **argv)
{
	static const char *const keys[] = {"src", "dst", "proto", "sport", "dport"};
	json_t *rep;

	json_t *match = json_object();
	const char *chain = NULL;

	for (int a = 1; a < argc; a++) {
		char *eq = strchr(argv[a], '=');
		char key[16];
		bool ok = false;
		size_t kl;

		if (!eq || eq == argv[a] || (kl = (size_t)(eq - argv[a])) >= sizeof(key))
			usage_error("rule add: expected KEY=VALUE, got '%s'", argv[a]);
		memcpy(key, argv[a], kl);
		key[kl] = '\0';
		if (!eq[1])
			usage_error("rule add: empty value for '%s'", key);
		if (strcmp(key, "chain") == 0) {
			if (chain)
				usage_error("rule add: chain given twice");
			chain = eq + 1;
			continue;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			ok |= strcmp(key, keys[k]) == 0;
		if (!ok)
			usage_error("rule add: unknown field '%s' (src, dst, proto, sport, "
				    "dport, chain)",
				    key);
		if (json_object_get(match, key))
			usage_error("rule add: %s given twice", key);
		json_object_set_new(match, key, json_string(eq + 1));
	}
	if (!chain)
		usage_error("rule add: chain=NAME is required");
	rep = ctl_request(
	    json_pack("{s:s, s:o, s:s}", "cmd", "rule_add", "match", match, "chain", chain));
	print_done(rep, "rule %lld added (chain %s)", int_field(rep, "id", -1), chain);
	json_decref(rep);
	return EXIT_OK;
}

static int cmd_rule_del(int argc, char **argv)
{
	json_t *rep;
	char *end;
	long long id;

	if (argc != 2)
		usage_error("usage: rule del ID");
	errno = 0;
	id = strtoll(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || id < 0)
		usage_error("rule del: '%s' is not a rule id", argv[1]);
	rep = ctl_request(json_pack("{s:s, s:I}", "cmd", "rule_del", "id", (json_int_t)id));
	print_done(rep, "rule %lld deleted", id);
	json_decref(rep);
	return EXIT_OK;
}

/* port start NAME, port stop NAME (argv[0] says which). */
static int cmd_port_rx(int argc, char **argv)
{
	bool start = strcmp(argv[0], "start") == 0;
	json_t *rep;

	if (argc != 2)
		usage_error("usage: port %s NAME", argv[0]);
	rep = ctl_request(
	    json_pack("{s:s, s:s, s:b}", "cmd", "port_rx", "name", argv[1], "enable", start));
	print_done(rep, "port %s: receive %s", argv[1], start ? "started" : "paused");
	json_decref(rep);
	return EXIT_OK;
}

/* ---- wait ------------------------------------------------------------------- */

enum wait_cond { WAIT_NFS, WAIT_POOL_FULL, WAIT_PORTS_DONE };

static bool pool_full(json_t *rep, char *seen, size_t len)
{
	json_t *pool = json_object_get(rep, "pool");
	long long total = int_field(pool, "buffers", -1), nfree = int_field(pool, "free", -2);

	snprintf(seen, len, "pool %lld of %lld buffers free", nfree, total);
	return total >= 0 && nfree == total;
}

/* Evaluate the condition on one status reply; describe what was seen. */
static bool wait_check(enum wait_cond cond, long long n, json_t *rep, char *seen, size_t len)
{
	json_t *arr, *e;
	size_t i;

	switch (cond) {
	case WAIT_NFS: {
		long long running = 0;

		arr = section_array(rep, "nfs");
		json_array_foreach(arr, i, e)
		{
			json_t *st = json_object_get(e, "state");

			running +=
			    json_is_string(st) && strcmp(json_string_value(st), "running") == 0;
		}
		snprintf(seen, len, "%lld NF%s running", running, running == 1 ? "" : "s");
		return running == n;
	}
	case WAIT_POOL_FULL:
		return pool_full(rep, seen, len);
	case WAIT_PORTS_DONE: {
		char pool[128], busy[512] = "";
		size_t nbusy = 0, used = 0;
		bool full = pool_full(rep, pool, sizeof(pool));

		arr = section_array(rep, "ports");
		json_array_foreach(arr, i, e)
		{
			json_t *name = json_object_get(e, "name");

			if (json_is_true(json_object_get(e, "rx_done")))
				continue;
			if (used < sizeof(busy) - 1)
				used += (size_t)snprintf(
				    busy + used, sizeof(busy) - used, "%s%s", nbusy ? ", " : "",
				    json_is_string(name) ? json_string_value(name) : "?");
			nbusy++;
		}
		if (nbusy)
			snprintf(seen, len, "ports still receiving: %s; %s", busy, pool);
		else
			snprintf(seen, len, "all ports done receiving; %s", pool);
		return nbusy == 0 && full;
	}
	}
	return false;
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether process @pid runs (a zombie, exited but not reaped, does not). */
static bool process_alive(pid_t pid)
{
	char path[64], buf[256], *paren;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return kill(pid, 0) == 0 || errno == EPERM; /* no /proc: ask the kernel */
	if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')) && paren[1] == ' ')
		alive = paren[2] != 'Z' && paren[2] != 'X';
	fclose(f);
	return alive;
}

static int cmd_wait(int argc, char **argv)
{
	double timeout = WAIT_DEFAULT_SECS, deadline;
	enum wait_cond cond;
	long long n = 0;
	const char *condstr;
	char seen[1024] = "nothing";
	pid_t pid = 0;
	int a = 1; /* argv[0] is "wait" */

	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		const char *opt = argv[a], *val = strchr(opt, '=');
		size_t olen = val ? (size_t)(val - opt) : strlen(opt);
		char *end;

		if (val)
			val++;
		else if (a + 1 < argc)
			val = argv[++a];
		else
			usage_error("wait: %s needs a value", opt);
		if (olen == 9 && !strncmp(opt, "--timeout", 9)) {
			errno = 0;
			timeout = strtod(val, &end);
			if (errno || end == val || *end || !isfinite(timeout) || timeout < 0)
				usage_error("wait: bad timeout '%s' (seconds, e.g. 10 or 0.5)",
					    val);
		} else if (olen == 5 && !strncmp(opt, "--pid", 5)) {
			errno = 0;
			long p = strtol(val, &end, 10);
			if (errno || end == val || *end || p <= 0 || p > INT_MAX)
				usage_error("wait: bad --pid '%s'", val);
			pid = (pid_t)p;
		} else {
			usage_error("wait: unknown option '%.*s'", (int)olen, opt);
		}
	}
	if (argc - a != 1)
		usage_error("usage: wait [--timeout SEC] [--pid PID] nfs=N|pool-full|ports-done");
	condstr = argv[a];
	if (strncmp(condstr, "nfs=", 4) == 0) {
		char *end;

		errno = 0;
		n = strtoll(condstr + 4, &end, 10);
		if (errno || end == condstr + 4 || *end || n < 0)
			usage_error("wait: bad count in '%s'", condstr);
		cond = WAIT_NFS;
	} else if (strcmp(condstr, "pool-full") == 0) {
		cond = WAIT_POOL_FULL;
	} else if (strcmp(condstr, "ports-done") == 0) {
		cond = WAIT_PORTS_DONE;
	} else {
		usage_error("wait: unknown condition '%s' (nfs=N, pool-full, ports-done)", condstr);
	}

	deadline = now_secs() + timeout;
	for (;;) {
		json_t *rep = request_status();
		bool done = wait_check(cond, n, rep, seen, sizeof(seen));

		json_decref(rep);
		if (done)
			return EXIT_OK;
		if (pid && !process_alive(pid)) {
			fprintf(stderr,
				"netvmctl: process %d is gone: stopped waiting for %s (last seen: "
				"%s)\n",
				(int)pid, condstr, seen);
			return EXIT_FAIL;
		}
		if (now_secs() >= deadline)
			break;
		nanosleep(&(struct timespec){.tv_nsec = WAIT_POLL_NS}, NULL);
	}
	fprintf(stderr, "netvmctl: timed out after %g s waiting for %s (last seen: %s)\n", timeout,
		condstr, seen);
	return EXIT_FAIL;
}

/* ---- main ------------------------------------------------------------------- */

/* ---- the commands ------------------------------------------------------------ */

static int cmd_help(int argc, char **argv)
{
	help();
	return EXIT_OK;
}

/*
 * Every command: dispatch and --help come from this one table.  A handler
 * gets argv[0] = the command's last word ("set" of "chain set") and its
 * arguments after it.
 */
static const struct command {
	const char *name, *sub; /* "chain", "set"; sub NULL for one-word commands */
	const char *args;	/* for the help */
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"status", NULL, "", cmd_show, "everything below, as tables"},
    {"pool", NULL, "", cmd_show, "packet buffer pool: total, free, hugepages"},
    {"ports", NULL, "", cmd_show, "ports and their counters"},
    {"nfs", NULL, "", cmd_show, "network function instances and their counters"},
    {"services", NULL, "", cmd_show, "services and their instances"},
    {"chains", NULL, "", cmd_show, "service chains and the default chain"},
    {"rules", NULL, "", cmd_show, "flow rules, in match order, with hit counts"},
    {"drops", NULL, "", cmd_show, "packets dropped, by cause"},
    {"control", NULL, "", cmd_show,
     "control socket: connections, limit, refused, timed out and overflowed clients"},
    {"chain", "set", "NAME SVC[,SVC...] [HOP.N=TARGET...]", cmd_chain_set,
     "create or replace a chain ('' for no hops); each HOP.N=TARGET links output N of hop HOP "
     "to TARGET: another hop, out, drop or port:NAME (output 0 goes to the next hop unless "
     "linked, other outputs are dropped unless linked)"},
    {"chain", "default", "NAME|none", cmd_chain_default,
     "chain for packets no rule matches (none: straight to their output port)"},
    {"rule", "add",
     "[src=PREFIX] [dst=PREFIX] [proto=PROTO] [sport=RANGE] [dport=RANGE] chain=NAME", cmd_rule_add,
     "append a flow rule (omitted fields match anything)"},
    {"rule", "del", "ID", cmd_rule_del, "delete a flow rule"},
    {"port", "start", "NAME", cmd_port_rx,
     "resume receiving on a port (ports with 'paused: true' in the configuration start "
     "paused)"},
    {"port", "stop", "NAME", cmd_port_rx, "pause receiving on a port"},
    {"wait", NULL, "[--timeout SEC] [--pid PID] COND", cmd_wait,
     "poll every 50 ms until COND holds (default timeout 10 s; exit 1 on timeout, or as "
     "soon as process PID is gone, e.g. a 'vm start' whose VM failed). COND: nfs=N (N NF "
     "instances are running), pool-full (every buffer is back in the pool), ports-done "
     "(every port finished receiving and nothing is in flight)"},
    {"vm", "start", "SERVICE [OPTIONS] [-- QEMU-ARGS]", cmd_vm_start,
     "run an NF for SERVICE in a QEMU guest whose only packet memory is SERVICE's domain "
     "region (see 'netvmctl vm help' and docs/vm-nfs.md)"},
    {"vm", "help", "", cmd_vm_help, "the options of vm start"},
    {"help", NULL, "", cmd_help, "show this help"},
};

#define NCOMMANDS  (sizeof(commands) / sizeof(commands[0]))
#define HELP_COL   30
#define HELP_WIDTH 80

/* @text, starting at column @col, wrapped at HELP_WIDTH onto lines that
 * start at column @indent. */
static void print_wrapped(const char *text, int col, int indent)
{
	bool line_start = true;

	while (*text) {
		int word = (int)strcspn(text, " ");
		if (!line_start && col + 1 + word > HELP_WIDTH) {
			printf("\n%*s", indent, "");
			col = indent;
			line_start = true;
		}
		if (!line_start) {
			putchar(' ');
			col++;
		}
		printf("%.*s", word, text);
		col += word;
		line_start = false;
		text += word;
		text += strspn(text, " ");
	}
	putchar('\n');
}

static void help(void)
{
	fputs(usage_head, stdout);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		char left[160];
		int n = snprintf(left, sizeof(left), "%s%s%s%s%s", c->name, c->sub ? " " : "",
				 c->sub ? c->sub : "", c->args[0] ? " " : "", c->args);

		printf("  ");
		if (n + 2 >= HELP_COL) { /* too long for one line: its own, wrapped */
			print_wrapped(left, 2, 11);
			printf("%*s", HELP_COL, "");
		} else {
			printf("%-*s", HELP_COL - 2, left);
		}
		print_wrapped(c->help, HELP_COL, HELP_COL);
	}
	fputs(usage_tail, stdout);
	exit(EXIT_OK);
}

/* Find @cmd (and its subcommand in argv[0]) in the table and run it. */
static int run_command(const char *cmd, int argc, char **argv)
{
	bool known = false;

	if (!strcmp(cmd, "--help"))
		help();
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		if (strcmp(c->name, cmd))
			continue;
		known = true;
		if (!c->sub) /* argv[-1] is the command itself */
			return c->fn(argc + 1, argv - 1);
		if (argc >= 1 && !strcmp(argv[0], c->sub))
			return c->fn(argc, argv);
	}
	if (!known)
		usage_error("unknown command '%s' (see 'netvmctl help')", cmd);
	char subs[128] = "";
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, cmd))
			snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%s",
				 subs[0] ? " or " : "", commands[i].sub);
	if (argc < 1)
		usage_error("'%s' needs a subcommand: %s", cmd, subs);
	usage_error("unknown %s subcommand '%s' (%s)", cmd, argv[0], subs);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd;
	int opt;

	sock_path = getenv("NETVM_SOCKET");
	if (!sock_path || !*sock_path)
		sock_path = NETVM_DEFAULT_SOCKET;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!*optarg)
				usage_error("--socket needs a path");
			sock_path = optarg;
			break;
		case 'j':
			opt_json = true;
			break;
		case 'h':
			help();
			break;
		default:
			if (optopt == 's')
				usage_error("--socket needs a path");
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no command given");

	/* A vanished daemon shows up as an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	(void)cmd;
	/* Accept --json / -j after the command too ("netvmctl status --json"). */
	for (int i = 0; i < argc;) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			opt_json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
		} else {
			i++;
		}
	}

	return run_command(cmd, argc, argv);
}
