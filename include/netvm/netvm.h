/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libnetvm: the API for writing a network function.
 *
 * An NF attaches to the daemon by service name, receives the packet region,
 * and runs a loop that hands bursts of packets to a handler:
 *
 * @code
 * static void handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
 * {
 *         for (uint16_t i = 0; i < n; i++)
 *                 if (pkts[i].len < 60)
 *                         netvm_pkt_drop(&pkts[i]);
 *         // packets left alone go to the next hop of their chain
 * }
 *
 * int main(int argc, char **argv)
 * {
 *         struct netvm_nf *nf = netvm_nf_attach("fw", NULL);
 *         if (!nf) { perror("attach"); return 1; }
 *         netvm_nf_run(nf, handler, NULL); // until SIGINT/SIGTERM
 *         netvm_nf_detach(nf);             // hands back every buffer
 * }
 * @endcode
 *
 * Thread safety: one NF handle is used by one thread.
 */
#ifndef NETVM_NETVM_H
#define NETVM_NETVM_H

#include <stdint.h>
#include <stdbool.h>

#include <netvm/desc.h>
#include <netvm/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default control socket; NETVM_SOCKET in the environment overrides it. */
#define NETVM_DEFAULT_SOCKET "/run/netvm/netvm.sock"
/** Packets handed to the handler at most per call. */
#define NETVM_BURST 32

struct netvm_nf;

/** A packet as the handler sees it: the descriptor plus where its data is. */
struct netvm_pkt {
	uint8_t *data;		/**< first byte of the packet */
	uint16_t len;		/**< packet length; change with the helpers below */
	uint16_t room;		/**< bytes available from data to the buffer's end */
	uint16_t headroom;	/**< bytes free in front of data (netvm_pkt_prepend()) */
	uint16_t in_port;	/**< port it arrived on, NETVM_PORT_NONE if the NF made it */
	struct netvm_desc desc; /**< the descriptor (action and dst are set by the helpers) */
};

/** Packets netvm_nf_emit() queues per handler call at most. */
#define NETVM_EMIT_MAX 64

/** What netvm_nf_run() does when its rx ring is empty. */
enum netvm_idle {
	NETVM_IDLE_DEFAULT = 0, /**< $NETVM_IDLE (poll|adaptive|sleep), else adaptive */
	NETVM_IDLE_POLL,	/**< busy-poll: lowest latency, burns a core */
	NETVM_IDLE_ADAPTIVE,	/**< poll a few microseconds, then sleep until woken */
	NETVM_IDLE_SLEEP,	/**< sleep as soon as the ring is empty */
};

/** Options for netvm_nf_attach(); NULL means all defaults. */
struct netvm_nf_opts {
	/** control socket (default: $NETVM_SOCKET, else NETVM_DEFAULT_SOCKET) */
	const char *socket_path;
	bool quiet;	      /**< no informational messages on stderr */
	enum netvm_idle idle; /**< idle behaviour of netvm_nf_run() */
	/** Free buffers the switch keeps ready for this NF (netvm_pkt_alloc(),
	 *  netvm_pkt_copy()); 0 (the default) for an NF that makes no packets.
	 *  At most ring_size - 1 and a quarter of the pool. */
	uint32_t stock;
};

/**
 * Attach to the daemon as an instance of @p service: connect to the
 * control socket, register, receive and map the region, attach the rings.
 * @return a handle, or NULL with errno set (ECONNREFUSED/ENOENT: no daemon;
 *         ENOENT also when the service is unknown; EBUSY: no free NF slot;
 *         EPROTO: the daemon's reply or region is malformed).
 */
struct netvm_nf *netvm_nf_attach(const char *service, const struct netvm_nf_opts *opts);

/** Called with each burst; set each packet's action with the helpers below. */
typedef void (*netvm_handler_fn)(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n,
				 void *arg);

/**
 * Run the packet loop until netvm_nf_stop() is called, SIGINT or SIGTERM
 * arrives (handlers are installed), or the daemon goes away.  On a
 * requested stop it tells the daemon it is leaving and keeps handling
 * packets until the daemon confirms that no more will come, so every
 * packet passes through @p handler and none is lost.
 * @return 0 on a requested stop, -ECONNRESET when the daemon went away.
 */
int netvm_nf_run(struct netvm_nf *nf, netvm_handler_fn handler, void *arg);

