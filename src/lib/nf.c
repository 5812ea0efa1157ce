/* SPDX-License-Identifier: BSD-3-Clause */
/* libnetvm: the NF side.  Attach, map the region, run the packet loop. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netvm/netvm.h>
#include <netvm/region.h>
#include "common/ctl.h"
#include "common/log.h"
#include "guest.h"
#include "nf_local.h"

struct netvm_nf {
	struct netvm_region region;
	struct netvm_ring rx;		       /* consumer: packets from the switch */
	struct netvm_ring tx;		       /* producer: packets back to the switch */
	struct netvm_ring stock;	       /* consumer: free buffers to make packets in */
	struct netvm_pkt emit[NETVM_EMIT_MAX]; /* made this handler call, sent first */
	uint16_t nemit;
	/* the timer: fn every period_ns, next due at next_ns */
	netvm_timer_fn timer_fn;
	void *timer_arg;
	uint64_t period_ns, next_ns;
	/* counters: their names; the values are in the region */
	uint64_t *counters;
	uint32_t ncounters;
	char counter_names[NETVM_NF_COUNTERS][NETVM_NAME_MAX];
	struct netvm_ctl_conn *ctl;
	char service[NETVM_NAME_MAX];
	int instance;
	uint32_t slot;
	uint32_t buf_size;
	struct netvm_doorbell *bell; /* the switch's, rung after returning packets */
	enum netvm_idle idle;
	unsigned yield_bursts; /* bursts between sched_yield() when not polling */
	volatile sig_atomic_t stop;
	bool daemon_gone;
	bool left;  /* detach handshake done */
	bool guest; /* in a VM: no futex crosses QEMU, so wake-ups go over ctl (guest_*) */
};

/* The NF that signal handlers stop (one per process is the normal case). */
static struct netvm_nf *volatile signal_nf;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_nf)
		signal_nf->stop = 1;
}

static int json_int(json_t *o, const char *key, long long min, long long max, long long *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -EPROTO;
	*out = json_integer_value(v);
	return 0;
}

static enum netvm_idle idle_mode(const struct netvm_nf_opts *opts)
{
	const char *env = getenv("NETVM_IDLE");

	if (opts && opts->idle != NETVM_IDLE_DEFAULT)
		return opts->idle;
	if (env && !strcmp(env, "poll"))
		return NETVM_IDLE_POLL;
	if (env && !strcmp(env, "sleep"))
		return NETVM_IDLE_SLEEP;
	if (env && strcmp(env, "adaptive"))
		LOG_WARN("nf", "NETVM_IDLE='%s' is not poll, adaptive or sleep: using adaptive",
			 env);
	return NETVM_IDLE_ADAPTIVE;
}

/*
 * Where the daemon is: a Unix socket path, or "virtio:NAME" for a
 * virtio-serial port in a VM guest.  Without an explicit choice, a guest
 * whose VM has a port called "netvm" (and no local daemon) uses that.
 * Returns the control fd or -errno; *guest says which.
 */
static int ctl_open(const struct netvm_nf_opts *opts, const char **where, bool *guest)
{
	const char *path = opts && opts->socket_path ? opts->socket_path : getenv("NETVM_SOCKET");
	size_t plen = strlen(NETVM_GUEST_PREFIX);

	if (!path && access(NETVM_DEFAULT_SOCKET, F_OK) < 0 &&
	    netvm_guest_port_exists(NETVM_GUEST_PORT))
		path = NETVM_GUEST_PREFIX NETVM_GUEST_PORT;
	if (!path)
		path = NETVM_DEFAULT_SOCKET;
	*where = path;
	*guest = !strncmp(path, NETVM_GUEST_PREFIX, plen);
	return *guest ? netvm_guest_port_open(path + plen) : netvm_ctl_connect(path);
}

