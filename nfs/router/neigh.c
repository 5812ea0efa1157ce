/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table: ARP (RFC 826) for IPv4 and neighbour discovery (RFC
 * 4861) for IPv6, with the states of Linux's NUD machine, simplified:
 *
 *   (none) --packet--> INCOMPLETE --reply--> REACHABLE --reachable_ms--> STALE
 *   INCOMPLETE --probes unanswered--> gone (held packets: host unreachable)
 *   STALE --packet--> PROBE (unicast solicitations; the old MAC is used)
 *   PROBE --reply--> REACHABLE;  PROBE --probes unanswered--> gone
 *   STALE --unused for stale_ms--> gone;  PERMANENT: static, never changes
 *
 * While a next hop resolves, up to `queue` packets wait for it (copied into
 * buffers of the NF's stock; the oldest goes first when the queue is full,
 * RFC 4861 7.2.2), `queue_total` in all.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/csum.h>

#include "config.h"
#include "router.h"

#define ETH_LEN 14

static const char *const state_names[] = {"NONE",  "INCOMPLETE", "REACHABLE", "STALE",
					  "PROBE", "FAILED",	 "PERMANENT"};

/* ---- the table ---- */

static inline uint32_t hash(uint8_t family, int ifi, const uint8_t *ip)
{
	uint32_t w[4];

	if (family == 4) { /* the packet path's case: one multiply */
		memcpy(w, ip, 4);
		uint32_t h = (w[0] ^ (uint32_t)ifi << 24) * 0x9e3779b1u;
		return h ^ h >> 15; /* the slot is taken from the low bits */
	}
	memcpy(w, ip, 16);
	uint64_t h =
	    ((uint64_t)w[0] << 32 | w[1]) ^ ((uint64_t)w[2] << 32 | w[3]) * 0xff51afd7ed558ccdull;
	return (uint32_t)((h ^ (h >> 29) ^ (uint64_t)ifi) * 0x9e3779b97f4a7c15ull >> 32);
}

int neigh_init(struct neigh_table *t, const struct rt_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->max = cfg->max_neigh;
	t->cap = 16;
	while (t->cap < 2 * t->max)
		t->cap *= 2;
	t->e = calloc(t->cap, sizeof(*t->e));
	t->held = calloc((size_t)cfg->queue_total + 1, sizeof(*t->held));
	if (!t->e || !t->held) {
		neigh_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->queue_total; i++)
		t->held[i].next = i + 1 < cfg->queue_total ? i + 1 : RT_NONE;
	t->held_free = cfg->queue_total ? 0 : RT_NONE;
	return 0;
}

void neigh_free(struct neigh_table *t)
{
	free(t->e);
	free(t->held);
	memset(t, 0, sizeof(*t));
}

static inline bool same(const struct neigh *n, uint8_t family, int ifi, const uint8_t *ip)
{
	if (n->family != family || n->iface != ifi)
		return false;
	return family == 4 ? !memcmp(n->ip, ip, 4) : !memcmp(n->ip, ip, 16);
}

struct neigh *neigh_find(struct neigh_table *t, uint8_t family, int ifi, const uint8_t *ip)
{
	for (uint32_t i = hash(family, ifi, ip) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct neigh *n = &t->e[i];
		if (n->state == NUD_NONE)
			return NULL;
		if (same(n, family, ifi, ip))
			return n;
	}
}

/* Remove entry @p n (its queue must be empty); later entries of its cluster
 * move up (backward shift), so pointers into the table are stale after. */
static void remove_entry(struct neigh_table *t, struct neigh *n)
{
	uint32_t hole = (uint32_t)(n - t->e), i = hole;

	for (;;) {
		i = (i + 1) & (t->cap - 1);
		struct neigh *m = &t->e[i];
		if (m->state == NUD_NONE)
			break;
		uint32_t home = hash(m->family, m->iface, m->ip) & (t->cap - 1);
		bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
		if (stays)
			continue;
		t->e[hole] = *m;
		hole = i;
	}
	memset(&t->e[hole], 0, sizeof(t->e[hole]));
	t->n--;
}

