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

/**
 * The most IPv6 extension headers netvm_parse() walks before the L4 header.
 * A longer chain is refused (NETVM_PARSE_EXT_CHAIN) rather than skipped: a
 * bound keeps the per-packet cost fixed, and RFC 8200 chains in practice
 * hold a few headers (each at most once, destination options twice).
 */
#define NETVM_IPV6_MAX_EXT 8

/** Result of netvm_parse(). */
enum netvm_parse_err {
	NETVM_PARSE_OK = 0,
	NETVM_PARSE_TRUNC_L2 = -1,  /**< shorter than an Ethernet (+VLAN) header */
	NETVM_PARSE_TRUNC_L3 = -2,  /**< IP header cut short */
	NETVM_PARSE_BAD_L3 = -3,    /**< bad IP version, IHL, or total/payload length */
	NETVM_PARSE_TRUNC_L4 = -4,  /**< L4 header, or an IPv6 extension header before it, cut
				       short by the IP payload length */
	NETVM_PARSE_BAD_L4 = -5,    /**< bad TCP data offset */
	NETVM_PARSE_EXT_CHAIN = -6, /**< more than NETVM_IPV6_MAX_EXT IPv6 extension headers */
};

/**
 * What the parser found of the L4 header (netvm_parsed.l4_state,
 * netvm_5tuple.l4).  Ports are known only in NETVM_L4_COMPLETE; the value 0
 * is that state so that hand-built 5-tuples keep meaning what they say.
 */
enum netvm_l4_state {
	/** The L4 header of a port protocol (TCP, UDP, UDP-Lite, SCTP, DCCP) is
	 * entirely inside the IP payload (for TCP: the 20-byte fixed header, flags
	 * included, and a data offset within the payload): ports are known. */
	NETVM_L4_COMPLETE = 0,
	/** Not IP, or a protocol whose header the parser does not read (ICMP,
	 * ICMPv6, GRE, ESP, IPv6 "no next header", ...): there are no ports. */
	NETVM_L4_NONE = 1,
	/** A non-first fragment: its L4 header is in the fragment at offset 0. */
	NETVM_L4_ABSENT = 2,
	/** A whole packet or first fragment in which the header chain does not
	 * reach a complete L4 header: a port protocol's header cut short (RFC
	 * 1858 tiny fragments) or with a bad TCP data offset, an IPv6 extension
	 * header cut short (RFC 7112), or a chain past NETVM_IPV6_MAX_EXT. */
	NETVM_L4_TRUNCATED = 3,
};

/** @name Fragment facts (bits of netvm_parsed.frag)
 * @{ */
/** Part of a fragmented datagram: IPv4 with MF set or a non-zero offset, or
 * IPv6 with a fragment header that is not atomic. */
#define NETVM_FRAG_FRAGMENT 0x01
/** ... and the first one (offset 0): it must carry the L4 header. */
#define NETVM_FRAG_FIRST 0x02
/** IPv6 atomic fragment (RFC 6946): a fragment header with offset 0 and M=0.
 * Alone, it makes a complete packet, parsed as one (NETVM_FRAG_FRAGMENT is
 * then clear). */
#define NETVM_FRAG_ATOMIC 0x04
/** @} */

/** Header offsets found by netvm_parse(); 0 means absent. */
struct netvm_parsed {
	uint16_t ethertype; /**< after any VLAN tags, host order */
	uint16_t vlan_tci;  /**< outermost VLAN TCI (host order), 0 if untagged */
	uint16_t l3_off;    /**< IPv4/IPv6 header, 0 if not IP or the IP header is invalid */
	uint16_t l4_off;    /**< L4 header, 0 unless l4_state is NETVM_L4_COMPLETE */
	uint16_t l4_len;    /**< bytes from l4_off to the end of the IP payload */
	uint8_t ip_version; /**< 4 or 6 once the IP header is valid ("L3 known"), else 0 */
	/** IP protocol number (IPPROTO_*), 0 if not IP.  For IPv6, the header that
	 * follows the extension headers walked: the upper-layer protocol, ESP (50)
	 * or no next header (59), or where the walk stopped (a non-first
	 * fragment's next header, a truncated or over-long chain's last one). */
	uint8_t l4_proto;
	uint8_t l4_state;  /**< enum netvm_l4_state; meaningful when ip_version != 0 */
	uint8_t frag;	   /**< NETVM_FRAG_* bits, 0 when not a fragment */
	uint16_t frag_off; /**< fragment offset in 8-byte units (0 when not a fragment) */
	uint8_t ext_count; /**< IPv6 extension headers walked (at most NETVM_IPV6_MAX_EXT) */
};

/**
 * A flow key.  Addresses are IPv4 in the first 4 bytes, or IPv6.  The
 * ports are 0 unless l4 is NETVM_L4_COMPLETE.
 */
struct netvm_5tuple {
	uint8_t family; /**< 4 or 6; 0 only from netvm_match_tuple(): IP header invalid */
	uint8_t proto;	/**< IPPROTO_*, as netvm_parsed.l4_proto */
	uint16_t sport; /**< host order */
	uint16_t dport;
	uint8_t l4;	   /**< enum netvm_l4_state: whether the ports are known */
	uint8_t malformed; /**< enum netvm_malformed (match.h), from netvm_match_tuple(); 0 else */
	uint8_t src[16];
	uint8_t dst[16];
};

/**
 * Find the L2/L3/L4 headers of an Ethernet frame: up to two VLAN tags, IPv4
 * with options, IPv6 with up to NETVM_IPV6_MAX_EXT extension headers
 * (hop-by-hop 0, routing 43, fragment 44, destination options 60, AH 51;
 * the walk stops at ESP 50, no next header 59 and any other protocol), and
 * the L4 header of TCP, UDP, UDP-Lite, SCTP and DCCP.  Fragments: only a
 * first fragment (or an IPv6 atomic fragment) is searched for an L4 header;
 * an IPv6 first fragment must hold the whole chain through it (RFC 7112).
 * Nothing past @p len or the IP payload length is read.
 * @return NETVM_PARSE_OK, or a negative enum netvm_parse_err; @p out holds
 *         what was found before the error (ip_version, l4_state and frag are
 *         set whenever the IP header is valid, whatever the error after it).
 */
int netvm_parse(const uint8_t *data, uint32_t len, struct netvm_parsed *out);

/**
 * Extract the 5-tuple of an IPv4/IPv6 packet.
 * @return 0, or -1 when the frame is not IP or netvm_parse() fails (so a
 *         first fragment with a truncated L4 header is -1).  Non-first
 *         fragments succeed with ports 0 and l4 NETVM_L4_ABSENT.
 */
int netvm_5tuple_get(const uint8_t *data, uint32_t len, struct netvm_5tuple *t);

/**
 * The 5-tuple of a frame netvm_parse() has parsed into @p p, whatever the
 * parse's result after the IP header: addresses, protocol, l4 state, and
 * the ports when l4 is NETVM_L4_COMPLETE.  malformed is left 0.
 * @return 0, or -1 when @p p has no valid IP header (ip_version 0).
 */
int netvm_5tuple_from(const uint8_t *data, const struct netvm_parsed *p, struct netvm_5tuple *t);

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
