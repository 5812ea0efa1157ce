/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-router: types shared by its parts.
 *
 *   config.c   the YAML configuration: interfaces (NetVM ports with a MAC
 *              and addresses), static neighbours, timers and limits
 *   routes.c   the route file and the FIB built from it (lpm.c tables and
 *              a next-hop array), connected and local routes included
 *   neigh.c    the neighbour table: ARP and IPv6 neighbour discovery,
 *              packets held while a next hop resolves, ageing
 *   icmp.c     ICMP/ICMPv6 errors and echo replies, the error rate limit
 *   fwd.c      the packet path: checks, lookup, TTL, output
 *   nf_router.c  the program: options, attach, run, reload on SIGHUP
 */
#ifndef NF_ROUTER_H
#define NF_ROUTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netvm/netvm.h>

#include "lpm.h"

#define RT_NAME_MAX 32

/* One list of counters: the enum, the names given to netvm_nf_counter()
 * (shown by `netvmctl nfs` and in the status) and docs/nf-router.md.
 * Every frame received ends in exactly one of fwd_v4, fwd_v6, local_in or
 * a drop cause (held packets once they leave the queue); the others count
 * what the router sends on its own. */
#define RT_COUNTERS(X)                                                                             \
	X(rx, "frames received")                                                                   \
	X(fwd_v4, "IPv4 packets forwarded")                                                        \
	X(fwd_v6, "IPv6 packets forwarded")                                                        \
	X(local_in, "frames for the router itself: ARP, ND, echo requests, other local traffic")   \
	X(echo_out, "ICMP/ICMPv6 echo replies sent")                                               \
	X(icmp_out, "ICMP/ICMPv6 errors sent")                                                     \
	X(arp_out, "ARP requests and replies sent")                                                \
	X(nd_out, "neighbour solicitations and advertisements sent")                               \
	X(reloads, "route files loaded at run time (SIGHUP)")                                      \
	X(reload_errors, "route files refused at run time (the old routes stay)")                  \
	X(not_ip, "drop: neither IPv4, IPv6 nor ARP (VLAN tags included)")                         \
	X(not_for_us, "drop: destination MAC is not the port's, broadcast or multicast")           \
	X(bad_header, "drop: truncated or malformed L2/L3 header (IHL, length, version, ARP, ND)") \
	X(bad_checksum, "drop: IPv4 header checksum (or a local ICMP checksum) wrong")             \
	X(bad_options, "drop: malformed IPv4 options (ICMP parameter problem sent)")               \
	X(src_routed, "drop: IPv4 source route option (LSRR/SSRR), as Linux by default")           \
	X(martian_src,                                                                             \
	  "drop: source address that is never valid (0/8, 127/8, multicast, ours...)")             \
	X(martian_dst, "drop: destination that is never forwarded (0/8, 127/8, ::1, link-local)")  \
	X(mcast_bcast, "drop: broadcast or multicast packet (not routed)")                         \
	X(no_route, "drop: no route (ICMP destination unreachable sent)")                          \
	X(unreachable, "drop: unreachable or prohibit route (ICMP sent)")                          \
	X(blackhole, "drop: blackhole route (silently)")                                           \
	X(ttl_exceeded, "drop: TTL or hop limit <= 1 (ICMP time exceeded sent)")                   \
	X(too_big, "drop: larger than the output MTU (ICMP fragmentation needed / too big sent)")  \
	X(arp_pending_overflow,                                                                    \
	  "drop: held for an unresolved next hop and pushed out of a full queue")                  \
	X(neigh_failed, "drop: next hop did not answer ARP/ND (ICMP host unreachable sent)")       \
	X(no_buffer, "drop: no free buffer to hold a packet or make an ARP/ND/ICMP one")           \
	X(icmp_ratelimited, "ICMP errors not sent because of the rate limit")

enum rt_counter {
#define X(name, doc) C_##name,
	RT_COUNTERS(X)
#undef X
	    RT_NCOUNTERS
};

/* An address of an interface, IPv4 in the first 4 bytes (network order). */
struct rt_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* prefix length */
	uint8_t a[16];
};

struct rt_iface {
	char port[RT_NAME_MAX]; /* the NetVM port it is */
	int port_id;		/* netvm_nf_port_id(), -1 until attached */
	uint8_t mac[6];
	uint32_t mtu;	      /* IP MTU: largest IP packet sent out of it */
	struct rt_addr *addr; /* its addresses (a link-local one is added) */
	int naddr;
	uint8_t ll6[16]; /* fe80::/64 with the EUI-64 of the MAC */
	int line;	 /* of the configuration, for messages */
};

struct rt_static_neigh {
	int iface;
	struct rt_addr ip;
	uint8_t mac[6];
	int line;
};