static struct neigh *create(struct router *r, uint8_t family, int ifi, const uint8_t *ip,
			    uint8_t state)
{
	struct neigh_table *t = &r->nt;

	if (t->n >= t->max) {
		/* full: make room by dropping an unused stale entry */
		for (uint32_t i = 0; i < t->cap; i++)
			if (t->e[i].state == NUD_STALE && t->e[i].qlen == 0) {
				remove_entry(t, &t->e[i]);
				break;
			}
		if (t->n >= t->max)
			return NULL;
	}
	uint32_t i = hash(family, ifi, ip) & (t->cap - 1);
	while (t->e[i].state != NUD_NONE)
		i = (i + 1) & (t->cap - 1);
	struct neigh *n = &t->e[i];
	memset(n, 0, sizeof(*n));
	n->state = state;
	n->family = family;
	n->iface = (uint16_t)ifi;
	memcpy(n->ip, ip, family == 4 ? 4 : 16);
	n->confirmed = n->used = r->now;
	n->qhead = n->qtail = RT_NONE;
	t->n++;
	return n;
}

/* ---- sending ---- */

static inline void send_via(struct router *r, struct netvm_pkt *p, const struct neigh *n, bool made,
			    uint8_t on_send)
{
	const struct rt_iface *ifc = &r->cfg->ifaces[n->iface];

	memcpy(p->data, n->mac, 6);
	memcpy(p->data + 6, ifc->mac, 6);
	netvm_pkt_to_port(p, (uint16_t)ifc->port_id);
	(*r->c[on_send])++;
	if (made)
		rt_emit(r, p);
}

static void solicited_node(const uint8_t *ip, uint8_t *group, uint8_t *mac)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 1, [12] = 0xff};

	memcpy(group, pfx, 13);
	memcpy(group + 13, ip + 13, 3);
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

static uint16_t icmp6_csum(const uint8_t *ip, const uint8_t *l4, uint32_t len)
{
	uint8_t ph[8] = {0};

	wr32(ph, len);
	ph[7] = 58;
	uint32_t s = netvm_csum_add(netvm_csum_add(0, ip + 8, 32), ph, 8);
	return netvm_csum_fold(netvm_csum_add(s, l4, len));
}

/* An ARP request or neighbour solicitation for @p n: broadcast/multicast,
 * or unicast to its known MAC (a probe). */
static void solicit(struct router *r, const struct neigh *n, bool unicast)
{
	const struct rt_iface *ifc = &r->cfg->ifaces[n->iface];
	struct netvm_pkt q;
	uint8_t src[16], *f;

	if (netvm_pkt_alloc(r->nf, &q, NULL) < 0) {
		CNT(r, no_buffer)++;
		return;
	}
	rt_pick_src(r, n->iface, n->family, n->ip, src);
	if (n->family == 4) {
		f = netvm_pkt_append(&q, 42);
		if (unicast)
			memcpy(f, n->mac, 6);
		else
			memset(f, 0xff, 6);
		memcpy(f + 6, ifc->mac, 6);
		wr16(f + 12, 0x0806);
		uint8_t *a = f + ETH_LEN;
		wr16(a, 1);
		wr16(a + 2, 0x0800);
		a[4] = 6;
		a[5] = 4;
		wr16(a + 6, 1);
		memcpy(a + 8, ifc->mac, 6);
		memcpy(a + 14, src, 4);
		memset(a + 18, 0, 6);
		memcpy(a + 24, n->ip, 4);
		CNT(r, arp_out)++;
	} else {
		uint8_t group[16], mac[6];
		f = netvm_pkt_append(&q, ETH_LEN + 40 + 32);
		solicited_node(n->ip, group, mac);
		memcpy(f, unicast ? n->mac : mac, 6);
		memcpy(f + 6, ifc->mac, 6);
		wr16(f + 12, 0x86dd);
		uint8_t *ip = f + ETH_LEN, *icmp = ip + 40;
		wr32(ip, 0x60000000u);
		wr16(ip + 4, 32);
		ip[6] = 58;
		ip[7] = 255;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, unicast ? n->ip : group, 16);
		memset(icmp, 0, 32);
		icmp[0] = 135;
		memcpy(icmp + 8, n->ip, 16);
		icmp[24] = 1; /* source link-layer address */
		icmp[25] = 1;
		memcpy(icmp + 26, ifc->mac, 6);
		uint16_t c = icmp6_csum(ip, icmp, 32);
		memcpy(icmp + 2, &c, 2);
		CNT(r, nd_out)++;
	}
	netvm_pkt_to_port(&q, (uint16_t)ifc->port_id);
	rt_emit(r, &q);
}

