/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "tap": a TAP device, so the Linux stack (or any program in the
 * network namespace the device is moved to) is the peer.  The port creates
 * the device (or attaches to a persistent one of that name), brings it up,
 * and moves Ethernet frames between it and the pool.
 *
 * A TAP file descriptor moves one frame per read()/write(); there is no
 * batch call, so this backend makes one system call per packet.  It stops a
 * burst at the first EAGAIN, so an idle port costs one read() per poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "port.h"

#define TAP_BURST_MAX 256

struct tapp {
	int fd;
	char ifname[IFNAMSIZ];
};

/* The option: the TAP device to create or attach to. */
struct tap_conf {
	char ifname[NETVM_IFNAME_MAX];
};

static const char *const tap_keys[] = {"ifname", NULL};

static void *tapp_parse(struct port_args *a)
{
	struct tap_conf *c = calloc(1, sizeof(*c));

	if (!c || port_arg_ifname(a, "ifname", true, c->ifname) || port_args_done(a, tap_keys)) {
		if (!c)
			port_args_fail(a, NULL, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

static int tapp_open(struct netvm_port *port, const void *conf)
{
	const struct tap_conf *cfg = conf;
	struct tapp *tp = calloc(1, sizeof(*tp));
	struct ifreq ifr;
	int rc;

	if (!tp) {
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	tp->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tp->fd < 0) {
		rc = -errno;
		LOG_ERR("port", "port '%s': cannot open /dev/net/tun: %s", port->name,
			strerror(-rc));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No packet-info header and no virtio header: plain frames, which the
	 * kernel segments and checksums for us before handing them over. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->ifname);
	if (ioctl(tp->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		LOG_ERR("port", "port '%s': cannot open TAP device '%s': %s", port->name,
			cfg->ifname, strerror(-rc));
		goto fail;
	}
	snprintf(tp->ifname, sizeof(tp->ifname), "%s", ifr.ifr_name);
	rc = port_if_up(port, tp->ifname);
	if (rc < 0)
		goto fail;
	snprintf(port->info, sizeof(port->info), "tap %s", tp->ifname);
	LOG_INFO("port", "port '%s': TAP device '%s' up", port->name, tp->ifname);
	port->priv = tp;
	port->wait_fd = tp->fd;
	return 0;
fail:
	if (tp->fd >= 0)
		close(tp->fd);
	free(tp);
	return rc;
}

static uint16_t tapp_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	struct tapp *tp = port->priv;
	struct netvm_pool *pool = port->pool;
	uint32_t room = pool->room < UINT16_MAX ? pool->room : UINT16_MAX;
	uint16_t k = 0;
	uint32_t idx;

	/* One buffer at a time: an idle device costs one read(), not a burst
	 * of allocations handed back. */
	while (k < n) {
		ssize_t len;

		if (netvm_pool_alloc_burst(pool, &idx, 1) == 0) {
			uint8_t scratch[1];

			/* Pool empty: take the frame off the queue anyway so the
			 * loss is counted here, not hidden in the device. */
			len = read(tp->fd, scratch, sizeof(scratch));
			if (len < 0)
				break;
			port->stats.rx_nobuf++;
			continue;
		}
		len = read(tp->fd, netvm_region_buf(port->region, idx) + pool->headroom, room);
		if (len <= 0) {
			netvm_pool_free(pool, idx);
			if (len < 0 && errno != EAGAIN && errno != EINTR)
				LOG_WARN_RL("port", "port '%s': read from '%s': %s", port->name,
					    tp->ifname, strerror(errno));
			break;
		}
		if ((size_t)len >= room) {
			/* read() truncates to room: a frame that fills it may be cut (a
			 * frame of exactly room bytes is dropped with them). */
			netvm_pool_free(pool, idx);
			port->stats.rx_too_big++;
			LOG_WARN_RL("port", "port '%s': dropped a frame of %zd+ bytes (room %u)",
				    port->name, len, room);
			continue;
		}
		d[k] = (struct netvm_desc){
		    .buf = idx, .off = (uint16_t)pool->headroom, .len = (uint16_t)len};
		port->stats.rx_bytes += (uint64_t)len;
		k++;
	}
	port->stats.rx += k;
	return k;
}

static uint16_t tapp_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct tapp *tp = port->priv;

	for (uint16_t i = 0; i < n; i++) {
		ssize_t w =
		    write(tp->fd, netvm_region_buf(port->region, d[i].buf) + d[i].off, d[i].len);

		if (w == (ssize_t)d[i].len) {
			port->stats.tx++;
			port->stats.tx_bytes += d[i].len;
		} else {
			/* EAGAIN: the device queue is full (or the device is down):
			 * the frame is dropped, as a NIC would. */
			port->stats.tx_error++;
			if (w < 0 && errno != EAGAIN && errno != EIO)
				LOG_WARN_RL("port", "port '%s': write to '%s': %s", port->name,
					    tp->ifname, strerror(errno));
		}
		netvm_pool_free(port->pool, d[i].buf);
	}
	return n;
}

static void tapp_close(struct netvm_port *port)
{
	struct tapp *tp = port->priv;

	if (!tp)
		return;
	close(tp->fd); /* a non-persistent device goes away with it */
	free(tp);
	port->priv = NULL;
}

const struct port_ops port_tap_ops = {
    .type = "tap",
    .keys = tap_keys,
    .parse = tapp_parse,
    .open = tapp_open,
    .rx_burst = tapp_rx_burst,
    .tx_burst = tapp_tx_burst,
    .close = tapp_close,
};
