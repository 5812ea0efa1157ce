/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nf-nat configuration file: YAML (libyaml's document API, so every
 * node keeps its line for the error messages "file:line: what").
 *
 *   inside: [pa]                  ports on the private side (names)
 *   outside: [pb]                 ports on the public side
 *   public: [198.51.100.1]        public addresses (1..16)
 *   ports: 1024-65535             external ports and ICMP identifiers
 *   max_mappings: 65536
 *   timeouts: {udp: 5m, tcp_established: 2h4m, tcp_transitory: 4m, icmp: 60s}
 *   hairpin: next                 next | port | drop
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <yaml.h>

#include "nat.h"

struct ctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	void (*warn)(const char *msg);
};

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 1;
}

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const yaml_node_t *n,
						      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%d: %s", c->name, line_of(n), msg);
	return -1;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

void nat_config_defaults(struct nat_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port_min = 1024;
	c->port_max = 65535;
	c->max_mappings = 65536;
	c->timeout.udp = 300 * 1000;
	c->timeout.tcp_established = (2 * 3600 + 4 * 60) * 1000;
	c->timeout.tcp_transitory = 240 * 1000;
	c->timeout.icmp = 60 * 1000;
	c->hairpin = NAT_HAIRPIN_NEXT;
}

/* A list of scalars, or one scalar: each goes to @one(). */
static int each(struct ctx *c, yaml_node_t *v, const char *what,
		int (*one)(struct ctx *, yaml_node_t *, void *), void *arg)
{
	if (v->type == YAML_SCALAR_NODE)
		return one(c, v, arg);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, "%s must be a name or a list", what);
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(c, v, "%s is an empty list", what);
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = node(c, *i);
		if (!scalar(e))
			return fail(c, e, "%s: each entry must be a scalar", what);
		if (one(c, e, arg) < 0)
			return -1;
	}
	return 0;
}

struct names {
	char (*names)[NAT_NAME_LEN];
	int *n;
	const char *what;
};

static int one_name(struct ctx *c, yaml_node_t *e, void *arg)
{
	struct names *nm = arg;
	const char *s = scalar(e);
	size_t len = strlen(s);

	if (len == 0 || len >= NAT_NAME_LEN)
		return fail(c, e, "%s: port name '%s' must be 1..%d characters", nm->what, s,
			    NAT_NAME_LEN - 1);
	if (*nm->n == NAT_MAX_SIDES)
		return fail(c, e, "%s: at most %d ports", nm->what, NAT_MAX_SIDES);
	for (int i = 0; i < *nm->n; i++)
		if (!strcmp(nm->names[i], s))
			return fail(c, e, "%s: port '%s' listed twice", nm->what, s);
	memcpy(nm->names[(*nm->n)++], s, len + 1);
	return 0;
}

static int one_addr(struct ctx *c, yaml_node_t *e, void *arg)
{
	struct nat_config *cfg = arg;
	struct in_addr a;

	if (inet_pton(AF_INET, scalar(e), &a) != 1)
		return fail(c, e, "public: '%s' is not an IPv4 address", scalar(e));
	if (cfg->n_public == NAT_MAX_PUBLIC)
		return fail(c, e, "public: at most %d addresses", NAT_MAX_PUBLIC);
	if (nat_public_index(cfg, a.s_addr) >= 0)
		return fail(c, e, "public: %s listed twice", scalar(e));
	cfg->public_addr[cfg->n_public++] = a.s_addr;
	return 0;
}

static int get_uint(struct ctx *c, yaml_node_t *v, const char *what, unsigned long long min,
		    unsigned long long max, unsigned long long *out)
{
	const char *s = scalar(v);
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return fail(c, v, "%s must be a number %llu..%llu", what, min, max);
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return fail(c, v, "%s must be a number %llu..%llu, got '%s'", what, min, max, s);
	*out = x;
	return 0;
}

/* A duration: "300" (seconds), or numbers with units h, m, s, ms in that
 * order ("2h4m", "5m", "1500ms").  At most 7 days. */
static int get_duration(struct ctx *c, yaml_node_t *v, const char *what, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
	const char *s = scalar(v), *p = s;
	uint64_t total = 0, last = UINT64_MAX;

	if (!s || !*s)
		goto bad;
	while (*p) {
		if (*p < '0' || *p > '9')
			goto bad;
		uint64_t x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (uint64_t)(*p++ - '0');
			if (x > 7ull * 86400 * 1000)
				goto bad;
		}
		uint64_t mult = 0;
		if (!*p && p != s && total == 0 && last == UINT64_MAX) {
			mult = 1000; /* a bare number: seconds */
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t ul = strlen(units[i].unit);
				if (!strncmp(p, units[i].unit, ul) &&
				    (units[i].ms != 60000 || p[1] != 's')) {
					mult = units[i].ms;
					p += ul;
					break;
				}
			}
		}
		if (!mult || mult >= last)
			goto bad;
		last = mult;
		total += x * mult;
	}
	if (total == 0 || total > 7ull * 86400 * 1000)
		goto bad;
	*ms = total;
	return 0;
bad:
	return fail(c, v,
		    "%s must be a duration such as 300 (seconds), 5m, 2h4m or 1500ms, more than 0 "
		    "and at most 7 days, got '%s'",
		    what, s ? s : "(not a scalar)");
}

