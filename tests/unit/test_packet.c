/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the bounds-checked packet parser, 5-tuple and flow hash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netvm/packet.h>

#include "frames.h"

static void v4_tcp(struct fb *f)
{
	eth(f, NULL, 0, 0x0800);
	ipv4(f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 20 + 10, 0);
	tcp(f, 1234, 80, 5, 10);
}

static void test_ipv4_tcp(void **state)
{
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	v4_tcp(&f);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.ethertype, 0x0800);
	assert_int_equal(p.vlan_tci, 0);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.l4_len, 30);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.l4_proto, IPPROTO_TCP);
}

static void test_ipv4_udp_padding(void **state)
{
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "192.168.1.1", "192.168.1.2", 0, 8 + 4, 0);
	udp(&f, 53, 4000, 4);
	/* Minimum-size Ethernet frame: 18 bytes of padding after the datagram. */
	memset(f.b + f.n, 0, 60 - f.n);
	f.n = 60;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.l4_len, 12); /* bounded by IP length, not frame length */
	assert_int_equal(p.l4_proto, IPPROTO_UDP);
}

static void test_vlan(void **state)
{
	static const uint16_t tags[] = {0x2064};
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	eth(&f, tags, 1, 0x0800);
	ipv4(&f, IPPROTO_UDP, "1.1.1.1", "2.2.2.2", 0, 8, 0);
	udp(&f, 1, 2, 0);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.vlan_tci, 0x2064);
	assert_int_equal(p.ethertype, 0x0800);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.l4_off, 38);
}

static void test_qinq(void **state)
{
	static const uint16_t tags[] = {100, 200};
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	eth(&f, tags, 2, 0x86dd);
	ipv6(&f, IPPROTO_TCP, "2001:db8::1", "2001:db8::2", 20);
	tcp(&f, 5000, 443, 5, 0);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.vlan_tci, 100); /* the outer tag */
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(p.l3_off, 22);
	assert_int_equal(p.l4_off, 62);
	assert_int_equal(p.l4_len, 20);

	/* A third tag is not parsed: the frame is simply not IP. */
	{
		static const uint16_t three[] = {1, 2};

		eth(&f, three, 2, 0x8100);
		put16(&f, 3);
		put16(&f, 0x0800);
		assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
		assert_int_equal(p.ethertype, 0x8100);
		assert_int_equal(p.l3_off, 0);
	}
}

static void test_ipv6_udp(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	uint8_t a[16];
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_UDP, "fe80::1", "ff02::fb", 8 + 5);
	udp(&f, 5353, 5353, 5);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 54);
	assert_int_equal(p.l4_len, 13);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.family, 6);
	assert_int_equal(t.proto, IPPROTO_UDP);
	assert_int_equal(t.sport, 5353);
	inet_pton(AF_INET6, "fe80::1", a);
	assert_memory_equal(t.src, a, 16);
	inet_pton(AF_INET6, "ff02::fb", a);
	assert_memory_equal(t.dst, a, 16);

	/* Payload length larger than the frame. */
	f.b[14 + 4] = 0x10;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	/* Wrong version nibble. */
	f.b[14 + 4] = 0;
	f.b[14] = 0x40;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
}

static void test_ipv6_other_next_header(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_ICMPV6, "::1", "::2", 8);
	udp(&f, 0x8000, 0, 0); /* 8 bytes of ICMPv6 echo request */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_proto, IPPROTO_ICMPV6);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.sport, 0);
	assert_int_equal(t.dport, 0);
}

static void test_ipv4_options(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.1.1.1", "10.2.2.2", 12, 24, 0);
	tcp(&f, 40000, 22, 6, 0); /* TCP with 4 bytes of options too */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 14 + 32);
	assert_int_equal(p.l4_len, 24);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dport, 22);
}

