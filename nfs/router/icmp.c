/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792, RFC 1812 4.3) and ICMPv6 (RFC 4443) for nf-router: errors
 * built in place in the packet they are about (the quoted bytes do not
 * move: the new headers go in the headroom), rate-limited by a token
 * bucket, never about an ICMP error, a broadcast or multicast, or a
 * fragment after the first; echo replies; local delivery.
 */
#include <string.h>

#include <netvm/csum.h>

#include "router.h"

#define ETH_LEN 14
/* RFC 1812 4.3.2.3: as much of the datagram as fits in 576 bytes; RFC 4443
 * 2.4(c): as much as fits in the minimum IPv6 MTU, 1280. */
#define QUOTE4 (576 - 28)
#define QUOTE6 (1280 - 48)

static bool allow(struct router *r)
{
	const struct rt_config *cfg = r->cfg;

	if (!cfg->icmp_rate)
		return true;
	if (r->now > r->tokens_at) {
		r->tokens += (double)(r->now - r->tokens_at) * cfg->icmp_rate / 1000.0;
		if (r->tokens > cfg->icmp_burst)
			r->tokens = cfg->icmp_burst;
	}
	r->tokens_at = r->now;
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return true;
	}
	CNT(r, icmp_ratelimited)++;
	return false;
}

static void give_up(struct router *r, struct netvm_pkt *p, bool made)
{
	if (made)
		rt_discard(r, p);
	else
		netvm_pkt_drop(p);
}

/* Room for @p hdr more bytes of headers in front of the data, keeping the
 * data where it is (headroom), else by moving it back: the new start. */
static uint8_t *make_room(struct netvm_pkt *p, uint16_t hdr, uint32_t keep)
{
	if (p->headroom >= hdr)
		return netvm_pkt_prepend(p, hdr);
	if (p->room < keep + hdr)
		return NULL;
	memmove(p->data + hdr, p->data, keep);
	p->len = (uint16_t)(p->len + hdr);
	return p->data;
}

static void fill_ip4(struct router *r, uint8_t *ip, uint8_t tos, uint16_t tot, uint8_t proto,
		     const uint8_t *src, const uint8_t *dst)
{
	ip[0] = 0x45;
	ip[1] = tos;
	wr16(ip + 2, tot);
	wr16(ip + 4, r->ip_id++);
	wr16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = proto;
	wr16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t c = netvm_ipv4_csum(ip);
	memcpy(ip + 10, &c, 2);
}