/* Send what waits for @p n, now that its MAC is known. */
static void release(struct router *r, struct neigh *n)
{
	struct neigh_table *t = &r->nt;

	while (n->qhead != RT_NONE) {
		uint32_t i = n->qhead;
		struct held *h = &t->held[i];
		n->qhead = h->next;
		n->qlen--;
		send_via(r, &h->pkt, n, true, h->on_send);
		h->next = t->held_free;
		t->held_free = i;
		t->nheld--;
	}
	n->qtail = RT_NONE;
}

/* The neighbour did not answer: the entry goes, and what waited for it
 * gets ICMP host unreachable / ICMPv6 address unreachable (RFC 4861 7.2.2,
 * as Linux's arp_error_report()). */
static void fail(struct router *r, struct neigh *n)
{
	struct neigh_table *t = &r->nt;
	uint32_t i = n->qhead;
	uint8_t family = n->family;

	/* the entry goes first: the errors may need the table */
	remove_entry(t, n);
	while (i != RT_NONE) {
		struct held *h = &t->held[i];
		struct netvm_pkt p = h->pkt;
		uint32_t next = h->next;
		h->next = t->held_free;
		t->held_free = i;
		t->nheld--;
		i = next;
		CNT(r, neigh_failed)++;
		if (family == 4)
			icmp4_error(r, &p, -1, 3, 1, 0, true);
		else
			icmp6_error(r, &p, -1, 1, 3, 0, true);
	}
}

static void hold(struct router *r, struct neigh *n, struct netvm_pkt *p, bool made, uint8_t on_send)
{
	struct neigh_table *t = &r->nt;
	struct netvm_pkt q;

	if (r->cfg->queue == 0 || (t->held_free == RT_NONE && n->qlen == 0)) {
		CNT(r, arp_pending_overflow)++;
		return made ? rt_discard(r, p) : netvm_pkt_drop(p);
	}
	if (n->qlen >= r->cfg->queue || t->held_free == RT_NONE) {
		/* the oldest of this neighbour's goes (RFC 4861 7.2.2) */
		uint32_t i = n->qhead;
		struct held *h = &t->held[i];
		n->qhead = h->next;
		if (n->qhead == RT_NONE)
			n->qtail = RT_NONE;
		n->qlen--;
		rt_discard(r, &h->pkt);
		h->next = t->held_free;
		t->held_free = i;
		t->nheld--;
		CNT(r, arp_pending_overflow)++;
	}
	if (made) {
		q = *p;
	} else {
		/* the burst's buffer goes back with the burst: keep a copy */
		if (netvm_pkt_alloc(r->nf, &q, NULL) < 0) {
			CNT(r, no_buffer)++;
			return netvm_pkt_drop(p);
		}
		uint8_t *d = netvm_pkt_append(&q, p->len);
		if (!d) {
			CNT(r, no_buffer)++;
			rt_discard(r, &q);
			return netvm_pkt_drop(p);
		}
		memcpy(d, p->data, p->len);
		netvm_pkt_drop(p);
	}
	uint32_t i = t->held_free;
	struct held *h = &t->held[i];
	t->held_free = h->next;
	h->pkt = q;
	h->on_send = on_send;
	h->next = RT_NONE;
	if (n->qtail == RT_NONE)
		n->qhead = i;
	else
		t->held[n->qtail].next = i;
	n->qtail = i;
	n->qlen++;
	t->nheld++;
}