static void test_bad_ipv4(void **state)
{
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	v4_tcp(&f);
	f.b[14] = 0x44; /* IHL 4 */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	assert_int_equal(p.ethertype, 0x0800);
	f.b[14] = 0x65; /* version 6 in an IPv4 ethertype */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	f.b[14] = 0x4f; /* IHL 15 = 60 bytes, but only 50 follow the Ethernet header */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L3);
	f.b[14] = 0x48; /* IHL 8 = 32 bytes: only 18 bytes of the datagram remain for TCP */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);

	v4_tcp(&f);
	f.b[16] = 0;
	f.b[17] = 19; /* total length < header */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	f.b[17] = 51; /* one more than available */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	f.b[17] = 50;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	f.b[17] = 30; /* IP payload ends inside the TCP header */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	assert_int_equal(p.l3_off, 14); /* L3 was found before the error */
	assert_int_equal(p.l4_off, 0);
}

static void test_bad_tcp_offset(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	v4_tcp(&f);
	f.b[34 + 12] = 4 << 4;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L4);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), -1);
	assert_int_equal(netvm_pkt_flow_hash(f.b, f.n), 0);
	f.b[34 + 12] = 8 << 4; /* 32 bytes: exactly the 30 available + 2 */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L4);
	f.b[34 + 12] = 7 << 4; /* 28 bytes: fits */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
}

static void test_fragments(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	/* First fragment (MF set, offset 0): L4 present. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.1", "10.0.0.2", 0, 16, 0x2000);
	udp(&f, 1000, 2000, 8);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_off, 34);

	/* Later fragment: bytes where UDP would be are data, not a header. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.1", "10.0.0.2", 0, 16, 0x0002);
	udp(&f, 1000, 2000, 8);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.l4_proto, IPPROTO_UDP);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.sport, 0);
	assert_int_equal(t.dport, 0);

	/* A later fragment shorter than a UDP header is still fine. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 3, 0x0100);
	put8(&f, 1);
	put8(&f, 2);
	put8(&f, 3);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_off, 0);
}

/* Every extension header the walk crosses, alone in front of TCP. */
static void test_ipv6_ext_each(void **state)
{
	static const uint8_t types[] = {IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
					IPPROTO_FRAGMENT, IPPROTO_AH};
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		ext6_tcp(&f, &types[i], 1);
		assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
		assert_int_equal(p.ip_version, 6);
		assert_int_equal(p.ext_count, 1);
		assert_int_equal(p.l4_proto, IPPROTO_TCP);
		assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);
		assert_int_equal(p.l4_off, 14 + 40 + ext6_size(types[i]));
		assert_int_equal(p.l4_len, 20);
		/* The fragment header here is atomic (offset 0, M=0): a whole packet. */
		assert_int_equal(p.frag, types[i] == IPPROTO_FRAGMENT ? NETVM_FRAG_ATOMIC : 0);
		assert_int_equal(p.frag_off, 0);
		assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
		assert_int_equal(t.proto, IPPROTO_TCP);
		assert_int_equal(t.sport, 1234);
		assert_int_equal(t.dport, 80);
		assert_int_equal(t.l4, NETVM_L4_COMPLETE);
	}
}

/* Lengths in each header's own units: 8 bytes (+8 per unit), AH 4 (+2). */
static void test_ipv6_ext_lengths(void **state)
{
	struct netvm_parsed p;
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_HOPOPTS, "::1", "::2", 24 + 16 + 12 + 32 + 8);
	ext6(&f, IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, 24); /* length byte 2 */
	ext6(&f, IPPROTO_DSTOPTS, IPPROTO_AH, 16);	/* 1 */
	ext6(&f, IPPROTO_AH, IPPROTO_ROUTING, 12);	/* 1 (in 8-byte units: 16 bytes) */
	ext6(&f, IPPROTO_ROUTING, IPPROTO_UDP, 32);	/* 3 */
	udp(&f, 53, 5353, 0);
	assert_int_equal(f.b[14 + 40 + 1], 2);
	assert_int_equal(f.b[14 + 40 + 24 + 16 + 1], 1);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.ext_count, 4);
	assert_int_equal(p.l4_proto, IPPROTO_UDP);
	assert_int_equal(p.l4_off, 14 + 40 + 24 + 16 + 12 + 32);
	assert_int_equal(p.l4_len, 8);
}

