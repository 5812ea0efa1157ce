/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The manager: the control socket, NF registration and lifecycle, and the
 * run-time changes to chains and rules (docs/control-protocol.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/log.h"
#include "netvmd.h"

#define TICK_MS	     100 /* how often cut-off NFs and timeouts are looked at */
#define ACCEPT_BATCH 64	 /* connections taken per wake-up: the others get turns */
#define MAX_EVENTS   64
#define FD_SLACK     32 /* fds beyond the connections: epoll, a spare, logs, ... */

/* A reply line the client has not read yet. */
struct reply {
	struct reply *next;
	size_t len; /* bytes in text, newline included */
	size_t off; /* bytes already sent */
	int fd;	    /* passed with the first byte, or -1.  Borrowed: it is a
		     * region's, and regions outlive every connection. */
	char text[];
};

struct client {
	struct client *prev, *next; /* manager.clients */
	struct netvm_ctl_conn conn;
	struct reply *out, *out_last; /* replies not sent yet, oldest first */
	size_t out_bytes;
	uint32_t events;    /* what epoll watches for now */
	bool closing;	    /* read no more; close once the replies are out */
	int64_t active_ms;  /* last request, or last reply bytes the client took */
	int64_t partial_ms; /* when the unfinished request in conn began, 0: none */
	int slot;	    /* NF slot this connection registered, or -1 */
	int bound_svc;	    /* a VM's channel: the only service it may attach as (vm_bind), or -1 */
	pid_t pid;
	uid_t uid; /* of the peer, from SO_PEERCRED */
	gid_t gid;
	bool admin; /* may change the configuration (peer_is_admin) */
};

struct manager {
	struct netvmd *d;
	int epfd, lfd, sfd;
	int spare_fd; /* closed to take a connection when out of fds (refuse_out_of_fds) */
	struct client *clients;
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
	if (s >= atomic_load_explicit(&d->slots_used, memory_order_relaxed))
		atomic_store_explicit(&d->slots_used, s + 1, memory_order_release);
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
	json_t *ctl = json_pack(
	    "{s:i, s:i, s:i, s:I, s:I, s:I}", "connections", (int)d->ctl.connections,
	    "max_connections", (int)d->cfg.ctl.max_connections, "admin_reserve",
	    (int)d->cfg.ctl.admin_reserve, "refused", (json_int_t)d->ctl.refused, "timed_out",
	    (json_int_t)d->ctl.timed_out, "overflowed", (json_int_t)d->ctl.overflowed);
	return json_pack(
	    "{s:b, s:{s:I, s:I, s:b, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "ok",
	    1, "pool", "buffers", (json_int_t)d->pool.n, "free", (json_int_t)CTR(d->pool.nfree),
	    "hugepages", (int)d->region.hugepages, "region_id",
	    (json_int_t)d->region.layout.region_id, "ports", status_ports(d), "domains", domains,
	    "services", services, "nfs", nfs, "chains", status_chains(d, rt), "default_chain",
	    rt->default_chain < 0 ? json_null() : json_string(rt->chains[rt->default_chain].name),
	    "rules", status_rules(rt), "drops", status_drops(d), "switch", sw, "control", ctl);
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

/* ---- connections ----------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "5 s" or "250 ms", for messages. */
static const char *duration(uint32_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%u ms", ms);
	else
		snprintf(buf, len, "%u s", ms / 1000);
	return buf;
}

/*
 * While replies wait, watch for room to write them and read no more
 * requests: a client that does not read its replies then costs nothing
 * more (idle_timeout ends it), and the manager's work for one client is
 * bounded by what one read brings in.
 */
static int watch(struct manager *m, struct client *c)
{
	uint32_t want = c->out ? EPOLLOUT : c->closing ? 0 : EPOLLIN;
	struct epoll_event ev = {.events = want, .data.ptr = c};

	if (want == c->events)
		return 0;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->conn.fd, &ev) < 0)
		return -errno;
	c->events = want;
	return 0;
}

/* One sendmsg() of what is left of @r, never waiting; its fd rides on the
 * first byte.  Bytes sent or -1 with errno. */
