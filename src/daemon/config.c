/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvmd configuration loader.  The file is loaded whole with libyaml's
 * document API so every node keeps its line for error messages; the tree
 * is then walked in dependency order (services before chains, chains before
 * rules) so references can be checked as they are met.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include <grp.h>
#include <pwd.h>
#include <yaml.h>

#include <netvm/netvm.h>

#include "common/parse.h"
#include "daemon/config.h"
#include "ports/port.h"

/* Bounds on list lengths: ids travel in 16-bit fields, and a typo should
 * not make the daemon allocate gigabytes. */
#define CFG_MAX_PORTS	  1024
#define CFG_MAX_SERVICES  4096
#define CFG_MAX_CHAINS	  4096
#define CFG_MAX_HOPS	  64
#define CFG_MAX_RULES	  65536
#define CFG_MAX_FILE	  (16u << 20)
#define CFG_MAX_PORT_OPTS 64
/* Control connections beyond max_nfs by default: every NF holds one, and
 * netvmctl, VM starts and monitoring need some too. */
#define CFG_CONTROL_SPARE 64

struct ctx {
	const char *name; /* file name for messages */
	const char *dir;  /* directory for relative paths, NULL = leave them alone */
	yaml_document_t *doc;
	struct netvm_config *cfg;
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

static bool is_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE;
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* An empty plain scalar or ~/null: "key:" with nothing after it. */
static bool is_null(const yaml_node_t *n)
{
	if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = sval(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int want_scalar(struct ctx *c, const yaml_node_t *n, const char *what)
{
	if (is_scalar(n))
		return 0;
	return fail(c, n, "%s must be a single value, got %s", what, kind(n));
}

static int want_mapping(struct ctx *c, const yaml_node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	return fail(c, n, "%s must be a mapping, got %s", what, kind(n));
}

static int want_sequence(struct ctx *c, const yaml_node_t *n, const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	return fail(c, n, "%s must be a list, got %s", what, kind(n));
}

/* Check a mapping's keys are scalars and unique (libyaml accepts duplicates). */
static int check_keys(struct ctx *c, const yaml_node_t *map, const char *what)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);
		if (!is_scalar(k))
			return fail(c, k, "keys in %s must be plain names, got %s", what, kind(k));
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(sval(node(c, q->key)), sval(k)))
				return fail(c, k, "duplicate key '%s' in %s", sval(k), what);
	}
	return 0;
}

static yaml_node_t *map_get(struct ctx *c, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (!strcmp(sval(node(c, p->key)), key))
			return node(c, p->value);
	return NULL;
}

static int get_name(struct ctx *c, const yaml_node_t *n, const char *what, char *out)
{
	if (want_scalar(c, n, what))
		return -1;
	if (!netvm_valid_name(sval(n)))
		return fail(c, n,
			    "%s '%s' is not a valid name (1..%d characters of A-Z a-z 0-9 _ . -)",
			    what, sval(n), NETVM_NAME_MAX - 1);
	strcpy(out, sval(n));
	return 0;
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *what, uint64_t min,
		    uint64_t max, bool suffix, uint64_t *out)
{
	uint64_t v;

	if (want_scalar(c, n, what))
		return -1;
	if (netvm_parse_u64(sval(n), suffix, &v) || v < min || v > max) {
		if (max == UINT64_MAX && min == 0)
			return fail(c, n, "%s must be a non-negative integer%s, got '%s'", what,
				    suffix ? " (suffixes k, M, G allowed)" : "", sval(n));
		if (max == UINT64_MAX)
			return fail(c, n, "%s must be an integer of at least %llu, got '%s'", what,
				    (unsigned long long)min, sval(n));
		return fail(c, n, "%s must be an integer between %llu and %llu, got '%s'", what,
			    (unsigned long long)min, (unsigned long long)max, sval(n));
	}
	*out = v;
	return 0;
}

