/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for 5-tuple match parsing, testing and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netvm/match.h>

#include "frames.h"

static struct netvm_5tuple tuple(const char *src, const char *dst, uint8_t proto, uint16_t sp,
				 uint16_t dp)
{
	struct netvm_5tuple t;

	memset(&t, 0, sizeof(t));
	if (strchr(src, ':')) {
		t.family = 6;
		assert_int_equal(inet_pton(AF_INET6, src, t.src), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, t.dst), 1);
	} else {
		t.family = 4;
		assert_int_equal(inet_pton(AF_INET, src, t.src), 1);
		assert_int_equal(inet_pton(AF_INET, dst, t.dst), 1);
	}
	t.proto = proto;
	t.sport = sp;
	t.dport = dp;
	return t;
}

/* Expect netvm_match_set to fail with exactly @msg, leaving @m unchanged. */
static void expect_err(const char *field, const char *value, const char *msg)
{
	struct netvm_match m, before;
	char err[128] = "";

	netvm_match_any(&m);
	before = m;
	assert_int_equal(netvm_match_set(&m, field, value, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_memory_equal(&m, &before, sizeof(m));
}

static void set_ok(struct netvm_match *m, const char *field, const char *value)
{
	char err[128] = "";

	if (netvm_match_set(m, field, value, err, sizeof(err)) != 0)
		fail_msg("%s=%s: %s", field, value, err);
}

static void test_any(void **state)
{
	struct netvm_match m;
	struct netvm_5tuple t;
	char buf[64];

	(void)state;
	netvm_match_any(&m);
	assert_int_equal(m.family, 0);
	assert_int_equal(m.sport_lo, 0);
	assert_int_equal(m.sport_hi, 65535);
	assert_int_equal(m.dport_hi, 65535);
	t = tuple("1.2.3.4", "5.6.7.8", IPPROTO_UDP, 0, 65535);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("::1", "2001:db8::1", IPPROTO_ICMPV6, 0, 0);
	assert_true(netvm_match_test(&m, &t));
	netvm_match_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "any");

	/* Explicit "any" for every field keeps the wildcard. */
	set_ok(&m, "src", "any");
	set_ok(&m, "dst", "ANY");
	set_ok(&m, "proto", "any");
	set_ok(&m, "sport", "any");
	set_ok(&m, "dport", "any");
	netvm_match_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "any");
}

static void test_parse_good(void **state)
{
	struct netvm_match m;
	uint8_t a[16] = {0};

	(void)state;
	netvm_match_any(&m);
	set_ok(&m, "src", "10.1.2.3/8");
	assert_int_equal(m.family, 4);
	assert_int_equal(m.src_plen, 8);
	a[0] = 10; /* host bits are masked off */
	assert_memory_equal(m.src, a, 16);
	set_ok(&m, "dst", "192.168.1.1");
	assert_int_equal(m.dst_plen, 32);
	set_ok(&m, "proto", "tcp");
	assert_int_equal(m.proto, IPPROTO_TCP);
	set_ok(&m, "proto", "UDP");
	assert_int_equal(m.proto, IPPROTO_UDP);
	set_ok(&m, "proto", "icmp");
	assert_int_equal(m.proto, IPPROTO_ICMP);
	set_ok(&m, "proto", "icmpv6");
	assert_int_equal(m.proto, IPPROTO_ICMPV6);
	set_ok(&m, "proto", "47");
	assert_int_equal(m.proto, 47);
	set_ok(&m, "proto", "255");
	assert_int_equal(m.proto, 255);
	set_ok(&m, "sport", "80");
	assert_int_equal(m.sport_lo, 80);
	assert_int_equal(m.sport_hi, 80);
	set_ok(&m, "dport", "1000-2000");
	assert_int_equal(m.dport_lo, 1000);
	assert_int_equal(m.dport_hi, 2000);
	set_ok(&m, "dport", "0-65535");
	assert_int_equal(m.dport_lo, 0);
	assert_int_equal(m.dport_hi, 65535);
	set_ok(&m, "sport", "7-7");
	assert_int_equal(m.sport_lo, 7);
	assert_int_equal(m.sport_hi, 7);

	netvm_match_any(&m);
	set_ok(&m, "dst", "fe80::1234/10");
	assert_int_equal(m.family, 6);
	assert_int_equal(m.dst_plen, 10);
	memset(a, 0, sizeof(a));
	a[0] = 0xfe;
	a[1] = 0x80;
	assert_memory_equal(m.dst, a, 16);
	set_ok(&m, "src", "::/0");
	assert_int_equal(m.src_plen, 0);
	set_ok(&m, "src", "2001:db8::1");
	assert_int_equal(m.src_plen, 128);
}

