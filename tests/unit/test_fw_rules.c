/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the firewall rule parser and fw_check(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../nfs/fw_rules.h"
#include "frames.h"

#define TCP 6
#define UDP 17

/* Frames built by hand: Ethernet + IPv4/IPv6 + TCP/UDP, zeroed payload. */
static uint32_t frame4(uint8_t *f, uint8_t proto, const uint8_t src[4], const uint8_t dst[4],
		       uint16_t sport, uint16_t dport)
{
	uint32_t l4 = proto == TCP ? 20 : 8;
	uint32_t iplen = 20 + l4;

	memset(f, 0, 14 + iplen);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	f[12] = 0x08; /* IPv4 */
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = iplen >> 8;
	ip[3] = iplen & 0xff;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint8_t *l = ip + 20;
	l[0] = sport >> 8;
	l[1] = sport & 0xff;
	l[2] = dport >> 8;
	l[3] = dport & 0xff;
	if (proto == TCP)
		l[12] = 5 << 4; /* data offset */
	else
		l[5] = 8; /* UDP length */
	return 14 + iplen;
}

static uint32_t frame6(uint8_t *f, uint8_t proto, uint8_t src_last, uint16_t sport, uint16_t dport)
{
	uint32_t l4 = proto == TCP ? 20 : 8;

	memset(f, 0, 14 + 40 + l4);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x60;
	ip[5] = l4;
	ip[6] = proto;
	ip[7] = 64;
	ip[8] = 0xfe; /* src fe80::N */
	ip[9] = 0x80;
	ip[23] = src_last;
	ip[24] = 0x20; /* dst 2001:db8::1 */
	ip[25] = 0x01;
	ip[26] = 0x0d;
	ip[27] = 0xb8;
	ip[39] = 1;
	uint8_t *l = ip + 40;
	l[0] = sport >> 8;
	l[1] = sport & 0xff;
	l[2] = dport >> 8;
	l[3] = dport & 0xff;
	if (proto == TCP)
		l[12] = 5 << 4;
	else
		l[5] = l4;
	return 14 + 40 + l4;
}

static uint32_t frame_arp(uint8_t *f)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	return 60;
}

static const uint8_t A_10_0_0_5[4] = {10, 0, 0, 5};
static const uint8_t A_10_0_1_5[4] = {10, 0, 1, 5};
static const uint8_t A_192_168_3_4[4] = {192, 168, 3, 4};
static const uint8_t A_1_2_3_4[4] = {1, 2, 3, 4};

static const char *const example = "# action  fields (any subset; missing = any)\n"
				   "allow proto=tcp dst=10.0.0.0/24 dport=80\n"
				   "\n"
				   "deny  src=192.168.0.0/16\t# comment after a rule\n"
				   "   allow proto=udp dport=1000-2000\n"
				   "default deny          # policy when no rule matches\n";

