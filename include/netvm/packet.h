/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet header access that never reads past the packet's length.
 *
 * Every function takes the packet's bytes and length and returns NULL or an
 * error when the header it would read is not entirely inside the packet.
 * Integer fields in struct netvm_5tuple are in host byte order.
 */
#ifndef NETVM_PACKET_H
#define NETVM_PACKET_H

#include <stdint.h>
#include <stdbool.h>

/** Result of netvm_parse(). */
enum netvm_parse_err {
	NETVM_PARSE_OK = 0,
	NETVM_PARSE_TRUNC_L2 = -1, /**< shorter than an Ethernet (+VLAN) header */
	NETVM_PARSE_TRUNC_L3 = -2, /**< IP header cut short */
	NETVM_PARSE_BAD_L3 = -3,   /**< bad IP version, IHL, or total length */
	NETVM_PARSE_TRUNC_L4 = -4, /**< TCP/UDP header cut short */
	NETVM_PARSE_BAD_L4 = -5,   /**< bad TCP data offset */
};

/** Header offsets found by netvm_parse(); 0 means absent. */
struct netvm_parsed {
	uint16_t ethertype; /**< after any VLAN tags, host order */
	uint16_t vlan_tci;  /**< outermost VLAN TCI (host order), 0 if untagged */
	uint16_t l3_off;    /**< IPv4/IPv6 header, 0 if not IP */
	uint16_t l4_off;    /**< TCP/UDP header, 0 if neither (or a non-first fragment) */
	uint16_t l4_len;    /**< bytes from l4_off to the end of the IP payload */
	uint8_t ip_version; /**< 4, 6 or 0 */
	uint8_t l4_proto;   /**< IP protocol number (IPPROTO_*), 0 if not IP */
};

/** A flow key.  Addresses are IPv4 in the first 4 bytes, or IPv6. */
struct netvm_5tuple {
	uint8_t family; /**< 4 or 6 */
	uint8_t proto;	/**< IPPROTO_* */
	uint16_t sport; /**< host order; 0 when not TCP/UDP */
	uint16_t dport;
	uint16_t pad;
	uint8_t src[16];
	uint8_t dst[16];
};

/**
 * Find the L2/L3/L4 headers of an Ethernet frame (up to two VLAN tags,
 * IPv4 with options, IPv6 without extension-header walking except that the
 * next header must be TCP or UDP to find L4).
 * @return NETVM_PARSE_OK, or a negative enum netvm_parse_err; @p out holds
 *         what was found before the error.
 */
int netvm_parse(const uint8_t *data, uint32_t len, struct netvm_parsed *out);

/**
 * Extract the 5-tuple of an IPv4/IPv6 packet.
 * @return 0, or -1 when the frame is not IP or its headers are malformed.
 */
int netvm_5tuple_get(const uint8_t *data, uint32_t len, struct netvm_5tuple *t);

/**
 * Flow hash of a 5-tuple: the same flow always hashes to the same value,
 * and both directions of a flow hash alike (symmetric).
 */
uint32_t netvm_flow_hash(const struct netvm_5tuple *t);

/** Flow hash of a frame; frames that are not IP hash to 0. */
uint32_t netvm_pkt_flow_hash(const uint8_t *data, uint32_t len);

/** Swap source and destination MAC addresses (no-op if len < 12). */
void netvm_eth_swap(uint8_t *data, uint32_t len);

#endif