/* Map the region the attach reply names: by the fd passed with it, or in a
 * guest by finding its ivshmem device.  Its layout and names come with the
 * reply, never from the region's header, which the domain's other NFs may
 * scribble on. */
static int map_region(struct netvm_nf *nf, json_t *rep, int region_fd)
{
	struct netvm_region_hdr layout;
	char **names = NULL;
	int ndev, err;

	err = -netvm_ctl_layout_unpack(rep, &layout, &names);
	if (err) {
		LOG_ERR("nf", "attach: malformed reply (no region layout)");
	} else if (!nf->guest) {
		err = region_fd < 0 ? EPROTO
				    : -netvm_region_map_fd(&nf->region, region_fd, &layout,
							   (const char *const *)names);
		if (err)
			LOG_ERR("nf", "cannot map the region: %s",
				region_fd < 0 ? "no region fd in the reply" : strerror(err));
		else
			region_fd = -1; /* the region owns it now */
	} else if ((err = -netvm_guest_region_map(&nf->region, &layout, (const char *const *)names,
						  &ndev))) {
		LOG_ERR("nf",
			"region %016llx is not on any of the %d ivshmem device(s) of this VM: %s "
			"(was the VM started for this service's domain?)",
			(unsigned long long)layout.region_id, ndev, strerror(err));
	}
	if (region_fd >= 0)
		close(region_fd);
	netvm_ctl_names_free(names);
	return err;
}

struct netvm_nf *netvm_nf_attach(const char *service, const struct netvm_nf_opts *opts)
{
	struct netvm_nf *nf = calloc(1, sizeof(*nf));
	json_t *req, *rep = NULL;
	long long instance, slot;
	const char *where;
	int fd, region_fd = -1, err;

	if (!nf || !(nf->ctl = malloc(sizeof(*nf->ctl)))) {
		err = ENOMEM;
		goto fail;
	}
	nf->region.fd = -1;
	snprintf(nf->service, sizeof(nf->service), "%s", service);
	fd = ctl_open(opts, &where, &nf->guest);
	if (fd < 0) {
		err = -fd;
		LOG_ERR("nf", "cannot connect to %s: %s (is netvmd running with that socket?)",
			where, strerror(err));
		goto fail_ctl;
	}
	netvm_ctl_conn_init(nf->ctl, fd);
	req = json_pack("{s:s, s:s, s:i, s:i}", "cmd", "attach", "service", service, "pid",
			(int)getpid(), "stock", opts ? (int)opts->stock : 0);
	if (req && nf->guest)
		json_object_set_new(req, "transport", json_string("ivshmem"));
	rep = netvm_ctl_call(nf->ctl, req, &region_fd);
	if (!rep) {
		err = errno;
		LOG_ERR("nf", "attach: no reply from the daemon: %s", strerror(err));
		goto fail_sock;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *msg = json_string_value(json_object_get(rep, "error"));
		json_t *code = json_object_get(rep, "errno");
		err = json_is_integer(code) ? (int)json_integer_value(code) : EPROTO;
		LOG_ERR("nf", "attach as '%s' refused: %s", service, msg ? msg : "(no reason)");
		goto fail_sock;
	}
	if (json_int(rep, "instance", 0, INT32_MAX, &instance) < 0 ||
	    json_int(rep, "slot", 0, 65535, &slot) < 0) {
		err = EPROTO;
		LOG_ERR("nf", "attach: malformed reply (no instance or slot)");
		if (region_fd >= 0)
			close(region_fd);
		goto fail_sock;
	}
	if ((err = map_region(nf, rep, region_fd)))
		goto fail_attached;
	if (slot >= nf->region.layout.nf_slots ||
	    netvm_ring_attach(&nf->rx,
			      netvm_region_slot_ring(&nf->region, (uint32_t)slot, NETVM_RING_RX),
			      nf->region.layout.ring_size, 0) < 0 ||
	    netvm_ring_attach(&nf->tx,
			      netvm_region_slot_ring(&nf->region, (uint32_t)slot, NETVM_RING_TX),
			      nf->region.layout.ring_size, 1) < 0 ||
	    netvm_ring_attach(&nf->stock,
			      netvm_region_slot_ring(&nf->region, (uint32_t)slot, NETVM_RING_STOCK),
			      nf->region.layout.ring_size, 0) < 0) {
		err = EPROTO;
		LOG_ERR("nf", "attach: slot %lld or its rings are invalid", slot);
		goto fail_region;
	}
	nf->instance = (int)instance;
	nf->slot = (uint32_t)slot;
	nf->bell = netvm_region_bell(&nf->region);
	nf->idle = idle_mode(opts);
	nf->yield_bursts = nf->region.layout.ring_size / (4 * NETVM_BURST);
	if (nf->yield_bursts == 0)
		nf->yield_bursts = 1;
	nf->buf_size = 1u << nf->region.buf_shift;
	nf->counters = netvm_region_counters(&nf->region, nf->slot);
	json_decref(rep);
	if (!opts || !opts->quiet)
		LOG_INFO("nf", "attached as '%s' instance %d (slot %u)", service, nf->instance,
			 nf->slot);
	return nf;

fail_region:
	netvm_region_unmap(&nf->region);
fail_attached:
	/* A host NF's slot is freed when its socket closes; a guest's
	 * connection is QEMU's and outlives the NF, so say so. */
	if (nf->guest) {
		json_t *bye = json_pack("{s:s}", "cmd", "detach");
		if (bye)
			netvm_ctl_send(nf->ctl->fd, bye, -1);
		json_decref(bye);
	}
fail_sock:
	json_decref(rep);
	netvm_ctl_conn_free(nf->ctl);
	close(nf->ctl->fd);
fail_ctl:
	free(nf->ctl);
fail:
	free(nf);
	errno = err;
	return NULL;
}