/* The configuration (config.c): fixed once the router runs. */
struct rt_config {
	char path[4096];   /* the configuration file */
	char routes[4096]; /* the route file, "" for none */
	struct rt_iface *ifaces;
	int nifaces;
	struct rt_static_neigh *neigh;
	int nneigh;
	/* ICMP errors: a token bucket of `icmp_rate` per second, `icmp_burst` deep
	 * (rate 0: no limit) */
	uint32_t icmp_rate, icmp_burst;
	/* neighbours (ms, counts) */
	uint32_t reachable_ms; /* REACHABLE for this long after a confirmation */
	uint32_t stale_ms;     /* an unused STALE entry goes after this long */
	uint32_t retrans_ms;   /* between solicitations */
	uint32_t probes;       /* solicitations before giving up */
	uint32_t queue;	       /* packets held per unresolved neighbour */
	uint32_t queue_total;  /* packets held in all */
	uint32_t max_neigh;    /* neighbour entries */
	uint32_t stock;	       /* free buffers asked for at attach */
	uint32_t timer_ms;     /* the housekeeping timer's period */
};

/* ---- FIB (routes.c) ---- */

enum rt_nh_type {
	NH_LOCAL,	/* one of the router's addresses */
	NH_BROADCAST,	/* a connected subnet's broadcast address */
	NH_CONNECTED,	/* on-link: the destination is the neighbour */
	NH_GATEWAY,	/* via a gateway on a connected subnet */
	NH_BLACKHOLE,	/* dropped silently */
	NH_UNREACHABLE, /* ICMP host unreachable / ICMPv6 no route */
	NH_PROHIBIT,	/* ICMP administratively prohibited */
};

struct rt_nh {
	uint8_t type; /* enum rt_nh_type */
	uint8_t family;
	uint16_t iface; /* output interface (CONNECTED, GATEWAY, LOCAL) */
	uint8_t gw[16]; /* GATEWAY (IPv4 in the first 4 bytes) */
};

struct rt_fib {
	struct lpm *v4, *v6;
	struct rt_nh *nh;
	uint32_t nnh, nh_cap;
	/* per next hop, the packet path's hint of its neighbour entry (written
	 * by the packet path only, once the table is its own) */
	uint32_t *hint;
	uint32_t file_routes4, file_routes6; /* from the route file */
	double load_ms;			     /* how long the build took */
	/* local and broadcast IPv4 addresses: martian sources */
	uint32_t *local4;
	int nlocal4;
};

/* Build the FIB from the interfaces' connected and local routes and the
 * route file (config->routes, or @p text when it is not NULL, named
 * @p name in messages).  @return the FIB, or NULL with "file:line: what
 * is wrong" in @p err. */
struct rt_fib *rt_fib_build(const struct rt_config *cfg, const char *name, const char *text,
			    size_t len, char *err, size_t errlen);
/* The same from the file config->routes. */
struct rt_fib *rt_fib_load(const struct rt_config *cfg, char *err, size_t errlen);
void rt_fib_free(struct rt_fib *fib);
/* Print the routes (the route file's and the connected ones), sorted. */
void rt_fib_print(const struct rt_fib *fib, const struct rt_config *cfg, FILE *f);

/* ---- neighbours (neigh.c) ---- */

enum neigh_state {
	NUD_NONE = 0,	/* free slot */
	NUD_INCOMPLETE, /* resolving: solicitations sent, packets held */
	NUD_REACHABLE,	/* confirmed within reachable_ms */
	NUD_STALE,	/* usable, not confirmed lately */
	NUD_PROBE,	/* used while stale: unicast solicitations sent */
	NUD_FAILED,	/* did not answer: packets get host unreachable for a while */
	NUD_PERMANENT,	/* static, from the configuration */
};

struct neigh {
	uint8_t state;
	uint8_t family;
	uint8_t probes; /* solicitations sent in this state */
	uint8_t mac[6];
	uint16_t iface;
	uint8_t ip[16];
	uint64_t confirmed;    /* ms: last reply / learnt */
	uint64_t used;	       /* ms: last packet sent through it */
	uint64_t due;	       /* ms: next solicitation or state change */
	uint32_t qhead, qtail; /* held packets (indices into the pool), RT_NONE if none */
	uint32_t qlen;
};

#define RT_NONE UINT32_MAX

struct neigh_table {
	struct neigh *e; /* open addressing, cap slots */
	uint32_t cap, n, max;
	/* held packets */
	struct held {
		struct netvm_pkt pkt;
		uint32_t next;
		uint8_t on_send; /* the counter bumped when it is sent */
	} * held;
	uint32_t held_free, nheld;
};

/* ---- the router ---- */