static ssize_t send_reply(int fd, const struct reply *r)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {(char *)r->text + r->off, r->len - r->off};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (r->off == 0 && r->fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &r->fd, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Send queued replies until none is left or the socket is full.  False when
 * the connection must go: broken, or closing and done. */
static bool client_flush(struct manager *m, struct client *c, int64_t now)
{
	while (c->out) {
		struct reply *r = c->out;
		ssize_t n = send_reply(c->conn.fd, r);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* EPOLLOUT tells when there is room */
		if (n < 0)
			return false;
		r->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		c->active_ms = now;
		if (r->off < r->len)
			continue;
		c->out = r->next;
		if (!c->out)
			c->out_last = NULL;
		free(r);
	}
	if (c->closing && !c->out)
		return false;
	return watch(m, c) == 0;
}

/* Queue @rep (stolen) with @fd.  One reply always fits, however long (a
 * status of many NFs is); -ENOBUFS when the client left too much unread. */
static int reply_queue(struct manager *m, struct client *c, json_t *rep, int fd)
{
	char *text = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
	struct reply *r = NULL;
	size_t len;
	int ret = -ENOMEM;

	json_decref(rep);
	if (!text)
		goto out;
	len = strlen(text) + 1;
	ret = -ENOBUFS;
	if (c->out && c->out_bytes + len > m->d->cfg.ctl.queue_limit)
		goto out;
	ret = -ENOMEM;
	if (!(r = malloc(sizeof(*r) + len)))
		goto out;
	*r = (struct reply){.len = len, .fd = fd}; /* before the text: padding */
	memcpy(r->text, text, len - 1);
	r->text[len - 1] = '\n';
	if (c->out_last)
		c->out_last->next = r;
	else
		c->out = r;
	c->out_last = r;
	c->out_bytes += len;
	ret = 0;
out:
	free(text);
	return ret;
}

/* Answer: queue the reply and send what the socket takes now.  False when
 * the connection must go (it let too many replies pile up, or broke). */
static bool client_reply(struct manager *m, struct client *c, json_t *rep, int fd, int64_t now)
{
	int ret = reply_queue(m, c, rep, fd);

	if (ret == -ENOBUFS) {
		m->d->ctl.overflowed++;
		LOG_WARN_RL("manager",
			    "pid %d uid %u left more than %u bytes of replies unread: "
			    "disconnected",
			    (int)c->pid, (unsigned)c->uid, m->d->cfg.ctl.queue_limit);
	}
	if (ret < 0)
		return false;
	/* While EPOLLOUT is armed the socket was full: it will say when not. */
	return (c->events & EPOLLOUT) || client_flush(m, c, now);
}

static void client_close(struct manager *m, struct client *c)
{
	struct netvmd *d = m->d;

	if (c->slot >= 0) {
		struct nf_slot *sl = &d->slots[c->slot];
		LOG_INFO("manager", "NF instance %d ('%s', pid %d) disconnected", sl->instance,
			 d->cfg.services[sl->service].name, (int)sl->pid);
		/* The switch takes back its buffers and frees the slot. */
		atomic_store(&sl->state, SLOT_GONE);
		switch_kick(d);
		refresh_replicas(d);
	}
	/* Explicitly: a VM NF's wake_fd is a dup, which would keep the
	 * registration (and this freed client) alive in epoll. */
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->conn.fd, NULL);
	close(c->conn.fd);
	netvm_ctl_conn_free(&c->conn);
	while (c->out) {
		struct reply *r = c->out;
		c->out = r->next;
		free(r);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		m->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->ctl.connections--;
	free(c);
}

/* Read what the client sent and answer every complete request.  False when
 * the connection must go. */
static bool client_input(struct manager *m, struct client *c, int64_t now)
{
	int n = netvm_ctl_fill(&c->conn), fd, ret;
	bool lines = false;
	json_t *req;

	if (n == -EAGAIN || n == -EINTR)
		return true;
	if (n == -EMSGSIZE) {
		/* No way to find the next message: say so, then close. */
		c->closing = true;
		return client_reply(
		    m, c, error_reply(EMSGSIZE, "message longer than %d bytes", NETVM_CTL_MAX_MSG),
		    -1, now);
	}
	if (n == 0 && c->out && c->slot < 0) {
		c->closing = true; /* it shut down its side: it may still read */
		return client_flush(m, c, now);
	}
	if (n <= 0)
		return false;
	while ((ret = netvm_ctl_next(&c->conn, &req, &fd)) != 0) {
		int pass_fd = -1;
		lines = true;
		if (fd >= 0)
			close(fd); /* clients have no reason to send us fds */
		if (ret == 1 && handle_event(m->d, c, req)) {
			json_decref(req);
			continue;
		}
		json_t *rep = ret < 0 ? error_reply(EBADMSG, "request is not a JSON object")
				      : dispatch(m->d, c, req, &pass_fd);
		json_decref(req);
		if (!client_reply(m, c, rep, pass_fd, now))
			return false;
	}
	/* A request's clock starts at its first byte; a finished line restarts it. */
	if (lines)
		c->active_ms = now;
	if (!c->conn.len)
		c->partial_ms = 0;
	else if (lines || !c->partial_ms)
		c->partial_ms = now;
	return true;
}

/* What epoll reported for @c.  False if the connection is gone. */
static bool client_event(struct manager *m, struct client *c, uint32_t events, int64_t now)
{
	bool keep = true;

	if (events & EPOLLOUT)
		keep = client_flush(m, c, now);
	if (keep && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		keep = c->closing ? client_flush(m, c, now) : client_input(m, c, now);
	if (!keep)
		client_close(m, c);
	return keep;
}

/* Close @c for taking too long, telling it why if its socket has room. */
static void timed_out(struct manager *m, struct client *c, int64_t now, const char *why)
{
	m->d->ctl.timed_out++;
	LOG_WARN_RL("manager", "pid %d uid %u: %s: closing the connection", (int)c->pid,
		    (unsigned)c->uid, why);
	if (!c->out) /* else it is not reading anyway */
		client_reply(m, c, error_reply(ETIMEDOUT, "%s: closing", why), -1, now);
	client_close(m, c);
}

/* Every TICK_MS: NFs the switch wants cut off, and connections past their
 * time.  An attached NF's connection never times out, nor does a VM's
 * channel: its guest may take long to boot (netvmctl vm start bounds that). */
static void tick(struct manager *m, int64_t now)
{
	const struct cfg_control *ctl = &m->d->cfg.ctl;
	struct client *c, *next;
	char why[64], t[32];

	for (c = m->clients; c; c = next) {
		next = c->next;
		if (c->slot >= 0) {
			if (atomic_load(&m->d->slots[c->slot].cut)) {
				LOG_WARN("manager", "NF instance %d cut off (bad descriptors)",
					 m->d->slots[c->slot].instance);
				client_close(m, c);
			}
			continue;
		}
		if (c->bound_svc >= 0)
			continue;
		if (ctl->request_timeout_ms && c->partial_ms &&
		    now - c->partial_ms >= ctl->request_timeout_ms) {
			snprintf(why, sizeof(why), "request not complete within %s",
				 duration(ctl->request_timeout_ms, t, sizeof(t)));
			timed_out(m, c, now, why);
		} else if (ctl->idle_timeout_ms && now - c->active_ms >= ctl->idle_timeout_ms) {
			snprintf(why, sizeof(why), "idle for %s",
				 duration(ctl->idle_timeout_ms, t, sizeof(t)));
			timed_out(m, c, now, why);
		}
	}
}

/* Tell a newcomer why it cannot stay, without waiting: its socket buffer is
 * empty, so the line fits. */
static void refuse(struct manager *m, int fd, const char *why)
{
	json_t *rep = error_reply(EAGAIN, "%s", why);
	char *text = rep ? json_dumps(rep, JSON_COMPACT) : NULL;

	m->d->ctl.refused++;
	LOG_WARN_RL("manager", "refused a connection: %s", why);
	if (text) {
		struct iovec iov[2] = {{text, strlen(text)}, {"\n", 1}};
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
		(void)!sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(text);
	json_decref(rep);
	close(fd);
}

/* Take the connection on @fd, or refuse it past the limits.  The last
 * admin_reserve connections are kept for those who may fix things, so a
 * user who fills the rest cannot lock the operator out. */
static struct client *client_new(struct manager *m, int fd, int64_t now)
{
	struct netvmd *d = m->d;
	const struct cfg_control *ctl = &d->cfg.ctl;
	struct ucred cred = {.uid = (uid_t)-1, .gid = (gid_t)-1}; /* unknown peers are nobody */
	socklen_t len = sizeof(cred);
	struct client *c;
	char why[128];

	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	bool admin = peer_is_admin(d, fd, cred.uid, cred.gid);
	if (d->ctl.connections >= ctl->max_connections + (admin ? ctl->admin_reserve : 0)) {
		snprintf(why, sizeof(why), "too many control connections (limit %u%s)",
			 ctl->max_connections,
			 admin && ctl->admin_reserve ? ", and the reserve for admins is in use"
						     : "");
		refuse(m, fd, why);
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		goto fail;
	netvm_ctl_conn_init(&c->conn, fd);
	c->slot = -1;
	c->bound_svc = -1;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->admin = admin;
	c->active_ms = now;
	c->events = EPOLLIN;
	struct epoll_event ev = {.events = c->events, .data.ptr = c};
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	c->next = m->clients;
	if (c->next)
		c->next->prev = c;
	m->clients = c;
	d->ctl.connections++;
	return c;
fail:
	LOG_WARN_RL("manager", "cannot take a connection: %s", strerror(errno));
	free(c);
	close(fd);
	return NULL;
}

/* Out of fds: a pending connection would keep the listening socket readable
 * and the loop spinning.  Give up the spare fd to take it and say why. */
static void refuse_out_of_fds(struct manager *m)
{
	int fd;

	if (m->spare_fd < 0)
		return;
	close(m->spare_fd);
	fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		refuse(m, fd, "netvmd has no file descriptor left for another connection");
	m->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_clients(struct manager *m, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			client_new(m, fd, now);
		else if (errno == EMFILE || errno == ENFILE)
			refuse_out_of_fds(m);
		else if (errno != EINTR && errno != ECONNABORTED)
			return; /* EAGAIN: none left */
	}
}

static unsigned open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!dir)
		return 64; /* a guess */
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

/* Enough fds for every connection the limits allow, on top of what is open
 * now and a VM NF's wake channel (a dup) per slot: raise the soft limit, up
 * to the hard one. */
static void raise_fd_limit(const struct netvmd *d)
{
	const struct cfg_control *ctl = &d->cfg.ctl;
	rlim_t need =
	    (rlim_t)open_fds() + ctl->max_connections + ctl->admin_reserve + d->nslots + FD_SLACK;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
		LOG_WARN("manager",
			 "RLIMIT_NOFILE allows %llu open files, the control socket's limits need "
			 "%llu: connections past that are refused",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
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
	if (ret < 0 || listen(fd, SOMAXCONN) < 0) {
		ret = -errno;
		LOG_ERR("manager", "cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/* Undo manager_open(), also a partial one. */
static void manager_close(struct manager *m)
{
	while (m->clients)
		client_close(m, m->clients);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->sfd >= 0)
		close(m->sfd);
	if (m->spare_fd >= 0)
		close(m->spare_fd);
	if (m->lfd >= 0) {
		close(m->lfd);
		unlink(m->d->cfg.socket);
	}
}

static int epoll_add(struct manager *m, int fd, void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int manager_open(struct manager *m)
{
	const struct cfg_control *ctl = &m->d->cfg.ctl;
	sigset_t mask;
	int ret;

	raise_fd_limit(m->d);
	m->lfd = listen_socket(m->d->cfg.socket, m->d->cfg.socket_gid);
	if (m->lfd < 0)
		return m->lfd;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	m->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (m->sfd < 0 || m->epfd < 0 || m->spare_fd < 0)
		return -errno;
	/* The fds' own addresses tag them: a client's tag is its struct. */
	if ((ret = epoll_add(m, m->sfd, &m->sfd)) < 0 || (ret = epoll_add(m, m->lfd, &m->lfd)) < 0)
		return ret;
	LOG_INFO("manager", "listening on %s (%u connections, %u more for admins)",
		 m->d->cfg.socket, ctl->max_connections, ctl->admin_reserve);
	return 0;
}

/* Handle what epoll reported.  False on SIGINT or SIGTERM. */
static bool serve(struct manager *m, const struct epoll_event *ev, int n, int64_t now)
{
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == &m->sfd) {
			struct signalfd_siginfo si;
			if (read(m->sfd, &si, sizeof(si)) == sizeof(si))
				LOG_INFO("manager", "signal %u: shutting down", si.ssi_signo);
			return false;
		}
		if (ev[i].data.ptr == &m->lfd)
			accept_clients(m, now);
		else
			client_event(m, ev[i].data.ptr, ev[i].events, now);
	}
	return true;
}

int manager_run(struct netvmd *d)
{
	struct manager m = {.d = d, .epfd = -1, .lfd = -1, .sfd = -1, .spare_fd = -1};
	struct epoll_event ev[MAX_EVENTS];
	int ret = manager_open(&m);
	int64_t next_tick = now_ms() + TICK_MS;

	while (ret == 0) {
		int64_t now = now_ms();
		/* Wake at least every TICK_MS to act on NFs the switch wants cut off. */
		int n = epoll_wait(m.epfd, ev, MAX_EVENTS,
				   next_tick > now ? (int)(next_tick - now) : 0);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		now = now_ms();
		if (!serve(&m, ev, n < 0 ? 0 : n, now))
			break;
		if (now >= next_tick) {
			tick(&m, now);
			next_tick = now + TICK_MS;
		}
	}
	manager_close(&m);
	return ret;
}
