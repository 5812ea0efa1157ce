/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Internet checksums (RFC 1071) for NFs that rewrite headers: the IPv4
 * header checksum, TCP/UDP/ICMPv6 checksums with their pseudo-header, and
 * incremental updates after a field changes (RFC 1624).
 *
 * Every value is in the byte order it is stored in the packet: load a
 * checksum or field with memcpy into a uint16_t (or uint32_t), pass it, and
 * store the result the same way.  No byte swapping is needed: the ones'
 * complement sum does not depend on byte order.
 */
#ifndef NETVM_CSUM_H
#define NETVM_CSUM_H

#include <stddef.h>
#include <stdint.h>

/** Add @p len bytes at @p data to the 32-bit ones' complement sum @p sum
 *  (start with 0).  An odd length counts a zero byte after the data. */
uint32_t netvm_csum_add(uint32_t sum, const void *data, size_t len);

/** Fold @p sum to 16 bits and complement it: the checksum to store. */
uint16_t netvm_csum_fold(uint32_t sum);

/** The checksum of the IPv4 header at @p ip (its length from the IHL; its
 *  own checksum field counted as zero), to store at ip + 10. */
uint16_t netvm_ipv4_csum(const uint8_t *ip);

/**
 * The checksum of the L4 segment at @p l4 (@p len bytes: header and data),
 * IPv4 or IPv6 pseudo-header from the IP header at @p l3, for protocol
 * @p proto (TCP, UDP, ICMPv6; ICMP has no pseudo-header: use
 * netvm_csum_fold(netvm_csum_add(0, l4, len))).  The segment's own checksum
 * field must be zero while it is computed.  For UDP a computed 0 is given
 * as 0xffff (0 on the wire means "no checksum", RFC 768).
 */
uint16_t netvm_l4_csum(const uint8_t *l3, const uint8_t *l4, uint32_t len, uint8_t proto);

/** RFC 1624 (eqn. 3): the checksum @p csum after a 16-bit field covered by
 *  it changed from @p old to @p new. */
uint16_t netvm_csum_update16(uint16_t csum, uint16_t old, uint16_t new_);

/** The same for a 32-bit field (an IPv4 address, which the IPv4 header and
 *  the TCP/UDP pseudo-header both cover). */
uint16_t netvm_csum_update32(uint16_t csum, uint32_t old, uint32_t new_);

#endif