static bool daemon_alive(struct netvm_nf *nf);
static void guest_kick(struct netvm_nf *nf);

uint16_t netvm_nf_recv(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t max)
{
	struct netvm_desc d[NETVM_BURST];
	uint16_t n, i, good = 0;

	if (max > NETVM_BURST)
		max = NETVM_BURST;
	n = (uint16_t)netvm_ring_dequeue_burst(&nf->rx, d, max);
	for (i = 0; i < n; i++) {
		struct netvm_pkt *p = &pkts[good];
		/* The switch is trusted, but a bad index must not become a wild
		 * pointer here either. */
		if (d[i].buf >= nf->region.nbufs || (uint32_t)d[i].off + d[i].len > nf->buf_size)
			continue;
		p->desc = d[i];
		p->desc.action = NETVM_ACT_NEXT;
		p->desc.flags = 0;
		p->in_port = d[i].dst; /* the switch says where it came in there */
		p->data = netvm_region_buf(&nf->region, d[i].buf) + d[i].off;
		p->len = d[i].len;
		p->room = (uint16_t)(nf->buf_size - d[i].off);
		p->headroom = d[i].off;
		good++;
	}
	return good;
}

static void send_burst(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n);

void netvm_nf_send(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n)
{
	/* What the handler made goes first: a packet made like one of these
	 * takes its place while the switch still knows it as this NF's. */
	if (nf->nemit) {
		uint16_t k = nf->nemit;
		nf->nemit = 0;
		send_burst(nf, nf->emit, k);
	}
	send_burst(nf, pkts, n);
}