void neigh_output(struct router *r, struct netvm_pkt *p, int ifi, uint8_t family, const uint8_t *ip,
		  bool made, enum rt_counter on_send, uint32_t *hint)
{
	struct neigh_table *t = &r->nt;
	struct neigh *n = NULL;

	/* A gateway's entry is remembered by its next hop (the slot may have
	 * moved or been reused since: checked) */
	if (hint && *hint) {
		n = &t->e[*hint - 1];
		if (n->state == NUD_NONE || !same(n, family, ifi, ip))
			n = NULL;
	}
	if (!n) {
		n = neigh_find(t, family, ifi, ip);
		if (hint)
			*hint = n ? (uint32_t)(n - t->e) + 1 : 0;
	}

	if (n && n->state != NUD_INCOMPLETE) {
		if (n->state == NUD_STALE) {
			/* used while stale: confirm it (the timer sends the probes) */
			n->state = NUD_PROBE;
			n->probes = 0;
			n->due = r->now;
		}
		n->used = r->now;
		return send_via(r, p, n, made, (uint8_t)on_send);
	}
	if (!n) {
		n = create(r, family, ifi, ip, NUD_INCOMPLETE);
		if (!n) {
			CNT(r, arp_pending_overflow)++;
			return made ? rt_discard(r, p) : netvm_pkt_drop(p);
		}
		solicit(r, n, false);
		n->probes = 1;
		n->due = r->now + r->cfg->retrans_ms;
	}
	hold(r, n, p, made, (uint8_t)on_send);
}

/* ---- learning ---- */

/* What a neighbour told us: @p mac for (family, ifi, ip); @p confirmed: a
 * reply to us (REACHABLE), else it is only STALE.  @p create: make the
 * entry when there is none. */
static void learn(struct router *r, uint8_t family, int ifi, const uint8_t *ip, const uint8_t *mac,
		  bool confirmed, bool create_it, bool override)
{
	struct neigh *n = neigh_find(&r->nt, family, ifi, ip);

	if (!n) {
		if (!create_it || !(n = create(r, family, ifi, ip, NUD_STALE)))
			return;
		memcpy(n->mac, mac, 6);
		n->state = confirmed ? NUD_REACHABLE : NUD_STALE;
		return;
	}
	if (n->state == NUD_PERMANENT)
		return;
	bool changed = memcmp(n->mac, mac, 6) != 0;
	if (n->state == NUD_INCOMPLETE) {
		memcpy(n->mac, mac, 6);
		n->state = confirmed ? NUD_REACHABLE : NUD_STALE;
		n->confirmed = r->now;
		release(r, n);
		return;
	}
	if (changed && !override) {
		/* RFC 4861 7.2.5: keep the MAC, but it is no longer reachable */
		if (n->state == NUD_REACHABLE)
			n->state = NUD_STALE;
		return;
	}
	memcpy(n->mac, mac, 6);
	if (confirmed) {
		n->state = NUD_REACHABLE;
		n->confirmed = r->now;
	} else if (changed) {
		n->state = NUD_STALE;
	}
}

static bool own_addr(const struct rt_iface *ifc, uint8_t family, const uint8_t *a)
{
	if (family == 6 && !memcmp(a, ifc->ll6, 16))
		return true;
	for (int k = 0; k < ifc->naddr; k++)
		if (ifc->addr[k].family == family &&
		    !memcmp(ifc->addr[k].a, a, family == 4 ? 4 : 16))
			return true;
	return false;
}

