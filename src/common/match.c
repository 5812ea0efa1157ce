/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 5-tuple matches: parsing of user-written fields, testing against packets,
 * and formatting back to the same syntax (so rules can round-trip).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>

#include <netvm/match.h>

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Parse a non-empty string of decimal digits no greater than @max. */
static int parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static void mask_prefix(uint8_t *a, unsigned int plen, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		a[i] &= (uint8_t)(0xff00 >> plen);
		plen = 0;
	}
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned int plen)
{
	unsigned int bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff00 >> bits);

		return ((a[bytes] ^ b[bytes]) & mask) == 0;
	}
	return true;
}

static int set_addr(struct netvm_match *m, bool is_src, const char *value, char *err, size_t errlen)
{
	uint8_t addr[16] = {0};
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(value, '/');
	size_t alen = slash ? (size_t)(slash - value) : strlen(value);
	unsigned long plen, maxlen;
	uint8_t fam;

	if (strcasecmp(value, "any") == 0) {
		/* The family stays: it may come from the other address. */
		memset(is_src ? m->src : m->dst, 0, 16);
		if (is_src)
			m->src_plen = 0;
		else
			m->dst_plen = 0;
		return 0;
	}
	if (alen == 0 || alen >= sizeof(buf)) {
		seterr(err, errlen, "bad address '%.*s' in '%s'", (int)alen, value, value);
		return -1;
	}
	memcpy(buf, value, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		fam = 4;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		fam = 6;
		maxlen = 128;
	} else {
		seterr(err, errlen, "bad address '%s' in '%s'", buf, value);
		return -1;
	}
	plen = maxlen;
	if (slash && parse_uint(slash + 1, strlen(slash + 1), maxlen, &plen) < 0) {
		seterr(err, errlen, "bad prefix length '%s' in '%s'", slash + 1, value);
		return -1;
	}
	if (m->family && m->family != fam) {
		seterr(err, errlen, "%s '%s' is IPv%u but the match is already IPv%u",
		       is_src ? "src" : "dst", value, fam, m->family);
		return -1;
	}
	/* Host bits are dropped, as routers and iptables do. */
	mask_prefix(addr, (unsigned int)plen, 16);
	m->family = fam;
	if (is_src) {
		memcpy(m->src, addr, 16);
		m->src_plen = (uint8_t)plen;
	} else {
		memcpy(m->dst, addr, 16);
		m->dst_plen = (uint8_t)plen;
	}
	return 0;
}

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
    {"icmp", IPPROTO_ICMP},
    {"icmpv6", IPPROTO_ICMPV6},
};

static int set_proto(struct netvm_match *m, const char *value, char *err, size_t errlen)
{
	unsigned long v;
	size_t i;

	if (strcasecmp(value, "any") == 0) {
		m->proto = 0;
		return 0;
	}
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcasecmp(value, protos[i].name) == 0) {
			m->proto = protos[i].num;
			return 0;
		}
	}
	if (parse_uint(value, strlen(value), 255, &v) < 0) {
		seterr(err, errlen,
		       "unknown protocol '%s' (use tcp, udp, icmp, icmpv6, any or 0-255)", value);
		return -1;
	}
	m->proto = (uint8_t)v;
	return 0;
}