static void send_burst(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n)
{
	struct netvm_desc d[NETVM_BURST];
	uint16_t i, done = 0;

	while (done < n) {
		uint16_t k = (uint16_t)(n - done > NETVM_BURST ? NETVM_BURST : n - done);
		for (i = 0; i < k; i++) {
			d[i] = pkts[done + i].desc;
			d[i].len = pkts[done + i].len;
		}
		i = 0;
		/* The switch drains tx rings every round, so this wait is short
		 * unless the daemon is gone: then there is no one to hand to. */
		for (unsigned spins = 1; i < k && !nf->daemon_gone; spins++) {
			i += (uint16_t)netvm_ring_enqueue_burst(&nf->tx, d + i, k - i);
			if (nf->guest)
				guest_kick(nf);
			else
				netvm_notify(&nf->bell->sleeping);
			if (i < k) {
				sched_yield();
				if ((spins & 1023) == 0)
					daemon_alive(nf);
			}
		}
		done += k;
	}
}

static void leave(struct netvm_nf *nf, netvm_handler_fn handler, void *arg);

/* Look at the control connection for up to @timeout_ms: false when the
 * daemon is gone.  What it sent unasked (a VM's wake events) is consumed. */
static bool ctl_wait(struct netvm_nf *nf, int timeout_ms)
{
	struct pollfd p = {.fd = nf->ctl->fd, .events = POLLIN};
	json_t *msg;
	int fd;

	if (poll(&p, 1, timeout_ms) <= 0)
		return true;
	if (p.revents & (POLLHUP | POLLERR) || netvm_ctl_fill(nf->ctl) <= 0) {
		nf->daemon_gone = true;
		return false;
	}
	while (netvm_ctl_next(nf->ctl, &msg, &fd) != 0) {
		json_decref(msg);
		if (fd >= 0)
			close(fd);
	}
	return true;
}

/* Non-blocking look at the control connection. */
static bool daemon_alive(struct netvm_nf *nf)
{
	return !nf->ctl || ctl_wait(nf, 0); /* no ctl: in-process, the "daemon" is us */
}

/*
 * A guest NF's sleep: no futex reaches it from the host, so it raises its
 * ring's flag as a host NF does, and the switch, seeing it, sends a wake
 * event down the control connection (notify_nf() in switch.c); the NF
 * sleeps in poll() on its virtio-serial port meanwhile.
 */
