/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounds-checked header parsing for the per-packet path.  Every read is
 * preceded by a length check against the frame (or the IP payload end), and
 * headers are copied out with memcpy because frames carry no alignment
 * guarantee (the IP header usually sits at offset 14).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include <netvm/packet.h>

#define ETH_HDR_LEN  14
#define VLAN_TAG_LEN 4
#define VLAN_TPID_Q  0x8100 /* 802.1Q */
#define VLAN_TPID_AD 0x88a8 /* 802.1ad (QinQ outer tag) */
#define MAX_VLANS    2

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * Fixed header length of the L4 protocols whose first 4 bytes are the source
 * and destination ports, 0 for the others.  TCP's 20 bytes include the flags,
 * so a "complete" TCP header can no longer be rewritten by a later fragment
 * unless that fragment overlaps it (RFC 3128: offset 1).
 */
static uint32_t ports_hdr_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return sizeof(struct tcphdr);
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return sizeof(struct udphdr);
	case IPPROTO_SCTP: /* common header */
	case IPPROTO_DCCP: /* generic header, short sequence numbers */
		return 12;
	default:
		return 0;
	}
}

/* Validate the L4 header at @off, bounded by the IP payload end @end. */
static int parse_l4(const uint8_t *data, uint32_t off, uint32_t end, uint8_t proto,
		    struct netvm_parsed *out)
{
	uint32_t avail = end - off, need = ports_hdr_len(proto);

	out->l4_proto = proto;
	if (need == 0) {
		out->l4_state = NETVM_L4_NONE; /* no ports to find (ICMP, GRE, ESP, ...) */
		return NETVM_PARSE_OK;
	}
	out->l4_state = NETVM_L4_TRUNCATED;
	if (avail < need)
		return NETVM_PARSE_TRUNC_L4;
	if (proto == IPPROTO_TCP) {
		uint8_t doff = data[off + 12] >> 4; /* th_off, high nibble */

		if (doff < 5 || (uint32_t)doff * 4 > avail)
			return NETVM_PARSE_BAD_L4;
	}
	out->l4_state = NETVM_L4_COMPLETE;
	out->l4_off = (uint16_t)off;
	out->l4_len = (uint16_t)avail;
	return NETVM_PARSE_OK;
}

static int parse_ipv4(const uint8_t *data, uint32_t len, uint32_t off, struct netvm_parsed *out)
{
	struct ip ip;
	uint32_t hlen, tot, end;
	uint16_t frag;

	if (len - off < sizeof(ip))
		return NETVM_PARSE_TRUNC_L3;
	memcpy(&ip, data + off, sizeof(ip));
	if (ip.ip_v != 4 || ip.ip_hl < 5)
		return NETVM_PARSE_BAD_L3;
	hlen = (uint32_t)ip.ip_hl * 4;
	if (len - off < hlen)
		return NETVM_PARSE_TRUNC_L3;
	tot = ntohs(ip.ip_len);
	if (tot < hlen || tot > len - off)
		return NETVM_PARSE_BAD_L3;

	out->l3_off = (uint16_t)off;
	out->ip_version = 4;
	frag = ntohs(ip.ip_off);
	out->frag_off = frag & IP_OFFMASK;
	if (frag & (IP_MF | IP_OFFMASK))
		out->frag = NETVM_FRAG_FRAGMENT | (out->frag_off ? 0 : NETVM_FRAG_FIRST);
	/* Only the first fragment carries the L4 header. */
	if (out->frag_off) {
		out->l4_proto = ip.ip_p;
		out->l4_state = NETVM_L4_ABSENT;
		return NETVM_PARSE_OK;
	}
	/* Ethernet padding may follow the datagram: the IP length bounds L4. */
	end = off + tot;
	return parse_l4(data, off + hlen, end, ip.ip_p, out);
}

