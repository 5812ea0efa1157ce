/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route file and the FIB built from it.  One route per line, as
 * `ip route` writes them; '#' starts a comment:
 *
 *   10.3.0.0/16 via 10.2.0.2            # the gateway's subnet gives the port
 *   fd03::/48 via fe80::1 dev pb        # a link-local gateway needs dev
 *   192.0.2.0/24 dev pb                 # on-link: the destination is the neighbour
 *   default via 10.1.0.254              # 0.0.0.0/0 (::/0 with an IPv6 gateway)
 *   blackhole 10.66.0.0/16              # dropped silently
 *   unreachable 10.67.0.0/16            # ICMP host unreachable / ICMPv6 no route
 *   prohibit 10.68.0.0/16               # ICMP communication administratively prohibited
 *
 * The interfaces' subnets (connected routes), their addresses (local) and
 * IPv4 broadcast addresses come from the configuration.  Any error refuses
 * the whole file with "file:line: what is wrong".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "router.h"

#define MAX_ROUTE_FILE (1ull << 30)

/* ---- next hops, deduplicated while building ---- */

/* A route of the file, parsed, waiting to be inserted. */
struct proute {
	uint8_t key[16];
	uint8_t family, depth;
	uint32_t nh;
	uint32_t line;
};

struct build {
	struct rt_fib *fib;
	const struct rt_config *cfg;
	uint32_t *idx; /* hash of next hops: index + 1, 0 = empty */
	uint32_t cap;
	struct proute *routes; /* the file's, in file order */
	size_t nroutes, routes_cap;
};

static uint32_t nh_hash(const struct rt_nh *nh)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)nh;

	for (size_t i = 0; i < sizeof(*nh); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static int nh_grow(struct build *b)
{
	uint32_t cap = b->cap ? b->cap * 2 : 64;
	uint32_t *idx = calloc(cap, sizeof(uint32_t));

	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->fib->nnh; i++) {
		uint32_t h = nh_hash(&b->fib->nh[i]) & (cap - 1);
		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = i + 1;
	}
	free(b->idx);
	b->idx = idx;
	b->cap = cap;
	return 0;
}

