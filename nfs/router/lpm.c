/* SPDX-License-Identifier: BSD-3-Clause */
/* Longest-prefix match: multibit trie with prefix expansion (see lpm.h). */
#include "lpm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GRP_SIZE 256
#define GRP_MAX	 (LPM_IDX_MASK + 1u)

static inline uint8_t ent_depth(uint32_t e)
{
	return (uint8_t)(e >> LPM_DEPTH_SHIFT);
}

static inline uint32_t ent_make(uint8_t depth, uint32_t value)
{
	return LPM_VALID | (uint32_t)depth << LPM_DEPTH_SHIFT | value;
}

/* The key with the bits past @p depth cleared. */
static void key_mask(uint8_t *out, const uint8_t *key, unsigned bytes, unsigned depth)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = depth >= 8 * (i + 1) ? 8 : depth > 8 * i ? depth - 8 * i : 0;
		out[i] = bits ? key[i] & (uint8_t)(0xff00u >> bits) : 0;
	}
}

/* ---- the rules: open addressing, linear probing, backward-shift delete ---- */

/* Slot: value u32, tag u32, depth u8, used u8, 2 bytes pad, key. */
#define SLOT_VALUE 0
#define SLOT_TAG   4
#define SLOT_DEPTH 8
#define SLOT_USED  9
#define SLOT_KEY   12

static uint32_t rule_hash(const uint8_t *key, unsigned bytes, uint8_t depth)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ depth;

	for (unsigned i = 0; i < bytes; i += 4) {
		uint32_t w;
		memcpy(&w, key + i, 4);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 29));
}

static inline uint8_t *slot_at(const struct lpm_rules *r, uint32_t i)
{
	return r->slots + (size_t)i * r->slot_size;
}

/* The slot holding key/depth (masked), or the empty slot where it would go. */
static uint8_t *rule_find(const struct lpm *l, const uint8_t *key, uint8_t depth, bool *found)
{
	const struct lpm_rules *r = &l->rules;
	uint32_t i = rule_hash(key, l->key_bytes, depth) & (r->cap - 1);

	for (;; i = (i + 1) & (r->cap - 1)) {
		uint8_t *s = slot_at(r, i);
		if (!s[SLOT_USED]) {
			*found = false;
			return s;
		}
		if (s[SLOT_DEPTH] == depth && !memcmp(s + SLOT_KEY, key, l->key_bytes)) {
			*found = true;
			return s;
		}
	}
}

static int rules_grow(struct lpm *l)
{
	struct lpm_rules *r = &l->rules, old = *r;
	uint32_t cap = old.cap ? old.cap * 2 : 64;

	if (cap < old.cap)
		return -ENOMEM;
	r->slots = calloc(cap, r->slot_size);
	if (!r->slots) {
		*r = old;
		return -ENOMEM;
	}
	r->cap = cap;
	for (uint32_t i = 0; i < old.cap; i++) {
		uint8_t *s = old.slots + (size_t)i * old.slot_size;
		bool found;
		if (s[SLOT_USED])
			memcpy(rule_find(l, s + SLOT_KEY, s[SLOT_DEPTH], &found), s, r->slot_size);
	}
	free(old.slots);
	return 0;
}

static void rule_remove(struct lpm *l, uint8_t *s)
{
	struct lpm_rules *r = &l->rules;
	uint32_t hole = (uint32_t)((s - r->slots) / r->slot_size), i = hole;

	/* Backward shift: move up every later entry of the cluster whose home
	 * is not between the hole and it. */
	for (;;) {
		i = (i + 1) & (r->cap - 1);
		uint8_t *t = slot_at(r, i);
		if (!t[SLOT_USED])
			break;
		uint32_t home = rule_hash(t + SLOT_KEY, l->key_bytes, t[SLOT_DEPTH]) & (r->cap - 1);
		bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
		if (stays)
			continue;
		memcpy(slot_at(r, hole), t, r->slot_size);
		hole = i;
	}
	memset(slot_at(r, hole), 0, r->slot_size);
	r->n--;
}

