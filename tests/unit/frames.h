/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet/IPv4/IPv6/TCP/UDP frame builders for the unit tests. */
#ifndef NETVM_TEST_FRAMES_H
#define NETVM_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* Frame builder: fills a buffer and returns the frame length. */
struct fb {
	uint8_t b[4096];
	uint32_t n;
};

static inline void put8(struct fb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static inline void put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static inline void putn(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void eth(struct fb *f, const uint16_t *vlans, int nvlan, uint16_t type)
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
static inline uint32_t ipv4(struct fb *f, uint8_t proto, const char *src, const char *dst,
			    uint32_t optlen, uint32_t payload, uint16_t frag)
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

static inline uint32_t ipv6(struct fb *f, uint8_t nxt, const char *src, const char *dst,
			    uint16_t payload)
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

static inline uint32_t tcp(struct fb *f, uint16_t sport, uint16_t dport, uint8_t doff,
			   uint32_t datalen)
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

static inline uint32_t udp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t datalen)
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

/* IPv6 fragment header: next header @nxt, offset @off8 (8-byte units), M flag @more. */
static inline void frag6(struct fb *f, uint8_t nxt, uint16_t off8, int more, uint32_t id)
{
	put8(f, nxt);
	put8(f, 0);
	put16(f, (uint16_t)(off8 << 3 | (more ? 1 : 0)));
	put16(f, (uint16_t)(id >> 16));
	put16(f, (uint16_t)id);
}

/*
 * IPv6 extension header @type of @size bytes (a multiple of 8, of 4 for AH):
 * next header, length, then zeros (Pad1 options; AH's reserved, SPI,
 * sequence and ICV).  A fragment header is atomic (offset 0, M=0).
 */
static inline void ext6(struct fb *f, uint8_t type, uint8_t nxt, uint32_t size)
{
	uint32_t i;

	if (type == IPPROTO_FRAGMENT) {
		frag6(f, nxt, 0, 0, 0x1234);
		return;
	}
	put8(f, nxt);
	put8(f, (uint8_t)(type == IPPROTO_AH ? size / 4 - 2 : size / 8 - 1));
	for (i = 2; i < size; i++)
		put8(f, 0);
}

/* The size ext6_tcp() gives an extension header: 8 bytes, AH 24 (a 12-byte ICV). */
static inline uint32_t ext6_size(uint8_t type)
{
	return type == IPPROTO_AH ? 24 : 8;
}

/* Ethernet + IPv6 + the @n extension headers @types + TCP 1234 -> 80 (20 bytes). */
static inline void ext6_tcp(struct fb *f, const uint8_t *types, int n)
{
	uint32_t plen = 20;
	int i;

	for (i = 0; i < n; i++)
		plen += ext6_size(types[i]);
	eth(f, NULL, 0, 0x86dd);
	ipv6(f, n ? types[0] : IPPROTO_TCP, "2001:db8::1", "2001:db8::2", (uint16_t)plen);
	for (i = 0; i < n; i++)
		ext6(f, types[i], i + 1 < n ? types[i + 1] : IPPROTO_TCP, ext6_size(types[i]));
	tcp(f, 1234, 80, 5, 0);
}

#endif