/* At most NETVM_IPV6_MAX_EXT headers; one more is reported, never skipped. */
static void test_ipv6_ext_bound(void **state)
{
	uint8_t types[NETVM_IPV6_MAX_EXT + 1];
	static const uint8_t mixed[NETVM_IPV6_MAX_EXT] = {
	    IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT,
	    IPPROTO_AH,	     IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS};
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	assert_int_equal(NETVM_IPV6_MAX_EXT, 8);
	memset(types, IPPROTO_DSTOPTS, sizeof(types));
	ext6_tcp(&f, types, NETVM_IPV6_MAX_EXT);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.ext_count, NETVM_IPV6_MAX_EXT);
	assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.dport, 80);

	ext6_tcp(&f, mixed, NETVM_IPV6_MAX_EXT);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_off, 14 + 40 + 7 * 8 + 24);

	ext6_tcp(&f, types, NETVM_IPV6_MAX_EXT + 1);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_EXT_CHAIN);
	assert_int_equal(p.ip_version, 6); /* the IPv6 header itself is valid */
	assert_int_equal(p.ext_count, NETVM_IPV6_MAX_EXT);
	assert_int_equal(p.l4_state, NETVM_L4_TRUNCATED);
	assert_int_equal(p.l4_proto, IPPROTO_DSTOPTS);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), -1);
	assert_int_equal(netvm_pkt_flow_hash(f.b, f.n), 0);
	assert_int_equal(netvm_5tuple_from(f.b, &p, &t), 0);
	assert_int_equal(t.family, 6);
	assert_int_equal(t.l4, NETVM_L4_TRUNCATED);
	assert_int_equal(t.dport, 0);
}

/* ESP, no next header and unknown types end the walk: no ports, no error. */
static void test_ipv6_ext_stop(void **state)
{
	static const uint8_t stops[] = {IPPROTO_ESP, IPPROTO_NONE, IPPROTO_ICMPV6, 135};
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(stops); i++) {
		for (int hbh = 0; hbh < 2; hbh++) {
			eth(&f, NULL, 0, 0x86dd);
			ipv6(&f, hbh ? IPPROTO_HOPOPTS : stops[i], "::1", "::2", 8 * hbh + 24);
			if (hbh)
				ext6(&f, IPPROTO_HOPOPTS, stops[i], 8);
			/* What follows looks like TCP to port 80: it must not be read as such. */
			tcp(&f, 1234, 80, 5, 4);
			assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
			assert_int_equal(p.ext_count, hbh);
			assert_int_equal(p.l4_proto, stops[i]);
			assert_int_equal(p.l4_state, NETVM_L4_NONE);
			assert_int_equal(p.l4_off, 0);
			assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
			assert_int_equal(t.proto, stops[i]);
			assert_int_equal(t.dport, 0);
			assert_int_equal(t.l4, NETVM_L4_NONE);
		}
	}
	/* No next header with an empty payload. */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_NONE, "::1", "::2", 0);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_state, NETVM_L4_NONE);
}

