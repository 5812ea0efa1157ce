/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The manager: the control socket, NF registration and lifecycle, and the
 * run-time changes to chains and rules (docs/control-protocol.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/log.h"
#include "netvmd.h"

#define MAX_CLIENTS 256

struct client {
	struct netvm_ctl_conn conn;
	int slot;      /* NF slot this connection registered, or -1 */
	int bound_svc; /* a VM's channel: the only service it may attach as (vm_bind), or -1 */
	pid_t pid;
	uid_t uid; /* of the peer, from SO_PEERCRED */
	gid_t gid;
	bool admin; /* may change the configuration (peer_is_admin) */
};

/* Is @gid among the supplementary groups the peer on @fd had when it
 * connected?  (SO_PEERGROUPS, Linux 4.13.) */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t some[64], *groups = some;
	socklen_t len = sizeof(some);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: len is now what they need */
		if (errno != ERANGE || !(groups = malloc(len)))
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			goto out;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == gid;
out:
	if (groups != some)
		free(groups);
	return found;
}

/* May the peer on @fd change the configuration?  Root, netvmd's own user,
 * and members of admin_group (primary or supplementary group) may. */
static bool peer_is_admin(const struct netvmd *d, int fd, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	if (!d->cfg.admin_group[0])
		return false;
	return gid == d->cfg.admin_gid || peer_in_group(fd, d->cfg.admin_gid);
}

/* May this peer attach as service @svc?  The configuration lists users and
 * groups; without a list, root and the daemon's own user may. */
static bool authorized(const struct netvmd *d, const struct client *c, int svc)
{
	const struct cfg_service *s = &d->cfg.services[svc];

	if (!s->nusers && !s->ngroups)
		return c->uid == 0 || c->uid == geteuid();
	for (int i = 0; i < s->nusers; i++)
		if (s->users[i] == c->uid)
			return true;
	for (int i = 0; i < s->ngroups; i++)
		if (s->groups[i] == c->gid)
			return true;
	return false;
}

static const char *const state_names[] = {"free", "running", "leaving", "gone"};

static json_t *error_reply(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *error_reply(int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg, "errno", err);
}

/* Publish @rt, an edited route_clone() of d->rt_mgr, with the current replicas. */
static void rt_edit_commit(struct netvmd *d, struct route_table *rt)
{
	route_set_replicas(d, rt);
	route_publish(d, rt);
}

static int refresh_replicas(struct netvmd *d)
{
	struct route_table *rt = route_clone(d->rt_mgr);
	if (!rt)
		return -ENOMEM;
	rt_edit_commit(d, rt);
	return 0;
}

int slot_open(struct netvmd *d, uint32_t s, uint16_t svc, pid_t pid, int wake_fd)
{
	struct nf_slot *sl = &d->slots[s];
	struct netvm_region *r = domain_region(d, d->svc_domain[svc]);
	struct netvm_ring_shm *rx = netvm_region_ring(r, 2 * s);
	struct netvm_ring_shm *tx = netvm_region_ring(r, 2 * s + 1);

	/* The domain's NFs may have scribbled on the header and directory: the
	 * newcomer maps what we wrote.  Fresh rings: the last NF in this slot
	 * may have left them anywhere (and one of its peers may still be
	 * writing them, so check what the attach reads back). */
	netvm_region_restore(r);
	netvm_ring_shm_init(rx, d->cfg.ring_size);
	netvm_ring_shm_init(tx, d->cfg.ring_size);
	if (netvm_ring_attach(&sl->to_nf, rx, d->cfg.ring_size, 1) < 0 ||
	    netvm_ring_attach(&sl->from_nf, tx, d->cfg.ring_size, 0) < 0)
		return -EPROTO;
	memset(&sl->stats, 0, sizeof(sl->stats));
	sl->pend_head = sl->pend_tail = 0;
	sl->service = svc;
	sl->domain = d->svc_domain[svc];
	sl->bad_desc_limit = d->cfg.services[svc].bad_desc_limit;
	atomic_store(&sl->cut, false);
	atomic_store(&sl->stalled, false);
	sl->blocked_ms = 0;
	sl->instance = ++d->next_instance;
	sl->pid = pid;
	sl->guest = wake_fd >= 0;
	sl->wake_fd = wake_fd;
	atomic_store_explicit(&sl->state, SLOT_RUNNING, memory_order_release);
	return sl->instance;
}

