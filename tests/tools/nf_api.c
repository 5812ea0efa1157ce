/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-api: a test NF for the NF toolkit calls (tests/integration/test_nf_api.py).
 *
 *   nf-api SERVICE [--mirror PORT] [--make PORT] [--push N | --pull N]
 *                  [--tick MS] [--stock N]
 *
 * Every packet passes on to the next hop; besides:
 *   --mirror PORT  a copy of each (netvm_pkt_copy) goes out port PORT
 *   --make PORT    a new 60-byte frame for each (netvm_pkt_alloc, no
 *                  origin) goes out port PORT
 *   --push N       N bytes are prepended (netvm_pkt_prepend): 'N', then the
 *                  ingress port, then 0xa5...
 *   --pull N       the N bytes a --push put there are checked and stripped
 *                  (netvm_pkt_adj); a packet without them is dropped
 *   --tick MS      counter "ticks" is bumped every MS ms (netvm_nf_set_timer)
 * Counters: seen, copies, made, no_stock, bad_push, ticks; the flow hash of
 * every packet is checked against the packet (bad_hash).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/netvm.h>

struct api {
	int mirror, make; /* port ids, -1: off */
	uint16_t push, pull;
	uint64_t *seen, *copies, *made, *no_stock, *bad_push, *bad_hash, *ticks;
};

static void tick(struct netvm_nf *nf, void *arg)
{
	struct api *a = arg;
	(*a->ticks)++;
}

static void handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct api *a = arg;

	for (uint16_t i = 0; i < n; i++) {
		struct netvm_pkt *p = &pkts[i], q;
		(*a->seen)++;
		*a->bad_hash += netvm_pkt_hash(p) != netvm_pkt_flow_hash(p->data, p->len);
		if (a->mirror >= 0) {
			if (netvm_pkt_copy(nf, &q, p) == 0) {
				netvm_pkt_to_port(&q, (uint16_t)a->mirror);
				if (netvm_nf_emit(nf, &q) == 0)
					(*a->copies)++;
			} else {
				(*a->no_stock)++;
			}
		}
		if (a->make >= 0) {
			if (netvm_pkt_alloc(nf, &q, NULL) == 0) {
				uint8_t *f = netvm_pkt_append(&q, 60);
				memset(f, 0, 60);
				memcpy(f,
				       "\x02\x00\x00\x00\x00\x09\x02\x00\x00\x00\x00\x08\x88\xb5",
				       14);
				netvm_pkt_to_port(&q, (uint16_t)a->make);
				if (netvm_nf_emit(nf, &q) == 0)
					(*a->made)++;
			} else {
				(*a->no_stock)++;
			}
		}
		if (a->push) {
			uint8_t *h = netvm_pkt_prepend(p, a->push);
			if (!h) {
				(*a->bad_push)++;
				netvm_pkt_drop(p);
				continue;
			}
			memset(h, 0xa5, a->push);
			h[0] = (uint8_t)a->push;
			h[1] = (uint8_t)p->in_port;
		}
		if (a->pull) {
			const uint8_t *h = p->data;
			int ok = p->len >= a->pull && h[0] == a->pull;
			for (uint16_t k = 2; ok && k < a->pull; k++)
				ok = h[k] == 0xa5;
			if (!ok || !netvm_pkt_adj(p, a->pull)) {
				(*a->bad_push)++;
				netvm_pkt_drop(p);
			}
		}
	}
}

static int port_id(struct netvm_nf *nf, const char *name)
{
	int id = netvm_nf_port_id(nf, name);
	if (id < 0) {
		fprintf(stderr, "nf-api: no port '%s'\n", name);
		exit(2);
	}
	return id;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mirror", required_argument, NULL, 'm'},
	    {"make", required_argument, NULL, 'k'},
	    {"push", required_argument, NULL, 'p'},
	    {"pull", required_argument, NULL, 'l'},
	    {"tick", required_argument, NULL, 't'},
	    {"stock", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct netvm_nf_opts o = {0};
	const char *mirror = NULL, *make = NULL;
	struct api a = {.mirror = -1, .make = -1};
	unsigned tick_ms = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mirror = optarg;
			break;
		case 'k':
			make = optarg;
			break;
		case 'p':
			a.push = (uint16_t)atoi(optarg);
			break;
		case 'l':
			a.pull = (uint16_t)atoi(optarg);
			break;
		case 't':
			tick_ms = (unsigned)atoi(optarg);
			break;
		case 's':
			o.stock = (uint32_t)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: nf-api SERVICE [options]  (see the source)\n");
		return 2;
	}
	struct netvm_nf *nf = netvm_nf_attach(argv[optind], &o);
	if (!nf)
		return 1;
	if (mirror)
		a.mirror = port_id(nf, mirror);
	if (make)
		a.make = port_id(nf, make);
	if (!(a.seen = netvm_nf_counter(nf, "seen")) ||
	    !(a.copies = netvm_nf_counter(nf, "copies")) ||
	    !(a.made = netvm_nf_counter(nf, "made")) ||
	    !(a.no_stock = netvm_nf_counter(nf, "no_stock")) ||
	    !(a.bad_push = netvm_nf_counter(nf, "bad_push")) ||
	    !(a.bad_hash = netvm_nf_counter(nf, "bad_hash")) ||
	    !(a.ticks = netvm_nf_counter(nf, "ticks"))) {
		perror("nf-api: counter");
		return 1;
	}
	if (netvm_nf_counter(nf, "seen") != a.seen || netvm_nf_counter(nf, "bad name!") ||
	    errno != EINVAL) {
		fprintf(stderr, "nf-api: netvm_nf_counter misbehaves\n");
		return 1;
	}
	if (tick_ms)
		netvm_nf_set_timer(nf, tick_ms, tick, &a);
	int rc = netvm_nf_run(nf, handler, &a);
	netvm_nf_detach(nf);
	return rc == 0 ? 0 : 1;
}