/* IPv6 fragments: first (with the whole chain, RFC 7112), not first, atomic. */
static void test_ipv6_fragments(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	/* First fragment holding the whole TCP header and some data. */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_FRAGMENT, "::1", "::2", 8 + 24);
	frag6(&f, IPPROTO_TCP, 0, 1, 7);
	tcp(&f, 1234, 80, 5, 4);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.frag, NETVM_FRAG_FRAGMENT | NETVM_FRAG_FIRST);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);
	assert_int_equal(p.l4_off, 14 + 40 + 8);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.dport, 80);

	/* The same with only 8 bytes of TCP: the chain does not reach the flags. */
	f.b[14 + 5] = 8 + 8;
	f.n = 14 + 40 + 8 + 8;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.frag, NETVM_FRAG_FRAGMENT | NETVM_FRAG_FIRST);
	assert_int_equal(p.l4_state, NETVM_L4_TRUNCATED);
	assert_int_equal(p.l4_proto, IPPROTO_TCP);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), -1);
	assert_int_equal(netvm_5tuple_from(f.b, &p, &t), 0);
	assert_int_equal(t.l4, NETVM_L4_TRUNCATED);
	assert_int_equal(t.sport + t.dport, 0);

	/* First fragment whose chain is cut after the fragment header: a
	 * destination options header of 16 bytes with only 8 in this fragment. */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_FRAGMENT, "::1", "::2", 8 + 8);
	frag6(&f, IPPROTO_DSTOPTS, 0, 1, 7);
	put8(&f, IPPROTO_TCP);
	put8(&f, 1);
	putn(&f, "\0\0\0\0\0\0", 6);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	assert_int_equal(p.l4_state, NETVM_L4_TRUNCATED);
	assert_int_equal(p.l4_proto, IPPROTO_DSTOPTS);
	assert_int_equal(p.ext_count, 1);
	/* ... and with fewer than the 8 bytes every extension header has. */
	f.b[14 + 5] = 8 + 4;
	f.n -= 4;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);

	/* Not the first (offset 3, more to come, and the last one): what follows
	 * the fragment header is data, even if it looks like TCP to port 80. */
	for (int more = 0; more < 2; more++) {
		eth(&f, NULL, 0, 0x86dd);
		ipv6(&f, IPPROTO_HOPOPTS, "::1", "::2", 8 + 8 + 20);
		ext6(&f, IPPROTO_HOPOPTS, IPPROTO_FRAGMENT, 8);
		frag6(&f, IPPROTO_TCP, 3, more, 7);
		tcp(&f, 1234, 80, 5, 0);
		assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
		assert_int_equal(p.frag, NETVM_FRAG_FRAGMENT);
		assert_int_equal(p.frag_off, 3);
		assert_int_equal(p.ext_count, 2);
		assert_int_equal(p.l4_state, NETVM_L4_ABSENT);
		assert_int_equal(p.l4_proto, IPPROTO_TCP); /* the fragment header's next header */
		assert_int_equal(p.l4_off, 0);
		assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
		assert_int_equal(t.l4, NETVM_L4_ABSENT);
		assert_int_equal(t.dport, 0);
	}
	/* Offset 1 is reported as such (the firewall judges it). */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_FRAGMENT, "::1", "::2", 8 + 16);
	frag6(&f, IPPROTO_TCP, 1, 0, 7);
	putn(&f, "0123456789abcdef", 16);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.frag_off, 1);
	assert_int_equal(p.l4_state, NETVM_L4_ABSENT);

	/* An atomic fragment in front of more headers: still a whole packet. */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_FRAGMENT, "::1", "::2", 8 + 8 + 20);
	frag6(&f, IPPROTO_DSTOPTS, 0, 0, 9);
	ext6(&f, IPPROTO_DSTOPTS, IPPROTO_TCP, 8);
	tcp(&f, 1234, 80, 5, 0);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.frag, NETVM_FRAG_ATOMIC);
	assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);
	assert_int_equal(p.ext_count, 2);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.dport, 80);
}

/* IPv4 first fragments too short for TCP (RFC 1858) or UDP, and offset 1. */
static void test_ipv4_tiny_fragments(void **state)
{
	static const uint32_t tcp_bytes[] = {8, 12, 16, 19};
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f, full;

	(void)state;
	eth(&full, NULL, 0, 0x0800);
	ipv4(&full, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 24, 0);
	tcp(&full, 1234, 80, 5, 4);
	for (size_t i = 0; i < sizeof(tcp_bytes) / sizeof(tcp_bytes[0]); i++) {
		eth(&f, NULL, 0, 0x0800);
		ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, tcp_bytes[i], 0x2000); /* MF */
		putn(&f, full.b + 34, tcp_bytes[i]);
		assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
		assert_int_equal(p.ip_version, 4);
		assert_int_equal(p.frag, NETVM_FRAG_FRAGMENT | NETVM_FRAG_FIRST);
		assert_int_equal(p.l4_state, NETVM_L4_TRUNCATED);
		assert_int_equal(p.l4_off, 0);
		assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), -1);
	}
	/* 20 bytes: the fixed header, flags included, is complete. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 20, 0x2000);
	putn(&f, full.b + 34, 20);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);

	/* The rest of the 8-byte one, at offset 1: data over the TCP flags. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 16, 0x0001);
	putn(&f, full.b + 34 + 8, 16);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.frag, NETVM_FRAG_FRAGMENT);
	assert_int_equal(p.frag_off, 1);
	assert_int_equal(p.l4_state, NETVM_L4_ABSENT);
	assert_int_equal(p.l4_proto, IPPROTO_TCP);

	/* UDP first fragments: 4 bytes is too short, 8 is a whole header. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.66", "10.0.0.2", 0, 4, 0x2000);
	put16(&f, 53);
	put16(&f, 53);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	assert_int_equal(p.l4_state, NETVM_L4_TRUNCATED);
	assert_int_equal(netvm_5tuple_from(f.b, &p, &t), 0);
	assert_int_equal(t.proto, IPPROTO_UDP);
	assert_memory_equal(t.src, "\x0a\x00\x00\x42", 4);
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.66", "10.0.0.2", 0, 8, 0x2000);
	udp(&f, 53, 53, 0);
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.l4_state, NETVM_L4_COMPLETE);

	/* Not a fragment at all: no fragment facts (DF is not one). */
	v4_tcp(&f);
	f.b[20] = 0x40; /* DF */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.frag, 0);
	assert_int_equal(p.ext_count, 0);
}

