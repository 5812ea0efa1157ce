/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the switch (src/daemon/switch.c) and the routing tables
 * (src/daemon/route.c), in one thread: a daemon state from a configuration,
 * NF slots opened as the manager opens them, and the NF's side of the rings
 * driven by hand.  Each descriptor an NF can hand back, good or bad, must
 * end in exactly one place: forwarded, or a drop counted under its cause,
 * or (a buffer the NF does not hold) left where it is and charged to the NF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/netvmd.h"
#include "lib/nf_local.h"

static const char config[] = "pool: {buffers: 256}\n"
			     "ring_size: 64\n"
			     "max_nfs: 4\n"
			     "ports:\n"
			     "  - {name: gen0, type: gen, paused: true}\n"
			     "services: [a, b, idle]\n"
			     "chains:\n"
			     "  default: [a, b]\n";

struct fixture {
	struct netvmd d;
	struct netvm_ring to_switch; /* slot 0's tx ring, the NF's end */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f ||
	    netvm_config_parse("t.yaml", config, sizeof(config) - 1, &f->d.cfg, err, sizeof(err)) <
		0 ||
	    netvmd_open(&f->d) < 0)
		return -1;
	atomic_store(&f->d.stop, true);	  /* no switch thread: publish frees at once */
	slot_open(&f->d, 0, 0, 1, -1, 0); /* service a */
	slot_open(&f->d, 1, 1, 1, -1, 0); /* service b */
	route_set_replicas(&f->d, f->d.mgr.rt);
	netvm_ring_attach(&f->to_switch, netvm_region_slot_ring(&f->d.region, 0, NETVM_RING_TX),
			  f->d.cfg.ring_size, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	netvmd_close(&f->d);
	free(f);
	return 0;
}

/* A buffer handed to slot 0's NF on chain 0, hop 0, as the switch would. */
static uint32_t give(struct fixture *f)
{
	uint32_t b = 0;

	assert_int_equal(netvm_pool_alloc_burst(&f->d.pool, &b, 1), 1);
	f->d.pool.meta[b] = (struct buf_meta){.owner = 0, .chain = 0, .hop = 0};
	return b;
}

static uint64_t total_drops(const struct sw_drops *dr)
{
	uint64_t n = 0;
#define ADD(name, help) n += dr->name;
	SW_DROP_CAUSES(ADD)
#undef ADD
	return n;
}

/* One descriptor back from the NF in slot 0; what became of it. */
struct outcome {
	uint64_t bad_desc;   /* charged to the NF */
	uint64_t dropped;    /* drops of any cause */
	uint64_t forwarded;  /* given to slot 1 (the next hop) */
	struct sw_drops by;  /* per cause */
	uint32_t pool_delta; /* buffers back in the pool */
};

static struct outcome hand_back(struct fixture *f, struct netvm_desc d)
{
	struct netvmd *dm = &f->d;
	struct sw_drops before = dm->sw.drops;
	uint64_t bad0 = dm->slots[0].stats.bad_desc, fwd0 = dm->slots[1].stats.rx;
	uint32_t free0 = dm->pool.nfree;
	struct outcome o = {0};

	assert_int_equal(netvm_ring_enqueue_burst(&f->to_switch, &d, 1), 1);
	switch_round(dm);
	o.bad_desc = dm->slots[0].stats.bad_desc - bad0;
	o.forwarded = dm->slots[1].stats.rx - fwd0;
	o.dropped = total_drops(&dm->sw.drops) - total_drops(&before);
#define SUB(name, help) o.by.name = dm->sw.drops.name - before.name;
	SW_DROP_CAUSES(SUB)
#undef SUB
	o.pool_delta = dm->pool.nfree - free0;
	return o;
}