struct router {
	struct rt_config *cfg;
	struct netvm_nf *nf;
	struct rt_fib *fib;		/* what the packet path uses */
	_Atomic(struct rt_fib *) fresh; /* built by the loader, taken between bursts */
	_Atomic(struct rt_fib *) stale; /* swapped out, freed by the loader */
	_Atomic uint32_t reload_failed; /* refused route files, counted by the loader */
	uint32_t reload_failed_seen;
	struct neigh_table nt;
	uint64_t now; /* ms, CLOCK_MONOTONIC_COARSE, read once per burst and tick */
	/* ICMP error token bucket */
	double tokens;
	uint64_t tokens_at;
	uint64_t *c[RT_NCOUNTERS];
	uint64_t local_c[RT_NCOUNTERS]; /* when there is no daemon (tests, bench) */
	int16_t *port_if;		/* port id -> interface index, -1 */
	uint32_t nport_if;
	uint16_t nemit; /* emitted this handler call / tick */
	uint16_t ip_id;
};

#define CNT(r, name) (*(r)->c[C_##name])

/* fwd.c */
void rt_handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg);
void rt_tick(struct netvm_nf *nf, void *arg);
/* Swap in a freshly loaded FIB if the loader has one. */
void rt_take_fresh_fib(struct router *r);
/* Send @p p out of interface @p ifi towards next hop @p nh_ip (resolving
 * it if needed); the packet's Ethernet header is rewritten.  For a packet
 * of this burst (@p made false) or one from the stock (@p made true, which
 * is then emitted or given back). */
void rt_output(struct router *r, struct netvm_pkt *p, int ifi, uint8_t family, const uint8_t *nh_ip,
	       bool made, enum rt_counter on_send);
/* Emit a packet the router made (flushing before NETVM_EMIT_MAX). */
void rt_emit(struct router *r, struct netvm_pkt *p);
/* Give a stock packet back (dropped). */
void rt_discard(struct router *r, struct netvm_pkt *p);
/* The route to @p dst for a packet the router sends: interface and next
 * hop.  @return 0, or -1 when there is none. */
int rt_route_out(struct router *r, uint8_t family, const uint8_t *dst, int in_if, int *ifi,
		 uint8_t *nh_ip);
/* The source address for a packet the router sends out of @p ifi to
 * @p dst. */
void rt_pick_src(const struct router *r, int ifi, uint8_t family, const uint8_t *dst, uint8_t *src);

/* neigh.c */
int neigh_init(struct neigh_table *t, const struct rt_config *cfg);
void neigh_free(struct neigh_table *t);
struct neigh *neigh_find(struct neigh_table *t, uint8_t family, int ifi, const uint8_t *ip);
/* Resolve and send, or hold: the core of rt_output(). */
/* @p hint: where the neighbour was found last time (0: not known), for a
 * next hop that is a gateway; NULL for no hint. */
void neigh_output(struct router *r, struct netvm_pkt *p, int ifi, uint8_t family, const uint8_t *ip,
		  bool made, enum rt_counter on_send, uint32_t *hint);
/* ARP frame received on @p ifi (in place: a request for us becomes the reply). */
void neigh_arp_input(struct router *r, struct netvm_pkt *p, int ifi);
/* A neighbour solicitation / advertisement received (ICMPv6 at @p icmp,
 * @p ilen bytes, checksum checked). */
void neigh_ns_input(struct router *r, struct netvm_pkt *p, int ifi, uint8_t *icmp, uint32_t ilen);
void neigh_na_input(struct router *r, struct netvm_pkt *p, int ifi, uint8_t *icmp, uint32_t ilen);
/* Timers: retransmissions, ageing, failures. */
void neigh_tick(struct router *r);
/* Add the static entries of the configuration. */
int neigh_add_static(struct router *r);
/* Print the table. */
void neigh_print(struct router *r, FILE *f);

/* icmp.c */
/* Turn @p p (a received IPv4 packet at data + 14, trimmed to its total
 * length) into ICMP error @p type/@p code about it and send it, unless
 * RFC 1812 forbids it or the rate limit says no: then @p p is dropped. */
void icmp4_error(struct router *r, struct netvm_pkt *p, int in_if, uint8_t type, uint8_t code,
		 uint32_t info, bool made);
void icmp6_error(struct router *r, struct netvm_pkt *p, int in_if, uint8_t type, uint8_t code,
		 uint32_t info, bool made);
/* Local delivery: echo requests answered, UDP gets port unreachable, the
 * rest is taken in. */
void icmp4_local(struct router *r, struct netvm_pkt *p, int in_if, bool l2_bcast);
void icmp6_local(struct router *r, struct netvm_pkt *p, int in_if, bool dst_mcast);

/* Whether @p a (host order) is one of the router's IPv4 addresses or a
 * connected subnet's broadcast address. */
static inline bool rt_is_local4(const struct rt_fib *fib, uint32_t a)
{
	for (int i = 0; i < fib->nlocal4; i++)
		if (fib->local4[i] == a)
			return true;
	return false;
}

/* Small helpers */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