static void test_parse_good(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];

	assert_int_equal(fw_rules_parse("ex", example, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 3);
	assert_true(rs.rules[0].allow);
	assert_int_equal(rs.rules[0].line, 2);
	assert_int_equal(rs.rules[0].match.proto, TCP);
	assert_int_equal(rs.rules[0].match.dst_plen, 24);
	assert_int_equal(rs.rules[0].match.dport_lo, 80);
	assert_int_equal(rs.rules[0].match.dport_hi, 80);
	assert_false(rs.rules[1].allow);
	assert_int_equal(rs.rules[1].line, 4);
	assert_int_equal(rs.rules[1].match.src_plen, 16);
	assert_int_equal(rs.rules[1].match.proto, 0);
	assert_int_equal(rs.rules[2].line, 5);
	assert_int_equal(rs.rules[2].match.dport_lo, 1000);
	assert_int_equal(rs.rules[2].match.dport_hi, 2000);
	assert_false(rs.default_allow);
	fw_rules_free(&rs);
	fw_rules_free(&rs); /* twice is fine */

	/* Empty text, comments only, CRLF, no final newline, bare action. */
	assert_int_equal(fw_rules_parse("e", "", &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 0);
	assert_true(rs.default_allow);
	fw_rules_free(&rs);
	assert_int_equal(fw_rules_parse("e", "# x\n\n   \n#allow\n", &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 0);
	fw_rules_free(&rs);
	assert_int_equal(
	    fw_rules_parse("e", "deny proto=udp\r\ndefault allow\r\nallow", &rs, err, sizeof(err)),
	    0);
	assert_int_equal(rs.n, 2);
	assert_true(rs.default_allow);
	assert_int_equal(rs.rules[1].line, 3);
	fw_rules_free(&rs);
}

/* Each bad input must fail with "name:LINE: " and leave the set empty. */
static void expect_error(const char *text, int line, const char *needle)
{
	struct fw_ruleset rs;
	char err[256], prefix[32];

	memset(err, 'x', sizeof(err));
	assert_int_equal(fw_rules_parse("t.rules", text, &rs, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "t.rules:%d: ", line);
	if (strncmp(err, prefix, strlen(prefix)) || (needle && !strstr(err, needle)))
		fail_msg("for \"%s\": got \"%s\", want prefix \"%s\" and \"%s\"", text, err, prefix,
			 needle ? needle : "");
	assert_null(rs.rules);
	assert_int_equal(rs.n, 0);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error("allow\npermit dst=1.2.3.4\n", 2, "unknown action 'permit'");
	expect_error("# c\n\nallow proto tcp\n", 3, "expected key=value");
	expect_error("deny colour=red\n", 1, "colour");
	expect_error("allow dport=80 proto=tcp dport=81\n", 1, "duplicate key 'dport'");
	expect_error("allow src=1.0.0.0/8 src=2.0.0.0/8\n", 1, "duplicate key 'src'");
	expect_error("allow dport=99999\n", 1, NULL);
	expect_error("allow dport=\n", 1, NULL);
	expect_error("allow src=10.0.0.0/33\n", 1, NULL);
	expect_error("default\n", 1, "bad default");
	expect_error("default maybe\n", 1, "bad default");
	expect_error("default deny allow\n", 1, "bad default");
	expect_error("default deny\nallow\ndefault deny\n", 3, "bad default");
	expect_error("Allow\n", 1, "unknown action");

	/* A NULL or tiny err buffer must not crash or overflow. */
	struct fw_ruleset rs;
	char tiny[4];
	assert_int_equal(fw_rules_parse("t", "bogus\n", &rs, NULL, 0), -1);
	assert_int_equal(fw_rules_parse("t", "bogus\n", &rs, tiny, sizeof(tiny)), -1);
	assert_int_equal(tiny[3], '\0');
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/test_fw_rulesXXXXXX";
	struct fw_ruleset rs;
	char err[512], prefix[300];

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);
	assert_int_equal(fw_rules_load(path, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 3);
	assert_false(rs.default_allow);
	fw_rules_free(&rs);

	/* Errors name the file. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("allow\n\ndeny dport\n", f);
	fclose(f);
	assert_int_equal(fw_rules_load(path, &rs, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "%s:3: ", path);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);

	/* A file larger than one read buffer. */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fprintf(f, "deny proto=udp dport=%d   # rule %d\n", i, i);
	fclose(f);
	assert_int_equal(fw_rules_load(path, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 2000);
	assert_int_equal(rs.rules[1999].line, 2000);
	assert_int_equal(rs.rules[1999].match.dport_lo, 1999);
	fw_rules_free(&rs);

	/* An embedded NUL byte is refused, not silently ignored. */
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("allow\n\ndeny\0 dport=80\n", 1, 22, f);
	fclose(f);
	assert_int_equal(fw_rules_load(path, &rs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: "));

	unlink(path);
	assert_int_equal(fw_rules_load(path, &rs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(rs.n, 0);
	assert_int_equal(fw_rules_load("/tmp", &rs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/tmp: "));
}

static void test_check_example(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	uint8_t f[128];
	uint32_t n;

	assert_int_equal(fw_rules_parse("ex", example, &rs, err, sizeof(err)), 0);

	/* Rule 1: tcp to 10.0.0.0/24 port 80. */
	n = frame4(f, TCP, A_1_2_3_4, A_10_0_0_5, 40000, 80);
	assert_true(fw_check(&rs, f, n));
	/* Outside the /24: falls to the default (deny). */
	n = frame4(f, TCP, A_1_2_3_4, A_10_0_1_5, 40000, 80);
	assert_false(fw_check(&rs, f, n));
	/* Wrong port, wrong proto. */
	n = frame4(f, TCP, A_1_2_3_4, A_10_0_0_5, 40000, 81);
	assert_false(fw_check(&rs, f, n));
	n = frame4(f, UDP, A_1_2_3_4, A_10_0_0_5, 40000, 80);
	assert_false(fw_check(&rs, f, n));

	/* First match wins: 192.168/16 to 10.0.0.5:80 is allowed by rule 1. */
	n = frame4(f, TCP, A_192_168_3_4, A_10_0_0_5, 40000, 80);
	assert_true(fw_check(&rs, f, n));
	/* ... but its UDP in the allowed range hits rule 2 (deny) first. */
	n = frame4(f, UDP, A_192_168_3_4, A_1_2_3_4, 5, 1500);
	assert_false(fw_check(&rs, f, n));

	/* Port range edges of rule 3. */
	static const uint16_t ports[] = {999, 1000, 1500, 2000, 2001};
	static const bool want[] = {false, true, true, true, false};
	for (int i = 0; i < 5; i++) {
		n = frame4(f, UDP, A_1_2_3_4, A_10_0_1_5, 7, ports[i]);
		assert_int_equal(fw_check(&rs, f, n), want[i]);
	}

	assert_int_equal(rs.rules[0].hits, 2);
	assert_int_equal(rs.rules[1].hits, 1);
	assert_int_equal(rs.rules[2].hits, 3);
	assert_int_equal(rs.default_hits, 3 + 2);
	assert_int_equal(rs.non_ip, 0);

	/* The table shows every rule and the default with its counters. */
	char *out = NULL;
	size_t outlen = 0;
	FILE *mf = open_memstream(&out, &outlen);
	assert_non_null(mf);
	fw_rules_print(&rs, mf);
	fclose(mf);
	assert_non_null(strstr(out, "rule"));
	assert_non_null(strstr(out, "hits"));
	assert_non_null(strstr(out, "default"));
	assert_non_null(strstr(out, "malformed"));
	int lines = 0;
	for (char *c = out; *c; c++)
		lines += *c == '\n';
	/* Header, 3 rules, default, malformed, the non-IP and by-reason lines. */
	assert_int_equal(lines, 1 + 3 + 2 + 2);
	free(out);
	fw_rules_free(&rs);
}

static void test_ipv6_and_prefixes(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	uint8_t f[128];
	uint32_t n;

	const char *text = "deny src=fe80::/10 sport=22\n"
			   "allow dst=2001:db8::/32\n"
			   "allow src=1.2.3.4\n" /* bare address = /32 */
			   "default deny\n";
	assert_int_equal(fw_rules_parse("v6", text, &rs, err, sizeof(err)), 0);

	n = frame6(f, TCP, 9, 22, 1234);
	assert_false(fw_check(&rs, f, n));
	n = frame6(f, TCP, 9, 23, 1234);
	assert_true(fw_check(&rs, f, n));
	n = frame6(f, UDP, 9, 23, 53);
	assert_true(fw_check(&rs, f, n));
	/* An IPv4 packet never matches an IPv6 prefix. */
	n = frame4(f, TCP, A_1_2_3_4, A_10_0_0_5, 22, 80);
	assert_true(fw_check(&rs, f, n));
	n = frame4(f, TCP, A_1_2_3_4, A_10_0_0_5, 22, 80);
	f[14 + 15] = 5; /* src 1.2.3.5: not the /32 */
	assert_false(fw_check(&rs, f, n));

	assert_int_equal(rs.rules[0].hits, 1);
	assert_int_equal(rs.rules[1].hits, 2);
	assert_int_equal(rs.rules[2].hits, 1);
	assert_int_equal(rs.default_hits, 1);
	fw_rules_free(&rs);
}

static void test_default_policy(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	uint8_t f[128];
	uint32_t n = frame4(f, TCP, A_1_2_3_4, A_10_0_0_5, 1, 2);

	/* No rules: allow everything by default. */
	assert_int_equal(fw_rules_parse("d", "", &rs, err, sizeof(err)), 0);
	assert_true(fw_check(&rs, f, n));
	assert_int_equal(rs.default_hits, 1);
	fw_rules_free(&rs);

	assert_int_equal(fw_rules_parse("d", "default deny", &rs, err, sizeof(err)), 0);
	assert_false(fw_check(&rs, f, n));
	fw_rules_free(&rs);

	/* "default" may come anywhere; rules still win over it. */
	assert_int_equal(fw_rules_parse("d", "default deny\nallow dport=2", &rs, err, sizeof(err)),
			 0);
	assert_true(fw_check(&rs, f, n));
	assert_int_equal(rs.default_hits, 0);
	fw_rules_free(&rs);
}

static void test_non_ip(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	uint8_t f[128];
	uint32_t n = frame_arp(f);

	/* "allow" matches any IP packet, but not ARP: ARP takes the default. */
	assert_int_equal(fw_rules_parse("n", "allow\ndefault deny\n", &rs, err, sizeof(err)), 0);
	assert_false(fw_check(&rs, f, n));
	assert_int_equal(rs.non_ip, 1);
	assert_int_equal(rs.default_hits, 1);
	assert_int_equal(rs.rules[0].hits, 0);
	fw_rules_free(&rs);

	assert_int_equal(fw_rules_parse("n", "deny\n", &rs, err, sizeof(err)), 0);
	assert_true(fw_check(&rs, f, n));
	assert_int_equal(rs.non_ip, 1);
	fw_rules_free(&rs);
}

/* Every prefix of valid frames, and a zero-length one, must be safe. */
static void test_truncated(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	assert_int_equal(
	    fw_rules_parse("t", "deny proto=tcp dport=80\nallow\n", &rs, err, sizeof(err)), 0);

	uint32_t lens[3];
	uint8_t *frames[3];
	uint8_t f4[128], f6[128], fu[128];
	lens[0] = frame4(f4, TCP, A_1_2_3_4, A_10_0_0_5, 1, 80);
	lens[1] = frame6(f6, TCP, 1, 1, 80);
	lens[2] = frame4(fu, UDP, A_1_2_3_4, A_10_0_0_5, 1, 80);
	frames[0] = f4;
	frames[1] = f6;
	frames[2] = fu;
	for (int k = 0; k < 3; k++) {
		for (uint32_t len = 0; len <= lens[k]; len++) {
			/* An exact-size heap copy so ASan sees any overread. */
			uint8_t *p = malloc(len ? len : 1);
			assert_non_null(p);
			memcpy(p, frames[k], len);
			(void)fw_check(&rs, p, len);
			free(p);
		}
	}
	/* The complete TCP frames were denied; nothing counted twice.  Frames
	 * cut inside the Ethernet header are not IP (default policy), those cut
	 * after it have an IP header whose length runs past the frame. */
	uint64_t total = rs.rules[0].hits + rs.rules[1].hits + rs.default_hits;
	for (int k = 0; k < NETVM_MALFORMED_COUNT; k++)
		total += rs.malformed[k];
	assert_int_equal(total, (lens[0] + 1) + (lens[1] + 1) + (lens[2] + 1));
	assert_true(rs.rules[0].hits >= 2);
	assert_int_equal(rs.non_ip, 3 * 14);
	assert_int_equal(rs.default_hits, rs.non_ip);
	assert_int_equal(rs.malformed[NETVM_MALFORMED_BAD_IP],
			 total - 3 * 14 - rs.rules[0].hits - rs.rules[1].hits);
	fw_rules_free(&rs);
}

static const char *const evasion_rules = "deny proto=tcp dport=80\n"
					 "deny proto=udp src=10.0.0.66\n"
					 "default allow\n";

/* Evasive frames against "deny proto=tcp dport=80": each is denied by the
 * rule or by the malformed policy, and counted where it was decided. */
static void test_malformed_policy(void **state)
{
	(void)state;
	struct fw_ruleset rs;
	char err[256];
	struct fb f;

	assert_int_equal(fw_rules_parse("e", evasion_rules, &rs, err, sizeof(err)), 0);
	assert_false(rs.malformed_allow);

	/* IPv6 hop-by-hop, then TCP to port 80: rule 1. */
	static const uint8_t hbh[] = {IPPROTO_HOPOPTS};
	ext6_tcp(&f, hbh, 1);
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.rules[0].hits, 1);

	/* RFC 1858: 8 bytes of TCP in the first fragment: malformed, short_l4. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 8, 0x2000);
	tcp(&f, 1234, 80, 5, 0);
	f.n -= 12;
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_SHORT_L4], 1);

	/* RFC 3128: a TCP fragment at offset 1. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 16, 0x0001);
	putn(&f, "0123456789abcdef", 16);
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_TCP_OFF1], 1);

	/* More than NETVM_IPV6_MAX_EXT extension headers, even to port 8080. */
	uint8_t chain[NETVM_IPV6_MAX_EXT + 1];
	memset(chain, IPPROTO_DSTOPTS, sizeof(chain));
	ext6_tcp(&f, chain, sizeof(chain));
	f.b[f.n - 20 + 2] = 8080 >> 8;
	f.b[f.n - 20 + 3] = 8080 & 0xff;
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_EXT_CHAIN], 1);

	/* An IPv4 header whose total length runs past the frame. */
	uint32_t n = frame4(f.b, TCP, A_1_2_3_4, A_10_0_0_5, 1, 8080);
	f.b[17] += 1;
	assert_false(fw_check(&rs, f.b, n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_BAD_IP], 1);

	/* A UDP first fragment with 4 bytes of UDP from 10.0.0.66: malformed,
	 * judged before rule 2 (which names no ports) sees it. */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_UDP, "10.0.0.66", "10.0.0.2", 0, 4, 0x2000);
	putn(&f, "\x00\x35\x00\x35", 4);
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.rules[1].hits, 0);
	assert_int_equal(rs.malformed[NETVM_MALFORMED_SHORT_L4], 2);

	/* Passed: a later TCP fragment (no ports, default), ARP (not IP). */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 16, 0x0002);
	putn(&f, "0123456789abcdef", 16);
	assert_true(fw_check(&rs, f.b, f.n));
	n = frame_arp(f.b);
	assert_true(fw_check(&rs, f.b, n));
	assert_int_equal(rs.default_hits, 2);
	assert_int_equal(rs.non_ip, 1);

	/* The table has the malformed row and the counts by reason. */
	char *out = NULL;
	size_t outlen = 0;
	FILE *mf = open_memstream(&out, &outlen);
	assert_non_null(mf);
	fw_rules_print(&rs, mf);
	fclose(mf);
	assert_non_null(strstr(out, " deny   malformed "));
	assert_non_null(strstr(out, "by reason: bad_ip 1, short_l4 2, tcp_off1 1, ext_chain 1\n"));
	free(out);
	fw_rules_free(&rs);

	/* An allow rule without ports does not let a tiny fragment through:
	 * the malformed policy comes first. */
	assert_int_equal(
	    fw_rules_parse("e", "allow src=10.0.0.0/8\ndefault allow\n", &rs, err, sizeof(err)), 0);
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 8, 0x2000);
	tcp(&f, 1234, 80, 5, 0);
	f.n -= 12;
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.rules[0].hits, 0);
	fw_rules_free(&rs);

	/* "malformed allow": the rules decide; one with ports cannot match. */
	assert_int_equal(fw_rules_parse("e", "malformed allow\ndeny proto=tcp dport=80\n", &rs, err,
					sizeof(err)),
			 0);
	assert_true(rs.malformed_allow);
	assert_true(rs.default_allow);
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 0, 8, 0x2000);
	tcp(&f, 1234, 80, 5, 0);
	f.n -= 12;
	assert_true(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_SHORT_L4], 1);
	assert_int_equal(rs.rules[0].hits, 0);
	assert_int_equal(rs.default_hits, 1);
	fw_rules_free(&rs);

	/* ... and with "default deny" the default denies them. */
	assert_int_equal(
	    fw_rules_parse("e", "default deny\nmalformed allow\n", &rs, err, sizeof(err)), 0);
	assert_false(fw_check(&rs, f.b, f.n));
	assert_int_equal(rs.malformed[NETVM_MALFORMED_SHORT_L4], 1);
	assert_int_equal(rs.default_hits, 1);
	fw_rules_free(&rs);
}

static void test_malformed_errors(void **state)
{
	(void)state;
	expect_error("malformed\n", 1, "bad malformed: expected 'malformed allow' or");
	expect_error("malformed pass\n", 1, "bad malformed");
	expect_error("malformed deny allow\n", 1, "bad malformed");
	expect_error("malformed deny\n\nmalformed deny\n", 3, "bad malformed: policy already set");
	expect_error("allow\nmalformd deny\n", 2, "expected allow, deny, default or malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_check_example),
	    cmocka_unit_test(test_ipv6_and_prefixes),
	    cmocka_unit_test(test_default_policy),
	    cmocka_unit_test(test_non_ip),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_malformed_policy),
	    cmocka_unit_test(test_malformed_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