void icmp4_error(struct router *r, struct netvm_pkt *p, int in_if, uint8_t type, uint8_t code,
		 uint32_t info, bool made)
{
	const uint8_t *ip = p->data + ETH_LEN;
	uint32_t len = (uint32_t)p->len - ETH_LEN;
	unsigned hl = (ip[0] & 15) * 4u;
	uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
	uint8_t osrc[4], odst[4], a[4], nh[4];
	int ifi;

	/* RFC 1812 4.3.2.7: not about a frame sent to a link-layer broadcast or
	 * multicast, an IP broadcast or multicast, a source that is not one
	 * host, or a fragment after the first */
	if ((!made && (p->data[0] & 1)) || (dst >> 28) == 0xe || dst == 0xffffffffu ||
	    (src >> 28) >= 0xe || src == 0 || (src >> 24) == 127 || (rd16(ip + 6) & 0x1fff))
		return give_up(r, p, made);
	if (rt_is_local4(r->fib, src))
		return give_up(r, p, made);
	/* nor about an ICMP error (or a type we do not know, as Linux) */
	if (ip[9] == 1) {
		if (len < hl + 1)
			return give_up(r, p, made);
		uint8_t t = ip[hl];
		if (t > 18 || t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			return give_up(r, p, made);
	}
	memcpy(osrc, ip + 12, 4);
	memcpy(odst, ip + 16, 4);
	uint8_t tos = (uint8_t)((ip[1] & 0x1e) | 0xc0); /* internetwork control */
	if (rt_route_out(r, 4, osrc, in_if, &ifi, nh) < 0)
		return give_up(r, p, made);
	if (!allow(r))
		return give_up(r, p, made);
	/* the source: the address it was sent to if it is ours, else the output
	 * interface's (icmp_send(), with icmp_errors_use_inbound_ifaddr = 0) */
	if (rt_is_local4(r->fib, dst))
		memcpy(a, odst, 4);
	else
		rt_pick_src(r, ifi, 4, nh, a);

	uint32_t quote = len < QUOTE4 ? len : QUOTE4;
	p->len = (uint16_t)(ETH_LEN + quote);
	uint8_t *f = make_room(p, 28, ETH_LEN + quote);
	if (!f)
		return give_up(r, p, made);
	p->len = (uint16_t)(ETH_LEN + 28 + quote);
	uint8_t *nip = f + ETH_LEN, *icmp = nip + 20;
	wr16(f + 12, 0x0800);
	fill_ip4(r, nip, tos, (uint16_t)(28 + quote), 1, a, osrc);
	icmp[0] = type;
	icmp[1] = code;
	wr16(icmp + 2, 0);
	wr32(icmp + 4, info);
	uint16_t c = netvm_csum_fold(netvm_csum_add(0, icmp, 8 + quote));
	memcpy(icmp + 2, &c, 2);
	rt_output(r, p, ifi, 4, nh, made, C_icmp_out);
}

/* The upper-layer protocol of an IPv6 packet after its extension headers,
 * where its header starts, and whether it is a fragment after the first.
 * @return 0, or -1 when the chain is cut short or too long. */
static int v6_upper(const uint8_t *ip, uint32_t len, uint8_t *proto, uint32_t *off,
		    bool *later_frag)
{
	uint8_t nh = ip[6];
	uint32_t o = 40;

	*later_frag = false;
	for (int i = 0; i < 8; i++) {
		switch (nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (o + 8 > len)
				return -1;
			nh = ip[o];
			o += 8u * (ip[o + 1] + 1u);
			continue;
		case 51: /* AH */
			if (o + 8 > len)
				return -1;
			nh = ip[o];
			o += 4u * (ip[o + 1] + 2u);
			continue;
		case 44: /* fragment */
			if (o + 8 > len)
				return -1;
			if (rd16(ip + o + 2) & 0xfff8)
				*later_frag = true;
			nh = ip[o];
			o += 8;
			continue;
		default:
			*proto = nh;
			*off = o;
			return 0;
		}
	}
	return -1;
}

static uint16_t csum6(const uint8_t *ip, const uint8_t *l4, uint32_t len, uint8_t proto)
{
	uint8_t ph[8] = {0};
	uint32_t s = netvm_csum_add(0, ip + 8, 32);

	wr32(ph, len);
	ph[7] = proto;
	s = netvm_csum_add(s, ph, 8);
	return netvm_csum_fold(netvm_csum_add(s, l4, len));
}

void icmp6_error(struct router *r, struct netvm_pkt *p, int in_if, uint8_t type, uint8_t code,
		 uint32_t info, bool made)
{
	const uint8_t *ip = p->data + ETH_LEN;
	uint32_t len = (uint32_t)p->len - ETH_LEN, uoff;
	uint8_t osrc[16], odst[16], a[16], nh[16], proto;
	static const uint8_t zero[16];
	bool later;
	int ifi;

	memcpy(osrc, ip + 8, 16);
	memcpy(odst, ip + 24, 16);
	/* RFC 4443 2.4(e): not to a multicast or unspecified source; not about
	 * a packet to a multicast destination (link-layer or IPv6) but a packet
	 * too big or an unknown option (parameter problem code 2) */
	if (osrc[0] == 0xff || !memcmp(osrc, zero, 16))
		return give_up(r, p, made);
	if ((odst[0] == 0xff || (!made && (p->data[0] & 1))) && type != 2 &&
	    !(type == 4 && code == 2))
		return give_up(r, p, made);
	/* 2.4(e.1): not about an ICMPv6 error; and (the brief of nf-router) not
	 * about a fragment after the first, as for IPv4 */
	if (v6_upper(ip, len, &proto, &uoff, &later) == 0) {
		if (later)
			return give_up(r, p, made);
		if (proto == 58 && (uoff >= len || ip[uoff] < 128))
			return give_up(r, p, made);
	}
	if (rt_route_out(r, 6, osrc, in_if, &ifi, nh) < 0)
		return give_up(r, p, made);
	if (!allow(r))
		return give_up(r, p, made);
	/* the source: the address it was sent to if it is ours, else one of the
	 * output interface's (ip6 source address selection, simplified) */
	const struct rt_iface *in = in_if >= 0 ? &r->cfg->ifaces[in_if] : NULL;
	uint32_t v = lpm_lookup6(r->fib->v6, odst);
	if ((v != LPM_MISS && r->fib->nh[v].type == NH_LOCAL) || (in && !memcmp(odst, in->ll6, 16)))
		memcpy(a, odst, 16);
	else
		rt_pick_src(r, ifi, 6, osrc, a);

	uint32_t quote = len < QUOTE6 ? len : QUOTE6;
	p->len = (uint16_t)(ETH_LEN + quote);
	uint8_t *f = make_room(p, 48, ETH_LEN + quote);
	if (!f)
		return give_up(r, p, made);
	p->len = (uint16_t)(ETH_LEN + 48 + quote);
	uint8_t *nip = f + ETH_LEN, *icmp = nip + 40;
	wr16(f + 12, 0x86dd);
	wr32(nip, 0x60000000u);
	wr16(nip + 4, (uint16_t)(8 + quote));
	nip[6] = 58;
	nip[7] = 64;
	memcpy(nip + 8, a, 16);
	memcpy(nip + 24, osrc, 16);
	icmp[0] = type;
	icmp[1] = code;
	wr16(icmp + 2, 0);
	wr32(icmp + 4, info);
	uint16_t c = csum6(nip, icmp, 8 + quote, 58);
	memcpy(icmp + 2, &c, 2);
	rt_output(r, p, ifi, 6, nh, made, C_icmp_out);
}

/* ---- local delivery ---- */

static void taken(struct router *r, struct netvm_pkt *p)
{
	CNT(r, local_in)++;
	netvm_pkt_drop(p);
}

void icmp4_local(struct router *r, struct netvm_pkt *p, int in_if, bool l2_bcast)
{
	uint8_t *ip = p->data + ETH_LEN;
	unsigned hl = (ip[0] & 15) * 4u, tot = rd16(ip + 2);
	uint8_t *l4 = ip + hl;
	uint32_t l4len = tot - hl;
	uint8_t nh[4], src[4], dst[4];
	int ifi;

	/* No reassembly: fragments for the router are taken in and dropped. */
	if (rd16(ip + 6) & 0x3fff)
		return taken(r, p);
	switch (ip[9]) {
	case 1: /* ICMP */
		if (l4len < 8) {
			CNT(r, bad_header)++;
			return netvm_pkt_drop(p);
		}
		if (netvm_csum_fold(netvm_csum_add(0, l4, l4len)) != 0) {
			CNT(r, bad_checksum)++;
			return netvm_pkt_drop(p);
		}
		if (l4[0] != 8) /* only echo requests are answered */
			return taken(r, p);
		CNT(r, local_in)++;
		memcpy(src, ip + 16, 4);
		memcpy(dst, ip + 12, 4);
		if (rt_route_out(r, 4, dst, in_if, &ifi, nh) < 0) {
			CNT(r, no_route)++;
			return netvm_pkt_drop(p);
		}
		uint8_t tos = ip[1];
		/* options are not echoed: the reply's header is 20 bytes */
		if (hl > 20)
			netvm_pkt_adj(p, (uint16_t)(hl - 20));
		uint8_t *nip = p->data + ETH_LEN;
		fill_ip4(r, nip, tos, (uint16_t)(20 + l4len), 1, src, dst);
		uint16_t old, new_, c;
		memcpy(&old, l4, 2);
		l4[0] = 0;
		memcpy(&new_, l4, 2);
		memcpy(&c, l4 + 2, 2);
		c = netvm_csum_update16(c, old, new_);
		memcpy(l4 + 2, &c, 2);
		return rt_output(r, p, ifi, 4, nh, false, C_echo_out);
	case 17: /* UDP: no port is open here */
		if (l4len < 8 || rd16(l4 + 4) < 8 || rd16(l4 + 4) > l4len) {
			CNT(r, bad_header)++;
			return netvm_pkt_drop(p);
		}
		if (rd16(l4 + 6)) {
			uint8_t ph[4] = {0, 17};
			wr16(ph + 2, rd16(l4 + 4));
			uint32_t s = netvm_csum_add(netvm_csum_add(0, ip + 12, 8), ph, 4);
			if (netvm_csum_fold(netvm_csum_add(s, l4, rd16(l4 + 4))) != 0) {
				CNT(r, bad_checksum)++;
				return netvm_pkt_drop(p);
			}
		}
		CNT(r, local_in)++;
		if (l2_bcast)
			return netvm_pkt_drop(p);
		return icmp4_error(r, p, in_if, 3, 3, 0, false);
	case 2: /* IGMP */
	case 6: /* TCP: no reset is sent */
		return taken(r, p);
	default: /* protocol unreachable, as Linux for a protocol it has no handler for */
		CNT(r, local_in)++;
		if (l2_bcast)
			return netvm_pkt_drop(p);
		return icmp4_error(r, p, in_if, 3, 2, 0, false);
	}
}

void icmp6_local(struct router *r, struct netvm_pkt *p, int in_if, bool dst_mcast)
{
	uint8_t *ip = p->data + ETH_LEN;
	uint32_t plen = rd16(ip + 4);
	uint8_t *l4 = ip + 40;
	uint8_t nh[16], tmp[16];
	int ifi;

	if (dst_mcast) {
		/* Multicast for us: the all-nodes and all-routers groups and the
		 * solicited-node groups of our addresses (ND) */
		const struct rt_iface *ifc = &r->cfg->ifaces[in_if];
		const uint8_t *d = ip + 24;
		static const uint8_t sn[13] = {0xff, 0x02, [11] = 1, [12] = 0xff};
		bool ours = !memcmp(d, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) &&
			    (d[15] == 1 || d[15] == 2);
		if (!memcmp(d, sn, 13)) {
			ours = !memcmp(d + 13, ifc->ll6 + 13, 3);
			for (int k = 0; k < ifc->naddr && !ours; k++)
				ours = ifc->addr[k].family == 6 &&
				       !memcmp(d + 13, ifc->addr[k].a + 13, 3);
		}
		if (!ours)
			return taken(r, p);
	}
	switch (ip[6]) {
	case 58:
		break;
	case 17:
		if (plen < 8 || rd16(l4 + 4) < 8 || rd16(l4 + 4) > plen) {
			CNT(r, bad_header)++;
			return netvm_pkt_drop(p);
		}
		if (csum6(ip, l4, rd16(l4 + 4), 17) != 0) {
			CNT(r, bad_checksum)++;
			return netvm_pkt_drop(p);
		}
		CNT(r, local_in)++;
		if (dst_mcast)
			return netvm_pkt_drop(p);
		return icmp6_error(r, p, in_if, 1, 4, 0, false);
	case 0:
	case 6:
	case 43:
	case 44:
	case 51:
	case 59:
	case 60:
		return taken(r, p);
	default: /* unrecognised next header: parameter problem at its field */
		CNT(r, local_in)++;
		if (dst_mcast)
			return netvm_pkt_drop(p);
		return icmp6_error(r, p, in_if, 4, 1, 6, false);
	}
	if (plen < 8) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	if (csum6(ip, l4, plen, 58) != 0) {
		CNT(r, bad_checksum)++;
		return netvm_pkt_drop(p);
	}
	switch (l4[0]) {
	case 135:
		return neigh_ns_input(r, p, in_if, l4, plen);
	case 136:
		return neigh_na_input(r, p, in_if, l4, plen);
	case 128:
		if (dst_mcast)
			return taken(r, p);
		break;
	default:
		return taken(r, p);
	}
	/* echo reply (RFC 4443 4.2) */
	CNT(r, local_in)++;
	if (rt_route_out(r, 6, ip + 8, in_if, &ifi, nh) < 0) {
		CNT(r, no_route)++;
		return netvm_pkt_drop(p);
	}
	memcpy(tmp, ip + 8, 16);
	memcpy(ip + 8, ip + 24, 16);
	memcpy(ip + 24, tmp, 16);
	/* the traffic class is kept, the flow label is not */
	ip[1] &= 0xf0;
	ip[2] = ip[3] = 0;
	ip[7] = 64;
	l4[0] = 129;
	wr16(l4 + 2, 0);
	uint16_t c = csum6(ip, l4, plen, 58);
	memcpy(l4 + 2, &c, 2);
	rt_output(r, p, ifi, 6, nh, false, C_echo_out);
}
