/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * 5-tuple matching with prefixes, port ranges and wildcards, shared by the
 * daemon's flow rules and by nf-firewall.
 */
#ifndef NETVM_MATCH_H
#define NETVM_MATCH_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include <netvm/packet.h>

/** One match.  Wildcards: family 0, proto 0, plen 0, port range 0..65535. */
struct netvm_match {
	uint8_t family; /**< 0 any, 4 or 6 (set by the address prefixes) */
	uint8_t proto;	/**< 0 any, else IPPROTO_* */
	uint8_t src_plen, dst_plen;
	uint8_t src[16], dst[16]; /**< network order, masked to the prefix */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
};

/** A match that matches everything. */
void netvm_match_any(struct netvm_match *m);

/**
 * Parse one field into @p m.  @p field is one of "src", "dst", "proto",
 * "sport", "dport"; @p value is "any", a prefix ("10.0.0.0/8", "fe80::/10",
 * a bare address), a protocol ("tcp", "udp", "icmp", "icmpv6" or a number),
 * or a port / range ("80", "1000-2000").
 * @return 0, or -1 with a message for the user in @p err.
 */
int netvm_match_set(struct netvm_match *m, const char *field, const char *value, char *err,
		    size_t errlen);

/** Whether @p t matches @p m. */
bool netvm_match_test(const struct netvm_match *m, const struct netvm_5tuple *t);

/** Write @p m as text ("proto=tcp src=10.0.0.0/8 dport=80", or "any"). */
void netvm_match_format(const struct netvm_match *m, char *buf, size_t len);

#endif
