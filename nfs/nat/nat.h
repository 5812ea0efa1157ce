/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-nat: IPv4 NAPT (source NAT with port translation) for NetVM.
 *
 *   config.c     the configuration file (YAML) -> struct nat_config
 *   table.c      the mappings: a preallocated pool, the inside index (ck_rhs)
 *                and the outside index (one slot per public port), expiry
 *   alloc.c      external port selection (RFC 6056 algorithm 4)
 *   translate.c  the per-packet path: TCP, UDP, ICMP query, hairpinning
 *   icmp.c       ICMP error translation, outer and embedded headers (RFC 5508)
 *   nf_nat.c     the NF: options, attach, counters, timer, handler
 *
 * Single-threaded: one NF instance owns its table (the handler and the timer
 * run on the thread of netvm_nf_run()).  Addresses and ports are kept in
 * network byte order, as they are in the packet.
 */
#ifndef NFS_NAT_H
#define NFS_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <ck_rhs.h>

#define NAT_MAX_PUBLIC	 16 /* public (external) addresses */
#define NAT_MAX_SIDES	 16 /* port names per side */
#define NAT_NAME_LEN	 32
#define NAT_ALLOC_TABLE	 4096 /* RFC 6056 algorithm 4: the perturbation table */
#define NAT_EXPIRY_TICK	 100  /* ms between expiry timer runs */
#define NAT_EXPIRY_SWEEP 10   /* timer runs per sweep of the whole table (1 s) */

/* The protocols with mappings, an index into per-protocol arrays. */
enum nat_proto { NAT_TCP, NAT_UDP, NAT_ICMP, NAT_NPROTO };

/* Where a packet came from, from its ingress port. */
enum nat_side { NAT_SIDE_OTHER, NAT_SIDE_INSIDE, NAT_SIDE_OUTSIDE };

/* What the hairpin path does with a packet from the inside to a public
 * address:port of another inside mapping (RFC 4787 REQ-9). */
enum nat_hairpin {
	NAT_HAIRPIN_NEXT, /* pass it on to the next hop (a router picks the port) */
	NAT_HAIRPIN_PORT, /* send it back out its ingress port, MACs swapped */
	NAT_HAIRPIN_DROP, /* drop it (counted) */
};

/* What nat_translate() decided. */
enum nat_verdict {
	NAT_V_PASS,    /* not the NAT's: unchanged, on to the next hop */
	NAT_V_OUT,     /* translated inside -> outside: next hop */
	NAT_V_IN,      /* translated outside -> inside: next hop */
	NAT_V_HAIRPIN, /* translated both ways: enum nat_hairpin says where */
	NAT_V_DROP,    /* drop it (a counter says why) */
};

/*
 * The counters, one list for the NF's named counters (netvmctl nfs, status
 * JSON), the unit tests and the docs.  Every drop is counted under one drop_
 * cause.  "mappings" is a gauge: the mappings that exist now.
 */
#define NAT_COUNTERS(X)                                                                            \
	X(mappings, "mappings that exist now (a gauge)")                                           \
	X(mappings_created, "mappings created")                                                    \
	X(expired, "mappings expired and freed by the timer")                                      \
	X(out, "packets translated inside -> outside")                                             \
	X(in, "packets translated outside -> inside")                                              \
	X(hairpin, "packets hairpinned inside -> public address -> inside")                        \
	X(icmp_err_out, "ICMP errors from the inside translated (outer and embedded)")             \
	X(icmp_err_in, "ICMP errors from the outside translated (outer and embedded)")             \
	X(passed, "packets that are not the NAT's, passed unchanged")                              \
	X(drop_no_mapping, "unsolicited inbound: no mapping for the public address:port")          \
	X(drop_exhausted, "no free public port for a new mapping (port exhaustion)")               \
	X(drop_table_full, "max_mappings reached: no room for a new mapping")                      \
	X(drop_malformed, "malformed or truncated IPv4, TCP, UDP or ICMP headers")                 \
	X(drop_fragment, "IPv4 fragments after the first (no reassembly, no tracking)")            \
	X(drop_proto, "protocols or ICMP types NAPT cannot translate")                             \
	X(drop_icmp_error, "ICMP errors whose embedded packet is malformed or matches no mapping") \
	X(drop_hairpin, "hairpinned packets with hairpin: drop")

enum nat_counter {
#define NAT_C_ENUM(name, help) NAT_C_##name,
	NAT_COUNTERS(NAT_C_ENUM)
#undef NAT_C_ENUM
	    NAT_C_MAX
};

