/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Longest-prefix match tables for nf-router: a multibit trie with
 * controlled prefix expansion, as DPDK's rte_lpm (DIR-24-8) and rte_lpm6.
 *
 * IPv4 (lpm_new(LPM_V4)) is DIR-24-8: a first table of 2^24 entries indexed
 * by the top 24 bits of the address (one memory access for every prefix up
 * to /24), and groups of 256 entries indexed by the last byte for longer
 * prefixes.  IPv6 (LPM_V6) has a first table of 2^16 entries and then one
 * group level per byte (at most 15 accesses for a /128, 5 for a /48).
 *
 *   tbl[top bits] --EXT--> grp[g][next byte] --EXT--> grp[g'][next byte] ...
 *
 * Every entry is 32 bits: VALID, EXT (the low bits are a group index) and
 * the depth of the rule that wrote it, so a shorter prefix added later never
 * overwrites a longer one (prefix expansion in any order), and deleting a
 * rule rewrites exactly its entries with the next shorter covering rule.  A
 * group whose 256 entries become equal again is folded back into its parent
 * entry and recycled.  The default route (/0) is not written into the table:
 * it is the value of every lookup that finds no valid entry.
 *
 * The rules themselves are kept in a hash table keyed by (prefix, depth):
 * that finds the covering rule on delete and duplicates on add.
 *
 * Thread safety: none.  nf-router builds a new table beside the one the
 * packet path reads and swaps pointers; a table is never changed while
 * another thread looks it up.
 */
#ifndef NF_ROUTER_LPM_H
#define NF_ROUTER_LPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entry layout. */
#define LPM_VALID	0x80000000u
#define LPM_EXT		0x40000000u
#define LPM_DEPTH_SHIFT 22
#define LPM_IDX_MASK	0x003fffffu

/** The largest value a rule can carry (22 bits), and the lookup result when
 *  no rule matches. */
#define LPM_VALUE_MAX LPM_IDX_MASK
#define LPM_MISS      UINT32_MAX

enum lpm_family { LPM_V4 = 4, LPM_V6 = 6 };

struct lpm_rules {
	uint8_t *slots; /* cap slots of slot_size bytes */
	uint32_t cap;	/* a power of two, 0 before the first rule */
	uint32_t n;	/* rules stored */
	uint32_t slot_size;
};

struct lpm {
	uint32_t *tbl;	  /* first level: 1 << first_bits entries */
	uint32_t *grp;	  /* groups of 256 entries, grp_cap of them allocated */
	uint32_t grp_top; /* groups ever handed out (the rest of grp_cap is unused) */
	uint32_t grp_cap;
	uint32_t *grp_free; /* recycled groups (a stack) */
	uint32_t nfree, free_cap;
	uint32_t def;	    /* the /0 rule's value, LPM_MISS when there is none */
	uint8_t key_bytes;  /* 4 or 16 */
	uint8_t first_bits; /* 24 or 16 */
	uint8_t max_depth;  /* 32 or 128 */
	size_t tbl_bytes;
	struct lpm_rules rules;
};

/** A new empty table, or NULL (errno ENOMEM). */
struct lpm *lpm_new(enum lpm_family family);
void lpm_free(struct lpm *l);

/**
 * Add rule @p key/@p depth -> @p value (key in network byte order, 4 or 16
 * bytes; bits past @p depth are ignored).  @p tag is kept with the rule (the
 * route file's line).  A rule with that prefix already there is replaced
 * when @p replace, else it is an error.
 * @return 0; -EEXIST (already there, and *old_tag its tag when old_tag is not
 *         NULL); -EINVAL (depth or value out of range); -ENOMEM / -ENOSPC
 *         (more than 2^22 groups).  On error the table is unchanged.
 */
int lpm_add(struct lpm *l, const uint8_t *key, uint8_t depth, uint32_t value, uint32_t tag,
	    bool replace, uint32_t *old_tag);

/** Delete rule @p key/@p depth.  @return 0 or -ENOENT. */
int lpm_del(struct lpm *l, const uint8_t *key, uint8_t depth);

/** The value of rule @p key/@p depth exactly (not a lookup).
 *  @return 0, or -ENOENT. */
int lpm_rule_get(const struct lpm *l, const uint8_t *key, uint8_t depth, uint32_t *value,
		 uint32_t *tag);

/** Call @p fn for every rule (in no particular order). */
void lpm_foreach(const struct lpm *l,
		 void (*fn)(const uint8_t *key, uint8_t depth, uint32_t value, void *arg),
		 void *arg);

static inline uint32_t lpm_rules(const struct lpm *l)
{
	return l->rules.n;
}

/** Groups in use (for statistics). */
static inline uint32_t lpm_groups(const struct lpm *l)
{
	return l->grp_top - l->nfree;
}

/** Bytes the table and its rules take. */
size_t lpm_memory(const struct lpm *l);

/** Longest-prefix match of IPv4 address @p a (host byte order): the value
 *  of the longest rule that covers it, or LPM_MISS. */
static inline uint32_t lpm_lookup4(const struct lpm *l, uint32_t a)
{
	uint32_t e = l->tbl[a >> 8];

	if (e & LPM_EXT)
		e = l->grp[((size_t)(e & LPM_IDX_MASK) << 8) | (a & 0xff)];
	return (e & LPM_VALID) ? (e & LPM_IDX_MASK) : l->def;
}

/** lpm_lookup4() of @p n (at most 64) addresses at once: the first-level
 *  entries of all are prefetched, then the groups of those that need one,
 *  so their cache and TLB misses overlap (as DPDK's rte_fib lookup_bulk). */
static inline void lpm_lookup4_bulk(const struct lpm *l, const uint32_t *a, uint32_t *out,
				    unsigned n)
{
	enum { AHEAD = 8 }; /* misses in flight: about the line fill buffers */
	uint32_t e[64];

	for (unsigned i = 0; i < n && i < AHEAD; i++)
		__builtin_prefetch(&l->tbl[a[i] >> 8]);
	for (unsigned i = 0; i < n; i++) {
		if (i + AHEAD < n)
			__builtin_prefetch(&l->tbl[a[i + AHEAD] >> 8]);
		e[i] = l->tbl[a[i] >> 8];
		if (e[i] & LPM_EXT)
			__builtin_prefetch(
			    &l->grp[((size_t)(e[i] & LPM_IDX_MASK) << 8) | (a[i] & 0xff)]);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t x = e[i];
		if (x & LPM_EXT)
			x = l->grp[((size_t)(x & LPM_IDX_MASK) << 8) | (a[i] & 0xff)];
		out[i] = (x & LPM_VALID) ? (x & LPM_IDX_MASK) : l->def;
	}
}

/** Longest-prefix match of IPv6 address @p a (16 bytes, network order). */
static inline uint32_t lpm_lookup6(const struct lpm *l, const uint8_t *a)
{
	uint32_t e = l->tbl[(uint32_t)a[0] << 8 | a[1]];

	/* Groups exist only down to the last byte: the walk ends by i = 15. */
	for (unsigned i = 2; e & LPM_EXT; i++)
		e = l->grp[((size_t)(e & LPM_IDX_MASK) << 8) | a[i]];
	return (e & LPM_VALID) ? (e & LPM_IDX_MASK) : l->def;
}

#endif
