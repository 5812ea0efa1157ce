/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: where packets enter and leave NetVM.  One small interface; one
 * file per backend (port_gen.c, port_pcap.c, ...).  A port is used by the
 * switch thread only.
 */
#ifndef NETVMD_PORT_H
#define NETVMD_PORT_H

#include <stdint.h>
#include <stdbool.h>
#include <stdatomic.h>

#include <netvm/desc.h>
#include "../daemon/config.h"
#include "../daemon/pool.h"

/* Counters of one port (written by the switch thread, read by anyone). */
struct port_stats {
	uint64_t rx, rx_bytes; /* packets received into buffers */
	uint64_t tx, tx_bytes; /* packets sent */
	uint64_t rx_nobuf;     /* received packets dropped: pool empty */
	uint64_t rx_too_big;   /* received packets dropped: larger than a buffer */
	uint64_t rx_runt;      /* received frames dropped: shorter than an Ethernet header */
	uint64_t tx_error;     /* packets the backend failed to send (freed) */
	uint64_t rx_dropped;   /* lost before the port saw them (kernel ring full) */
	uint64_t held;	       /* pool buffers the port holds now (af_xdp: lent to the
				* kernel in its fill and tx rings); not free, not lost */
	/* Latency of packets the port itself stamped on receive (gen), over the
	 * last measurement window; 0 when the port does not measure. */
	uint64_t lat_samples, lat_p50_ns, lat_p99_ns, lat_p999_ns;
};

struct netvm_port;

struct port_ops {
	const char *type; /* name used in the configuration */
	/* Open from configuration; set port->priv.  0 or negative errno, with a
	 * message logged. */
	int (*open)(struct netvm_port *port, const struct cfg_port *cfg);
	/* Receive up to @n packets into fresh pool buffers; fill buf, off, len
	 * of each descriptor (other fields 0).  Returns how many. */
	uint16_t (*rx_burst)(struct netvm_port *port, struct netvm_desc *d, uint16_t n);
	/* Send up to @n packets; the buffers of the ones consumed are freed by
	 * the port.  Returns how many were consumed (the switch frees the rest
	 * and counts them as tx drops). */
	uint16_t (*tx_burst)(struct netvm_port *port, const struct netvm_desc *d, uint16_t n);
	/* Flush what is buffered and release everything. */
	void (*close)(struct netvm_port *port);
};

struct netvm_port {
	char name[NETVM_NAME_MAX];
	uint16_t id;
	uint16_t out_id; /* port where chains of packets from here end */
	const struct port_ops *ops;
	void *priv;
	struct netvm_pool *pool;
	struct netvm_region *region;
	bool rx_done;		/* no more input will come (pcap file read to the end) */
	int wait_fd;		/* readable when input waits (poll()), or -1: polled only */
	char info[96];		/* how the backend runs, e.g. "af_xdp skb copy queue 0" */
	_Atomic bool rx_paused; /* set by the manager: do not receive for now */
	struct port_stats stats;
};

#define PORT_MIN_FRAME 14 /* an Ethernet header: anything shorter is a runt */

/*
 * Receive up to @n packets from @port: what every caller uses instead of
 * ops->rx_burst.  Runts (a 0-byte pcap record, a truncated capture) are
 * freed here and counted in stats.rx_runt instead of rx, so no NF is ever
 * handed one (and charged with a bad descriptor when it hands it back).
 */
static inline uint16_t port_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	uint16_t got = port->ops->rx_burst(port, d, n), i, k;

	for (i = 0; i < got && d[i].len >= PORT_MIN_FRAME; i++)
		;
	for (k = i; i < got; i++) {
		if (d[i].len >= PORT_MIN_FRAME) {
			d[k++] = d[i];
			continue;
		}
		netvm_pool_free(port->pool, d[i].buf);
		port->stats.rx--;
		port->stats.rx_bytes -= d[i].len;
		port->stats.rx_runt++;
	}
	return k;
}

/* The backend for configuration type @type, or NULL. */
const struct port_ops *port_ops_find(const char *type);

/* Open port @id from @cfg with the backend its type names.  0 or -errno. */
int port_open(struct netvm_port *port, uint16_t id, const struct cfg_port *cfg,
	      struct netvm_pool *pool);
void port_close(struct netvm_port *port);

extern const struct port_ops port_gen_ops;
extern const struct port_ops port_pcap_ops;
extern const struct port_ops port_tap_ops;
extern const struct port_ops port_afpacket_ops;
#ifdef NETVM_HAVE_AFXDP
extern const struct port_ops port_afxdp_ops;
#endif

/* Helpers shared by the interface backends (port_if.c). */
/* Index of interface @ifname, or a negative errno with a message naming @port. */
int port_if_index(const struct netvm_port *port, const char *ifname);
/* Bring interface @ifname up (IFF_UP); 0 or a negative errno. */
int port_if_up(const struct netvm_port *port, const char *ifname);

#endif
