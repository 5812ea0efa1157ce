/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for nf-router's longest-prefix match tables (nfs/router/lpm.c):
 * random route sets (with /0, host routes and heavy overlap) against a
 * brute-force reference, after adds, replaces and deletes in random order,
 * at every prefix's edges and at random addresses; groups recycled when
 * the rules under them go.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nfs/router/lpm.h"

struct ref_rule {
	uint8_t key[16];
	uint8_t depth;
	uint32_t value;
	bool live;
};

struct ref {
	struct ref_rule *r;
	int n, cap;
	unsigned bytes;
};

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static bool covers(const uint8_t *p, unsigned depth, const uint8_t *a)
{
	for (unsigned i = 0; depth; i++) {
		unsigned bits = depth >= 8 ? 8 : depth;
		uint8_t m = (uint8_t)(0xff00u >> bits);
		if ((p[i] & m) != (a[i] & m))
			return false;
		depth -= bits;
	}
	return true;
}

static void mask(uint8_t *k, unsigned bytes, unsigned depth)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = depth >= 8 * (i + 1) ? 8 : depth > 8 * i ? depth - 8 * i : 0;
		k[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static uint32_t ref_lookup(const struct ref *ref, const uint8_t *a)
{
	int best = -1;

	for (int i = 0; i < ref->n; i++)
		if (ref->r[i].live && covers(ref->r[i].key, ref->r[i].depth, a) &&
		    (best < 0 || ref->r[i].depth > ref->r[best].depth))
			best = i;
	return best < 0 ? LPM_MISS : ref->r[best].value;
}

static struct ref_rule *ref_find(struct ref *ref, const uint8_t *k, uint8_t depth)
{
	for (int i = 0; i < ref->n; i++)
		if (ref->r[i].live && ref->r[i].depth == depth &&
		    !memcmp(ref->r[i].key, k, ref->bytes))
			return &ref->r[i];
	return NULL;
}

static uint32_t lookup(const struct lpm *l, const uint8_t *a, unsigned bytes)
{
	if (bytes == 4)
		return lpm_lookup4(l, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
					  (uint32_t)a[2] << 8 | a[3]);
	return lpm_lookup6(l, a);
}

/* The first and last address of the prefix, and the ones just outside. */
static void edges(const struct ref_rule *r, unsigned bytes, uint8_t out[4][16])
{
	unsigned depth = r->depth;

	if (bytes > 16)
		return;
	memcpy(out[0], r->key, bytes);
	memcpy(out[1], r->key, bytes);
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = depth >= 8 * (i + 1) ? 8 : depth > 8 * i ? depth - 8 * i : 0;
		out[1][i] |= (uint8_t) ~(0xff00u >> bits);
	}
	memcpy(out[2], out[0], bytes); /* first - 1 */
	for (int i = (int)bytes - 1; i >= 0 && out[2][i]-- == 0; i--)
		;
	memcpy(out[3], out[1], bytes); /* last + 1 */
	for (int i = (int)bytes - 1; i >= 0 && ++out[3][i] == 0; i--)
		;
}

/* Every rule's edges and @p nrand random addresses (half of them inside a
 * rule) give what the reference gives. */
static void check_all(const struct lpm *l, const struct ref *ref, int nrand)
{
	uint8_t e[4][16], a[16];

	for (int i = 0; i < ref->n; i++) {
		if (!ref->r[i].live)
			continue;
		edges(&ref->r[i], ref->bytes, e);
		for (int j = 0; j < 4; j++) {
			uint32_t want = ref_lookup(ref, e[j]), got = lookup(l, e[j], ref->bytes);
			if (want != got) {
				fprintf(stderr, "rule %d (/%u) edge %d: want %u got %u\n", i,
					ref->r[i].depth, j, want, got);
				fail();
			}
		}
	}
	for (int i = 0; i < nrand; i++) {
		for (unsigned b = 0; b < ref->bytes; b++)
			a[b] = (uint8_t)rnd();
		if (i % 2 && ref->n) {
			const struct ref_rule *r = &ref->r[rnd() % ref->n];
			uint8_t keep[16];
			memcpy(keep, r->key, ref->bytes);
			/* the rule's prefix, random host bits */
			for (unsigned b = 0; b < ref->bytes; b++) {
				unsigned bits = r->depth >= 8 * (b + 1) ? 8
						: r->depth > 8 * b	? r->depth - 8 * b
									: 0;
				uint8_t m = (uint8_t)(0xff00u >> bits);
				a[b] = (uint8_t)((keep[b] & m) | (a[b] & ~m));
			}
		}
		assert_int_equal(lookup(l, a, ref->bytes), ref_lookup(ref, a));
	}
}

