/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "pool.h"

int netvm_pool_init(struct netvm_pool *p, struct netvm_region *region)
{
	p->region = region;
	p->n = region->nbufs;
	p->headroom = region->layout.headroom;
	p->room = (1u << region->buf_shift) - p->headroom;
	p->free = malloc(sizeof(*p->free) * p->n);
	p->meta = calloc(p->n, sizeof(*p->meta));
	if (!p->free || !p->meta) {
		netvm_pool_fini(p);
		return -ENOMEM;
	}
	/* Push in reverse so the first allocations get low indices. */
	p->nfree = 0;
	for (uint32_t i = p->n; i-- > 0;)
		netvm_pool_free(p, i);
	return 0;
}

void netvm_pool_fini(struct netvm_pool *p)
{
	free(p->free);
	free(p->meta);
	p->free = NULL;
	p->meta = NULL;
	p->n = p->nfree = 0;
}

uint32_t netvm_pool_reclaim(struct netvm_pool *p, uint16_t owner)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->n; i++)
		if (p->meta[i].owner == owner) {
			netvm_pool_free(p, i);
			n++;
		}
	return n;
}