/* The service named in @req that this client may use, or an error reply. */
static int service_for(struct netvmd *d, struct client *c, json_t *req, json_t **err)
{
	const char *service = json_string_value(json_object_get(req, "service"));
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	int svc;

	if (!service) {
		*err = error_reply(EINVAL, "%s: 'service' must be a string", cmd);
		return -1;
	}
	svc = route_service_find(d, service);
	if (svc < 0) {
		*err = error_reply(ENOENT, "unknown service '%s'", service);
		return -1;
	}
	if (!authorized(d, c, svc)) {
		LOG_WARN_RL("manager", "pid %d (uid %u gid %u) refused as '%s': not allowed",
			    (int)c->pid, (unsigned)c->uid, (unsigned)c->gid, service);
		*err = error_reply(EACCES, "uid %u gid %u may not attach as service '%s'",
				   (unsigned)c->uid, (unsigned)c->gid, service);
		return -1;
	}
	return svc;
}

/* A VM NF's attach comes through QEMU (the peer is QEMU) and gets no fd:
 * its region is already a PCI device of the VM, which it finds by region_id. */
static json_t *cmd_attach(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	const char *transport = json_string_value(json_object_get(req, "transport"));
	json_t *rep = NULL;
	struct nf_slot *sl;
	int svc, s;

	struct nf_slot *old = c->slot >= 0 ? &d->slots[c->slot] : NULL;
	bool old_left = old && atomic_load(&old->state) == SLOT_LEAVING;

	/* A VM's next NF comes over QEMU's same connection: after the last
	 * one detached, or died (only one process at a time can hold the
	 * guest's port open, so the old one is gone). */
	if (old && !old_left && !old->guest)
		return error_reply(EALREADY, "this connection is already attached");
	if (transport && strcmp(transport, "fd") && strcmp(transport, "ivshmem"))
		return error_reply(EINVAL, "attach: transport must be 'fd' or 'ivshmem'");
	if (transport && !strcmp(transport, "ivshmem") && c->bound_svc < 0)
		return error_reply(EPERM,
				   "attach: transport 'ivshmem' needs a VM's channel, bound to "
				   "its service first (vm_bind; netvmctl vm start does it)");
	if ((svc = service_for(d, c, req, &rep)) < 0)
		return rep; /* a refused attach leaves the old NF as it was */
	if (c->bound_svc >= 0 && svc != c->bound_svc) {
		LOG_WARN("manager", "the VM of QEMU pid %d, bound to '%s', tried to attach as '%s'",
			 (int)c->pid, d->cfg.services[c->bound_svc].name,
			 d->cfg.services[svc].name);
		return error_reply(EPERM,
				   "attach: this VM's channel is bound to service '%s'; it may not "
				   "attach as '%s'",
				   d->cfg.services[c->bound_svc].name, d->cfg.services[svc].name);
	}
	if (old) {
		if (!old_left)
			LOG_WARN("manager",
				 "NF instance %d in the VM of QEMU pid %d left without "
				 "detaching",
				 old->instance, (int)c->pid);
		atomic_store(&old->state, SLOT_GONE);
		switch_kick(d);
		c->slot = -1;
	}
	for (s = 0; s < (int)d->nslots; s++)
		if (atomic_load(&d->slots[s].state) == SLOT_FREE)
			break;
	if (s == (int)d->nslots)
		return error_reply(EBUSY, "no free NF slot (max_nfs is %u)", d->nslots);
	sl = &d->slots[s];
	int wake_fd = -1;
	if (transport && !strcmp(transport, "ivshmem") &&
	    (wake_fd = fcntl(c->conn.fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return error_reply(errno, "cannot keep a wake channel: %s", strerror(errno));
	if (slot_open(d, (uint32_t)s, (uint16_t)svc, c->pid, wake_fd) < 0) {
		if (wake_fd >= 0)
			close(wake_fd);
		LOG_WARN("manager",
			 "slot %d: its rings changed under the attach (a hostile NF "
			 "in domain of '%s'?)",
			 s, d->cfg.services[svc].name);
		return error_reply(EPROTO,
				   "the rings of slot %d were overwritten during the "
				   "attach; try again",
				   s);
	}
	c->slot = s;
	if (refresh_replicas(d) < 0)
		LOG_ERR("manager", "out of memory: replicas of '%s' not updated",
			d->cfg.services[svc].name);
	LOG_INFO("manager", "NF %s %d attached as '%s' instance %d (slot %d)",
		 sl->guest ? "in the VM of QEMU pid" : "pid", (int)c->pid,
		 d->cfg.services[svc].name, sl->instance, s);
	/* Only its own domain's region: never another domain's fd. */
	struct netvm_region *r = domain_region(d, sl->domain);
	if (!sl->guest)
		*pass_fd = r->fd;
	return json_pack("{s:b, s:i, s:i, s:I, s:i, s:I}", "ok", 1, "instance", sl->instance,
			 "slot", s, "region_size", (json_int_t)r->layout.total_size, "ring_size",
			 (int)d->cfg.ring_size, "region_id", (json_int_t)r->layout.region_id);
}

/* The region a VM for @service must get as its ivshmem device (netvmctl vm
 * start): the fd of the service's domain region, to whoever may attach. */
static json_t *cmd_region(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *rep = NULL;
	int svc = service_for(d, c, req, &rep);

	if (svc < 0)
		return rep;
	uint16_t dom = d->svc_domain[svc];
	struct netvm_region *r = domain_region(d, dom);
	off_t file_size = lseek(r->fd, 0, SEEK_END);
	netvm_region_restore(r); /* the VM finds it by the region_id in its header */
	*pass_fd = r->fd;
	return json_pack("{s:b, s:s, s:I, s:I, s:I}", "ok", 1, "domain",
			 dom ? d->dom[dom].name : "", "region_id", (json_int_t)r->layout.region_id,
			 "region_size", (json_int_t)r->layout.total_size, "file_size",
			 (json_int_t)file_size);
}

/* netvmctl vm start binds the connection it hands to QEMU as the guest's
 * channel: whatever the guest sends on it, it may attach only as @service
 * (and nothing else: the peer is QEMU, whose user may be root). */
static json_t *cmd_vm_bind(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *rep = NULL;
	int svc;

	if (c->slot >= 0 || c->bound_svc >= 0)
		return error_reply(EALREADY, "vm_bind: this connection is already %s",
				   c->slot >= 0 ? "attached" : "bound");
	if ((svc = service_for(d, c, req, &rep)) < 0)
		return rep;
	c->bound_svc = svc;
	LOG_INFO("manager", "a VM's channel (pid %d) is bound to service '%s'", (int)c->pid,
		 d->cfg.services[svc].name);
	return json_pack("{s:b}", "ok", 1);
}

/* Stop sending to the NF; once the switch has moved on, it may drain and go. */
static json_t *cmd_detach(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	if (c->slot < 0)
		return error_reply(ENOTCONN, "not attached");
	atomic_store(&d->slots[c->slot].state, SLOT_LEAVING);
	refresh_replicas(d);
	switch_quiesce(d);
	return json_pack("{s:b}", "ok", 1);
}

static void client_gone(struct netvmd *d, struct client *c)
{
	if (c->slot >= 0) {
		struct nf_slot *sl = &d->slots[c->slot];
		LOG_INFO("manager", "NF instance %d ('%s', pid %d) disconnected", sl->instance,
			 d->cfg.services[sl->service].name, (int)sl->pid);
		/* The switch takes back its buffers and frees the slot. */
		atomic_store(&sl->state, SLOT_GONE);
		switch_kick(d);
		refresh_replicas(d);
	}
	close(c->conn.fd);
	netvm_ctl_conn_free(&c->conn);
	free(c);
}

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
		json_t *hops = json_array();
		for (uint16_t h = 0; h < rt->chains[i].nhops; h++)
			json_array_append_new(
			    hops, json_string(d->cfg.services[rt->chains[i].hops[h]].name));
		json_array_append_new(a, json_pack("{s:i, s:s, s:o}", "id", i, "name",
						   rt->chains[i].name, "hops", hops));
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
	json_object_set_new(o, #name, json_integer((json_int_t)CTR(d->drops.name)));
	SW_DROP_CAUSES(SW_DROP_JSON)
#undef SW_DROP_JSON
	return o;
}

static json_t *cmd_status(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	const struct route_table *rt = d->rt_mgr;
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
	json_t *sw = json_pack("{s:I, s:I}", "naps", (json_int_t)CTR(d->naps), "sleeps",
			       (json_int_t)CTR(d->sleeps));
	return json_pack(
	    "{s:b, s:{s:I, s:I, s:b, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "ok", 1,
	    "pool", "buffers", (json_int_t)d->pool.n, "free", (json_int_t)CTR(d->pool.nfree),
	    "hugepages", (int)d->region.hugepages, "region_id",
	    (json_int_t)d->region.layout.region_id, "ports", status_ports(d), "domains", domains,
	    "services", services, "nfs", nfs, "chains", status_chains(d, rt), "default_chain",
	    rt->default_chain < 0 ? json_null() : json_string(rt->chains[rt->default_chain].name),
	    "rules", status_rules(rt), "drops", status_drops(d), "switch", sw);
}

static json_t *cmd_chain_set(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *hops = json_object_get(req, "hops"), *v;
	char err[256];
	size_t i;
	int id;

	if (!name || !name[0] || strlen(name) >= NETVM_NAME_MAX)
		return error_reply(EINVAL, "chain_set: 'name' must be a string of 1..%d characters",
				   NETVM_NAME_MAX - 1);
	if (!json_is_array(hops) || json_array_size(hops) > 64)
		return error_reply(EINVAL,
				   "chain_set: 'hops' must be an array of at most 64 names");
	const char *names[json_array_size(hops) + 1];
	json_array_foreach(hops, i, v)
	{
		if (!(names[i] = json_string_value(v)))
			return error_reply(EINVAL, "chain_set: hop %zu is not a string", i);
	}
	struct route_table *rt = route_clone(d->rt_mgr);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	id = route_chain_set(d, rt, name, names, (uint16_t)json_array_size(hops), err, sizeof(err));
	if (id < 0) {
		route_free(rt);
		return error_reply(-id, "%s", err);
	}
	rt_edit_commit(d, rt);
	LOG_INFO("manager", "chain '%s' set (%zu hops)", name, json_array_size(hops));
	return json_pack("{s:b, s:i}", "ok", 1, "id", id);
}

static json_t *cmd_chain_default(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *n = json_object_get(req, "name");
	const char *name = json_string_value(n);
	int id = -1;

	if (!json_is_null(n) && !name)
		return error_reply(EINVAL, "chain_default: 'name' must be a string or null");
	if (name && name[0] && (id = route_chain_find(d->rt_mgr, name)) < 0)
		return error_reply(ENOENT, "unknown chain '%s'", name);
	struct route_table *rt = route_clone(d->rt_mgr);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	rt->default_chain = id;
	rt_edit_commit(d, rt);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_rule_add(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *match = json_object_get(req, "match"), *v;
	const char *chain = json_string_value(json_object_get(req, "chain")), *key;
	struct netvm_match m;
	char err[256];
	int cid;

	if (!chain)
		return error_reply(EINVAL, "rule_add: 'chain' must be a string");
	if (match && !json_is_object(match))
		return error_reply(EINVAL, "rule_add: 'match' must be an object");
	if ((cid = route_chain_find(d->rt_mgr, chain)) < 0)
		return error_reply(ENOENT, "unknown chain '%s'", chain);
	netvm_match_any(&m);
	json_object_foreach(match, key, v)
	{
		if (!json_is_string(v))
			return error_reply(EINVAL, "rule_add: match '%s' must be a string", key);
		if (netvm_match_set(&m, key, json_string_value(v), err, sizeof(err)) < 0)
			return error_reply(EINVAL, "rule_add: %s", err);
	}
	struct route_table *rt = route_clone(d->rt_mgr);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	struct route_rule *r = &rt->rules[rt->nrules++]; /* clones leave room for one more */
	r->id = ++d->next_rule_id;
	r->match = m;
	r->chain = (uint16_t)cid;
	atomic_init(&r->hits, 0);
	rt_edit_commit(d, rt);
	return json_pack("{s:b, s:i}", "ok", 1, "id", (int)r->id);
}

static json_t *cmd_rule_del(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *idj = json_object_get(req, "id");
	struct route_table *rt;
	uint32_t i;

	if (!json_is_integer(idj))
		return error_reply(EINVAL, "rule_del: 'id' must be an integer");
	for (i = 0; i < d->rt_mgr->nrules; i++)
		if (d->rt_mgr->rules[i].id == json_integer_value(idj))
			break;
	if (i == d->rt_mgr->nrules)
		return error_reply(ENOENT, "no rule with id %lld",
				   (long long)json_integer_value(idj));
	if (!(rt = route_clone(d->rt_mgr)))
		return error_reply(ENOMEM, "out of memory");
	for (; i + 1 < rt->nrules; i++) {
		rt->rules[i].id = rt->rules[i + 1].id;
		rt->rules[i].match = rt->rules[i + 1].match;
		rt->rules[i].chain = rt->rules[i + 1].chain;
		atomic_store(&rt->rules[i].hits, atomic_load(&rt->rules[i + 1].hits));
	}
	rt->nrules--;
	rt_edit_commit(d, rt);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_port_rx(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *en = json_object_get(req, "enable");

	if (!name || !json_is_boolean(en))
		return error_reply(EINVAL, "port_rx: needs string 'name' and boolean 'enable'");
	for (uint16_t i = 0; i < d->nports; i++)
		if (!strcmp(d->ports[i].name, name)) {
			atomic_store(&d->ports[i].rx_paused, !json_is_true(en));
			switch_kick(d);
			LOG_INFO("manager", "port '%s': receive %s", name,
				 json_is_true(en) ? "started" : "paused");
			return json_pack("{s:b}", "ok", 1);
		}
	return error_reply(ENOENT, "unknown port '%s'", name);
}

/* Who may use a command: docs/control-protocol.md lists each one's. */
enum access {
	ACCESS_ANY,	/* whoever can connect: it acts on its own connection only */
	ACCESS_SERVICE, /* a peer that may attach as the request's service (service_for) */
	ACCESS_STATUS,	/* as status_access says: anyone, or admins only */
	ACCESS_ADMIN,	/* root, netvmd's own user, members of admin_group */
};

static const char *const access_names[] = {"any", "service", "status", "admin"};

struct command {
	const char *name;
	json_t *(*fn)(struct netvmd *d, struct client *c, json_t *req, int *pass_fd);
	enum access access;
	bool vm; /* allowed on a VM's channel (vm_bind): what its guest may send */
	const char *help;
};

static json_t *cmd_help(struct netvmd *d, struct client *c, json_t *req, int *pass_fd);

/* Every command, in one place: dispatch() looks the name up here and checks
 * the access before the handler runs, so a handler never sees a peer that
 * may not use it.  (Like BESS's per-module Commands tables.) */
static const struct command commands[] = {
    {"attach", cmd_attach, ACCESS_SERVICE, true, "register this connection as an NF of a service"},
    {"region", cmd_region, ACCESS_SERVICE, false, "the fd of a service's domain region, for a VM"},
    {"vm_bind", cmd_vm_bind, ACCESS_SERVICE, false,
     "make this connection a VM's channel that may attach only as a service"},
    {"detach", cmd_detach, ACCESS_ANY, true, "this connection's NF leaves without losing packets"},
    {"status", cmd_status, ACCESS_STATUS, false, "ports, NFs, chains, rules and every counter"},
    {"help", cmd_help, ACCESS_ANY, false, "the commands, who may use each and what it does"},
    {"chain_set", cmd_chain_set, ACCESS_ADMIN, false, "create or replace a chain"},
    {"chain_default", cmd_chain_default, ACCESS_ADMIN, false,
     "set the chain for unmatched packets"},
    {"rule_add", cmd_rule_add, ACCESS_ADMIN, false, "append a flow rule"},
    {"rule_del", cmd_rule_del, ACCESS_ADMIN, false, "delete a flow rule"},
    {"port_rx", cmd_port_rx, ACCESS_ADMIN, false, "pause or resume receiving on a port"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static json_t *cmd_help(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	json_t *a = json_array();

	for (size_t i = 0; i < NCOMMANDS; i++) {
		enum access acc = commands[i].access;
		/* status_access decides what "status" means for this daemon */
		if (acc == ACCESS_STATUS)
			acc = d->cfg.status_admin ? ACCESS_ADMIN : ACCESS_ANY;
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s}", "name", commands[i].name,
						   "access", access_names[acc], "vm",
						   (int)commands[i].vm, "help", commands[i].help));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "commands", a);
}

/* Service access is checked by the handler, which knows the service. */
static bool permitted(const struct netvmd *d, const struct client *c, enum access acc)
{
	if (acc == ACCESS_ADMIN)
		return c->admin;
	if (acc == ACCESS_STATUS)
		return c->admin || !d->cfg.status_admin;
	return true;
}

/* The EPERM reply to a peer that may not use @cmd.  Logged, at most once a
 * second: a hostile peer may try in a loop. */
static json_t *refusal(const struct netvmd *d, const struct client *c, const char *cmd)
{
	char who[160];
	int n = snprintf(who, sizeof(who), "root");

	if (geteuid() != 0)
		n += snprintf(who + n, sizeof(who) - (size_t)n, ", netvmd's uid %u",
			      (unsigned)geteuid());
	if (d->cfg.admin_group[0])
		snprintf(who + n, sizeof(who) - (size_t)n, " or in admin group '%s'",
			 d->cfg.admin_group);
	else
		snprintf(who + n, sizeof(who) - (size_t)n, " (no admin_group is configured)");
	LOG_WARN_RL("manager", "pid %d uid %u gid %u: '%s' not permitted", (int)c->pid,
		    (unsigned)c->uid, (unsigned)c->gid, cmd);
	return error_reply(EPERM, "%s: not permitted: uid %u is not %s", cmd, (unsigned)c->uid,
			   who);
}

static json_t *dispatch(struct netvmd *d, struct client *c, json_t *req, int *pass_fd)
{
	const char *name = json_string_value(json_object_get(req, "cmd"));

	if (!name)
		return error_reply(EINVAL, "request has no string 'cmd'");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i].name))
			continue;
		/* The guest speaks on it, whoever the peer (QEMU) is. */
		if (c->bound_svc >= 0 && !commands[i].vm)
			return error_reply(
			    EPERM, "%s: not allowed on a VM's channel (bound to service '%s')",
			    name, d->cfg.services[c->bound_svc].name);
		if (!permitted(d, c, commands[i].access))
			return refusal(d, c, name);
		return commands[i].fn(d, c, req, pass_fd);
	}
	return error_reply(EINVAL, "unknown command '%s'", name);
}

