/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for nf-nat (nfs/nat/): translation of each packet type with
 * every checksum verified from scratch (a plain RFC 1071 sum written here,
 * not the library's), UDP zero and 0xffff checksums, ICMP errors with their
 * embedded headers both ways, hairpinning, RFC 6056 port spread and
 * exhaustion, expiry and the TCP state timeouts, fragments, every
 * truncation of every packet type, and the configuration parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "nat.h"

#define PUB    "198.51.100.1"
#define IN_A   "10.0.0.1"
#define IN_B   "10.0.0.2"
#define REMOTE "203.0.113.9"
#define FIN    0x01
#define SYN    0x02
#define RST    0x04
#define ACK    0x10

static uint32_t ip4(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071, from scratch: the folded sum (0xffff when a stored checksum is right). */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, uint32_t len)
{
	uint32_t s = 0;
	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	return s + proto + len;
}

/* Store the right checksums of an IPv4 packet at @ip (header, TCP/UDP/ICMP);
 * a UDP checksum is left 0 when @udp_none. */
static void fix_csums(uint8_t *ip, bool udp_none)
{
	uint32_t hl = (ip[0] & 15) * 4, tot = rd16(ip + 2), l4len = tot - hl;
	uint8_t *l4 = ip + hl;

	wr16(ip + 10, 0);
	wr16(ip + 10, (uint16_t)~sum16(ip, hl, 0));
	if (ip[9] == IPPROTO_TCP) {
		wr16(l4 + 16, 0);
		wr16(l4 + 16, (uint16_t)~sum16(l4, l4len, pseudo(ip, 6, l4len)));
	} else if (ip[9] == IPPROTO_UDP) {
		wr16(l4 + 6, 0);
		if (!udp_none) {
			uint16_t c = (uint16_t)~sum16(l4, l4len, pseudo(ip, 17, l4len));
			wr16(l4 + 6, c ? c : 0xffff);
		}
	} else if (ip[9] == IPPROTO_ICMP) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, (uint16_t)~sum16(l4, l4len, 0));
	}
}

/* Check every checksum of the IPv4 packet at @ip. */
static void assert_csums(const uint8_t *ip)
{
	uint32_t hl = (ip[0] & 15) * 4, tot = rd16(ip + 2), l4len = tot - hl;
	const uint8_t *l4 = ip + hl;

	assert_int_equal(sum16(ip, hl, 0), 0xffff);
	if (ip[9] == IPPROTO_TCP)
		assert_int_equal(sum16(l4, l4len, pseudo(ip, 6, l4len)), 0xffff);
	else if (ip[9] == IPPROTO_UDP && rd16(l4 + 6))
		assert_int_equal(sum16(l4, l4len, pseudo(ip, 17, l4len)), 0xffff);
	else if (ip[9] == IPPROTO_ICMP)
		assert_int_equal(sum16(l4, l4len, 0), 0xffff);
}

/* An Ethernet frame with an IPv4 packet: TCP/UDP with ports, or ICMP with
 * type (sport) and code/id (dport).  @plen bytes of payload (0x5a..). */
static uint32_t frame(uint8_t *f, uint8_t proto, const char *src, const char *dst, uint16_t sport,
		      uint16_t dport, uint8_t flags, uint32_t plen)
{
	uint32_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint32_t tot = 20 + l4 + plen;

	memset(f, 0, 14 + tot);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	uint32_t a = ip4(src), b = ip4(dst);
	memcpy(ip + 12, &a, 4);
	memcpy(ip + 16, &b, 4);
	uint8_t *l = ip + 20;
	if (proto == IPPROTO_ICMP) {
		l[0] = (uint8_t)sport; /* type */
		wr16(l + 4, dport);    /* identifier */
		wr16(l + 6, 7);	       /* sequence */
	} else {
		wr16(l, sport);
		wr16(l + 2, dport);
		if (proto == IPPROTO_TCP) {
			l[12] = 5 << 4;
			l[13] = flags;
			wr16(l + 4, 1000);
		} else {
			wr16(l + 4, (uint16_t)(8 + plen));
		}
	}
	for (uint32_t i = 0; i < plen; i++)
		l[l4 + i] = (uint8_t)(0x5a + i);
	fix_csums(ip, false);
	return 14 + tot;
}