/* Lengths that lie: the IPv6 payload length, and extension header lengths. */
static void test_ipv6_lengths_lie(void **state)
{
	static const uint8_t chain[] = {IPPROTO_HOPOPTS, IPPROTO_AH, IPPROTO_DSTOPTS};
	struct netvm_parsed p;
	struct fb f;
	uint32_t plen, full = 8 + 24 + 8 + 20;

	(void)state;
	/* The payload length ends the chain early: never read past it, even
	 * though the frame goes on; 0 bytes and each cut inside a header. */
	for (plen = 0; plen <= full; plen++) {
		ext6_tcp(&f, chain, 3);
		f.b[14 + 4] = (uint8_t)(plen >> 8);
		f.b[14 + 5] = (uint8_t)plen;
		int rc = netvm_parse(f.b, f.n, &p);
		assert_int_equal(rc, plen == full ? NETVM_PARSE_OK : NETVM_PARSE_TRUNC_L4);
		assert_int_equal(p.l4_state, plen == full ? NETVM_L4_COMPLETE : NETVM_L4_TRUNCATED);
	}
	/* An extension header longer than the payload (and than the frame). */
	ext6_tcp(&f, chain, 3);
	f.b[14 + 40 + 1] = 255; /* hop-by-hop of 2048 bytes */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	ext6_tcp(&f, chain, 3);
	f.b[14 + 40 + 8 + 1] = 255; /* AH of 1028 bytes */
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_TRUNC_L4);
	/* A payload length longer than the frame is a bad IPv6 header. */
	ext6_tcp(&f, chain, 3);
	f.b[14 + 5]++;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_BAD_L3);
	assert_int_equal(p.ip_version, 0);
}

/* Other protocols whose first 4 bytes are ports: UDP-Lite, SCTP, DCCP. */
static void test_other_port_protocols(void **state)
{
	static const struct {
		uint8_t proto;
		uint32_t hdr;
	} protos[] = {{IPPROTO_UDPLITE, 8}, {IPPROTO_SCTP, 12}, {IPPROTO_DCCP, 12}};
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		for (uint32_t n = protos[i].hdr - 1; n <= protos[i].hdr; n++) {
			eth(&f, NULL, 0, 0x0800);
			ipv4(&f, protos[i].proto, "10.0.0.1", "10.0.0.2", 0, n, 0);
			put16(&f, 5000);
			put16(&f, 80);
			for (uint32_t k = 4; k < n; k++)
				put8(&f, 0);
			int rc = netvm_parse(f.b, f.n, &p);
			assert_int_equal(rc,
					 n < protos[i].hdr ? NETVM_PARSE_TRUNC_L4 : NETVM_PARSE_OK);
			if (rc == NETVM_PARSE_OK) {
				assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
				assert_int_equal(t.proto, protos[i].proto);
				assert_int_equal(t.sport, 5000);
				assert_int_equal(t.dport, 80);
			}
		}
	}
}

