/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP error translation (RFC 5508 section 4): a
 * destination unreachable (3), time exceeded (11) or parameter problem (12)
 * carries the IP header and at least 8 bytes of the packet that caused it.
 * That packet crossed the NAT the other way, so its translation is undone:
 *
 *   from the outside: the embedded packet went out from public:ext_port;
 *     its source becomes the inside endpoint again, and the outer
 *     destination (the public address) the inside host;
 *   from the inside: the embedded packet came in to the inside endpoint;
 *     its destination becomes public:ext_port again, and the outer source
 *     the public address (an inside address never leaves).
 *
 * The embedded IP header checksum, the embedded TCP/UDP checksum (when its
 * bytes are in the error: always for UDP, for TCP when 18 bytes of it are;
 * a UDP checksum of 0 stays 0) or the embedded ICMP query's checksum, the
 * ICMP checksum over all of that, and the outer IP header checksum are all
 * updated incrementally.  The mapping is found from the embedded header and
 * is not refreshed (RFC 5508: errors do not keep mappings alive).
 * Errors whose embedded packet is cut before 8 bytes of L4, is a fragment
 * after the first, is an ICMP error itself, or matches no mapping are
 * dropped (drop_icmp_error).
 */
#include <string.h>
#include <netinet/in.h>

#include <netvm/csum.h>

#include "nat.h"

#define MAX_SPAN (60 + 18) /* embedded IP header + through the TCP checksum */

static inline void fix16(uint8_t *cs, uint16_t old, uint16_t v, bool zero_is_none)
{
	uint16_t c = nat_get16(cs);

	if (zero_is_none && c == 0)
		return;
	c = netvm_csum_update16(c, old, v);
	nat_put16(cs, zero_is_none && c == 0 ? 0xffff : c);
}

static inline void fix32(uint8_t *cs, uint32_t old, uint32_t v, bool zero_is_none)
{
	uint16_t c = nat_get16(cs);

	if (zero_is_none && c == 0)
		return;
	c = netvm_csum_update32(c, old, v);
	nat_put16(cs, zero_is_none && c == 0 ? 0xffff : c);
}

enum nat_verdict nat_icmp_error(struct nat *n, uint8_t *ip, uint8_t *icmp, uint32_t len,
				enum nat_side side, int ext)
{
	uint8_t *in = icmp + 8; /* the embedded IP header */
	uint32_t avail = len - 8, ihl;
	int proto;
	bool pseudo = true, zero_is_none = false;
	uint32_t cs_off, need_cs;

	if (len < 8 + 20 || (in[0] >> 4) != 4 || (in[0] & 0x0f) < 5)
		goto bad;
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	if (avail < ihl + 8 || (ntohs(nat_get16(in + 6)) & 0x1fff))
		goto bad;
	uint8_t *l4 = in + ihl;
	uint32_t l4avail = avail - ihl;
	uint32_t id_off; /* the inside endpoint's port (or identifier) in the embedded packet */

	switch (in[9]) {
	case IPPROTO_TCP:
		proto = NAT_TCP;
		cs_off = 16;
		break;
	case IPPROTO_UDP:
		proto = NAT_UDP;
		cs_off = 6;
		zero_is_none = true;
		break;
	case IPPROTO_ICMP:
		/* Only queries have identifiers; never translate an error about an error. */
		if (l4[0] != 8 && l4[0] != 0 && l4[0] != 13 && l4[0] != 14)
			goto bad;
		proto = NAT_ICMP;
		cs_off = 2;
		pseudo = false;
		break;
	default:
		goto bad;
	}
	need_cs = cs_off + 2;
	uint8_t *l4cs = l4avail >= need_cs ? l4 + cs_off : NULL;

	uint8_t old[MAX_SPAN];
	/* The bytes that may change: the embedded IP header, its first 8 bytes
	 * of L4 (ports, identifier, UDP and ICMP checksums), the TCP checksum. */
	uint32_t span_end = ihl + (need_cs > 8 ? need_cs : 8);
	uint32_t span = span_end < avail ? span_end : avail;
	memcpy(old, in, span);

	struct nat_map *m;
	uint32_t addr_off;
	uint32_t new_addr, outer_off;
	uint16_t new_port;
	if (side == NAT_SIDE_OUTSIDE) {
		/* Our outbound packet: from public[ext]:ext_port. */
		if (nat_get32(in + 12) != n->cfg.public_addr[ext])
			goto bad;
		id_off = proto == NAT_ICMP ? 4 : 0;
		m = nat_lookup_out(&n->t, proto, ext, nat_get16(l4 + id_off));
		if (!m)
			goto bad;
		addr_off = 12;
		new_addr = m->in_addr;
		new_port = m->in_port;
		outer_off = 16; /* the outer destination: public -> inside host */
	} else {
		/* The inbound packet as the inside host got it: to in_addr:in_port. */
		id_off = proto == NAT_ICMP ? 4 : 2;
		m = nat_lookup_in(&n->t, proto, nat_get32(in + 16), nat_get16(l4 + id_off));
		if (!m)
			goto bad;
		addr_off = 16;
		new_addr = n->cfg.public_addr[m->ext];
		new_port = m->ext_port;
		outer_off = 12; /* the outer source: inside host -> public */
	}

	/* The embedded packet: address (IP header and pseudo-header), port. */
	uint32_t old_addr = nat_get32(in + addr_off);
	nat_put32(in + addr_off, new_addr);
	nat_put16(in + 10, netvm_csum_update32(nat_get16(in + 10), old_addr, new_addr));
	if (l4cs && pseudo)
		fix32(l4cs, old_addr, new_addr, zero_is_none);
	uint16_t old_port = nat_get16(l4 + id_off);
	nat_put16(l4 + id_off, new_port);
	if (l4cs)
		fix16(l4cs, old_port, new_port, zero_is_none);

	/* The ICMP checksum covers the embedded bytes just changed. */
	nat_put16(icmp + 2, nat_csum_delta(nat_get16(icmp + 2), old, in, span));

	/* The outer header (ICMP has no pseudo-header). */
	uint32_t old_outer = nat_get32(ip + outer_off);
	nat_put32(ip + outer_off, new_addr);
	nat_put16(ip + 10, netvm_csum_update32(nat_get16(ip + 10), old_outer, new_addr));
	if (side == NAT_SIDE_OUTSIDE) {
		*n->c[NAT_C_icmp_err_in] += 1;
		return NAT_V_IN;
	}
	*n->c[NAT_C_icmp_err_out] += 1;
	return NAT_V_OUT;
bad:
	*n->c[NAT_C_drop_icmp_error] += 1;
	return NAT_V_DROP;
}
