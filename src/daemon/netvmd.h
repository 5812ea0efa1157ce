/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvmd's shared state: the manager thread (control socket, NF registry)
 * and the switch thread (packet path) meet here.
 *
 * Threading rules:
 *  - The pool, ports, staged descriptors and every counter are written by
 *    the switch thread only; the manager reads counters (relaxed).
 *  - NF slots change state by atomic stores: the manager moves FREE ->
 *    RUNNING -> LEAVING/GONE, the switch moves GONE -> FREE after it has
 *    taken back the slot's buffers.
 *  - The routing table is immutable once published; the manager swaps in a
 *    new one and frees the old after the switch has finished a round
 *    (epoch), so the switch never takes a lock.
 */
#ifndef NETVMD_H
#define NETVMD_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include <netvm/region.h>
#include <netvm/match.h>
#include "config.h"
#include "ports/pool.h"
#include "ports/port.h"

#define SW_STAGE 64 /* descriptors staged per destination before a flush */

enum slot_state { SLOT_FREE, SLOT_RUNNING, SLOT_LEAVING, SLOT_GONE };

struct nf_stats {
	uint64_t rx;	   /* packets given to the NF */
	uint64_t tx;	   /* packets returned by the NF */
	uint64_t dropped;  /* returned with NETVM_ACT_DROP */
	uint64_t bad_desc; /* returned descriptors that failed validation */
};

struct nf_slot {
	_Atomic int state;    /* enum slot_state */
	_Atomic bool cut;     /* set by the switch: too many bad descriptors, disconnect it */
	_Atomic bool stalled; /* set by the switch: its ring stayed full (nf_stall_ms) */
	uint64_t blocked_ms;  /* switch: since when its ring took nothing (0: it did) */
	bool guest;	      /* in a VM: woken by a message, not a futex (wake_fd) */
	int wake_fd;	      /* guest: a dup of its control connection (QEMU's), else -1 */
	uint16_t domain;      /* security domain: whose region its rings and buffers are in */
	uint64_t bad_desc_limit;
	uint16_t service;
	int instance;
	pid_t pid;
	struct netvm_ring to_nf;   /* switch is the producer */
	struct netvm_ring from_nf; /* switch is the consumer */
	struct netvm_ring stock;   /* switch is the producer: free buffers for the NF */
	uint32_t stock_target;	   /* keep this many there (the NF asked at attach) */
	/* The NF's counters: names the manager keeps (the values are in the
	 * region, netvm_region_counters()). */
	uint32_t ncounters;
	char counter_names[NETVM_NF_COUNTERS][NETVM_NAME_MAX];
	struct nf_stats stats;
	/* Descriptors waiting for room in to_nf, oldest first: a FIFO of
	 * pend_mask + 1 entries.  Without backpressure whatever the ring does
	 * not take at a flush is dropped; with it the FIFO holds up to every
	 * buffer of the pool, so it never overflows. */
	struct netvm_desc *pend;
	uint32_t pend_head, pend_tail, pend_mask;
};

/*
 * Why packets were dropped: one list, feeding the counters, the status JSON
 * (in this order), the daemon's exit summary and the docs' table.  Counted
 * by the switch thread where the drop happens.
 */
#define SW_DROP_CAUSES(X)                                                                          \
	X(ring_full, "an NF's rx ring had no room")                                                \
	X(no_route, "its next hop's service has no running instance")                              \
	X(bad_desc, "an NF returned an invalid descriptor")                                        \
	X(nf_gone, "the NF died or left while it was queued for or held by it")                    \
	X(nf_drop, "an NF asked for the drop")                                                     \
	X(nf_stalled, "its NF is stalled (ring full without progress for nf_stall_ms)")            \
	X(port_tx, "a port could not send it")                                                     \
	X(no_buffer, "no free buffer to copy it into another domain")                              \
	X(malformed, "malformed or evasive, dropped before the flow rules (malformed: drop)")

struct sw_drops {
#define SW_DROP_FIELD(name, help) uint64_t name;
	SW_DROP_CAUSES(SW_DROP_FIELD)
#undef SW_DROP_FIELD
};

/* A security domain: a region and its pool.  Domain 0 is the trusted one the
 * ports use (d->region, d->pool); every other domain is reached by copying. */
