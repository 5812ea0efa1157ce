/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frames, made by the gen port and netvm-pktgen and read back by both:
 * Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 10.0.0.1 -> 10.0.0.2,
 * UDP source port FRAME_SPORT + flow, destination port FRAME_DPORT
 * (discard).  A frame of at least FRAME_STAMPED bytes carries a stamp right
 * after the UDP header: a magic word, a run id, the sequence number and the
 * CLOCK_MONOTONIC time it was made (host byte order), so the receiver can
 * tell its own frames, loss, reordering and latency.
 */
#ifndef NETVM_FRAME_H
#define NETVM_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_HDR_LEN	42 /* Ethernet + IPv4 + UDP */
#define FRAME_SPORT	1024
#define FRAME_DPORT	9
#define FRAME_FLOWS_MAX (65536 - FRAME_SPORT)
#define FRAME_MAGIC	0x4e565047u /* "NVPG" */

struct frame_stamp {
	uint32_t magic;
	uint16_t run;
	uint64_t seq, ts;
} __attribute__((packed));
_Static_assert(sizeof(struct frame_stamp) == 22, "stamp layout");

#define FRAME_STAMPED (FRAME_HDR_LEN + (uint32_t)sizeof(struct frame_stamp)) /* 64 */

/* Write the frame of @size bytes (at least FRAME_HDR_LEN) into @f: flow 0,
 * no stamp.  The IPv4 checksum holds for every flow (only ports change). */
void frame_build(uint8_t *f, uint32_t size);

/* Copy @tmpl (frame_build()) into @f for @flow, stamped when it is long
 * enough. */
void frame_make(uint8_t *f, const uint8_t *tmpl, uint32_t size, uint32_t flow, uint16_t run,
		uint64_t seq, uint64_t ts);

/* The stamp of @f, if it is one of these frames and long enough to have
 * one. */
bool frame_stamp_get(const uint8_t *f, uint32_t len, struct frame_stamp *st);

#endif
