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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
