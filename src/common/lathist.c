/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <string.h>

#include "lathist.h"

#define SUB (1u << LATHIST_SUB_BITS)

void lathist_reset(struct lathist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* Bucket of @ns: below SUB one per nanosecond, then SUB per power of two. */
static unsigned bucket_of(uint64_t ns)
{
	unsigned msb, b;

	if (ns < SUB)
		return (unsigned)ns;
	msb = 63 - (unsigned)__builtin_clzll(ns);
	b = (msb - LATHIST_SUB_BITS + 1) * SUB +
	    (unsigned)((ns >> (msb - LATHIST_SUB_BITS)) & (SUB - 1));
	return b < LATHIST_BUCKETS ? b : LATHIST_BUCKETS - 1;
}

/* Lowest value of bucket @b (the inverse of bucket_of()), as a double so
 * that the last bucket's upper end does not overflow. */
static double bucket_floor(unsigned b)
{
	unsigned e = b / SUB, sub = b % SUB;

	if (e == 0)
		return sub;
	return ldexp((double)(SUB + sub), (int)e - 1);
}

void lathist_add(struct lathist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->n++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

uint64_t lathist_quantile(const struct lathist *h, double q)
{
	uint64_t need, seen = 0;

	if (!h->n)
		return 0;
	need = (uint64_t)ceil(q * (double)h->n);
	if (need == 0)
		need = 1;
	for (unsigned b = 0; b < LATHIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen < need)
			continue;
		double mid = (bucket_floor(b) + bucket_floor(b + 1)) / 2;
		if (mid < (double)h->min)
			return h->min;
		if (mid > (double)h->max)
			return h->max;
		return (uint64_t)mid;
	}
	return h->max;
}
