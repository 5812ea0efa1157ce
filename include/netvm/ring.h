/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Single-producer / single-consumer lockless descriptor ring.
 *
 * The ring lives in shared memory (struct netvm_ring_shm); each side keeps a
 * private handle (struct netvm_ring) with its own copy of its index and a
 * cached copy of the other side's, as libxdp's xsk rings do.  Because a side
 * never reloads its own index from shared memory, a peer that scribbles on
 * the ring cannot make it skip or repeat entries; the distance read from the
 * other side is clamped to the ring size, so garbage yields at most a ring
 * of garbage descriptors, which the switch validates (a consumer reads
 * nothing while the producer index is out of range).
 *
 * Indices are free-running 32-bit counters, masked on access.
 *
 * Shared layout (64-byte cache lines):
 *
 *     +0    prod      (p) written by the producer only
 *     +64   cons      (c) written by the consumer only
 *     +128  size, flags (set at creation, read-only after)
 *     +192  slots[size] struct netvm_desc
 */
#ifndef NETVM_RING_H
#define NETVM_RING_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdatomic.h>

#include <netvm/desc.h>

#define NETVM_CACHE_LINE 64

/** The part of a ring that is in shared memory. */
struct netvm_ring_shm {
	_Alignas(NETVM_CACHE_LINE) _Atomic uint32_t prod; /**< (p) next slot to fill */
	_Alignas(NETVM_CACHE_LINE) _Atomic uint32_t cons; /**< (c) next slot to read */
	_Alignas(NETVM_CACHE_LINE) uint32_t size;	  /**< slots, a power of two */
	_Atomic uint32_t sleeping;			  /**< (c) consumer waits for a wakeup */
	_Alignas(NETVM_CACHE_LINE) struct netvm_desc slots[];
};
_Static_assert(sizeof(struct netvm_ring_shm) == 3 * NETVM_CACHE_LINE, "ring header layout");

/** Bytes of shared memory a ring of @p size slots needs. */
static inline size_t netvm_ring_bytes(uint32_t size)
{
	return sizeof(struct netvm_ring_shm) + (size_t)size * sizeof(struct netvm_desc);
}

/** A process's private handle on one side of a ring. */
struct netvm_ring {
	struct netvm_ring_shm *shm;
	uint32_t mask;
	uint32_t size;
	uint32_t local;	 /**< this side's index (prod for producer, cons for consumer) */
	uint32_t cached; /**< last seen index of the other side */
};

/**
 * Initialise a ring in shared memory.  Only the creator calls this.
 * @return 0, or -EINVAL if @p size is not a power of two >= 2.
 */
int netvm_ring_shm_init(struct netvm_ring_shm *shm, uint32_t size);

/**
 * Attach a private handle to a shared ring as producer or consumer.
 * @return 0, or -EINVAL if the shared header is not a valid ring of
 *         @p expect_size slots.
 */
int netvm_ring_attach(struct netvm_ring *r, struct netvm_ring_shm *shm, uint32_t expect_size,
		      int producer);

/*
 * Sleeping and waking.  A consumer that finds no work raises a flag word in
 * shared memory and waits on it (a futex); a producer checks the flag after
 * publishing work and wakes it only if raised, so there is no syscall per
 * packet under load.  The flag and the work are checked in opposite orders
 * on the two sides with a full fence between, so no wakeup is lost.
 */

/** Clear @p flag and wake its sleeper (a futex wake) if it was raised. */
void netvm_wake(_Atomic uint32_t *flag);

/**
 * Producer side, after publishing work: has the consumer raised @p flag to
 * sleep?  The fence pairs with the one in netvm_sleep(): either we see the
 * flag, or the consumer sees our work before it sleeps.
 */
static inline bool netvm_flag_raised(_Atomic uint32_t *flag)
{
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(flag, memory_order_relaxed);
}

/** Producer side, after publishing work: wake the consumer if it sleeps. */
static inline void netvm_notify(_Atomic uint32_t *flag)
{
	if (netvm_flag_raised(flag))
		netvm_wake(flag);
}

/**
 * Consumer side: raise @p flag, check @p idle once more, and if still idle
 * wait until woken or @p timeout_ns passes.
 * @return 0 when woken (or work was found), -ETIMEDOUT on timeout.
 */
int netvm_sleep(_Atomic uint32_t *flag, bool (*idle)(void *arg), void *arg, uint64_t timeout_ns);

/**
 * Enqueue up to @p n descriptors.  Producer side only.
 * @return the number enqueued (0..n); the caller owns the rest.
 */
static inline uint32_t netvm_ring_enqueue_burst(struct netvm_ring *r, const struct netvm_desc *d,
						uint32_t n)
{
	uint32_t free_slots = r->size - (r->local - r->cached);
	if (free_slots < n || free_slots > r->size) {
		r->cached = atomic_load_explicit(&r->shm->cons, memory_order_acquire);
		free_slots = r->size - (r->local - r->cached);
		if (free_slots > r->size) /* consumer index is garbage */
			free_slots = 0;
	}
	if (n > free_slots)
		n = free_slots;
	for (uint32_t i = 0; i < n; i++)
		r->shm->slots[(r->local + i) & r->mask] = d[i];
	r->local += n;
	atomic_store_explicit(&r->shm->prod, r->local, memory_order_release);
	return n;
}

/**
 * Dequeue up to @p n descriptors.  Consumer side only.
 * @return the number dequeued (0..n).
 */
static inline uint32_t netvm_ring_dequeue_burst(struct netvm_ring *r, struct netvm_desc *d,
						uint32_t n)
{
	uint32_t avail = r->cached - r->local;
	if (avail < n || avail > r->size) {
		r->cached = atomic_load_explicit(&r->shm->prod, memory_order_acquire);
		avail = r->cached - r->local;
		/* Producer index is garbage: take nothing.  Taking a ring's worth
		 * would move local past the producer's real index for good, and
		 * every later read would be garbage too. */
		if (avail > r->size) {
			r->cached = r->local;
			avail = 0;
		}
	}
	if (n > avail)
		n = avail;
	for (uint32_t i = 0; i < n; i++)
		d[i] = r->shm->slots[(r->local + i) & r->mask];
	r->local += n;
	atomic_store_explicit(&r->shm->cons, r->local, memory_order_release);
	return n;
}

/** Producer side, after an enqueue: wake the consumer if it sleeps. */
static inline void netvm_ring_notify(struct netvm_ring *r)
{
	netvm_notify(&r->shm->sleeping);
}

/**
 * Consumer side: sleep until the producer enqueues something, or up to
 * @p timeout_ns.  Returns at once if the ring is not empty.
 * @return 0 when there may be work, -ETIMEDOUT on timeout.
 */
int netvm_ring_sleep(struct netvm_ring *r, uint64_t timeout_ns);

/** Free slots, as seen by the producer right now (0 if the consumer index is garbage). */
static inline uint32_t netvm_ring_free_count(struct netvm_ring *r)
{
	uint32_t used = r->local - atomic_load_explicit(&r->shm->cons, memory_order_acquire);
	return used > r->size ? 0 : r->size - used;
}

/** Entries waiting to be dequeued, as seen by the consumer right now. */
static inline uint32_t netvm_ring_count(struct netvm_ring *r)
{
	uint32_t c = atomic_load_explicit(&r->shm->prod, memory_order_acquire) - r->local;
	return c > r->size ? r->size : c;
}

#endif