int lpm_rule_get(const struct lpm *l, const uint8_t *key, uint8_t depth, uint32_t *value,
		 uint32_t *tag)
{
	uint8_t k[16];
	bool found;

	if (depth > l->max_depth || !l->rules.cap)
		return -ENOENT;
	key_mask(k, key, l->key_bytes, depth);
	const uint8_t *s = rule_find(l, k, depth, &found);
	if (!found)
		return -ENOENT;
	if (value)
		memcpy(value, s + SLOT_VALUE, 4);
	if (tag)
		memcpy(tag, s + SLOT_TAG, 4);
	return 0;
}

void lpm_foreach(const struct lpm *l,
		 void (*fn)(const uint8_t *key, uint8_t depth, uint32_t value, void *arg),
		 void *arg)
{
	for (uint32_t i = 0; i < l->rules.cap; i++) {
		const uint8_t *s = slot_at(&l->rules, i);
		uint32_t v;
		if (!s[SLOT_USED])
			continue;
		memcpy(&v, s + SLOT_VALUE, 4);
		fn(s + SLOT_KEY, s[SLOT_DEPTH], v, arg);
	}
}

/* ---- the table ------------------------------------------------------------ */

static void *big_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Random lookups over 64 MiB: transparent huge pages save a TLB miss
	 * per lookup where the kernel allows them. */
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

/* The groups: mapped, not malloc'ed, so they can be in huge pages too, and
 * grown by mremap (no copy). */
static uint32_t *grp_grow(uint32_t *old, uint32_t old_cap, uint32_t cap)
{
	size_t ob = (size_t)old_cap * GRP_SIZE * sizeof(uint32_t);
	size_t nb = (size_t)cap * GRP_SIZE * sizeof(uint32_t);
	void *p;

	if (!old)
		return big_alloc(nb);
	p = mremap(old, ob, nb, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, nb, MADV_HUGEPAGE);
	return p;
}