static void config(struct nat_config *c)
{
	nat_config_defaults(c);
	c->n_public = 1;
	c->public_addr[0] = ip4(PUB);
	c->max_mappings = 1024;
}

static struct nat *new_nat(const struct nat_config *c)
{
	struct nat *n = malloc(sizeof(*n));
	assert_non_null(n);
	assert_int_equal(nat_init(n, c), 0);
	return n;
}

static void free_nat(struct nat *n)
{
	nat_fini(n);
	free(n);
}

#define C(n, name) (n)->local_c[NAT_C_##name]
#define IP(f)	   ((f) + 14)
#define L4(f)	   ((f) + 34)

static uint32_t get_addr(const uint8_t *p)
{
	uint32_t a;
	memcpy(&a, p, 4);
	return a;
}

/* Out and back: TCP and UDP, addresses, ports and checksums. */
static void out_and_back(uint8_t proto)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	uint32_t len = frame(f, proto, IN_A, REMOTE, 40000, 443, SYN, 33);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	assert_int_equal(get_addr(IP(f) + 12), ip4(PUB));
	assert_int_equal(get_addr(IP(f) + 16), ip4(REMOTE));
	uint16_t ext = rd16(L4(f));
	assert_true(ext >= 1024);
	assert_int_equal(rd16(L4(f) + 2), 443);
	assert_csums(IP(f));
	assert_int_equal(C(n, mappings), 1);
	assert_int_equal(C(n, mappings_created), 1);

	/* The same inside endpoint to another remote: the same mapping (EIM). */
	len = frame(f, proto, IN_A, "192.0.2.77", 40000, 53, ACK, 5);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 1), NAT_V_OUT);
	assert_int_equal(rd16(L4(f)), ext);
	assert_int_equal(C(n, mappings_created), 1);

	/* The reply. */
	len = frame(f, proto, REMOTE, PUB, 443, ext, SYN | ACK, 20);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 2), NAT_V_IN);
	assert_int_equal(get_addr(IP(f) + 16), ip4(IN_A));
	assert_int_equal(get_addr(IP(f) + 12), ip4(REMOTE));
	assert_int_equal(rd16(L4(f) + 2), 40000);
	assert_int_equal(rd16(L4(f)), 443);
	assert_csums(IP(f));
	/* Endpoint-independent filtering: another remote host gets in too. */
	len = frame(f, proto, "192.0.2.200", PUB, 999, ext, ACK, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 3), NAT_V_IN);
	assert_csums(IP(f));
	assert_int_equal(C(n, out), 2);
	assert_int_equal(C(n, in), 2);
	free_nat(n);
}

static void test_udp(void **state)
{
	out_and_back(IPPROTO_UDP);
}

static void test_tcp(void **state)
{
	out_and_back(IPPROTO_TCP);
}

/* UDP checksum 0 means none: it stays 0 both ways. */
static void test_udp_zero_checksum(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 5353, 53, 0, 10);
	wr16(L4(f) + 6, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	assert_int_equal(rd16(L4(f) + 6), 0);
	assert_int_equal(sum16(IP(f), 20, 0), 0xffff);
	uint16_t ext = rd16(L4(f));
	len = frame(f, IPPROTO_UDP, REMOTE, PUB, 53, ext, 0, 10);
	wr16(L4(f) + 6, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_IN);
	assert_int_equal(rd16(L4(f) + 6), 0);
	assert_int_equal(sum16(IP(f), 20, 0), 0xffff);
	free_nat(n);
}

/* A UDP checksum that comes out 0 after the update is sent as 0xffff: find
 * the payload word that makes it so (exactly one of the 65536 does). */