/* The index of next hop @p nh, added if new; -errno. */
static int64_t nh_get(struct build *b, const struct rt_nh *want)
{
	struct rt_fib *fib = b->fib;
	struct rt_nh nh;

	memset(&nh, 0, sizeof(nh)); /* the padding is hashed */
	nh.type = want->type;
	nh.family = want->family;
	nh.iface = want->iface;
	memcpy(nh.gw, want->gw, sizeof(nh.gw));
	if ((fib->nnh + 1) * 2 > b->cap && nh_grow(b) < 0)
		return -ENOMEM;
	uint32_t h = nh_hash(&nh) & (b->cap - 1);
	for (; b->idx[h]; h = (h + 1) & (b->cap - 1))
		if (!memcmp(&fib->nh[b->idx[h] - 1], &nh, sizeof(nh)))
			return b->idx[h] - 1;
	if (fib->nnh > LPM_VALUE_MAX)
		return -ENOSPC;
	if (fib->nnh == fib->nh_cap) {
		uint32_t cap = fib->nh_cap ? fib->nh_cap * 2 : 16;
		struct rt_nh *n = realloc(fib->nh, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		fib->nh = n;
		fib->nh_cap = cap;
	}
	fib->nh[fib->nnh] = nh;
	b->idx[h] = ++fib->nnh;
	return fib->nnh - 1;
}

/* ---- messages ---- */

struct src {
	const char *name;
	int line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct src *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!s->errlen)
		return -1;
	n = s->line ? snprintf(s->err, s->errlen, "%s:%d: ", s->name, s->line)
		    : snprintf(s->err, s->errlen, "%s: ", s->name);
	if (n >= 0 && (size_t)n < s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->err + n, s->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void fmt_prefix(char *out, size_t len, uint8_t family, const uint8_t *a, unsigned depth)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
	snprintf(out, len, "%s/%u", buf, depth);
}

/* ---- adding routes ---- */

static int add(struct build *b, struct src *s, uint8_t family, const uint8_t *a, unsigned depth,
	       const struct rt_nh *nh)
{
	int64_t v = nh_get(b, nh);
	uint32_t old = 0;
	char p[64];

	if (v < 0)
		return fail(s, v == -ENOSPC ? "more than %u distinct next hops" : "out of memory",
			    LPM_VALUE_MAX + 1);
	struct lpm *l = family == 4 ? b->fib->v4 : b->fib->v6;
	int rc = lpm_add(l, a, (uint8_t)depth, (uint32_t)v, (uint32_t)s->line, false, &old);
	if (rc == -EEXIST) {
		fmt_prefix(p, sizeof(p), family, a, depth);
		if (old == 0)
			return fail(
			    s, "%s is already a route of the interfaces (connected or local)", p);
		return fail(s, "duplicate route %s (line %u)", p, old);
	}
	if (rc < 0)
		return fail(s, "%s",
			    rc == -ENOSPC ? "too many long prefixes (2^22 groups)"
					  : "out of memory");
	return 0;
}

/* A route of the file: its next hop now, its insertion later (sorted). */
static int queue(struct build *b, struct src *s, uint8_t family, const uint8_t *a, unsigned depth,
		 const struct rt_nh *nh)
{
	int64_t v = nh_get(b, nh);

	if (v < 0)
		return fail(s, v == -ENOSPC ? "more than %u distinct next hops" : "out of memory",
			    LPM_VALUE_MAX + 1);
	if (b->nroutes == b->routes_cap) {
		size_t cap = b->routes_cap ? b->routes_cap * 2 : 1024;
		struct proute *r = realloc(b->routes, cap * sizeof(*r));
		if (!r)
			return fail(s, "out of memory");
		b->routes = r;
		b->routes_cap = cap;
	}
	struct proute *r = &b->routes[b->nroutes++];
	memcpy(r->key, a, 16);
	r->family = family;
	r->depth = (uint8_t)depth;
	r->nh = (uint32_t)v;
	r->line = (uint32_t)s->line;
	return 0;
}

/*
 * Insert the file's routes shortest prefixes first (a counting sort, stable
 * so a duplicate is reported at its later line): a prefix then never has
 * longer ones below it yet, so each first-level entry is written once per
 * covering prefix instead of every group under a short prefix being walked
 * again (a million routes: under a second instead of ten).
 */
static int insert_sorted(struct build *b, struct src *s)
{
	size_t start[2 * 129 + 1] = {0};
	struct proute *sorted;
	uint32_t old = 0;
	char p[64];

	if (!b->nroutes)
		return 0;
	sorted = malloc(b->nroutes * sizeof(*sorted));
	if (!sorted)
		return fail(s, "out of memory");
	for (size_t i = 0; i < b->nroutes; i++)
		start[(b->routes[i].family == 6) * 129 + b->routes[i].depth + 1]++;
	for (size_t k = 1; k < sizeof(start) / sizeof(start[0]); k++)
		start[k] += start[k - 1];
	for (size_t i = 0; i < b->nroutes; i++) {
		const struct proute *r = &b->routes[i];
		sorted[start[(r->family == 6) * 129 + r->depth]++] = *r;
	}
	for (size_t i = 0; i < b->nroutes; i++) {
		const struct proute *r = &sorted[i];
		struct lpm *l = r->family == 4 ? b->fib->v4 : b->fib->v6;
		int rc = lpm_add(l, r->key, r->depth, r->nh, r->line, false, &old);
		if (rc == 0)
			continue;
		s->line = (int)r->line;
		fmt_prefix(p, sizeof(p), r->family, r->key, r->depth);
		free(sorted);
		if (rc == -EEXIST && old == 0)
			return fail(
			    s, "%s is already a route of the interfaces (connected or local)", p);
		if (rc == -EEXIST)
			return fail(s, "duplicate route %s (line %u)", p, old);
		return fail(s, "%s",
			    rc == -ENOSPC ? "too many long prefixes (2^22 groups)"
					  : "out of memory");
	}
	free(sorted);
	return 0;
}

/* The interfaces' routes: connected subnets, own addresses, broadcasts. */
static int add_interfaces(struct build *b, struct src *s)
{
	const struct rt_config *cfg = b->cfg;

	for (int i = 0; i < cfg->nifaces; i++) {
		const struct rt_iface *ifc = &cfg->ifaces[i];
		for (int k = 0; k < ifc->naddr; k++) {
			const struct rt_addr *ad = &ifc->addr[k];
			unsigned max = ad->family == 4 ? 32 : 128;
			struct rt_nh nh = {.family = ad->family, .iface = (uint16_t)i};
			if (ad->len < max) {
				nh.type = NH_CONNECTED;
				if (add(b, s, ad->family, ad->a, ad->len, &nh))
					return -1;
			}
			nh.type = NH_LOCAL;
			if (add(b, s, ad->family, ad->a, max, &nh))
				return -1;
			if (ad->family == 4 && ad->len < 31) {
				uint8_t bc[4];
				wr32(bc, rd32(ad->a) | (~0u >> ad->len));
				nh.type = NH_BROADCAST;
				if (add(b, s, 4, bc, 32, &nh))
					return -1;
			}
		}
	}
	return 0;
}

static bool is_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The interface @p gw is on (restricted to @p dev when >= 0), -1 if none;
 * -2 when it is one of the router's own addresses. */
static int gw_iface(const struct rt_config *cfg, uint8_t family, const uint8_t *gw, int dev)
{
	for (int i = 0; i < cfg->nifaces; i++) {
		const struct rt_iface *ifc = &cfg->ifaces[i];
		if (dev >= 0 && i != dev)
			continue;
		if (family == 6 && is_ll6(gw))
			return memcmp(gw, ifc->ll6, 16) ? i : -2;
		for (int k = 0; k < ifc->naddr; k++) {
			if (!rt_prefix_has(&ifc->addr[k], family, gw))
				continue;
			return memcmp(gw, ifc->addr[k].a, family == 4 ? 4 : 16) ? i : -2;
		}
	}
	return -1;
}

/* Split the next word off *p (up to @p end); NULL at the end of the line. */
static char *word(char **p, char *end, size_t *len)
{
	char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	if (s == end || *s == '#') {
		*p = end;
		return NULL;
	}
	char *w = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
		s++;
	*len = (size_t)(s - w);
	*p = s;
	return w;
}

static bool is(const char *w, size_t len, const char *kw)
{
	return strlen(kw) == len && !memcmp(w, kw, len);
}

/* PREFIX, "default" (family from @p family_hint, 0: unknown), or ADDR. */
static int parse_prefix(struct src *s, const char *w, size_t len, uint8_t *family, uint8_t *a,
			unsigned *depth)
{
	char buf[64];
	struct rt_addr r;

	if (len >= sizeof(buf))
		return fail(s, "'%.*s' is not a prefix", (int)(len > 60 ? 60 : len), w);
	memcpy(buf, w, len);
	buf[len] = '\0';
	if (!strcmp(buf, "default")) {
		*family = 0; /* from the gateway */
		memset(a, 0, 16);
		*depth = 0;
		return 0;
	}
	if (rt_parse_prefix(buf, false, &r) < 0)
		return fail(s, "'%s' is not a prefix (10.0.0.0/8, fd00::/8, an address or default)",
			    buf);
	*family = r.family;
	*depth = r.len;
	memcpy(a, r.a, 16);
	/* host bits set: the kernel refuses them too ("Invalid prefix") */
	uint8_t m[16];
	memcpy(m, r.a, 16);
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = r.len >= 8 * (i + 1) ? 8 : r.len > 8 * i ? r.len - 8 * i : 0;
		m[i] &= (uint8_t)(0xff00u >> bits);
	}
	if (memcmp(m, r.a, 16)) {
		char fixed[64];
		fmt_prefix(fixed, sizeof(fixed), r.family, m, r.len);
		return fail(s, "%s has host bits set (did you mean %s?)", buf, fixed);
	}
	return 0;
}