struct domain {
	char name[NETVM_NAME_MAX];
	struct netvm_region region;
	struct netvm_pool pool;
};

/* Where output k of a chain's hop h goes: next[h * NETVM_MAX_OUTPUTS + k]
 * is a hop of the chain (< nhops), or one of these. */
#define NEXT_OUT  0xffff /* leave: the output port of the packet's ingress port */
#define NEXT_DROP 0xfffe /* dropped, as the configuration says */
#define NEXT_NONE 0xfffd /* nothing is linked to this output: no_route */
#define NEXT_PORT 0x8000 /* | port id: out that port */

/* A link from output @out of hop @from to @to (a hop's service name, "out",
 * "drop" or "port:NAME"), as the configuration or netvmctl wrote it. */
struct route_link {
	const char *from;
	unsigned out;
	const char *to;
};

struct route_chain {
	char name[NETVM_NAME_MAX];
	uint16_t nhops;
	uint16_t *hops; /* service ids */
	uint16_t *next; /* nhops * NETVM_MAX_OUTPUTS targets (NEXT_*) */
	uint16_t nlinks;
	struct route_chain_link {
		uint16_t from, out, to; /* hop, output, target as in next[] */
	} * links;			/* the explicit links, for the status */
};

struct route_rule {
	uint32_t id;
	struct netvm_match match;
	uint16_t chain;
	_Atomic uint64_t hits;
};

struct route_replicas {
	uint16_t n;
	uint16_t *slots; /* running NF slots of the service */
};

/* Everything the switch needs to decide where a packet goes. */
struct route_table {
	uint16_t nchains;
	struct route_chain *chains;
	int default_chain; /* chain id or -1: straight to the output port */
	uint32_t nrules;
	struct route_rule *rules;
	uint16_t nservices;
	struct route_replicas *replicas;
};

/* The port watcher (portwatch.c).  fds/n/seq: written by the switch when it
 * arms the watcher, read by the watcher under the seqlock; armed: switch only. */
struct portwatch {
	pthread_t thread;
	bool running;
	int efd; /* the switch writes it to arm the watcher */
	_Atomic uint32_t seq;
	uint32_t n;
	struct pollfd *fds;
	_Atomic bool watching; /* set by the switch when it arms, cleared by the
				* watcher before it rings */
	uint32_t armed;	       /* fds the switch itself checks before it sleeps, 0: none */
};

/* The control socket's counters (manager thread only; shown by status). */
struct ctl_counters {
	uint32_t connections; /* open now */
	uint64_t refused;     /* newcomers turned away at the limit */
	uint64_t timed_out;   /* closed: idle, or a request not finished in time */
	uint64_t overflowed;  /* closed: too many replies left unread */
};

struct port_stage {
	uint32_t npend;
	struct netvm_desc pend[SW_STAGE];
};

/* What the switch thread owns: it alone writes these (others read the
 * counters, relaxed). */
struct sw_state {
	struct port_stage *port_stage; /* per port: descriptors staged for tx */
	struct netvm_doorbell *bell;   /* NFs ring it when the switch sleeps */
	bool congested;		       /* backpressure: an NF ring is full, hold the ports */
	uint32_t buf_size;	       /* bytes per buffer, for validation */
	struct portwatch watch;
	struct sw_drops drops;
	uint64_t naps, sleeps; /* times it napped / slept (until rung) when idle */
	pthread_t thread;
};

/* What the manager thread owns. */
struct mgr_state {
	int next_instance;
	uint32_t next_rule_id;
	struct route_table *rt; /* the table it last published */
	struct ctl_counters ctl;
};

struct netvmd {
	/* Read-only once loaded. */
	struct netvm_config cfg;

	/* Built by netvmd_open(), fixed in size afterwards.  Buffers, pools and
	 * ports are the switch's (see the threading rules above). */
	struct netvm_region region; /* domain 0 */
	struct netvm_pool pool;	    /* domain 0 */
	uint16_t ndomains;	    /* domains in all, 0 included */
	struct domain *dom;	    /* dom[1..ndomains-1]; dom[0] is unused */
	uint16_t *svc_domain;	    /* domain of each service */
	uint16_t nports;
	struct netvm_port *ports;
	uint32_t nslots;
	struct nf_slot *slots;

