/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hopcost: the switch and the NF library loop in one thread, in lock step,
 * for a fixed number of packets, so `valgrind --tool=callgrind` gives
 * instruction counts per packet that do not depend on timing.
 *
 *   hopcost NFS PACKETS [SIZE]
 *
 * A gen port sends PACKETS frames through a chain of NFS (0..8) NFs whose
 * handler does nothing, back to the gen sink.  bench/callgrind.py runs it
 * under callgrind and splits the cost between switch, port and NF library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/netvmd.h"
#include "lib/nf_local.h"

int main(int argc, char **argv)
{
	static struct netvmd d;
	struct netvm_nf *nf[8];
	struct netvm_pkt pkts[NETVM_BURST];
	char cfg[1024], err[512], chain[256] = "";
	int nfs = argc > 1 ? atoi(argv[1]) : 1;
	long packets = argc > 2 ? atol(argv[2]) : 100000;
	int size = argc > 3 ? atoi(argv[3]) : 64;

	if (argc < 3 || nfs < 0 || nfs > 8 || packets <= 0) {
		fprintf(stderr, "usage: hopcost NFS(0..8) PACKETS [SIZE]\n");
		return 2;
	}
	for (int i = 0; i < nfs; i++)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%ss%d",
			 i ? ", " : "", i);
	snprintf(cfg, sizeof(cfg),
		 "pool: {buffers: 4096}\nring_size: 1024\nmax_nfs: 8\nbackpressure: true\n"
		 "ports:\n  - {name: gen0, type: gen, size: %d, flows: 16, count: %ld}\n"
		 "services: [s0, s1, s2, s3, s4, s5, s6, s7]\n"
		 "chains:\n  default: [%s]\n",
		 size, packets, chain);
	if (netvm_config_parse("hopcost", cfg, strlen(cfg), &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "hopcost: %s\n", err);
		return 1;
	}
	if (netvmd_open(&d) < 0)
		return 1;
	for (int i = 0; i < nfs; i++) {
		slot_open(&d, (uint32_t)i, (uint16_t)i, 0, -1, 0);
		nf[i] = netvm_nf_open_local(&d.region, (uint32_t)i);
	}
	route_set_replicas(&d, d.mgr.rt);

	/* Lock step: one switch round, then each NF handles what it got. */
	while (!d.ports[0].rx_done || d.pool.nfree != d.pool.n) {
		switch_round(&d);
		for (int i = 0; i < nfs; i++) {
			uint16_t n = netvm_nf_recv(nf[i], pkts, NETVM_BURST);
			if (n)
				netvm_nf_send(nf[i], pkts, n);
		}
	}
	printf("hopcost: %llu packets through %d NFs, %llu delivered, drops %llu\n",
	       (unsigned long long)d.ports[0].stats.rx, nfs,
	       (unsigned long long)d.ports[0].stats.tx,
	       (unsigned long long)(d.sw.drops.ring_full + d.sw.drops.nf_gone + d.sw.drops.no_route));
	for (int i = 0; i < nfs; i++)
		netvm_nf_close_local(nf[i]);
	netvmd_close(&d);
	return 0;
}