static void test_parse_bad(void **state)
{
	struct netvm_match m;
	char err[128];

	(void)state;
	expect_err("src", "10.0.0.0/33", "bad prefix length '33' in '10.0.0.0/33'");
	expect_err("src", "10.0.0.0/", "bad prefix length '' in '10.0.0.0/'");
	expect_err("dst", "10.0.0.0/-1", "bad prefix length '-1' in '10.0.0.0/-1'");
	expect_err("dst", "10.0.0.0/8x", "bad prefix length '8x' in '10.0.0.0/8x'");
	expect_err("dst", "fe80::/129", "bad prefix length '129' in 'fe80::/129'");
	expect_err("src", "10.0.0.256", "bad address '10.0.0.256' in '10.0.0.256'");
	expect_err("src", "/8", "bad address '' in '/8'");
	expect_err("src", "", "bad address '' in ''");
	expect_err("src", "hello/8", "bad address 'hello' in 'hello/8'");
	expect_err("src", "0123456789012345678901234567890123456789012345678/8",
		   "bad address '0123456789012345678901234567890123456789012345678' in "
		   "'0123456789012345678901234567890123456789012345678/8'");
	expect_err("proto", "sctpx",
		   "unknown protocol 'sctpx' (use tcp, udp, icmp, icmpv6, any or 0-255)");
	expect_err("proto", "256",
		   "unknown protocol '256' (use tcp, udp, icmp, icmpv6, any or 0-255)");
	expect_err("proto", "", "unknown protocol '' (use tcp, udp, icmp, icmpv6, any or 0-255)");
	expect_err("dport", "65536", "bad dport '65536' (use a port 0-65535 or a range lo-hi)");
	expect_err("sport", "http", "bad sport 'http' (use a port 0-65535 or a range lo-hi)");
	expect_err("sport", "-5", "bad sport range '-5' (use lo-hi with ports 0-65535)");
	expect_err("sport", "5-", "bad sport range '5-' (use lo-hi with ports 0-65535)");
	expect_err("dport", "1-70000", "bad dport range '1-70000' (use lo-hi with ports 0-65535)");
	expect_err("dport", "1-2-3", "bad dport range '1-2-3' (use lo-hi with ports 0-65535)");
	expect_err("dport", "2000-1000", "bad dport range '2000-1000': 2000 is greater than 1000");
	expect_err("port", "80",
		   "unknown match field 'port' (use src, dst, proto, sport or dport)");

	/* Mixing families is an error, and the match is left as it was. */
	netvm_match_any(&m);
	set_ok(&m, "src", "10.0.0.0/8");
	assert_int_equal(netvm_match_set(&m, "dst", "fe80::1", err, sizeof(err)), -1);
	assert_string_equal(err, "dst 'fe80::1' is IPv6 but the match is already IPv4");
	assert_int_equal(m.family, 4);
	assert_int_equal(m.dst_plen, 0);

	/* A NULL or tiny err buffer is tolerated. */
	assert_int_equal(netvm_match_set(&m, "proto", "bogus", NULL, 0), -1);
	err[0] = 'x';
	assert_int_equal(netvm_match_set(&m, "proto", "bogus", err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(netvm_match_set(&m, NULL, "x", err, sizeof(err)), -1);
	assert_int_equal(netvm_match_set(&m, "src", NULL, err, sizeof(err)), -1);
}

static void test_prefix_v4(void **state)
{
	struct netvm_match m;
	struct netvm_5tuple t;

	(void)state;
	netvm_match_any(&m);
	set_ok(&m, "src", "10.0.0.0/8");
	set_ok(&m, "dst", "192.168.1.128/25");
	t = tuple("10.255.1.2", "192.168.1.200", IPPROTO_TCP, 1, 2);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("11.0.0.1", "192.168.1.200", IPPROTO_TCP, 1, 2);
	assert_false(netvm_match_test(&m, &t));
	t = tuple("10.0.0.1", "192.168.1.127", IPPROTO_TCP, 1, 2);
	assert_false(netvm_match_test(&m, &t));
	/* An IPv4 match never matches IPv6. */
	t = tuple("::a00:1", "::c0a8:1c8", IPPROTO_TCP, 1, 2);
	assert_false(netvm_match_test(&m, &t));

	/* Odd prefix lengths and a host address. */
	netvm_match_any(&m);
	set_ok(&m, "src", "172.16.0.0/12");
	set_ok(&m, "dst", "8.8.8.8");
	t = tuple("172.31.255.255", "8.8.8.8", IPPROTO_UDP, 1, 53);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("172.32.0.0", "8.8.8.8", IPPROTO_UDP, 1, 53);
	assert_false(netvm_match_test(&m, &t));
	t = tuple("172.16.0.1", "8.8.8.9", IPPROTO_UDP, 1, 53);
	assert_false(netvm_match_test(&m, &t));

	/* 0.0.0.0/0 means "any IPv4". */
	netvm_match_any(&m);
	set_ok(&m, "dst", "0.0.0.0/0");
	t = tuple("1.1.1.1", "2.2.2.2", IPPROTO_UDP, 1, 53);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("::1", "::2", IPPROTO_UDP, 1, 53);
	assert_false(netvm_match_test(&m, &t));
}

static void test_prefix_v6(void **state)
{
	struct netvm_match m;
	struct netvm_5tuple t;

	(void)state;
	netvm_match_any(&m);
	set_ok(&m, "src", "fe80::/10");
	set_ok(&m, "dst", "2001:db8:0:1::/63");
	t = tuple("febf::1", "2001:db8:0:1::5", IPPROTO_UDP, 1, 2);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("fec0::1", "2001:db8:0:1::5", IPPROTO_UDP, 1, 2);
	assert_false(netvm_match_test(&m, &t));
	t = tuple("fe80::1", "2001:db8:0:2::5", IPPROTO_UDP, 1, 2);
	assert_false(netvm_match_test(&m, &t));
	t = tuple("fe80::1", "2001:db8::ffff", IPPROTO_UDP, 1, 2); /* 0:0 in the /63 too */
	assert_true(netvm_match_test(&m, &t));
	t = tuple("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2);
	assert_false(netvm_match_test(&m, &t));

	netvm_match_any(&m);
	set_ok(&m, "src", "2001:db8::1/128");
	t = tuple("2001:db8::1", "::", IPPROTO_TCP, 1, 2);
	assert_true(netvm_match_test(&m, &t));
	t = tuple("2001:db8::2", "::", IPPROTO_TCP, 1, 2);
	assert_false(netvm_match_test(&m, &t));
}

static void test_ports_proto(void **state)
{
	struct netvm_match m;
	struct netvm_5tuple t;

	(void)state;
	netvm_match_any(&m);
	set_ok(&m, "proto", "tcp");
	set_ok(&m, "dport", "1000-2000");
	set_ok(&m, "sport", "53");
	t = tuple("1.1.1.1", "2.2.2.2", IPPROTO_TCP, 53, 1000);
	assert_true(netvm_match_test(&m, &t));
	t.dport = 2000;
	assert_true(netvm_match_test(&m, &t));
	t.dport = 999;
	assert_false(netvm_match_test(&m, &t));
	t.dport = 2001;
	assert_false(netvm_match_test(&m, &t));
	t.dport = 1500;
	t.sport = 54;
	assert_false(netvm_match_test(&m, &t));
	t.sport = 53;
	t.proto = IPPROTO_UDP;
	assert_false(netvm_match_test(&m, &t));
	/* With no address, the family is free: IPv6 matches too. */
	t = tuple("::1", "::2", IPPROTO_TCP, 53, 1234);
	assert_true(netvm_match_test(&m, &t));
}

static void round_trip(const char *const *kv, const char *want)
{
	struct netvm_match m, m2;
	char buf[256], copy[256], err[128];
	char *save, *tok;
	int i;

	netvm_match_any(&m);
	for (i = 0; kv[i]; i += 2)
		set_ok(&m, kv[i], kv[i + 1]);
	netvm_match_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, want);

	/* Parse the text back field by field: it must give the same match. */
	netvm_match_any(&m2);
	snprintf(copy, sizeof(copy), "%s", buf);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			assert_string_equal(tok, "any");
			continue;
		}
		*eq = '\0';
		assert_int_equal(netvm_match_set(&m2, tok, eq + 1, err, sizeof(err)), 0);
	}
	assert_memory_equal(&m, &m2, sizeof(m));
}