/* The extension headers the walk crosses (RFC 8200 section 4, RFC 4302). */
static bool ipv6_ext(uint8_t nxt)
{
	return nxt == IPPROTO_HOPOPTS || nxt == IPPROTO_ROUTING || nxt == IPPROTO_FRAGMENT ||
	       nxt == IPPROTO_DSTOPTS || nxt == IPPROTO_AH;
}

/* Length of extension header @nxt, from its second byte. */
static uint32_t ipv6_ext_len(uint8_t nxt, uint8_t len_byte)
{
	if (nxt == IPPROTO_FRAGMENT)
		return 8; /* fixed; that byte is reserved */
	if (nxt == IPPROTO_AH)
		return ((uint32_t)len_byte + 2) * 4; /* 4-byte units, minus 2 */
	return ((uint32_t)len_byte + 1) * 8;	     /* 8-byte units after the first 8 */
}

/*
 * Record the facts of the fragment header at @fh.  False when it is not the
 * first fragment: what follows it is data, the chain goes on in the fragment
 * at offset 0.  An atomic fragment (offset 0, M=0) is a whole packet.
 */
static bool ipv6_frag(const uint8_t *fh, struct netvm_parsed *out)
{
	uint16_t offlg = rd16(fh + 2);
	uint16_t fo = offlg >> 3;

	if (fo == 0 && !(offlg & 1)) {
		out->frag |= NETVM_FRAG_ATOMIC;
		return true;
	}
	out->frag_off = fo;
	out->frag |= NETVM_FRAG_FRAGMENT;
	if (fo == 0)
		out->frag |= NETVM_FRAG_FIRST;
	else
		out->frag &= (uint8_t)~NETVM_FRAG_FIRST;
	return fo == 0;
}

/*
 * Walk the extension headers from @off (next header @nxt) to the L4 header,
 * bounded by the IP payload end @end.  Every extension header is at least 8
 * bytes, and its first two are the next header and the length.
 */
static int parse_ipv6_ext(const uint8_t *data, uint32_t off, uint32_t end, uint8_t nxt,
			  struct netvm_parsed *out)
{
	while (ipv6_ext(nxt)) {
		uint32_t hlen;

		out->l4_proto = nxt;
		out->l4_state = NETVM_L4_TRUNCATED;
		if (out->ext_count == NETVM_IPV6_MAX_EXT)
			return NETVM_PARSE_EXT_CHAIN;
		if (end - off < 8)
			return NETVM_PARSE_TRUNC_L4;
		hlen = ipv6_ext_len(nxt, data[off + 1]);
		if (end - off < hlen)
			return NETVM_PARSE_TRUNC_L4;
		out->ext_count++;
		if (nxt == IPPROTO_FRAGMENT && !ipv6_frag(data + off, out)) {
			out->l4_proto = data[off];
			out->l4_state = NETVM_L4_ABSENT;
			return NETVM_PARSE_OK;
		}
		nxt = data[off];
		off += hlen;
	}
	return parse_l4(data, off, end, nxt, out);
}

static int parse_ipv6(const uint8_t *data, uint32_t len, uint32_t off, struct netvm_parsed *out)
{
	struct ip6_hdr ip6;
	uint32_t plen;

	if (len - off < sizeof(ip6))
		return NETVM_PARSE_TRUNC_L3;
	memcpy(&ip6, data + off, sizeof(ip6));
	if ((data[off] >> 4) != 6)
		return NETVM_PARSE_BAD_L3;
	plen = ntohs(ip6.ip6_plen);
	if (plen > len - off - sizeof(ip6))
		return NETVM_PARSE_BAD_L3;

	out->l3_off = (uint16_t)off;
	out->ip_version = 6;
	off += (uint32_t)sizeof(ip6);
	return parse_ipv6_ext(data, off, off + plen, ip6.ip6_nxt, out);
}

