/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "af_packet": any Linux interface through AF_PACKET sockets with
 * memory-mapped rings (PACKET_RX_RING / PACKET_TX_RING, TPACKET_V2).
 *
 * rx: one socket bound to the interface (ETH_P_ALL, promiscuous unless
 * configured off, outgoing packets ignored) whose ring the port polls with
 * no system call: each frame the kernel marked TP_STATUS_USER is copied into
 * a pool buffer and handed back.  TPACKET_V2 rather than V3: V2 has a status
 * per frame, V3 per block, and a V3 block reaches user space only when full
 * or when its retire timer (milliseconds) fires, which would add that much
 * latency to every packet of a light flow (a ping, a TCP handshake).
 *
 * tx: a second socket bound with protocol 0 (so it receives nothing) with a
 * TX ring: a burst is copied into free frames and sent with one sendto().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "port.h"

#define AFP_RX_FRAMES	1024
#define AFP_TX_FRAMES	512
#define AFP_BLOCK	(1u << 17) /* 128 KiB: a multiple of any page size we meet */
#define AFP_TX_DATA	TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
#define AFP_STATS_EVERY 4096 /* polls between PACKET_STATISTICS reads */

struct afp_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t frame_size, nframes, head;
};

struct afp {
	struct afp_ring rx, tx;
	char ifname[IFNAMSIZ];
	uint32_t polls;
};

static inline struct tpacket2_hdr *afp_frame(const struct afp_ring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * r->frame_size);
}

/* The status word is shared with the kernel: acquire on read, release on write. */
static inline uint32_t afp_status(struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static inline void afp_set_status(struct tpacket2_hdr *h, uint32_t s)
{
	__atomic_store_n(&h->tp_status, s, __ATOMIC_RELEASE);
}

static void afp_ring_close(struct afp_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

/* Open one socket with one ring on interface @ifindex.  @proto 0 = send only. */
static int afp_ring_open(struct netvm_port *port, struct afp_ring *r, int ifindex, int proto,
			 int ring_opt, uint32_t frame_size, uint32_t nframes)
{
	const char *what = ring_opt == PACKET_RX_RING ? "rx" : "tx";
	int ver = TPACKET_V2, one = 1;
	struct tpacket_req req = {
	    .tp_block_size = AFP_BLOCK,
	    .tp_block_nr = nframes / (AFP_BLOCK / frame_size),
	    .tp_frame_size = frame_size,
	    .tp_frame_nr = nframes,
	};
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = (uint16_t)proto, .sll_ifindex = ifindex};
	const char *step;

	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (r->fd < 0) {
		step = "socket";
		goto fail;
	}
	step = "PACKET_VERSION";
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0)
		goto fail;
	if (ring_opt == PACKET_RX_RING) {
		/* What we send ourselves must not come back in. */
		step = "PACKET_IGNORE_OUTGOING";
		if (setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
			goto fail;
	}
	step = ring_opt == PACKET_RX_RING ? "PACKET_RX_RING" : "PACKET_TX_RING";
	if (setsockopt(r->fd, SOL_PACKET, ring_opt, &req, sizeof(req)) < 0)
		goto fail;
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map =
	    mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		step = "mmap";
		goto fail;
	}
	r->frame_size = frame_size;
	r->nframes = nframes;
	r->head = 0;
	step = "bind";
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	return 0;
fail : {
	int e = errno;

	LOG_ERR("port", "port '%s': %s socket on '%s': %s: %s", port->name, what,
		((struct afp *)port->priv)->ifname, step, strerror(e));
	afp_ring_close(r);
	return -e;
}
}

/* The options: the interface, and whether to make it promiscuous. */
struct afp_conf {
	char ifname[NETVM_IFNAME_MAX];
	bool promisc;
};

static const char *const afp_keys[] = {"ifname", "promisc", NULL};

static void *afp_parse(struct port_args *a)
{
	struct afp_conf *c = calloc(1, sizeof(*c));

	if (!c) {
		port_args_fail(a, NULL, "out of memory");
		return NULL;
	}
	c->promisc = true;
	if (port_arg_ifname(a, "ifname", true, c->ifname) ||
	    port_arg_bool(a, "promisc", &c->promisc) || port_args_done(a, afp_keys)) {
		free(c);
		return NULL;
	}
	return c;
}

