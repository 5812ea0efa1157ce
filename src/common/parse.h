/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The values people write in netvmd's configuration, in port options and on
 * netvm-pktgen's command line, parsed one way everywhere: numbers with k/M/G
 * suffixes, booleans, durations, names, interface names and keywords.
 *
 * Each parser returns 0, or -1 and leaves *out alone; it says nothing: the
 * caller knows the file, line and key to name in its message, and
 * netvm_parse_expect() gives the words for "expected ...".
 */
#ifndef NETVM_PARSE_H
#define NETVM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal unsigned integer; with @suffix, k/K M G multiply by 10^3/6/9
 * ("10M", "500k").  No sign, no junk, no overflow. */
int netvm_parse_u64(const char *s, bool suffix, uint64_t *out);

/* The same, within [min, max]. */
int netvm_parse_range(const char *s, bool suffix, uint64_t min, uint64_t max, uint64_t *out);

/* true/yes or false/no. */
int netvm_parse_bool(const char *s, bool *out);

/* A duration: digits with the unit "ms" or "s" (none: seconds), at most a
 * day; in milliseconds. */
int netvm_parse_duration_ms(const char *s, uint32_t *out);

/* A keyword: one of @words (NULL-terminated); *out is the index of the
 * word.  Aliases are words that map to the same value: give @values (or
 * NULL: the index is the value). */
int netvm_parse_word(const char *s, const char *const *words, const int *values, int *out);

/* The words of a keyword list as "a, b or c", for messages. */
void netvm_parse_expect(const char *const *words, char *buf, size_t len);

/* Where a chain link starts: "HOP.OUTPUT" ("cls.1") into @hop ("cls") and
 * *out (1); plain "HOP" is output 0.  Outputs are below @max_out. */
int netvm_parse_link_from(const char *s, char *hop, size_t len, unsigned max_out, unsigned *out);

/* A name (service, port, chain, domain): 1..NETVM_NAME_MAX-1 characters of
 * A-Z a-z 0-9 _ . - */
bool netvm_valid_name(const char *s);

/* An interface name as the kernel takes it: 1..15 bytes, no '/', ':',
 * space or control character, not "." or "..". */
bool netvm_valid_ifname(const char *s);

#define NETVM_IFNAME_MAX 16 /* IFNAMSIZ, the NUL included */

#endif
