/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control commands (docs/control-protocol.md): one table of {name,
 * handler, who may use it, help}, the permission checks, and the handlers
 * that register NFs and change chains, rules and ports at run time.  The
 * connections themselves are manager.c's; the status reply is status.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/log.h"
#include "common/parse.h"
#include "commands.h"
#include "netvmd.h"

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
bool peer_is_admin(const struct netvmd *d, int fd, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	if (!d->cfg.admin_group[0])
		return false;
	return gid == d->cfg.admin_gid || peer_in_group(fd, d->cfg.admin_gid);
}

/* May this peer attach as service @svc?  The configuration lists users and
 * groups; without a list, root and the daemon's own user may. */
static bool authorized(const struct netvmd *d, const struct peer *c, int svc)
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

json_t *error_reply(int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg, "errno", err);
}

/* Publish @rt, an edited route_clone() of d->mgr.rt, with the current replicas. */
static void rt_edit_commit(struct netvmd *d, struct route_table *rt)
{
	route_set_replicas(d, rt);
	route_publish(d, rt);
}

static int refresh_replicas(struct netvmd *d)
{
	struct route_table *rt = route_clone(d->mgr.rt);
	if (!rt)
		return -ENOMEM;
	rt_edit_commit(d, rt);
	return 0;
}

int slot_open(struct netvmd *d, uint32_t s, uint16_t svc, pid_t pid, int wake_fd, uint32_t stock)
{
	struct nf_slot *sl = &d->slots[s];
	struct netvm_region *r = domain_region(d, d->svc_domain[svc]);
	struct netvm_ring_shm *rx = netvm_region_slot_ring(r, s, NETVM_RING_RX);
	struct netvm_ring_shm *tx = netvm_region_slot_ring(r, s, NETVM_RING_TX);
	struct netvm_ring_shm *st = netvm_region_slot_ring(r, s, NETVM_RING_STOCK);

	/* The domain's NFs may have scribbled on the header and directory: the
	 * newcomer maps what we wrote.  Fresh rings: the last NF in this slot
	 * may have left them anywhere (and one of its peers may still be
	 * writing them, so check what the attach reads back). */
	netvm_region_restore(r);
	netvm_ring_shm_init(rx, d->cfg.ring_size);
	netvm_ring_shm_init(tx, d->cfg.ring_size);
	netvm_ring_shm_init(st, d->cfg.ring_size);
	if (netvm_ring_attach(&sl->to_nf, rx, d->cfg.ring_size, 1) < 0 ||
	    netvm_ring_attach(&sl->from_nf, tx, d->cfg.ring_size, 0) < 0 ||
	    netvm_ring_attach(&sl->stock, st, d->cfg.ring_size, 1) < 0)
		return -EPROTO;
	memset(netvm_region_counters(r, s), 0, NETVM_NF_COUNTERS * sizeof(uint64_t));
	sl->ncounters = 0;
	sl->stock_target = stock;
	memset(&sl->stats, 0, sizeof(sl->stats));
	sl->pend_head = sl->pend_tail = 0;
	sl->service = svc;
	sl->domain = d->svc_domain[svc];
	sl->bad_desc_limit = d->cfg.services[svc].bad_desc_limit;
	atomic_store(&sl->cut, false);
	atomic_store(&sl->stalled, false);
	sl->blocked_ms = 0;
	sl->instance = ++d->mgr.next_instance;
	sl->pid = pid;
	sl->guest = wake_fd >= 0;
	sl->wake_fd = wake_fd;
	if (s >= atomic_load_explicit(&d->slots_used, memory_order_relaxed))
		atomic_store_explicit(&d->slots_used, s + 1, memory_order_release);
	atomic_store_explicit(&sl->state, SLOT_RUNNING, memory_order_release);
	return sl->instance;
}

