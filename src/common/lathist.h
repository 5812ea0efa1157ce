/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A latency histogram: log-linear buckets, 16 per power of two (about 6%
 * resolution) from 1 ns to 2^64 ns, so percentiles come out of a fixed
 * 8 KiB and adding a sample costs a few instructions.  Used by the gen port
 * (latency at the sink) and netvm-pktgen.  One writer; no locks.
 */
#ifndef NETVM_LATHIST_H
#define NETVM_LATHIST_H

#include <stdint.h>

#define LATHIST_SUB_BITS 4
#define LATHIST_BUCKETS	 (64 << LATHIST_SUB_BITS)

struct lathist {
	uint64_t n, sum, min, max; /* samples, their sum, extremes (ns) */
	uint64_t bucket[LATHIST_BUCKETS];
};

/* Empty @h. */
void lathist_reset(struct lathist *h);

/* Add a sample of @ns nanoseconds. */
void lathist_add(struct lathist *h, uint64_t ns);

/* Quantile @q (0..1) in ns: the middle of the bucket that holds it, within
 * [min, max]; 0 without samples. */
uint64_t lathist_quantile(const struct lathist *h, double q);

#endif