static int parse_timeouts(struct ctx *c, yaml_node_t *map, struct nat_config *cfg)
{
	static const struct {
		const char *key;
		size_t off;
		uint64_t min_ms;
		const char *rfc;
	} keys[] = {
	    {"udp", offsetof(struct nat_timeouts, udp), 120000, "RFC 4787 REQ-5: 2 min"},
	    {"tcp_established", offsetof(struct nat_timeouts, tcp_established), 7440000,
	     "RFC 5382 REQ-5: 2 h 4 min"},
	    {"tcp_transitory", offsetof(struct nat_timeouts, tcp_transitory), 240000,
	     "RFC 5382 REQ-5: 4 min"},
	    {"icmp", offsetof(struct nat_timeouts, icmp), 60000, "RFC 5508: 60 s"},
	};

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map,
			    "timeouts must be a mapping (udp, tcp_established, "
			    "tcp_transitory, icmp)");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		size_t i;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (scalar(k) && !strcmp(scalar(k), keys[i].key))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return fail(c, k,
				    "timeouts: unknown key '%s' (udp, tcp_established, "
				    "tcp_transitory, icmp)",
				    scalar(k) ? scalar(k) : "?");
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(node(c, q->key)) ?: "", keys[i].key))
				return fail(c, k, "timeouts: '%s' given twice", keys[i].key);
		char what[64];
		snprintf(what, sizeof(what), "timeouts.%s", keys[i].key);
		uint64_t ms = 0;
		if (get_duration(c, v, what, &ms) < 0)
			return -1;
		memcpy((char *)&cfg->timeout + keys[i].off, &ms, sizeof(ms));
		if (ms < keys[i].min_ms && c->warn) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s:%d: %s is below the minimum of %s", c->name,
				 line_of(v), what, keys[i].rfc);
			c->warn(msg);
		}
	}
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root, struct nat_config *cfg)
{
	static const char *const known[] = {"inside",	    "outside",	"public",  "ports",
					    "max_mappings", "timeouts", "hairpin", NULL};

	if (!root || (root->type == YAML_SCALAR_NODE && !*scalar(root)))
		return fail(c, root,
			    "empty configuration: inside, outside and public are required");
	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "the configuration must be a mapping");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);
		int i;
		for (i = 0; key && known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (!key || !known[i])
			return fail(c, k,
				    "unknown key '%s' (inside, outside, public, ports, "
				    "max_mappings, timeouts, hairpin)",
				    key ? key : "?");
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(node(c, q->key)) ?: "", key))
				return fail(c, k, "'%s' given twice", key);
		if (!strcmp(key, "inside")) {
			struct names nm = {cfg->inside, &cfg->n_inside, "inside"};
			if (each(c, v, "inside", one_name, &nm) < 0)
				return -1;
		} else if (!strcmp(key, "outside")) {
			struct names nm = {cfg->outside, &cfg->n_outside, "outside"};
			if (each(c, v, "outside", one_name, &nm) < 0)
				return -1;
		} else if (!strcmp(key, "public")) {
			if (each(c, v, "public", one_addr, cfg) < 0)
				return -1;
		} else if (!strcmp(key, "ports")) {
			const char *s = scalar(v);
			unsigned lo, hi;
			int used = 0;
			if (!s || sscanf(s, "%u-%u%n", &lo, &hi, &used) != 2 || s[used] || lo < 1 ||
			    hi > 65535 || lo > hi)
				return fail(c, v,
					    "ports must be a range LOW-HIGH within 1-65535, got "
					    "'%s'",
					    s ? s : "(not a scalar)");
			cfg->port_min = (uint16_t)lo;
			cfg->port_max = (uint16_t)hi;
		} else if (!strcmp(key, "max_mappings")) {
			unsigned long long x = 0;
			if (get_uint(c, v, "max_mappings", 1, 16777216, &x) < 0)
				return -1;
			cfg->max_mappings = (uint32_t)x;
		} else if (!strcmp(key, "timeouts")) {
			if (parse_timeouts(c, v, cfg) < 0)
				return -1;
		} else { /* hairpin */
			const char *s = scalar(v);
			if (s && !strcmp(s, "next"))
				cfg->hairpin = NAT_HAIRPIN_NEXT;
			else if (s && !strcmp(s, "port"))
				cfg->hairpin = NAT_HAIRPIN_PORT;
			else if (s && !strcmp(s, "drop"))
				cfg->hairpin = NAT_HAIRPIN_DROP;
			else
				return fail(c, v, "hairpin must be next, port or drop, got '%s'",
					    s ? s : "(not a scalar)");
		}
	}
	if (!cfg->n_inside)
		return fail(c, root, "'inside' is required (the ports on the private side)");
	if (!cfg->n_outside)
		return fail(c, root, "'outside' is required (the ports on the public side)");
	if (!cfg->n_public)
		return fail(c, root, "'public' is required (the public addresses)");
	for (int i = 0; i < cfg->n_inside; i++)
		for (int j = 0; j < cfg->n_outside; j++)
			if (!strcmp(cfg->inside[i], cfg->outside[j]))
				return fail(c, root, "port '%s' is both inside and outside",
					    cfg->inside[i]);
	return 0;
}

int nat_config_parse(const char *name, const char *text, size_t len, struct nat_config *cfg,
		     char *err, size_t errlen, void (*warn)(const char *msg))
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = {.name = name, .doc = &doc, .err = err, .errlen = errlen, .warn = warn};
	int rc;

	nat_config_defaults(cfg);
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%d: %s", name, (int)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		return -1;
	}
	rc = parse_root(&c, yaml_document_get_root_node(&doc), cfg);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int nat_config_load(const char *path, struct nat_config *cfg, char *err, size_t errlen,
		    void (*warn)(const char *msg))
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				free(buf);
				fclose(f);
				return -1;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = nat_config_parse(path, buf ? buf : "", len, cfg, err, errlen, warn);
	free(buf);
	return rc;
}