	/* Shared by the two threads, by the rules above. */
	_Atomic uint32_t slots_used;	  /* 1 + the highest slot ever opened (manager writes) */
	_Atomic(struct route_table *) rt; /* published by the manager */
	_Atomic uint64_t epoch;		  /* rounds completed by the switch */
	_Atomic bool stop;

	struct sw_state sw;
	struct mgr_state mgr;
};

static inline struct netvm_region *domain_region(struct netvmd *d, uint16_t dom)
{
	return dom ? &d->dom[dom].region : &d->region;
}

static inline struct netvm_pool *domain_pool(struct netvmd *d, uint16_t dom)
{
	return dom ? &d->dom[dom].pool : &d->pool;
}

/* Relaxed read of a counter the switch thread writes. */
#define CTR(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* daemon.c */
/* Build the data plane from d->cfg: region, pool, NF slots, ports, routes. */
int netvmd_open(struct netvmd *d);
/* Undo netvmd_open() (also after a partial one) and free the configuration. */
void netvmd_close(struct netvmd *d);
/* commands.c: give NF slot @s a fresh pair of rings and mark it RUNNING for
 * service @svc; returns the instance number.  @wake_fd >= 0: the NF is in a
 * VM and is woken by a message on that fd (the slot owns it from now). */
int slot_open(struct netvmd *d, uint32_t s, uint16_t svc, pid_t pid, int wake_fd, uint32_t stock);

/* route.c */
/* The table the configuration describes (no replicas yet), or NULL. */
struct route_table *route_from_config(const struct netvmd *d, char *err, size_t errlen);
/* A deep copy of @rt to modify before publishing, or NULL. */
struct route_table *route_clone(const struct route_table *rt);
/* Set or replace chain @name: its hops (service names) and the links from
 * hop outputs (each hop's output 0 goes to the next hop, the last one's out,
 * unless a link says otherwise).  Returns its id, or -ENOENT (an unknown
 * service, hop or port), -EINVAL (a bad link, a cycle), -ENOMEM, with the
 * message in @err. */
int route_chain_set(const struct netvmd *d, struct route_table *rt, const char *name,
		    const char *const *hops, uint16_t nhops, const struct route_link *links,
		    uint16_t nlinks, char *err, size_t errlen);
/* A target as text ("proxy", "out", "drop", "port:p1"), for the status. */
void route_target_name(const struct netvmd *d, const struct route_chain *c, uint16_t to, char *buf,
		       size_t len);
/* Fill the replica lists from the slots that are RUNNING now. */
int route_set_replicas(const struct netvmd *d, struct route_table *rt);
void route_free(struct route_table *rt);
int route_chain_find(const struct route_table *rt, const char *name);
int route_service_find(const struct netvmd *d, const char *name);
/* Publish @rt and free the previous table once the switch has moved on. */
void route_publish(struct netvmd *d, struct route_table *rt);
/* Wait until the switch has finished a round that started after this call. */
void switch_quiesce(struct netvmd *d);

/* switch.c */
/* Allocate the per-slot staging FIFOs (sized for backpressure if on). */
int switch_init(struct netvmd *d);
void switch_fini(struct netvmd *d);
/* Wake the switch if it sleeps (after changing what it should look at). */
void switch_kick(struct netvmd *d);
int switch_start(struct netvmd *d);
void switch_stop(struct netvmd *d);
/* One round of the packet path (exposed for benchmarks and tests). */
uint32_t switch_round(struct netvmd *d);

/* manager.c */
int manager_run(struct netvmd *d);

/* portwatch.c: a thread that rings the sleeping switch when a port's fd is
 * readable.  Start after the ports are open; stop after the switch. */
int portwatch_start(struct netvmd *d);
void portwatch_stop(struct netvmd *d);
/* Switch thread, before it sleeps: watch these fds (and check them itself
 * with portwatch_ready() once its doorbell flag is raised), or none. */
void portwatch_arm(struct netvmd *d, const struct pollfd *fds, uint32_t n);
void portwatch_disarm(struct netvmd *d);
bool portwatch_ready(struct netvmd *d);

#endif