static void test_udp_checksum_ffff(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256], g[256];

	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 5353, 53, 0, 2);
	memcpy(g, f, len);
	assert_int_equal(nat_translate(n, g, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	uint16_t ext = rd16(L4(g));
	bool found = false;
	for (uint32_t w = 0; w < 65536 && !found; w++) {
		wr16(L4(f) + 8, (uint16_t)w);
		fix_csums(IP(f), false);
		memcpy(g, f, len);
		/* What the translated datagram's checksum computes to. */
		memcpy(IP(g) + 12, &c.public_addr[0], 4);
		wr16(L4(g), ext);
		wr16(L4(g) + 6, 0);
		if (sum16(L4(g), 10, pseudo(IP(g), 17, 10)) != 0xffff)
			continue;
		found = true;
		memcpy(g, f, len);
		assert_int_equal(nat_translate(n, g, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
		assert_int_equal(rd16(L4(g) + 6), 0xffff);
		assert_csums(IP(g));
	}
	assert_true(found);
	free_nat(n);
}

static void test_icmp_echo(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	uint32_t len = frame(f, IPPROTO_ICMP, IN_A, REMOTE, 8, 0x4242, 0, 56);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	assert_int_equal(get_addr(IP(f) + 12), ip4(PUB));
	uint16_t id = rd16(L4(f) + 4);
	assert_csums(IP(f));
	len = frame(f, IPPROTO_ICMP, REMOTE, PUB, 0, id, 0, 56);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_IN);
	assert_int_equal(get_addr(IP(f) + 16), ip4(IN_A));
	assert_int_equal(rd16(L4(f) + 4), 0x4242);
	assert_csums(IP(f));
	/* An echo request from the outside is unsolicited; so is an
	 * unmapped identifier. */
	len = frame(f, IPPROTO_ICMP, REMOTE, PUB, 8, id, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_DROP);
	len = frame(f, IPPROTO_ICMP, REMOTE, PUB, 0, (uint16_t)(id + 1), 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_no_mapping), 2);
	/* A router advertisement from the inside: not a query. */
	len = frame(f, IPPROTO_ICMP, IN_A, REMOTE, 9, 0, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_proto), 1);
	free_nat(n);
}

/* An ICMP error (type, code) from @src to @dst quoting @emb_len bytes of the
 * IPv4 packet at @emb. */
static uint32_t icmp_error(uint8_t *f, uint8_t type, uint8_t code, const char *src, const char *dst,
			   const uint8_t *emb, uint32_t emb_len)
{
	uint32_t len = frame(f, IPPROTO_ICMP, src, dst, type, 0, 0, emb_len);
	L4(f)[1] = code;
	memset(L4(f) + 4, 0, 4);
	memcpy(L4(f) + 8, emb, emb_len);
	fix_csums(IP(f), false);
	return len;
}

/* The embedded packet of the ICMP error in frame @f. */
static uint8_t *embedded(uint8_t *f)
{
	return L4(f) + 8;
}

static void error_in(uint8_t proto, uint32_t quote, bool udp_none)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[512], e[256];

	/* The packet that goes out and causes the error. */
	uint32_t len = proto == IPPROTO_ICMP ? frame(e, proto, IN_A, REMOTE, 8, 0x777, 0, 40)
					     : frame(e, proto, IN_A, REMOTE, 40001, 33434, SYN, 40);
	if (udp_none)
		wr16(L4(e) + 6, 0);
	assert_int_equal(nat_translate(n, e, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	uint16_t ext = rd16(L4(e) + (proto == IPPROTO_ICMP ? 4 : 0));
	uint32_t tot = len - 14;
	if (quote > tot)
		quote = tot;
	/* A router on the way says time exceeded, quoting @quote bytes. */
	len = icmp_error(f, 11, 0, "192.0.2.1", PUB, IP(e), quote);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_IN);
	assert_int_equal(get_addr(IP(f) + 16), ip4(IN_A));
	assert_int_equal(get_addr(IP(f) + 12), ip4("192.0.2.1"));
	assert_csums(IP(f)); /* outer IP and ICMP over the whole quote */
	uint8_t *in = embedded(f);
	assert_int_equal(get_addr(in + 12), ip4(IN_A));
	assert_int_equal(get_addr(in + 16), ip4(REMOTE));
	assert_int_equal(sum16(in, 20, 0), 0xffff);
	if (proto == IPPROTO_ICMP) {
		assert_int_equal(rd16(in + 24), 0x777);
	} else {
		assert_int_equal(rd16(in + 20), 40001);
		assert_int_equal(rd16(in + 22), 33434);
	}
	if (quote == tot) /* the whole packet: its L4 checksum verifies */
		assert_csums(in);
	if (udp_none)
		assert_int_equal(rd16(in + 26), 0);
	assert_int_equal(C(n, icmp_err_in), 1);
	(void)ext;
	free_nat(n);
}

