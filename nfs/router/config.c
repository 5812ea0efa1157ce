/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-router configuration loader: libyaml's document API keeps every
 * node's line, so every error names file:line.  See config.h and
 * docs/nf-router.md for the keys.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/parse.h"

#define MAX_IFACES 256
#define MAX_ADDRS  64
#define MAX_STATIC 65536
#define MAX_FILE   (1u << 20)

struct ctx {
	const char *name;
	const char *dir;
	yaml_document_t *doc;
	struct rt_config *cfg;
	char *err;
	size_t errlen;
};

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 1;
}

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const yaml_node_t *n,
						      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen)
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, line_of(n), msg);
	return -1;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *kind(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE     ? "a single value"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
	       : n->type == YAML_MAPPING_NODE  ? "a mapping"
					       : "nothing";
}

static int want(struct ctx *c, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
	if (n->type == t)
		return 0;
	return fail(c, n, "%s must be %s, got %s", what,
		    t == YAML_SCALAR_NODE     ? "a single value"
		    : t == YAML_SEQUENCE_NODE ? "a list"
					      : "a mapping",
		    kind(n));
}

/* The keys of mapping @p map must be among @p keys (NULL-terminated), once
 * each. */
static int check_keys(struct ctx *c, const yaml_node_t *map, const char *what,
		      const char *const *keys)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys in %s must be plain names", what);
		bool known = false;
		for (int i = 0; keys[i]; i++)
			known |= !strcmp(keys[i], sval(k));
		if (!known) {
			char list[256] = "";
			for (int i = 0; keys[i]; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", keys[i]);
			return fail(c, k, "unknown key '%s' in %s (known: %s)", sval(k), what,
				    list);
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(sval(node(c, q->key)), sval(k)))
				return fail(c, k, "duplicate key '%s' in %s", sval(k), what);
	}
	return 0;
}

static yaml_node_t *get(struct ctx *c, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (!strcmp(sval(node(c, p->key)), key))
			return node(c, p->value);
	return NULL;
}

static int get_u32(struct ctx *c, const yaml_node_t *n, const char *what, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (want(c, n, YAML_SCALAR_NODE, what))
		return -1;
	if (netvm_parse_range(sval(n), true, min, max, &v) < 0)
		return fail(c, n, "%s must be a number %u..%u, got '%s'", what, min, max, sval(n));
	*out = (uint32_t)v;
	return 0;
}

static int get_ms(struct ctx *c, const yaml_node_t *n, const char *what, uint32_t min,
		  uint32_t *out)
{
	uint32_t v;

	if (want(c, n, YAML_SCALAR_NODE, what))
		return -1;
	if (netvm_parse_duration_ms(sval(n), &v) < 0 || v < min)
		return fail(c, n,
			    "%s must be a duration of at least %u ms (e.g. 500ms, 30s), got '%s'",
			    what, min, sval(n));
	*out = v;
	return 0;
}

/* ---- values --------------------------------------------------------------- */

int rt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (s[3 * i + 2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int rt_parse_prefix(const char *s, bool need_len, struct rt_addr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct rt_addr a = {0};

	if (alen == 0 || alen >= sizeof(buf) || (need_len && !slash))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, a.a) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, buf, a.a) == 1)
		a.family = 6;
	else
		return -1;
	unsigned max = a.family == 4 ? 32 : 128;
	a.len = (uint8_t)max;
	if (slash) {
		uint64_t v;
		if (netvm_parse_range(slash + 1, false, 0, max, &v) < 0)
			return -1;
		a.len = (uint8_t)v;
	}
	*out = a;
	return 0;
}

bool rt_prefix_has(const struct rt_addr *p, uint8_t family, const uint8_t *a)
{
	if (p->family != family)
		return false;
	unsigned d = p->len;
	for (unsigned i = 0; d; i++) {
		unsigned bits = d >= 8 ? 8 : d;
		uint8_t m = (uint8_t)(0xff00u >> bits);
		if ((p->a[i] & m) != (a[i] & m))
			return false;
		d -= bits;
	}
	return true;
}

