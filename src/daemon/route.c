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
	for (uint16_t i = 0; i < rt->nchains; i++)
		free(rt->chains[i].hops);
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

int route_chain_set(const struct netvmd *d, struct route_table *rt, const char *name,
		    const char *const *hops, uint16_t nhops, char *err, size_t errlen)
{
	uint16_t *ids = calloc(nhops ? nhops : 1, sizeof(*ids));
	int id;

	if (!ids)
		return -ENOMEM;
	for (uint16_t i = 0; i < nhops; i++) {
		int s = route_service_find(d, hops[i]);
		if (s < 0) {
			snprintf(err, errlen, "chain '%s': unknown service '%s'", name, hops[i]);
			free(ids);
			return -ENOENT;
		}
		ids[i] = (uint16_t)s;
	}
	id = route_chain_find(rt, name);
	if (id < 0) {
		struct route_chain *c;
		if (rt->nchains >= BUF_NO_CHAIN - 1) {
			free(ids);
			snprintf(err, errlen, "too many chains");
			return -ENOSPC;
		}
		c = realloc(rt->chains, (rt->nchains + 1u) * sizeof(*c));
		if (!c) {
			free(ids);
			return -ENOMEM;
		}
		rt->chains = c;
		id = rt->nchains++;
		memset(&c[id], 0, sizeof(c[id]));
		snprintf(c[id].name, sizeof(c[id].name), "%s", name);
	}
	/* Chain ids never change, so packets in flight keep their chain. */
	free(rt->chains[id].hops);
	rt->chains[id].hops = ids;
	rt->chains[id].nhops = nhops;
	return id;
}

struct route_table *route_from_config(const struct netvmd *d, char *err, size_t errlen)
{
	const struct netvm_config *cfg = &d->cfg;
	struct route_table *rt = route_alloc((uint16_t)cfg->nservices, d->nslots);

	if (!rt)
		goto nomem;
	for (int i = 0; i < cfg->nchains; i++) {
		const char *hops[cfg->chains[i].nhops + 1];
		for (int h = 0; h < cfg->chains[i].nhops; h++)
			hops[h] = cfg->chains[i].hops[h];
		if (route_chain_set(d, rt, cfg->chains[i].name, hops,
				    (uint16_t)cfg->chains[i].nhops, err, errlen) < 0)
			goto fail;
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
		rt->chains[i] = *c;
		rt->chains[i].hops = malloc((c->nhops + 1u) * sizeof(uint16_t));
		rt->nchains = i + 1;
		if (!rt->chains[i].hops)
			goto fail;
		memcpy(rt->chains[i].hops, c->hops, c->nhops * sizeof(uint16_t));
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