static void test_not_ip(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	eth(&f, NULL, 0, 0x0806); /* ARP */
	memset(f.b + f.n, 0, 28);
	f.n += 28;
	assert_int_equal(netvm_parse(f.b, f.n, &p), NETVM_PARSE_OK);
	assert_int_equal(p.ethertype, 0x0806);
	assert_int_equal(p.l3_off, 0);
	assert_int_equal(p.ip_version, 0);
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), -1);
	assert_int_equal(netvm_pkt_flow_hash(f.b, f.n), 0);
	assert_int_equal(netvm_parse(f.b, 13, &p), NETVM_PARSE_TRUNC_L2);
}

/* Parse every prefix of @full from an exactly-sized heap copy (ASan catches overreads). */
static void check_truncations(const struct fb *full, uint32_t l2_len, uint32_t l3_hdr_end)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	uint32_t len;

	for (len = 0; len < full->n; len++) {
		uint8_t *buf = malloc(len ? len : 1);
		int rc;

		assert_non_null(buf);
		memcpy(buf, full->b, len);
		rc = netvm_parse(buf, len, &p);
		assert_true(rc < 0);
		if (len < l2_len)
			assert_int_equal(rc, NETVM_PARSE_TRUNC_L2);
		else if (len < l3_hdr_end)
			assert_int_equal(rc, NETVM_PARSE_TRUNC_L3);
		else
			/* The IP length now exceeds the frame. */
			assert_int_equal(rc, NETVM_PARSE_BAD_L3);
		if (len >= l2_len)
			assert_int_not_equal(p.ethertype, 0);
		assert_int_equal(p.l4_off, 0);
		assert_int_equal(netvm_5tuple_get(buf, len, &t), -1);
		assert_int_equal(netvm_pkt_flow_hash(buf, len), 0);
		netvm_eth_swap(buf, len);
		free(buf);
	}
}

static void test_truncation(void **state)
{
	static const uint16_t tags[] = {7, 8};
	struct fb f;

	(void)state;
	v4_tcp(&f);
	check_truncations(&f, 14, 34);

	eth(&f, tags, 2, 0x0800);
	ipv4(&f, IPPROTO_UDP, "1.2.3.4", "5.6.7.8", 8, 8 + 3, 0);
	udp(&f, 9, 10, 3);
	check_truncations(&f, 22, 22 + 28);

	eth(&f, tags, 1, 0x86dd);
	ipv6(&f, IPPROTO_TCP, "::1", "::2", 24);
	tcp(&f, 1, 2, 6, 0);
	check_truncations(&f, 18, 18 + 40);

	/* Through extension headers of every kind. */
	{
		static const uint8_t chain[] = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT, IPPROTO_AH,
						IPPROTO_ROUTING, IPPROTO_DSTOPTS};

		ext6_tcp(&f, chain, sizeof(chain));
		check_truncations(&f, 14, 14 + 40);
	}
}

/* Truncating the IP length (not the frame) inside L4 gives TRUNC_L4 or BAD_L4. */
static void test_l4_truncation_by_ip_len(void **state)
{
	struct netvm_parsed p;
	struct fb f;
	uint16_t tot;

	(void)state;
	for (tot = 20; tot < 50; tot++) {
		int rc;

		v4_tcp(&f);
		f.b[16] = 0;
		f.b[17] = (uint8_t)tot;
		rc = netvm_parse(f.b, f.n, &p);
		if (tot < 40)
			assert_int_equal(rc, NETVM_PARSE_TRUNC_L4);
		else
			assert_int_equal(rc, NETVM_PARSE_OK);
		assert_int_equal(p.l3_off, 14);
	}
}

