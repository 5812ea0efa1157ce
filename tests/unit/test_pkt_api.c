/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NF-side packet helpers that need no daemon: headroom and tailroom
 * (include/netvm/netvm.h) and the checksums (include/netvm/csum.h), the
 * latter against frames built by scapy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include <netvm/csum.h>
#include <netvm/netvm.h>

/* Built by scapy, checksums and all (tests/unit/test_pkt_api.c's history). */
static const uint8_t udp4[] = {0x45, 0x00, 0x00, 0x29, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xa9,
			       0x11, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x07, 0x09, 0x04, 0xd2,
			       0x00, 0x35, 0x00, 0x15, 0x74, 0x1b, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
			       0x20, 0x6e, 0x65, 0x74, 0x76, 0x6d, 0x21, 0x21};
static const uint8_t tcp4[] = {0x45, 0x00, 0x00, 0x2b, 0x00, 0x02, 0x00, 0x00, 0x40, 0x06, 0xa9,
			       0x19, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x07, 0x09, 0x9c, 0x40,
			       0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50,
			       0x02, 0x20, 0x00, 0x2f, 0x22, 0x00, 0x00, 0x78, 0x79, 0x7a};
static const uint8_t udp6[] = {0x60, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x11, 0x40, 0xfd, 0x00, 0x00,
			       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			       0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x13, 0x88, 0x17, 0x70,
			       0x00, 0x0f, 0x81, 0xc4, 0x76, 0x36, 0x20, 0x64, 0x61, 0x74, 0x61};
static const uint8_t icmp6[] = {0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x40, 0xfd, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0xa6, 0xdb,
				0x00, 0x07, 0x00, 0x01, 0x70, 0x69, 0x6e, 0x67};

static uint16_t rd(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The L4 checksum of a copy of @frame with its field zeroed, at @csum_at. */
static uint16_t l4_of(const uint8_t *frame, size_t len, size_t l4, size_t csum_at, uint8_t proto)
{
	uint8_t f[128];

	memcpy(f, frame, len);
	memset(f + csum_at, 0, 2);
	return netvm_l4_csum(f, f + l4, (uint32_t)(len - l4), proto);
}

static void test_checksums(void **state)
{
	(void)state;
	assert_int_equal(netvm_ipv4_csum(udp4), rd(udp4 + 10));
	assert_int_equal(netvm_ipv4_csum(tcp4), rd(tcp4 + 10));
	assert_int_equal(l4_of(udp4, sizeof(udp4), 20, 26, IPPROTO_UDP), rd(udp4 + 26));
	assert_int_equal(l4_of(tcp4, sizeof(tcp4), 20, 36, IPPROTO_TCP), rd(tcp4 + 36));
	assert_int_equal(l4_of(udp6, sizeof(udp6), 40, 46, IPPROTO_UDP), rd(udp6 + 46));
	assert_int_equal(l4_of(icmp6, sizeof(icmp6), 40, 42, IPPROTO_ICMPV6), rd(icmp6 + 42));
	/* A whole header with its checksum sums to zero. */
	assert_int_equal(netvm_csum_fold(netvm_csum_add(0, udp4, 20)), 0);
	/* An odd length counts a zero pad byte. */
	uint8_t odd[3] = {0x12, 0x34, 0x56}, even[4] = {0x12, 0x34, 0x56, 0};
	assert_int_equal(netvm_csum_add(0, odd, 3), netvm_csum_add(0, even, 4));
}

/* RFC 1624: rewriting the destination address and port (what a NAT does),
 * incremental updates give what a full recomputation gives. */
static void test_incremental(void **state)
{
	uint8_t f[sizeof(udp4)];
	uint32_t old_a, new_a = 0x0b0c0d0e;
	uint16_t old_p, new_p = 0x1f90, ttl_old, ttl_new;

	(void)state;
	for (int round = 0; round < 256; round++) {
		memcpy(f, udp4, sizeof(f));
		new_a = new_a * 2654435761u + (uint32_t)round;
		new_p = (uint16_t)(new_p * 31 + round);
		memcpy(&old_a, f + 16, 4);
		memcpy(&old_p, f + 22, 2);
		memcpy(f + 16, &new_a, 4);
		memcpy(f + 22, &new_p, 2);
		uint16_t ip = netvm_csum_update32(rd(f + 10), old_a, new_a);
		uint16_t udp = netvm_csum_update16(netvm_csum_update32(rd(f + 26), old_a, new_a),
						   old_p, new_p);
		assert_int_equal(ip, netvm_ipv4_csum(f));
		uint16_t full = l4_of(f, sizeof(f), 20, 26, IPPROTO_UDP);
		/* 0x0000 and 0xffff are the same ones' complement number. */
		assert_true(udp == full || (udp == 0 && full == 0xffff));
		/* TTL decrement: the 16-bit word holding TTL and protocol. */
		memcpy(&ttl_old, f + 8, 2);
		f[8]--;
		memcpy(&ttl_new, f + 8, 2);
		assert_int_equal(netvm_csum_update16(ip, ttl_old, ttl_new), netvm_ipv4_csum(f));
	}
}

static void test_headroom(void **state)
{
	uint8_t buf[256];
	struct netvm_pkt p = {.data = buf + 64, .len = 100, .room = 192, .headroom = 64};

	(void)state;
	p.desc.off = 64;
	memset(buf, 0, sizeof(buf));
	assert_null(netvm_pkt_prepend(&p, 65)); /* more than the headroom: nothing changes */
	assert_true(p.data == buf + 64 && p.len == 100 && p.desc.off == 64);
	uint8_t *h = netvm_pkt_prepend(&p, 14);
	assert_ptr_equal(h, buf + 50);
	assert_true(p.len == 114 && p.headroom == 50 && p.room == 206 && p.desc.off == 50);
	assert_ptr_equal(netvm_pkt_adj(&p, 14), buf + 64);
	assert_true(p.len == 100 && p.headroom == 64 && p.room == 192 && p.desc.off == 64);
	assert_null(netvm_pkt_adj(&p, 101));
	assert_ptr_equal(netvm_pkt_append(&p, 92), buf + 164);
	assert_int_equal(p.len, 192);
	assert_null(netvm_pkt_append(&p, 1)); /* the buffer's end */
	assert_int_equal(netvm_pkt_trim(&p, 193), -22);
	assert_int_equal(netvm_pkt_trim(&p, 92), 0);
	assert_int_equal(p.len, 100);
	assert_int_equal(netvm_pkt_set_len(&p, 193), -22);
	netvm_pkt_output(&p, 3);
	assert_true(p.desc.action == NETVM_ACT_OUTPUT && p.desc.dst == 3);
	netvm_pkt_output(&p, 0);
	assert_int_equal(p.desc.action, NETVM_ACT_NEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_checksums),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_headroom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
