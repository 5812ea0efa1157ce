/* SPDX-License-Identifier: BSD-3-Clause */
/* Value parsers shared by the configuration, the port backends and pktgen. */
#include <stdio.h>
#include <string.h>

#include <netvm/region.h>
#include "parse.h"

int netvm_parse_u64(const char *s, bool suffix, uint64_t *out)
{
	uint64_t v = 0, mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (suffix && *s) {
		if (*s == 'k' || *s == 'K')
			mul = 1000;
		else if (*s == 'M')
			mul = 1000000;
		else if (*s == 'G')
			mul = 1000000000;
		else
			return -1;
		s++;
		if (v > UINT64_MAX / mul)
			return -1;
		v *= mul;
	}
	if (*s)
		return -1;
	*out = v;
	return 0;
}

int netvm_parse_range(const char *s, bool suffix, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (netvm_parse_u64(s, suffix, &v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int netvm_parse_bool(const char *s, bool *out)
{
	static const char *const words[] = {"true", "yes", "false", "no", NULL};
	int i;

	if (netvm_parse_word(s, words, NULL, &i))
		return -1;
	*out = i < 2;
	return 0;
}

int netvm_parse_duration_ms(const char *s, uint32_t *out)
{
	const uint64_t day_ms = 86400000;
	size_t nd = strspn(s, "0123456789");
	uint64_t v, scale = 0;
	char digits[24];

	if (!strcmp(s + nd, "ms"))
		scale = 1;
	else if (!strcmp(s + nd, "s") || !s[nd])
		scale = 1000;
	if (!scale || !nd || nd >= sizeof(digits))
		return -1;
	memcpy(digits, s, nd);
	digits[nd] = '\0';
	if (netvm_parse_u64(digits, false, &v) || v > day_ms / scale)
		return -1;
	*out = (uint32_t)(v * scale);
	return 0;
}

int netvm_parse_word(const char *s, const char *const *words, const int *values, int *out)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(s, words[i])) {
			*out = values ? values[i] : i;
			return 0;
		}
	return -1;
}

void netvm_parse_expect(const char *const *words, char *buf, size_t len)
{
	size_t used = 0;
	int n = 0;

	while (words[n])
		n++;
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0	      ? ""
					 : i == n - 1 ? " or "
						      : ", ",
					 words[i]);
}

bool netvm_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= NETVM_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

bool netvm_valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= NETVM_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

int netvm_parse_link_from(const char *s, char *hop, size_t len, unsigned max_out, unsigned *out)
{
	const char *dot = strrchr(s, '.');
	size_t n = dot ? (size_t)(dot - s) : strlen(s);
	uint64_t v = 0;

	if (n == 0 || n >= len || (dot && netvm_parse_range(dot + 1, false, 0, max_out - 1, &v)))
		return -1;
	memcpy(hop, s, n);
	hop[n] = '\0';
	*out = (unsigned)v;
	return 0;
}
