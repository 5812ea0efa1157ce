/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-scribble: a hostile NF for the security tests.  It attaches, hands
 * back 100,000 random descriptors through its tx ring, then fills every
 * byte of the region it was given (header, rings, buffers) with random
 * garbage, over and over, for a number of seconds.  Whatever it
 * does, other domains' packets must be untouched and the daemon must run on.
 *   nf-scribble SERVICE SECONDS [header]     (socket from $NETVM_SOCKET)
 * With "header" it sends no descriptors and garbles only the region's
 * header and directory (the layout every NF of the domain maps), staying
 * attached: a newcomer to the domain must still attach and work.
 * Prints the region size it could reach and how many passes it made.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netvm/netvm.h>
#include <netvm/region.h>
#include "lib/nf_local.h"

int main(int argc, char **argv)
{
	struct netvm_nf *nf;
	struct timespec t0, t;
	unsigned seed = (unsigned)getpid(), passes = 0;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "header"))) {
		fprintf(stderr, "usage: nf-scribble SERVICE SECONDS [header]\n");
		return 2;
	}
	bool header_only = argc == 4;
	nf = netvm_nf_attach(argv[1], NULL);
	if (!nf) {
		perror("nf-scribble: attach");
		return 1;
	}
	/* Random descriptors, properly enqueued: the switch must validate them. */
	struct netvm_pkt pkts[NETVM_BURST];
	for (int b = 0; !header_only && b < 100000 / NETVM_BURST; b++) {
		for (int i = 0; i < NETVM_BURST; i++) {
			pkts[i].desc.buf = (uint32_t)rand_r(&seed) % 20000;
			pkts[i].desc.off = (uint16_t)rand_r(&seed);
			pkts[i].desc.action = (uint8_t)(rand_r(&seed) % 6);
			pkts[i].desc.dst = (uint16_t)(rand_r(&seed) % 8);
			pkts[i].len = (uint16_t)rand_r(&seed);
		}
		netvm_nf_send(nf, pkts, NETVM_BURST);
	}
	const struct netvm_region *r = netvm_nf_region(nf);
	size_t len = (size_t)r->nsegs << r->seg_shift;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (header_only) {
			/* Everything before the rings, over and over. */
			uint8_t *p = r->seg[0];
			for (uint64_t i = 0; i < r->layout.ring_off; i++)
				p[i] = (uint8_t)rand_r(&seed);
			len = r->layout.ring_off;
			if (passes++ == 0) {
				printf("nf-scribble: garbled the header and directory\n");
				fflush(stdout);
			}
			usleep(1000);
			clock_gettime(CLOCK_MONOTONIC, &t);
			continue;
		}
		for (uint32_t s = 0; s < r->nsegs; s++) {
			uint32_t *w = (uint32_t *)r->seg[s];
			for (size_t i = 0; i < ((size_t)1 << r->seg_shift) / 4; i++)
				w[i] = (uint32_t)rand_r(&seed);
		}
		passes++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < atoi(argv[2]));
	printf("nf-scribble: %zu bytes reachable, %u passes of garbage\n", len, passes);
	/* No detach: its rings are garbage now.  _exit, not return: the
	 * handle is left to the kernel and the daemon reaps the slot. */
	fflush(stdout);
	_exit(0);
}
