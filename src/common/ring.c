/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <netvm/ring.h>

int netvm_ring_shm_init(struct netvm_ring_shm *shm, uint32_t size)
{
	if (size < 2 || (size & (size - 1)))
		return -EINVAL;
	memset(shm, 0, sizeof(*shm));
	shm->size = size;
	return 0;
}

int netvm_ring_attach(struct netvm_ring *r, struct netvm_ring_shm *shm, uint32_t expect_size,
		      int producer)
{
	if (shm->size != expect_size || expect_size < 2 || (expect_size & (expect_size - 1)))
		return -EINVAL;
	r->shm = shm;
	r->size = expect_size;
	r->mask = expect_size - 1;
	/* Start from the shared indices once; after this each side trusts only
	 * its private copy of its own index. */
	if (producer) {
		r->local = atomic_load_explicit(&shm->prod, memory_order_relaxed);
		r->cached = atomic_load_explicit(&shm->cons, memory_order_acquire);
	} else {
		r->local = atomic_load_explicit(&shm->cons, memory_order_relaxed);
		r->cached = atomic_load_explicit(&shm->prod, memory_order_acquire);
	}
	return 0;
}
