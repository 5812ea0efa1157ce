/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Naps for the switch when nobody can wake it: while ports are live (they
 * are polled) or NFs of other domains are attached (they ring their own
 * region's bell).  The first naps are short, so a pause in traffic costs
 * little latency; a longer idle period backs off to NAP_MAX_NS, so an idle
 * platform costs little CPU.  Measured with an idle tap port: netvmd uses
 * 5.6% of a core with a 250 us ceiling (1.4% with 1 ms, ~13% with 50 us
 * naps and no back-off); 250 us is the most a pause adds to the next packet.
 */
#ifndef NETVM_NAP_H
#define NETVM_NAP_H

#include <stdint.h>

#define NAP_MIN_NS 50000ull  /* the first naps */
#define NAP_MAX_NS 250000ull /* after NAP_STEP * 3 naps in a row */
#define NAP_STEP   16	     /* naps before the nap doubles */
/* Naps (about 60 ms of idleness) before the switch stops napping and sleeps
 * until the port watcher rings (portwatch.c).  Waking through the watcher
 * costs two thread wake-ups, which on these VMs added ~0.7 ms to a ping
 * through a chain; traffic with shorter gaps never pays it. */
#define NAP_DEEP_AFTER 256

/* Length of nap number @n (0, 1, ...) of an idle period. */
static inline uint64_t nap_ns(unsigned n)
{
	unsigned shift = n / NAP_STEP > 3 ? 3 : n / NAP_STEP;
	uint64_t ns = NAP_MIN_NS << shift;

	return ns > NAP_MAX_NS ? NAP_MAX_NS : ns;
}

#endif