static bool guest_sleep(struct netvm_nf *nf, int timeout_ms)
{
	_Atomic uint32_t *flag = &nf->rx.shm->sleeping;
	bool alive = true;

	atomic_store_explicit(flag, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (netvm_ring_count(&nf->rx) == 0) /* look again with the flag raised */
		alive = ctl_wait(nf, timeout_ms);
	atomic_store_explicit(flag, 0, memory_order_relaxed);
	return alive;
}

/* A guest NF's doorbell: the switch sleeps on a futex we cannot reach, so
 * ask the daemon to wake it (an event: no reply). */
static void guest_kick(struct netvm_nf *nf)
{
	static const char kick[] = "{\"event\":\"kick\"}\n";

	if (netvm_flag_raised(&nf->bell->sleeping) &&
	    write(nf->ctl->fd, kick, sizeof(kick) - 1) < 0)
		nf->daemon_gone = errno != EINTR && errno != EAGAIN;
}

/* Empty polls before an adaptive NF sleeps: a few microseconds, enough to
 * catch the next burst under load without a syscall. */
#define IDLE_SPINS 256
/* Longest sleep: how often an idle NF checks that the daemon is alive. */
#define IDLE_SLEEP_NS 100000000ull

static uint64_t now_ns(void)
{
	struct timespec t;

	/* Coarse: a few ns, no syscall; timers of NFs are milliseconds. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Run the timer if it is due; how long until it is next (at most @max). */
static uint64_t run_timer(struct netvm_nf *nf, uint64_t max)
{
	uint64_t now;

	if (!nf->timer_fn)
		return max;
	now = now_ns();
	if (now >= nf->next_ns) {
		nf->timer_fn(nf, nf->timer_arg);
		if (nf->nemit)
			netvm_nf_send(nf, NULL, 0); /* what it made (an ARP retry) goes now */
		/* Never behind by more than one period: no bursts of catch-up. */
		nf->next_ns = now + nf->period_ns;
	}
	return nf->next_ns - now < max ? nf->next_ns - now : max;
}

/* The rx ring was empty @idle times in a row: spin, or sleep until the
 * switch rings or the timer is due.  Returns false when the daemon has gone
 * away. */
static bool idle_wait(struct netvm_nf *nf, unsigned idle)
{
	uint64_t sleep_ns = run_timer(nf, IDLE_SLEEP_NS);

	if (nf->idle == NETVM_IDLE_POLL || (nf->idle == NETVM_IDLE_ADAPTIVE && idle < IDLE_SPINS))
		return (idle & 0xffff) || daemon_alive(nf);
	if (nf->guest)
		return guest_sleep(nf, (int)((sleep_ns + 999999) / 1000000));
	if (netvm_ring_sleep(&nf->rx, sleep_ns ? sleep_ns : 1) == -ETIMEDOUT)
		return daemon_alive(nf);
	return true;
}

int netvm_nf_run(struct netvm_nf *nf, netvm_handler_fn handler, void *arg)
{
	struct netvm_pkt pkts[NETVM_BURST];
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned idle = 0, bursts = 0;

	signal_nf = nf;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!nf->stop) {
		uint16_t n = netvm_nf_recv(nf, pkts, NETVM_BURST);
		if (n == 0) {
			if (!idle_wait(nf, ++idle))
				break;
			continue;
		}
		idle = 0;
		handler(nf, pkts, n, arg);
		netvm_nf_send(nf, pkts, n);
		if (nf->timer_fn)
			run_timer(nf, 0); /* under load too */
		/* Share the core: NFs that do not own one give it up every
		 * quarter ring so a neighbour in the chain runs before its ring
		 * fills (the busy-polling collapse of two NFs on one core).
		 * Measured: yielding every burst costs more in context switches
		 * than it gains; every quarter ring keeps ~70% of the 1-NF rate. */
		if (nf->idle != NETVM_IDLE_POLL && ++bursts % nf->yield_bursts == 0)
			sched_yield();
	}
	if (!nf->daemon_gone)
		leave(nf, handler, arg);
	return nf->daemon_gone ? -ECONNRESET : 0;
}

void netvm_nf_set_timer(struct netvm_nf *nf, uint32_t period_ms, netvm_timer_fn fn, void *arg)
{
	nf->timer_fn = period_ms ? fn : NULL;
	nf->timer_arg = arg;
	nf->period_ns = (uint64_t)period_ms * 1000000u;
	nf->next_ns = now_ns() + nf->period_ns;
}

/* ---- making packets --------------------------------------------------- */

/* Spins of netvm_pkt_alloc() on an empty stock while the switch refills it
 * (it does every round: a burst larger than the stock drains it). */
#define STOCK_WAIT_SPINS 256

int netvm_pkt_alloc(struct netvm_nf *nf, struct netvm_pkt *p, const struct netvm_pkt *like)
{
	struct netvm_desc d;

	for (unsigned spins = 0;;) {
		if (netvm_ring_dequeue_burst(&nf->stock, &d, 1) != 1) {
			if (++spins > STOCK_WAIT_SPINS || nf->daemon_gone || !nf->ctl)
				return -ENOBUFS;
			/* The switch may sleep, or share our core: wake it, yield. */
			if (nf->guest)
				guest_kick(nf);
			else
				netvm_notify(&nf->bell->sleeping);
			sched_yield();
			continue;
		}
		/* The switch is trusted, but never a wild pointer. */
		if (d.buf < nf->region.nbufs && d.off < nf->buf_size)
			break;
	}
	p->desc = (struct netvm_desc){.buf = d.buf, .off = d.off, .action = NETVM_ACT_NEXT};
	p->data = netvm_region_buf(&nf->region, d.buf) + d.off;
	p->len = 0;
	p->room = (uint16_t)(nf->buf_size - d.off);
	p->headroom = d.off;
	p->in_port = NETVM_PORT_NONE;
	if (like) {
		/* Its place: the switch copies it from @like's buffer, which this
		 * NF still holds when the new packet reaches the switch. */
		p->desc.flags = NETVM_DESC_F_ORIGIN;
		p->desc.hash = like->desc.buf;
		p->in_port = like->in_port;
	}
	return 0;
}

int netvm_pkt_copy(struct netvm_nf *nf, struct netvm_pkt *copy, const struct netvm_pkt *src)
{
	uint8_t *base;
	int ret = netvm_pkt_alloc(nf, copy, src);

	if (ret)
		return ret;
	base = copy->data - copy->headroom;
	/* The same headroom as the original, where the buffer allows. */
	if ((uint32_t)src->headroom + src->len <= nf->buf_size) {
		copy->headroom = src->headroom;
		copy->desc.off = src->headroom;
		copy->data = base + src->headroom;
		copy->room = (uint16_t)(nf->buf_size - src->headroom);
	}
	copy->len = src->len <= copy->room ? src->len : copy->room;
	memcpy(copy->data, src->data, copy->len);
	return 0;
}

int netvm_nf_emit(struct netvm_nf *nf, struct netvm_pkt *p)
{
	if (nf->nemit == NETVM_EMIT_MAX) {
		netvm_pkt_drop(p);
		send_burst(nf, p, 1); /* gives its buffer back */
		return -ENOSPC;
	}
	nf->emit[nf->nemit++] = *p;
	return 0;
}

/* ---- counters ---------------------------------------------------------- */

static bool counter_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= NETVM_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

uint64_t *netvm_nf_counter(struct netvm_nf *nf, const char *name)
{
	json_t *rep;
	uint32_t i;

	if (!name || !counter_name_ok(name)) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < nf->ncounters; i++)
		if (!strcmp(nf->counter_names[i], name))
			return &nf->counters[i];
	if (i == NETVM_NF_COUNTERS) {
		errno = ENOSPC;
		return NULL;
	}
	if (!nf->ctl) { /* an in-process handle (benchmarks): no daemon to tell */
		snprintf(nf->counter_names[i], NETVM_NAME_MAX, "%s", name);
		nf->counters[i] = 0;
		nf->ncounters++;
		return &nf->counters[i];
	}
	/* The daemon keeps the name (never read back from shared memory). */
	rep = netvm_ctl_call(
	    nf->ctl, json_pack("{s:s, s:s, s:i}", "cmd", "counter", "name", name, "index", (int)i),
	    NULL);
	if (!rep || !json_is_true(json_object_get(rep, "ok"))) {
		const char *msg = json_string_value(json_object_get(rep, "error"));
		LOG_ERR("nf", "counter '%s' refused: %s", name, msg ? msg : strerror(errno));
		json_decref(rep);
		errno = EPROTO;
		return NULL;
	}
	json_decref(rep);
	snprintf(nf->counter_names[i], NETVM_NAME_MAX, "%s", name);
	nf->counters[i] = 0;
	nf->ncounters++;
	return &nf->counters[i];
}

