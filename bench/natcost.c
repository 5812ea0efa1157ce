/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natcost: bench/hopcost.c with nf-nat as the one NF.  The switch and the
 * NF library loop run in one thread in lock step, so `valgrind
 * --tool=callgrind` counts the instructions of nf-nat's handler per packet
 * independently of timing (bench/nat.py).
 *
 *   natcost PACKETS [FLOWS] [nat|none]
 *
 * A gen port (the NAT's inside) sends PACKETS 64-byte UDP frames of FLOWS
 * flows (distinct source ports: one mapping each) through nf-nat's handler
 * (nf_nat.c, built without its main) back to the gen sink; "none" runs an
 * empty handler instead.  A second, paused gen port is the outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/netvmd.h"
#include "lib/nf_local.h"
#include "nf_nat.h"

static void nothing(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
}

int main(int argc, char **argv)
{
	static struct netvmd d;
	static struct nf_nat s;
	struct netvm_pkt pkts[NETVM_BURST];
	struct nat_config cfg;
	char text[1024], err[512];
	long packets = argc > 1 ? atol(argv[1]) : 0;
	long flows = argc > 2 ? atol(argv[2]) : 10000;
	bool nat = argc <= 3 || strcmp(argv[3], "none");

	if (argc < 2 || packets <= 0 || flows < 1 || flows > 64512) {
		fprintf(stderr, "usage: natcost PACKETS [FLOWS(1..64512)] [nat|none]\n");
		return 2;
	}
	snprintf(text, sizeof(text),
		 "pool: {buffers: 4096}\nring_size: 1024\nmax_nfs: 1\nbackpressure: true\n"
		 "ports:\n  - {name: gen0, type: gen, size: 64, flows: %ld, count: %ld}\n"
		 "  - {name: pub0, type: gen, paused: true}\n"
		 "services: [nat]\nchains:\n  default: [nat]\n",
		 flows, packets);
	if (netvm_config_parse("natcost", text, strlen(text), &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "natcost: %s\n", err);
		return 1;
	}
	const char *nat_text = "inside: [gen0]\noutside: [pub0]\npublic: [198.51.100.1]\n";
	if (nat_config_parse("natcost-nat", nat_text, strlen(nat_text), &cfg, err, sizeof(err),
			     NULL) < 0 ||
	    nat_init(&s.nat, &cfg) < 0) {
		fprintf(stderr, "natcost: %s\n", err);
		return 1;
	}
	if (netvmd_open(&d) < 0)
		return 1;
	slot_open(&d, 0, 0, 0, -1, 0);
	struct netvm_nf *nf = netvm_nf_open_local(&d.region, 0);
	if (!nf || nf_nat_bind(&s, nf, err, sizeof(err)) < 0) {
		fprintf(stderr, "natcost: %s\n", nf ? err : "no local NF");
		return 1;
	}
	route_set_replicas(&d, d.mgr.rt);

	while (!d.ports[0].rx_done || d.pool.nfree != d.pool.n) {
		switch_round(&d);
		uint16_t n = netvm_nf_recv(nf, pkts, NETVM_BURST);
		if (n) {
			if (nat)
				nf_nat_handler(nf, pkts, n, &s);
			else
				nothing(nf, pkts, n, &s);
			netvm_nf_send(nf, pkts, n);
		}
	}
	printf("natcost: %llu packets, %llu delivered, %llu mappings, %llu translated, nf drops "
	       "%llu\n",
	       (unsigned long long)d.ports[0].stats.rx, (unsigned long long)d.ports[0].stats.tx,
	       (unsigned long long)*s.nat.c[NAT_C_mappings],
	       (unsigned long long)*s.nat.c[NAT_C_out], (unsigned long long)d.sw.drops.nf_drop);
	for (int i = 0; i < NAT_C_MAX; i++)
		s.nat.c[i] = &s.nat.local_c[i];
	netvm_nf_close_local(nf);
	netvmd_close(&d);
	nat_fini(&s.nat);
	return 0;
}