int rt_iface_by_port(const struct rt_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nifaces; i++)
		if (!strcmp(cfg->ifaces[i].port, name))
			return i;
	return -1;
}

static bool addr_unusable(const struct rt_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == 4)
		return a->a[0] == 0 || a->a[0] == 127 || a->a[0] >= 224;
	return a->a[0] == 0xff || !memcmp(a->a, zero, 16) ||
	       (!memcmp(a->a, zero, 15) && a->a[15] == 1);
}

/* ---- sections --------------------------------------------------------------- */

static int parse_iface(struct ctx *c, yaml_node_t *map, struct rt_iface *ifc)
{
	static const char *const keys[] = {"port", "mac", "addresses", "mtu", NULL};
	yaml_node_t *v;

	if (want(c, map, YAML_MAPPING_NODE, "an interface") ||
	    check_keys(c, map, "an interface", keys))
		return -1;
	ifc->line = line_of(map);
	ifc->port_id = -1;
	ifc->mtu = 1500;
	if (!(v = get(c, map, "port")))
		return fail(c, map, "an interface needs 'port' (the NetVM port it is)");
	if (want(c, v, YAML_SCALAR_NODE, "port"))
		return -1;
	if (!netvm_valid_name(sval(v)))
		return fail(c, v, "port '%s' is not a valid name (1..31 of A-Z a-z 0-9 _ . -)",
			    sval(v));
	snprintf(ifc->port, sizeof(ifc->port), "%s", sval(v));
	if (!(v = get(c, map, "mac")))
		return fail(c, map, "interface '%s' needs 'mac'", ifc->port);
	if (want(c, v, YAML_SCALAR_NODE, "mac"))
		return -1;
	if (rt_parse_mac(sval(v), ifc->mac) < 0)
		return fail(c, v, "mac must be six hex bytes like 02:00:00:00:01:01, got '%s'",
			    sval(v));
	if ((ifc->mac[0] & 1) || !memcmp(ifc->mac, "\0\0\0\0\0\0", 6))
		return fail(c, v, "mac %s is not a unicast address", sval(v));
	if ((v = get(c, map, "mtu")) && get_u32(c, v, "mtu", 576, 9000, &ifc->mtu))
		return -1;
	/* fe80::/64 from the MAC (modified EUI-64, RFC 4291), first */
	ifc->ll6[0] = 0xfe;
	ifc->ll6[1] = 0x80;
	ifc->ll6[8] = ifc->mac[0] ^ 0x02;
	ifc->ll6[9] = ifc->mac[1];
	ifc->ll6[10] = ifc->mac[2];
	ifc->ll6[11] = 0xff;
	ifc->ll6[12] = 0xfe;
	ifc->ll6[13] = ifc->mac[3];
	ifc->ll6[14] = ifc->mac[4];
	ifc->ll6[15] = ifc->mac[5];
	v = get(c, map, "addresses");
	if (!v)
		return 0; /* an interface without addresses: a next hop by link only */
	if (want(c, v, YAML_SEQUENCE_NODE, "addresses"))
		return -1;
	int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > MAX_ADDRS)
		return fail(c, v, "at most %d addresses per interface", MAX_ADDRS);
	ifc->addr = calloc((size_t)n + 1, sizeof(*ifc->addr));
	if (!ifc->addr)
		return fail(c, v, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *a = node(c, v->data.sequence.items.start[i]);
		struct rt_addr *ad = &ifc->addr[ifc->naddr];
		if (want(c, a, YAML_SCALAR_NODE, "an address"))
			return -1;
		if (rt_parse_prefix(sval(a), true, ad) < 0)
			return fail(c, a,
				    "'%s' is not an address with its prefix length (10.1.0.1/24, "
				    "fd01::1/64)",
				    sval(a));
		if (addr_unusable(ad) ||
		    (ad->family == 6 && ad->a[0] == 0xfe && (ad->a[1] & 0xc0) == 0x80))
			return fail(
			    c, a,
			    "'%s' cannot be an interface address (unspecified, loopback, "
			    "multicast%s)",
			    sval(a),
			    ad->family == 6 ? " or link-local: that one is made from the mac" : "");
		if (ad->len == 0 || (ad->family == 4 && ad->len > 30 && ad->len != 32) ||
		    (ad->family == 6 && ad->len > 126 && ad->len != 128))
			return fail(c, a, "'%s': prefix length %u leaves no neighbours", sval(a),
				    ad->len);
		if (ad->family == 4 && ad->len < 31) {
			uint32_t h = rd32(ad->a) & (~0u >> ad->len);
			if (h == 0 || h == (~0u >> ad->len))
				return fail(c, a,
					    "'%s' is the subnet's network or broadcast address",
					    sval(a));
		}
		ifc->naddr++;
	}
	return 0;
}

