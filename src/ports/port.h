/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: where packets enter and leave NetVM.  One small interface; one
 * file per backend (port_gen.c, port_pcap.c, ...), which parses its own
 * options (the way Open vSwitch's netdev providers take a key/value map):
 * the configuration loader and netvm-pktgen hand it every key they do not
 * know themselves.  A port is used by one thread (the switch's) only.
 *
 * A new backend is one file defining `const struct port_ops port_<name>_ops`,
 * its name in src/ports/meson.build's list, and its section in docs/ports.md.
 */
#ifndef NETVM_PORT_H
#define NETVM_PORT_H

#include <stdint.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

#include <netvm/desc.h>
#include <netvm/region.h>
#include "common/parse.h"
#include "pool.h"

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

/* One backend option as written in a configuration file or on a command
 * line (every key but name, type, output and paused). */
struct port_opt {
	const char *key, *value;
	int line; /* in the configuration file, 0 if not from one */
};

/*
 * A backend's options on their way to its parse op.  The getters in
 * port_args.c take a key, mark it as used and, on a bad value, write the
 * message into err and the option's index into bad, so that the caller can
 * name the file and line.
 */
struct port_args {
	const char *port;	    /* port name, for messages */
	const char *type;	    /* backend type, for messages */
	const char *dir;	    /* relative paths are taken against it (NULL: as given) */
	const struct port_opt *opt; /* the options, in the order written */
	int n;
	uint64_t used; /* bit i: opt[i] was read (at most 64 options) */
	int bad;       /* the option an error is about, -1: the port as a whole */
	char *err;
	size_t errlen;
};

struct port_ops {
	const char *type;	 /* name used in the configuration */
	const char *const *keys; /* the options it takes, NULL-terminated (for messages) */
	/* Parse and check the options (the getters below, then port_args_done())
	 * into a block of its own, freed with free() when the port is done; NULL
	 * with the error in @a.  Nothing is opened: the configuration is checked
	 * before netvmd starts anything. */
	void *(*parse)(struct port_args *a);
	/* Open with what parse returned; set port->priv.  0 or negative errno,
	 * with a message logged. */
	int (*open)(struct netvm_port *port, const void *conf);
	/* Receive up to @n packets into fresh pool buffers; fill buf, off, len
	 * of each descriptor (other fields 0).  Returns how many. */
	uint16_t (*rx_burst)(struct netvm_port *port, struct netvm_desc *d, uint16_t n);
	/* Send up to @n packets; the buffers of the ones consumed are freed by
	 * the port.  Returns how many were consumed (the switch frees the rest
	 * and counts them as tx drops). */
	uint16_t (*tx_burst)(struct netvm_port *port, const struct netvm_desc *d, uint16_t n);
	/* Optional: take back the buffers the kernel has finished sending (the
	 * af_xdp completion ring), so a sender that does not receive does not
	 * run the pool dry.  rx_burst does it too. */
	void (*reap)(struct netvm_port *port);
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

/* The known types as "gen, pcap, ..." (for messages). */
void port_types(char *buf, size_t len);

/*
 * Parse port @a->port's options with the backend @a->type names: its
 * options block (freed with free()), or NULL with the error in @a (an
 * unknown type too).
 */
void *port_parse(struct port_args *a);

/* Open port @id, called @name, with backend @ops and its parsed options
 * @conf, on @pool.  0 or -errno. */
int port_open(struct netvm_port *port, uint16_t id, const char *name, const struct port_ops *ops,
	      const void *conf, struct netvm_pool *pool);
void port_close(struct netvm_port *port);

/* Take back buffers the kernel finished sending, where the backend holds
 * any (af_xdp), else nothing. */
static inline void port_reap(struct netvm_port *port)
{
	if (port->ops->reap)
		port->ops->reap(port);
}

/* ---- getters for a backend's parse op (port_args.c) ------------------- */

/* The value of @key, marked as read, or NULL when it is not given. */
const char *port_arg(struct port_args *a, const char *key);
/* Fill *out from @key when it is given (else leave the default); -1 with the
 * message in @a when the value is bad.  Numbers take k/M/G with @suffix. */
int port_arg_u64(struct port_args *a, const char *key, uint64_t min, uint64_t max, bool suffix,
		 uint64_t *out);
int port_arg_u32(struct port_args *a, const char *key, uint32_t min, uint32_t max, uint32_t *out);
int port_arg_bool(struct port_args *a, const char *key, bool *out);
/* One of @words (aliases map to @values; NULL: the index). */
int port_arg_word(struct port_args *a, const char *key, const char *const *words, const int *values,
		  int *out);
/* An interface name into @out (NETVM_IFNAME_MAX bytes); @required: an error
 * when it is not given. */
int port_arg_ifname(struct port_args *a, const char *key, bool required, char *out);
/* A path into @out (PATH_MAX bytes), relative ones taken against a->dir. */
int port_arg_path(struct port_args *a, const char *key, char *out);
/* An error about option @key (NULL: the port as a whole); returns -1. */
int port_args_fail(struct port_args *a, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* After the getters: -1 naming the first option nobody read ("unknown key
 * 'x' for a gen port (it takes size, flows, rate, count)"). */
int port_args_done(struct port_args *a, const char *const *keys);

/* Helpers shared by the interface backends (port_if.c). */
/* Index of interface @ifname, or a negative errno with a message naming @port. */
int port_if_index(const struct netvm_port *port, const char *ifname);
/* Bring interface @ifname up (IFF_UP); 0 or a negative errno. */
int port_if_up(const struct netvm_port *port, const char *ifname);

#endif
