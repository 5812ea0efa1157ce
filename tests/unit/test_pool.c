/* SPDX-License-Identifier: BSD-3-Clause */
/* Buffer pool: alloc/free, exhaustion, ownership and reclaim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "ports/pool.h"

/* Each test gets a fresh region and pool of its own. */
struct fixture {
	struct netvm_region region;
	struct netvm_pool pool;
};

static int setup(void **state)
{
	static const char *const none[] = {NULL};
	struct netvm_region_params p = {
	    .nbufs = 256, .buf_size = 2048, .headroom = 128, .ring_size = 64, .nf_slots = 2};
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || netvm_region_create(&f->region, &p, none, none) < 0)
		return -1;
	*state = f;
	return netvm_pool_init(&f->pool, &f->region);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	netvm_pool_fini(&f->pool);
	netvm_region_unmap(&f->region);
	free(f);
	return 0;
}

static void test_alloc_all_then_free(void **state)
{
	struct netvm_pool *p = &((struct fixture *)*state)->pool;
	uint32_t idx[300];

	assert_int_equal(p->nfree, 256);
	assert_int_equal(p->headroom, 128);
	assert_int_equal(p->room, 4096 - 128);
	assert_int_equal(netvm_pool_alloc_burst(p, idx, 300), 256); /* only what exists */
	assert_int_equal(p->nfree, 0);
	assert_int_equal(netvm_pool_alloc_burst(p, idx, 1), 0);
	for (uint32_t i = 0; i < 256; i++) {
		assert_true(netvm_pool_owned_by(p, idx[i], POOL_OWNER_SWITCH));
		netvm_pool_free(p, idx[i]);
	}
	assert_int_equal(p->nfree, 256);
}

static void test_ownership_and_reclaim(void **state)
{
	struct netvm_pool *p = &((struct fixture *)*state)->pool;
	uint32_t idx[40];

	assert_int_equal(netvm_pool_alloc_burst(p, idx, 40), 40);
	for (int i = 0; i < 30; i++)
		p->meta[idx[i]].owner = 3; /* handed to NF slot 3 */
	assert_true(netvm_pool_owned_by(p, idx[0], 3));
	assert_false(netvm_pool_owned_by(p, idx[35], 3));
	assert_false(netvm_pool_owned_by(p, 256, 3)); /* out of range */
	assert_false(netvm_pool_owned_by(p, UINT32_MAX, 3));
	assert_int_equal(netvm_pool_reclaim(p, 3), 30);
	assert_int_equal(netvm_pool_reclaim(p, 3), 0);
	assert_int_equal(p->nfree, 256 - 10);
	for (int i = 30; i < 40; i++)
		netvm_pool_free(p, idx[i]);
	assert_int_equal(p->nfree, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_alloc_all_then_free, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ownership_and_reclaim, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