/* The service named in @req that this client may use, or an error reply. */
static int service_for(struct netvmd *d, struct peer *c, json_t *req, json_t **err)
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
static json_t *cmd_attach(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
	/* Free buffers kept ready for the NF to make packets in: a ring's worth
	 * at most, and never so many that NFs could starve the ports. */
	json_t *stockj = json_object_get(req, "stock");
	json_int_t stock = json_is_integer(stockj) ? json_integer_value(stockj) : 0;
	json_int_t stock_max =
	    d->cfg.ring_size - 1 < d->pool.n / 4 ? d->cfg.ring_size - 1 : d->pool.n / 4;
	if ((stockj && !json_is_integer(stockj)) || stock < 0 || stock > stock_max)
		return error_reply(EINVAL, "attach: stock must be an integer 0..%lld",
				   (long long)stock_max);
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
	    (wake_fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return error_reply(errno, "cannot keep a wake channel: %s", strerror(errno));
	if (slot_open(d, (uint32_t)s, (uint16_t)svc, c->pid, wake_fd, (uint32_t)stock) < 0) {
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
	rep = netvm_ctl_layout_pack(r); /* the NF maps this, not the header */
	json_object_update_new(
	    rep, json_pack("{s:b, s:i, s:i, s:I, s:i, s:I}", "ok", 1, "instance", sl->instance,
			   "slot", s, "region_size", (json_int_t)r->layout.total_size, "ring_size",
			   (int)d->cfg.ring_size, "region_id", (json_int_t)r->layout.region_id));
	return rep;
}

/* The region a VM for @service must get as its ivshmem device (netvmctl vm
 * start): the fd of the service's domain region, to whoever may attach. */
static json_t *cmd_region(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
static json_t *cmd_vm_bind(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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

/* An NF names one of its counters (their values are in the region, where
 * it writes them; the names stay here, never read back from it). */
static json_t *cmd_counter(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *ij = json_object_get(req, "index");

	if (c->slot < 0)
		return error_reply(ENOTCONN, "counter: not attached");
	struct nf_slot *sl = &d->slots[c->slot];
	if (!name || !netvm_valid_name(name))
		return error_reply(EINVAL,
				   "counter: 'name' must be 1..%d characters of A-Z a-z "
				   "0-9 _ . -",
				   NETVM_NAME_MAX - 1);
	if (!json_is_integer(ij) || json_integer_value(ij) < 0 ||
	    json_integer_value(ij) > sl->ncounters || json_integer_value(ij) >= NETVM_NF_COUNTERS)
		return error_reply(EINVAL, "counter: 'index' must be 0..%u (at most %d counters)",
				   sl->ncounters < NETVM_NF_COUNTERS ? sl->ncounters
								     : NETVM_NF_COUNTERS - 1,
				   NETVM_NF_COUNTERS);
	uint32_t i = (uint32_t)json_integer_value(ij);
	snprintf(sl->counter_names[i], NETVM_NAME_MAX, "%s", name);
	if (i == sl->ncounters)
		sl->ncounters++;
	return json_pack("{s:b}", "ok", 1);
}

/* Stop sending to the NF; once the switch has moved on, it may drain and go. */
static json_t *cmd_detach(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	if (c->slot < 0)
		return error_reply(ENOTCONN, "not attached");
	atomic_store(&d->slots[c->slot].state, SLOT_LEAVING);
	refresh_replicas(d);
	switch_quiesce(d);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_chain_set(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	const char *name = json_string_value(json_object_get(req, "name")), *key;
	json_t *hops = json_object_get(req, "hops"), *links = json_object_get(req, "links"), *v;
	char err[512];
	size_t i;
	int id;

	if (!name || !name[0] || strlen(name) >= NETVM_NAME_MAX)
		return error_reply(EINVAL, "chain_set: 'name' must be a string of 1..%d characters",
				   NETVM_NAME_MAX - 1);
	if (!json_is_array(hops) || json_array_size(hops) > 64)
		return error_reply(EINVAL,
				   "chain_set: 'hops' must be an array of at most 64 names");
	if (links && (!json_is_object(links) || json_object_size(links) > 64 * NETVM_MAX_OUTPUTS))
		return error_reply(EINVAL, "chain_set: 'links' must be an object of "
					   "\"HOP[.OUTPUT]\": \"TARGET\"");
	const char *names[json_array_size(hops) + 1];
	json_array_foreach(hops, i, v)
	{
		if (!(names[i] = json_string_value(v)))
			return error_reply(EINVAL, "chain_set: hop %zu is not a string", i);
	}
	size_t nl = json_object_size(links);
	struct route_link lk[nl + 1];
	char from[nl + 1][NETVM_NAME_MAX];
	i = 0;
	json_object_foreach(links, key, v)
	{
		if (netvm_parse_link_from(key, from[i], NETVM_NAME_MAX, NETVM_MAX_OUTPUTS,
					  &lk[i].out) < 0 ||
		    !json_is_string(v))
			return error_reply(EINVAL,
					   "chain_set: link '%s': expected \"HOP[.OUTPUT]\": "
					   "\"TARGET\" with an output 0..%d",
					   key, NETVM_MAX_OUTPUTS - 1);
		lk[i].from = from[i];
		lk[i].to = json_string_value(v);
		i++;
	}
	struct route_table *rt = route_clone(d->mgr.rt);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	id = route_chain_set(d, rt, name, names, (uint16_t)json_array_size(hops), lk, (uint16_t)nl,
			     err, sizeof(err));
	if (id < 0) {
		route_free(rt);
		return error_reply(-id, "%s", err);
	}
	rt_edit_commit(d, rt);
	LOG_INFO("manager", "chain '%s' set (%zu hops, %zu links)", name, json_array_size(hops),
		 nl);
	return json_pack("{s:b, s:i}", "ok", 1, "id", id);
}

static json_t *cmd_chain_default(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	json_t *n = json_object_get(req, "name");
	const char *name = json_string_value(n);
	int id = -1;

	if (!json_is_null(n) && !name)
		return error_reply(EINVAL, "chain_default: 'name' must be a string or null");
	if (name && name[0] && (id = route_chain_find(d->mgr.rt, name)) < 0)
		return error_reply(ENOENT, "unknown chain '%s'", name);
	struct route_table *rt = route_clone(d->mgr.rt);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	rt->default_chain = id;
	rt_edit_commit(d, rt);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_rule_add(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
	if ((cid = route_chain_find(d->mgr.rt, chain)) < 0)
		return error_reply(ENOENT, "unknown chain '%s'", chain);
	netvm_match_any(&m);
	json_object_foreach(match, key, v)
	{
		if (!json_is_string(v))
			return error_reply(EINVAL, "rule_add: match '%s' must be a string", key);
		if (netvm_match_set(&m, key, json_string_value(v), err, sizeof(err)) < 0)
			return error_reply(EINVAL, "rule_add: %s", err);
	}
	struct route_table *rt = route_clone(d->mgr.rt);
	if (!rt)
		return error_reply(ENOMEM, "out of memory");
	struct route_rule *r = &rt->rules[rt->nrules++]; /* clones leave room for one more */
	r->id = ++d->mgr.next_rule_id;
	r->match = m;
	r->chain = (uint16_t)cid;
	atomic_init(&r->hits, 0);
	rt_edit_commit(d, rt);
	return json_pack("{s:b, s:i}", "ok", 1, "id", (int)r->id);
}

static json_t *cmd_rule_del(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	json_t *idj = json_object_get(req, "id");
	struct route_table *rt;
	uint32_t i;

	if (!json_is_integer(idj))
		return error_reply(EINVAL, "rule_del: 'id' must be an integer");
	for (i = 0; i < d->mgr.rt->nrules; i++)
		if (d->mgr.rt->rules[i].id == json_integer_value(idj))
			break;
	if (i == d->mgr.rt->nrules)
		return error_reply(ENOENT, "no rule with id %lld",
				   (long long)json_integer_value(idj));
	if (!(rt = route_clone(d->mgr.rt)))
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

static json_t *cmd_port_rx(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
	json_t *(*fn)(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd);
	enum access access;
	bool vm; /* allowed on a VM's channel (vm_bind): what its guest may send */
	const char *help;
};

static json_t *cmd_help(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd);

static json_t *cmd_status(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
{
	return status_json(d);
}

/* Every command, in one place: command_run() looks the name up here and checks
 * the access before the handler runs, so a handler never sees a peer that
 * may not use it.  (Like BESS's per-module Commands tables.) */
static const struct command commands[] = {
    {"attach", cmd_attach, ACCESS_SERVICE, true, "register this connection as an NF of a service"},
    {"region", cmd_region, ACCESS_SERVICE, false, "the fd of a service's domain region, for a VM"},
    {"vm_bind", cmd_vm_bind, ACCESS_SERVICE, false,
     "make this connection a VM's channel that may attach only as a service"},
    {"detach", cmd_detach, ACCESS_ANY, true, "this connection's NF leaves without losing packets"},
    {"counter", cmd_counter, ACCESS_ANY, true, "name one of this connection's NF's counters"},
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

static json_t *cmd_help(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
static bool permitted(const struct netvmd *d, const struct peer *c, enum access acc)
{
	if (acc == ACCESS_ADMIN)
		return c->admin;
	if (acc == ACCESS_STATUS)
		return c->admin || !d->cfg.status_admin;
	return true;
}

/* The EPERM reply to a peer that may not use @cmd.  Logged, at most once a
 * second: a hostile peer may try in a loop. */
static json_t *refusal(const struct netvmd *d, const struct peer *c, const char *cmd)
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

json_t *command_run(struct netvmd *d, struct peer *c, json_t *req, int *pass_fd)
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
bool command_event(struct netvmd *d, struct peer *c, json_t *req)
{
	json_t *ev = json_object_get(req, "event");

	if (!ev)
		return false;
	if (c->slot >= 0 && json_is_string(ev) && !strcmp(json_string_value(ev), "kick"))
		switch_kick(d);
	return true;
}

/* The connection of @c closed: its NF (if any) is gone.  The switch takes
 * back its buffers and frees the slot. */
void peer_gone(struct netvmd *d, struct peer *c)
{
	if (c->slot < 0)
		return;
	struct nf_slot *sl = &d->slots[c->slot];
	LOG_INFO("manager", "NF instance %d ('%s', pid %d) disconnected", sl->instance,
		 d->cfg.services[sl->service].name, (int)sl->pid);
	atomic_store(&sl->state, SLOT_GONE);
	switch_kick(d);
	refresh_replicas(d);
	c->slot = -1;
}