static int get_u32(struct ctx *c, const yaml_node_t *n, const char *what, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (get_uint(c, n, what, min, max, false, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A path; relative ones are taken against the config file's directory. */
static int get_path(struct ctx *c, const yaml_node_t *n, const char *what, bool relative, char *out)
{
	const char *s;
	int r;

	if (want_scalar(c, n, what))
		return -1;
	s = sval(n);
	if (!*s)
		return fail(c, n, "%s must not be empty", what);
	if (relative && s[0] != '/' && c->dir)
		r = snprintf(out, PATH_MAX, "%s/%s", c->dir, s);
	else
		r = snprintf(out, PATH_MAX, "%s", s);
	if (r < 0 || r >= PATH_MAX)
		return fail(c, n, "%s is too long", what);
	return 0;
}

static void *grow(void *arr, int n, size_t size)
{
	return realloc(arr, (size_t)(n + 1) * size);
}

static int oom(struct ctx *c, const yaml_node_t *n)
{
	return fail(c, n, "out of memory");
}

/* ---- pool, cores ------------------------------------------------------ */

/* true/yes or false/no. */
static int get_bool(struct ctx *c, const yaml_node_t *v, const char *what, bool *out)
{
	if (want_scalar(c, v, what))
		return -1;
	if (netvm_parse_bool(sval(v), out))
		return fail(c, v, "%s must be true or false, got '%s'", what, sval(v));
	return 0;
}

static int parse_pool(struct ctx *c, yaml_node_t *map)
{
	struct netvm_config *cfg = c->cfg;
	yaml_node_t *bs_node = NULL, *hr_node = NULL;

	if (is_null(map))
		return 0;
	if (want_mapping(c, map, "pool") || check_keys(c, map, "pool"))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = sval(k);

		if (!strcmp(key, "buffers")) {
			if (get_u32(c, v, "pool.buffers", 64, 16777216, &cfg->nbufs))
				return -1;
		} else if (!strcmp(key, "buffer_size")) {
			if (get_u32(c, v, "pool.buffer_size", 256, 65535, &cfg->buf_size))
				return -1;
			bs_node = v;
		} else if (!strcmp(key, "headroom")) {
			if (get_u32(c, v, "pool.headroom", 0, 1024, &cfg->headroom))
				return -1;
			hr_node = v;
		} else if (!strcmp(key, "hugepages")) {
			if (want_scalar(c, v, "pool.hugepages"))
				return -1;
			if (!strcmp(sval(v), "auto"))
				cfg->hugepages = CFG_HUGE_AUTO;
			else if (!strcmp(sval(v), "yes") || !strcmp(sval(v), "true"))
				cfg->hugepages = CFG_HUGE_YES;
			else if (!strcmp(sval(v), "no") || !strcmp(sval(v), "false"))
				cfg->hugepages = CFG_HUGE_NO;
			else
				return fail(c, v,
					    "pool.hugepages must be auto, yes or no, got '%s'",
					    sval(v));
		} else {
			return fail(c, k, "unknown key '%s' in pool", key);
		}
	}
	/* Offsets within a buffer are 16 bits (netvm_desc.off). */
	if (cfg->buf_size + cfg->headroom > 65535)
		return fail(c, bs_node ? bs_node : hr_node,
			    "pool.buffer_size + pool.headroom must be at most 65535, got %u + %u",
			    cfg->buf_size, cfg->headroom);
	return 0;
}

static int parse_cores(struct ctx *c, yaml_node_t *map)
{
	if (is_null(map))
		return 0;
	if (want_mapping(c, map, "cores") || check_keys(c, map, "cores"))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		uint32_t core;

		if (strcmp(sval(k), "switch"))
			return fail(c, k, "unknown key '%s' in cores", sval(k));
		if (get_u32(c, v, "cores.switch", 0, CPU_SETSIZE - 1, &core))
			return -1;
		c->cfg->switch_core = (int)core;
	}
	return 0;
}

/* ---- ports ------------------------------------------------------------ */

static int find_port(const struct netvm_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nports; i++)
		if (!strcmp(cfg->ports[i].name, name))
			return i;
	return -1;
}

static int find_service(const struct netvm_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nservices; i++)
		if (!strcmp(cfg->services[i].name, name))
			return i;
	return -1;
}

static int find_chain(const struct netvm_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nchains; i++)
		if (!strcmp(cfg->chains[i].name, name))
			return i;
	return -1;
}

static bool valid_type(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= sizeof(((struct cfg_port *)0)->type))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/*
 * A port: name, type, output and paused are the daemon's; every other key
 * goes to the backend the type names, which parses and checks it
 * (port_parse()).  Its error names the key, and the key's line goes first.
 */
