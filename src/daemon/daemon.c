/* SPDX-License-Identifier: BSD-3-Clause */
/* Bringing a daemon's data plane up from its configuration, and down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "netvmd.h"

static int open_ports(struct netvmd *d)
{
	d->nports = (uint16_t)d->cfg.nports;
	d->ports = calloc(d->nports ? d->nports : 1, sizeof(*d->ports));
	d->sw.port_stage = calloc(d->nports ? d->nports : 1, sizeof(*d->sw.port_stage));
	if (!d->ports || !d->sw.port_stage)
		return -ENOMEM;
	for (uint16_t i = 0; i < d->nports; i++) {
		const struct cfg_port *c = &d->cfg.ports[i];
		int ret =
		    port_open(&d->ports[i], i, c->name, port_ops_find(c->type), c->conf, &d->pool);
		if (ret < 0) {
			while (i-- > 0)
				port_close(&d->ports[i]);
			d->nports = 0;
			return ret;
		}
	}
	/* Chains end at the port's output (itself unless configured). */
	for (uint16_t i = 0; i < d->nports; i++) {
		d->ports[i].out_id = i;
		atomic_store(&d->ports[i].rx_paused, d->cfg.ports[i].paused);
		for (uint16_t j = 0; j < d->nports; j++)
			if (!strcmp(d->cfg.ports[i].output, d->ports[j].name))
				d->ports[i].out_id = j;
	}
	return 0;
}

/* A region laid out from the configuration, with @nbufs buffers, for domain
 * @dom; every domain's region has the same rings and directory. */
static int new_region(const struct netvm_config *c, struct netvm_region *r, uint32_t nbufs,
		      uint16_t dom)
{
	const char *svc[c->nservices + 1], *port[c->nports + 1];
	struct netvm_region_params p = {
	    .nbufs = nbufs,
	    .buf_size = c->buf_size,
	    .headroom = c->headroom,
	    .ring_size = c->ring_size,
	    .nf_slots = c->max_nfs,
	    .n_services = (uint32_t)c->nservices,
	    .n_ports = (uint32_t)c->nports,
	    .domain = dom,
	    .no_hugepages = c->hugepages == CFG_HUGE_NO,
	};

	for (int i = 0; i < c->nservices; i++)
		svc[i] = c->services[i].name;
	for (int i = 0; i < c->nports; i++)
		port[i] = c->ports[i].name;
	return netvm_region_create(r, &p, svc, port);
}

static int create_region(struct netvmd *d)
{
	const struct netvm_config *c = &d->cfg;
	int ret = new_region(c, &d->region, c->nbufs, 0);

	if (ret < 0)
		return ret;
	if (c->hugepages == CFG_HUGE_YES && !d->region.hugepages) {
		LOG_ERR("netvmd", "pool.hugepages is 'yes' but no huge pages could be had");
		netvm_region_unmap(&d->region);
		return -ENOMEM;
	}
	return 0;
}

/* One region per named domain, sized for what a few NFs can hold at once. */
static int create_domains(struct netvmd *d)
{
	const struct netvm_config *c = &d->cfg;

	d->svc_domain = calloc((size_t)c->nservices + 1, sizeof(*d->svc_domain));
	d->dom = calloc((size_t)c->nservices + 1, sizeof(*d->dom));
	if (!d->svc_domain || !d->dom)
		return -ENOMEM;
	d->ndomains = 1;
	for (int i = 0; i < c->nservices; i++) {
		const char *name = c->services[i].domain;
		uint16_t k;
		if (!name[0])
			continue;
		for (k = 1; k < d->ndomains && strcmp(d->dom[k].name, name); k++)
			;
		d->svc_domain[i] = k;
		if (k < d->ndomains)
			continue;
		struct domain *dm = &d->dom[d->ndomains++];
		uint32_t nbufs = 4 * c->ring_size < 1024 ? 1024 : 4 * c->ring_size;
		snprintf(dm->name, sizeof(dm->name), "%s", name);
		int ret = new_region(c, &dm->region, nbufs, k);
		if (ret < 0)
			return ret;
		if (netvm_pool_init(&dm->pool, &dm->region) < 0)
			return -ENOMEM;
		LOG_INFO("netvmd", "domain '%s': its own region of %u buffers", name, nbufs);
	}
	return 0;
}

int netvmd_open(struct netvmd *d)
{
	char err[512];
	int ret;

	if ((ret = create_region(d)) < 0)
		return ret;
	if (netvm_pool_init(&d->pool, &d->region) < 0) {
		LOG_ERR("netvmd", "out of memory for the pool");
		return -ENOMEM;
	}
	if ((ret = create_domains(d)) < 0)
		return ret;
	d->nslots = d->cfg.max_nfs;
	d->slots = calloc(d->nslots, sizeof(*d->slots));
	if (!d->slots || switch_init(d) < 0)
		return -ENOMEM;
	if ((ret = open_ports(d)) < 0)
		return ret;
	d->mgr.rt = route_from_config(d, err, sizeof(err));
	if (!d->mgr.rt) {
		LOG_ERR("netvmd", "%s", err);
		return -EINVAL;
	}
	d->mgr.next_rule_id = d->mgr.rt->nrules; /* configured rules are 1..n */
	atomic_store(&d->rt, d->mgr.rt);
	return 0;
}

void netvmd_close(struct netvmd *d)
{
	route_free(d->mgr.rt);
	d->mgr.rt = NULL;
	for (uint16_t i = 0; i < d->nports; i++)
		port_close(&d->ports[i]);
	free(d->ports);
	free(d->sw.port_stage);
	switch_fini(d);
	free(d->slots);
	netvm_pool_fini(&d->pool);
	if (d->region.seg)
		netvm_region_unmap(&d->region);
	for (uint16_t k = 1; d->dom && k < d->ndomains; k++) {
		netvm_pool_fini(&d->dom[k].pool);
		if (d->dom[k].region.seg)
			netvm_region_unmap(&d->dom[k].region);
	}
	free(d->dom);
	free(d->svc_domain);
	d->dom = NULL;
	d->svc_domain = NULL;
	netvm_config_free(&d->cfg);
	d->ports = NULL;
	d->sw.port_stage = NULL;
	d->slots = NULL;
	d->nports = 0;
	d->nslots = 0;
}