extern const char *const nat_counter_names[NAT_C_MAX];
extern const char *const nat_counter_help[NAT_C_MAX];

/* Timeouts, in milliseconds. */
struct nat_timeouts {
	uint64_t udp;		  /* RFC 4787 REQ-5: at least 2 min, default 5 min */
	uint64_t tcp_established; /* RFC 5382 REQ-5: at least 2 h 4 min */
	uint64_t tcp_transitory;  /* RFC 5382 REQ-5: at least 4 min */
	uint64_t icmp;		  /* RFC 5508: at least 60 s */
};

struct nat_config {
	char inside[NAT_MAX_SIDES][NAT_NAME_LEN]; /* port names on the private side */
	int n_inside;
	char outside[NAT_MAX_SIDES][NAT_NAME_LEN]; /* port names on the public side */
	int n_outside;
	uint32_t public_addr[NAT_MAX_PUBLIC]; /* network order */
	int n_public;
	uint16_t port_min, port_max; /* external ports and ICMP identifiers, host order */
	uint32_t max_mappings;
	struct nat_timeouts timeout;
	enum nat_hairpin hairpin;
};

/* TCP state of a mapping (bits of nat_map.tcp); see table.c. */
#define NAT_TCP_SYN_OUT 0x01
#define NAT_TCP_SYN_IN	0x02
#define NAT_TCP_FIN_OUT 0x04
#define NAT_TCP_FIN_IN	0x08
#define NAT_TCP_RST	0x10

/* One mapping: (proto, inside address, inside port) <-> (public address,
 * external port), endpoint-independent (RFC 4787 REQ-1). 24 bytes. */
struct nat_map {
	uint32_t in_addr;  /* network order */
	uint16_t in_port;  /* network order: port or ICMP identifier */
	uint16_t ext_port; /* network order */
	uint8_t proto;	   /* enum nat_proto + 1; 0: a free slot */
	uint8_t ext;	   /* index of the public address */
	uint8_t tcp;	   /* NAT_TCP_* bits */
	uint8_t pad[5];
	uint64_t expire; /* ms, on the clock nat_translate() is given */
};
_Static_assert(sizeof(struct nat_map) == 24, "nat_map is 24 bytes");

/* RFC 6056 algorithm 4 state (alloc.c). */
struct nat_alloc {
	uint8_t key_f[16], key_g[16];	 /* SipHash keys of F() and G() */
	uint32_t table[NAT_ALLOC_TABLE]; /* table[] of RFC 6056 algorithm 4 */
};

struct nat_table {
	struct nat_map *maps; /* max_mappings of them */
	uint32_t *free_list;  /* indices of the free slots (a stack) */
	uint32_t n_free;
	uint32_t max;
	/* Inside index: (proto, in_addr, in_port) -> mapping. */
	ck_rhs_t in;
	uint64_t seed; /* of the inside index's hash */
	/* Outside index: NAT_NPROTO x n_pub x 65536 slots, the mapping's index
	 * + 1 (0: the port is free).  Also the "is this port free?" test of the
	 * port allocator. */
	uint32_t *by_port;
	uint32_t n_pub;				   /* public addresses */
	uint32_t used[NAT_NPROTO][NAT_MAX_PUBLIC]; /* ports taken per (proto, address) */
	struct nat_alloc alloc;
	uint32_t sweep; /* next slot the expiry timer looks at */
	const struct nat_config *cfg;
};

/* The whole NAT: configuration, table, counters. */
struct nat {
	struct nat_config cfg;
	struct nat_table t;
	uint64_t *c[NAT_C_MAX];	     /* where each counter lives (shared memory in the NF) */
	uint64_t local_c[NAT_C_MAX]; /* the counters when nat_counters_local() is used */
};

/* config.c */

/* Defaults: ports 1024-65535, 65536 mappings, the RFCs' recommended
 * timeouts, hairpin next. */
void nat_config_defaults(struct nat_config *c);
/* Parse the YAML configuration in @text (@name for messages) into @c.
 * @return 0, or -1 with "name:line: what" in @err.  Warnings (a timeout
 * below what an RFC requires) go to @warn when not NULL. */
int nat_config_parse(const char *name, const char *text, size_t len, struct nat_config *c,
		     char *err, size_t errlen, void (*warn)(const char *msg));