static int parse_line(struct build *b, struct src *s, char *p, char *end)
{
	const struct rt_config *cfg = b->cfg;
	struct rt_nh nh = {0};
	uint8_t a[16], gw[16];
	uint8_t family, gw_family = 0;
	unsigned depth;
	int dev = -1;
	bool have_gw = false;
	size_t len;
	char *w = word(&p, end, &len), buf[64], gws[64] = "";

	if (!w)
		return 0; /* blank or comment */
	if (is(w, len, "blackhole") || is(w, len, "unreachable") || is(w, len, "prohibit")) {
		nh.type = is(w, len, "blackhole")     ? NH_BLACKHOLE
			  : is(w, len, "unreachable") ? NH_UNREACHABLE
						      : NH_PROHIBIT;
		const char *kw = w;
		size_t kwlen = len;
		if (!(w = word(&p, end, &len)))
			return fail(s, "%.*s needs a prefix", (int)kwlen, kw);
		if (parse_prefix(s, w, len, &family, a, &depth))
			return -1;
		if (!family)
			return fail(s, "write %.*s 0.0.0.0/0 or ::/0, not default", (int)kwlen, kw);
		if ((w = word(&p, end, &len)))
			return fail(s, "unexpected '%.*s' after %.*s PREFIX",
				    (int)(len > 40 ? 40 : len), w, (int)kwlen, kw);
		nh.family = family;
		return queue(b, s, family, a, depth, &nh);
	}
	if (parse_prefix(s, w, len, &family, a, &depth))
		return -1;
	while ((w = word(&p, end, &len))) {
		if (is(w, len, "via") || is(w, len, "dev")) {
			bool via = is(w, len, "via");
			char *v = word(&p, end, &len);
			if (!v)
				return fail(s, "%s needs %s", via ? "via" : "dev",
					    via ? "a gateway address" : "a port");
			if (len >= sizeof(buf))
				return fail(s, "'%.40s...' is too long", v);
			memcpy(buf, v, len);
			buf[len] = '\0';
			if (via) {
				if (have_gw)
					return fail(s, "via given twice");
				if (inet_pton(AF_INET, buf, gw) == 1)
					gw_family = 4;
				else if (inet_pton(AF_INET6, buf, gw) == 1)
					gw_family = 6;
				else
					return fail(s, "gateway '%s' is not an address", buf);
				memcpy(gws, buf, sizeof(gws));
				have_gw = true;
			} else {
				if (dev >= 0)
					return fail(s, "dev given twice");
				if ((dev = rt_iface_by_port(cfg, buf)) < 0)
					return fail(s, "dev '%s' is not one of the interfaces",
						    buf);
			}
			continue;
		}
		return fail(s, "unexpected '%.*s' (expected via GATEWAY or dev PORT)",
			    (int)(len > 40 ? 40 : len), w);
	}
	if (!family) {
		if (!have_gw)
			return fail(s, "default needs via GATEWAY (it gives the family); or write "
				       "0.0.0.0/0 or ::/0");
		family = gw_family;
	}
	nh.family = family;
	if (have_gw) {
		if (gw_family != family)
			return fail(s, "gateway %s is not an IPv%u address", gws, family);
		int i = gw_iface(cfg, family, gw, dev);
		if (i == -2)
			return fail(s, "gateway %s is one of the router's own addresses", gws);
		if (family == 6 && is_ll6(gw) && dev < 0)
			return fail(s, "link-local gateway %s needs dev PORT", gws);
		if (i < 0)
			return fail(s, "gateway %s is not on a subnet of %s%s", gws,
				    dev >= 0 ? "port " : "any interface",
				    dev >= 0 ? cfg->ifaces[dev].port : "");
		nh.type = NH_GATEWAY;
		nh.iface = (uint16_t)i;
		memcpy(nh.gw, gw, 16);
	} else {
		if (dev < 0)
			return fail(s, "a route needs via GATEWAY or dev PORT");
		nh.type = NH_CONNECTED;
		nh.iface = (uint16_t)dev;
	}
	return queue(b, s, family, a, depth, &nh);
}