static int parse_port(struct ctx *c, yaml_node_t *map, struct cfg_port *pt)
{
	struct port_opt opt[CFG_MAX_PORT_OPTS];
	char msg[512] = "";
	yaml_node_t *v;
	int n = 0;

	if (want_mapping(c, map, "a port") || check_keys(c, map, "port"))
		return -1;
	pt->line = line_of(map);

	/* Name and type first: every later message names the port. */
	v = map_get(c, map, "name");
	if (!v)
		return fail(c, map, "port has no 'name'");
	if (get_name(c, v, "port name", pt->name))
		return -1;
	int dup = find_port(c->cfg, pt->name);
	if (dup >= 0)
		return fail(c, v, "duplicate port name '%s' (first defined on line %d)", pt->name,
			    c->cfg->ports[dup].line);
	v = map_get(c, map, "type");
	if (!v)
		return fail(c, map, "port '%s' has no 'type'", pt->name);
	if (want_scalar(c, v, "port type"))
		return -1;
	if (!valid_type(sval(v)))
		return fail(c, v, "port '%s': type '%s' is not valid (1..15 of A-Z a-z 0-9 _)",
			    pt->name, sval(v));
	strcpy(pt->type, sval(v));
	if (!port_ops_find(pt->type)) {
		port_types(msg, sizeof(msg));
		return fail(c, v, "port '%s': unknown type '%s' (known: %s)", pt->name, pt->type,
			    msg);
	}

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);
		const char *key = sval(k);

		v = node(c, p->value);
		if (!strcmp(key, "name") || !strcmp(key, "type"))
			continue;
		if (!strcmp(key, "output")) {
			if (get_name(c, v, "port output", pt->output))
				return -1;
			continue; /* resolved once every port is known */
		}
		if (!strcmp(key, "paused")) {
			if (get_bool(c, v, "port paused", &pt->paused))
				return -1;
			continue;
		}
		if (n == CFG_MAX_PORT_OPTS)
			return fail(c, k, "port '%s': too many options (at most %d)", pt->name,
				    CFG_MAX_PORT_OPTS);
		snprintf(msg, sizeof(msg), "port '%s': %s", pt->name, key);
		if (want_scalar(c, v, msg))
			return -1;
		opt[n++] = (struct port_opt){key, sval(v), line_of(k)};
	}
	struct port_args a = {.port = pt->name,
			      .type = pt->type,
			      .dir = c->dir,
			      .opt = opt,
			      .n = n,
			      .err = msg,
			      .errlen = sizeof(msg)};
	pt->conf = port_parse(&a);
	if (!pt->conf) {
		if (c->errlen)
			snprintf(c->err, c->errlen, "%s:%d: %s", c->name,
				 a.bad >= 0 ? opt[a.bad].line : pt->line, msg);
		return -1;
	}
	return 0;
}

static int parse_ports(struct ctx *c, yaml_node_t *seq)
{
	struct netvm_config *cfg = c->cfg;

	if (is_null(seq))
		return 0;
	if (want_sequence(c, seq, "ports"))
		return -1;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *map = node(c, *it);
		struct cfg_port *a;

		if (cfg->nports >= CFG_MAX_PORTS)
			return fail(c, map, "too many ports (at most %d)", CFG_MAX_PORTS);
		a = grow(cfg->ports, cfg->nports, sizeof(*a));
		if (!a)
			return oom(c, map);
		cfg->ports = a;
		memset(&a[cfg->nports], 0, sizeof(*a));
		/* Counted only once valid: the duplicate check must not see it. */
		if (parse_port(c, map, &a[cfg->nports]))
			return -1;
		cfg->nports++;
	}
	/* Outputs may name ports defined later in the list. */
	for (int i = 0; i < cfg->nports; i++) {
		yaml_node_t *map = node(c, seq->data.sequence.items.start[i]);
		if (cfg->ports[i].output[0] && find_port(cfg, cfg->ports[i].output) < 0)
			return fail(c, map_get(c, map, "output"),
				    "port '%s': output names unknown port '%s'", cfg->ports[i].name,
				    cfg->ports[i].output);
	}
	return 0;
}

/* ---- services, chains ------------------------------------------------- */

/* A user or group name or number, resolved now. */
static int get_id(struct ctx *c, yaml_node_t *v, bool group, const char *what, uint32_t *id)
{
	uint64_t num;

	if (want_scalar(c, v, what))
		return -1;
	if (netvm_parse_u64(sval(v), false, &num) == 0 && num < UINT32_MAX) {
		*id = (uint32_t)num;
	} else if (group) {
		struct group *g = getgrnam(sval(v));
		if (!g)
			return fail(c, v, "%s: no group '%s'", what, sval(v));
		*id = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(sval(v));
		if (!pw)
			return fail(c, v, "%s: no user '%s'", what, sval(v));
		*id = pw->pw_uid;
	}
	return 0;
}

