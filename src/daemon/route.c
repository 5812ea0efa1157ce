/* SPDX-License-Identifier: BSD-3-Clause */
/* Routing tables: chains, flow rules and replicas, built by the manager and
 * published to the switch without locks (copy, swap, wait a round, free). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netvmd.h"

void route_free(struct route_table *rt)
{
	if (!rt)
		return;
	for (uint16_t i = 0; i < rt->nchains; i++) {
		free(rt->chains[i].hops);
		free(rt->chains[i].next);
		free(rt->chains[i].links);
	}
	for (uint16_t i = 0; i < rt->nservices; i++)
		free(rt->replicas[i].slots);
	free(rt->chains);
	free(rt->rules);
	free(rt->replicas);
	free(rt);
}

int route_service_find(const struct netvmd *d, const char *name)
{
	for (int i = 0; i < d->cfg.nservices; i++)
		if (strcmp(d->cfg.services[i].name, name) == 0)
			return i;
	return -1;
}

int route_chain_find(const struct route_table *rt, const char *name)
{
	for (uint16_t i = 0; i < rt->nchains; i++)
		if (strcmp(rt->chains[i].name, name) == 0)
			return i;
	return -1;
}

static struct route_table *route_alloc(uint16_t nservices, uint32_t nslots)
{
	struct route_table *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->default_chain = -1;
	rt->nservices = nservices;
	rt->replicas = calloc(nservices ? nservices : 1, sizeof(*rt->replicas));
	if (!rt->replicas)
		goto fail;
	for (uint16_t i = 0; i < nservices; i++)
		if (!(rt->replicas[i].slots = calloc(nslots, sizeof(uint16_t))))
			goto fail;
	return rt;
fail:
	route_free(rt);
	return NULL;
}

struct route_table *route_from_config(const struct netvmd *d, char *err, size_t errlen)
{
	const struct netvm_config *cfg = &d->cfg;
	struct route_table *rt = route_alloc((uint16_t)cfg->nservices, d->nslots);

	if (!rt)
		goto nomem;
	for (int i = 0; i < cfg->nchains; i++) {
		const struct cfg_chain *ch = &cfg->chains[i];
		const char *hops[ch->nhops + 1];
		struct route_link links[ch->nlinks + 1];
		char msg[384];
		for (int h = 0; h < ch->nhops; h++)
			hops[h] = ch->hops[h];
		for (int l = 0; l < ch->nlinks; l++)
			links[l] = (struct route_link){ch->links[l].from, ch->links[l].out,
						       ch->links[l].to};
		if (route_chain_set(d, rt, ch->name, hops, (uint16_t)ch->nhops, links,
				    (uint16_t)ch->nlinks, msg, sizeof(msg)) < 0) {
			/* The configuration's file and line: links are checked here. */
			snprintf(err, errlen, "%s:%d: %s", cfg->path[0] ? cfg->path : "config",
				 ch->line, msg);
			goto fail;
		}
	}
	if (cfg->default_chain[0])
		rt->default_chain = route_chain_find(rt, cfg->default_chain);
	rt->rules = calloc(cfg->nrules ? (size_t)cfg->nrules : 1, sizeof(*rt->rules));
	if (!rt->rules)
		goto nomem;
	for (int i = 0; i < cfg->nrules; i++) {
		struct route_rule *r = &rt->rules[rt->nrules++];
		r->id = (uint32_t)i + 1;
		r->match = cfg->rules[i].match;
		r->chain = (uint16_t)route_chain_find(rt, cfg->rules[i].chain);
	}
	return rt;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	route_free(rt);
	return NULL;
}

struct route_table *route_clone(const struct route_table *base)
{
	struct route_table *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->default_chain = base->default_chain;
	rt->chains = calloc(base->nchains ? base->nchains : 1, sizeof(*rt->chains));
	rt->rules = calloc(base->nrules + 1, sizeof(*rt->rules));
	rt->replicas = calloc(base->nservices ? base->nservices : 1, sizeof(*rt->replicas));
	if (!rt->chains || !rt->rules || !rt->replicas)
		goto fail;
	for (uint16_t i = 0; i < base->nchains; i++) {
		const struct route_chain *c = &base->chains[i];
		struct route_chain *n = &rt->chains[i];
		*n = *c;
		n->hops = malloc((c->nhops + 1u) * sizeof(uint16_t));
		n->next = malloc((c->nhops + 1u) * NETVM_MAX_OUTPUTS * sizeof(uint16_t));
		n->links = malloc((c->nlinks + 1u) * sizeof(*c->links));
		rt->nchains = i + 1;
		if (!n->hops || !n->next || !n->links)
			goto fail;
		memcpy(n->hops, c->hops, c->nhops * sizeof(uint16_t));
		memcpy(n->next, c->next, c->nhops * NETVM_MAX_OUTPUTS * sizeof(uint16_t));
		memcpy(n->links, c->links, c->nlinks * sizeof(*c->links));
	}
	for (uint32_t i = 0; i < base->nrules; i++) {
		const struct route_rule *r = &base->rules[i];
		rt->rules[i].id = r->id;
		rt->rules[i].match = r->match;
		rt->rules[i].chain = r->chain;
		atomic_init(&rt->rules[i].hits, atomic_load(&r->hits));
	}
	rt->nrules = base->nrules;
	/* Replica lists start empty: route_set_replicas() fills them from the
	 * slots before the table is published. */
	rt->nservices = base->nservices;
	return rt;
fail:
	route_free(rt);
	return NULL;
}

int route_set_replicas(const struct netvmd *d, struct route_table *rt)
{
	for (uint16_t s = 0; s < rt->nservices; s++) {
		uint16_t *slots =
		    realloc(rt->replicas[s].slots, (d->nslots + 1) * sizeof(uint16_t));
		if (!slots)
			return -ENOMEM;
		rt->replicas[s].slots = slots;
		rt->replicas[s].n = 0;
	}
	/* Slot order keeps the flow -> replica mapping stable while the set
	 * of replicas does not change. */
	for (uint32_t i = 0; i < d->nslots; i++) {
		const struct nf_slot *sl = &d->slots[i];
		if (atomic_load(&sl->state) != SLOT_RUNNING || sl->service >= rt->nservices)
			continue;
		struct route_replicas *r = &rt->replicas[sl->service];
		r->slots[r->n++] = (uint16_t)i;
	}
	return 0;
}

void switch_quiesce(struct netvmd *d)
{
	uint64_t start = atomic_load(&d->epoch);
	struct timespec ts = {0, 20000};

	/* Two increments: the round in progress now may have read old state. */
	for (int i = 0; i < 100000 && atomic_load(&d->epoch) < start + 2; i++) {
		if (atomic_load(&d->stop))
			return;
		switch_kick(d); /* it may be asleep: make it finish a round */
		nanosleep(&ts, NULL);
	}
}

void route_publish(struct netvmd *d, struct route_table *rt)
{
	struct route_table *old = atomic_exchange(&d->rt, rt);

	d->mgr.rt = rt;
	switch_quiesce(d);
	route_free(old);
}