/* Random bytes after a valid Ethernet + IP start must never crash or overread. */
static void test_fuzz(void **state)
{
	struct netvm_parsed p;
	struct netvm_5tuple t;
	unsigned int seed = 12345, i, j;

	(void)state;
	for (i = 0; i < 20000; i++) {
		uint32_t len = (uint32_t)(rand_r(&seed) % 120);
		uint8_t *buf = malloc(len ? len : 1);

		assert_non_null(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		/* Steer most cases into the IP paths. */
		if (len > 14 && (i & 3)) {
			buf[12] = (i & 4) ? 0x86 : 0x08;
			buf[13] = (i & 4) ? 0xdd : 0x00;
			buf[14] = (uint8_t)(((i & 4) ? 0x60 : 0x40) | (buf[14] & 0x0f));
			if (len > 34 && !(i & 4)) {
				buf[16] = 0;
				buf[17] = (uint8_t)(len - 14 - (rand_r(&seed) % 4));
				buf[20] &= 0x20;
				buf[21] = 0;
			}
			/* IPv6: a payload length that fits, and extension headers
			 * with small lengths. */
			if (len > 54 && (i & 4)) {
				static const uint8_t ext[] = {0, 43, 44, 51, 60, 6, 17};

				buf[18] = 0;
				buf[19] = (uint8_t)(len - 54 - (rand_r(&seed) % 4));
				buf[20] = ext[rand_r(&seed) % sizeof(ext)];
				for (j = 54; j + 1 < len; j += 8) {
					buf[j] = ext[rand_r(&seed) % sizeof(ext)];
					buf[j + 1] &= 1;
				}
			}
		}
		int rc = netvm_parse(buf, len, &p);
		if (rc == NETVM_PARSE_OK && p.l4_off) {
			assert_true((uint32_t)p.l4_off + p.l4_len <= len);
			assert_true(p.l4_len >= 8);
		}
		assert_true(p.ext_count <= NETVM_IPV6_MAX_EXT);
		assert_true((p.l4_off != 0) == (p.ip_version && p.l4_state == NETVM_L4_COMPLETE));
		(void)netvm_5tuple_get(buf, len, &t);
		(void)netvm_pkt_flow_hash(buf, len);
		free(buf);
	}
}

static void test_5tuple_v4(void **state)
{
	struct netvm_5tuple t;
	uint8_t zero[12] = {0};
	struct fb f;

	(void)state;
	v4_tcp(&f);
	memset(&t, 0xaa, sizeof(t));
	assert_int_equal(netvm_5tuple_get(f.b, f.n, &t), 0);
	assert_int_equal(t.family, 4);
	assert_int_equal(t.proto, IPPROTO_TCP);
	assert_int_equal(t.sport, 1234);
	assert_int_equal(t.dport, 80);
	assert_memory_equal(t.src, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(t.dst, "\x0a\x00\x00\x02", 4);
	assert_memory_equal(t.src + 4, zero, 12);
	assert_memory_equal(t.dst + 4, zero, 12);
}

static void make_tuple(struct netvm_5tuple *t, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	memset(t, 0, sizeof(*t));
	t->family = 4;
	t->proto = IPPROTO_TCP;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(t->src, &src, 4);
	memcpy(t->dst, &dst, 4);
	t->sport = sp;
	t->dport = dp;
}

static void test_hash_symmetric(void **state)
{
	struct netvm_5tuple a, b;
	uint32_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		make_tuple(&a, 0x0a000000 + i, 0xc0a80000 + i * 7, (uint16_t)(1024 + i), 80);
		make_tuple(&b, 0xc0a80000 + i * 7, 0x0a000000 + i, 80, (uint16_t)(1024 + i));
		assert_int_equal(netvm_flow_hash(&a), netvm_flow_hash(&b));
	}
	/* Same address both ends: ports decide the order. */
	make_tuple(&a, 1, 1, 10, 20);
	make_tuple(&b, 1, 1, 20, 10);
	assert_int_equal(netvm_flow_hash(&a), netvm_flow_hash(&b));

	/* Bytes beyond the IPv4 address, and the L4 and malformed states, do
	 * not change the hash. */
	make_tuple(&a, 1, 2, 3, 4);
	b = a;
	b.src[9] = 0x55;
	b.l4 = NETVM_L4_TRUNCATED;
	b.malformed = 2;
	assert_int_equal(netvm_flow_hash(&a), netvm_flow_hash(&b));

	/* IPv6: addresses that differ only in the last word. */
	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.proto = IPPROTO_UDP;
	inet_pton(AF_INET6, "2001:db8::1", a.src);
	inet_pton(AF_INET6, "2001:db8::2", a.dst);
	a.sport = 5000;
	a.dport = 53;
	b = a;
	memcpy(b.src, a.dst, 16);
	memcpy(b.dst, a.src, 16);
	b.sport = a.dport;
	b.dport = a.sport;
	assert_int_equal(netvm_flow_hash(&a), netvm_flow_hash(&b));
	b.sport = a.sport; /* not the reverse flow any more */
	assert_int_not_equal(netvm_flow_hash(&a), netvm_flow_hash(&b));

	/* Swapped frame hashes like the original. */
	{
		struct fb f, g;

		v4_tcp(&f);
		g = f;
		memcpy(g.b + 26, f.b + 30, 4);
		memcpy(g.b + 30, f.b + 26, 4);
		memcpy(g.b + 34, f.b + 36, 2);
		memcpy(g.b + 36, f.b + 34, 2);
		assert_int_not_equal(netvm_pkt_flow_hash(f.b, f.n), 0);
		assert_int_equal(netvm_pkt_flow_hash(f.b, f.n), netvm_pkt_flow_hash(g.b, g.n));
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_hash_distinct(void **state)
{
	enum { N = 4096 };
	static uint32_t h[N];
	unsigned int buckets[16] = {0};
	struct netvm_5tuple t;
	unsigned int i, dups = 0;

	(void)state;
	/* Flows that differ only in the source port: the common worst case. */
	for (i = 0; i < N; i++) {
		make_tuple(&t, 0x0a000001, 0x0a000002, (uint16_t)(10000 + i), 80);
		h[i] = netvm_flow_hash(&t);
		buckets[h[i] & 15]++;
	}
	qsort(h, N, sizeof(h[0]), cmp_u32);
	for (i = 1; i < N; i++)
		dups += h[i] == h[i - 1];
	assert_true(dups < 4);
	/* Low bits spread evenly: each of 16 buckets near 256. */
	for (i = 0; i < 16; i++)
		assert_true(buckets[i] > 180 && buckets[i] < 340);

	/* Protocol and family are part of the key. */
	{
		struct netvm_5tuple u;

		make_tuple(&t, 1, 2, 3, 4);
		u = t;
		u.proto = IPPROTO_UDP;
		assert_int_not_equal(netvm_flow_hash(&t), netvm_flow_hash(&u));
		u = t;
		u.family = 6;
		assert_int_not_equal(netvm_flow_hash(&t), netvm_flow_hash(&u));
		/* Deterministic. */
		assert_int_equal(netvm_flow_hash(&t), netvm_flow_hash(&t));
	}
}

static void test_eth_swap(void **state)
{
	uint8_t b[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00};
	uint8_t want[14] = {7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 0x08, 0x00};
	uint8_t s[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	uint8_t s0[11];

	(void)state;
	netvm_eth_swap(b, sizeof(b));
	assert_memory_equal(b, want, sizeof(b));
	memcpy(s0, s, sizeof(s));
	netvm_eth_swap(s, sizeof(s));
	assert_memory_equal(s, s0, sizeof(s));
	netvm_eth_swap(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_tcp),
	    cmocka_unit_test(test_ipv4_udp_padding),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_qinq),
	    cmocka_unit_test(test_ipv6_udp),
	    cmocka_unit_test(test_ipv6_other_next_header),
	    cmocka_unit_test(test_ipv4_options),
	    cmocka_unit_test(test_bad_ipv4),
	    cmocka_unit_test(test_bad_tcp_offset),
	    cmocka_unit_test(test_fragments),
	    cmocka_unit_test(test_ipv6_ext_each),
	    cmocka_unit_test(test_ipv6_ext_lengths),
	    cmocka_unit_test(test_ipv6_ext_bound),
	    cmocka_unit_test(test_ipv6_ext_stop),
	    cmocka_unit_test(test_ipv6_fragments),
	    cmocka_unit_test(test_ipv4_tiny_fragments),
	    cmocka_unit_test(test_ipv6_lengths_lie),
	    cmocka_unit_test(test_other_port_protocols),
	    cmocka_unit_test(test_not_ip),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_l4_truncation_by_ip_len),
	    cmocka_unit_test(test_fuzz),
	    cmocka_unit_test(test_5tuple_v4),
	    cmocka_unit_test(test_hash_symmetric),
	    cmocka_unit_test(test_hash_distinct),
	    cmocka_unit_test(test_eth_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