/* Read and parse file @path. */
int nat_config_load(const char *path, struct nat_config *c, char *err, size_t errlen,
		    void (*warn)(const char *msg));

/* table.c */

/* Allocate the table for @cfg (max_mappings, public addresses): every
 * allocation happens here, none later.  @return 0 or -ENOMEM. */
int nat_table_init(struct nat_table *t, const struct nat_config *cfg);
void nat_table_free(struct nat_table *t);
/* The mapping of an inside endpoint, or NULL. */
struct nat_map *nat_lookup_in(struct nat_table *t, int proto, uint32_t addr, uint16_t port);
/* The mapping of public address @ext, port @port (network order), or NULL. */
static inline struct nat_map *nat_lookup_out(struct nat_table *t, int proto, int ext, uint16_t port)
{
	uint32_t i = t->by_port[(((uint32_t)proto * t->n_pub + (uint32_t)ext) << 16) | ntohs(port)];
	return i ? &t->maps[i - 1] : NULL;
}
/* A new mapping for an inside endpoint whose first packet goes to
 * @raddr:@rport (the remote endpoint, which RFC 6056 hashes; ports in
 * network order).  @return it, or NULL with *why NAT_C_drop_exhausted or
 * NAT_C_drop_table_full. */
struct nat_map *nat_create(struct nat_table *t, int proto, uint32_t addr, uint16_t port,
			   uint32_t raddr, uint16_t rport, enum nat_counter *why);
/* Free mapping @m. */
void nat_remove(struct nat_table *t, struct nat_map *m);
/* Look at the next 1/NAT_EXPIRY_SWEEP of the slots and free the mappings
 * expired at @now.  @return how many were freed. */
uint32_t nat_expire(struct nat_table *t, uint64_t now);
/* The timeout a mapping gets now (its protocol and TCP state). */
uint64_t nat_timeout(const struct nat_config *c, const struct nat_map *m);
/* Update a TCP mapping's state from the flags of a segment; @out: it went
 * inside -> outside. */
void nat_tcp_track(struct nat_map *m, uint8_t flags, bool out);

/* alloc.c */

/* New random keys (getrandom()). */
void nat_alloc_init(struct nat_alloc *a);
/* A free external port (host order) on (proto, public address ext) for a
 * mapping whose first packet goes to raddr:rport, RFC 6056 algorithm 4;
 * -1 when every port of the range is taken. */
int nat_alloc_port(struct nat_table *t, int proto, int ext, uint32_t raddr, uint16_t rport);

/* translate.c */

/* Set up a NAT for @cfg (copied) with counters in local_c.  @return 0 or
 * -ENOMEM. */
int nat_init(struct nat *n, const struct nat_config *cfg);
void nat_fini(struct nat *n);
/* Translate the frame @data of @len bytes in place.  @side: where it came
 * from; @now: the clock in ms (monotonic). */
enum nat_verdict nat_translate(struct nat *n, uint8_t *data, uint32_t len, enum nat_side side,
			       uint64_t now);
/* The index of public address @addr (network order), or -1. */
static inline int nat_public_index(const struct nat_config *c, uint32_t addr)
{
	for (int i = 0; i < c->n_public; i++)
		if (c->public_addr[i] == addr)
			return i;
	return -1;
}
/* The timer's work: expire mappings, update the counters. */
void nat_tick(struct nat *n, uint64_t now);

/* icmp.c */

/* An ICMP error (type 3, 11, 12) at @icmp (@len bytes of ICMP message) in the
 * IPv4 packet @ip, from the @side.  Translates the outer header, the embedded
 * IP header and its ports, and every checksum.  @return NAT_V_OUT, NAT_V_IN
 * or NAT_V_DROP (counted). */
enum nat_verdict nat_icmp_error(struct nat *n, uint8_t *ip, uint8_t *icmp, uint32_t len,
				enum nat_side side, int ext);

/* Checksum helpers shared by translate.c and icmp.c. */

/* Store the 16-bit value @v (network order) at @p. */
static inline void nat_put16(uint8_t *p, uint16_t v)
{
	__builtin_memcpy(p, &v, 2);
}
static inline uint16_t nat_get16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}
static inline uint32_t nat_get32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}
static inline void nat_put32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
}
/* The checksum @csum after the bytes @old (@len, even) became @new_ (RFC 1624
 * eqn. 3 over several words). */
uint16_t nat_csum_delta(uint16_t csum, const void *old, const void *new_, size_t len);

#endif
