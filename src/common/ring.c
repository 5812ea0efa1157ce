/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

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

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

void netvm_wake(_Atomic uint32_t *flag)
{
	/* Only the producer that lowers the flag pays for the syscall. */
	if (atomic_exchange_explicit(flag, 0, memory_order_seq_cst))
		futex(flag, FUTEX_WAKE, 1, NULL);
}

int netvm_sleep(_Atomic uint32_t *flag, bool (*idle)(void *arg), void *arg, uint64_t timeout_ns)
{
	struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
	long ret = 0;

	atomic_store_explicit(flag, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	/* Look again with the flag raised: a producer that published before it
	 * could see the flag did not wake us. */
	if (idle(arg)) {
		ret = futex(flag, FUTEX_WAIT, 1, &ts);
		if (ret < 0 && errno != ETIMEDOUT)
			ret = 0; /* EAGAIN (woken already) or EINTR: look for work */
	}
	atomic_store_explicit(flag, 0, memory_order_relaxed);
	return ret < 0 ? -ETIMEDOUT : 0;
}

static bool ring_empty(void *r)
{
	return netvm_ring_count(r) == 0;
}

int netvm_ring_sleep(struct netvm_ring *r, uint64_t timeout_ns)
{
	return netvm_sleep(&r->shm->sleeping, ring_empty, r, timeout_ns);
}
