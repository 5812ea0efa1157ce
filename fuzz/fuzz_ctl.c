/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control protocol as netvmd sees it.  Arbitrary bytes
 * go through a real socket into netvm_ctl_fill()/netvm_ctl_next() (the
 * framing: lines, size limit, JSON objects), and every request that comes
 * out goes through the manager's dispatch() on a real daemon state (region,
 * pool, gen port, routing table) without the switch thread: with d->stop set,
 * route_publish() frees old tables at once, which is safe with no switch.
 *
 * The first input byte picks how many bytes each read delivers, so lines
 * split across reads are exercised too.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The manager's request handlers are static: compile them in here. */
#include "daemon/manager.c"

static const char config[] = "ports:\n"
			     "  - {name: gen0, type: gen, paused: true}\n"
			     "  - {name: gen1, type: gen, paused: true, output: gen0}\n"
			     "services: [fw, fwd, mon]\n"
			     "chains:\n"
			     "  main: [fw, fwd]\n"
			     "  mon: [mon]\n"
			     "default_chain: main\n"
			     "rules:\n"
			     "  - {match: {proto: udp, dport: 53}, chain: mon}\n"
			     "pool: {buffers: 256, buffer_size: 2048}\n"
			     "ring_size: 64\n"
			     "max_nfs: 4\n";

static struct netvmd d;
static int sv[2]; /* sv[0]: what the client writes; sv[1]: the daemon's end */

static void fatal(const char *what)
{
	fprintf(stderr, "fuzz_ctl: setup failed: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	netvm_log_set_level(NETVM_LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	if (netvm_config_parse("fuzz_ctl.yaml", config, sizeof(config) - 1, &d.cfg, err,
			       sizeof(err)) < 0)
		fatal(err);
	if (netvmd_open(&d) < 0) /* region, pool, domains, slots, ports, routes */
		fatal("netvmd_open");
	for (uint16_t i = 0; i < d.nports; i++)
		atomic_store(&d.ports[i].rx_paused, true);
	atomic_store(&d.stop, true); /* no switch thread: quiesce returns at once */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	return 0;
}

/* Back to the configured state so each input starts from the same daemon. */
static void reset(void)
{
	char err[256];
	struct route_table *rt;

	for (uint32_t s = 0; s < d.nslots; s++)
		atomic_store(&d.slots[s].state, SLOT_FREE);
	route_free(d.rt_mgr);
	rt = route_from_config(&d, err, sizeof(err));
	if (!rt)
		fatal(err);
	d.rt_mgr = rt;
	atomic_store(&d.rt, rt);
	d.next_rule_id = rt->nrules;
	for (uint16_t i = 0; i < d.nports; i++)
		atomic_store(&d.ports[i].rx_paused, true);
}

static void drain_socket(int fd)
{
	char junk[4096];

	while (read(fd, junk, sizeof(junk)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client c = {.slot = -1, .bound_svc = -1, .pid = 1, .admin = true};
	size_t chunk, off = 0;
	bool open = true;

	if (size == 0)
		return 0;
	reset();
	chunk = (size_t)data[0] * 64 + 1; /* 1 .. 16321 bytes per read */
	data++;
	size--;
	netvm_ctl_conn_init(&c.conn, sv[1]);
	while (open && off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w = write(sv[0], data + off, n);
		if (w <= 0)
			break;
		off += (size_t)w;
		/* As client_input() does, minus the replies going back. */
		int got = netvm_ctl_fill(&c.conn);
		if (got <= 0) {
			open = false; /* -EMSGSIZE: the manager closes the connection */
			break;
		}
		json_t *req, *rep;
		int fd, ret;
		while ((ret = netvm_ctl_next(&c.conn, &req, &fd)) != 0) {
			int pass_fd = -1;
			if (fd >= 0)
				close(fd);
			if (ret < 0 && req)
				abort(); /* an error leaves nothing to free */
			if (ret > 0 && handle_event(&d, &c, req)) {
				json_decref(req);
				continue;
			}
			rep = ret < 0 ? error_reply(EBADMSG, "request is not a JSON object")
				      : dispatch(&d, &c, req, &pass_fd);
			if (ret > 0 && !json_is_object(req))
				abort();
			json_decref(req);
			if (!rep || !json_is_boolean(json_object_get(rep, "ok")))
				abort(); /* every request gets an answer with "ok" */
			char *text = json_dumps(rep, JSON_COMPACT);
			if (!text || strchr(text, '\n'))
				abort(); /* a reply is one line */
			free(text);
			json_decref(rep);
			if (c.conn.len > NETVM_CTL_MAX_MSG)
				abort();
		}
	}
	drain_socket(sv[1]);
	netvm_ctl_conn_free(&c.conn);
	return 0;
}