/* A list of users or groups for service @svc. */
static int get_ids(struct ctx *c, yaml_node_t *seq, bool groups, const char *svc, uint32_t *ids,
		   int *n)
{
	char what[NETVM_NAME_MAX + 32];

	snprintf(what, sizeof(what), "service '%s' %s", svc, groups ? "groups" : "users");
	if (want_sequence(c, seq, what))
		return -1;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		if (*n == CFG_MAX_IDS)
			return fail(c, node(c, *it), "%s: at most %d", what, CFG_MAX_IDS);
		if (get_id(c, node(c, *it), groups, what, &ids[*n]))
			return -1;
		(*n)++;
	}
	return 0;
}

static int parse_service_keys(struct ctx *c, yaml_node_t *map, struct cfg_service *s)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = sval(k);

		if (!strcmp(key, "name"))
			continue;
		if (!strcmp(key, "domain")) {
			if (get_name(c, v, "service domain", s->domain))
				return -1;
		} else if (!strcmp(key, "users")) {
			if (get_ids(c, v, false, s->name, s->users, &s->nusers))
				return -1;
		} else if (!strcmp(key, "groups")) {
			if (get_ids(c, v, true, s->name, s->groups, &s->ngroups))
				return -1;
		} else if (!strcmp(key, "bad_desc_limit")) {
			if (get_uint(c, v, "bad_desc_limit", 0, UINT64_MAX, true,
				     &s->bad_desc_limit))
				return -1;
		}
	}
	return 0;
}

static int parse_services(struct ctx *c, yaml_node_t *seq)
{
	struct netvm_config *cfg = c->cfg;

	if (is_null(seq))
		return 0;
	if (want_sequence(c, seq, "services"))
		return -1;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = node(c, *it), *nm = n;
		struct cfg_service *a, *s;

		if (n->type == YAML_MAPPING_NODE) {
			if (check_keys(c, n, "service"))
				return -1;
			static const char *const keys[] = {"name", "domain", "users", "groups",
							   "bad_desc_limit"};
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				const char *key = sval(node(c, p->key));
				size_t k = 0;
				while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k]))
					k++;
				if (k == sizeof(keys) / sizeof(keys[0]))
					return fail(c, node(c, p->key),
						    "unknown key '%s' in service (name, domain, "
						    "users, groups, bad_desc_limit)",
						    key);
			}
			nm = map_get(c, n, "name");
			if (!nm)
				return fail(c, n, "service has no 'name'");
		}
		if (cfg->nservices >= CFG_MAX_SERVICES)
			return fail(c, n, "too many services (at most %d)", CFG_MAX_SERVICES);
		a = grow(cfg->services, cfg->nservices, sizeof(*a));
		if (!a)
			return oom(c, n);
		cfg->services = a;
		s = &a[cfg->nservices];
		memset(s, 0, sizeof(*s));
		s->line = line_of(n);
		if (get_name(c, nm, "service name", s->name))
			return -1;
		int dup = find_service(cfg, s->name);
		if (dup >= 0)
			return fail(c, nm, "duplicate service name '%s' (first defined on line %d)",
				    s->name, cfg->services[dup].line);
		if (n->type == YAML_MAPPING_NODE && parse_service_keys(c, n, s))
			return -1;
		cfg->nservices++;
	}
	return 0;
}

/* A chain's hops: a list of service names. */
static int parse_hops(struct ctx *c, struct cfg_chain *ch, yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(c, seq,
			    "chain '%s' must be a list of service names ([] for none) or a mapping "
			    "with hops and links, got %s",
			    ch->name, kind(seq));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *h = node(c, *it);
		char(*hops)[NETVM_NAME_MAX];

		if (ch->nhops >= CFG_MAX_HOPS)
			return fail(c, h, "chain '%s' has too many hops (at most %d)", ch->name,
				    CFG_MAX_HOPS);
		if (want_scalar(c, h, "a chain hop"))
			return -1;
		if (find_service(c->cfg, sval(h)) < 0)
			return fail(c, h, "chain '%s' names unknown service '%s'", ch->name,
				    sval(h));
		hops = grow(ch->hops, ch->nhops, sizeof(*hops));
		if (!hops)
			return oom(c, h);
		ch->hops = hops;
		strcpy(hops[ch->nhops++], sval(h));
	}
	return 0;
}