static void test_format_round_trip(void **state)
{
	(void)state;
	round_trip((const char *const[]){"proto", "tcp", "src", "10.0.0.0/8", "dport", "80", NULL},
		   "proto=tcp src=10.0.0.0/8 dport=80");
	round_trip((const char *const[]){"dst", "fe80::1:2/64", "sport", "1000-2000", "proto",
					 "132", NULL},
		   "proto=132 dst=fe80::/64 sport=1000-2000");
	round_trip(
	    (const char *const[]){"src", "1.2.3.4", "dst", "5.6.7.0/24", "proto", "icmp", NULL},
	    "proto=icmp src=1.2.3.4 dst=5.6.7.0/24");
	round_trip((const char *const[]){"src", "2001:db8::1", "proto", "icmpv6", NULL},
		   "proto=icmpv6 src=2001:db8::1");
	round_trip((const char *const[]){"dst", "0.0.0.0/0", NULL}, "src=0.0.0.0/0");
	round_trip((const char *const[]){"sport", "0-65535", "dport", "0", NULL}, "dport=0");
	round_trip((const char *const[]){NULL}, "any");
}

static void test_format_truncates(void **state)
{
	struct netvm_match m;
	char buf[12];

	(void)state;
	netvm_match_any(&m);
	set_ok(&m, "proto", "tcp");
	set_ok(&m, "src", "10.0.0.0/8");
	memset(buf, 'x', sizeof(buf));
	netvm_match_format(&m, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_string_equal(buf, "proto=tcp s");
	netvm_match_format(&m, buf, 1);
	assert_string_equal(buf, "");
}

/* A rule that names ports needs a complete L4 header; one without matches
 * every state, fragments included; an invalid IP header matches nothing. */
static void test_l4_state(void **state)
{
	static const uint8_t states[] = {NETVM_L4_NONE, NETVM_L4_ABSENT, NETVM_L4_TRUNCATED};
	struct netvm_match ports, l3, any, wide;
	struct netvm_5tuple t;

	(void)state;
	netvm_match_any(&ports);
	set_ok(&ports, "proto", "tcp");
	set_ok(&ports, "dport", "0-100"); /* would match the 0 a missing port reads as */
	netvm_match_any(&l3);
	set_ok(&l3, "proto", "tcp");
	set_ok(&l3, "src", "10.0.0.0/8");
	netvm_match_any(&any);
	netvm_match_any(&wide);
	set_ok(&wide, "dport", "0-65535"); /* every port: names none */
	assert_true(netvm_match_has_ports(&ports));
	assert_false(netvm_match_has_ports(&l3));
	assert_false(netvm_match_has_ports(&wide));
	set_ok(&wide, "sport", "1-65535");
	assert_true(netvm_match_has_ports(&wide));
	set_ok(&wide, "sport", "any");

	t = tuple("10.1.2.3", "10.0.0.1", IPPROTO_TCP, 40000, 80);
	assert_int_equal(t.l4, NETVM_L4_COMPLETE); /* 0: hand-built tuples have ports */
	assert_true(netvm_match_test(&ports, &t));
	assert_true(netvm_match_test(&l3, &t));
	for (size_t i = 0; i < sizeof(states); i++) {
		t = tuple("10.1.2.3", "10.0.0.1", IPPROTO_TCP, 0, 0);
		t.l4 = states[i];
		assert_false(netvm_match_test(&ports, &t));
		assert_true(netvm_match_test(&l3, &t));
		assert_true(netvm_match_test(&any, &t));
		assert_true(netvm_match_test(&wide, &t));
	}
	/* Family 0: netvm_match_tuple() found no valid IP header. */
	memset(&t, 0, sizeof(t));
	t.malformed = NETVM_MALFORMED_BAD_IP;
	assert_false(netvm_match_test(&any, &t));
	assert_false(netvm_match_test(&l3, &t));

	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_NONE), "none");
	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_BAD_IP), "bad_ip");
	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_SHORT_L4), "short_l4");
	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_TCP_OFF1), "tcp_off1");
	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_EXT_CHAIN), "ext_chain");
	assert_string_equal(netvm_malformed_name(NETVM_MALFORMED_COUNT), "?");
}