static void test_icmp_error_in_udp(void **state)
{
	error_in(IPPROTO_UDP, 1000, false);
}

static void test_icmp_error_in_udp_zero_checksum(void **state)
{
	error_in(IPPROTO_UDP, 1000, true);
}

static void test_icmp_error_in_tcp(void **state)
{
	error_in(IPPROTO_TCP, 1000, false);
}

/* RFC 792's minimum: the IP header and 8 bytes, so no TCP checksum. */
static void test_icmp_error_in_tcp_8_bytes(void **state)
{
	error_in(IPPROTO_TCP, 28, false);
}

static void test_icmp_error_in_echo(void **state)
{
	error_in(IPPROTO_ICMP, 1000, false);
}

/* An inside host answers an inbound datagram with port unreachable. */
static void test_icmp_error_out(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[512], e[256];

	uint32_t len = frame(e, IPPROTO_UDP, IN_A, REMOTE, 7000, 7000, 0, 4);
	assert_int_equal(nat_translate(n, e, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	uint16_t ext = rd16(L4(e));
	len = frame(e, IPPROTO_UDP, REMOTE, PUB, 7000, ext, 0, 30);
	assert_int_equal(nat_translate(n, e, len, NAT_SIDE_OUTSIDE, 0), NAT_V_IN);
	/* A's port unreachable about it: from A, quoting what A got. */
	len = icmp_error(f, 3, 3, IN_A, REMOTE, IP(e), len - 14);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	assert_int_equal(get_addr(IP(f) + 12), ip4(PUB));
	assert_int_equal(get_addr(IP(f) + 16), ip4(REMOTE));
	assert_csums(IP(f));
	uint8_t *in = embedded(f);
	assert_int_equal(get_addr(in + 12), ip4(REMOTE));
	assert_int_equal(get_addr(in + 16), ip4(PUB));
	assert_int_equal(rd16(in + 22), ext);
	assert_csums(in);
	assert_int_equal(C(n, icmp_err_out), 1);
	/* An error about nothing we mapped, and one too short to quote a header. */
	len = frame(e, IPPROTO_UDP, REMOTE, IN_B, 1, 2, 0, 0);
	len = icmp_error(f, 3, 3, IN_B, REMOTE, IP(e), len - 14);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	len = icmp_error(f, 3, 3, IN_A, REMOTE, IP(e), 20);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_icmp_error), 2);
	free_nat(n);
}

static void test_hairpin(void **state)
{
	struct nat_config c;
	config(&c);
	c.hairpin = NAT_HAIRPIN_PORT;
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 5000, 3478, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	uint16_t ext_a = rd16(L4(f));
	/* B to A's public address:port. */
	len = frame(f, IPPROTO_UDP, IN_B, PUB, 6000, ext_a, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_HAIRPIN);
	uint16_t ext_b = rd16(L4(f));
	assert_int_equal(get_addr(IP(f) + 12), ip4(PUB)); /* B as the outside sees it */
	assert_true(ext_b != ext_a);
	assert_int_equal(get_addr(IP(f) + 16), ip4(IN_A));
	assert_int_equal(rd16(L4(f) + 2), 5000);
	assert_csums(IP(f));
	/* A answers B's public address:port. */
	len = frame(f, IPPROTO_UDP, IN_A, PUB, 5000, ext_b, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_HAIRPIN);
	assert_int_equal(rd16(L4(f)), ext_a);
	assert_int_equal(get_addr(IP(f) + 16), ip4(IN_B));
	assert_int_equal(rd16(L4(f) + 2), 6000);
	assert_csums(IP(f));
	/* To a public port nobody has. */
	len = frame(f, IPPROTO_UDP, IN_B, PUB, 6000, 80, 0, 8);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, hairpin), 2);
	assert_int_equal(C(n, drop_no_mapping), 1);
	free_nat(n);
}