/* A graph chain's links: {HOP[.OUTPUT]: TARGET, ...}. */
static int parse_links(struct ctx *c, struct cfg_chain *ch, yaml_node_t *map)
{
	if (is_null(map))
		return 0;
	if (want_mapping(c, map, "links") || check_keys(c, map, "links"))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		struct cfg_link *l = grow(ch->links, ch->nlinks, sizeof(*l));

		if (!l)
			return oom(c, k);
		ch->links = l;
		l = &l[ch->nlinks];
		memset(l, 0, sizeof(*l));
		l->line = line_of(k);
		if (netvm_parse_link_from(sval(k), l->from, sizeof(l->from), NETVM_MAX_OUTPUTS,
					  &l->out) < 0)
			return fail(
			    c, k,
			    "chain '%s': link from '%s': expected HOP or HOP.OUTPUT (output "
			    "0..%d)",
			    ch->name, sval(k), NETVM_MAX_OUTPUTS - 1);
		if (want_scalar(c, v, "a link's target"))
			return -1;
		if (!sval(v)[0] || strlen(sval(v)) >= sizeof(l->to))
			return fail(c, v, "chain '%s': link target '%s' is not a name", ch->name,
				    sval(v));
		strcpy(l->to, sval(v));
		ch->nlinks++;
	}
	return 0;
}

static int parse_chains(struct ctx *c, yaml_node_t *map)
{
	struct netvm_config *cfg = c->cfg;

	if (is_null(map))
		return 0;
	if (want_mapping(c, map, "chains") || check_keys(c, map, "chains"))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		struct cfg_chain *a, *ch;

		if (cfg->nchains >= CFG_MAX_CHAINS)
			return fail(c, k, "too many chains (at most %d)", CFG_MAX_CHAINS);
		a = grow(cfg->chains, cfg->nchains, sizeof(*a));
		if (!a)
			return oom(c, k);
		cfg->chains = a;
		ch = &a[cfg->nchains++];
		memset(ch, 0, sizeof(*ch));
		ch->line = line_of(k);
		if (get_name(c, k, "chain name", ch->name))
			return -1;
		if (v->type != YAML_MAPPING_NODE) { /* a line: [a, b, c] */
			if (parse_hops(c, ch, v))
				return -1;
			continue;
		}
		if (check_keys(c, v, "chain"))
			return -1;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			const char *key = sval(node(c, q->key));
			if (strcmp(key, "hops") && strcmp(key, "links"))
				return fail(c, node(c, q->key),
					    "unknown key '%s' in chain '%s' (hops, links)", key,
					    ch->name);
		}
		yaml_node_t *hops = map_get(c, v, "hops");
		if (!hops)
			return fail(c, v, "chain '%s' has no 'hops'", ch->name);
		if (parse_hops(c, ch, hops) || parse_links(c, ch, map_get(c, v, "links")))
			return -1;
	}
	return 0;
}

/* ---- rules ------------------------------------------------------------ */

static int parse_match(struct ctx *c, yaml_node_t *n, struct netvm_match *m)
{
	char msg[256];

	netvm_match_any(m);
	if (is_scalar(n) && (!strcmp(sval(n), "any") || is_null(n)))
		return 0;
	if (want_mapping(c, n, "rule match") || check_keys(c, n, "rule match"))
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *f = sval(k);

		if (strcmp(f, "src") && strcmp(f, "dst") && strcmp(f, "proto") &&
		    strcmp(f, "sport") && strcmp(f, "dport"))
			return fail(
			    c, k, "rule: unknown match field '%s' (src, dst, proto, sport, dport)",
			    f);
		if (want_scalar(c, v, "a match value"))
			return -1;
		msg[0] = '\0';
		if (netvm_match_set(m, f, sval(v), msg, sizeof(msg)))
			return fail(c, v, "rule: %s", msg[0] ? msg : "bad match value");
	}
	return 0;
}

static int parse_rules(struct ctx *c, yaml_node_t *seq)
{
	struct netvm_config *cfg = c->cfg;

	if (is_null(seq))
		return 0;
	if (want_sequence(c, seq, "rules"))
		return -1;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *map = node(c, *it), *v;
		struct cfg_rule *a, *r;

		if (want_mapping(c, map, "a rule") || check_keys(c, map, "rule"))
			return -1;
		if (cfg->nrules >= CFG_MAX_RULES)
			return fail(c, map, "too many rules (at most %d)", CFG_MAX_RULES);
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			const char *key = sval(node(c, p->key));
			if (strcmp(key, "match") && strcmp(key, "chain"))
				return fail(c, node(c, p->key), "unknown key '%s' in rule", key);
		}
		a = grow(cfg->rules, cfg->nrules, sizeof(*a));
		if (!a)
			return oom(c, map);
		cfg->rules = a;
		r = &a[cfg->nrules];
		memset(r, 0, sizeof(*r));
		r->line = line_of(map);
		v = map_get(c, map, "match");
		if (v) {
			if (parse_match(c, v, &r->match))
				return -1;
		} else {
			netvm_match_any(&r->match);
		}
		v = map_get(c, map, "chain");
		if (!v)
			return fail(c, map, "rule has no 'chain'");
		if (want_scalar(c, v, "rule chain"))
			return -1;
		if (find_chain(cfg, sval(v)) < 0)
			return fail(c, v, "rule names unknown chain '%s'", sval(v));
		strcpy(r->chain, sval(v));
		cfg->nrules++;
	}
	return 0;
}

