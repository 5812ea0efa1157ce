/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status reply (docs/control-protocol.md, "status"): ports, domains,
 * services, NFs, chains, rules, drops by cause, the switch's and the
 * control socket's counters.  Counters the switch writes are read relaxed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "netvmd.h"

static const char *const state_names[] = {"free", "running", "leaving", "gone"};

static json_t *status_ports(struct netvmd *d)
{
	json_t *a = json_array();

	for (uint16_t i = 0; i < d->nports; i++) {
		struct netvm_port *p = &d->ports[i];
		json_array_append_new(
		    a,
		    json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:b}",
			      "id", i, "name", p->name, "type", p->ops->type, "output",
			      d->ports[p->out_id].name, "rx", (json_int_t)CTR(p->stats.rx), "tx",
			      (json_int_t)CTR(p->stats.tx), "rx_bytes",
			      (json_int_t)CTR(p->stats.rx_bytes), "tx_bytes",
			      (json_int_t)CTR(p->stats.tx_bytes), "rx_nobuf",
			      (json_int_t)CTR(p->stats.rx_nobuf), "rx_too_big",
			      (json_int_t)CTR(p->stats.rx_too_big), "tx_error",
			      (json_int_t)CTR(p->stats.tx_error), "rx_done", (int)CTR(p->rx_done),
			      "rx_paused", (int)atomic_load(&p->rx_paused)));
		json_t *o = json_array_get(a, i);
		json_object_set_new(o, "held", json_integer((json_int_t)CTR(p->stats.held)));
		json_object_set_new(o, "rx_runt", json_integer((json_int_t)CTR(p->stats.rx_runt)));
		json_object_set_new(o, "rx_dropped",
				    json_integer((json_int_t)CTR(p->stats.rx_dropped)));
		json_object_set_new(o, "info", json_string(p->info));
		if (CTR(p->stats.lat_samples))
			json_object_set_new(
			    json_array_get(a, i), "latency",
			    json_pack("{s:I, s:I, s:I, s:I}", "samples",
				      (json_int_t)CTR(p->stats.lat_samples), "p50_ns",
				      (json_int_t)CTR(p->stats.lat_p50_ns), "p99_ns",
				      (json_int_t)CTR(p->stats.lat_p99_ns), "p999_ns",
				      (json_int_t)CTR(p->stats.lat_p999_ns)));
	}
	return a;
}

static json_t *status_nfs(struct netvmd *d, json_t *services)
{
	json_t *a = json_array();

	for (uint32_t s = 0; s < d->nslots; s++) {
		struct nf_slot *sl = &d->slots[s];
		int st = atomic_load(&sl->state);
		if (st == SLOT_FREE)
			continue;
		json_array_append_new(
		    a, json_pack("{s:i, s:s, s:i, s:i, s:b, s:s, s:I, s:I, s:I, s:I}", "instance",
				 sl->instance, "service", d->cfg.services[sl->service].name, "slot",
				 (int)s, "pid", (int)sl->pid, "vm", (int)sl->guest, "state",
				 st == SLOT_RUNNING && atomic_load(&sl->stalled) ? "stalled"
										 : state_names[st],
				 "rx", (json_int_t)CTR(sl->stats.rx), "tx",
				 (json_int_t)CTR(sl->stats.tx), "dropped",
				 (json_int_t)CTR(sl->stats.dropped), "bad_desc",
				 (json_int_t)CTR(sl->stats.bad_desc)));
		json_t *o = json_array_get(a, json_array_size(a) - 1), *ctr = json_object();
		/* Free buffers waiting in its stock (the switch's count): the
		 * NF's, not in the pool, not lost. */
		uint32_t stock = CTR(sl->stock.local) -
				 atomic_load_explicit(&sl->stock.shm->cons, memory_order_relaxed);
		json_object_set_new(
		    o, "stock",
		    json_integer(sl->stock_target && stock <= sl->stock.size ? stock : 0));
		/* Its counters: names kept here, values written by the NF. */
		const uint64_t *v = netvm_region_counters(domain_region(d, sl->domain), s);
		for (uint32_t i = 0; i < sl->ncounters && i < NETVM_NF_COUNTERS; i++)
			json_object_set_new(ctr, sl->counter_names[i],
					    json_integer((json_int_t)(CTR(v[i]) & INT64_MAX)));
		json_object_set_new(o, "counters", ctr);
		json_object_set_new(o, "domain",
				    json_string(sl->domain ? d->dom[sl->domain].name : ""));
		if (st == SLOT_RUNNING)
			json_array_append_new(
			    json_object_get(json_array_get(services, sl->service), "instances"),
			    json_integer(sl->instance));
	}
	return a;
}

