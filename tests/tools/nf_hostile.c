/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-hostile: a test NF that attaches like any other (the same control
 * request, the region by fd passing, its two rings) and then abuses its tx
 * ring: it writes N random descriptors (buffer indices it holds, out of
 * range, in range but not its own; random off/len/action/dst) and now and
 * then scribbles garbage over the shared ring indices.  It keeps count of
 * what the switch must reject.  Then it hands back what it holds and, once
 * the switch has read every write, prints one JSON line and idles until
 * SIGTERM (it leaves without the detach handshake):
 *
 *   {"written": N, "returned": R, "certain_invalid": A, "maybe_invalid": B, ...}
 *
 * certain_invalid: out-of-range buffers plus held buffers with bad fields,
 * which the switch must count.  maybe_invalid: in-range buffers it did not
 * hold when writing; invalid unless the switch had meanwhile queued that
 * very buffer to this NF (then it is this NF's to give).  Every descriptor
 * is read once, so the NF's tx + bad_desc - drops.bad_desc (the invalid
 * ones naming buffers it held) is N + R exactly.
 *
 * It uses libnetvm's internals (src/common) to reach the rings directly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netvm/netvm.h>
#include <netvm/region.h>
#include "common/ctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from --seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

struct hostile {
	struct netvm_region region;
	struct netvm_ring rx, tx;
	uint32_t nbufs, buf_size, n_services, n_ports;
	uint32_t *held; /* buffers received and not yet returned */
	uint32_t nheld;
	uint32_t *held_at; /* index in held[] + 1, 0 when not held */
	struct {
		uint64_t written, out_of_range, held_invalid, held_valid, maybe_invalid;
		uint64_t scribbles, returned;
	} n;
};

static int attach(struct hostile *h, struct netvm_ctl_conn *c, const char *service)
{
	const char *path = getenv("NETVM_SOCKET");
	int fd, region_fd = -1;
	json_t *rep;

	fd = netvm_ctl_connect(path ? path : NETVM_DEFAULT_SOCKET);
	if (fd < 0) {
		fprintf(stderr, "nf-hostile: connect: %s\n", strerror(-fd));
		return -1;
	}
	netvm_ctl_conn_init(c, fd);
	rep = netvm_ctl_call(
	    c,
	    json_pack("{s:s, s:s, s:i}", "cmd", "attach", "service", service, "pid", (int)getpid()),
	    &region_fd);
	json_t *slotj = json_object_get(rep, "slot");
	if (!rep || !json_is_true(json_object_get(rep, "ok")) || !json_is_integer(slotj) ||
	    region_fd < 0) {
		fprintf(stderr, "nf-hostile: attach refused\n");
		json_decref(rep);
		return -1;
	}
	uint32_t slot = (uint32_t)json_integer_value(slotj);
	json_decref(rep);
	if (netvm_region_map_fd(&h->region, region_fd, NULL, NULL) < 0 || slot >= h->region.layout.nf_slots ||
	    netvm_ring_attach(&h->rx, netvm_region_slot_ring(&h->region, slot, NETVM_RING_RX),
			      h->region.layout.ring_size, 0) < 0 ||
	    netvm_ring_attach(&h->tx, netvm_region_slot_ring(&h->region, slot, NETVM_RING_TX),
			      h->region.layout.ring_size, 1) < 0) {
		fprintf(stderr, "nf-hostile: bad region or rings\n");
		return -1;
	}
	h->nbufs = h->region.nbufs;
	h->buf_size = 1u << h->region.buf_shift;
	h->n_services = h->region.layout.n_services;
	h->n_ports = h->region.layout.n_ports;
	h->held = calloc(h->nbufs, sizeof(*h->held));
	h->held_at = calloc(h->nbufs, sizeof(*h->held_at));
	return h->held && h->held_at ? 0 : -1;
}

static void hold(struct hostile *h, uint32_t buf)
{
	if (buf >= h->nbufs || h->held_at[buf])
		return;
	h->held[h->nheld++] = buf;
	h->held_at[buf] = h->nheld;
}

static void unhold(struct hostile *h, uint32_t buf)
{
	uint32_t i = h->held_at[buf] - 1, last = h->held[--h->nheld];

	h->held[i] = last;
	h->held_at[last] = i + 1;
	h->held_at[buf] = 0;
}

/* Take what the switch sent; the original descriptors are kept in @orig. */
static uint32_t receive(struct hostile *h, struct netvm_desc *orig, uint32_t max)
{
	uint32_t n = netvm_ring_dequeue_burst(&h->rx, orig, max);

	for (uint32_t i = 0; i < n; i++)
		hold(h, orig[i].buf);
	return n;
}

/* The switch's checks on a descriptor naming a buffer the NF holds. */
static int fields_valid(const struct hostile *h, const struct netvm_desc *d)
{
	if (d->len == 0 || (uint32_t)d->off + d->len > h->buf_size)
		return 0;
	switch (d->action) {
	case NETVM_ACT_NEXT:
	case NETVM_ACT_DROP:
		return 1;
	case NETVM_ACT_SERVICE:
		return d->dst < h->n_services;
	case NETVM_ACT_PORT:
		return d->dst < h->n_ports;
	}
	return 0;
}

static void random_fields(const struct hostile *h, struct netvm_desc *d)
{
	d->off = (uint16_t)(rnd() % (2 * h->buf_size));
	d->len = (uint16_t)(rnd() % (h->buf_size + 1));
	if (rnd() % 4 == 0) { /* often a sane size, so action/dst decide */
		d->off = (uint16_t)(rnd() % 256);
		d->len = (uint16_t)(1 + rnd() % 512);
	}
	d->action = (uint8_t)(rnd() % (NETVM_ACT_MAX + 2));
	d->dst = (uint16_t)(rnd() % (h->n_services + h->n_ports + 2));
	d->flags = (uint8_t)rnd();
	d->hash = (uint32_t)rnd();
}