void netvm_nf_stop(struct netvm_nf *nf)
{
	nf->stop = 1;
}

/* Run @handler over everything waiting in the rx ring (NULL: drop it all). */
static void drain_rx(struct netvm_nf *nf, netvm_handler_fn handler, void *arg)
{
	struct netvm_pkt pkts[NETVM_BURST];
	uint16_t n;

	while (!nf->daemon_gone && (n = netvm_nf_recv(nf, pkts, NETVM_BURST)) > 0) {
		if (handler)
			handler(nf, pkts, n, arg);
		else
			for (uint16_t i = 0; i < n; i++)
				netvm_pkt_drop(&pkts[i]);
		netvm_nf_send(nf, pkts, n);
	}
}

/* Tell the daemon we leave and keep handling packets until it confirms it
 * sends no more, so a graceful leave loses nothing and every packet still
 * goes through the handler (a firewall must not be bypassed on its way out). */
static void leave(struct netvm_nf *nf, netvm_handler_fn handler, void *arg)
{
	json_t *req, *rep = NULL;
	struct timespec start, now;
	int fd = -1;

	if (nf->left)
		return;
	nf->left = true;
	req = json_pack("{s:s}", "cmd", "detach"); /* after the check: a second call leaked it */
	if (!nf->daemon_gone && req && netvm_ctl_send(nf->ctl->fd, req, -1) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		for (;;) {
			struct pollfd p = {.fd = nf->ctl->fd, .events = POLLIN};
			drain_rx(nf, handler, arg);
			if (netvm_ctl_next(nf->ctl, &rep, &fd) == 1) {
				if (!json_object_get(rep, "event"))
					break; /* the reply */
				json_decref(rep);
				rep = NULL;
				continue;
			}
			if (poll(&p, 1, 1) > 0 && netvm_ctl_fill(nf->ctl) <= 0)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec > 2)
				break;
		}
	}
	drain_rx(nf, handler, arg);
	json_decref(req);
	json_decref(rep);
	if (fd >= 0)
		close(fd);
}