static bool on_link(const struct rt_iface *ifc, uint8_t family, const uint8_t *a)
{
	if (family == 6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return true;
	for (int k = 0; k < ifc->naddr; k++)
		if (rt_prefix_has(&ifc->addr[k], family, a))
			return true;
	return false;
}

void neigh_arp_input(struct router *r, struct netvm_pkt *p, int ifi)
{
	const struct rt_iface *ifc = &r->cfg->ifaces[ifi];
	uint8_t *a = p->data + ETH_LEN;

	if (p->len < ETH_LEN + 28 || rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4 || (rd16(a + 6) != 1 && rd16(a + 6) != 2) || (a[8] & 1)) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	CNT(r, local_in)++;
	uint8_t sha[6], spa[4], tpa[4];
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	memcpy(tpa, a + 24, 4);
	bool request = rd16(a + 6) == 1, for_us = own_addr(ifc, 4, tpa);
	bool sender_ok = rd32(spa) != 0 && on_link(ifc, 4, spa) && !own_addr(ifc, 4, spa);

	if (request && for_us) {
		if (sender_ok) /* RFC 826: merge, and add since we are the target */
			learn(r, 4, ifi, spa, sha, false, true, true);
		/* the reply, in place (to 0.0.0.0 for an address probe) */
		wr16(a + 6, 2);
		memcpy(a + 18, sha, 6);
		memcpy(a + 24, spa, 4);
		memcpy(a + 8, ifc->mac, 6);
		memcpy(a + 14, tpa, 4);
		memcpy(p->data, sha, 6);
		memcpy(p->data + 6, ifc->mac, 6);
		p->len = ETH_LEN + 28;
		netvm_pkt_to_port(p, (uint16_t)ifc->port_id);
		CNT(r, arp_out)++;
		return;
	}
	/* a reply to us confirms; anything else only updates what we have */
	if (sender_ok)
		learn(r, 4, ifi, spa, sha, !request && !(p->data[0] & 1), false, true);
	netvm_pkt_drop(p);
}

/* The link-layer address option of type @p type in ND options. */
static const uint8_t *nd_opt(const uint8_t *o, uint32_t len, uint8_t type, bool *bad)
{
	const uint8_t *found = NULL;

	*bad = false;
	while (len >= 2) {
		uint32_t l = o[1] * 8u;
		if (l == 0 || l > len) {
			*bad = true;
			return NULL;
		}
		if (o[0] == type && l >= 8)
			found = o + 2;
		o += l;
		len -= l;
	}
	return found;
}

void neigh_ns_input(struct router *r, struct netvm_pkt *p, int ifi, uint8_t *icmp, uint32_t ilen)
{
	const struct rt_iface *ifc = &r->cfg->ifaces[ifi];
	uint8_t *ip = p->data + ETH_LEN;
	static const uint8_t zero[16];
	uint8_t src[16], target[16], mac[6], dmac[6];
	bool bad;

	/* RFC 4861 7.1.1 */
	if (ip[7] != 255 || icmp[1] != 0 || ilen < 24 || icmp[8] == 0xff) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	const uint8_t *sll = nd_opt(icmp + 24, ilen - 24, 1, &bad);
	memcpy(src, ip + 8, 16);
	memcpy(target, icmp + 8, 16);
	bool dad = !memcmp(src, zero, 16);
	if (bad || (dad && (sll || ip[24] != 0xff))) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	CNT(r, local_in)++;
	if (!own_addr(ifc, 6, target))
		return netvm_pkt_drop(p);
	bool mcast = ip[24] == 0xff;
	if (sll)
		memcpy(mac, sll, 6);
	if (!dad && sll && on_link(ifc, 6, src))
		learn(r, 6, ifi, src, mac, false, true, true);
	/* the advertisement, in place: solicited (unless DAD), override and
	 * with our MAC when the solicitation was multicast, as Linux */
	if (dad) {
		memcpy(dmac, "\x33\x33\x00\x00\x00\x01", 6);
	} else if (sll) {
		memcpy(dmac, mac, 6);
	} else {
		memcpy(dmac, p->data + 6, 6);
	}
	bool opt = mcast || dad;
	uint32_t ilen_out = opt ? 32 : 24;
	if (netvm_pkt_set_len(p, (uint16_t)(ETH_LEN + 40 + ilen_out)) < 0)
		return netvm_pkt_drop(p);
	memcpy(p->data, dmac, 6);
	memcpy(p->data + 6, ifc->mac, 6);
	wr32(ip, 0x60000000u);
	wr16(ip + 4, (uint16_t)ilen_out);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, target, 16);
	if (dad)
		memcpy(ip + 24, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	else
		memcpy(ip + 24, src, 16);
	memset(icmp, 0, ilen_out);
	icmp[0] = 136;
	icmp[4] = (uint8_t)(0x80 | (dad ? 0 : 0x40) | (opt ? 0x20 : 0));
	memcpy(icmp + 8, target, 16);
	if (opt) {
		icmp[24] = 2; /* target link-layer address */
		icmp[25] = 1;
		memcpy(icmp + 26, ifc->mac, 6);
	}
	uint16_t c = icmp6_csum(ip, icmp, ilen_out);
	memcpy(icmp + 2, &c, 2);
	netvm_pkt_to_port(p, (uint16_t)ifc->port_id);
	CNT(r, nd_out)++;
}

void neigh_na_input(struct router *r, struct netvm_pkt *p, int ifi, uint8_t *icmp, uint32_t ilen)
{
	uint8_t *ip = p->data + ETH_LEN;
	bool bad;

	if (ip[7] != 255 || icmp[1] != 0 || ilen < 24 || icmp[8] == 0xff ||
	    (ip[24] == 0xff && (icmp[4] & 0x40))) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	const uint8_t *tll = nd_opt(icmp + 24, ilen - 24, 2, &bad);
	if (bad) {
		CNT(r, bad_header)++;
		return netvm_pkt_drop(p);
	}
	CNT(r, local_in)++;
	struct neigh *n = neigh_find(&r->nt, 6, ifi, icmp + 8);
	if (n && (tll || n->state != NUD_INCOMPLETE))
		learn(r, 6, ifi, icmp + 8, tll ? tll : n->mac, icmp[4] & 0x40, false,
		      (icmp[4] & 0x20) != 0);
	netvm_pkt_drop(p);
}

/* ---- time ---- */

void neigh_tick(struct router *r)
{
	struct neigh_table *t = &r->nt;
	const struct rt_config *cfg = r->cfg;

	for (uint32_t i = 0; i < t->cap; i++) {
		struct neigh *n = &t->e[i];
		switch (n->state) {
		case NUD_INCOMPLETE:
			if (r->now < n->due)
				break;
			if (n->probes < cfg->probes) {
				solicit(r, n, false);
				n->probes++;
				n->due = r->now + cfg->retrans_ms;
				break;
			}
			fail(r, n);
			i--; /* another entry may have moved here */
			break;
		case NUD_REACHABLE:
			if (r->now >= n->confirmed + cfg->reachable_ms)
				n->state = NUD_STALE;
			break;
		case NUD_STALE: {
			uint64_t last = n->used > n->confirmed ? n->used : n->confirmed;
			if (r->now >= last + cfg->stale_ms) {
				remove_entry(t, n);
				i--;
			}
			break;
		}
		case NUD_PROBE:
			if (r->now < n->due)
				break;
			if (n->probes < cfg->probes) {
				solicit(r, n, true);
				n->probes++;
				n->due = r->now + cfg->retrans_ms;
				break;
			}
			remove_entry(t, n); /* nothing is held in PROBE */
			i--;
			break;
		default:
			break;
		}
	}
}

int neigh_add_static(struct router *r)
{
	for (int i = 0; i < r->cfg->nneigh; i++) {
		const struct rt_static_neigh *s = &r->cfg->neigh[i];
		struct neigh *n = create(r, s->ip.family, s->iface, s->ip.a, NUD_PERMANENT);
		if (!n)
			return -1;
		memcpy(n->mac, s->mac, 6);
	}
	return 0;
}

void neigh_print(struct router *r, FILE *f)
{
	const struct neigh_table *t = &r->nt;
	char ip[INET6_ADDRSTRLEN];

	for (uint32_t i = 0; i < t->cap; i++) {
		const struct neigh *n = &t->e[i];
		if (n->state == NUD_NONE)
			continue;
		inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->ip, ip, sizeof(ip));
		fprintf(f, "neigh %s dev %s", ip, r->cfg->ifaces[n->iface].port);
		if (n->state != NUD_INCOMPLETE)
			fprintf(f, " lladdr %02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
				n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		fprintf(f, " %s", state_names[n->state]);
		if (n->qlen)
			fprintf(f, " held %u", n->qlen);
		fprintf(f, "\n");
	}
	fprintf(f, "neigh end: %u entries, %u packets held\n", t->n, t->nheld);
	fflush(f);
}