struct lpm *lpm_new(enum lpm_family family)
{
	struct lpm *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->key_bytes = family == LPM_V4 ? 4 : 16;
	l->first_bits = family == LPM_V4 ? 24 : 16;
	l->max_depth = (uint8_t)(8 * l->key_bytes);
	l->def = LPM_MISS;
	l->rules.slot_size = SLOT_KEY + l->key_bytes;
	l->tbl_bytes = ((size_t)1 << l->first_bits) * sizeof(uint32_t);
	l->tbl = big_alloc(l->tbl_bytes);
	if (!l->tbl) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

void lpm_free(struct lpm *l)
{
	if (!l)
		return;
	munmap(l->tbl, l->tbl_bytes);
	if (l->grp)
		munmap(l->grp, (size_t)l->grp_cap * GRP_SIZE * sizeof(uint32_t));
	free(l->grp_free);
	free(l->rules.slots);
	free(l);
}

size_t lpm_memory(const struct lpm *l)
{
	return l->tbl_bytes + (size_t)l->grp_cap * GRP_SIZE * 4 + (size_t)l->free_cap * 4 +
	       (size_t)l->rules.cap * l->rules.slot_size;
}

/* Where an entry is: in the first table, or in the groups (which move when
 * they grow, so no pointer into them is kept across an allocation). */
struct loc {
	bool in_grp;
	size_t off;
};

static inline uint32_t *at(const struct lpm *l, struct loc w)
{
	return w.in_grp ? &l->grp[w.off] : &l->tbl[w.off];
}

/* Make the entry at @p w point to a group (a new one holding 256 copies of
 * the entry when it is not one yet).  @return the group or -errno. */
static int64_t group_of(struct lpm *l, struct loc w)
{
	uint32_t e = *at(l, w), g;

	if (e & LPM_EXT)
		return e & LPM_IDX_MASK;
	if (l->nfree) {
		g = l->grp_free[--l->nfree];
	} else {
		if (l->grp_top == l->grp_cap) {
			if (l->grp_cap == GRP_MAX)
				return -ENOSPC;
			uint32_t cap = l->grp_cap ? l->grp_cap * 2 : 64;
			if (cap > GRP_MAX)
				cap = GRP_MAX;
			uint32_t *n = grp_grow(l->grp, l->grp_cap, cap);
			if (!n)
				return -ENOMEM;
			l->grp = n;
			l->grp_cap = cap;
		}
		g = l->grp_top++;
	}
	uint32_t *ge = &l->grp[(size_t)g * GRP_SIZE];
	for (unsigned i = 0; i < GRP_SIZE; i++)
		ge[i] = e; /* expansion of the shorter rule (or nothing) */
	*at(l, w) = LPM_EXT | g;
	return g;
}

static int group_release(struct lpm *l, uint32_t g)
{
	if (l->nfree == l->free_cap) {
		uint32_t cap = l->free_cap ? l->free_cap * 2 : 64;
		uint32_t *n = realloc(l->grp_free, (size_t)cap * sizeof(uint32_t));
		if (!n)
			return -ENOMEM; /* the group is only not recycled */
		l->grp_free = n;
		l->free_cap = cap;
	}
	l->grp_free[l->nfree++] = g;
	return 0;
}

/* Add: overwrite the entries that a rule of @p depth or shorter wrote. */
static void set_entry(struct lpm *l, uint32_t *e, uint8_t depth, uint32_t val)
{
	if (*e & LPM_EXT) {
		uint32_t *ge = &l->grp[(size_t)(*e & LPM_IDX_MASK) * GRP_SIZE];
		for (unsigned i = 0; i < GRP_SIZE; i++)
			set_entry(l, &ge[i], depth, val);
	} else if (!(*e & LPM_VALID) || ent_depth(*e) <= depth) {
		*e = val;
	}
}

/* Fold group g back into its parent entry when its entries are all equal. */
static void try_fold(struct lpm *l, uint32_t *parent)
{
	uint32_t g = *parent & LPM_IDX_MASK;
	const uint32_t *ge = &l->grp[(size_t)g * GRP_SIZE];

	if (ge[0] & LPM_EXT)
		return;
	for (unsigned i = 1; i < GRP_SIZE; i++)
		if (ge[i] != ge[0])
			return;
	/* All equal: one rule (or none) covers the whole group, so its depth
	 * fits the parent level. */
	if (group_release(l, g) == 0)
		*parent = ge[0];
}

/* Delete: the entries the rule of @p depth wrote get @p repl. */
static void del_entry(struct lpm *l, uint32_t *e, uint8_t depth, uint32_t repl)
{
	if (*e & LPM_EXT) {
		uint32_t *ge = &l->grp[(size_t)(*e & LPM_IDX_MASK) * GRP_SIZE];
		for (unsigned i = 0; i < GRP_SIZE; i++)
			del_entry(l, &ge[i], depth, repl);
		try_fold(l, e);
	} else if ((*e & LPM_VALID) && ent_depth(*e) == depth) {
		*e = repl;
	}
}

static uint32_t first_index(const struct lpm *l, const uint8_t *k)
{
	return l->first_bits == 24 ? (uint32_t)k[0] << 16 | (uint32_t)k[1] << 8 | k[2]
				   : (uint32_t)k[0] << 8 | k[1];
}

/* The entries of the masked key @p k at @p depth: the range [*start,
 * *start + *count) of the level where depth ends, reached through groups
 * (created when @p create) whose parents are in @p path (deepest last).
 * @return the number of groups walked (path length), or -errno. */
static int walk(struct lpm *l, const uint8_t *k, uint8_t depth, bool create, struct loc *path,
		struct loc *range, uint32_t *count)
{
	uint32_t idx = first_index(l, k);
	unsigned end = l->first_bits, byte = l->first_bits / 8;
	int n = 0;