/* ---- control socket --------------------------------------------------- */

/*
 * A duration: digits with the unit "ms" or "s" (none: seconds); 0 means
 * never.  Stored in milliseconds, at most one day.
 */
/* A duration such as 5s or 500ms (none: seconds); 0 means never. */
static int get_duration(struct ctx *c, const yaml_node_t *n, const char *what, uint32_t *ms)
{
	if (want_scalar(c, n, what))
		return -1;
	if (netvm_parse_duration_ms(sval(n), ms) == 0)
		return 0;
	return fail(c, n,
		    "%s must be a duration such as 5s or 500ms (0: never, at most a day), "
		    "got '%s'",
		    what, sval(n));
}

static int parse_control(struct ctx *c, yaml_node_t *map, yaml_node_t **max_conn)
{
	struct cfg_control *ctl = &c->cfg->ctl;
	uint64_t u;

	if (is_null(map))
		return 0;
	if (want_mapping(c, map, "control") || check_keys(c, map, "control"))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = sval(k);

		if (!strcmp(key, "max_connections")) {
			if (get_u32(c, v, "control.max_connections", 1, 65536,
				    &ctl->max_connections))
				return -1;
			*max_conn = v;
		} else if (!strcmp(key, "admin_reserve")) {
			if (get_u32(c, v, "control.admin_reserve", 0, 1024, &ctl->admin_reserve))
				return -1;
		} else if (!strcmp(key, "idle_timeout")) {
			if (get_duration(c, v, "control.idle_timeout", &ctl->idle_timeout_ms))
				return -1;
		} else if (!strcmp(key, "request_timeout")) {
			if (get_duration(c, v, "control.request_timeout", &ctl->request_timeout_ms))
				return -1;
		} else if (!strcmp(key, "queue_limit")) {
			if (get_uint(c, v, "control.queue_limit", 1024, 1u << 30, true, &u))
				return -1;
			ctl->queue_limit = (uint32_t)u;
		} else {
			return fail(c, k,
				    "unknown key '%s' in control (max_connections, admin_reserve, "
				    "idle_timeout, request_timeout, queue_limit)",
				    key);
		}
	}
	return 0;
}

/* Who may change the configuration, and who may read the status. */
static int parse_access(struct ctx *c, yaml_node_t *group, yaml_node_t *status)
{
	struct netvm_config *cfg = c->cfg;

	if (group) {
		if (get_id(c, group, true, "admin_group", &cfg->admin_gid))
			return -1;
		if (strlen(sval(group)) >= sizeof(cfg->admin_group))
			return fail(c, group, "admin_group: name too long");
		strcpy(cfg->admin_group, sval(group));
	}
	if (status) {
		if (want_scalar(c, status, "status_access"))
			return -1;
		if (!strcmp(sval(status), "admin"))
			cfg->status_admin = true;
		else if (strcmp(sval(status), "any"))
			return fail(c, status, "status_access must be any or admin, got '%s'",
				    sval(status));
	}
	return 0;
}

/* ---- top level -------------------------------------------------------- */

enum top_key {
	K_SOCKET,
	K_POOL,
	K_RING,
	K_MAXNFS,
	K_CORES,
	K_PORTS,
	K_SERVICES,
	K_CHAINS,
	K_DEFCHAIN,
	K_RULES,
	K_BACKPRESSURE,
	K_SWIDLE,
	K_SOCKGROUP,
	K_STALL,
	K_MALFORMED,
	K_ADMINGROUP,
	K_STATUSACCESS,
	K_CONTROL,
	K_COUNT
};

static const char *const top_names[K_COUNT] = {
    "socket",	    "pool",	   "ring_size",	    "max_nfs",	   "cores",	    "ports",
    "services",	    "chains",	   "default_chain", "rules",	   "backpressure",  "switch_idle",
    "socket_group", "nf_stall_ms", "malformed",	    "admin_group", "status_access", "control",
};

