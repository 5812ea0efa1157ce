/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control protocol as netvmd sees it.  Arbitrary bytes
 * go through a real socket into the manager's connection code (client_new,
 * client_event: netvm_ctl_fill()/netvm_ctl_next() framing, the command
 * table's access checks, the handlers, the reply queue) on a real daemon
 * state (region, pool, gen ports, routing table) without the switch thread:
 * with d->stop set, route_publish() frees old tables at once, which is safe
 * with no switch.
 *
 * Byte 0 picks how many bytes each write delivers, so lines split across
 * reads are exercised too.  Byte 1 holds flags: FL_ADMIN (else the peer may
 * not change the configuration), FL_READ (read the replies as they come;
 * else they pile up, and with FL_SMALL_BUF the queue overflows), FL_TICK
 * (end with a tick far in the future: the timeouts), FL_VM (a VM's channel,
 * bound to service fw: only attach and detach are allowed).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>

/* The connection code is static: compile it in here (commands.c is linked). */
#include "daemon/manager.c"

enum { FL_ADMIN = 1, FL_READ = 2, FL_TICK = 4, FL_SMALL_BUF = 8, FL_VM = 16 };

static const char config[] =
    "ports:\n"
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
    "max_nfs: 4\n"
    "control: {queue_limit: 8192, idle_timeout: 1s, request_timeout: 1s}\n";

static struct netvmd d;
static struct manager m = {.d = &d, .lfd = -1, .sfd = -1, .spare_fd = -1};

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
	if ((m.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	return 0;
}

/* Back to the configured state so each input starts from the same daemon. */
static void reset(void)
{
	char err[256];
	struct route_table *rt;

	for (uint32_t s = 0; s < d.nslots; s++)
		atomic_store(&d.slots[s].state, SLOT_FREE);
	route_free(d.mgr.rt);
	rt = route_from_config(&d, err, sizeof(err));
	if (!rt)
		fatal(err);
	d.mgr.rt = rt;
	atomic_store(&d.rt, rt);
	d.mgr.next_rule_id = rt->nrules;
	for (uint16_t i = 0; i < d.nports; i++)
		atomic_store(&d.ports[i].rx_paused, true);
}

/* The queue's bookkeeping: every entry one line, the byte count right, and
 * more than one entry only within the limit. */
static void check_queue(const struct client *c)
{
	size_t bytes = 0, n = 0;

	for (const struct reply *r = c->out; r; r = r->next, n++) {
		if (r->off >= r->len || r->text[r->len - 1] != '\n' ||
		    memchr(r->text, '\n', r->len - 1))
			abort();
		bytes += r->len - r->off;
	}
	if (bytes != c->out_bytes || (n > 1 && bytes > d.cfg.ctl.queue_limit))
		abort();
	if (c->conn.len > c->conn.max)
		abort();
}

/* What the client received: every complete line is an object with "ok"
 * (the daemon sends no events without a switch).  Passed fds are closed. */
static void read_replies(struct netvm_ctl_conn *in)
{
	json_t *rep;
	int got, pfd;

	while ((got = netvm_ctl_fill(in)) > 0 || got == -EMSGSIZE) {
		if (got < 0)
			abort(); /* a reply longer than any client takes */
		while (netvm_ctl_next(in, &rep, &pfd) != 0) {
			if (pfd >= 0)
				close(pfd);
			if (!rep || !json_is_boolean(json_object_get(rep, "ok")))
				abort();
			json_decref(rep);
		}
	}
}

/* What level-triggered epoll would report for @c on @fd. */
static uint32_t ready(const struct client *c, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	uint32_t ev = 0;
	int unread = 0;

	if ((c->events & EPOLLIN) && ioctl(fd, FIONREAD, &unread) == 0 && unread > 0)
		ev |= EPOLLIN;
	if ((c->events & EPOLLOUT) && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		ev |= EPOLLOUT;
	return ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netvm_ctl_conn in;
	struct client *c;
	size_t chunk, off = 0;
	int sv[2], flags;
	uint32_t ev;

	if (size < 2)
		return 0;
	reset();
	chunk = (size_t)data[0] * 64 + 1; /* 1 .. 16321 bytes per write */
	flags = data[1];
	data += 2;
	size -= 2;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	if (flags & FL_SMALL_BUF)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){4096}, sizeof(int));
	netvm_ctl_conn_init(&in, sv[0]);
	in.max = NETVM_CTL_MAX_REPLY;
	c = client_new(&m, sv[1], now_ms()); /* the manager owns sv[1] from here */
	if (!c)
		fatal("client_new");
	c->peer.admin = flags & FL_ADMIN;
	if (flags & FL_VM)
		c->peer.bound_svc = 0; /* a VM's channel, as vm_bind leaves it */
	while (c && off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w = write(sv[0], data + off, n);
		if (w <= 0)
			break;
		off += (size_t)w;
		while (c && (ev = ready(c, sv[1])) != 0) {
			if (!client_event(&m, c, ev, now_ms()))
				c = NULL; /* closed: oversized line, overflow */
			else
				check_queue(c);
			if (flags & FL_READ)
				read_replies(&in);
		}
	}
	if (c && (flags & FL_TICK))
		tick(&m, now_ms() + 86400000); /* past every timeout: closed unless an NF */
	while (m.clients)
		client_close(&m, m.clients);
	read_replies(&in);
	netvm_ctl_conn_free(&in);
	close(sv[0]);
	if (d.mgr.ctl.connections != 0)
		abort();
	return 0;
}