static json_t *status_chains(const struct netvmd *d, const struct route_table *rt)
{
	json_t *a = json_array();

	for (uint16_t i = 0; i < rt->nchains; i++) {
		const struct route_chain *c = &rt->chains[i];
		json_t *hops = json_array(), *links = json_object();
		char from[NETVM_NAME_MAX + 8], to[NETVM_NAME_MAX + 8];
		for (uint16_t h = 0; h < c->nhops; h++)
			json_array_append_new(hops, json_string(d->cfg.services[c->hops[h]].name));
		/* The links as they were set, "HOP.OUTPUT": "TARGET". */
		for (uint16_t l = 0; l < c->nlinks; l++) {
			snprintf(from, sizeof(from), "%s.%u",
				 d->cfg.services[c->hops[c->links[l].from]].name, c->links[l].out);
			route_target_name(d, c, c->links[l].to, to, sizeof(to));
			json_object_set_new(links, from, json_string(to));
		}
		json_array_append_new(a, json_pack("{s:i, s:s, s:o, s:o}", "id", i, "name", c->name,
						   "hops", hops, "links", links));
	}
	return a;
}

static json_t *status_rules(const struct route_table *rt)
{
	json_t *a = json_array();
	char text[256];

	for (uint32_t i = 0; i < rt->nrules; i++) {
		const struct route_rule *r = &rt->rules[i];
		netvm_match_format(&r->match, text, sizeof(text));
		json_array_append_new(a,
				      json_pack("{s:i, s:s, s:s, s:I}", "id", (int)r->id, "match",
						text, "chain", rt->chains[r->chain].name, "hits",
						(json_int_t)atomic_load(&r->hits)));
	}
	return a;
}

static json_t *status_drops(struct netvmd *d)
{
	json_t *o = json_object();

#define SW_DROP_JSON(name, help)                                                                   \
	json_object_set_new(o, #name, json_integer((json_int_t)CTR(d->sw.drops.name)));
	SW_DROP_CAUSES(SW_DROP_JSON)
#undef SW_DROP_JSON
	return o;
}

json_t *status_json(struct netvmd *d)
{
	const struct route_table *rt = d->mgr.rt;
	json_t *services = json_array();

	for (int i = 0; i < d->cfg.nservices; i++)
		json_array_append_new(services, json_pack("{s:i, s:s, s:[]}", "id", i, "name",
							  d->cfg.services[i].name, "instances"));
	json_t *nfs = status_nfs(d, services);
	json_t *domains = json_array();
	for (uint16_t k = 1; k < d->ndomains; k++)
		json_array_append_new(domains,
				      json_pack("{s:s, s:I, s:I, s:I}", "name", d->dom[k].name,
						"buffers", (json_int_t)d->dom[k].pool.n, "free",
						(json_int_t)CTR(d->dom[k].pool.nfree), "region_id",
						(json_int_t)d->dom[k].region.layout.region_id));
	json_t *sw = json_pack("{s:I, s:I}", "naps", (json_int_t)CTR(d->sw.naps), "sleeps",
			       (json_int_t)CTR(d->sw.sleeps));
	json_t *ctl = json_pack(
	    "{s:i, s:i, s:i, s:I, s:I, s:I}", "connections", (int)d->mgr.ctl.connections,
	    "max_connections", (int)d->cfg.ctl.max_connections, "admin_reserve",
	    (int)d->cfg.ctl.admin_reserve, "refused", (json_int_t)d->mgr.ctl.refused, "timed_out",
	    (json_int_t)d->mgr.ctl.timed_out, "overflowed", (json_int_t)d->mgr.ctl.overflowed);
	return json_pack(
	    "{s:b, s:{s:I, s:I, s:b, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "ok",
	    1, "pool", "buffers", (json_int_t)d->pool.n, "free", (json_int_t)CTR(d->pool.nfree),
	    "hugepages", (int)d->region.hugepages, "region_id",
	    (json_int_t)d->region.layout.region_id, "ports", status_ports(d), "domains", domains,
	    "services", services, "nfs", nfs, "chains", status_chains(d, rt), "default_chain",
	    rt->default_chain < 0 ? json_null() : json_string(rt->chains[rt->default_chain].name),
	    "rules", status_rules(rt), "drops", status_drops(d), "switch", sw, "control", ctl);
}