/* One random descriptor; counts what the switch will make of it. */
static void make_desc(struct hostile *h, struct netvm_desc *d)
{
	unsigned kind = (unsigned)(rnd() % 4);

	random_fields(h, d);
	if (kind == 0 && h->nheld) {
		/* A buffer it holds: valid or not by its fields alone. */
		d->buf = h->held[rnd() % h->nheld];
		unhold(h, d->buf);
		if (rnd() % 2) {
			d->off = (uint16_t)h->region.layout.headroom;
			d->len = 64;
			d->action = NETVM_ACT_NEXT;
		}
		if (fields_valid(h, d))
			h->n.held_valid++;
		else
			h->n.held_invalid++;
	} else if (kind == 1) {
		d->buf = h->nbufs + (uint32_t)(rnd() % (UINT32_MAX - h->nbufs));
		h->n.out_of_range++;
	} else {
		/* In range but not its own (random, or one it gave back). */
		uint32_t b = (uint32_t)(rnd() % h->nbufs);
		for (int tries = 0; tries < 8 && h->held_at[b]; tries++)
			b = (uint32_t)(rnd() % h->nbufs);
		if (h->held_at[b]) {
			d->buf = h->nbufs; /* give up: out of range instead */
			h->n.out_of_range++;
		} else {
			d->buf = b;
			h->n.maybe_invalid++;
		}
	}
	h->n.written++;
}

/* Garbage in a shared index, always outside the window the other side
 * accepts (more than a ring ahead), so it is seen as garbage, not as data. */
static void scribble(struct hostile *h)
{
	uint32_t junk = h->tx.size + 1 + (uint32_t)(rnd() % (1u << 30));

	if (rnd() % 2)
		atomic_store(&h->tx.shm->prod, h->tx.local + junk);
	else
		atomic_store(&h->rx.shm->cons, h->rx.local + junk);
	h->n.scribbles++;
	for (int i = 0; i < 4; i++)
		sched_yield(); /* let the switch see it before the next store repairs it */
}

static void enqueue_all(struct hostile *h, const struct netvm_desc *d, uint32_t n)
{
	uint32_t done = 0;

	while (done < n && !stop) {
		done += netvm_ring_enqueue_burst(&h->tx, d + done, n - done);
		if (done < n)
			sched_yield();
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nf-hostile [--count N] [--seed S] SERVICE   (socket from $NETVM_SOCKET)\n"
		"Write N (default 1000000) random descriptors to the tx ring, print the\n"
		"counts as JSON, then idle until SIGTERM.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
					     {"seed", required_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static struct netvm_ctl_conn conn;
	struct hostile h = {0};
	uint64_t count = 1000000;
	struct netvm_desc in[NETVM_BURST], out[NETVM_BURST];
	int opt;

	while ((opt = getopt_long(argc, argv, "n:s:h", opts, NULL)) != -1) {
		if (opt == 'n')
			count = strtoull(optarg, NULL, 0);
		else if (opt == 's')
			rng_state = strtoull(optarg, NULL, 0) | 1;
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	h.region.fd = -1;
	if (attach(&h, &conn, argv[optind]) < 0)
		return 1;

	while (h.n.written < count && !stop) {
		receive(&h, in, NETVM_BURST);
		uint32_t k = 1 + (uint32_t)(rnd() % NETVM_BURST);
		if (k > count - h.n.written)
			k = (uint32_t)(count - h.n.written);
		for (uint32_t i = 0; i < k; i++)
			make_desc(&h, &out[i]);
		enqueue_all(&h, out, k);
		if (rnd() % 512 == 0)
			scribble(&h);
	}
	/* Repair the indices and hand back what it still holds, correctly. */
	atomic_store(&h.rx.shm->cons, h.rx.local);
	uint32_t k;
	do {
		for (k = 0; h.nheld && k < NETVM_BURST; k++) {
			uint32_t b = h.held[h.nheld - 1];
			unhold(&h, b);
			out[k] = (struct netvm_desc){.buf = b,
						     .off = (uint16_t)h.region.layout.headroom,
						     .len = 64,
						     .action = NETVM_ACT_NEXT};
		}
		netvm_ring_enqueue_burst(&h.tx, out, 0); /* restores prod if it was scribbled */
		enqueue_all(&h, out, k);
		h.n.returned += k;
	} while (k);
	/* The counters are final once the switch has read every write. */
	while (!stop && atomic_load(&h.tx.shm->cons) != h.tx.local)
		sched_yield();
	printf("{\"written\": %llu, \"returned\": %llu, \"certain_invalid\": %llu, "
	       "\"maybe_invalid\": %llu, \"held_invalid\": %llu, \"held_valid\": %llu, "
	       "\"out_of_range\": %llu, \"scribbles\": %llu}\n",
	       (unsigned long long)h.n.written, (unsigned long long)h.n.returned,
	       (unsigned long long)(h.n.out_of_range + h.n.held_invalid),
	       (unsigned long long)h.n.maybe_invalid, (unsigned long long)h.n.held_invalid,
	       (unsigned long long)h.n.held_valid, (unsigned long long)h.n.out_of_range,
	       (unsigned long long)h.n.scribbles);
	fflush(stdout);
	/* Then nothing more: what the switch still queues here is taken back
	 * when it goes. */
	while (!stop)
		pause();
	free(h.held);
	free(h.held_at);
	netvm_region_unmap(&h.region);
	close(conn.fd); /* no detach: the daemon sees the connection go */
	/* Leave abruptly (no detach): the daemon takes back what is still here. */
	return 0;
}