/**
 * Poll once: dequeue up to @p max (<= NETVM_BURST) packets into @p pkts.
 * For NFs that run their own loop; hand them back with netvm_nf_send().
 * @return the number of packets (0..max).
 */
uint16_t netvm_nf_recv(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t max);

/**
 * Return @p n packets to the switch with their actions.  Blocks (spinning)
 * while the tx ring is full; the switch always drains it.
 */
void netvm_nf_send(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n);

/** Ask netvm_nf_run() to return (async-signal-safe). */
void netvm_nf_stop(struct netvm_nf *nf);

/**
 * Leave and free the handle.  If netvm_nf_run() has not already done the
 * leave handshake, tell the daemon and drop what is still queued (there is
 * no handler to check it).  Every buffer goes back to the daemon.
 */
void netvm_nf_detach(struct netvm_nf *nf);

/** Id of service @p name for netvm_pkt_to_service(), or -1 if unknown. */
int netvm_nf_service_id(const struct netvm_nf *nf, const char *name);
/** Id of port @p name for netvm_pkt_to_port(), or -1 if unknown. */
int netvm_nf_port_id(const struct netvm_nf *nf, const char *name);
/** This NF's instance id as assigned by the daemon. */
int netvm_nf_instance(const struct netvm_nf *nf);
/** The service this NF serves. */
const char *netvm_nf_service(const struct netvm_nf *nf);

/* Per-packet actions.  A packet with no action set goes to the next hop. */

/** Drop the packet (the daemon frees the buffer and counts it). */
static inline void netvm_pkt_drop(struct netvm_pkt *p)
{
	p->desc.action = NETVM_ACT_DROP;
}
/** Pass the packet to the next hop of its chain (the default). */
static inline void netvm_pkt_next(struct netvm_pkt *p)
{
	p->desc.action = NETVM_ACT_NEXT;
}
/**
 * Send the packet to service @p id (see netvm_nf_service_id()): to one of
 * its instances, chosen by flow hash.  The packet leaves its chain: once
 * that service passes it on (NETVM_ACT_NEXT) it goes out its output port,
 * not to the hop after this NF.  With no instance running it is dropped
 * and counted as no_route.
 */
static inline void netvm_pkt_to_service(struct netvm_pkt *p, uint16_t id)
{
	p->desc.action = NETVM_ACT_SERVICE;
	p->desc.dst = id;
}
/**
 * Send the packet out of output @p n (0..NETVM_MAX_OUTPUTS-1) of this hop of
 * its chain: the chain's links (configuration, `netvmctl chain set`) say
 * where each output leads.  Output 0 is the default, the next hop, as with
 * netvm_pkt_next(); an output nothing is linked to drops the packet
 * (counted as no_route).  This is how an NF branches a chain: a classifier
 * sends web traffic out of output 1 and the rest out of output 0.
 */
static inline void netvm_pkt_output(struct netvm_pkt *p, uint16_t n)
{
	p->desc.action = n ? NETVM_ACT_OUTPUT : NETVM_ACT_NEXT;
	p->desc.dst = n;
}
/** Send the packet out port @p id (see netvm_nf_port_id()). */
static inline void netvm_pkt_to_port(struct netvm_pkt *p, uint16_t id)
{
	p->desc.action = NETVM_ACT_PORT;
	p->desc.dst = id;
}
/** Change the packet's length (<= room). @return 0 or -EINVAL. */
static inline int netvm_pkt_set_len(struct netvm_pkt *p, uint16_t len)
{
	if (len > p->room)
		return -22; /* -EINVAL without pulling in errno.h */
	p->len = len;
	return 0;
}

/*
 * Headroom and tailroom.  Every buffer reaches its first NF with the pool's
 * headroom (pool.headroom, 128 bytes by default) free in front of the data,
 * so an NF can add headers without copying (encapsulation), and strip them;
 * the rest of the buffer after the data is tailroom.  Names as DPDK's mbuf.
 */

/** Add @p n bytes in front of the data (a new outer header): the new start
 *  of the packet, or NULL (nothing changed) when the headroom is smaller. */
static inline uint8_t *netvm_pkt_prepend(struct netvm_pkt *p, uint16_t n)
{
	if (n > p->headroom)
		return 0;
	p->data -= n;
	p->len += n;
	p->room += n;
	p->headroom -= n;
	p->desc.off -= n;
	return p->data;
}

