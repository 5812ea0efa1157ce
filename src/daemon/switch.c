/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch: moves descriptors between ports and NF rings.  One thread,
 * no locks: it owns the pool, the ports and every counter it bumps.
 *
 * A round: receive a burst on every port and classify it (flow rules, else
 * the default chain); take back what every NF returned, validate it and act
 * on it; then flush what was staged for each NF and port.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <netvm/match.h>
#include <netvm/packet.h>
#include "common/log.h"
#include "common/nap.h"
#include "netvmd.h"

#define SW_BURST 32

/* Slots ever used: the manager fills the lowest free slot first, so with
 * max_nfs 1024 and a few NFs the switch looks at a few slots, not 1024. */
static inline uint32_t slots_used(struct netvmd *d)
{
	return atomic_load_explicit(&d->slots_used, memory_order_acquire);
}

static inline void drop_in(struct netvm_pool *pool, uint32_t buf, uint64_t *cause)
{
	netvm_pool_free(pool, buf);
	(*cause)++;
}

/* Drop a buffer of domain 0 (where ports and trusted NFs are). */
static inline void drop(struct netvmd *d, uint32_t buf, uint64_t *cause)
{
	drop_in(&d->pool, buf, cause);
}

/* Wake the NF in slot @sl if it sleeps.  An NF in a VM cannot be woken by
 * a futex: it sleeps in poll() on its virtio-serial port, so it gets a line
 * on its control connection (never blocking the switch: if QEMU's socket is
 * full, wakes are already waiting there). */
