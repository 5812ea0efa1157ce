/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "frame.h"

#define IP_OFF	14
#define UDP_OFF (IP_OFF + 20)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void frame_build(uint8_t *f, uint32_t size)
{
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
	static const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
	uint8_t *ip = f + IP_OFF, *udp = f + UDP_OFF;
	uint32_t sum = 0;

	memset(f, 0, size);
	memcpy(f, eth, sizeof(eth));
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(size - IP_OFF));
	put16(ip + 6, 0x4000); /* DF: the id stays 0 */
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	memcpy(ip + 12, addrs, sizeof(addrs));
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	put16(udp, FRAME_SPORT);
	put16(udp + 2, FRAME_DPORT);
	put16(udp + 4, (uint16_t)(size - UDP_OFF));
	/* UDP checksum 0: none (valid for IPv4). */
}

void frame_make(uint8_t *f, const uint8_t *tmpl, uint32_t size, uint32_t flow, uint16_t run,
		uint64_t seq, uint64_t ts)
{
	memcpy(f, tmpl, size);
	put16(f + UDP_OFF, (uint16_t)(FRAME_SPORT + flow));
	if (size >= FRAME_STAMPED) {
		struct frame_stamp st = {FRAME_MAGIC, run, seq, ts};
		memcpy(f + FRAME_HDR_LEN, &st, sizeof(st));
	}
}

bool frame_stamp_get(const uint8_t *f, uint32_t len, struct frame_stamp *st)
{
	if (len < FRAME_STAMPED)
		return false;
	memcpy(st, f + FRAME_HDR_LEN, sizeof(*st));
	return st->magic == FRAME_MAGIC;
}