static void test_not_ours(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	/* Unsolicited inbound: to the public address, no mapping. */
	uint32_t len = frame(f, IPPROTO_TCP, REMOTE, PUB, 1234, 22, SYN, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_no_mapping), 1);
	/* Not to a public address, from another port, not IPv4: unchanged. */
	len = frame(f, IPPROTO_TCP, REMOTE, "192.0.2.5", 1234, 22, SYN, 0);
	uint8_t g[256];
	memcpy(g, f, len);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_PASS);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OTHER, 0), NAT_V_PASS);
	f[12] = 0x86;
	f[13] = 0xdd;
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_PASS);
	f[12] = 0x08;
	f[13] = 0x00;
	assert_memory_equal(f, g, len);
	assert_int_equal(C(n, passed), 3);
	/* GRE from the inside cannot be port-translated. */
	len = frame(f, 47, IN_A, REMOTE, 0, 0, 0, 16);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_proto), 1);
	free_nat(n);
}

static void test_fragments(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	/* A first fragment with the whole UDP header: translated. */
	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 4000, 53, 0, 40);
	wr16(IP(f) + 6, 0x2000); /* MF */
	fix_csums(IP(f), false);
	uint16_t before = rd16(L4(f) + 6);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	assert_int_equal(sum16(IP(f), 20, 0), 0xffff);
	assert_true(rd16(L4(f) + 6) != before);
	/* Later fragments: dropped, both ways. */
	len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 4000, 53, 0, 40);
	wr16(IP(f) + 6, 0x0005);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	len = frame(f, IPPROTO_UDP, REMOTE, PUB, 4000, 53, 0, 40);
	wr16(IP(f) + 6, 0x2005);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_fragment), 2);
	free_nat(n);
}

/* Every prefix of every kind of packet, both ways: never a read past the
 * end (ASan in scripts/sanitize.sh), and every drop is counted. */
static void test_truncated(void **state)
{
	struct nat_config c;
	config(&c);
	c.hairpin = NAT_HAIRPIN_PORT;
	struct nat *n = new_nat(&c);
	uint8_t f[512], e[256];
	uint32_t lens[8];
	uint8_t frames[8][512];
	int k = 0;

	lens[k] = frame(frames[k], IPPROTO_TCP, IN_A, REMOTE, 1, 2, SYN, 10), k++;
	lens[k] = frame(frames[k], IPPROTO_UDP, IN_A, REMOTE, 1, 2, 0, 10), k++;
	lens[k] = frame(frames[k], IPPROTO_ICMP, IN_A, REMOTE, 8, 2, 0, 10), k++;
	lens[k] = frame(frames[k], IPPROTO_UDP, IN_A, PUB, 1, 2, 0, 10), k++;
	uint32_t el = frame(e, IPPROTO_UDP, IN_A, REMOTE, 1, 2, 0, 10);
	lens[k] = icmp_error(frames[k], 3, 3, REMOTE, IN_A, IP(e), el - 14), k++;
	lens[k] = icmp_error(frames[k], 11, 0, IN_A, REMOTE, IP(e), el - 14), k++;
	for (int i = 0; i < k; i++) {
		for (int side = NAT_SIDE_INSIDE; side <= NAT_SIDE_OUTSIDE; side++) {
			for (uint32_t cut = 0; cut <= lens[i]; cut++) {
				uint64_t drops = 0, after = 0;
				for (int x = NAT_C_drop_no_mapping; x < NAT_C_MAX; x++)
					drops += n->local_c[x];
				/* An exact-size heap copy, so ASan sees a read past it. */
				uint8_t *p = malloc(cut ? cut : 1);
				memcpy(p, frames[i], cut);
				/* Also the IP length cut with the frame. */
				if (cut >= 18)
					wr16(p + 16, (uint16_t)(cut - 14 < rd16(frames[i] + 16)
								    ? cut - 14
								    : rd16(frames[i] + 16)));
				enum nat_verdict v = nat_translate(n, p, cut, side, 0);
				for (int x = NAT_C_drop_no_mapping; x < NAT_C_MAX; x++)
					after += n->local_c[x];
				if (v == NAT_V_DROP)
					assert_int_equal(after, drops + 1);
				free(p);
			}
		}
	}
	(void)f;
	free_nat(n);
}