static void collect_local4(const struct rt_config *cfg, struct rt_fib *fib)
{
	int n = 0;

	for (int i = 0; i < cfg->nifaces; i++)
		n += 2 * cfg->ifaces[i].naddr;
	fib->local4 = calloc((size_t)n + 1, sizeof(uint32_t));
	if (!fib->local4)
		return;
	for (int i = 0; i < cfg->nifaces; i++)
		for (int k = 0; k < cfg->ifaces[i].naddr; k++) {
			const struct rt_addr *ad = &cfg->ifaces[i].addr[k];
			if (ad->family != 4)
				continue;
			fib->local4[fib->nlocal4++] = rd32(ad->a);
			if (ad->len < 31)
				fib->local4[fib->nlocal4++] = rd32(ad->a) | (~0u >> ad->len);
		}
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

struct rt_fib *rt_fib_build(const struct rt_config *cfg, const char *name, const char *text,
			    size_t len, char *err, size_t errlen)
{
	struct rt_fib *fib = calloc(1, sizeof(*fib));
	struct build b = {.fib = fib, .cfg = cfg};
	struct src s = {
	    .name = cfg->path[0] ? cfg->path : "configuration", .err = err, .errlen = errlen};
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!fib || !(fib->v4 = lpm_new(LPM_V4)) || !(fib->v6 = lpm_new(LPM_V6))) {
		fail(&s, "out of memory for the route tables");
		goto fail;
	}
	if (add_interfaces(&b, &s))
		goto fail;
	s.name = name;
	const char *p = text, *end = text + len;
	while (text && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		s.line++;
		if (memchr(p, '\0', (size_t)(le - p))) {
			fail(&s, "a NUL byte: not a text file");
			goto fail;
		}
		if (parse_line(&b, &s, (char *)p, (char *)le))
			goto fail;
		p = le + 1;
	}
	if (insert_sorted(&b, &s))
		goto fail;
	fib->file_routes4 = lpm_rules(fib->v4);
	fib->file_routes6 = lpm_rules(fib->v6);
	/* the interfaces' own routes are not the file's */
	for (int i = 0; i < cfg->nifaces; i++)
		for (int k = 0; k < cfg->ifaces[i].naddr; k++) {
			const struct rt_addr *ad = &cfg->ifaces[i].addr[k];
			unsigned n = 1 + (ad->len < (ad->family == 4 ? 32 : 128)) +
				     (ad->family == 4 && ad->len < 31);
			if (ad->family == 4)
				fib->file_routes4 -= n;
			else
				fib->file_routes6 -= n;
		}
	collect_local4(cfg, fib);
	fib->hint = calloc(fib->nnh + 1, sizeof(uint32_t));
	if (!fib->hint) {
		fail(&s, "out of memory");
		goto fail;
	}
	free(b.idx);
	free(b.routes);
	fib->load_ms = ms_since(&t0);
	return fib;
fail:
	free(b.idx);
	free(b.routes);
	rt_fib_free(fib);
	return NULL;
}