static void set_defaults(struct netvm_config *cfg)
{
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", NETVM_DEFAULT_SOCKET);
	cfg->nbufs = 16384;
	cfg->buf_size = 2048;
	cfg->headroom = 128;
	cfg->ring_size = 1024;
	cfg->max_nfs = 16;
	cfg->hugepages = CFG_HUGE_AUTO;
	cfg->switch_core = -1;
	cfg->nf_stall_ms = 100;
	cfg->ctl.admin_reserve = 8;
	cfg->ctl.idle_timeout_ms = 60000;
	cfg->ctl.request_timeout_ms = 5000;
	cfg->ctl.queue_limit = 1000000;
	cfg->ctl.max_connections = cfg->max_nfs + CFG_CONTROL_SPARE; /* again for max_nfs */
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	struct netvm_config *cfg = c->cfg;
	yaml_node_t *val[K_COUNT] = {0};

	if (!root || is_null(root))
		return 0; /* empty document: all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "the configuration must be a mapping of keys, got %s",
			    kind(root));
	if (check_keys(c, root, "the configuration"))
		return -1;
	/* Collect first, then parse in dependency order. */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const char *key = sval(node(c, p->key));
		int i;

		for (i = 0; i < K_COUNT; i++)
			if (!strcmp(key, top_names[i]))
				break;
		if (i == K_COUNT)
			return fail(c, node(c, p->key), "unknown key '%s'", key);
		val[i] = node(c, p->value);
	}

	if (val[K_SOCKET] && get_path(c, val[K_SOCKET], "socket", false, cfg->socket))
		return -1;
	if (val[K_POOL] && parse_pool(c, val[K_POOL]))
		return -1;
	if (val[K_RING]) {
		uint64_t v;
		if (!is_scalar(val[K_RING]) || netvm_parse_u64(sval(val[K_RING]), false, &v) ||
		    v < 64 || v > 65536 || (v & (v - 1)))
			return fail(c, val[K_RING],
				    "ring_size must be a power of two between 64 and 65536, got %s",
				    is_scalar(val[K_RING]) ? sval(val[K_RING]) : kind(val[K_RING]));
		cfg->ring_size = (uint32_t)v;
	}
	if (val[K_MAXNFS] && get_u32(c, val[K_MAXNFS], "max_nfs", 1, 1024, &cfg->max_nfs))
		return -1;
	yaml_node_t *max_conn = NULL;
	if (val[K_CONTROL] && parse_control(c, val[K_CONTROL], &max_conn))
		return -1;
	if (!max_conn)
		cfg->ctl.max_connections = cfg->max_nfs + CFG_CONTROL_SPARE;
	else if (cfg->ctl.max_connections < cfg->max_nfs)
		return fail(c, max_conn,
			    "control.max_connections (%u) must be at least max_nfs (%u): every NF "
			    "holds a connection",
			    cfg->ctl.max_connections, cfg->max_nfs);
	if (parse_access(c, val[K_ADMINGROUP], val[K_STATUSACCESS]))
		return -1;
	if (val[K_CORES] && parse_cores(c, val[K_CORES]))
		return -1;
	if (val[K_PORTS] && parse_ports(c, val[K_PORTS]))
		return -1;
	if (val[K_SERVICES] && parse_services(c, val[K_SERVICES]))
		return -1;
	if (val[K_CHAINS] && parse_chains(c, val[K_CHAINS]))
		return -1;
	if (val[K_DEFCHAIN]) {
		yaml_node_t *v = val[K_DEFCHAIN];
		if (want_scalar(c, v, "default_chain"))
			return -1;
		/* "" (or nothing) = no default chain: packets go to their output port. */
		if (sval(v)[0] && !is_null(v)) {
			if (find_chain(cfg, sval(v)) < 0)
				return fail(c, v, "default_chain names unknown chain '%s'",
					    sval(v));
			strcpy(cfg->default_chain, sval(v));
		}
	} else if (find_chain(cfg, "default") >= 0) {
		strcpy(cfg->default_chain, "default");
	}
	if (val[K_RULES] && parse_rules(c, val[K_RULES]))
		return -1;
	if (val[K_BACKPRESSURE] &&
	    get_bool(c, val[K_BACKPRESSURE], "backpressure", &cfg->backpressure))
		return -1;
	if (val[K_SOCKGROUP] && get_id(c, val[K_SOCKGROUP], true, "socket_group", &cfg->socket_gid))
		return -1;
	if (val[K_STALL] && get_u32(c, val[K_STALL], "nf_stall_ms", 0, 3600000, &cfg->nf_stall_ms))
		return -1;
	if (val[K_MALFORMED]) {
		yaml_node_t *v = val[K_MALFORMED];
		if (want_scalar(c, v, "malformed"))
			return -1;
		if (!strcmp(sval(v), "pass"))
			cfg->malformed_pass = true;
		else if (strcmp(sval(v), "drop"))
			return fail(c, v, "malformed must be drop or pass, got '%s'", sval(v));
	}
	if (val[K_SWIDLE]) {
		yaml_node_t *v = val[K_SWIDLE];
		if (want_scalar(c, v, "switch_idle"))
			return -1;
		if (!strcmp(sval(v), "poll"))
			cfg->switch_poll = true;
		else if (!strcmp(sval(v), "nap"))
			cfg->switch_nap = true;
		else if (strcmp(sval(v), "adaptive"))
			return fail(c, v, "switch_idle must be adaptive, nap or poll, got '%s'",
				    sval(v));
	}
	return 0;
}

