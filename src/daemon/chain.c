/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Chains as graphs: a chain's hops are services, and each hop's outputs
 * (an NF picks one per packet, netvm_pkt_output()) lead to another hop of
 * the chain, out of the platform, to a port, or to a drop.  By default a
 * chain is a line: output 0 of a hop goes to the next hop, the last one's
 * out; other outputs go where the links say, and are dropped (no_route)
 * where nothing is linked.  A cycle is refused: a packet must leave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netvmd.h"

/* The hop of @c that runs service @name: its index, -1 if none, -2 if the
 * service is at several hops (a link cannot tell which). */
static int hop_of(const struct netvmd *d, const uint16_t *hops, uint16_t nhops, const char *name)
{
	int svc = route_service_find(d, name), found = -1;

	for (uint16_t h = 0; svc >= 0 && h < nhops; h++)
		if (hops[h] == svc)
			found = found < 0 ? h : -2;
	return found;
}

static int port_find(const struct netvmd *d, const char *name)
{
	for (uint16_t p = 0; p < d->nports; p++)
		if (!strcmp(d->ports[p].name, name))
			return p;
	return -1;
}

/* A link's target, as next[] holds it; -ENOENT/-EINVAL with the message. */
static int target_of(const struct netvmd *d, const char *chain, const uint16_t *hops,
		     uint16_t nhops, const char *to, char *err, size_t errlen)
{
	int h;

	if (!strcmp(to, "out"))
		return NEXT_OUT;
	if (!strcmp(to, "drop"))
		return NEXT_DROP;
	if (!strncmp(to, "port:", 5)) {
		int p = port_find(d, to + 5);
		if (p < 0)
			snprintf(err, errlen, "chain '%s': unknown port '%s'", chain, to + 5);
		return p < 0 ? -ENOENT : NEXT_PORT | p;
	}
	h = hop_of(d, hops, nhops, to);
	if (h == -1)
		snprintf(err, errlen,
			 "chain '%s': '%s' is not a hop of the chain (use a hop's service, out, "
			 "drop or port:NAME)",
			 chain, to);
	else if (h == -2)
		snprintf(err, errlen, "chain '%s': service '%s' is at several hops", chain, to);
	return h == -1 ? -ENOENT : h == -2 ? -EINVAL : h;
}

/* A cycle through @h, depth first: 0 none, else -EINVAL with the path. */
static int find_cycle(const struct netvmd *d, const uint16_t *hops, uint16_t nhops,
		      const uint16_t *next, uint8_t *mark, uint16_t h, char *path, size_t len)
{
	mark[h] = 1; /* on the current path */
	for (unsigned k = 0; k < NETVM_MAX_OUTPUTS; k++) {
		uint16_t t = next[h * NETVM_MAX_OUTPUTS + k];
		if (t >= nhops || mark[t] == 2)
			continue;
		if (mark[t] == 1 || find_cycle(d, hops, nhops, next, mark, t, path, len)) {
			size_t used = strlen(path);
			snprintf(path + used, len - used, "%s%s", used ? " <- " : "",
				 d->cfg.services[hops[t]].name);
			if (mark[t] == 1 && used == 0) /* close the loop in the message */
				snprintf(path + strlen(path), len - strlen(path), " <- %s",
					 d->cfg.services[hops[h]].name);
			return -EINVAL;
		}
	}
	mark[h] = 2; /* done: no cycle through it */
	return 0;
}