static void test_bad_descriptors(void **state)
{
	struct fixture *f = *state;
	uint32_t bsize = f->d.sw.buf_size, hr = f->d.pool.headroom;
	struct outcome o;
	uint32_t b = 0;

	/* A buffer index out of the pool: charged, nothing dropped or freed. */
	o = hand_back(f, (struct netvm_desc){.buf = 99999, .off = (uint16_t)hr, .len = 64});
	assert_true(o.bad_desc == 1 && o.dropped == 0 && o.pool_delta == 0);

	/* A buffer the NF does not hold (free, or the switch's). */
	o = hand_back(f, (struct netvm_desc){.buf = 7, .off = (uint16_t)hr, .len = 64});
	assert_true(o.bad_desc == 1 && o.dropped == 0 && o.pool_delta == 0);

	/* Held, but a field is wrong: charged, and the buffer dropped as bad_desc. */
	const struct netvm_desc bad[] = {
	    {.off = (uint16_t)(bsize - 10), .len = 64},		       /* past the buffer's end */
	    {.off = (uint16_t)hr, .len = 0},			       /* empty */
	    {.off = (uint16_t)hr, .len = 64, .action = NETVM_ACT_MAX}, /* no such action */
	    {.off = (uint16_t)hr, .len = 64, .action = NETVM_ACT_SERVICE, .dst = 3}, /* service */
	    {.off = (uint16_t)hr, .len = 64, .action = NETVM_ACT_PORT, .dst = 1},    /* port */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netvm_desc d = bad[i];
		d.buf = give(f);
		o = hand_back(f, d);
		assert_true(o.bad_desc == 1 && o.dropped == 1 && o.by.bad_desc == 1 &&
			    o.pool_delta == 1);
	}

	/* The same buffer twice: the second is not its own any more. */
	b = give(f);
	struct netvm_desc drop = {
	    .buf = b, .off = (uint16_t)hr, .len = 64, .action = NETVM_ACT_DROP};
	o = hand_back(f, drop);
	assert_true(o.bad_desc == 0 && o.by.nf_drop == 1 && o.dropped == 1 && o.pool_delta == 1);
	o = hand_back(f, drop);
	assert_true(o.bad_desc == 1 && o.dropped == 0 && o.pool_delta == 0);
	assert_int_equal(f->d.slots[0].stats.dropped, 1);
}

static void test_good_and_unroutable(void **state)
{
	struct fixture *f = *state;
	uint16_t hr = (uint16_t)f->d.pool.headroom;
	struct outcome o;

	/* Next hop: to slot 1 (service b), nothing dropped. */
	o = hand_back(f, (struct netvm_desc){.buf = give(f), .off = hr, .len = 64});
	assert_true(o.forwarded == 1 && o.dropped == 0 && o.bad_desc == 0);
	/* To a service with no instance: no_route. */
	o = hand_back(
	    f, (struct netvm_desc){
		   .buf = give(f), .off = hr, .len = 64, .action = NETVM_ACT_SERVICE, .dst = 2});
	assert_true(o.by.no_route == 1 && o.dropped == 1 && o.pool_delta == 1);
	/* The NF is gone while it holds a buffer: reclaimed as nf_gone. */
	uint32_t held = give(f);
	(void)held;
	atomic_store(&f->d.slots[0].state, SLOT_GONE);
	uint32_t free0 = f->d.pool.nfree;
	switch_round(&f->d);
	assert_int_equal(atomic_load(&f->d.slots[0].state), SLOT_FREE);
	assert_int_equal(f->d.pool.nfree, free0 + 1);
	assert_true(f->d.sw.drops.nf_gone >= 1);
}

/* A published table is the one the switch reads; the old one is gone, and
 * edits to a clone never show until published. */
