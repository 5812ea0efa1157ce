/* SPDX-License-Identifier: BSD-3-Clause */
/* SPSC ring: empty, full, wrap-around, and two threads hammering it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <cmocka.h>

#include <netvm/ring.h>

static struct netvm_ring_shm *new_ring(uint32_t size)
{
	struct netvm_ring_shm *shm = aligned_alloc(64, netvm_ring_bytes(size));
	assert_non_null(shm);
	assert_int_equal(netvm_ring_shm_init(shm, size), 0);
	return shm;
}

static void test_init_rejects_bad_sizes(void **state)
{
	struct netvm_ring_shm *shm = new_ring(8);
	struct netvm_ring r;

	assert_int_equal(netvm_ring_shm_init(shm, 0), -22);
	assert_int_equal(netvm_ring_shm_init(shm, 1), -22);
	assert_int_equal(netvm_ring_shm_init(shm, 12), -22);
	assert_int_equal(netvm_ring_shm_init(shm, 8), 0);
	assert_int_equal(netvm_ring_attach(&r, shm, 16, 1), -22); /* size mismatch */
	free(shm);
}

static void test_empty_and_full(void **state)
{
	struct netvm_ring_shm *shm = new_ring(8);
	struct netvm_ring p, c;
	struct netvm_desc d[16] = {0}, out[16];

	assert_int_equal(netvm_ring_attach(&p, shm, 8, 1), 0);
	assert_int_equal(netvm_ring_attach(&c, shm, 8, 0), 0);
	assert_int_equal(netvm_ring_dequeue_burst(&c, out, 16), 0);
	for (uint32_t i = 0; i < 16; i++)
		d[i].buf = i;
	assert_int_equal(netvm_ring_enqueue_burst(&p, d, 5), 5);
	assert_int_equal(netvm_ring_enqueue_burst(&p, d + 5, 11), 3); /* full at 8 */
	assert_int_equal(netvm_ring_enqueue_burst(&p, d, 1), 0);
	assert_int_equal(netvm_ring_count(&c), 8);
	assert_int_equal(netvm_ring_dequeue_burst(&c, out, 16), 8);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(out[i].buf, i);
	assert_int_equal(netvm_ring_dequeue_burst(&c, out, 16), 0);
	free(shm);
}

static void test_wrap_around(void **state)
{
	struct netvm_ring_shm *shm = new_ring(4);
	struct netvm_ring p, c;
	struct netvm_desc d[3], out[3];
	uint32_t next_in = 0, next_out = 0;

	/* Start the free-running indices just below 2^32 so they wrap too. */
	atomic_store(&shm->prod, UINT32_MAX - 5);
	atomic_store(&shm->cons, UINT32_MAX - 5);
	assert_int_equal(netvm_ring_attach(&p, shm, 4, 1), 0);
	assert_int_equal(netvm_ring_attach(&c, shm, 4, 0), 0);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 3; i++)
			d[i].buf = next_in++;
		assert_int_equal(netvm_ring_enqueue_burst(&p, d, 3), 3);
		assert_int_equal(netvm_ring_dequeue_burst(&c, out, 3), 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(out[i].buf, next_out++);
	}
	free(shm);
}

static void test_garbage_index_is_clamped(void **state)
{
	struct netvm_ring_shm *shm = new_ring(8);
	struct netvm_ring p, c;
	struct netvm_desc d[64];

	assert_int_equal(netvm_ring_attach(&c, shm, 8, 0), 0);
	atomic_store(&shm->prod, 1000000); /* a hostile producer */
	assert_true(netvm_ring_dequeue_burst(&c, d, 64) <= 8);
	assert_int_equal(netvm_ring_attach(&p, shm, 8, 1), 0);
	atomic_store(&shm->cons, p.local + 1000); /* a hostile consumer */
	assert_true(netvm_ring_enqueue_burst(&p, d, 64) <= 8);
	free(shm);
}

#define HAMMER_N 5000000u