/* A random prefix near one of a few bases, so that rules overlap a lot. */
static void random_prefix(unsigned bytes, const uint8_t bases[][16], int nbases, uint8_t *k,
			  uint8_t *depth)
{
	unsigned max = 8 * bytes;
	unsigned r = rnd() % 100;

	memcpy(k, bases[rnd() % nbases], bytes);
	/* flip a few random bits, mostly low ones */
	for (int f = rnd() % 3; f > 0; f--) {
		unsigned bit = max - 1 - rnd() % (r < 50 ? 12 : max);
		k[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	if (r < 3)
		*depth = 0;
	else if (r < 15)
		*depth = (uint8_t)max;
	else if (r < 30) /* around the first level's boundary */
		*depth = (uint8_t)((bytes == 4 ? 24 : 16) - 2 + rnd() % 5);
	else
		*depth = (uint8_t)(rnd() % (max + 1));
	mask(k, bytes, *depth);
}

static void random_ops(unsigned bytes, int ops, int nbases)
{
	struct lpm *l = lpm_new(bytes == 4 ? LPM_V4 : LPM_V6);
	struct ref ref = {.bytes = bytes, .cap = ops};
	uint8_t bases[16][16];

	assert_non_null(l);
	ref.r = calloc((size_t)ops, sizeof(*ref.r));
	for (int b = 0; b < nbases; b++)
		for (unsigned i = 0; i < bytes; i++)
			bases[b][i] = (uint8_t)rnd();
	for (int op = 0; op < ops; op++) {
		uint8_t k[16];
		uint8_t depth;
		unsigned what = rnd() % 10;

		if (what < 3 && ref.n) { /* delete a live rule */
			struct ref_rule *r = &ref.r[rnd() % ref.n];
			if (r->live) {
				assert_int_equal(lpm_del(l, r->key, r->depth), 0);
				r->live = false;
				assert_int_equal(lpm_del(l, r->key, r->depth), -ENOENT);
			}
		} else {
			random_prefix(bytes, bases, nbases, k, &depth);
			uint32_t v = rnd() % 1000;
			struct ref_rule *old = ref_find(&ref, k, depth);
			if (old) {
				uint32_t tag = 0;
				assert_int_equal(lpm_add(l, k, depth, v, 7, false, &tag), -EEXIST);
				assert_int_equal(tag, 1);
				assert_int_equal(lpm_add(l, k, depth, v, 1, true, NULL),
						 0); /* replace */
				old->value = v;
			} else {
				/* host bits set in the key are ignored */
				uint8_t dirty[16];
				memcpy(dirty, k, bytes);
				if (depth < 8 * bytes)
					dirty[bytes - 1] |= 1;
				assert_int_equal(lpm_add(l, dirty, depth, v, 1, false, NULL), 0);
				struct ref_rule *r = &ref.r[ref.n++];
				memcpy(r->key, k, bytes);
				r->depth = depth;
				r->value = v;
				r->live = true;
			}
		}
		if (op % 50 == 49)
			check_all(l, &ref, 200);
	}
	check_all(l, &ref, 2000);
	int live = 0;
	for (int i = 0; i < ref.n; i++)
		live += ref.r[i].live;
	assert_int_equal(lpm_rules(l), live);

	/* Delete everything: every group is folded back and recycled. */
	for (int i = ref.n - 1; i >= 0; i--) {
		if (!ref.r[i].live)
			continue;
		assert_int_equal(lpm_del(l, ref.r[i].key, ref.r[i].depth), 0);
		ref.r[i].live = false;
		if (i % 16 == 0)
			check_all(l, &ref, 50);
	}
	assert_int_equal(lpm_rules(l), 0);
	assert_int_equal(lpm_groups(l), 0);
	uint8_t a[16] = {0};
	assert_int_equal(lookup(l, a, bytes), LPM_MISS);
	free(ref.r);
	lpm_free(l);
}

static void test_v4_random(void **state)
{
	for (int round = 0; round < 6; round++)
		random_ops(4, 600, 1 + round * 2);
}

static void test_v6_random(void **state)
{
	for (int round = 0; round < 6; round++)
		random_ops(16, 600, 1 + round * 2);
}

static void test_v4_basics(void **state)
{
	struct lpm *l = lpm_new(LPM_V4);
	const uint8_t zero[4] = {0}, net10[4] = {10, 0, 0, 0}, host[4] = {10, 1, 2, 3};
	const uint8_t net24[4] = {10, 1, 2, 0}, net25[4] = {10, 1, 2, 128};
	uint32_t v, tag;

	assert_non_null(l);
	assert_int_equal(lpm_lookup4(l, 0x0a010203), LPM_MISS);
	assert_int_equal(lpm_add(l, zero, 0, 1, 10, false, NULL), 0); /* default */
	assert_int_equal(lpm_lookup4(l, 0x0a010203), 1);
	assert_int_equal(lpm_lookup4(l, 0xffffffff), 1);
	assert_int_equal(lpm_add(l, host, 32, 4, 13, false, NULL), 0);
	assert_int_equal(lpm_add(l, net10, 8, 2, 11, false, NULL), 0); /* shorter after longer */
	assert_int_equal(lpm_add(l, net25, 25, 5, 14, false, NULL), 0);
	assert_int_equal(lpm_add(l, net24, 24, 3, 12, false, NULL), 0);
	assert_int_equal(lpm_lookup4(l, 0x0a010203), 4);
	assert_int_equal(lpm_lookup4(l, 0x0a010204), 3);
	assert_int_equal(lpm_lookup4(l, 0x0a010280), 5);
	assert_int_equal(lpm_lookup4(l, 0x0a0102ff), 5);
	assert_int_equal(lpm_lookup4(l, 0x0a010300), 2);
	assert_int_equal(lpm_lookup4(l, 0x0b000000), 1);
	assert_int_equal(lpm_rule_get(l, net24, 24, &v, &tag), 0);
	assert_int_equal(v, 3);
	assert_int_equal(tag, 12);
	assert_int_equal(lpm_rule_get(l, net24, 23, &v, &tag), -ENOENT);
	assert_int_equal(lpm_add(l, net24, 33, 1, 0, false, NULL), -EINVAL);
	assert_int_equal(lpm_add(l, net24, 24, LPM_VALUE_MAX + 1, 0, false, NULL), -EINVAL);
	/* the /24 goes: its entries fall back to the /8, the /32 and /25 stay */
	assert_int_equal(lpm_del(l, net24, 24), 0);
	assert_int_equal(lpm_lookup4(l, 0x0a010204), 2);
	assert_int_equal(lpm_lookup4(l, 0x0a010203), 4);
	assert_int_equal(lpm_lookup4(l, 0x0a010280), 5);
	assert_int_equal(lpm_del(l, zero, 0), 0);
	assert_int_equal(lpm_lookup4(l, 0x0b000000), LPM_MISS);
	assert_int_equal(lpm_del(l, host, 32), 0);
	assert_int_equal(lpm_del(l, net25, 25), 0);
	assert_int_equal(lpm_groups(l), 0);
	assert_int_equal(lpm_lookup4(l, 0x0a010280), 2);
	lpm_free(l);
}

static void test_v6_basics(void **state)
{
	struct lpm *l = lpm_new(LPM_V6);
	uint8_t p48[16] = {0xfd, 0x01, 0, 0, 0, 0x10}, h[16] = {0xfd, 0x01, 0, 0, 0, 0x10};
	uint8_t ones[16];

	h[15] = 1;
	memset(ones, 0xff, 16);
	assert_int_equal(lpm_add(l, p48, 48, 7, 0, false, NULL), 0);
	assert_int_equal(lpm_add(l, h, 128, 9, 0, false, NULL), 0);
	assert_int_equal(lpm_add(l, ones, 128, 10, 0, false, NULL), 0);
	assert_int_equal(lpm_lookup6(l, h), 9);
	h[15] = 2;
	assert_int_equal(lpm_lookup6(l, h), 7);
	assert_int_equal(lpm_lookup6(l, ones), 10);
	ones[15] = 0xfe;
	assert_int_equal(lpm_lookup6(l, ones), LPM_MISS);
	h[5] = 0x11;
	assert_int_equal(lpm_lookup6(l, h), LPM_MISS);
	lpm_free(l);
}

static uint32_t mask4(unsigned depth)
{
	return depth ? ~0u << (32 - depth) : 0;
}

/* Many routes, as a full table would have: the same answers as a sorted
 * scan would give for their own addresses. */
static void test_v4_many(void **state)
{
	struct lpm *l = lpm_new(LPM_V4);
	enum { N = 200000 };
	uint32_t *addr = malloc(N * sizeof(uint32_t));
	uint8_t *depth = malloc(N);

	for (int i = 0; i < N; i++) {
		depth[i] = (uint8_t)(16 + i % 17); /* /16 .. /32 */
		addr[i] = rnd() & mask4(depth[i]);
		uint8_t k[4] = {addr[i] >> 24, addr[i] >> 16, addr[i] >> 8, addr[i]};
		uint32_t tag;
		int rc = lpm_add(l, k, depth[i], (uint32_t)i, (uint32_t)i, false, &tag);
		if (rc == -EEXIST)
			depth[i] = 0xff; /* a duplicate: not ours */
		else
			assert_int_equal(rc, 0);
	}
	/* The most specific rule at its own first address is itself, unless
	 * a longer one starts there too. */
	for (int i = 0; i < N; i++) {
		if (depth[i] == 0xff)
			continue;
		uint32_t v = lpm_lookup4(l, addr[i]);
		assert_true(v != LPM_MISS);
		if (v != (uint32_t)i) {
			int j = (int)v;
			assert_true(depth[j] > depth[i]);
			assert_int_equal(addr[j] & mask4(depth[i]), addr[i]);
		}
	}
	/* the burst lookup gives what one at a time gives, any burst size */
	for (int i = 0; i + 64 <= N; i += 64) {
		uint32_t a[64], out[64];
		unsigned n = 1 + (unsigned)(i / 64) % 64;
		for (unsigned j = 0; j < n; j++)
			a[j] = j % 3 ? addr[i + j] : rnd();
		lpm_lookup4_bulk(l, a, out, n);
		for (unsigned j = 0; j < n; j++)
			assert_int_equal(out[j], lpm_lookup4(l, a[j]));
	}
	free(addr);
	free(depth);
	lpm_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4_basics), cmocka_unit_test(test_v6_basics),
	    cmocka_unit_test(test_v4_random), cmocka_unit_test(test_v6_random),
	    cmocka_unit_test(test_v4_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
