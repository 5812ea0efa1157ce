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

/* Frame builder: fills a buffer and returns the frame length. */
struct fb {
	uint8_t b[256];
	uint32_t n;
};

static void put8(struct fb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void putn(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void eth(struct fb *f, const uint16_t *vlans, int nvlan, uint16_t type)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};
	int i;

	f->n = 0;
	putn(f, dst, 6);
	putn(f, src, 6);
	for (i = 0; i < nvlan; i++) {
		put16(f, i == 0 && nvlan == 2 ? 0x88a8 : 0x8100);
		put16(f, vlans[i]);
	}
	put16(f, type);
}

/* IPv4 header with @optlen bytes of options and @payload bytes after it. */
static uint32_t ipv4(struct fb *f, uint8_t proto, const char *src, const char *dst, uint32_t optlen,
		     uint32_t payload, uint16_t frag)
{
	uint32_t start = f->n, i;
	uint8_t a[4];

	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, (uint16_t)(20 + optlen + payload));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	inet_pton(AF_INET, src, a);
	putn(f, a, 4);
	inet_pton(AF_INET, dst, a);
	putn(f, a, 4);
	for (i = 0; i < optlen; i++)
		put8(f, 1); /* NOP options */
	return start;
}

static uint32_t ipv6(struct fb *f, uint8_t nxt, const char *src, const char *dst, uint16_t payload)
{
	uint32_t start = f->n;
	uint8_t a[16];

	put16(f, 0x6000);
	put16(f, 0);
	put16(f, payload);
	put8(f, nxt);
	put8(f, 64);
	inet_pton(AF_INET6, src, a);
	putn(f, a, 16);
	inet_pton(AF_INET6, dst, a);
	putn(f, a, 16);
	return start;
}

static uint32_t tcp(struct fb *f, uint16_t sport, uint16_t dport, uint8_t doff, uint32_t datalen)
{
	uint32_t start = f->n, i;

	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 1); /* seq */
	put16(f, 0);
	put16(f, 0); /* ack */
	put8(f, (uint8_t)(doff << 4));
	put8(f, 0x02); /* SYN */
	put16(f, 1024);
	put16(f, 0);
	put16(f, 0);
	for (i = 20; i < (uint32_t)doff * 4; i++)
		put8(f, 1);
	for (i = 0; i < datalen; i++)
		put8(f, (uint8_t)i);
	return start;
}

static uint32_t udp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t datalen)
{
	uint32_t start = f->n, i;

	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + datalen));
	put16(f, 0);
	for (i = 0; i < datalen; i++)
		put8(f, (uint8_t)i);
	return start;
}

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
		}
		if (netvm_parse(buf, len, &p) == NETVM_PARSE_OK && p.l4_off) {
			assert_true((uint32_t)p.l4_off + p.l4_len <= len);
			assert_true(p.l4_len >= 8);
		}
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

	/* Bytes beyond the IPv4 address do not change the hash. */
	make_tuple(&a, 1, 2, 3, 4);
	b = a;
	b.src[9] = 0x55;
	b.pad = 7;
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