	if (depth <= end) {
		*count = 1u << (end - depth);
		*range = (struct loc){false, idx & ~(*count - 1)};
		return 0;
	}
	struct loc w = {false, idx};
	for (;;) {
		int64_t g;
		if (create) {
			g = group_of(l, w);
			if (g < 0)
				return (int)g;
		} else {
			uint32_t e = *at(l, w);
			if (!(e & LPM_EXT))
				return -ENOENT;
			g = e & LPM_IDX_MASK;
		}
		path[n++] = w;
		end += 8;
		size_t base = (size_t)g * GRP_SIZE;
		if (depth <= end) {
			*count = 1u << (end - depth);
			*range = (struct loc){true, base + (k[byte] & ~(*count - 1))};
			return n;
		}
		w = (struct loc){true, base + k[byte]};
		byte++;
	}
}

int lpm_add(struct lpm *l, const uint8_t *key, uint8_t depth, uint32_t value, uint32_t tag,
	    bool replace, uint32_t *old_tag)
{
	struct loc path[16], range;
	uint8_t k[16];
	uint32_t count;
	bool found;

	if (depth > l->max_depth || value > LPM_VALUE_MAX)
		return -EINVAL;
	key_mask(k, key, l->key_bytes, depth);
	if ((l->rules.n + 1) * 2 > l->rules.cap && rules_grow(l) < 0)
		return -ENOMEM;
	uint8_t *s = rule_find(l, k, depth, &found);
	if (found && !replace) {
		if (old_tag)
			memcpy(old_tag, s + SLOT_TAG, 4);
		return -EEXIST;
	}
	if (depth > 0) {
		/* Groups first: if they cannot be had, nothing has changed but
		 * perhaps a few more groups expanding the same entries. */
		int n = walk(l, k, depth, true, path, &range, &count);
		if (n < 0)
			return n;
		uint32_t val = ent_make(depth, value);
		uint32_t *e = at(l, range);
		for (uint32_t i = 0; i < count; i++) {
			/* inline the common case: a plain entry of a shorter rule */
			if (!(e[i] & LPM_EXT) && (!(e[i] & LPM_VALID) || ent_depth(e[i]) <= depth))
				e[i] = val;
			else if (e[i] & LPM_EXT)
				set_entry(l, &e[i], depth, val);
		}
	} else {
		l->def = value;
	}
	if (!found) {
		memcpy(s + SLOT_KEY, k, l->key_bytes);
		s[SLOT_DEPTH] = depth;
		s[SLOT_USED] = 1;
		l->rules.n++;
	}
	memcpy(s + SLOT_VALUE, &value, 4);
	memcpy(s + SLOT_TAG, &tag, 4);
	return 0;
}

int lpm_del(struct lpm *l, const uint8_t *key, uint8_t depth)
{
	struct loc path[16], range;
	uint8_t k[16], pk[16];
	uint32_t count, repl = 0, v;
	bool found;

	if (depth > l->max_depth || !l->rules.cap)
		return -ENOENT;
	key_mask(k, key, l->key_bytes, depth);
	uint8_t *s = rule_find(l, k, depth, &found);
	if (!found)
		return -ENOENT;
	rule_remove(l, s);
	if (depth == 0) {
		l->def = LPM_MISS;
		return 0;
	}
	/* The entries fall back to the longest shorter rule that covers them
	 * (the /0 is not in the table: invalid entries mean it). */
	for (int d = depth - 1; d >= 1; d--) {
		key_mask(pk, k, l->key_bytes, (unsigned)d);
		if (lpm_rule_get(l, pk, (uint8_t)d, &v, NULL) == 0) {
			repl = ent_make((uint8_t)d, v);
			break;
		}
	}
	int n = walk(l, k, depth, false, path, &range, &count);
	if (n < 0)
		return 0; /* cannot happen: the rule's groups exist */
	for (uint32_t i = 0; i < count; i++) {
		struct loc w = {range.in_grp, range.off + i};
		del_entry(l, at(l, w), depth, repl);
	}
	while (n-- > 0) {
		uint32_t *p = at(l, path[n]);
		if (*p & LPM_EXT)
			try_fold(l, p);
	}
	return 0;
}