static int set_ports(uint16_t *lo, uint16_t *hi, const char *name, const char *value, char *err,
		     size_t errlen)
{
	const char *dash = strchr(value, '-');
	unsigned long a, b;

	if (strcasecmp(value, "any") == 0) {
		*lo = 0;
		*hi = 65535;
		return 0;
	}
	if (!dash) {
		if (parse_uint(value, strlen(value), 65535, &a) < 0) {
			seterr(err, errlen, "bad %s '%s' (use a port 0-65535 or a range lo-hi)",
			       name, value);
			return -1;
		}
		b = a;
	} else {
		if (parse_uint(value, (size_t)(dash - value), 65535, &a) < 0 ||
		    parse_uint(dash + 1, strlen(dash + 1), 65535, &b) < 0) {
			seterr(err, errlen, "bad %s range '%s' (use lo-hi with ports 0-65535)",
			       name, value);
			return -1;
		}
		if (a > b) {
			seterr(err, errlen, "bad %s range '%s': %lu is greater than %lu", name,
			       value, a, b);
			return -1;
		}
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

void netvm_match_any(struct netvm_match *m)
{
	memset(m, 0, sizeof(*m));
	m->sport_hi = 65535;
	m->dport_hi = 65535;
}

int netvm_match_set(struct netvm_match *m, const char *field, const char *value, char *err,
		    size_t errlen)
{
	if (!field || !value) {
		seterr(err, errlen, "missing match field or value");
		return -1;
	}
	if (strcmp(field, "src") == 0)
		return set_addr(m, true, value, err, errlen);
	if (strcmp(field, "dst") == 0)
		return set_addr(m, false, value, err, errlen);
	if (strcmp(field, "proto") == 0)
		return set_proto(m, value, err, errlen);
	if (strcmp(field, "sport") == 0)
		return set_ports(&m->sport_lo, &m->sport_hi, "sport", value, err, errlen);
	if (strcmp(field, "dport") == 0)
		return set_ports(&m->dport_lo, &m->dport_hi, "dport", value, err, errlen);
	seterr(err, errlen, "unknown match field '%s' (use src, dst, proto, sport or dport)",
	       field);
	return -1;
}

static const char *const malformed_names[NETVM_MALFORMED_COUNT] = {
    [NETVM_MALFORMED_NONE] = "none",	       [NETVM_MALFORMED_BAD_IP] = "bad_ip",
    [NETVM_MALFORMED_SHORT_L4] = "short_l4",   [NETVM_MALFORMED_TCP_OFF1] = "tcp_off1",
    [NETVM_MALFORMED_EXT_CHAIN] = "ext_chain",
};

const char *netvm_malformed_name(unsigned int why)
{
	return why < NETVM_MALFORMED_COUNT ? malformed_names[why] : "?";
}

/* Why a frame whose IP header is valid is malformed or evasive, if it is. */
static uint8_t judge(int parse_rc, const struct netvm_parsed *p)
{
	if (parse_rc == NETVM_PARSE_EXT_CHAIN)
		return NETVM_MALFORMED_EXT_CHAIN;
	if (p->l4_state == NETVM_L4_TRUNCATED)
		return NETVM_MALFORMED_SHORT_L4;
	/* RFC 3128: a first fragment holds at least the 20-byte TCP header, so
	 * only offset 1 (byte 8) can overlap its flags (byte 13). */
	if (p->l4_proto == IPPROTO_TCP && p->frag_off == 1)
		return NETVM_MALFORMED_TCP_OFF1;
	return NETVM_MALFORMED_NONE;
}

int netvm_match_tuple(const uint8_t *data, uint32_t len, struct netvm_5tuple *t)
{
	struct netvm_parsed p;
	int rc = netvm_parse(data, len, &p);

	if (p.ethertype != ETHERTYPE_IP && p.ethertype != ETHERTYPE_IPV6) {
		memset(t, 0, sizeof(*t));
		return -1;
	}
	if (netvm_5tuple_from(data, &p, t) < 0) {
		t->malformed = NETVM_MALFORMED_BAD_IP; /* family 0: no rule matches */
		return 0;
	}
	t->malformed = judge(rc, &p);
	return 0;
}

bool netvm_match_has_ports(const struct netvm_match *m)
{
	return m->sport_lo != 0 || m->sport_hi != 65535 || m->dport_lo != 0 || m->dport_hi != 65535;
}

bool netvm_match_test(const struct netvm_match *m, const struct netvm_5tuple *t)
{
	if (t->family == 0)
		return false; /* invalid IP header: the addresses are not known */
	if (m->family && m->family != t->family)
		return false;
	if (m->proto && m->proto != t->proto)
		return false;
	/* Ports that are not there (a later fragment, a cut header) match no range. */
	if (t->l4 != NETVM_L4_COMPLETE && netvm_match_has_ports(m))
		return false;
	if (t->sport < m->sport_lo || t->sport > m->sport_hi)
		return false;
	if (t->dport < m->dport_lo || t->dport > m->dport_hi)
		return false;
	if (m->src_plen && !prefix_eq(m->src, t->src, m->src_plen))
		return false;
	if (m->dst_plen && !prefix_eq(m->dst, t->dst, m->dst_plen))
		return false;
	return true;
}

/* Append to buf, tracking the used length; output is truncated, never overrun. */
struct sbuf {
	char *buf;
	size_t len, used;
};

static void sb_add(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->used >= sb->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->used, sb->len - sb->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->used += (size_t)n;
}

static void fmt_addr(struct sbuf *sb, const char *name, uint8_t family, const uint8_t *a,
		     unsigned int plen)
{
	char txt[INET6_ADDRSTRLEN];
	unsigned int max = family == 6 ? 128 : 32;

	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, txt, sizeof(txt)))
		return;
	if (plen == max)
		sb_add(sb, "%s%s=%s", sb->used ? " " : "", name, txt);
	else
		sb_add(sb, "%s%s=%s/%u", sb->used ? " " : "", name, txt, plen);
}

static void fmt_ports(struct sbuf *sb, const char *name, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 65535)
		return;
	if (lo == hi)
		sb_add(sb, "%s%s=%u", sb->used ? " " : "", name, lo);
	else
		sb_add(sb, "%s%s=%u-%u", sb->used ? " " : "", name, lo, hi);
}

void netvm_match_format(const struct netvm_match *m, char *buf, size_t len)
{
	struct sbuf sb = {buf, len, 0};
	size_t i;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (m->proto) {
		const char *name = NULL;

		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (protos[i].num == m->proto)
				name = protos[i].name;
		if (name)
			sb_add(&sb, "proto=%s", name);
		else
			sb_add(&sb, "proto=%u", m->proto);
	}
	if (m->family) {
		/* A family with no prefixes prints as src=0.0.0.0/0 so it survives a round trip. */
		if (m->src_plen || !m->dst_plen)
			fmt_addr(&sb, "src", m->family, m->src, m->src_plen);
		if (m->dst_plen)
			fmt_addr(&sb, "dst", m->family, m->dst, m->dst_plen);
	}
	fmt_ports(&sb, "sport", m->sport_lo, m->sport_hi);
	fmt_ports(&sb, "dport", m->dport_lo, m->dport_hi);
	if (sb.used == 0)
		snprintf(buf, len, "any");
}
