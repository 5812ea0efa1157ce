/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mapping table: a pool of max_mappings preallocated struct nat_map, two
 * indexes, and expiry.
 *
 * Inside index, (proto, inside address, inside port) -> mapping: ck_rhs from
 * Concurrency Kit (libck-dev), a Robin Hood open-addressing hash set of
 * pointers with backward-shift deletion (no tombstones, so churn does not
 * lengthen probes).  It is created at nat_table_init() with room for twice
 * max_mappings (ck_rhs grows past a 50% load), and its allocator refuses
 * every request after that: ck_rhs only allocates to grow, so a put that
 * would need to grow (the load, or a probe sequence past its limit: only
 * with a hash an attacker could aim, and the hash is keyed with a random
 * seed) fails instead, and the packet is dropped and counted.  No packet
 * ever calls malloc.  Cost: a lookup is about 150 instructions in ck_rhs
 * (its SPMC generation check, probe-bound table and compare callback;
 * Debian's build has no pointer packing), some 40% of the handler's 380 per
 * packet (bench/RESULTS-nat.md).  A table of our own could do it in a third
 * of that; ck_rhs is bounded, tombstone-free and maintained, so it is used
 * until the NAT's cost matters more than that.
 *
 * Outside index, (proto, public address, external port) -> mapping: not a
 * hash table but a direct array with one slot per port (256 KiB per protocol
 * and public address): one load per inbound packet, and the same array is
 * the port allocator's "is this port free?".
 *
 * Expiry: each mapping holds the time it expires; every packet that
 * refreshes it moves that time.  The timer (nat_tick(), every
 * NAT_EXPIRY_TICK ms) looks at 1/NAT_EXPIRY_SWEEP of the slots, so the whole
 * table is swept once a second at a bounded cost per tick (max_mappings / 10
 * slots of 24 bytes), and a mapping is freed at most ~1 s after it expires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "nat.h"

/* ck_rhs allocates only to create or grow its map; only nat_table_init()
 * lets it.  (ck_malloc has no context pointer, hence the static flag; the
 * NF has one table per process.) */
static bool may_alloc;

static void *ck_alloc(size_t n)
{
	return may_alloc ? malloc(n) : NULL;
}

static void *ck_realloc(void *p, size_t old, size_t n, bool defer)
{
	(void)old;
	(void)defer;
	return may_alloc ? realloc(p, n) : NULL;
}

static void ck_release(void *p, size_t n, bool defer)
{
	(void)n;
	(void)defer;
	free(p);
}

static struct ck_malloc ck_ops = {.malloc = ck_alloc, .realloc = ck_realloc, .free = ck_release};

/* A keyed 64-bit mix of the inside key (murmur3's finaliser on the key xor
 * the seed): fast on the packet path; the seed is random per process. */
static inline unsigned long key_hash(uint64_t seed, int proto, uint32_t addr, uint16_t port)
{
	uint64_t k = ((uint64_t)addr << 32 | (uint64_t)port << 8 | (uint64_t)proto) ^ seed;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return (unsigned long)k;
}

static unsigned long rhs_hash(const void *obj, unsigned long seed)
{
	const struct nat_map *m = obj;
	return key_hash(seed, m->proto - 1, m->in_addr, m->in_port);
}

static bool rhs_same(const void *a, const void *b)
{
	const struct nat_map *x = a, *y = b;
	return x->in_addr == y->in_addr && x->in_port == y->in_port && x->proto == y->proto;
}

static inline uint32_t port_slot(const struct nat_table *t, int proto, int ext, uint16_t port)
{
	return (((uint32_t)proto * t->n_pub + (uint32_t)ext) << 16) | ntohs(port);
}

int nat_table_init(struct nat_table *t, const struct nat_config *cfg)
{
	unsigned long cap = 16;

	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->max = cfg->max_mappings;
	t->n_pub = (uint32_t)cfg->n_public;
	t->maps = calloc(t->max, sizeof(*t->maps));
	t->free_list = malloc(sizeof(uint32_t) * t->max);
	t->by_port = calloc((size_t)NAT_NPROTO * t->n_pub << 16, sizeof(uint32_t));
	if (!t->maps || !t->free_list || !t->by_port)
		goto fail;
	for (uint32_t i = 0; i < t->max; i++)
		t->free_list[i] = t->max - 1 - i; /* slot 0 first */
	t->n_free = t->max;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	/* Under ck_rhs's 50% load factor with max_mappings in it. */
	while (cap < 2ul * t->max + 2)
		cap <<= 1;
	may_alloc = true;
	bool ok = ck_rhs_init(&t->in, CK_RHS_MODE_OBJECT | CK_RHS_MODE_SPMC, rhs_hash, rhs_same,
			      &ck_ops, cap, t->seed);
	may_alloc = false;
	if (!ok)
		goto fail;
	nat_alloc_init(&t->alloc);
	return 0;
fail:
	free(t->maps);
	free(t->free_list);
	free(t->by_port);
	memset(t, 0, sizeof(*t));
	return -ENOMEM;
}

void nat_table_free(struct nat_table *t)
{
	if (!t->maps)
		return;
	ck_rhs_destroy(&t->in);
	free(t->maps);
	free(t->free_list);
	free(t->by_port);
	memset(t, 0, sizeof(*t));
}

struct nat_map *nat_lookup_in(struct nat_table *t, int proto, uint32_t addr, uint16_t port)
{
	struct nat_map k = {.in_addr = addr, .in_port = port, .proto = (uint8_t)(proto + 1)};

	return ck_rhs_get(&t->in, key_hash(t->seed, proto, addr, port), &k);
}

struct nat_map *nat_create(struct nat_table *t, int proto, uint32_t addr, uint16_t port,
			   uint32_t raddr, uint16_t rport, enum nat_counter *why)
{
	if (!t->n_free) {
		*why = NAT_C_drop_table_full;
		return NULL;
	}
	/* Paired pooling (RFC 4787 REQ-2): an inside address always gets the
	 * same public address. */
	int ext = (int)((key_hash(t->seed, 0, addr, 0) >> 16) % t->n_pub);
	int p = nat_alloc_port(t, proto, ext, raddr, rport);
	if (p < 0) {
		*why = NAT_C_drop_exhausted;
		return NULL;
	}
	uint32_t i = t->free_list[t->n_free - 1];
	struct nat_map *m = &t->maps[i];
	*m = (struct nat_map){.in_addr = addr,
			      .in_port = port,
			      .ext_port = htons((uint16_t)p),
			      .proto = (uint8_t)(proto + 1),
			      .ext = (uint8_t)ext};
	if (!ck_rhs_put_unique(&t->in, key_hash(t->seed, proto, addr, port), m)) {
		/* Only when it would have to grow: never under max_mappings with
		 * an unaimed hash.  Counted as full. */
		m->proto = 0;
		*why = NAT_C_drop_table_full;
		return NULL;
	}
	t->n_free--;
	t->by_port[port_slot(t, proto, ext, m->ext_port)] = i + 1;
	t->used[proto][ext]++;
	return m;
}

void nat_remove(struct nat_table *t, struct nat_map *m)
{
	int proto = m->proto - 1;

	ck_rhs_remove(&t->in, key_hash(t->seed, proto, m->in_addr, m->in_port), m);
	t->by_port[port_slot(t, proto, m->ext, m->ext_port)] = 0;
	t->used[proto][m->ext]--;
	m->proto = 0;
	t->free_list[t->n_free++] = (uint32_t)(m - t->maps);
}

uint32_t nat_expire(struct nat_table *t, uint64_t now)
{
	uint32_t n = (t->max + NAT_EXPIRY_SWEEP - 1) / NAT_EXPIRY_SWEEP, freed = 0;

	for (uint32_t k = 0; k < n; k++) {
		struct nat_map *m = &t->maps[t->sweep];
		if (m->proto && m->expire <= now) {
			nat_remove(t, m);
			freed++;
		}
		if (++t->sweep == t->max)
			t->sweep = 0;
	}
	return freed;
}

/*
 * TCP (RFC 5382 REQ-5): a mapping is "established" once a SYN went each way
 * and until a FIN went each way or a RST either way; otherwise (opening,
 * closing, closed) it is "transitory".  The state is the mapping's, not a
 * connection's: with endpoint-independent mapping one inside endpoint could
 * hold several connections (rare for TCP clients); a new SYN from the inside
 * on a closing mapping starts over.
 */
void nat_tcp_track(struct nat_map *m, uint8_t flags, bool out)
{
	const uint8_t syn = 0x02, fin = 0x01, rst = 0x04, ack = 0x10;
	bool closing = (m->tcp & NAT_TCP_RST) || (m->tcp & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN)) ==
						     (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN);

	if ((flags & (syn | ack)) == syn && closing)
		m->tcp = 0; /* a new connection on an old mapping */
	if (flags & syn)
		m->tcp |= out ? NAT_TCP_SYN_OUT : NAT_TCP_SYN_IN;
	if (flags & fin)
		m->tcp |= out ? NAT_TCP_FIN_OUT : NAT_TCP_FIN_IN;
	if (flags & rst)
		m->tcp |= NAT_TCP_RST;
}

uint64_t nat_timeout(const struct nat_config *c, const struct nat_map *m)
{
	switch (m->proto - 1) {
	case NAT_UDP:
		return c->timeout.udp;
	case NAT_ICMP:
		return c->timeout.icmp;
	default:
		if (m->tcp & NAT_TCP_RST)
			return c->timeout.tcp_transitory;
		if ((m->tcp & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN)) ==
		    (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN))
			return c->timeout.tcp_transitory;
		if ((m->tcp & (NAT_TCP_SYN_OUT | NAT_TCP_SYN_IN)) ==
		    (NAT_TCP_SYN_OUT | NAT_TCP_SYN_IN))
			return c->timeout.tcp_established;
		return c->timeout.tcp_transitory;
	}
}