int route_chain_set(const struct netvmd *d, struct route_table *rt, const char *name,
		    const char *const *hops, uint16_t nhops, const struct route_link *links,
		    uint16_t nlinks, char *err, size_t errlen)
{
	uint16_t *ids = calloc(nhops ? nhops : 1, sizeof(*ids));
	uint16_t *next = calloc((size_t)(nhops ? nhops : 1) * NETVM_MAX_OUTPUTS, sizeof(*next));
	struct route_chain_link *lk = calloc(nlinks ? nlinks : 1, sizeof(*lk));
	uint8_t *mark = calloc(nhops ? nhops : 1, 1);
	int id = -ENOMEM;

	if (!ids || !next || !lk || !mark)
		goto fail;
	for (uint16_t i = 0; i < nhops; i++) {
		int s = route_service_find(d, hops[i]);
		if (s < 0) {
			snprintf(err, errlen, "chain '%s': unknown service '%s'", name, hops[i]);
			id = -ENOENT;
			goto fail;
		}
		ids[i] = (uint16_t)s;
	}
	/* A line by default; outputs above 0 lead nowhere unless linked. */
	for (uint16_t h = 0; h < nhops; h++) {
		next[h * NETVM_MAX_OUTPUTS] = h + 1 < nhops ? h + 1 : NEXT_OUT;
		for (unsigned k = 1; k < NETVM_MAX_OUTPUTS; k++)
			next[h * NETVM_MAX_OUTPUTS + k] = NEXT_NONE;
	}
	for (uint16_t i = 0; i < nlinks; i++) {
		int from = hop_of(d, ids, nhops, links[i].from), to;
		if (from < 0) {
			snprintf(err, errlen,
				 from == -1
				     ? "chain '%s': link from '%s', which is not a hop of the "
				       "chain"
				     : "chain '%s': service '%s' is at several hops",
				 name, links[i].from);
			id = from == -1 ? -ENOENT : -EINVAL;
			goto fail;
		}
		if (links[i].out >= NETVM_MAX_OUTPUTS) {
			snprintf(err, errlen, "chain '%s': output %u of '%s' (outputs are 0..%d)",
				 name, links[i].out, links[i].from, NETVM_MAX_OUTPUTS - 1);
			id = -EINVAL;
			goto fail;
		}
		if ((to = target_of(d, name, ids, nhops, links[i].to, err, errlen)) < 0) {
			id = to;
			goto fail;
		}
		next[from * NETVM_MAX_OUTPUTS + links[i].out] = (uint16_t)to;
		lk[i] =
		    (struct route_chain_link){(uint16_t)from, (uint16_t)links[i].out, (uint16_t)to};
	}
	for (uint16_t h = 0; h < nhops; h++) {
		char path[512] = "";
		if (!mark[h] && find_cycle(d, ids, nhops, next, mark, h, path, sizeof(path))) {
			snprintf(err, errlen, "chain '%s': the links make a cycle (%s)", name,
				 path);
			id = -EINVAL;
			goto fail;
		}
	}
	id = route_chain_find(rt, name);
	if (id < 0) {
		struct route_chain *c;
		if (rt->nchains >= BUF_NO_CHAIN - 1) {
			snprintf(err, errlen, "too many chains");
			id = -ENOSPC;
			goto fail;
		}
		c = realloc(rt->chains, (rt->nchains + 1u) * sizeof(*c));
		if (!c) {
			id = -ENOMEM;
			goto fail;
		}
		rt->chains = c;
		id = rt->nchains++;
		memset(&c[id], 0, sizeof(c[id]));
		snprintf(c[id].name, sizeof(c[id].name), "%s", name);
	}
	/* Chain ids never change, so packets in flight keep their chain. */
	struct route_chain *c = &rt->chains[id];
	free(c->hops);
	free(c->next);
	free(c->links);
	*c = (struct route_chain){
	    .nhops = nhops, .hops = ids, .next = next, .nlinks = nlinks, .links = lk};
	snprintf(c->name, sizeof(c->name), "%s", name);
	free(mark);
	return id;
fail:
	if (id == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(ids);
	free(next);
	free(lk);
	free(mark);
	return id;
}

void route_target_name(const struct netvmd *d, const struct route_chain *c, uint16_t to, char *buf,
		       size_t len)
{
	if (to == NEXT_OUT)
		snprintf(buf, len, "out");
	else if (to == NEXT_DROP)
		snprintf(buf, len, "drop");
	else if (to & NEXT_PORT && (to & ~NEXT_PORT) < d->nports)
		snprintf(buf, len, "port:%s", d->ports[to & ~NEXT_PORT].name);
	else if (to < c->nhops)
		snprintf(buf, len, "%s", d->cfg.services[c->hops[to]].name);
	else
		snprintf(buf, len, "none");
}