/* netvm_match_tuple() on frames: the tuple, its L4 state and the verdict. */
static void test_match_tuple(void **state)
{
	struct netvm_5tuple t;
	struct fb f;

	(void)state;
	/* Not IP: -1, and the default policy. */
	eth(&f, NULL, 0, 0x0806);
	putn(&f, "arp-arp-arp-arp-arp-arp-arp-", 28);
	memset(&t, 0xaa, sizeof(t));
	assert_int_equal(netvm_match_tuple(f.b, f.n, &t), -1);
	assert_int_equal(t.family, 0);
	assert_int_equal(netvm_match_tuple(f.b, 13, &t), -1); /* no Ethernet header */
	{
		static const uint16_t tag[] = {5};

		eth(&f, tag, 1, 0x0800); /* cut inside the VLAN tag: no ethertype */
		assert_int_equal(netvm_match_tuple(f.b, 16, &t), -1);
	}

	/* A whole TCP packet: nothing wrong. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 20, 0);
	tcp(&f, 1234, 80, 5, 0);
	assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
	assert_int_equal(t.malformed, NETVM_MALFORMED_NONE);
	assert_int_equal(t.l4, NETVM_L4_COMPLETE);
	assert_int_equal(t.dport, 80);

	/* IPv4 ethertype, header cut short or lying: bad_ip, family 0. */
	assert_int_equal(netvm_match_tuple(f.b, 30, &t), 0);
	assert_int_equal(t.malformed, NETVM_MALFORMED_BAD_IP);
	assert_int_equal(t.family, 0);
	f.b[17]++; /* total length one more than the frame */
	assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
	assert_int_equal(t.malformed, NETVM_MALFORMED_BAD_IP);

	/* Tiny first fragment: short_l4, but the addresses are known. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 16, 0x2000);
	tcp(&f, 1234, 80, 5, 0);
	f.n -= 4;
	assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
	assert_int_equal(t.malformed, NETVM_MALFORMED_SHORT_L4);
	assert_int_equal(t.family, 4);
	assert_int_equal(t.proto, IPPROTO_TCP);
	assert_int_equal(t.l4, NETVM_L4_TRUNCATED);
	assert_memory_equal(t.src, "\x0a\x00\x00\x01", 4);

	/* Offsets 1 and 2, TCP and UDP: only TCP at 1 is evasive. */
	for (uint16_t off = 1; off <= 2; off++) {
		for (int udp_ = 0; udp_ < 2; udp_++) {
			eth(&f, NULL, 0, 0x0800);
			ipv4(&f, udp_ ? IPPROTO_UDP : IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 16,
			     off);
			putn(&f, "0123456789abcdef", 16);
			assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
			assert_int_equal(t.l4, NETVM_L4_ABSENT);
			assert_int_equal(t.malformed, off == 1 && !udp_ ? NETVM_MALFORMED_TCP_OFF1
									: NETVM_MALFORMED_NONE);
		}
	}
	/* The same in IPv6. */
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, IPPROTO_FRAGMENT, "2001:db8::1", "2001:db8::2", 8 + 16);
	frag6(&f, IPPROTO_TCP, 1, 1, 3);
	putn(&f, "0123456789abcdef", 16);
	assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
	assert_int_equal(t.malformed, NETVM_MALFORMED_TCP_OFF1);
	assert_int_equal(t.family, 6);

	/* An IPv6 chain past the bound, whatever the port behind it. */
	{
		uint8_t chain[NETVM_IPV6_MAX_EXT + 1];

		memset(chain, IPPROTO_HOPOPTS, sizeof(chain));
		ext6_tcp(&f, chain, NETVM_IPV6_MAX_EXT);
		assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
		assert_int_equal(t.malformed, NETVM_MALFORMED_NONE);
		assert_int_equal(t.dport, 80);
		ext6_tcp(&f, chain, NETVM_IPV6_MAX_EXT + 1);
		assert_int_equal(netvm_match_tuple(f.b, f.n, &t), 0);
		assert_int_equal(t.malformed, NETVM_MALFORMED_EXT_CHAIN);
		assert_int_equal(t.family, 6);
		assert_int_equal(t.l4, NETVM_L4_TRUNCATED);
	}
}

