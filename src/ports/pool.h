/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The buffer pool and per-buffer bookkeeping.  Private to the daemon: NFs
 * never see the free list or the owner table, so nothing an NF writes into
 * the region can corrupt them.  Only the switch thread calls these.
 */
#ifndef NETVM_POOL_H
#define NETVM_POOL_H

#include <stdint.h>
#include <stdbool.h>

#include <netvm/region.h>

#define POOL_OWNER_FREE	  0xffff /* in the free list */
#define POOL_OWNER_SWITCH 0xfffe /* held by the switch or a port */

/* Where a buffer is and where its packet is going (daemon-private). */
struct buf_meta {
	uint16_t owner;	  /* POOL_OWNER_* or the NF slot holding it */
	uint16_t chain;	  /* chain id the packet follows, BUF_NO_CHAIN when none */
	uint16_t hop;	  /* index in the chain of the hop it is at */
	uint16_t in_port; /* port it arrived on */
	uint32_t hash;	  /* flow hash, valid when has_hash */
	uint32_t has_hash;
};

#define BUF_NO_CHAIN 0xffff

struct netvm_pool {
	struct netvm_region *region;
	uint32_t n;	/* buffers in all */
	uint32_t nfree; /* entries in free[] */
	uint32_t *free; /* LIFO stack of free buffer indices (warm in cache) */
	struct buf_meta *meta;
	uint32_t headroom; /* data offset of a fresh buffer */
	uint32_t room;	   /* bytes from headroom to the end of a buffer */
};

/* Build the pool over every buffer of @region. Returns 0 or -ENOMEM. */
int netvm_pool_init(struct netvm_pool *p, struct netvm_region *region);
void netvm_pool_fini(struct netvm_pool *p);

/* Take up to @n buffers (owner becomes POOL_OWNER_SWITCH). Returns how many. */
static inline uint32_t netvm_pool_alloc_burst(struct netvm_pool *p, uint32_t *idx, uint32_t n)
{
	if (n > p->nfree)
		n = p->nfree;
	for (uint32_t i = 0; i < n; i++) {
		idx[i] = p->free[--p->nfree];
		p->meta[idx[i]].owner = POOL_OWNER_SWITCH;
	}
	return n;
}

/* Give buffer @idx back.  The caller has checked idx < p->n and that the
 * buffer is not already free (netvm_pool_owned_by()). */
static inline void netvm_pool_free(struct netvm_pool *p, uint32_t idx)
{
	p->meta[idx].owner = POOL_OWNER_FREE;
	p->free[p->nfree++] = idx;
}

/* Whether @idx is a valid buffer currently held by @owner. */
static inline bool netvm_pool_owned_by(const struct netvm_pool *p, uint32_t idx, uint16_t owner)
{
	return idx < p->n && p->meta[idx].owner == owner;
}

/* Free every buffer held by @owner; returns how many. */
uint32_t netvm_pool_reclaim(struct netvm_pool *p, uint16_t owner);

#endif