/* Events get no reply: "kick" is a VM NF's doorbell (nf.c), heeded from NF
 * connections only.  True if @req is an event (handled). */
static bool handle_event(struct netvmd *d, struct client *c, json_t *req)
{
	json_t *ev = json_object_get(req, "event");

	if (!ev)
		return false;
	if (c->slot >= 0 && json_is_string(ev) && !strcmp(json_string_value(ev), "kick"))
		switch_kick(d);
	return true;
}

/* Handle what a client sent.  Returns false when the connection must go. */
static bool client_input(struct netvmd *d, struct client *c)
{
	int n = netvm_ctl_fill(&c->conn);
	json_t *req, *rep;
	int fd, ret;

	if (n == -EMSGSIZE) {
		json_t *e =
		    error_reply(EMSGSIZE, "message longer than %d bytes", NETVM_CTL_MAX_MSG);
		netvm_ctl_send(c->conn.fd, e, -1);
		json_decref(e);
		return false;
	}
	if (n <= 0)
		return false;
	while ((ret = netvm_ctl_next(&c->conn, &req, &fd)) != 0) {
		int pass_fd = -1;
		if (fd >= 0)
			close(fd); /* clients have no reason to send us fds */
		if (ret == 1 && handle_event(d, c, req)) {
			json_decref(req);
			continue;
		}
		rep = ret < 0 ? error_reply(EBADMSG, "request is not a JSON object")
			      : dispatch(d, c, req, &pass_fd);
		json_decref(req);
		ret = rep ? netvm_ctl_send(c->conn.fd, rep, pass_fd) : -ENOMEM;
		json_decref(rep);
		if (ret < 0)
			return false;
	}
	return true;
}

