/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "pcap": receives the packets of a capture file (read) and writes
 * what it is sent to another (write).  Either file may be absent: with no
 * read file the port never receives; with no write file it discards.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#include "common/log.h"
#include "port.h"

#define PCAP_BURST_MAX 256

struct pcapp {
	pcap_t *rd;	     /* capture being read, or NULL */
	pcap_t *dead;	     /* handle pcap_dump_open needs, or NULL */
	pcap_dumper_t *dump; /* file being written, or NULL */
	bool write_failed;   /* logged once; later packets count as tx_error */
	char rpath[PATH_MAX];
	char wpath[PATH_MAX];
};

static void pcapp_free(struct pcapp *pp)
{
	if (pp->dump)
		pcap_dump_close(pp->dump);
	if (pp->dead)
		pcap_close(pp->dead);
	if (pp->rd)
		pcap_close(pp->rd);
	free(pp);
}

/* The options: the files, relative ones taken against the configuration's
 * directory. */
struct pcap_conf {
	char read[PATH_MAX], write[PATH_MAX];
};

static const char *const pcap_keys[] = {"read", "write", NULL};

static void *pcapp_parse(struct port_args *a)
{
	struct pcap_conf *c = calloc(1, sizeof(*c));

	if (!c) {
		port_args_fail(a, NULL, "out of memory");
		return NULL;
	}
	if (port_arg_path(a, "read", c->read) || port_arg_path(a, "write", c->write) ||
	    port_args_done(a, pcap_keys))
		goto fail;
	if (!c->read[0] && !c->write[0]) {
		port_args_fail(a, NULL, "a pcap port needs 'read' or 'write'");
		goto fail;
	}
	return c;
fail:
	free(c);
	return NULL;
}

static int pcapp_open(struct netvm_port *port, const void *conf)
{
	const struct pcap_conf *cfg = conf;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcapp *pp = calloc(1, sizeof(*pp));

	if (!pp) {
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	snprintf(pp->rpath, sizeof(pp->rpath), "%s", cfg->read);
	snprintf(pp->wpath, sizeof(pp->wpath), "%s", cfg->write);

	/* Opening the output first would truncate the input. */
	if (pp->rpath[0] && strcmp(pp->rpath, pp->wpath) == 0) {
		LOG_ERR("port", "port '%s': read and write are the same file '%s'", port->name,
			pp->rpath);
		goto fail_inval;
	}

	if (pp->rpath[0]) {
		int dlt;

		errbuf[0] = '\0';
		pp->rd = pcap_open_offline(pp->rpath, errbuf);
		if (!pp->rd) {
			LOG_ERR("port", "port '%s': cannot read '%s': %s", port->name, pp->rpath,
				errbuf);
			pcapp_free(pp);
			return -ENOENT;
		}
		dlt = pcap_datalink(pp->rd);
		if (dlt != DLT_EN10MB) {
			const char *dname = pcap_datalink_val_to_name(dlt);

			LOG_ERR("port",
				"port '%s': '%s' has link type %s (%d); only Ethernet (EN10MB) "
				"is supported",
				port->name, pp->rpath, dname ? dname : "unknown", dlt);
			goto fail_inval;
		}
	} else {
		port->rx_done = true; /* nothing will ever come in */
	}

	if (pp->wpath[0]) {
		pp->dead = pcap_open_dead(DLT_EN10MB, 65535);
		if (!pp->dead) {
			LOG_ERR("port", "port '%s': pcap_open_dead failed", port->name);
			pcapp_free(pp);
			return -ENOMEM;
		}
		pp->dump = pcap_dump_open(pp->dead, pp->wpath);
		if (!pp->dump) {
			LOG_ERR("port", "port '%s': cannot write '%s': %s", port->name, pp->wpath,
				pcap_geterr(pp->dead));
			pcapp_free(pp);
			return -EIO;
		}
	}
	port->priv = pp;
	return 0;

fail_inval:
	pcapp_free(pp);
	return -EINVAL;
}

static uint16_t pcapp_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	struct pcapp *pp = port->priv;
	struct netvm_pool *pool = port->pool;
	uint32_t idx[PCAP_BURST_MAX], got, k = 0;
	uint32_t room = pool->room < UINT16_MAX ? pool->room : UINT16_MAX;

	if (port->rx_done || !pp->rd)
		return 0;
	/* A file can wait: with too few buffers read fewer packets, lose none. */
	got = netvm_pool_alloc_burst(pool, idx, n < PCAP_BURST_MAX ? n : PCAP_BURST_MAX);

	while (k < got) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(pp->rd, &h, &data);

		if (rc != 1) {
			if (rc != PCAP_ERROR_BREAK) /* -2 is the end of the file */
				LOG_ERR("port", "port '%s': reading '%s': %s", port->name,
					pp->rpath, pcap_geterr(pp->rd));
			port->rx_done = true;
			break;
		}
		if (h->caplen > room) {
			port->stats.rx_too_big++;
			LOG_WARN_RL("port",
				    "port '%s': '%s': dropped a %u-byte packet (buffer room %u)",
				    port->name, pp->rpath, h->caplen, room);
			continue;
		}
		memcpy(netvm_region_buf(port->region, idx[k]) + pool->headroom, data, h->caplen);
		d[k] = (struct netvm_desc){
		    .buf = idx[k], .off = (uint16_t)pool->headroom, .len = (uint16_t)h->caplen};
		port->stats.rx_bytes += h->caplen;
		k++;
	}
	/* Hand back the unused buffers in reverse so the LIFO is as it was. */
	for (uint32_t i = got; i-- > k;)
		netvm_pool_free(pool, idx[i]);
	port->stats.rx += k;
	return (uint16_t)k;
}

static uint16_t pcapp_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct pcapp *pp = port->priv;
	uint64_t bytes = 0;
	bool ok = !pp->write_failed;

	if (pp->dump && ok) {
		struct pcap_pkthdr h;

		gettimeofday(&h.ts, NULL); /* once per burst */
		for (uint16_t i = 0; i < n; i++) {
			h.caplen = h.len = d[i].len;
			pcap_dump((u_char *)pp->dump, &h,
				  netvm_region_buf(port->region, d[i].buf) + d[i].off);
		}
		/* pcap_dump() reports nothing; the stdio error flag does. */
		if (ferror(pcap_dump_file(pp->dump))) {
			LOG_ERR("port", "port '%s': writing '%s' failed; discarding from now on",
				port->name, pp->wpath);
			pp->write_failed = true;
			ok = false;
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		bytes += d[i].len;
		netvm_pool_free(port->pool, d[i].buf);
	}
	if (ok) {
		port->stats.tx += n;
		port->stats.tx_bytes += bytes;
	} else {
		port->stats.tx_error += n;
	}
	return n;
}

static void pcapp_close(struct netvm_port *port)
{
	struct pcapp *pp = port->priv;

	if (!pp)
		return;
	if (pp->dump && !pp->write_failed &&
	    (pcap_dump_flush(pp->dump) != 0 || ferror(pcap_dump_file(pp->dump))))
		LOG_ERR("port", "port '%s': writing '%s' failed", port->name, pp->wpath);
	pcapp_free(pp);
	port->priv = NULL;
}

const struct port_ops port_pcap_ops = {
    .type = "pcap",
    .keys = pcap_keys,
    .parse = pcapp_parse,
    .open = pcapp_open,
    .rx_burst = pcapp_rx_burst,
    .tx_burst = pcapp_tx_burst,
    .close = pcapp_close,
};