/* Line of a byte offset, for reader errors (bad UTF-8) which carry no mark. */
static int line_at(const char *text, size_t len, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static int parse_in(const char *name, const char *dir, const char *text, size_t len,
		    struct netvm_config *cfg, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct ctx c = {
	    .name = name, .dir = dir, .doc = &doc, .cfg = cfg, .err = err, .errlen = errlen};
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	if (errlen)
		err[0] = '\0';

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s:1: out of memory", name);
		goto fail;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int line = parser.error == YAML_READER_ERROR
			       ? line_at(text, len, parser.problem_offset)
			       : (int)parser.problem_mark.line + 1;
		if (parser.context)
			snprintf(err, errlen, "%s:%d: syntax error: %s (%s on line %d)", name, line,
				 parser.problem ? parser.problem : "invalid YAML", parser.context,
				 (int)parser.context_mark.line + 1);
		else
			snprintf(err, errlen, "%s:%d: syntax error: %s", name, line,
				 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		goto fail;
	}
	rc = parse_root(&c, yaml_document_get_root_node(&doc));
	if (!rc && yaml_document_get_root_node(&doc)) {
		/* A second document would be silently ignored: refuse it. */
		if (!yaml_parser_load(&parser, &extra)) {
			snprintf(err, errlen, "%s:%d: syntax error: %s", name,
				 (int)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "invalid YAML");
			rc = -1;
		} else {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			if (r)
				rc = fail(&c, r, "only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc)
		goto fail;
	return 0;
fail:
	netvm_config_free(cfg);
	return -1;
}

int netvm_config_parse(const char *name, const char *text, size_t len, struct netvm_config *cfg,
		       char *err, size_t errlen)
{
	return parse_in(name, NULL, text, len, cfg, err, errlen);
}

int netvm_config_load(const char *path, struct netvm_config *cfg, char *err, size_t errlen)
{
	char dir[PATH_MAX], *text = NULL;
	const char *slash;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *t;
			if (cap >= CFG_MAX_FILE) {
				snprintf(err, errlen, "%s: file is larger than %u bytes", path,
					 CFG_MAX_FILE);
				goto fail;
			}
			cap = cap ? cap * 2 : 4096;
			t = realloc(text, cap);
			if (!t) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			text = t;
		}
		size_t n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	f = NULL;

	/* Relative port files live next to the config; "x.yaml" needs no prefix. */
	slash = strrchr(path, '/');
	if (slash) {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		if (dl >= sizeof(dir)) {
			snprintf(err, errlen, "%s: path too long", path);
			goto fail;
		}
		memcpy(dir, path, dl);
		dir[dl] = '\0';
		if (dl == 1 && dir[0] == '/')
			dir[0] = '\0'; /* "/x.yaml": "" + "/" + "in.pcap" */
	}
	rc = parse_in(path, slash ? dir : NULL, text ? text : "", len, cfg, err, errlen);
	free(text);
	return rc;
fail:
	if (f)
		fclose(f);
	free(text);
	return -1;
}

void netvm_config_free(struct netvm_config *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->nchains && cfg->chains; i++) {
		free(cfg->chains[i].hops);
		free(cfg->chains[i].links);
	}
	for (int i = 0; i < cfg->nports && cfg->ports; i++)
		free(cfg->ports[i].conf);
	free(cfg->ports);
	free(cfg->services);
	free(cfg->chains);
	free(cfg->rules);
	memset(cfg, 0, sizeof(*cfg));
}
