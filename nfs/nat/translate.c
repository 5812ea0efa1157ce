/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-packet path: IPv4 NAPT of TCP, UDP and ICMP queries, hairpinning.
 *
 * Inside -> outside (from an inside port): the source address:port becomes
 * the mapping's public address:port, the mapping created on the first
 * packet (endpoint-independent: keyed by the inside endpoint alone).  ICMP
 * echo and timestamp requests map their identifier as the port.
 *
 * Outside -> inside (from an outside port, to a public address): the
 * destination public address:port is looked up in the outside index and
 * becomes the inside endpoint.  Filtering is endpoint-independent (RFC 4787
 * REQ-8; RFC 5382 allows it for TCP): any remote endpoint may send to a mapping that
 * exists; a packet to a public port with no mapping is dropped
 * (drop_no_mapping).  Only TCP mappings are refreshed by inbound packets
 * (RFC 5382); UDP and ICMP ones by outbound packets only (RFC 4787 REQ-6),
 * so an outside host cannot hold a mapping open by itself.
 *
 * Hairpinning (RFC 4787 REQ-9, and RFC 5382 for TCP): a packet from the inside to
 * a public address:port of an existing mapping gets the sender's mapping as
 * its source (as the outside would see it) and the target's inside endpoint
 * as its destination; configuration "hairpin" says whether it goes on to
 * the next hop, back out of its ingress port, or is dropped.
 *
 * Checksums are updated incrementally (RFC 1624) for every field changed:
 * the IPv4 header checksum for addresses, the TCP and UDP checksums for the
 * pseudo-header address and the port, the ICMP checksum for the
 * identifier.  A UDP checksum of 0 ("none", RFC 768) stays 0; an updated one
 * that comes out 0 is stored as 0xffff.
 *
 * Fragments: a first fragment whose L4 header is complete is translated
 * (the incremental checksum update is right for the whole datagram); later
 * fragments carry no ports and are dropped (drop_fragment): no reassembly
 * and no fragment tracking.  A TCP header shorter than 20 bytes, UDP or
 * ICMP shorter than 8, or an invalid IPv4 header is drop_malformed.  Frames
 * that are not IPv4 (ARP, IPv6) and IPv4 from the outside that is not for a
 * public address pass unchanged (passed).
 */
#include <string.h>
#include <netinet/in.h>

#include <netvm/csum.h>

#include "nat.h"

const char *const nat_counter_names[NAT_C_MAX] = {
#define NAT_C_NAME(name, help) #name,
    NAT_COUNTERS(NAT_C_NAME)
#undef NAT_C_NAME
};

const char *const nat_counter_help[NAT_C_MAX] = {
#define NAT_C_HELP(name, help) help,
    NAT_COUNTERS(NAT_C_HELP)
#undef NAT_C_HELP
};

#define COUNT(n, name) (*(n)->c[NAT_C_##name] += 1)

uint16_t nat_csum_delta(uint16_t csum, const void *old, const void *new_, size_t len)
{
	/* HC' = ~(~HC + sum(new) - sum(old)); -sum(old) is ~sum(old). */
	uint16_t neg_old = netvm_csum_fold(netvm_csum_add(0, old, len));
	uint32_t s = (uint16_t)~csum;

	s = netvm_csum_add(s, new_, len);
	s = netvm_csum_add(s, &neg_old, 2);
	return netvm_csum_fold(s);
}

int nat_init(struct nat *n, const struct nat_config *cfg)
{
	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	for (int i = 0; i < NAT_C_MAX; i++)
		n->c[i] = &n->local_c[i];
	return nat_table_init(&n->t, &n->cfg);
}

void nat_fini(struct nat *n)
{
	nat_table_free(&n->t);
}

void nat_tick(struct nat *n, uint64_t now)
{
	*n->c[NAT_C_expired] += nat_expire(&n->t, now);
	*n->c[NAT_C_mappings] = n->t.max - n->t.n_free;
}

/* What the L4 header of protocol p looks like to the translator. */
struct l4 {
	int proto;	   /* enum nat_proto */
	uint32_t need;	   /* bytes the header must have */
	uint32_t csum;	   /* offset of its checksum */
	uint32_t id;	   /* offset of the source port or ICMP identifier */
	bool pseudo;	   /* the checksum covers the IP addresses */
	bool zero_is_none; /* UDP: a zero checksum means none */
};

static const struct l4 L4_TCP = {NAT_TCP, 20, 16, 0, true, false};
static const struct l4 L4_UDP = {NAT_UDP, 8, 6, 0, true, true};
static const struct l4 L4_ICMPQ = {NAT_ICMP, 8, 2, 4, false, false};

