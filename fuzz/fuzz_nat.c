/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: nf-nat's translation path (nfs/nat/) on arbitrary
 * packets, both ways.  An input is a sequence of records
 *
 *   [side and length byte] [length byte] [frame bytes ...]
 *
 * (bit 7 of the first byte: from the outside, else from the inside; the
 * length is 11 bits), fed in order to one NAT with 8 external ports, so
 * that outbound packets make mappings that later inbound ones, hairpins and
 * ICMP errors find, and ports run out.  Each frame is an exact-size heap
 * copy (ASan catches any read past it).  For every packet translated, each
 * checksum that verified before (IPv4 header, the L4 checksum over the
 * datagram, an ICMP error's embedded IP header and embedded L4 when it is
 * all there) must verify after, a UDP checksum of 0 must stay 0; a packet
 * passed or dropped must be untouched; and the counters must agree with the
 * table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The IPv4 packet of an untagged Ethernet frame, if it is one whose
 * headers are whole (what the translator needs to have changed it). */
static const uint8_t *ipv4(const uint8_t *f, size_t len, size_t *iplen)
{
	if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || (f[14] & 15) < 5)
		return NULL;
	const uint8_t *ip = f + 14;
	size_t hl = (size_t)(ip[0] & 15) * 4, tot = rd16(ip + 2);
	if (hl > tot || tot > len - 14)
		return NULL;
	*iplen = tot;
	return ip;
}

/* Bits: 1 IP header, 2 L4 over the datagram, 4 embedded IP header, 8
 * embedded L4, 16 a UDP checksum of 0 (outer), 32 (embedded). */
static unsigned l4_valid(const uint8_t *ip, size_t tot, unsigned shift)
{
	size_t hl = (size_t)(ip[0] & 15) * 4;
	const uint8_t *l4 = ip + hl;
	size_t l4len = tot - hl;
	unsigned v = 0;
	uint32_t ps = 0;

	if (rd16(ip + 6) & 0x3fff) /* a fragment: the checksum covers more */
		return 0;
	for (int i = 12; i < 20; i += 2)
		ps += rd16(ip + i);
	if (ip[9] == 6 && l4len >= 20 && sum16(l4, l4len, ps + 6 + (uint32_t)l4len) == 0xffff)
		v |= 2u << shift;
	if (ip[9] == 17 && l4len >= 8 && rd16(l4 + 4) == l4len) {
		if (rd16(l4 + 6) == 0)
			v |= 16u << (shift / 2);
		else if (sum16(l4, l4len, ps + 17 + (uint32_t)l4len) == 0xffff)
			v |= 2u << shift;
	}
	if (ip[9] == 1 && l4len >= 8 && sum16(l4, l4len, 0) == 0xffff)
		v |= 2u << shift;
	return v;
}

static unsigned valid(const uint8_t *f, size_t len)
{
	size_t tot;
	const uint8_t *ip = ipv4(f, len, &tot);
	unsigned v = 0;

	if (!ip)
		return 0;
	size_t hl = (size_t)(ip[0] & 15) * 4;
	if (sum16(ip, hl, 0) == 0xffff)
		v |= 1;
	v |= l4_valid(ip, tot, 0);
	/* An ICMP error's embedded packet. */
	const uint8_t *icmp = ip + hl;
	size_t ilen = tot - hl;
	if (ip[9] == 1 && ilen >= 28 && (icmp[0] == 3 || icmp[0] == 11 || icmp[0] == 12)) {
		const uint8_t *in = icmp + 8;
		size_t avail = ilen - 8, ihl = (size_t)(in[0] & 15) * 4;
		if ((in[0] >> 4) == 4 && ihl >= 20 && ihl <= avail) {
			if (sum16(in, ihl, 0) == 0xffff)
				v |= 4;
			size_t itot = rd16(in + 2);
			if (itot >= ihl && itot <= avail)
				v |= l4_valid(in, itot, 2);
		}
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nat_config cfg;
	struct nat *n = malloc(sizeof(*n));
	uint64_t now = 0;

	if (!n)
		return 0;
	nat_config_defaults(&cfg);
	cfg.n_public = 2;
	memcpy(&cfg.public_addr[0], "\xc6\x33\x64\x01", 4); /* 198.51.100.1 */
	memcpy(&cfg.public_addr[1], "\xc6\x33\x64\x02", 4);
	cfg.port_min = 1024;
	cfg.port_max = 1031;
	cfg.max_mappings = 24;
	cfg.timeout.udp = 50;
	cfg.timeout.tcp_transitory = 70;
	cfg.hairpin = NAT_HAIRPIN_PORT;
	if (nat_init(n, &cfg) < 0) {
		free(n);
		return 0;
	}
	/* Fixed keys: an input always does the same thing. */
	memset(n->t.alloc.key_f, 1, sizeof(n->t.alloc.key_f));
	memset(n->t.alloc.key_g, 2, sizeof(n->t.alloc.key_g));

	while (size >= 2) {
		bool outside = data[0] & 0x80;
		size_t len = (size_t)(data[0] & 0x07) << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		uint8_t *f = malloc(len ? len : 1);
		if (!f)
			break;
		memcpy(f, data, len);
		data += len;
		size -= len;

		unsigned before = valid(f, len);
		uint8_t *orig = malloc(len ? len : 1);
		if (!orig) {
			free(f);
			break;
		}
		memcpy(orig, f, len);
		enum nat_verdict v = nat_translate(
		    n, f, (uint32_t)len, outside ? NAT_SIDE_OUTSIDE : NAT_SIDE_INSIDE, now);
		unsigned after = valid(f, len);
		if (v == NAT_V_OUT || v == NAT_V_IN || v == NAT_V_HAIRPIN) {
			/* What verified still does; a UDP checksum 0 is still 0. */
			if ((before & after) != before)
				abort();
		} else if (memcmp(f, orig, len)) {
			abort(); /* passed or dropped: untouched */
		}
		free(orig);
		free(f);
		now += 10;
		nat_tick(n, now);
		uint64_t mappings = n->t.max - n->t.n_free;
		if (n->local_c[NAT_C_mappings] != mappings ||
		    n->local_c[NAT_C_mappings_created] - n->local_c[NAT_C_expired] != mappings)
			abort();
	}
	nat_fini(n);
	free(n);
	return 0;
}