static bool overlap(const struct rt_addr *a, const struct rt_addr *b)
{
	struct rt_addr s = a->len < b->len ? *a : *b;
	const struct rt_addr *l = a->len < b->len ? b : a;

	return a->family == b->family && rt_prefix_has(&s, l->family, l->a);
}

static int parse_ifaces(struct ctx *c, yaml_node_t *seq)
{
	struct rt_config *cfg = c->cfg;

	if (want(c, seq, YAML_SEQUENCE_NODE, "interfaces"))
		return -1;
	int n = (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n < 1 || n > MAX_IFACES)
		return fail(c, seq, "interfaces: 1..%d of them", MAX_IFACES);
	cfg->ifaces = calloc((size_t)n, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return fail(c, seq, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *m = node(c, seq->data.sequence.items.start[i]);
		struct rt_iface *ifc = &cfg->ifaces[i];
		cfg->nifaces = i + 1;
		if (parse_iface(c, m, ifc))
			return -1;
		for (int j = 0; j < i; j++) {
			const struct rt_iface *o = &cfg->ifaces[j];
			if (!strcmp(o->port, ifc->port))
				return fail(c, m, "port '%s' is already an interface (line %d)",
					    ifc->port, o->line);
			for (int a = 0; a < ifc->naddr; a++)
				for (int b = 0; b < o->naddr; b++)
					if (overlap(&ifc->addr[a], &o->addr[b]))
						return fail(c, m,
							    "an address of '%s' overlaps the "
							    "subnet of '%s' (line %d)",
							    ifc->port, o->port, o->line);
		}
		for (int a = 0; a < ifc->naddr; a++)
			for (int b = 0; b < a; b++)
				if (overlap(&ifc->addr[a], &ifc->addr[b]))
					return fail(c, m,
						    "two addresses of '%s' are in the same subnet",
						    ifc->port);
	}
	return 0;
}

static int parse_static(struct ctx *c, yaml_node_t *seq)
{
	static const char *const keys[] = {"port", "ip", "mac", NULL};
	struct rt_config *cfg = c->cfg;

	if (want(c, seq, YAML_SEQUENCE_NODE, "static_neighbours"))
		return -1;
	int n = (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n > MAX_STATIC)
		return fail(c, seq, "at most %d static neighbours", MAX_STATIC);
	cfg->neigh = calloc((size_t)n + 1, sizeof(*cfg->neigh));
	if (!cfg->neigh)
		return fail(c, seq, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *m = node(c, seq->data.sequence.items.start[i]), *v;
		struct rt_static_neigh *sn = &cfg->neigh[i];
		if (want(c, m, YAML_MAPPING_NODE, "a static neighbour") ||
		    check_keys(c, m, "a static neighbour", keys))
			return -1;
		sn->line = line_of(m);
		if (!(v = get(c, m, "port")) || !get(c, m, "ip") || !get(c, m, "mac"))
			return fail(c, m, "a static neighbour needs port, ip and mac");
		if (want(c, v, YAML_SCALAR_NODE, "port"))
			return -1;
		if ((sn->iface = rt_iface_by_port(cfg, sval(v))) < 0)
			return fail(c, v, "port '%s' is not one of the interfaces", sval(v));
		v = get(c, m, "ip");
		if (want(c, v, YAML_SCALAR_NODE, "ip"))
			return -1;
		if (rt_parse_prefix(sval(v), false, &sn->ip) < 0 || strchr(sval(v), '/') ||
		    addr_unusable(&sn->ip))
			return fail(c, v, "ip must be a unicast address, got '%s'", sval(v));
		v = get(c, m, "mac");
		if (want(c, v, YAML_SCALAR_NODE, "mac"))
			return -1;
		if (rt_parse_mac(sval(v), sn->mac) < 0 || (sn->mac[0] & 1))
			return fail(c, v, "mac must be a unicast address like 02:00:00:00:00:07");
		const struct rt_iface *ifc = &cfg->ifaces[sn->iface];
		bool onlink =
		    sn->ip.family == 6 && sn->ip.a[0] == 0xfe && (sn->ip.a[1] & 0xc0) == 0x80;
		for (int a = 0; a < ifc->naddr && !onlink; a++)
			onlink = rt_prefix_has(&ifc->addr[a], sn->ip.family, sn->ip.a) &&
				 memcmp(ifc->addr[a].a, sn->ip.a, 16);
		if (!onlink)
			return fail(c, m, "%s is not on a subnet of '%s' (or is its own address)",
				    sval(get(c, m, "ip")), ifc->port);
		for (int j = 0; j < i; j++)
			if (cfg->neigh[j].iface == sn->iface &&
			    !memcmp(&cfg->neigh[j].ip, &sn->ip, sizeof(sn->ip)))
				return fail(c, m, "a static neighbour %s on '%s' already (line %d)",
					    sval(get(c, m, "ip")), sval(get(c, m, "port")),
					    cfg->neigh[j].line);
		cfg->nneigh = i + 1;
	}
	return 0;
}

static int parse_icmp(struct ctx *c, yaml_node_t *map)
{
	static const char *const keys[] = {"rate", "burst", NULL};
	yaml_node_t *v;

	if (want(c, map, YAML_MAPPING_NODE, "icmp") || check_keys(c, map, "icmp", keys))
		return -1;
	if ((v = get(c, map, "rate")) &&
	    get_u32(c, v, "icmp rate", 0, 10000000, &c->cfg->icmp_rate))
		return -1;
	if ((v = get(c, map, "burst")) &&
	    get_u32(c, v, "icmp burst", 1, 10000000, &c->cfg->icmp_burst))
		return -1;
	return 0;
}

static int parse_neighbour(struct ctx *c, yaml_node_t *map)
{
	static const char *const keys[] = {"reachable", "stale",       "retrans", "probes",
					   "queue",	"queue_total", "max",	  NULL};
	struct rt_config *cfg = c->cfg;
	yaml_node_t *v;

	if (want(c, map, YAML_MAPPING_NODE, "neighbour") || check_keys(c, map, "neighbour", keys))
		return -1;
	if ((v = get(c, map, "reachable")) &&
	    get_ms(c, v, "neighbour reachable", 100, &cfg->reachable_ms))
		return -1;
	if ((v = get(c, map, "stale")) && get_ms(c, v, "neighbour stale", 100, &cfg->stale_ms))
		return -1;
	if ((v = get(c, map, "retrans")) && get_ms(c, v, "neighbour retrans", 10, &cfg->retrans_ms))
		return -1;
	if ((v = get(c, map, "probes")) && get_u32(c, v, "neighbour probes", 1, 255, &cfg->probes))
		return -1;
	if ((v = get(c, map, "queue")) && get_u32(c, v, "neighbour queue", 0, 1024, &cfg->queue))
		return -1;
	if ((v = get(c, map, "queue_total")) &&
	    get_u32(c, v, "neighbour queue_total", 0, 65536, &cfg->queue_total))
		return -1;
	if ((v = get(c, map, "max")) &&
	    get_u32(c, v, "neighbour max", 16, 1 << 20, &cfg->max_neigh))
		return -1;
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	static const char *const keys[] = {"interfaces", "routes",    "static_neighbours",
					   "icmp",	 "neighbour", "stock",
					   "timer",	 NULL};
	struct rt_config *cfg = c->cfg;
	yaml_node_t *v;

	if (!root)
		return fail(c, NULL, "empty configuration: it needs 'interfaces'");
	if (want(c, root, YAML_MAPPING_NODE, "the configuration") ||
	    check_keys(c, root, "the configuration", keys))
		return -1;
	if (!(v = get(c, root, "interfaces")))
		return fail(c, root,
			    "'interfaces' is missing: the ports the router routes between");
	if (parse_ifaces(c, v))
		return -1;
	if ((v = get(c, root, "routes"))) {
		if (want(c, v, YAML_SCALAR_NODE, "routes"))
			return -1;
		const char *p = sval(v);
		if (!*p)
			return fail(c, v, "routes: a file name");
		int n = p[0] == '/' || !c->dir
			    ? snprintf(cfg->routes, sizeof(cfg->routes), "%s", p)
			    : snprintf(cfg->routes, sizeof(cfg->routes), "%s/%s", c->dir, p);
		if (n < 0 || (size_t)n >= sizeof(cfg->routes))
			return fail(c, v, "routes: path too long");
	}
	if ((v = get(c, root, "static_neighbours")) && parse_static(c, v))
		return -1;
	if ((v = get(c, root, "icmp")) && parse_icmp(c, v))
		return -1;
	if ((v = get(c, root, "neighbour")) && parse_neighbour(c, v))
		return -1;
	if ((v = get(c, root, "stock")) && get_u32(c, v, "stock", 8, 8192, &cfg->stock))
		return -1;
	if ((v = get(c, root, "timer")) && get_ms(c, v, "timer", 1, &cfg->timer_ms))
		return -1;
	if (v && cfg->timer_ms > 1000)
		return fail(c, v, "timer must be at most 1s, got '%s'", sval(v));
	return 0;
}

static void defaults(struct rt_config *cfg)
{
	cfg->icmp_rate = 1000; /* Linux: net.ipv4.icmp_msgs_per_sec */
	cfg->icmp_burst = 50;  /* net.ipv4.icmp_msgs_burst */
	cfg->reachable_ms = 30000;
	cfg->stale_ms = 60000;
	cfg->retrans_ms = 1000;
	cfg->probes = 3;
	cfg->queue = 3;
	cfg->queue_total = 256;
	cfg->max_neigh = 4096;
	cfg->stock = 128;
	cfg->timer_ms = 50;
}

int rt_config_parse(const char *name, const char *dir, const char *text, size_t len,
		    struct rt_config *cfg, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = {
	    .name = name, .dir = dir, .doc = &doc, .cfg = cfg, .err = err, .errlen = errlen};
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	defaults(cfg);
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%d: %s", name, (int)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return -1;
	}
	rc = parse_root(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0)
		rt_config_free(cfg);
	return rc;
}

int rt_config_load(const char *path, struct rt_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, dir[4096];
	size_t len = 0;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(MAX_FILE + 1);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	len = fread(text, 1, MAX_FILE + 1, f);
	if (ferror(f) || len > MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? strerror(errno) : "larger than 1 MiB");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	rc = rt_config_parse(path, dir, text, len, cfg, err, errlen);
	if (rc == 0)
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
out:
	free(text);
	fclose(f);
	return rc;
}

void rt_config_free(struct rt_config *cfg)
{
	for (int i = 0; i < cfg->nifaces; i++)
		free(cfg->ifaces[i].addr);
	free(cfg->ifaces);
	free(cfg->neigh);
	cfg->ifaces = NULL;
	cfg->neigh = NULL;
	cfg->nifaces = cfg->nneigh = 0;
}