static int afp_open(struct netvm_port *port, const void *conf)
{
	const struct afp_conf *cfg = conf;
	struct afp *a = calloc(1, sizeof(*a));
	uint32_t frame = 2048;
	int ifindex, rc;

	if (!a) {
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	a->rx.fd = a->tx.fd = -1;
	snprintf(a->ifname, sizeof(a->ifname), "%s", cfg->ifname);
	port->priv = a;
	rc = ifindex = port_if_index(port, a->ifname);
	if (rc < 0)
		goto fail;
	/* A frame holds the header, the link-layer address and the packet: size
	 * it for the largest frame the interface carries (MTU + Ethernet + VLAN)
	 * that a pool buffer can hold; smaller frames keep the rings in cache. */
	{
		struct ifreq ifr = {0};
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		uint32_t want = port->pool->room;

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifname);
		if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && (uint32_t)ifr.ifr_mtu + 18 < want)
			want = (uint32_t)ifr.ifr_mtu + 18;
		if (s >= 0)
			close(s);
		while (frame < 65536 && frame < want + TPACKET2_HDRLEN + 32)
			frame <<= 1;
	}
	rc = port_if_up(port, a->ifname);
	if (rc < 0)
		goto fail;
	rc = afp_ring_open(port, &a->rx, ifindex, htons(ETH_P_ALL), PACKET_RX_RING, frame,
			   AFP_RX_FRAMES);
	if (rc < 0)
		goto fail;
	rc = afp_ring_open(port, &a->tx, ifindex, 0, PACKET_TX_RING, frame, AFP_TX_FRAMES);
	if (rc < 0)
		goto fail;
	if (cfg->promisc) {
		/* Dropped by the kernel when the socket closes. */
		struct packet_mreq mr = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};

		if (setsockopt(a->rx.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			rc = -errno;
			LOG_ERR("port", "port '%s': cannot make '%s' promiscuous: %s", port->name,
				a->ifname, strerror(-rc));
			goto fail;
		}
	}
	port->wait_fd = a->rx.fd;
	snprintf(port->info, sizeof(port->info), "af_packet %s tpacket_v2 mmap rx %u tx %u%s",
		 a->ifname, AFP_RX_FRAMES, AFP_TX_FRAMES, cfg->promisc ? " promisc" : "");
	LOG_INFO("port", "port '%s': %s (frames of %u B)", port->name, port->info, frame);
	return 0;
fail:
	afp_ring_close(&a->rx);
	afp_ring_close(&a->tx);
	free(a);
	port->priv = NULL;
	return rc;
}