void netvm_nf_detach(struct netvm_nf *nf)
{
	if (!nf)
		return;
	leave(nf, NULL, NULL);
	if (signal_nf == nf)
		signal_nf = NULL;
	netvm_ctl_conn_free(nf->ctl);
	close(nf->ctl->fd);
	free(nf->ctl);
	netvm_region_unmap(&nf->region);
	free(nf);
}

int netvm_nf_service_id(const struct netvm_nf *nf, const char *name)
{
	for (uint32_t i = 0; i < nf->region.layout.n_services; i++)
		if (strncmp(netvm_region_service_name(&nf->region, i), name, NETVM_NAME_MAX) == 0)
			return (int)i;
	return -1;
}

int netvm_nf_port_id(const struct netvm_nf *nf, const char *name)
{
	for (uint32_t i = 0; i < nf->region.layout.n_ports; i++)
		if (strncmp(netvm_region_port_name(&nf->region, i), name, NETVM_NAME_MAX) == 0)
			return (int)i;
	return -1;
}

int netvm_nf_instance(const struct netvm_nf *nf)
{
	return nf->instance;
}

const char *netvm_nf_service(const struct netvm_nf *nf)
{
	return nf->service;
}

struct netvm_nf *netvm_nf_open_local(const struct netvm_region *r, uint32_t slot)
{
	struct netvm_nf *nf = calloc(1, sizeof(*nf));

	if (!nf)
		return NULL;
	nf->region = *r; /* shares the mapping and translation table: never unmapped here */
	if (slot >= r->layout.nf_slots ||
	    netvm_ring_attach(&nf->rx, netvm_region_slot_ring(r, slot, NETVM_RING_RX),
			      r->layout.ring_size, 0) < 0 ||
	    netvm_ring_attach(&nf->tx, netvm_region_slot_ring(r, slot, NETVM_RING_TX),
			      r->layout.ring_size, 1) < 0 ||
	    netvm_ring_attach(&nf->stock, netvm_region_slot_ring(r, slot, NETVM_RING_STOCK),
			      r->layout.ring_size, 0) < 0) {
		free(nf);
		errno = EINVAL;
		return NULL;
	}
	nf->slot = slot;
	nf->buf_size = 1u << r->buf_shift;
	nf->bell = netvm_region_bell(r);
	nf->counters = netvm_region_counters(r, slot);
	nf->idle = NETVM_IDLE_POLL;
	nf->left = true;
	return nf;
}

void netvm_nf_close_local(struct netvm_nf *nf)
{
	free(nf);
}

const struct netvm_region *netvm_nf_region(const struct netvm_nf *nf)
{
	return &nf->region;
}