static int listen_socket(const char *path, gid_t gid)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char dir[sizeof(a.sun_path)];
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		LOG_ERR("manager", "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750); /* /run/netvm by default; fine if it exists */
	}
	/* A stale socket from a daemon that died is in the way; a live one is not. */
	int probe = netvm_ctl_connect(path);
	if (probe >= 0) {
		close(probe);
		LOG_ERR("manager", "another netvmd is already listening on %s", path);
		return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0117); /* owner and group only */
	int ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	/* A group that may use the socket (NFs running as other users). */
	if (ret == 0 && gid &&
	    (chown(path, (uid_t)-1, gid) < 0 ||
	     (slash && slash != dir && chown(dir, (uid_t)-1, gid) < 0))) {
		LOG_ERR("manager", "cannot give %s to group %u: %s", path, (unsigned)gid,
			strerror(errno));
		ret = -1;
	}
	if (ret < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		LOG_ERR("manager", "cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int manager_run(struct netvmd *d)
{
	struct client *clients[MAX_CLIENTS] = {0};
	struct pollfd pfd[MAX_CLIENTS + 2];
	int lfd, sfd, nclients = 0;
	sigset_t mask;

	lfd = listen_socket(d->cfg.socket, d->cfg.socket_gid);
	if (lfd < 0)
		return lfd;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	LOG_INFO("manager", "listening on %s", d->cfg.socket);

	for (;;) {
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < nclients; i++)
			pfd[i + 2] = (struct pollfd){.fd = clients[i]->conn.fd, .events = POLLIN};
		/* Wake every 100 ms to act on NFs the switch wants cut off. */
		if (poll(pfd, (nfds_t)nclients + 2, 100) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				LOG_INFO("manager", "signal %u: shutting down", si.ssi_signo);
			break;
		}
		for (int i = nclients - 1; i >= 0; i--) {
			struct client *c = clients[i];
			if (c->slot >= 0 && atomic_load(&d->slots[c->slot].cut)) {
				LOG_WARN("manager", "NF instance %d cut off (bad descriptors)",
					 d->slots[c->slot].instance);
				client_gone(d, c);
				clients[i] = clients[--nclients];
				continue;
			}
			if (!pfd[i + 2].revents)
				continue;
			if (!client_input(d, clients[i])) {
				client_gone(d, clients[i]);
				clients[i] = clients[--nclients];
			}
		}
		if (pfd[1].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			struct ucred cred;
			socklen_t clen = sizeof(cred);
			if (cfd < 0)
				continue;
			if (nclients == MAX_CLIENTS) {
				LOG_WARN("manager", "too many control connections; refusing one");
				close(cfd);
				continue;
			}
			struct client *c = calloc(1, sizeof(*c));
			if (!c) {
				close(cfd);
				continue;
			}
			netvm_ctl_conn_init(&c->conn, cfd);
			c->slot = -1;
			c->bound_svc = -1;
			c->uid = (uid_t)-1; /* unknown peers are nobody */
			c->gid = (gid_t)-1;
			if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
				c->pid = cred.pid;
				c->uid = cred.uid;
				c->gid = cred.gid;
				c->admin = peer_is_admin(d, cfd, c->uid, c->gid);
			}
			clients[nclients++] = c;
		}
	}
	for (int i = 0; i < nclients; i++)
		client_gone(d, clients[i]);
	close(lfd);
	close(sfd);
	unlink(d->cfg.socket);
	return 0;
}