/* RFC 6056 algorithm 4: mappings to many remote endpoints spread over the
 * whole range; one remote endpoint gets a sequence from a secret offset. */
static void test_alloc_spread(void **state)
{
	struct nat_config c;
	config(&c);
	c.max_mappings = 32768;
	struct nat *n = new_nat(&c);
	uint8_t f[256];
	uint32_t buckets[16] = {0};
	const uint32_t N = 16000, range = 65535 - 1024 + 1;

	for (uint32_t i = 0; i < N; i++) {
		char src[32], dst[32];
		snprintf(src, sizeof(src), "10.1.%u.%u", i / 250, i % 250 + 1);
		snprintf(dst, sizeof(dst), "203.0.%u.%u", (i * 7) % 250, (i * 13) % 250 + 1);
		uint32_t len =
		    frame(f, IPPROTO_UDP, src, dst, 5000, (uint16_t)(1000 + i % 5000), 0, 0);
		assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
		uint16_t p = rd16(L4(f));
		assert_true(p >= 1024);
		buckets[(p - 1024) * 16 / range]++;
	}
	/* Uniform: each sixteenth of the range holds 1000 +- 20%. */
	for (int b = 0; b < 16; b++)
		assert_in_range(buckets[b], N / 16 * 8 / 10, N / 16 * 12 / 10);
	assert_int_equal(C(n, mappings), N);
	free_nat(n);

	/* Two NATs (two sets of keys) start the same flow at different ports. */
	uint16_t first[4];
	for (int k = 0; k < 4; k++) {
		struct nat *m = new_nat(&c);
		uint32_t len = frame(f, IPPROTO_TCP, IN_A, REMOTE, 5000, 80, SYN, 0);
		assert_int_equal(nat_translate(m, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
		first[k] = rd16(L4(f));
		free_nat(m);
	}
	assert_false(first[0] == first[1] && first[1] == first[2] && first[2] == first[3]);
}

static void test_exhaustion_and_full(void **state)
{
	struct nat_config c;
	config(&c);
	c.port_min = 5000;
	c.port_max = 5009;
	c.timeout.udp = 1000;
	struct nat *n = new_nat(&c);
	uint8_t f[256];
	bool used[10] = {false};

	for (int i = 0; i < 10; i++) {
		uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, (uint16_t)(2000 + i), 53, 0, 0);
		assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
		uint16_t p = rd16(L4(f));
		assert_in_range(p, 5000, 5009);
		assert_false(used[p - 5000]);
		used[p - 5000] = true;
	}
	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 2010, 53, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_DROP);
	assert_int_equal(C(n, drop_exhausted), 1);
	/* Other protocols have their own ports. */
	len = frame(f, IPPROTO_TCP, IN_A, REMOTE, 2010, 53, SYN, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0), NAT_V_OUT);
	/* Expired, the ports come back. */
	for (int i = 0; i < NAT_EXPIRY_SWEEP; i++)
		nat_tick(n, 1000);
	assert_int_equal(C(n, expired), 10);
	len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 2010, 53, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 1000), NAT_V_OUT);
	free_nat(n);

	/* max_mappings reached. */
	config(&c);
	c.max_mappings = 3;
	n = new_nat(&c);
	for (int i = 0; i < 4; i++) {
		len = frame(f, IPPROTO_UDP, IN_A, REMOTE, (uint16_t)(2000 + i), 53, 0, 0);
		assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 0),
				 i < 3 ? NAT_V_OUT : NAT_V_DROP);
	}
	assert_int_equal(C(n, drop_table_full), 1);
	assert_int_equal(C(n, mappings), 3);
	free_nat(n);
}

