/* SPDX-License-Identifier: BSD-3-Clause */
/* Buffer pool: alloc/free, exhaustion, ownership and reclaim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ports/pool.h"

static struct netvm_region region;
static struct netvm_pool pool;

static int setup(void **state)
{
	static const char *const none[] = {NULL};
	struct netvm_region_params p = {
	    .nbufs = 256, .buf_size = 2048, .headroom = 128, .ring_size = 64, .nf_slots = 2};
	if (netvm_region_create(&region, &p, none, none) < 0)
		return -1;
	return netvm_pool_init(&pool, &region);
}

static int teardown(void **state)
{
	netvm_pool_fini(&pool);
	netvm_region_unmap(&region);
	return 0;
}

static void test_alloc_all_then_free(void **state)
{
	uint32_t idx[300];

	assert_int_equal(pool.nfree, 256);
	assert_int_equal(pool.headroom, 128);
	assert_int_equal(pool.room, 4096 - 128);
	assert_int_equal(netvm_pool_alloc_burst(&pool, idx, 300), 256); /* only what exists */
	assert_int_equal(pool.nfree, 0);
	assert_int_equal(netvm_pool_alloc_burst(&pool, idx, 1), 0);
	for (uint32_t i = 0; i < 256; i++) {
		assert_true(netvm_pool_owned_by(&pool, idx[i], POOL_OWNER_SWITCH));
		netvm_pool_free(&pool, idx[i]);
	}
	assert_int_equal(pool.nfree, 256);
}

static void test_ownership_and_reclaim(void **state)
{
	uint32_t idx[40];

	assert_int_equal(netvm_pool_alloc_burst(&pool, idx, 40), 40);
	for (int i = 0; i < 30; i++)
		pool.meta[idx[i]].owner = 3; /* handed to NF slot 3 */
	assert_true(netvm_pool_owned_by(&pool, idx[0], 3));
	assert_false(netvm_pool_owned_by(&pool, idx[35], 3));
	assert_false(netvm_pool_owned_by(&pool, 256, 3)); /* out of range */
	assert_false(netvm_pool_owned_by(&pool, UINT32_MAX, 3));
	assert_int_equal(netvm_pool_reclaim(&pool, 3), 30);
	assert_int_equal(netvm_pool_reclaim(&pool, 3), 0);
	assert_int_equal(pool.nfree, 256 - 10);
	for (int i = 30; i < 40; i++)
		netvm_pool_free(&pool, idx[i]);
	assert_int_equal(pool.nfree, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_all_then_free),
	    cmocka_unit_test(test_ownership_and_reclaim),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