/* Packets the kernel dropped because the ring was full (the read resets them). */
static void afp_read_drops(struct netvm_port *port)
{
	struct afp *a = port->priv;
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(a->rx.fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		port->stats.rx_dropped += st.tp_drops;
}

static uint16_t afp_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	struct afp *a = port->priv;
	struct afp_ring *r = &a->rx;
	struct netvm_pool *pool = port->pool;
	uint32_t room = pool->room < UINT16_MAX ? pool->room : UINT16_MAX;
	uint16_t k = 0;

	if (++a->polls == AFP_STATS_EVERY) {
		a->polls = 0;
		afp_read_drops(port);
	}
	while (k < n) {
		struct tpacket2_hdr *h = afp_frame(r, r->head);
		uint32_t st = afp_status(h), len, vlan;
		uint32_t idx;
		uint8_t *dst;
		const uint8_t *src;

		if (!(st & TP_STATUS_USER))
			break;
		src = (const uint8_t *)h + h->tp_mac;
		len = h->tp_snaplen;
		/* The kernel took the VLAN tag out: put it back in the frame. */
		vlan = (st & TP_STATUS_VLAN_VALID) && len >= 12 ? 4 : 0;
		if (h->tp_snaplen < h->tp_len || len + vlan > room) {
			port->stats.rx_too_big++;
			LOG_WARN_RL("port", "port '%s': dropped a %u-byte packet (buffer room %u)",
				    port->name, h->tp_len, room);
		} else if (netvm_pool_alloc_burst(pool, &idx, 1) == 0) {
			port->stats.rx_nobuf++;
		} else {
			dst = netvm_region_buf(port->region, idx) + pool->headroom;
			if (vlan) {
				uint16_t tpid = (st & TP_STATUS_VLAN_TPID_VALID) && h->tp_vlan_tpid
						    ? h->tp_vlan_tpid
						    : ETH_P_8021Q;

				memcpy(dst, src, 12);
				dst[12] = (uint8_t)(tpid >> 8), dst[13] = (uint8_t)tpid;
				dst[14] = (uint8_t)(h->tp_vlan_tci >> 8);
				dst[15] = (uint8_t)h->tp_vlan_tci;
				memcpy(dst + 16, src + 12, len - 12);
			} else {
				memcpy(dst, src, len);
			}
			len += vlan;
			d[k++] = (struct netvm_desc){
			    .buf = idx, .off = (uint16_t)pool->headroom, .len = (uint16_t)len};
			port->stats.rx_bytes += len;
		}
		afp_set_status(h, TP_STATUS_KERNEL);
		if (++r->head == r->nframes)
			r->head = 0;
	}
	port->stats.rx += k;
	return k;
}

static uint16_t afp_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct afp *a = port->priv;
	struct afp_ring *r = &a->tx;
	uint32_t max = r->frame_size - AFP_TX_DATA;
	uint64_t bytes = 0;
	uint16_t k = 0, sent = 0;

	for (; k < n; k++) {
		struct tpacket2_hdr *h = afp_frame(r, r->head);
		uint32_t st = afp_status(h);

		if (st & TP_STATUS_WRONG_FORMAT) {
			/* The kernel refused what we put here earlier: it was
			 * counted as sent when queued, it is an error instead. */
			port->stats.tx_error++;
			port->stats.tx--;
		} else if (st != TP_STATUS_AVAILABLE) {
			break; /* ring full: the switch counts the rest as port_tx drops */
		}
		if (d[k].len > max) {
			port->stats.tx_error++;
			netvm_pool_free(port->pool, d[k].buf);
			continue;
		}
		memcpy((uint8_t *)h + AFP_TX_DATA,
		       netvm_region_buf(port->region, d[k].buf) + d[k].off, d[k].len);
		h->tp_len = d[k].len;
		afp_set_status(h, TP_STATUS_SEND_REQUEST);
		if (++r->head == r->nframes)
			r->head = 0;
		bytes += d[k].len;
		sent++;
		netvm_pool_free(port->pool, d[k].buf);
	}
	if (sent) {
		/* One kick for the burst; the kernel sends every SEND_REQUEST frame. */
		if (sendto(r->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS)
			LOG_WARN_RL("port", "port '%s': send on '%s': %s", port->name, a->ifname,
				    strerror(errno));
		port->stats.tx += sent;
		port->stats.tx_bytes += bytes;
	}
	return k;
}

static void afp_close(struct netvm_port *port)
{
	struct afp *a = port->priv;

	if (!a)
		return;
	/* Let the kernel finish what is in the TX ring (bounded wait). */
	for (int i = 0; i < 100; i++) {
		bool busy = false;

		for (uint32_t f = 0; f < a->tx.nframes && !busy; f++)
			busy = afp_status(afp_frame(&a->tx, f)) &
			       (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING);
		if (!busy)
			break;
		sendto(a->tx.fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		poll(NULL, 0, 1);
	}
	afp_read_drops(port);
	afp_ring_close(&a->rx);
	afp_ring_close(&a->tx);
	free(a);
	port->priv = NULL;
}

const struct port_ops port_afpacket_ops = {
    .type = "af_packet",
    .keys = afp_keys,
    .parse = afp_parse,
    .open = afp_open,
    .rx_burst = afp_rx_burst,
    .tx_burst = afp_tx_burst,
    .close = afp_close,
};