static void notify_nf(struct nf_slot *sl)
{
	static const char wake[] = "{\"event\":\"wake\"}\n";
	_Atomic uint32_t *flag = &sl->to_nf.shm->sleeping;

	if (!sl->guest) {
		netvm_ring_notify(&sl->to_nf);
		return;
	}
	/* Only the producer that lowers the flag sends.  A full socket means
	 * wakes are already waiting; a closed one, that the NF is gone. */
	if (netvm_flag_raised(flag) && atomic_exchange_explicit(flag, 0, memory_order_seq_cst))
		(void)!send(sl->wake_fd, wake, sizeof(wake) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Copy a packet into a fresh buffer of another domain, with its routing
 * state, and free the original.  The copy is the boundary: an NF outside
 * domain @from never sees its memory.  False (and a counted drop) when the
 * target pool is empty. */
static bool cross_domain(struct netvmd *d, uint16_t from, uint16_t to, struct netvm_desc *desc)
{
	struct netvm_pool *src = domain_pool(d, from), *dst = domain_pool(d, to);
	uint32_t nb;

	if (!netvm_pool_alloc_burst(dst, &nb, 1)) {
		drop_in(src, desc->buf, &d->sw.drops.no_buffer);
		return false;
	}
	memcpy(netvm_region_buf(domain_region(d, to), nb) + dst->headroom,
	       netvm_region_buf(domain_region(d, from), desc->buf) + desc->off, desc->len);
	dst->meta[nb] = src->meta[desc->buf];
	dst->meta[nb].owner = POOL_OWNER_SWITCH;
	netvm_pool_free(src, desc->buf);
	desc->buf = nb;
	desc->off = (uint16_t)dst->headroom;
	return true;
}

static inline uint32_t flow_hash(struct netvmd *d, const struct netvm_desc *desc,
				 struct buf_meta *m)
{
	if (!m->has_hash) {
		m->hash = netvm_pkt_flow_hash(netvm_region_buf(&d->region, desc->buf) + desc->off,
					      desc->len);
		m->has_hash = 1;
	}
	return m->hash;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t); /* a few ns: no syscall, ms resolution */
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void set_stalled(struct netvmd *d, struct nf_slot *sl, uint32_t s, bool stalled)
{
	atomic_store_explicit(&sl->stalled, stalled, memory_order_relaxed);
	if (stalled)
		LOG_WARN("switch",
			 "NF instance %d ('%s', slot %u) stalled: its ring has been full for %u ms "
			 "without progress; its packets are dropped (nf_stalled) until it takes "
			 "some",
			 sl->instance, d->cfg.services[sl->service].name, s, d->cfg.nf_stall_ms);
	else
		LOG_INFO("switch", "NF instance %d ('%s', slot %u) makes progress again",
			 sl->instance, d->cfg.services[sl->service].name, s);
}

/*
 * Packets are waiting for slot @s and its ring took @sent of them: is the NF
 * stalled (stopped, hung, or far too slow)?  It is once its ring has taken
 * nothing for nf_stall_ms, and is not as soon as it takes something.
 */
static bool slot_stalled(struct netvmd *d, struct nf_slot *sl, uint32_t s, uint32_t sent)
{
	bool stalled = atomic_load_explicit(&sl->stalled, memory_order_relaxed);
	uint64_t now;

	if (sent) {
		sl->blocked_ms = 0;
		if (stalled)
			set_stalled(d, sl, s, false);
		return false;
	}
	if (stalled || !d->cfg.nf_stall_ms)
		return stalled;
	now = now_ms();
	if (!sl->blocked_ms) {
		sl->blocked_ms = now;
		return false;
	}
	if (now - sl->blocked_ms < d->cfg.nf_stall_ms)
		return false;
	set_stalled(d, sl, s, true);
	return true;
}

static void flush_slot(struct netvmd *d, uint32_t s)
{
	struct nf_slot *sl = &d->slots[s];
	struct netvm_pool *pool = domain_pool(d, sl->domain);
	int st = atomic_load_explicit(&sl->state, memory_order_acquire);
	uint64_t *cause = &d->sw.drops.nf_gone;
	uint32_t sent = 0;

	/* A LEAVING NF still drains its ring until the manager confirms the
	 * switch has stopped choosing it, so it may still be given packets. */
	if (st == SLOT_RUNNING || st == SLOT_LEAVING) {
		while (sl->pend_head != sl->pend_tail) {
			uint32_t h = sl->pend_head & sl->pend_mask;
			uint32_t chunk = sl->pend_tail - sl->pend_head;
			if (chunk > sl->pend_mask + 1 - h)
				chunk = sl->pend_mask + 1 - h; /* up to the FIFO's wrap */
			uint32_t n = netvm_ring_enqueue_burst(&sl->to_nf, &sl->pend[h], chunk);
			for (uint32_t i = 0; i < n; i++)
				pool->meta[sl->pend[h + i].buf].owner = (uint16_t)s;
			sl->pend_head += n;
			sent += n;
			if (n < chunk)
				break;
		}
		if (sent) {
			sl->stats.rx += sent;
			notify_nf(sl);
		}
		if (sl->pend_head == sl->pend_tail) {
			sl->blocked_ms = 0;
			return;
		}
		if (slot_stalled(d, sl, s, sent))
			cause = &d->sw.drops.nf_stalled; /* never hold the ports for it */
		else if (d->cfg.backpressure && st == SLOT_RUNNING)
			return; /* the rest waits; the ports are held meanwhile */
		else
			cause = &d->sw.drops.ring_full;
	}
	for (; sl->pend_head != sl->pend_tail; sl->pend_head++)
		drop_in(pool, sl->pend[sl->pend_head & sl->pend_mask].buf, cause);
}

static void flush_port(struct netvmd *d, uint16_t p)
{
	struct port_stage *st = &d->sw.port_stage[p];
	struct netvm_port *port = &d->ports[p];
	uint16_t n = port->ops->tx_burst(port, st->pend, (uint16_t)st->npend);

	for (uint32_t i = n; i < st->npend; i++)
		drop(d, st->pend[i].buf, &d->sw.drops.port_tx);
	st->npend = 0;
}

static inline void stage_port(struct netvmd *d, uint16_t p, const struct netvm_desc *desc)
{
	struct port_stage *st = &d->sw.port_stage[p];

	st->pend[st->npend++] = *desc;
	if (st->npend == SW_STAGE)
		flush_port(d, p);
}

static inline void to_service(struct netvmd *d, const struct route_table *rt, uint16_t svc,
			      struct netvm_desc *desc, struct buf_meta *m)
{
	const struct route_replicas *r = &rt->replicas[svc];
	uint16_t s;

	if (r->n == 0) {
		drop(d, desc->buf, &d->sw.drops.no_route);
		return;
	}
	/* The NF always gets the flow hash (computed once per packet); the
	 * same flow goes to the same replica when there is a choice. */
	desc->hash = flow_hash(d, desc, m);
	s = r->n == 1 ? r->slots[0] : r->slots[desc->hash % r->n];
	struct nf_slot *sl = &d->slots[s];
	/* The NF reads its ingress port in dst; action and flags are the last
	 * NF's: the library resets them. */
	desc->dst = m->in_port;
	if (sl->domain && !cross_domain(d, 0, sl->domain, desc))
		return;
	sl->pend[sl->pend_tail++ & sl->pend_mask] = *desc;
	if (((sl->pend_tail - sl->pend_head) & (SW_STAGE - 1)) == 0)
		flush_slot(d, s);
}

/* Out of the platform by the output port of its ingress port: where a
 * chain ends.  A packet an NF made without an origin has no ingress port. */
static inline void leave(struct netvmd *d, struct netvm_desc *desc, struct buf_meta *m)
{
	if (m->in_port < d->nports)
		stage_port(d, d->ports[m->in_port].out_id, desc);
	else
		drop(d, desc->buf, &d->sw.drops.no_route);
}

/* Send the packet to hop m->hop of its chain, or out when the chain ends. */
static inline void forward(struct netvmd *d, const struct route_table *rt, struct netvm_desc *desc,
			   struct buf_meta *m)
{
	if (m->chain < rt->nchains && m->hop < rt->chains[m->chain].nhops) {
		to_service(d, rt, rt->chains[m->chain].hops[m->hop], desc, m);
		return;
	}
	leave(d, desc, m);
}

/* The NF at hop m->hop sent the packet out of its output @out: follow the
 * chain's links (a line by default: output 0 to the next hop). */
static inline void next_hop(struct netvmd *d, const struct route_table *rt, struct netvm_desc *desc,
			    struct buf_meta *m, unsigned out)
{
	const struct route_chain *c = &rt->chains[m->chain];
	uint16_t to;

	if (m->chain >= rt->nchains || m->hop >= c->nhops) {
		/* No chain (it was sent to a service) or a shorter one now. */
		if (out == 0)
			leave(d, desc, m);
		else
			drop(d, desc->buf, &d->sw.drops.no_route);
		return;
	}
	to = c->next[m->hop * NETVM_MAX_OUTPUTS + out];
	if (to < c->nhops) {
		m->hop = to;
		to_service(d, rt, c->hops[to], desc, m);
	} else if (to == NEXT_OUT) {
		leave(d, desc, m);
	} else if (to == NEXT_DROP) {
		drop(d, desc->buf, &d->sw.drops.nf_drop);
	} else if (to == NEXT_NONE) {
		drop(d, desc->buf, &d->sw.drops.no_route);
	} else {
		stage_port(d, to & ~NEXT_PORT, desc);
	}
}

/* Pick the packet's chain into m->chain: the first flow rule that matches,
 * else the default chain.  False when the flow rules drop it instead: a
 * malformed or evasive frame (netvm_match_tuple()) is dropped before any rule
 * looks at it, unless the configuration says "malformed: pass" (then only
 * rules without ports can match it).  Without rules nothing is parsed. */
static inline bool classify(struct netvmd *d, const struct route_table *rt,
			    const struct netvm_desc *desc, struct buf_meta *m)
{
	struct netvm_5tuple t;

	m->chain = rt->default_chain < 0 ? BUF_NO_CHAIN : (uint16_t)rt->default_chain;
	if (!rt->nrules || netvm_match_tuple(netvm_region_buf(&d->region, desc->buf) + desc->off,
					     desc->len, &t) < 0)
		return true; /* no rules, or not IP: the default chain */
	if (t.malformed && !d->cfg.malformed_pass)
		return false;
	if (!t.malformed) { /* else flow_hash() gives what netvm_pkt_flow_hash() does */
		m->hash = netvm_flow_hash(&t);
		m->has_hash = 1;
	}
	for (uint32_t i = 0; i < rt->nrules; i++)
		if (netvm_match_test(&rt->rules[i].match, &t)) {
			atomic_fetch_add_explicit(&rt->rules[i].hits, 1, memory_order_relaxed);
			m->chain = rt->rules[i].chain;
			break;
		}
	return true;
}

static uint32_t poll_port(struct netvmd *d, const struct route_table *rt, uint16_t p)
{
	struct netvm_port *port = &d->ports[p];
	struct netvm_desc desc[SW_BURST];
	uint16_t n;

	if (port->rx_done || atomic_load_explicit(&port->rx_paused, memory_order_relaxed) ||
	    d->sw.congested)
		return 0;
	n = port_rx_burst(port, desc, SW_BURST);
	for (uint16_t i = 0; i < n; i++) {
		struct buf_meta *m = &d->pool.meta[desc[i].buf];
		m->in_port = p;
		m->hop = 0;
		m->has_hash = 0;
		if (classify(d, rt, &desc[i], m))
			forward(d, rt, &desc[i], m);
		else
			drop(d, desc[i].buf, &d->sw.drops.malformed);
	}
	return n;
}

/* A packet the NF made like another (NETVM_DESC_F_ORIGIN) takes that one's
 * place: chain, hop, ingress port and hash, if the NF still holds it. */
static inline void take_place(struct netvm_pool *pool, const struct netvm_desc *desc, uint16_t s)
{
	uint32_t o = desc->hash;
	struct buf_meta *m = &pool->meta[desc->buf];

	if (o == desc->buf || !netvm_pool_owned_by(pool, o, s))
		return; /* no origin (it was handed back first): no place */
	m->chain = pool->meta[o].chain;
	m->hop = pool->meta[o].hop;
	m->in_port = pool->meta[o].in_port;
	m->hash = pool->meta[o].hash;
	m->has_hash = pool->meta[o].has_hash;
}

/* Act on one descriptor an NF gave back, after checking every field. */
static inline void from_nf(struct netvmd *d, const struct route_table *rt, uint32_t s,
			   struct netvm_desc *desc)
{
	struct nf_slot *sl = &d->slots[s];
	struct netvm_pool *pool = domain_pool(d, sl->domain);
	struct buf_meta *m;

	if (!netvm_pool_owned_by(pool, desc->buf, (uint16_t)s)) {
		/* Not this NF's to give: leave the buffer where it is.  No packet
		 * is dropped, so only the NF's counter moves (drops stay packets). */
		sl->stats.bad_desc++;
		LOG_WARN_RL("switch", "NF slot %u returned buffer %u it does not hold", s,
			    desc->buf);
		goto check_limit;
	}
	pool->meta[desc->buf].owner = POOL_OWNER_SWITCH;
	if ((uint32_t)desc->off + desc->len > d->sw.buf_size || desc->len == 0 ||
	    desc->action >= NETVM_ACT_MAX ||
	    (desc->action == NETVM_ACT_SERVICE && desc->dst >= rt->nservices) ||
	    (desc->action == NETVM_ACT_PORT && desc->dst >= d->nports) ||
	    (desc->action == NETVM_ACT_OUTPUT && desc->dst >= NETVM_MAX_OUTPUTS)) {
		sl->stats.bad_desc++;
		LOG_WARN_RL("switch",
			    "NF slot %u returned a bad descriptor (buf %u off %u len %u action %u)",
			    s, desc->buf, desc->off, desc->len, desc->action);
		drop_in(pool, desc->buf, &d->sw.drops.bad_desc);
		goto check_limit;
	}
	if (desc->action == NETVM_ACT_DROP) {
		sl->stats.dropped++;
		drop_in(pool, desc->buf, &d->sw.drops.nf_drop);
		return;
	}
	if (desc->flags & NETVM_DESC_F_ORIGIN)
		take_place(pool, desc, (uint16_t)s);
	/* Back into domain 0, where routing and ports work. */
	if (sl->domain && !cross_domain(d, sl->domain, 0, desc))
		return;
	m = &d->pool.meta[desc->buf];
	switch (desc->action) {
	case NETVM_ACT_NEXT:
		next_hop(d, rt, desc, m, 0);
		return;
	case NETVM_ACT_OUTPUT:
		next_hop(d, rt, desc, m, desc->dst);
		return;
	case NETVM_ACT_SERVICE:
		m->chain = BUF_NO_CHAIN; /* leaves its chain: after this NF, out */
		to_service(d, rt, desc->dst, desc, m);
		return;
	case NETVM_ACT_PORT:
		stage_port(d, desc->dst, desc);
		return;
	}
	return;
check_limit:
	/* Policy: an NF that keeps handing back garbage is cut off. */
	if (sl->bad_desc_limit && sl->stats.bad_desc > sl->bad_desc_limit &&
	    !atomic_load_explicit(&sl->cut, memory_order_relaxed)) {
		LOG_WARN("switch", "NF instance %d: more than %llu bad descriptors, cutting it off",
			 sl->instance, (unsigned long long)sl->bad_desc_limit);
		atomic_store(&sl->cut, true);
	}
}

static uint32_t poll_nf(struct netvmd *d, const struct route_table *rt, uint32_t s)
{
	struct nf_slot *sl = &d->slots[s];
	struct netvm_desc desc[SW_BURST];
	uint32_t n = netvm_ring_dequeue_burst(&sl->from_nf, desc, SW_BURST);

	sl->stats.tx += n; /* returned, valid or not (bad ones are also in bad_desc) */
	for (uint32_t i = 0; i < n; i++)
		from_nf(d, rt, s, &desc[i]);
	return n;
}

/* Keep slot @s's stock of free buffers at what its NF asked for.  They are
 * the NF's from now on (its owner id), with no place until it makes a
 * packet in one (take_place()). */
static void refill_stock(struct netvmd *d, struct nf_slot *sl, uint32_t s)
{
	struct netvm_pool *pool = domain_pool(d, sl->domain);
	uint32_t have = sl->stock.size - netvm_ring_free_count(&sl->stock), n, k;
	struct netvm_desc desc[SW_BURST];
	uint32_t idx[SW_BURST];

	if (have >= sl->stock_target)
		return;
	n = netvm_pool_alloc_burst(
	    pool, idx, sl->stock_target - have < SW_BURST ? sl->stock_target - have : SW_BURST);
	for (uint32_t i = 0; i < n; i++) {
		pool->meta[idx[i]] = (struct buf_meta){
		    .owner = (uint16_t)s, .chain = BUF_NO_CHAIN, .in_port = NETVM_PORT_NONE};
		desc[i] = (struct netvm_desc){.buf = idx[i], .off = (uint16_t)pool->headroom};
	}
	k = netvm_ring_enqueue_burst(&sl->stock, desc, n);
	for (uint32_t i = k; i < n; i++)
		netvm_pool_free(pool, idx[i]);
}

/* A gone NF's stock: the buffers it never took are no packets, so they go
 * back uncounted (what it took and held is reclaimed as nf_gone).  The
 * ring's entries are the NF's to scribble: only buffers it owns are freed. */
static uint32_t take_back_stock(struct netvmd *d, struct nf_slot *sl, uint32_t s)
{
	struct netvm_pool *pool = domain_pool(d, sl->domain);
	uint32_t cons = atomic_load_explicit(&sl->stock.shm->cons, memory_order_acquire);
	uint32_t n = sl->stock.local - cons, freed = 0;

	for (uint32_t i = 0; n <= sl->stock.size && i < n; i++) {
		uint32_t b = sl->stock.shm->slots[(cons + i) & sl->stock.mask].buf;
		if (netvm_pool_owned_by(pool, b, (uint16_t)s)) {
			netvm_pool_free(pool, b);
			freed++;
		}
	}
	return freed;
}

/* The NF is gone: take what it sent back, then every buffer it still held. */
static void reap_slot(struct netvmd *d, const struct route_table *rt, uint32_t s)
{
	struct nf_slot *sl = &d->slots[s];
	uint32_t n, got = 0;

	while ((n = poll_nf(d, rt, s)) > 0 && got < 4 * sl->from_nf.size)
		got += n;
	flush_slot(d, s); /* not RUNNING: staged packets are counted nf_gone */
	take_back_stock(d, sl, s);
	n = netvm_pool_reclaim(domain_pool(d, sl->domain), (uint16_t)s);
	d->sw.drops.nf_gone += n;
	LOG_INFO("switch",
		 "NF instance %d (slot %u) gone: %u packets taken back, %u buffers reclaimed",
		 sl->instance, s, got, n);
	if (sl->wake_fd >= 0)
		close(sl->wake_fd);
	sl->wake_fd = -1;
	atomic_store_explicit(&sl->state, SLOT_FREE, memory_order_release);
}

uint32_t switch_round(struct netvmd *d)
{
	const struct route_table *rt = atomic_load_explicit(&d->rt, memory_order_acquire);
	uint32_t used = slots_used(d), work = 0;

	for (uint16_t p = 0; p < d->nports; p++)
		work += poll_port(d, rt, p);
	for (uint32_t s = 0; s < used; s++) {
		struct nf_slot *sl = &d->slots[s];
		int st = atomic_load_explicit(&sl->state, memory_order_acquire);
		if (st == SLOT_RUNNING || st == SLOT_LEAVING) {
			work += poll_nf(d, rt, s);
			/* A stalled NF that made room is back, packets waiting or not. */
			if (atomic_load_explicit(&sl->stalled, memory_order_relaxed) &&
			    netvm_ring_free_count(&sl->to_nf))
				slot_stalled(d, sl, s, 1);
			if (sl->stock_target && st == SLOT_RUNNING)
				refill_stock(d, sl, s);
		} else if (st == SLOT_GONE) {
			reap_slot(d, rt, s);
		}
	}
	d->sw.congested = false;
	for (uint32_t s = 0; s < used; s++) {
		struct nf_slot *sl = &d->slots[s];
		if (sl->pend_head != sl->pend_tail) {
			flush_slot(d, s);
			d->sw.congested |= sl->pend_head != sl->pend_tail;
		}
	}
	for (uint16_t p = 0; p < d->nports; p++)
		if (d->sw.port_stage[p].npend)
			flush_port(d, p);
	atomic_fetch_add_explicit(&d->epoch, 1, memory_order_release);
	return work;
}

/* Nothing to do until an NF rings the bell (checked with the bell raised). */
static bool switch_idle(void *arg)
{
	struct netvmd *d = arg;

	for (uint32_t s = 0; s < slots_used(d); s++) {
		struct nf_slot *sl = &d->slots[s];
		int st = atomic_load_explicit(&sl->state, memory_order_acquire);
		if (st == SLOT_GONE || sl->pend_head != sl->pend_tail ||
		    ((st == SLOT_RUNNING || st == SLOT_LEAVING) && netvm_ring_count(&sl->from_nf)))
			return false;
	}
	return !atomic_load(&d->stop) && !portwatch_ready(d);
}

/* Empty rounds before the switch sleeps (some microseconds). */
#define SW_IDLE_SPINS 512

static void *switch_main(void *arg)
{
	struct netvmd *d = arg;
	unsigned idle = 0;

	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		if (switch_round(d)) {
			idle = 0;
			continue;
		}
		if (++idle < SW_IDLE_SPINS || d->cfg.switch_poll)
			continue;
		/* Sleep until an NF or the manager rings, or the port watcher
		 * sees a port's fd readable.  Ports without an fd are polled,
		 * not rung, and NFs of other domains ring their own region's
		 * bell, not ours: while any is live, nap (briefly at first,
		 * nap.h).  NFs in VMs ring ours with a "kick" (manager.c). */
		struct pollfd fds[d->nports + 1];
		uint32_t nfds = 0;
		bool nap = false;
		for (uint16_t p = 0; p < d->nports; p++) {
			struct netvm_port *port = &d->ports[p];
			if (port->rx_done || atomic_load(&port->rx_paused))
				continue;
			if (port->wait_fd < 0 || !d->sw.watch.running)
				nap = true;
			else
				fds[nfds++] =
				    (struct pollfd){.fd = port->wait_fd, .events = POLLIN};
		}
		for (uint32_t s = 0; s < slots_used(d); s++)
			nap |=
			    d->slots[s].domain && atomic_load(&d->slots[s].state) == SLOT_RUNNING;
		/* With watchable ports only, nap for a while anyway (nap.h), or
		 * always with switch_idle: nap. */
		nap |= nfds && (d->cfg.switch_nap || idle - SW_IDLE_SPINS < NAP_DEEP_AFTER);
		if (nap || !nfds)
			portwatch_disarm(d);
		else
			portwatch_arm(d, fds, nfds);
		if (nap)
			d->sw.naps++;
		else
			d->sw.sleeps++;
		netvm_sleep(&d->sw.bell->sleeping, switch_idle, d,
			    nap ? nap_ns(idle - SW_IDLE_SPINS) : 100000000ull);
	}
	return NULL;
}

void switch_kick(struct netvmd *d)
{
	netvm_wake(&d->sw.bell->sleeping);
}

int switch_init(struct netvmd *d)
{
	uint32_t cap = 2 * SW_STAGE;

	if (d->cfg.backpressure)
		while (cap < d->pool.n + SW_STAGE)
			cap <<= 1;
	d->sw.bell = netvm_region_bell(&d->region);
	d->sw.buf_size = 1u << d->region.buf_shift;
	for (uint32_t s = 0; s < d->nslots; s++) {
		d->slots[s].pend = calloc(cap, sizeof(struct netvm_desc));
		if (!d->slots[s].pend)
			return -ENOMEM;
		d->slots[s].pend_mask = cap - 1;
		d->slots[s].wake_fd = -1;
	}
	return 0;
}

void switch_fini(struct netvmd *d)
{
	for (uint32_t s = 0; d->slots && s < d->nslots; s++) {
		free(d->slots[s].pend);
		if (d->slots[s].wake_fd >= 0)
			close(d->slots[s].wake_fd);
	}
}

int switch_start(struct netvmd *d)
{
	bool watchable = false;
	int ret;

	for (uint16_t p = 0; p < d->nports; p++)
		watchable |= d->ports[p].wait_fd >= 0;
	if (watchable && (ret = portwatch_start(d)) < 0)
		LOG_WARN("switch", "no port watcher (%s): naps while ports are live",
			 strerror(-ret));
	ret = pthread_create(&d->sw.thread, NULL, switch_main, d);
	if (ret)
		return -ret;
	pthread_setname_np(d->sw.thread, "netvm-switch");
	if (d->cfg.switch_core >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(d->cfg.switch_core, &set);
		ret = pthread_setaffinity_np(d->sw.thread, sizeof(set), &set);
		if (ret)
			LOG_WARN("switch", "cannot pin to core %d: %s", d->cfg.switch_core,
				 strerror(ret));
		else
			LOG_INFO("switch", "pinned to core %d", d->cfg.switch_core);
	}
	return 0;
}

void switch_stop(struct netvmd *d)
{
	atomic_store(&d->stop, true);
	switch_kick(d);
	pthread_join(d->sw.thread, NULL);
	portwatch_stop(d);
}
