/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the packet parsers on arbitrary bytes.  They run on
 * every frame a port receives, so no input may make them read out of bounds.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/packet.h>

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
	if (r == NETVM_PARSE_OK) {
		/* The offsets it reports must lie inside the frame. */
		if ((p.l3_off && p.l3_off >= len) || p.l4_off > len ||
		    (uint32_t)p.l4_off + p.l4_len > len)
			abort();
	}
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