enum verdict { DEFAULT, RULE1, RULE2, MALFORMED };

/* The decision every rule set makes (netvm_match_tuple()'s comment). */
static enum verdict decide(const struct netvm_match r[2], const struct fb *f)
{
	struct netvm_5tuple t;

	if (netvm_match_tuple(f->b, f->n, &t) < 0)
		return DEFAULT;
	if (netvm_match_test(&r[0], &t))
		return RULE1;
	if (netvm_match_test(&r[1], &t))
		return RULE2;
	return t.malformed ? MALFORMED : DEFAULT;
}

/* The RFC cases with "deny proto=tcp dport=80", "deny proto=udp src=10.0.0.66". */
static void test_decide(void **state)
{
	struct netvm_match r[2];
	struct fb f;

	(void)state;
	netvm_match_any(&r[0]);
	set_ok(&r[0], "proto", "tcp");
	set_ok(&r[0], "dport", "80");
	netvm_match_any(&r[1]);
	set_ok(&r[1], "proto", "udp");
	set_ok(&r[1], "src", "10.0.0.66");

	/* IPv6 hop-by-hop then TCP 80: the rule sees the port. */
	{
		static const uint8_t hbh[] = {IPPROTO_HOPOPTS};

		ext6_tcp(&f, hbh, 1);
		assert_int_equal(decide(r, &f), RULE1);
	}
	/* UDP first fragment from 10.0.0.66 with 4 bytes of UDP: rule 2 has no
	 * ports, so it decides; from another source it is malformed. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.66", "10.0.0.2", 0, 4, 0x2000);
	putn(&f, "\x00\x35\x00\x35", 4);
	assert_int_equal(decide(r, &f), RULE2);
	f.b[14 + 15] = 67;
	assert_int_equal(decide(r, &f), MALFORMED);
	/* A later UDP fragment from 10.0.0.66: rule 2; from elsewhere: default. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.66", "10.0.0.2", 0, 8, 0x0003);
	putn(&f, "datadata", 8);
	assert_int_equal(decide(r, &f), RULE2);
	f.b[14 + 15] = 67;
	assert_int_equal(decide(r, &f), DEFAULT);
	/* A later TCP fragment: rule 1 cannot see ports in it: default. */
	f.b[14 + 9] = IPPROTO_TCP;
	assert_int_equal(decide(r, &f), DEFAULT);
	/* ARP: default. */
	eth(&f, NULL, 0, 0x0806);
	putn(&f, "arp-arp-arp-arp-arp-arp-arp-", 28);
	assert_int_equal(decide(r, &f), DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_any),
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_prefix_v4),
	    cmocka_unit_test(test_prefix_v6),
	    cmocka_unit_test(test_ports_proto),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_format_truncates),
	    cmocka_unit_test(test_l4_state),
	    cmocka_unit_test(test_match_tuple),
	    cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