struct rt_fib *rt_fib_load(const struct rt_config *cfg, char *err, size_t errlen)
{
	if (!cfg->routes[0])
		return rt_fib_build(cfg, "(no route file)", NULL, 0, err, errlen);
	FILE *f = fopen(cfg->routes, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", cfg->routes, strerror(errno));
		return NULL;
	}
	struct rt_fib *fib = NULL;
	char *text = NULL;
	long size;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: %s", cfg->routes, strerror(errno));
		goto out;
	}
	if ((unsigned long long)size > MAX_ROUTE_FILE) {
		snprintf(err, errlen, "%s: larger than 1 GiB", cfg->routes);
		goto out;
	}
	text = malloc((size_t)size + 1);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", cfg->routes);
		goto out;
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: read error", cfg->routes);
		goto out;
	}
	fib = rt_fib_build(cfg, cfg->routes, text, (size_t)size, err, errlen);
out:
	free(text);
	fclose(f);
	return fib;
}

void rt_fib_free(struct rt_fib *fib)
{
	if (!fib)
		return;
	lpm_free(fib->v4);
	lpm_free(fib->v6);
	free(fib->nh);
	free(fib->hint);
	free(fib->local4);
	free(fib);
}

/* ---- printing ---- */

struct prow {
	uint8_t family, depth;
	uint8_t key[16];
	uint32_t nh;
};

struct pcollect {
	struct prow *rows;
	size_t n, cap;
	uint8_t family;
};

static void collect(const uint8_t *key, uint8_t depth, uint32_t value, void *arg)
{
	struct pcollect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct prow *r = realloc(c->rows, cap * sizeof(*r));
		if (!r)
			return;
		c->rows = r;
		c->cap = cap;
	}
	struct prow *r = &c->rows[c->n++];
	memset(r, 0, sizeof(*r));
	r->family = c->family;
	r->depth = depth;
	memcpy(r->key, key, c->family == 4 ? 4 : 16);
	r->nh = value;
}

static int cmp_row(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;
	int c = memcmp(x->key, y->key, 16);

	if (x->family != y->family)
		return x->family - y->family;
	return c ? c : x->depth - y->depth;
}

void rt_fib_print(const struct rt_fib *fib, const struct rt_config *cfg, FILE *f)
{
	static const char *const types[] = {"local",	 "broadcast",	"",	   "",
					    "blackhole", "unreachable", "prohibit"};
	struct pcollect c = {0};
	char p[64], g[INET6_ADDRSTRLEN];

	c.family = 4;
	lpm_foreach(fib->v4, collect, &c);
	c.family = 6;
	lpm_foreach(fib->v6, collect, &c);
	qsort(c.rows, c.n, sizeof(*c.rows), cmp_row);
	for (size_t i = 0; i < c.n; i++) {
		const struct prow *r = &c.rows[i];
		const struct rt_nh *nh = &fib->nh[r->nh];
		fmt_prefix(p, sizeof(p), r->family, r->key, r->depth);
		switch (nh->type) {
		case NH_GATEWAY:
			inet_ntop(r->family == 4 ? AF_INET : AF_INET6, nh->gw, g, sizeof(g));
			fprintf(f, "%s via %s dev %s\n", p, g, cfg->ifaces[nh->iface].port);
			break;
		case NH_CONNECTED:
			fprintf(f, "%s dev %s\n", p, cfg->ifaces[nh->iface].port);
			break;
		case NH_LOCAL:
		case NH_BROADCAST:
			fprintf(f, "%s %s dev %s\n", types[nh->type], p,
				cfg->ifaces[nh->iface].port);
			break;
		default:
			fprintf(f, "%s %s\n", types[nh->type], p);
		}
	}
	free(c.rows);
}