/** Remove @p n bytes from the front (an outer header): the new start, or
 *  NULL (nothing changed) when the packet is shorter. */
static inline uint8_t *netvm_pkt_adj(struct netvm_pkt *p, uint16_t n)
{
	if (n > p->len)
		return 0;
	p->data += n;
	p->len -= n;
	p->room -= n;
	p->headroom += n;
	p->desc.off += n;
	return p->data;
}

/** Add @p n bytes at the end: where they start, or NULL (nothing changed)
 *  when the tailroom is smaller. */
static inline uint8_t *netvm_pkt_append(struct netvm_pkt *p, uint16_t n)
{
	uint8_t *tail = p->data + p->len;

	if ((uint32_t)p->len + n > p->room)
		return 0;
	p->len += n;
	return tail;
}

/** Remove @p n bytes from the end.  @return 0, or -EINVAL when shorter. */
static inline int netvm_pkt_trim(struct netvm_pkt *p, uint16_t n)
{
	if (n > p->len)
		return -22;
	p->len -= n;
	return 0;
}

/** The packet's flow hash: netvm_pkt_flow_hash() of it as the switch got it
 *  (symmetric; 0 for frames that are not IP).  Recompute after rewriting the
 *  addresses or ports if you need the new flow's. */
static inline uint32_t netvm_pkt_hash(const struct netvm_pkt *p)
{
	return p->desc.hash;
}

/*
 * Making packets.  An NF that asks for a stock at attach (netvm_nf_opts.stock)
 * gets free buffers from it; they are the NF's until it hands them back like
 * any packet (validated as any other), and taken back if it dies.  A packet
 * it makes goes out with the action it sets, after the handler returns and
 * before the burst's own packets (netvm_nf_emit()).
 */

/**
 * Take an empty packet (len 0, the pool's headroom in front) from the stock.
 * With @p like, the new packet takes its place: the same chain and hop, the
 * same ingress port, so netvm_pkt_next()/netvm_pkt_output() work on it as on
 * @p like (which must be a packet of this handler call).  Without, it has no
 * place: send it to a port or a service (netvm_pkt_next() drops it, counted
 * as no_route).
 * @return 0, or -ENOBUFS when the stock is empty (the switch refills it every
 *         round: try again on the next burst).
 */
int netvm_pkt_alloc(struct netvm_nf *nf, struct netvm_pkt *p, const struct netvm_pkt *like);

/** A copy of @p src (its bytes, headroom and place) in a packet from the
 *  stock.  @return 0 or -ENOBUFS. */
int netvm_pkt_copy(struct netvm_nf *nf, struct netvm_pkt *copy, const struct netvm_pkt *src);

/**
 * Send @p p, a packet from netvm_pkt_alloc() or netvm_pkt_copy() with its
 * action set, when this handler call returns (before the burst's own
 * packets).  One input may so give several outputs (mirror, multicast, an
 * ICMP error and the packet itself).
 * @return 0, or -ENOSPC when NETVM_EMIT_MAX are queued already (the packet
 *         is then dropped: its buffer goes back).
 */
int netvm_nf_emit(struct netvm_nf *nf, struct netvm_pkt *p);

/*
 * Timers and counters.
 */

/** Called every period by netvm_nf_run(), with no traffic too (NFs keep
 *  state to expire).  Packets it emits (netvm_nf_emit()) are sent when it
 *  returns. */
typedef void (*netvm_timer_fn)(struct netvm_nf *nf, void *arg);

/**
 * Have netvm_nf_run() call @p fn every @p period_ms milliseconds (one timer
 * per NF; a later call replaces it, period 0 removes it).  An idle NF sleeps
 * until the timer is due instead of polling.
 */
void netvm_nf_set_timer(struct netvm_nf *nf, uint32_t period_ms, netvm_timer_fn fn, void *arg);

/**
 * A counter of this NF called @p name (1..31 characters of A-Z a-z 0-9 _ .
 * -), shown by `netvmctl nfs` and in the daemon's status.  Returns where its
 * value lives (in shared memory; only this NF writes it: increment it
 * plainly), or NULL with errno (EINVAL: a bad name, ENOSPC: more than
 * NETVM_NF_COUNTERS, EPROTO: the daemon refused).  The same name twice gives
 * the same counter.
 */
uint64_t *netvm_nf_counter(struct netvm_nf *nf, const char *name);

#ifdef __cplusplus
}
#endif
#endif