int netvm_parse(const uint8_t *data, uint32_t len, struct netvm_parsed *out)
{
	uint32_t off = ETH_HDR_LEN;
	uint16_t type;
	int i;

	memset(out, 0, sizeof(*out));
	out->l4_state = NETVM_L4_NONE;
	if (len < ETH_HDR_LEN)
		return NETVM_PARSE_TRUNC_L2;
	type = rd16(data + 12);
	for (i = 0; i < MAX_VLANS && (type == VLAN_TPID_Q || type == VLAN_TPID_AD); i++) {
		if (len - off < VLAN_TAG_LEN)
			return NETVM_PARSE_TRUNC_L2;
		if (i == 0)
			out->vlan_tci = rd16(data + off);
		type = rd16(data + off + 2);
		off += VLAN_TAG_LEN;
	}
	out->ethertype = type;

	if (type == ETHERTYPE_IP)
		return parse_ipv4(data, len, off, out);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(data, len, off, out);
	return NETVM_PARSE_OK;
}

int netvm_5tuple_from(const uint8_t *data, const struct netvm_parsed *p, struct netvm_5tuple *t)
{
	const uint8_t *l3;

	memset(t, 0, sizeof(*t));
	if (p->ip_version == 0)
		return -1;
	l3 = data + p->l3_off;
	t->family = p->ip_version;
	t->proto = p->l4_proto;
	t->l4 = p->l4_state;
	if (p->ip_version == 4) {
		memcpy(t->src, l3 + offsetof(struct ip, ip_src), 4);
		memcpy(t->dst, l3 + offsetof(struct ip, ip_dst), 4);
	} else {
		memcpy(t->src, l3 + offsetof(struct ip6_hdr, ip6_src), 16);
		memcpy(t->dst, l3 + offsetof(struct ip6_hdr, ip6_dst), 16);
	}
	if (p->l4_state == NETVM_L4_COMPLETE) {
		/* Every protocol parse_l4() completes starts with the two ports. */
		t->sport = rd16(data + p->l4_off);
		t->dport = rd16(data + p->l4_off + 2);
	}
	return 0;
}

int netvm_5tuple_get(const uint8_t *data, uint32_t len, struct netvm_5tuple *t)
{
	struct netvm_parsed p;

	if (netvm_parse(data, len, &p) != NETVM_PARSE_OK || p.ip_version == 0)
		return -1;
	return netvm_5tuple_from(data, &p, t);
}

static inline uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* One murmur3 block step. */
static inline uint32_t mix(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static inline uint32_t mix_addr(uint32_t h, const uint8_t *a, unsigned int n)
{
	uint32_t w;
	unsigned int i;

	for (i = 0; i < n; i += 4) {
		memcpy(&w, a + i, 4);
		h = mix(h, w);
	}
	return h;
}

uint32_t netvm_flow_hash(const struct netvm_5tuple *t)
{
	/* Only the address bytes the family uses, so stray bytes cannot split a flow. */
	unsigned int n = t->family == 6 ? 16 : 4;
	const uint8_t *a = t->src, *b = t->dst;
	uint16_t pa = t->sport, pb = t->dport;
	uint32_t h = 0x4e564d31u; /* "NVM1" seed */
	int c;

	/* Order the two endpoints so that both directions hash alike. */
	c = memcmp(a, b, n);
	if (c > 0 || (c == 0 && pa > pb)) {
		a = t->dst;
		b = t->src;
		pa = t->dport;
		pb = t->sport;
	}
	h = mix(h, (uint32_t)t->family << 8 | t->proto);
	h = mix_addr(h, a, n);
	h = mix_addr(h, b, n);
	h = mix(h, (uint32_t)pa << 16 | pb);
	return fmix32(h ^ (2 * n + 8));
}

uint32_t netvm_pkt_flow_hash(const uint8_t *data, uint32_t len)
{
	struct netvm_5tuple t;

	if (netvm_5tuple_get(data, len, &t) < 0)
		return 0;
	return netvm_flow_hash(&t);
}

void netvm_eth_swap(uint8_t *data, uint32_t len)
{
	uint8_t tmp[6];

	if (len < 12)
		return;
	memcpy(tmp, data, 6);
	memcpy(data, data + 6, 6);
	memcpy(data + 6, tmp, 6);
}