static void *producer(void *arg)
{
	struct netvm_ring *p = arg;
	struct netvm_desc d[32] = {0};
	uint32_t sent = 0;

	while (sent < HAMMER_N) {
		uint32_t n = HAMMER_N - sent < 32 ? HAMMER_N - sent : 1 + (sent % 32);
		for (uint32_t i = 0; i < n; i++)
			d[i].buf = sent + i;
		sent += netvm_ring_enqueue_burst(p, d, n);
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	struct netvm_ring_shm *shm = new_ring(1024);
	struct netvm_ring p, c;
	struct netvm_desc d[32];
	uint32_t expect = 0;
	pthread_t t;

	assert_int_equal(netvm_ring_attach(&p, shm, 1024, 1), 0);
	assert_int_equal(netvm_ring_attach(&c, shm, 1024, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &p), 0);
	while (expect < HAMMER_N) {
		uint32_t n = netvm_ring_dequeue_burst(&c, d, 1 + (expect % 32));
		for (uint32_t i = 0; i < n; i++) {
			if (d[i].buf != expect) /* no loss, no duplicate, order kept */
				fail_msg("got %u, expected %u", d[i].buf, expect);
			expect++;
		}
	}
	pthread_join(t, NULL);
	assert_int_equal(netvm_ring_dequeue_burst(&c, d, 32), 0);
	free(shm);
}

/* Sleep/wake: the producer sends a million items in bursts separated by
 * random gaps (spins, yields, short sleeps) so the consumer keeps falling
 * asleep; a lost wakeup would leave it asleep for the whole timeout. */
#define WAKE_N 1000000u

struct wake_arg {
	struct netvm_ring *p;
	unsigned seed;
};

static void *wake_producer(void *arg)
{
	struct wake_arg *a = arg;
	struct netvm_desc d[32] = {0};
	uint32_t sent = 0;

	while (sent < WAKE_N) {
		uint32_t n = 1 + (uint32_t)rand_r(&a->seed) % 32, done = 0;
		if (n > WAKE_N - sent)
			n = WAKE_N - sent;
		for (uint32_t i = 0; i < n; i++)
			d[i].buf = sent + i;
		while (done < n)
			done += netvm_ring_enqueue_burst(a->p, d + done, n - done);
		netvm_ring_notify(a->p);
		sent += n;
		unsigned gap = (unsigned)rand_r(&a->seed) % 1000;
		if (gap < 5) {
			struct timespec ts = {0, 20000};
			nanosleep(&ts, NULL);
		} else if (gap < 50) {
			sched_yield();
		} else {
			for (volatile unsigned spin = 0; spin < gap; spin++)
				;
		}
	}
	return NULL;
}

static void test_sleep_wake_no_lost_wakeups(void **state)
{
	struct netvm_ring_shm *shm = new_ring(256);
	struct netvm_ring p, c;
	struct netvm_desc d[32];
	struct wake_arg a = {&p, 12345};
	uint32_t expect = 0, sleeps = 0, timeouts = 0;
	pthread_t t;

	assert_int_equal(netvm_ring_attach(&p, shm, 256, 1), 0);
	assert_int_equal(netvm_ring_attach(&c, shm, 256, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, wake_producer, &a), 0);
	while (expect < WAKE_N) {
		uint32_t n = netvm_ring_dequeue_burst(&c, d, 32);
		for (uint32_t i = 0; i < n; i++) {
			if (d[i].buf != expect)
				fail_msg("got %u, expected %u", d[i].buf, expect);
			expect++;
		}
		if (n == 0) {
			sleeps++;
			if (netvm_ring_sleep(&c, 5000000000ull) == -ETIMEDOUT)
				timeouts++;
		}
	}
	pthread_join(t, NULL);
	print_message("%u items, consumer slept %u times, %u timeouts\n", WAKE_N, sleeps, timeouts);
	assert_int_equal(timeouts, 0);
	assert_true(sleeps > 100); /* the test did exercise the sleeping path */
	free(shm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_rejects_bad_sizes),
	    cmocka_unit_test(test_empty_and_full),
	    cmocka_unit_test(test_wrap_around),
	    cmocka_unit_test(test_garbage_index_is_clamped),
	    cmocka_unit_test(test_two_threads),
	    cmocka_unit_test(test_sleep_wake_no_lost_wakeups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