/* Ones' complement adjustments (RFC 1624 eqn. 3) for a 32-bit and a 16-bit
 * field at once, with one fold: the values as stored (any byte order). */
static inline uint16_t adjust(uint16_t csum, uint32_t oa, uint32_t na, uint32_t op, uint32_t np)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~oa + (uint16_t) ~(oa >> 16) + (na & 0xffff) + (na >> 16);
	s += (uint16_t)~op + np;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The same for a 32-bit field alone (the IPv4 header checksum). */
static inline uint16_t adjust32(uint16_t csum, uint32_t oa, uint32_t na)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~oa + (uint16_t) ~(oa >> 16) + (na & 0xffff) + (na >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Write address @na at @ip + @aoff and port (or identifier) @np at @l4 +
 * @poff, and fix the IPv4 header checksum and the L4 checksum of kind @k. */
static inline void rewrite(uint8_t *ip, uint32_t aoff, uint32_t na, uint8_t *l4, uint32_t poff,
			   uint16_t np, const struct l4 *k)
{
	uint32_t oa = nat_get32(ip + aoff);
	uint16_t op = nat_get16(l4 + poff);
	uint8_t *cs = l4 + k->csum;
	uint16_t c = nat_get16(cs);

	nat_put32(ip + aoff, na);
	nat_put16(l4 + poff, np);
	nat_put16(ip + 10, adjust32(nat_get16(ip + 10), oa, na));
	if (k->zero_is_none && c == 0)
		return; /* UDP without a checksum: stays without */
	c = k->pseudo ? adjust(c, oa, na, op, np) : netvm_csum_update16(c, op, np);
	nat_put16(cs, k->zero_is_none && c == 0 ? 0xffff : c);
}

static inline void refresh(struct nat *n, struct nat_map *m, uint64_t now)
{
	m->expire = now + nat_timeout(&n->cfg, m);
}

static enum nat_verdict outbound(struct nat *n, uint8_t *ip, uint8_t *l4, uint32_t l4len,
				 uint64_t now)
{
	const struct l4 *k;
	uint32_t dst = nat_get32(ip + 16);
	int hp = nat_public_index(&n->cfg, dst); /* >= 0: hairpin */

	switch (ip[9]) {
	case IPPROTO_TCP:
		k = &L4_TCP;
		break;
	case IPPROTO_UDP:
		k = &L4_UDP;
		break;
	case IPPROTO_ICMP:
		if (l4len < 8) {
			COUNT(n, drop_malformed);
			return NAT_V_DROP;
		}
		if (l4[0] == 3 || l4[0] == 11 || l4[0] == 12) {
			if (hp >= 0) { /* an error about a hairpinned packet */
				COUNT(n, drop_icmp_error);
				return NAT_V_DROP;
			}
			return nat_icmp_error(n, ip, l4, l4len, NAT_SIDE_INSIDE, -1);
		}
		if (l4[0] != 8 && l4[0] != 13) { /* echo, timestamp requests */
			COUNT(n, drop_proto);
			return NAT_V_DROP;
		}
		k = &L4_ICMPQ;
		break;
	default:
		COUNT(n, drop_proto);
		return NAT_V_DROP;
	}
	if (l4len < k->need) {
		COUNT(n, drop_malformed);
		return NAT_V_DROP;
	}

	struct nat_map *target = NULL;
	if (hp >= 0) {
		if (k->proto == NAT_ICMP) { /* a query to a public address: none mapped */
			COUNT(n, drop_no_mapping);
			return NAT_V_DROP;
		}
		if (n->cfg.hairpin == NAT_HAIRPIN_DROP) {
			COUNT(n, drop_hairpin);
			return NAT_V_DROP;
		}
		target = nat_lookup_out(&n->t, k->proto, hp, nat_get16(l4 + 2));
		if (!target) {
			COUNT(n, drop_no_mapping);
			return NAT_V_DROP;
		}
	}

	uint32_t src = nat_get32(ip + 12);
	uint16_t sid = nat_get16(l4 + k->id);
	struct nat_map *m = nat_lookup_in(&n->t, k->proto, src, sid);
	if (!m) {
		enum nat_counter why;
		m = nat_create(&n->t, k->proto, src, sid, dst,
			       k->proto == NAT_ICMP ? 0 : nat_get16(l4 + 2), &why);
		if (!m) {
			*n->c[why] += 1;
			return NAT_V_DROP;
		}
		COUNT(n, mappings_created);
		*n->c[NAT_C_mappings] = n->t.max - n->t.n_free;
	}
	if (k->proto == NAT_TCP)
		nat_tcp_track(m, l4[13], true);
	refresh(n, m, now);

	rewrite(ip, 12, n->cfg.public_addr[m->ext], l4, k->id, m->ext_port, k);
	if (!target) {
		COUNT(n, out);
		return NAT_V_OUT;
	}
	/* The hairpin: to the target's inside endpoint, as if it came in. */
	if (k->proto == NAT_TCP) {
		nat_tcp_track(target, l4[13], false);
		refresh(n, target, now);
	}
	rewrite(ip, 16, target->in_addr, l4, 2, target->in_port, k);
	COUNT(n, hairpin);
	return NAT_V_HAIRPIN;
}

static enum nat_verdict inbound(struct nat *n, uint8_t *ip, uint8_t *l4, uint32_t l4len, int ext,
				uint64_t now)
{
	const struct l4 *k;
	uint32_t port_off = 2; /* the destination port */

	switch (ip[9]) {
	case IPPROTO_TCP:
		k = &L4_TCP;
		break;
	case IPPROTO_UDP:
		k = &L4_UDP;
		break;
	case IPPROTO_ICMP:
		if (l4len < 8) {
			COUNT(n, drop_malformed);
			return NAT_V_DROP;
		}
		if (l4[0] == 3 || l4[0] == 11 || l4[0] == 12)
			return nat_icmp_error(n, ip, l4, l4len, NAT_SIDE_OUTSIDE, ext);
		if (l4[0] != 0 && l4[0] != 14) { /* echo, timestamp replies */
			COUNT(n, drop_no_mapping);
			return NAT_V_DROP;
		}
		k = &L4_ICMPQ;
		port_off = 4;
		break;
	default:
		COUNT(n, drop_proto);
		return NAT_V_DROP;
	}
	if (l4len < k->need) {
		COUNT(n, drop_malformed);
		return NAT_V_DROP;
	}
	struct nat_map *m = nat_lookup_out(&n->t, k->proto, ext, nat_get16(l4 + port_off));
	if (!m) {
		COUNT(n, drop_no_mapping);
		return NAT_V_DROP;
	}
	if (k->proto == NAT_TCP) {
		nat_tcp_track(m, l4[13], false);
		refresh(n, m, now);
	}
	rewrite(ip, 16, m->in_addr, l4, port_off, m->in_port, k);
	COUNT(n, in);
	return NAT_V_IN;
}

/*
 * The IPv4 header of an Ethernet frame, behind up to two VLAN tags (802.1Q,
 * 802.1ad), as netvm_parse() finds it but without the IPv6 and L4 work the
 * NAT does not need: its offset, 0 when the frame is not IPv4 (or too short
 * to say), -1 when it is IPv4 but the header is invalid or cut (IHL < 5,
 * header or total length beyond the frame, total length below the header).
 */
static inline int32_t ipv4_at(const uint8_t *d, uint32_t len)
{
	uint32_t off = 12;

	if (len < 14)
		return 0;
	uint16_t et = ntohs(nat_get16(d + 12));
	for (int v = 0; v < 2 && (et == 0x8100 || et == 0x88a8); v++) {
		off += 4;
		if (len < off + 2)
			return 0;
		et = ntohs(nat_get16(d + off));
	}
	if (et != 0x0800)
		return 0;
	off += 2;
	const uint8_t *ip = d + off;
	if (len - off < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
		return -1;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, tot = ntohs(nat_get16(ip + 2));
	if (hl > len - off || tot < hl || tot > len - off)
		return -1;
	return (int32_t)off;
}

enum nat_verdict nat_translate(struct nat *n, uint8_t *data, uint32_t len, enum nat_side side,
			       uint64_t now)
{
	if (side == NAT_SIDE_OTHER) {
		COUNT(n, passed);
		return NAT_V_PASS;
	}
	int32_t off = ipv4_at(data, len);
	if (off == 0) { /* not IPv4: ARP, IPv6, ... */
		COUNT(n, passed);
		return NAT_V_PASS;
	}
	if (off < 0) {
		COUNT(n, drop_malformed);
		return NAT_V_DROP;
	}
	uint8_t *ip = data + off;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t tot = ntohs(nat_get16(ip + 2));
	int ext = -1;

	if (side == NAT_SIDE_OUTSIDE) {
		ext = nat_public_index(&n->cfg, nat_get32(ip + 16));
		if (ext < 0) {
			COUNT(n, passed);
			return NAT_V_PASS;
		}
	}
	if (ntohs(nat_get16(ip + 6)) & 0x1fff) {
		COUNT(n, drop_fragment);
		return NAT_V_DROP;
	}
	if (side == NAT_SIDE_INSIDE)
		return outbound(n, ip, ip + hl, tot - hl, now);
	return inbound(n, ip, ip + hl, tot - hl, ext, now);
}
