/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Getters for a backend's options: each takes a key, marks it as read and
 * checks its value with the shared parsers (common/parse.c), so every
 * backend, the configuration file and netvm-pktgen spell values alike and
 * word their errors alike.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "port.h"

static int find(struct port_args *a, const char *key)
{
	for (int i = 0; i < a->n && i < 64; i++)
		if (!strcmp(a->opt[i].key, key)) {
			a->used |= 1ull << i;
			return i;
		}
	return -1;
}

static int vfail(struct port_args *a, int i, const char *fmt, va_list ap)
{
	int n;

	a->bad = i;
	if (!a->err || !a->errlen)
		return -1;
	n = snprintf(a->err, a->errlen, "port '%s': ", a->port);
	if (n >= 0 && (size_t)n < a->errlen)
		vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
	return -1;
}

static int fail_at(struct port_args *a, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct port_args *a, int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(a, i, fmt, ap);
	va_end(ap);
	return -1;
}

int port_args_fail(struct port_args *a, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(a, key ? find(a, key) : -1, fmt, ap);
	va_end(ap);
	return -1;
}

const char *port_arg(struct port_args *a, const char *key)
{
	int i = find(a, key);

	return i < 0 ? NULL : a->opt[i].value;
}

int port_arg_u64(struct port_args *a, const char *key, uint64_t min, uint64_t max, bool suffix,
		 uint64_t *out)
{
	int i = find(a, key);

	if (i < 0)
		return 0;
	if (netvm_parse_range(a->opt[i].value, suffix, min, max, out) == 0)
		return 0;
	if (max == UINT64_MAX)
		return fail_at(a, i, "%s must be an integer of at least %llu%s, got '%s'", key,
			       (unsigned long long)min, suffix ? " (k, M, G allowed)" : "",
			       a->opt[i].value);
	return fail_at(a, i, "%s must be an integer between %llu and %llu%s, got '%s'", key,
		       (unsigned long long)min, (unsigned long long)max,
		       suffix ? " (k, M, G allowed)" : "", a->opt[i].value);
}

int port_arg_u32(struct port_args *a, const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = *out;

	if (port_arg_u64(a, key, min, max, false, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int port_arg_bool(struct port_args *a, const char *key, bool *out)
{
	int i = find(a, key);

	if (i < 0 || netvm_parse_bool(a->opt[i].value, out) == 0)
		return 0;
	return fail_at(a, i, "%s must be true or false (yes or no), got '%s'", key,
		       a->opt[i].value);
}

int port_arg_word(struct port_args *a, const char *key, const char *const *words, const int *values,
		  int *out)
{
	int i = find(a, key);
	char expect[256];

	if (i < 0 || netvm_parse_word(a->opt[i].value, words, values, out) == 0)
		return 0;
	netvm_parse_expect(words, expect, sizeof(expect));
	return fail_at(a, i, "%s must be %s, got '%s'", key, expect, a->opt[i].value);
}

int port_arg_ifname(struct port_args *a, const char *key, bool required, char *out)
{
	int i = find(a, key);

	if (i < 0)
		return required ? fail_at(a, -1, "a %s port needs '%s'", a->type, key) : 0;
	if (!netvm_valid_ifname(a->opt[i].value))
		return fail_at(a, i,
			       "%s '%s' is not a valid interface name (1..%d characters, no '/', "
			       "':' or spaces)",
			       key, a->opt[i].value, NETVM_IFNAME_MAX - 1);
	strcpy(out, a->opt[i].value);
	return 0;
}

int port_arg_path(struct port_args *a, const char *key, char *out)
{
	int i = find(a, key);
	const char *v;
	int n;

	if (i < 0)
		return 0;
	v = a->opt[i].value;
	if (!v[0])
		return fail_at(a, i, "%s must not be empty", key);
	if (v[0] == '/' || !a->dir || !a->dir[0])
		n = snprintf(out, PATH_MAX, "%s", v);
	else
		n = snprintf(out, PATH_MAX, "%s/%s", a->dir, v);
	if (n < 0 || n >= PATH_MAX)
		return fail_at(a, i, "%s: path too long", key);
	return 0;
}

int port_args_done(struct port_args *a, const char *const *keys)
{
	char known[256];

	if (a->n > 64)
		return fail_at(a, 64, "too many options (at most 64)");
	for (int i = 0; i < a->n; i++) {
		if (a->used & (1ull << i))
			continue;
		if (!keys || !keys[0])
			return fail_at(a, i, "unknown key '%s' (a %s port takes no options)",
				       a->opt[i].key, a->type);
		netvm_parse_expect(keys, known, sizeof(known));
		return fail_at(a, i, "unknown key '%s' for a %s port (it takes %s)", a->opt[i].key,
			       a->type, known);
	}
	return 0;
}
