/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The packet descriptor: the only thing that moves through NetVM's rings.
 *
 * A descriptor names a packet by the index of its buffer in the region's
 * buffer pool, never by address, so every process and guest can map the
 * region wherever it likes.  It is 16 bytes, four per cache line.
 */
#ifndef NETVM_DESC_H
#define NETVM_DESC_H

#include <stdint.h>

/** What an NF wants done with a packet (netvm_desc.action). */
enum netvm_action {
	NETVM_ACT_NEXT = 0,    /**< next hop of the packet's chain (out a port at its end) */
	NETVM_ACT_DROP = 1,    /**< free the buffer (counted as an NF drop) */
	NETVM_ACT_SERVICE = 2, /**< send to service netvm_desc.dst */
	NETVM_ACT_PORT = 3,    /**< send out port netvm_desc.dst */
	NETVM_ACT_OUTPUT = 4,  /**< out of output netvm_desc.dst of this hop (graph chains;
				  output 0 is NETVM_ACT_NEXT) */
	NETVM_ACT_MAX
};

/** No port: the ingress port of a packet an NF made with no origin. */
#define NETVM_PORT_NONE 0xffff

/** Outputs a hop of a chain may have (netvm_desc.dst of NETVM_ACT_OUTPUT). */
#define NETVM_MAX_OUTPUTS 16

/** netvm_desc.flags: the packet takes the place (chain, hop, ingress port)
 *  of the buffer in netvm_desc.hash, which the NF still holds (set by
 *  netvm_pkt_alloc() with a @p like packet). */
#define NETVM_DESC_F_ORIGIN 0x01

/**
 * One packet reference.  Field ownership: the switch fills every field
 * when it hands a packet to an NF; the NF may change off, len, action and
 * dst.  The switch validates all of them when the descriptor comes back.
 */
struct netvm_desc {
	uint32_t buf;	/**< buffer index in the region's pool */
	uint16_t off;	/**< start of packet data inside the buffer */
	uint16_t len;	/**< packet length in bytes */
	uint8_t action; /**< enum netvm_action, set by the NF */
	uint8_t flags;	/**< reserved, 0 */
	uint16_t dst;	/**< service or port id for NETVM_ACT_SERVICE / _PORT, output for
			 *   _OUTPUT; on the way to an NF: the packet's ingress port */
	uint32_t hash;	/**< the packet's flow hash (netvm_pkt_flow_hash()), always set by the
			 *   switch; not trusted when it comes back */
};
_Static_assert(sizeof(struct netvm_desc) == 16, "descriptor ABI is 16 bytes");

#endif