static void test_route_publish(void **state)
{
	struct fixture *f = *state;
	const char *hops[] = {"b"};
	char err[128];

	struct route_table *old = f->d.mgr.rt, *rt = route_clone(old);
	assert_non_null(rt);
	assert_int_equal(route_chain_set(&f->d, rt, "web", hops, 1, NULL, 0, err, sizeof(err)), 1);
	assert_int_equal(route_chain_find(atomic_load(&f->d.rt), "web"), -1); /* not yet */
	assert_int_equal(
	    route_chain_set(&f->d, rt, "bad", (const char *[]){"zz"}, 1, NULL, 0, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err, "chain 'bad': unknown service 'zz'");
	route_set_replicas(&f->d, rt);
	uint64_t epoch = atomic_load(&f->d.epoch);
	route_publish(&f->d, rt);
	assert_ptr_equal(atomic_load(&f->d.rt), rt);
	assert_ptr_equal(f->d.mgr.rt, rt);
	assert_int_equal(route_chain_find(rt, "web"), 1);
	assert_int_equal(rt->replicas[1].n, 1); /* b's instance, slot 1 */
	switch_round(&f->d);
	assert_true(atomic_load(&f->d.epoch) == epoch + 1);
}

/* Graph chains: links from outputs, their errors, and where packets go. */
static void test_graph_chains(void **state)
{
	struct fixture *f = *state;
	struct netvmd *d = &f->d;
	const char *hops[] = {"a", "b", "idle"};
	char err[256];
	struct route_table *rt = route_clone(d->mgr.rt);

	assert_non_null(rt);
	/* a.1 -> idle, a.2 -> drop, a.3 -> out the port, b.0 -> port gen0 */
	struct route_link ok[] = {
	    {"a", 1, "idle"}, {"a", 2, "drop"}, {"a", 3, "out"}, {"b", 0, "port:gen0"}};
	int id = route_chain_set(d, rt, "g", hops, 3, ok, 4, err, sizeof(err));
	assert_true(id >= 0);
	const struct route_chain *c = &rt->chains[id];
	assert_int_equal(c->next[0 * NETVM_MAX_OUTPUTS + 0], 1); /* a -> b, the line */
	assert_int_equal(c->next[0 * NETVM_MAX_OUTPUTS + 1], 2);
	assert_int_equal(c->next[0 * NETVM_MAX_OUTPUTS + 2], NEXT_DROP);
	assert_int_equal(c->next[0 * NETVM_MAX_OUTPUTS + 3], NEXT_OUT);
	assert_int_equal(c->next[0 * NETVM_MAX_OUTPUTS + 4], NEXT_NONE);
	assert_int_equal(c->next[1 * NETVM_MAX_OUTPUTS + 0], NEXT_PORT | 0);
	assert_int_equal(c->next[2 * NETVM_MAX_OUTPUTS + 0], NEXT_OUT); /* the last hop */

	static const struct {
		struct route_link link;
		int err;
		const char *msg;
	} bad[] = {
	    {{"b", 0, "a"}, -EINVAL, "chain 'x': the links make a cycle"},
	    {{"idle", 1, "a"}, -EINVAL, "cycle"},
	    {{"a", 0, "a"}, -EINVAL, "cycle"},
	    {{"zz", 1, "b"}, -ENOENT, "link from 'zz', which is not a hop"},
	    {{"a", 1, "nowhere"}, -ENOENT, "'nowhere' is not a hop of the chain"},
	    {{"a", 1, "port:p9"}, -ENOENT, "unknown port 'p9'"},
	    {{"a", NETVM_MAX_OUTPUTS, "b"}, -EINVAL, "output 16 of 'a'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		    route_chain_set(d, rt, "x", hops, 3, &bad[i].link, 1, err, sizeof(err)),
		    bad[i].err);
		assert_non_null(strstr(err, bad[i].msg));
	}
	const char *twice[] = {"a", "b", "a"};
	assert_int_equal(route_chain_set(d, rt, "x", twice, 3, ok, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "service 'a' is at several hops"));
	assert_int_equal(route_chain_find(rt, "x"), -1); /* nothing half made */
	route_free(rt);
}

/* Through a graph chain: the NF's output picks the next hop. */
static void test_outputs(void **state)
{
	struct fixture *f = *state;
	struct netvmd *d = &f->d;
	const char *hops[] = {"a", "b"};
	struct route_link links[] = {{"a", 1, "b"}, {"a", 2, "drop"}, {"a", 3, "port:gen0"}};
	char err[256];
	uint16_t hr = (uint16_t)d->pool.headroom;
	struct outcome o;

	struct route_table *rt = route_clone(d->mgr.rt);
	/* default is chain 0: replace it with the graph a -> {b, drop, gen0} */
	assert_int_equal(route_chain_set(d, rt, "default", hops, 2, links, 3, err, sizeof(err)), 0);
	route_set_replicas(d, rt);
	route_publish(d, rt);
	o = hand_back(
	    f, (struct netvm_desc){
		   .buf = give(f), .off = hr, .len = 64, .action = NETVM_ACT_OUTPUT, .dst = 1});
	assert_true(o.forwarded == 1 && o.dropped == 0);
	o = hand_back(
	    f, (struct netvm_desc){
		   .buf = give(f), .off = hr, .len = 64, .action = NETVM_ACT_OUTPUT, .dst = 2});
	assert_true(o.by.nf_drop == 1 && o.forwarded == 0);
	o = hand_back(f, (struct netvm_desc){.buf = give(f),
					     .off = hr,
					     .len = 64,
					     .action = NETVM_ACT_OUTPUT,
					     .dst = 7}); /* not linked */
	assert_true(o.by.no_route == 1);
	uint64_t tx0 = d->ports[0].stats.tx;
	o = hand_back(
	    f, (struct netvm_desc){
		   .buf = give(f), .off = hr, .len = 64, .action = NETVM_ACT_OUTPUT, .dst = 3});
	assert_true(o.dropped == 0 && o.forwarded == 0 && d->ports[0].stats.tx == tx0 + 1);
	o = hand_back(f, (struct netvm_desc){.buf = give(f),
					     .off = hr,
					     .len = 64,
					     .action = NETVM_ACT_OUTPUT,
					     .dst = NETVM_MAX_OUTPUTS});
	assert_true(o.bad_desc == 1 && o.by.bad_desc == 1);
}

/* A packet an NF makes like one it holds takes that one's place; without
 * an origin it has none.  The stock is refilled, and what was never taken
 * goes back without counting as lost. */
static void test_made_packets(void **state)
{
	struct fixture *f = *state;
	struct netvmd *d = &f->d;
	uint16_t hr = (uint16_t)d->pool.headroom;
	struct outcome o;

	uint32_t parent = give(f), child = give(f);
	d->pool.meta[child].chain = BUF_NO_CHAIN; /* as a stock buffer */
	d->pool.meta[child].in_port = NETVM_PORT_NONE;
	o = hand_back(
	    f,
	    (struct netvm_desc){
		.buf = child, .off = hr, .len = 64, .flags = NETVM_DESC_F_ORIGIN, .hash = parent});
	assert_true(o.forwarded == 1 && o.dropped == 0); /* to b: the parent's next hop */
	o = hand_back(f, (struct netvm_desc){.buf = parent, .off = hr, .len = 64});
	assert_true(o.forwarded == 1);

	child = give(f);
	d->pool.meta[child].chain = BUF_NO_CHAIN;
	d->pool.meta[child].in_port = NETVM_PORT_NONE;
	o = hand_back(f, (struct netvm_desc){.buf = child,
					     .off = hr,
					     .len = 64,
					     .flags = NETVM_DESC_F_ORIGIN,
					     .hash = 7}); /* not its own */
	assert_true(o.by.no_route == 1);

	/* A stock of 40 for slot 0, refilled by the rounds. */
	d->slots[0].stock_target = 40;
	uint32_t free0 = d->pool.nfree;
	switch_round(d);
	switch_round(d);
	assert_int_equal(free0 - d->pool.nfree, 40);
	struct netvm_ring taker;
	netvm_ring_attach(&taker, netvm_region_slot_ring(&d->region, 0, NETVM_RING_STOCK),
			  d->cfg.ring_size, 0);
	struct netvm_desc got[5];
	assert_int_equal(netvm_ring_dequeue_burst(&taker, got, 5), 5); /* the NF takes 5 */
	switch_round(d);
	assert_int_equal(free0 - d->pool.nfree, 45); /* 40 waiting, 5 held */
	struct sw_drops before = d->sw.drops;
	atomic_store(&d->slots[0].state, SLOT_GONE);
	switch_round(d);
	assert_int_equal(d->pool.nfree, free0);
	assert_int_equal(d->sw.drops.nf_gone - before.nf_gone, 5); /* only what it took */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_good_and_unroutable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_publish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_graph_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_made_packets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