/* Sweep the whole table at @now. */
static void sweep(struct nat *n, uint64_t now)
{
	for (int i = 0; i < NAT_EXPIRY_SWEEP; i++)
		nat_tick(n, now);
}

static struct nat_map *only_map(struct nat *n, int proto)
{
	return nat_lookup_in(&n->t, proto, ip4(IN_A), htons(40000));
}

static void test_expiry_udp_icmp(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];

	uint32_t len = frame(f, IPPROTO_UDP, IN_A, REMOTE, 40000, 53, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 1000), NAT_V_OUT);
	uint16_t ext = rd16(L4(f));
	len = frame(f, IPPROTO_ICMP, IN_A, REMOTE, 8, 40000, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, 1000), NAT_V_OUT);
	/* Inbound traffic does not refresh UDP (RFC 4787 REQ-6: outbound does). */
	len = frame(f, IPPROTO_UDP, REMOTE, PUB, 53, ext, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 200000), NAT_V_IN);
	sweep(n, 1000 + 60000 - 1);
	assert_non_null(only_map(n, NAT_ICMP));
	sweep(n, 1000 + 60000);
	assert_null(only_map(n, NAT_ICMP)); /* ICMP: 60 s */
	assert_non_null(only_map(n, NAT_UDP));
	sweep(n, 1000 + 300000);
	assert_null(only_map(n, NAT_UDP)); /* UDP: 5 min */
	assert_int_equal(C(n, expired), 2);
	assert_int_equal(C(n, mappings), 0);
	/* Its port is free again: inbound to it is unsolicited. */
	len = frame(f, IPPROTO_UDP, REMOTE, PUB, 53, ext, 0, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, 400000), NAT_V_DROP);
	free_nat(n);
}

/* RFC 5382: transitory while opening, established after a SYN each way,
 * transitory again after FIN both ways or a RST. */
static void test_tcp_states(void **state)
{
	struct nat_config c;
	config(&c);
	struct nat *n = new_nat(&c);
	uint8_t f[256];
	const uint64_t est = (2 * 3600 + 4 * 60) * 1000ull, trans = 240000;
	uint64_t t = 1000;

	uint32_t len = frame(f, IPPROTO_TCP, IN_A, REMOTE, 40000, 80, SYN, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, t), NAT_V_OUT);
	uint16_t ext = rd16(L4(f));
	struct nat_map *m = only_map(n, NAT_TCP);
	assert_int_equal(m->expire, t + trans);
	len = frame(f, IPPROTO_TCP, REMOTE, PUB, 80, ext, SYN | ACK, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, ++t), NAT_V_IN);
	assert_int_equal(m->expire, t + est);
	/* Established: still there after the transitory timeout, gone after 2 h 4 min. */
	sweep(n, t + trans + 1);
	assert_non_null(only_map(n, NAT_TCP));
	len = frame(f, IPPROTO_TCP, IN_A, REMOTE, 40000, 80, FIN | ACK, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, ++t), NAT_V_OUT);
	assert_int_equal(m->expire, t + est); /* half closed */
	len = frame(f, IPPROTO_TCP, REMOTE, PUB, 80, ext, FIN | ACK, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, ++t), NAT_V_IN);
	assert_int_equal(m->expire, t + trans); /* closed both ways */
	/* A new connection from the same endpoint: opening again. */
	len = frame(f, IPPROTO_TCP, IN_A, REMOTE, 40000, 80, SYN, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_INSIDE, ++t), NAT_V_OUT);
	assert_int_equal(rd16(L4(f)), ext);
	assert_int_equal(m->tcp, NAT_TCP_SYN_OUT);
	len = frame(f, IPPROTO_TCP, REMOTE, PUB, 80, ext, SYN | ACK, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, ++t), NAT_V_IN);
	assert_int_equal(m->expire, t + est);
	len = frame(f, IPPROTO_TCP, REMOTE, PUB, 80, ext, RST, 0);
	assert_int_equal(nat_translate(n, f, len, NAT_SIDE_OUTSIDE, ++t), NAT_V_IN);
	assert_int_equal(m->expire, t + trans);
	sweep(n, t + trans - 1);
	assert_non_null(only_map(n, NAT_TCP));
	sweep(n, t + trans);
	assert_null(only_map(n, NAT_TCP));
	free_nat(n);
}

