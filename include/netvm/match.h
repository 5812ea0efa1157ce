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

/**
 * Why netvm_match_tuple() calls a frame malformed or evasive: a rule that
 * names ports cannot judge it safely (RFC 1858, RFC 3128, RFC 7112).  By
 * default it is dropped and counted before any rule; where the caller's
 * malformed policy lets it pass, only rules without ports can match it.
 */
enum netvm_malformed {
	NETVM_MALFORMED_NONE = 0, /**< neither: rules and the default policy decide */
	/** "bad_ip": IPv4/IPv6 ethertype, but the IP header is cut short, has a
	 * bad version or IHL, or a total/payload length beyond the frame. */
	NETVM_MALFORMED_BAD_IP,
	/** "short_l4": a whole packet or first fragment without a complete L4
	 * header (NETVM_L4_TRUNCATED): tiny fragments that leave the ports or
	 * the TCP flags to a later fragment, a bad TCP data offset, an IPv6
	 * header chain cut short. */
	NETVM_MALFORMED_SHORT_L4,
	/** "tcp_off1": a TCP fragment at offset 1 (8 bytes), which overlaps and
	 * can rewrite the flags of the first fragment's TCP header. */
	NETVM_MALFORMED_TCP_OFF1,
	/** "ext_chain": more than NETVM_IPV6_MAX_EXT IPv6 extension headers. */
	NETVM_MALFORMED_EXT_CHAIN,
	NETVM_MALFORMED_COUNT /**< number of values, for per-reason counters */
};

/** Name of a reason ("bad_ip", ...): "none" for 0, "?" out of range. */
const char *netvm_malformed_name(unsigned int why);

/**
 * The 5-tuple of a frame for netvm_match_test(), judged like a careful
 * firewall.  Every rule set in NetVM (nf-firewall, the switch's flow rules)
 * decides a frame the same way:
 *
 *  1. netvm_match_tuple() < 0: not IP (ARP, ...): the default policy;
 *  2. t->malformed: dropped and counted, before any rule (so that an allow
 *     rule without ports cannot pass a tiny fragment either) — unless the
 *     malformed policy says pass, and then on to 3;
 *  3. the first rule whose netvm_match_test() is true decides;
 *  4. else the default policy.
 *
 * @return -1 when the frame is not IPv4/IPv6 (by ethertype, after VLAN
 *         tags; @p t is zeroed), else 0 with @p t filled by
 *         netvm_5tuple_from() and t->malformed set (NETVM_MALFORMED_NONE if
 *         the frame is neither).  With NETVM_MALFORMED_BAD_IP, t->family is
 *         0 and no rule matches.
 */
int netvm_match_tuple(const uint8_t *data, uint32_t len, struct netvm_5tuple *t);

/** Whether @p m names ports: a sport or dport range other than 0-65535. */
bool netvm_match_has_ports(const struct netvm_match *m);

/**
 * Whether @p t matches @p m.  A tuple with family 0 (invalid IP header)
 * matches nothing.  A match that names ports matches only a tuple whose l4
 * is NETVM_L4_COMPLETE: never a non-first fragment, a first fragment or
 * packet too short for its L4 header, or a protocol without ports.  A match
 * without ports matches on family, protocol and addresses alone, so it
 * matches every fragment.
 */
bool netvm_match_test(const struct netvm_match *m, const struct netvm_5tuple *t);

/** Write @p m as text ("proto=tcp src=10.0.0.0/8 dport=80", or "any"). */
void netvm_match_format(const struct netvm_match *m, char *buf, size_t len);

#endif
