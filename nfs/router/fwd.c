/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-router's packet path: Ethernet in, IPv4 (RFC 1812) and IPv6 (RFC
 * 8200) checks in the order Linux makes them, one longest-prefix match, TTL
 * or hop limit decremented with the checksum updated incrementally (RFC
 * 1624), and out through the neighbour table.  Every frame ends in one
 * counter (router.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netvm/csum.h>

#include "config.h"
#include "router.h"

#define ETH_LEN	 14
#define ET_IPV4	 0x0800
#define ET_IPV6	 0x86dd
#define ET_ARP	 0x0806
#define IP_DF	 0x4000
#define IP_MF	 0x2000
#define OPT_END	 0
#define OPT_NOP	 1
#define OPT_RR	 7
#define OPT_TS	 68
#define OPT_LSRR 131
#define OPT_SSRR 137
#define OPT_RA	 148

static inline void drop(struct router *r, struct netvm_pkt *p, enum rt_counter c)
{
	(*r->c[c])++;
	netvm_pkt_drop(p);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

void rt_take_fresh_fib(struct router *r)
{
	struct rt_fib *f = atomic_load_explicit(&r->fresh, memory_order_acquire);

	if (f) {
		struct rt_fib *old = r->fib;
		r->fib = f;
		atomic_store_explicit(&r->fresh, NULL, memory_order_relaxed);
		atomic_store_explicit(&r->stale, old, memory_order_release);
		CNT(r, reloads)++;
	}
	uint32_t failed = atomic_load_explicit(&r->reload_failed, memory_order_relaxed);
	if (failed != r->reload_failed_seen) {
		CNT(r, reload_errors) += failed - r->reload_failed_seen;
		r->reload_failed_seen = failed;
	}
}

void rt_emit(struct router *r, struct netvm_pkt *p)
{
	if (r->nemit >= NETVM_EMIT_MAX) {
		/* Hand over what is queued now: no packet of ours is made
		 * "like" a burst packet, so this is safe mid-handler. */
		netvm_nf_send(r->nf, NULL, 0);
		r->nemit = 0;
	}
	netvm_nf_emit(r->nf, p);
	r->nemit++;
}

void rt_discard(struct router *r, struct netvm_pkt *p)
{
	netvm_pkt_drop(p);
	rt_emit(r, p);
}

/* The IPv4 header checksum holds (the sum over it, its own field included,
 * is all ones): 32 bits at a time, folded once. */
static inline bool ip4_csum_ok(const uint8_t *ip, unsigned hl)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < hl; i += 4) {
		uint32_t w;
		memcpy(&w, ip + i, 4);
		s += w;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static inline int iface_of(const struct router *r, uint16_t port)
{
	return port < r->nport_if ? r->port_if[port] : -1;
}

static bool is_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

int rt_route_out(struct router *r, uint8_t family, const uint8_t *dst, int in_if, int *ifi,
		 uint8_t *nh_ip)
{
	const struct rt_fib *fib = r->fib;
	uint32_t v;

	if (family == 6 && is_ll6(dst)) {
		/* Link-local: back where it came from (its scope). */
		if (in_if < 0)
			return -1;
		*ifi = in_if;
		memcpy(nh_ip, dst, 16);
		return 0;
	}
	v = family == 4 ? lpm_lookup4(fib->v4, rd32(dst)) : lpm_lookup6(fib->v6, dst);
	if (v == LPM_MISS)
		return -1;
	const struct rt_nh *nh = &fib->nh[v];
	if (nh->type == NH_CONNECTED) {
		memcpy(nh_ip, dst, family == 4 ? 4 : 16);
	} else if (nh->type == NH_GATEWAY) {
		memcpy(nh_ip, nh->gw, family == 4 ? 4 : 16);
	} else {
		return -1;
	}
	*ifi = nh->iface;
	return 0;
}

static unsigned common_bits(const uint8_t *a, const uint8_t *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a[i] ^ b[i];
		if (x)
			return n + (unsigned)__builtin_clz((unsigned)x << 24);
		n += 8;
	}
	return n;
}

void rt_pick_src(const struct router *r, int ifi, uint8_t family, const uint8_t *dst, uint8_t *src)
{
	const struct rt_iface *ifc = &r->cfg->ifaces[ifi];
	int best = -1;

	if (family == 6 && is_ll6(dst)) {
		memcpy(src, ifc->ll6, 16);
		return;
	}
	for (int k = 0; k < ifc->naddr; k++) {
		const struct rt_addr *a = &ifc->addr[k];
		if (a->family != family)
			continue;
		if (rt_prefix_has(a, family, dst)) {
			best = k;
			break;
		}
		if (best < 0 ||
		    (family == 6 && common_bits(a->a, dst) > common_bits(ifc->addr[best].a, dst)))
			best = k;
	}
	if (best >= 0) {
		memcpy(src, ifc->addr[best].a, family == 4 ? 4 : 16);
		return;
	}
	if (family == 6) {
		memcpy(src, ifc->ll6, 16);
		return;
	}
	/* an interface without an IPv4 address: any of the router's */
	for (int i = 0; i < r->cfg->nifaces; i++)
		for (int k = 0; k < r->cfg->ifaces[i].naddr; k++)
			if (r->cfg->ifaces[i].addr[k].family == 4) {
				memcpy(src, r->cfg->ifaces[i].addr[k].a, 4);
				return;
			}
	memset(src, 0, 4);
}

void rt_output(struct router *r, struct netvm_pkt *p, int ifi, uint8_t family, const uint8_t *nh_ip,
	       bool made, enum rt_counter on_send)
{
	neigh_output(r, p, ifi, family, nh_ip, made, on_send, NULL);
}

/* ---- IPv4 ---------------------------------------------------------------- */

struct v4opts {
	uint8_t srr, rr, ts; /* offsets in the header, 0: absent */
	bool rr_needaddr, ts_touch, changed;
};

/*
 * Check the options as Linux's ip_options_compile() does on receive.
 * @return 0, or the offset of the offending byte in the header (the
 * parameter problem's pointer).
 */
static unsigned opts_check(uint8_t *ip, unsigned hl, struct v4opts *o)
{
	for (unsigned off = 20; off < hl;) {
		uint8_t *op = ip + off;
		if (op[0] == OPT_END) {
			/* what follows the end is padding: make it so */
			for (unsigned k = off + 1; k < hl; k++)
				if (ip[k] != OPT_END) {
					ip[k] = OPT_END;
					o->changed = true;
				}
			return 0;
		}
		if (op[0] == OPT_NOP) {
			off++;
			continue;
		}
		unsigned left = hl - off;
		if (left < 2 || op[1] < 2 || op[1] > left)
			return off;
		unsigned len = op[1];
		switch (op[0]) {
		case OPT_SSRR:
		case OPT_LSRR:
			if (len < 3)
				return off + 1;
			if (op[2] < 4)
				return off + 2;
			if (o->srr)
				return off;
			o->srr = (uint8_t)off;
			break;
		case OPT_RR:
			if (o->rr)
				return off;
			if (len < 3)
				return off + 1;
			if (op[2] < 4)
				return off + 2;
			if (op[2] <= len) {
				if (op[2] + 3u > len)
					return off + 2;
				o->rr_needaddr = true;
			}
			o->rr = (uint8_t)off;
			break;
		case OPT_TS:
			if (o->ts)
				return off;
			if (len < 4)
				return off + 1;
			if (op[2] < 5)
				return off + 2;
			if (op[2] <= len) {
				if (op[2] + 3u > len)
					return off + 2;
				if (((op[3] & 15) == 1 || (op[3] & 15) == 3) && op[2] + 7u > len)
					return off + 2;
			} else if ((op[3] & 15) != 3 && (op[3] >> 4) == 15) {
				return off + 3;
			}
			o->ts = (uint8_t)off;
			o->ts_touch = true;
			break;
		case OPT_RA:
			if (len < 4)
				return off + 1;
			break;
		default:
			break;
		}
		off += len;
	}
	return 0;
}

/* Fill the record-route and timestamp options of a forwarded packet as
 * Linux does (the outgoing address in RR; time, and the receiving
 * interface's address, in TS). */
static void opts_forward(struct router *r, uint8_t *ip, const struct v4opts *o, int in_if,
			 int out_if, const uint8_t *nh_ip)
{
	uint8_t a[16];

	if (o->rr && o->rr_needaddr) {
		uint8_t *op = ip + o->rr;
		rt_pick_src(r, out_if, 4, nh_ip, a);
		memcpy(op + op[2] - 1, a, 4);
		op[2] += 4;
	}
	if (o->ts && o->ts_touch) {
		uint8_t *op = ip + o->ts;
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		uint32_t mid = (uint32_t)((t.tv_sec % 86400) * 1000 + t.tv_nsec / 1000000);
		unsigned flag = op[3] & 15;
		if (op[2] > op[1]) {
			if (flag != 3) /* full: count the overflow */
				op[3] = (uint8_t)((op[3] & 15) | ((op[3] >> 4) + 1) << 4);
		} else if (flag == 0) {
			wr32(op + op[2] - 1, mid);
			op[2] += 4;
		} else if (flag == 1) {
			rt_pick_src(r, in_if, 4, ip + 12, a);
			memcpy(op + op[2] - 1, a, 4);
			wr32(op + op[2] + 3, mid);
			op[2] += 8;
		} else if (flag == 3) {
			if (rt_is_local4(r->fib, rd32(op + op[2] - 1))) {
				wr32(op + op[2] + 3, mid);
				op[2] += 8;
			}
		}
	}
}

static void ipv4_input(struct router *r, struct netvm_pkt *p, int ifi, bool l2_mcast, uint32_t v)
{
	uint8_t *ip = p->data + ETH_LEN;
	uint32_t avail = p->len - ETH_LEN;
	struct v4opts o = {0};

	if (avail < 20 || (ip[0] >> 4) != 4)
		return drop(r, p, C_bad_header);
	unsigned hl = (ip[0] & 15) * 4u, tot = rd16(ip + 2);
	if (hl < 20 || hl > avail || tot < hl || tot > avail)
		return drop(r, p, C_bad_header);
	/* RFC 1812 5.2.2: verify the header checksum */
	if (!ip4_csum_ok(ip, hl))
		return drop(r, p, C_bad_checksum);
	if (avail > tot) /* Ethernet padding: not forwarded */
		p->len = (uint16_t)(ETH_LEN + tot);

	uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
	/* Martians, as ip_route_input_slow() (0.0.0.0/8 but 0.0.0.0 itself is
	 * valid since Linux 5.3) */
	if ((src >> 28) == 0xe || src == 0xffffffffu || src == 0 || (src >> 24) == 127)
		return drop(r, p, C_martian_src);
	if (dst == 0xffffffffu || (dst >> 28) == 0xe)
		return drop(r, p, C_mcast_bcast);
	if (dst == 0 || (dst >> 24) == 127)
		return drop(r, p, C_martian_dst);
	const struct rt_fib *fib = r->fib;
	if (rt_is_local4(fib, src))
		return drop(r, p, C_martian_src);
	if (hl > 20) {
		unsigned bad = opts_check(ip, hl, &o);
		if (bad) {
			CNT(r, bad_options)++;
			return icmp4_error(r, p, ifi, 12, 0, bad << 24, false);
		}
		if (o.srr)
			return drop(r, p, C_src_routed);
	}
	if (v == LPM_MISS) {
		CNT(r, no_route)++;
		return icmp4_error(r, p, ifi, 3, 0, 0, false);
	}
	const struct rt_nh *nh = &fib->nh[v];
	switch (nh->type) {
	case NH_LOCAL:
		return icmp4_local(r, p, ifi, l2_mcast);
	case NH_BROADCAST:
		return drop(r, p, C_mcast_bcast);
	case NH_BLACKHOLE:
		return drop(r, p, C_blackhole);
	case NH_UNREACHABLE:
		CNT(r, unreachable)++;
		return icmp4_error(r, p, ifi, 3, 1, 0, false);
	case NH_PROHIBIT:
		CNT(r, unreachable)++;
		return icmp4_error(r, p, ifi, 3, 13, 0, false);
	default:
		break;
	}
	/* Forward (ip_forward()). Not a frame sent to everyone. */
	if (l2_mcast)
		return drop(r, p, C_mcast_bcast);
	if (ip[8] <= 1) {
		CNT(r, ttl_exceeded)++;
		return icmp4_error(r, p, ifi, 11, 0, 0, false);
	}
	const struct rt_iface *out = &r->cfg->ifaces[nh->iface];
	if (tot > out->mtu && (rd16(ip + 6) & IP_DF)) {
		CNT(r, too_big)++;
		return icmp4_error(r, p, ifi, 3, 4, out->mtu, false);
	}
	if (tot > out->mtu) /* fragmentation is not done (docs/nf-router.md) */
		return drop(r, p, C_too_big);
	const uint8_t *nh_ip = nh->type == NH_GATEWAY ? nh->gw : ip + 16;
	if (hl > 20 || o.changed) {
		ip[8]--;
		opts_forward(r, ip, &o, ifi, nh->iface, nh_ip);
		wr16(ip + 10, 0);
		uint16_t c = netvm_ipv4_csum(ip);
		memcpy(ip + 10, &c, 2);
	} else {
		/* RFC 1624 eqn. 3 on the word holding TTL and protocol: TTL - 1
		 * takes 0x0100 off it, so HC' = ~(~HC + ~m + m') = HC + 0x0100
		 * with the end-around carry (in the header's byte order) */
		uint32_t c = (uint32_t)rd16(ip + 10) + 0x0100;
		ip[8]--;
		c = (c & 0xffff) + (c >> 16);
		wr16(ip + 10, (uint16_t)c);
	}
	neigh_output(r, p, nh->iface, 4, nh_ip, false, C_fwd_v4,
		     nh->type == NH_GATEWAY ? &fib->hint[v] : NULL);
}

/* ---- IPv6 ---------------------------------------------------------------- */

static bool is_mcast6(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool is_unspec6(const uint8_t *a)
{
	static const uint8_t z[16];
	return !memcmp(a, z, 16);
}

static bool is_loop6(const uint8_t *a)
{
	static const uint8_t one[16] = {[15] = 1};
	return !memcmp(a, one, 16);
}

static bool is_v4mapped(const uint8_t *a)
{
	static const uint8_t m[12] = {[10] = 0xff, [11] = 0xff};
	return !memcmp(a, m, 12);
}

static void ipv6_input(struct router *r, struct netvm_pkt *p, int ifi, bool l2_mcast)
{
	uint8_t *ip = p->data + ETH_LEN;
	uint32_t avail = p->len - ETH_LEN;

	if (avail < 40 || (ip[0] >> 4) != 6)
		return drop(r, p, C_bad_header);
	uint32_t tot = 40u + rd16(ip + 4);
	if (tot > avail) /* (jumbograms, payload length 0, are not taken) */
		return drop(r, p, C_bad_header);
	if (avail > tot)
		p->len = (uint16_t)(ETH_LEN + tot);
	const uint8_t *src = ip + 8, *dst = ip + 24;
	/* ipv6_rcv(): never valid on a wire */
	if (is_mcast6(src) || is_loop6(src) || is_v4mapped(src))
		return drop(r, p, C_martian_src);
	if (is_loop6(dst) || is_v4mapped(dst))
		return drop(r, p, C_martian_dst);
	if (is_mcast6(dst)) {
		/* link-local scope (ff02::/16): ND to us, the rest is taken in */
		if ((dst[1] & 0x0f) <= 2)
			return icmp6_local(r, p, ifi, true);
		return drop(r, p, C_mcast_bcast);
	}
	const struct rt_iface *in = &r->cfg->ifaces[ifi];
	if (is_ll6(dst)) {
		if (!memcmp(dst, in->ll6, 16))
			return icmp6_local(r, p, ifi, false);
		return drop(r, p, C_martian_dst); /* link-local: never forwarded */
	}
	const struct rt_fib *fib = r->fib;
	uint32_t v = lpm_lookup6(fib->v6, dst);
	if (v == LPM_MISS) {
		CNT(r, no_route)++;
		return icmp6_error(r, p, ifi, 1, 0, 0, false);
	}
	const struct rt_nh *nh = &fib->nh[v];
	switch (nh->type) {
	case NH_LOCAL:
		return icmp6_local(r, p, ifi, false);
	case NH_BLACKHOLE:
		return drop(r, p, C_blackhole);
	case NH_UNREACHABLE:
		CNT(r, unreachable)++;
		return icmp6_error(r, p, ifi, 1, 0, 0, false);
	case NH_PROHIBIT:
		CNT(r, unreachable)++;
		return icmp6_error(r, p, ifi, 1, 1, 0, false);
	default:
		break;
	}
	/* ip6_forward() */
	if (l2_mcast)
		return drop(r, p, C_mcast_bcast);
	if (ip[7] <= 1) {
		CNT(r, ttl_exceeded)++;
		return icmp6_error(r, p, ifi, 3, 0, 0, false);
	}
	if (is_unspec6(src))
		return drop(r, p, C_martian_src);
	if (is_ll6(src)) { /* RFC 4443: beyond scope of source address */
		CNT(r, martian_src)++;
		return icmp6_error(r, p, ifi, 1, 2, 0, false);
	}
	const struct rt_iface *out = &r->cfg->ifaces[nh->iface];
	if (tot > out->mtu) {
		CNT(r, too_big)++;
		return icmp6_error(r, p, ifi, 2, 0, out->mtu, false);
	}
	ip[7]--; /* no header checksum in IPv6 */
	neigh_output(r, p, nh->iface, 6, nh->type == NH_GATEWAY ? nh->gw : dst, false, C_fwd_v6,
		     nh->type == NH_GATEWAY ? &fib->hint[v] : NULL);
}

/* ---- Ethernet ------------------------------------------------------------- */

/* @p v: the route of the IPv4 destination, looked up for the whole burst */
static void input(struct router *r, struct netvm_pkt *p, uint32_t v)
{
	CNT(r, rx)++;
	if (p->len < ETH_LEN)
		return drop(r, p, C_bad_header);
	int ifi = iface_of(r, p->in_port);
	if (ifi < 0)
		return drop(r, p, C_not_for_us); /* a port that is not an interface */
	const uint8_t *d = p->data;
	bool l2_mcast = d[0] & 1;
	if (!l2_mcast && memcmp(d, r->cfg->ifaces[ifi].mac, 6))
		return drop(r, p, C_not_for_us);
	switch (rd16(d + 12)) {
	case ET_IPV4:
		return ipv4_input(r, p, ifi, l2_mcast, v);
	case ET_IPV6:
		return ipv6_input(r, p, ifi, l2_mcast);
	case ET_ARP:
		return neigh_arp_input(r, p, ifi);
	default:
		return drop(r, p, C_not_ip);
	}
}

void rt_handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct router *r = arg;

	uint32_t dst[NETVM_BURST], v[NETVM_BURST];

	r->now = now_ms();
	r->nemit = 0;
	rt_take_fresh_fib(r);
	/* The IPv4 destinations of the burst looked up together, so that the
	 * table's cache misses overlap; a frame that is not IPv4 (or is cut
	 * short) looks up 0.0.0.0 for nothing. */
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *d = pkts[i].data;
		dst[i] = pkts[i].len >= 34 && d[12] == 0x08 && d[13] == 0x00 ? rd32(d + 30) : 0;
	}
	lpm_lookup4_bulk(r->fib->v4, dst, v, n);
	for (uint16_t i = 0; i < n; i++)
		input(r, &pkts[i], v[i]);
}

void rt_tick(struct netvm_nf *nf, void *arg)
{
	struct router *r = arg;

	r->now = now_ms();
	r->nemit = 0;
	rt_take_fresh_fib(r);
	neigh_tick(r);
	r->nemit = 0; /* libnetvm sends what the timer emitted when it returns */
}
