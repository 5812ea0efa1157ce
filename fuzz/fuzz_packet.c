/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the packet parsers and the firewall's view of a frame
 * (netvm_match_tuple, netvm_match_test) on arbitrary bytes.  They run on
 * every frame a port receives, so no input may make them read out of bounds,
 * and what they report must hang together.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/match.h>
#include <netvm/packet.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

/* What netvm_parse() reports must be consistent with itself. */
static void check_parsed(int r, const struct netvm_parsed *p, uint32_t len)
{
	if (r == NETVM_PARSE_OK) {
		/* The offsets it reports must lie inside the frame. */
		if ((p->l3_off && p->l3_off >= len) || p->l4_off > len ||
		    (uint32_t)p->l4_off + p->l4_len > len)
			abort();
	}
	if (p->ext_count > NETVM_IPV6_MAX_EXT ||
	    (r == NETVM_PARSE_EXT_CHAIN && p->ext_count != NETVM_IPV6_MAX_EXT))
		abort();
	/* An L4 offset exactly when the header is complete. */
	if ((p->l4_off != 0) != (p->ip_version != 0 && p->l4_state == NETVM_L4_COMPLETE))
		abort();
	if (p->ip_version == 0 && (p->l4_state != NETVM_L4_NONE || p->frag || p->ext_count))
		abort();
	if ((p->frag & NETVM_FRAG_FIRST) && !(p->frag & NETVM_FRAG_FRAGMENT))
		abort();
	/* Only a non-first fragment lacks its L4 header, and it always does. */
	bool later = (p->frag & NETVM_FRAG_FRAGMENT) && !(p->frag & NETVM_FRAG_FIRST);
	if (p->ip_version && later != (p->l4_state == NETVM_L4_ABSENT))
		abort();
	if (later && p->frag_off == 0)
		abort();
}

/* The matcher's tuple agrees with netvm_5tuple_get(), and rules with ports
 * match only complete L4 headers. */
static void check_match(const uint8_t *buf, uint32_t len, const struct netvm_parsed *p)
{
	struct netvm_5tuple m, t;
	struct netvm_match any, ports;
	int rm = netvm_match_tuple(buf, len, &m);

	if ((rm < 0) != (p->ethertype != ETHERTYPE_IPV4 && p->ethertype != ETHERTYPE_IPV6))
		abort();
	if (rm < 0)
		return;
	if ((m.family == 0) != (m.malformed == NETVM_MALFORMED_BAD_IP) ||
	    m.malformed >= NETVM_MALFORMED_COUNT)
		abort();
	if (netvm_5tuple_get(buf, len, &t) == 0) {
		/* A clean parse: the same key; only a TCP offset-1 fragment is evasive. */
		if (m.malformed != NETVM_MALFORMED_NONE && m.malformed != NETVM_MALFORMED_TCP_OFF1)
			abort();
		m.malformed = 0;
		if (memcmp(&m, &t, sizeof(t)) != 0)
			abort();
	} else if (m.malformed == NETVM_MALFORMED_NONE) {
		abort(); /* an IP frame the parser refused must be judged */
	}
	netvm_match_any(&any);
	netvm_match_any(&ports);
	ports.dport_hi = 100; /* dport 0-100: also the 0 of a port that is not there */
	if (netvm_match_test(&any, &m) != (m.family != 0))
		abort();
	if (netvm_match_test(&ports, &m) && m.l4 != NETVM_L4_COMPLETE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	/* A heap copy of exactly @size bytes, so ASan sees any over-read. */
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int r = netvm_parse(buf, len, &p);
	check_parsed(r, &p, len);
	check_match(buf, len, &p);
	if (netvm_5tuple_get(buf, len, &t) == 0) {
		if (t.family != 4 && t.family != 6)
			abort();
		/* Symmetric: the reverse direction hashes alike. */
		struct netvm_5tuple rev = t;
		memcpy(rev.src, t.dst, sizeof(rev.src));
		memcpy(rev.dst, t.src, sizeof(rev.dst));
		rev.sport = t.dport;
		rev.dport = t.sport;
		if (netvm_flow_hash(&t) != netvm_flow_hash(&rev))
			abort();
		if (netvm_pkt_flow_hash(buf, len) != netvm_flow_hash(&t))
			abort();
	} else if (netvm_pkt_flow_hash(buf, len) != 0) {
		abort(); /* frames that are not IP hash to 0 */
	}
	netvm_eth_swap(buf, len);
	free(buf);
	return 0;
}