static int parse(const char *text, struct nat_config *c, char *err)
{
	return nat_config_parse("nat.yaml", text, strlen(text), c, err, 256, NULL);
}

static void test_config(void **state)
{
	struct nat_config c;
	char err[256];

	assert_int_equal(parse("inside: [pa, pc]\noutside: pb\npublic: [192.0.2.1, 192.0.2.2]\n"
			       "ports: 2000-2999\nmax_mappings: 5000\nhairpin: drop\n"
			       "timeouts: {udp: 2h4m, tcp_established: 3h, tcp_transitory: 240,\n"
			       "  icmp: 1500ms}\n",
			       &c, err),
			 0);
	assert_int_equal(c.n_inside, 2);
	assert_string_equal(c.inside[1], "pc");
	assert_string_equal(c.outside[0], "pb");
	assert_int_equal(c.n_public, 2);
	assert_int_equal(c.port_min, 2000);
	assert_int_equal(c.port_max, 2999);
	assert_int_equal(c.max_mappings, 5000);
	assert_int_equal(c.hairpin, NAT_HAIRPIN_DROP);
	assert_int_equal(c.timeout.udp, 7440000);
	assert_int_equal(c.timeout.tcp_established, 10800000);
	assert_int_equal(c.timeout.tcp_transitory, 240000);
	assert_int_equal(c.timeout.icmp, 1500);

	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"", "nat.yaml:1: empty configuration"},
	    {"inside: pa\noutside: pb\n", "nat.yaml:1: 'public' is required"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3\n", "nat.yaml:3: public: '1.2.3' is not"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\nports: 100-99\n", "nat.yaml:4: ports"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\nbogus: 1\n", "nat.yaml:4: unknown key"},
	    {"inside: pa\noutside: pa\npublic: 1.2.3.4\n", "both inside and outside"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\ntimeouts:\n  udp: 5x\n",
	     "nat.yaml:5: timeouts.udp must be a duration"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\ntimeouts:\n  udp: 4m5h\n",
	     "nat.yaml:5: timeouts.udp"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\ntimeouts:\n  tcp: 5\n",
	     "nat.yaml:5: timeouts: unknown key 'tcp'"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\nmax_mappings: 0\n", "nat.yaml:4: max_map"},
	    {"inside: pa\noutside: pb\npublic: 1.2.3.4\nhairpin: maybe\n", "nat.yaml:4: hairpin"},
	    {"inside: pa\ninside: pc\n", "nat.yaml:2: 'inside' given twice"},
	    {"inside: [pa\n", "nat.yaml:2:"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(parse(bad[i].text, &c, err), -1);
		if (!strstr(err, bad[i].err)) {
			fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].err);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_udp_zero_checksum),
	    cmocka_unit_test(test_udp_checksum_ffff),
	    cmocka_unit_test(test_icmp_echo),
	    cmocka_unit_test(test_icmp_error_in_udp),
	    cmocka_unit_test(test_icmp_error_in_udp_zero_checksum),
	    cmocka_unit_test(test_icmp_error_in_tcp),
	    cmocka_unit_test(test_icmp_error_in_tcp_8_bytes),
	    cmocka_unit_test(test_icmp_error_in_echo),
	    cmocka_unit_test(test_icmp_error_out),
	    cmocka_unit_test(test_hairpin),
	    cmocka_unit_test(test_not_ours),
	    cmocka_unit_test(test_fragments),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_alloc_spread),
	    cmocka_unit_test(test_exhaustion_and_full),
	    cmocka_unit_test(test_expiry_udp_icmp),
	    cmocka_unit_test(test_tcp_states),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
