/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "af_xdp": an AF_XDP socket on one queue of an interface, with its
 * UMEM placed over the pool's buffer area of the shared region.
 *
 * The buffer area is contiguous in the daemon's mapping, 2 MiB aligned, and
 * buffers have a power-of-two stride (4096 by default), which is exactly an
 * XDP frame: UMEM frame i is pool buffer i.  So a received frame already is a
 * NetVM buffer (no copy in user space; none at all on drivers with
 * zero-copy), and any pool buffer can be transmitted as it is.
 *
 * Ownership: the fill ring is kept stocked with pool buffers, and buffers
 * given to the TX ring stay with the port until the completion ring returns
 * them.  While the kernel has them they keep owner POOL_OWNER_SWITCH and a
 * bit in held[]; stats.held counts them.  close() gives every one back.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "common/log.h"
#include "port.h"

#define XSK_RING     2048 /* descriptors in each of the four rings */
#define XSK_STOCK    1024 /* buffers kept in the fill ring */
#define XSK_REFILL   64	  /* refill once this many are missing */
#define XSK_BURST    256
#define XSK_COMP_MAX 512 /* completions taken per poll */

/* The options (docs/ports.md): "auto" tries the fast choice first. */
enum xsk_mode { XSK_MODE_AUTO, XSK_MODE_NATIVE, XSK_MODE_SKB };
enum xsk_zc { XSK_ZC_AUTO, XSK_ZC_YES, XSK_ZC_NO };
struct xdp_conf {
	char ifname[NETVM_IFNAME_MAX];
	enum xsk_mode mode;
	enum xsk_zc zerocopy;
	uint32_t queue;
};

struct xskp {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	int fd;
	uint32_t shift, nbufs;
	uint32_t in_fill; /* buffers lent through the fill ring, not yet received */
	uint32_t in_tx;	  /* buffers in the TX ring, not yet completed */
	uint64_t *held;	  /* bit per pool buffer: the kernel has it */
	char ifname[IFNAMSIZ];
};

static int xskp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* libxdp explains its own fallbacks at warning level; we report the
	 * outcome ourselves, so keep its chatter for -v. */
	LOG_DEBUG("libxdp", "%s", msg);
	(void)level;
	return 0;
}

static int xskp_bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return xskp_print(level == LIBBPF_WARN ? LIBXDP_WARN : LIBXDP_DEBUG, fmt, ap);
}

static inline void held_set(struct xskp *x, uint32_t b)
{
	x->held[b >> 6] |= 1ull << (b & 63);
}

/* Clear the bit of buffer @b; false when the kernel returned one it was not lent. */
static inline bool held_take(struct xskp *x, uint32_t b)
{
	uint64_t m = 1ull << (b & 63);

	if (b >= x->nbufs || !(x->held[b >> 6] & m))
		return false;
	x->held[b >> 6] &= ~m;
	return true;
}

static void xskp_teardown(struct xskp *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	x->xsk = NULL;
	x->umem = NULL;
}

/* One attempt at a UMEM + socket with the given flags. */
static int xskp_try(struct netvm_port *port, struct xskp *x, const struct xdp_conf *cfg,
		    uint32_t xdp_flags, uint16_t bind_flags)
{
	struct netvm_region *r = port->region;
	struct xsk_umem_config ucfg = {
	    .fill_size = XSK_RING,
	    .comp_size = XSK_RING,
	    .frame_size = 1u << r->buf_shift,
	    .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
	    .rx_size = XSK_RING,
	    .tx_size = XSK_RING,
	    .xdp_flags = xdp_flags,
	    .bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	int rc;

	rc = xsk_umem__create(&x->umem, r->seg[0] + r->buf_off, (uint64_t)r->nbufs << r->buf_shift,
			      &x->fill, &x->comp, &ucfg);
	if (rc) {
		x->umem = NULL;
		return rc < 0 ? rc : -rc;
	}
	rc = xsk_socket__create(&x->xsk, cfg->ifname, cfg->queue, x->umem, &x->rx, &x->tx, &scfg);
	if (rc) {
		x->xsk = NULL;
		xskp_teardown(x);
		return rc < 0 ? rc : -rc;
	}
	return 0;
}

/* Give the fill ring what it lacks, in one reservation. */
static void xskp_refill(struct netvm_port *port, struct xskp *x)
{
	uint32_t want = XSK_STOCK - x->in_fill, idx[XSK_BURST], got, pos;

	if (want < XSK_REFILL && x->in_fill)
		return;
	if (want > XSK_BURST)
		want = XSK_BURST;
	got = netvm_pool_alloc_burst(port->pool, idx, want);
	if (got == 0)
		return;
	if (xsk_ring_prod__reserve(&x->fill, got, &pos) != got) {
		for (uint32_t i = got; i-- > 0;)
			netvm_pool_free(port->pool, idx[i]);
		return;
	}
	for (uint32_t i = 0; i < got; i++) {
		*xsk_ring_prod__fill_addr(&x->fill, pos + i) = (uint64_t)idx[i] << x->shift;
		held_set(x, idx[i]);
	}
	xsk_ring_prod__submit(&x->fill, got);
	x->in_fill += got;
	port->stats.held += got;
}

/* Take back the buffers the kernel has finished sending. */
static void xskp_complete(struct netvm_port *port, struct xskp *x)
{
	uint32_t pos, n;

	if (!x->in_tx)
		return;
	n = xsk_ring_cons__peek(&x->comp, XSK_COMP_MAX, &pos);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = (uint32_t)(*xsk_ring_cons__comp_addr(&x->comp, pos + i) >> x->shift);

		if (held_take(x, b)) {
			netvm_pool_free(port->pool, b);
			x->in_tx--;
			port->stats.held--;
		}
	}
	if (n)
		xsk_ring_cons__release(&x->comp, n);
	/* In copy mode the kernel sends only inside sendto(): kick again while
	 * frames wait (it may have stopped on a full device queue). */
	if (x->in_tx && xsk_ring_prod__needs_wakeup(&x->tx))
		sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static const char *const xdp_keys[] = {"ifname", "mode", "zerocopy", "queue", NULL};

static void *xskp_parse(struct port_args *a)
{
	static const char *const modes[] = {"auto", "native", "drv", "skb", "generic", NULL};
	static const int mode_v[] = {XSK_MODE_AUTO, XSK_MODE_NATIVE, XSK_MODE_NATIVE, XSK_MODE_SKB,
				     XSK_MODE_SKB};
	static const char *const zcs[] = {"auto", "yes", "true", "no", "false", NULL};
	static const int zc_v[] = {XSK_ZC_AUTO, XSK_ZC_YES, XSK_ZC_YES, XSK_ZC_NO, XSK_ZC_NO};
	struct xdp_conf *c = calloc(1, sizeof(*c));
	int mode = XSK_MODE_AUTO, zc = XSK_ZC_AUTO;

	if (!c) {
		port_args_fail(a, NULL, "out of memory");
		return NULL;
	}
	if (port_arg_ifname(a, "ifname", true, c->ifname) ||
	    port_arg_word(a, "mode", modes, mode_v, &mode) ||
	    port_arg_word(a, "zerocopy", zcs, zc_v, &zc) ||
	    port_arg_u32(a, "queue", 0, 4095, &c->queue) || port_args_done(a, xdp_keys)) {
		free(c);
		return NULL;
	}
	c->mode = (enum xsk_mode)mode;
	c->zerocopy = (enum xsk_zc)zc;
	return c;
}

static int xskp_open(struct netvm_port *port, const void *conf)
{
	const struct xdp_conf *cfg = conf;
	struct netvm_region *r = port->region;
	struct xskp *x;
	struct xdp_options opts = {0};
	socklen_t optlen = sizeof(opts);
	uint32_t frame = 1u << r->buf_shift;
	int rc = -EOPNOTSUPP, ifindex;
	static const struct {
		enum xsk_mode mode;
		enum xsk_zc zc;
		uint32_t xdp_flags;
		uint16_t bind_flags;
		const char *name;
	} tries[] = {
	    {XSK_MODE_NATIVE, XSK_ZC_YES, XDP_FLAGS_DRV_MODE, XDP_ZEROCOPY, "native"},
	    {XSK_MODE_NATIVE, XSK_ZC_NO, XDP_FLAGS_DRV_MODE, XDP_COPY, "native"},
	    {XSK_MODE_SKB, XSK_ZC_NO, XDP_FLAGS_SKB_MODE, XDP_COPY, "skb"},
	};
	const char *mode_name = NULL;

	libxdp_set_print(xskp_print);
	libbpf_set_print(xskp_bpf_print);
	ifindex = port_if_index(port, cfg->ifname);
	if (ifindex < 0)
		return ifindex;
	/* Aligned UMEM chunks are 2048 or 4096 bytes and one chunk is one buffer. */
	if (frame < 2048 || frame > (uint32_t)sysconf(_SC_PAGESIZE)) {
		LOG_ERR("port",
			"port '%s': af_xdp needs a buffer stride of 2048..%ld bytes, the pool's "
			"is %u (pool.buffer_size + pool.headroom, rounded up to a power of two)",
			port->name, sysconf(_SC_PAGESIZE), frame);
		return -EINVAL;
	}
	if (!r->map_len) {
		LOG_ERR("port", "port '%s': af_xdp needs the region mapped in one piece",
			port->name);
		return -EINVAL;
	}
	rc = port_if_up(port, cfg->ifname);
	if (rc < 0)
		return rc;
	x = calloc(1, sizeof(*x));
	if (x)
		x->held = calloc((r->nbufs + 63) / 64, sizeof(uint64_t));
	if (!x || !x->held) {
		if (x)
			free(x);
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	x->shift = r->buf_shift;
	x->nbufs = r->nbufs;
	snprintf(x->ifname, sizeof(x->ifname), "%s", cfg->ifname);

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if ((cfg->mode != XSK_MODE_AUTO && cfg->mode != tries[i].mode) ||
		    (cfg->zerocopy != XSK_ZC_AUTO && cfg->zerocopy != tries[i].zc))
			continue;
		rc = xskp_try(port, x, cfg, tries[i].xdp_flags, tries[i].bind_flags);
		if (rc == 0) {
			mode_name = tries[i].name;
			break;
		}
		LOG_DEBUG("port", "port '%s': af_xdp %s %s on '%s' queue %u: %s", port->name,
			  tries[i].name, tries[i].zc == XSK_ZC_YES ? "zero-copy" : "copy",
			  cfg->ifname, cfg->queue, strerror(-rc));
	}
	if (!mode_name) {
		LOG_ERR("port",
			"port '%s': cannot open AF_XDP on '%s' queue %u (mode %s, zerocopy %s): "
			"%s; use type af_packet for this interface",
			port->name, cfg->ifname, cfg->queue,
			cfg->mode == XSK_MODE_AUTO     ? "auto"
			: cfg->mode == XSK_MODE_NATIVE ? "native"
						       : "skb",
			cfg->zerocopy == XSK_ZC_AUTO  ? "auto"
			: cfg->zerocopy == XSK_ZC_YES ? "yes"
						      : "no",
			strerror(-rc));
		free(x->held);
		free(x);
		return rc;
	}
	x->fd = xsk_socket__fd(x->xsk);
	port->wait_fd = x->fd;
	/* What the kernel gave us, not what we asked for. */
	if (getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen) < 0)
		opts.flags = 0;
	snprintf(port->info, sizeof(port->info), "af_xdp %s queue %u %s %s", x->ifname, cfg->queue,
		 mode_name, opts.flags & XDP_OPTIONS_ZEROCOPY ? "zero-copy" : "copy");
	LOG_INFO("port", "port '%s': %s (UMEM = the pool's %u buffers of %u B)%s", port->name,
		 port->info, r->nbufs, frame,
		 opts.flags & XDP_OPTIONS_ZEROCOPY ? ""
						   : "; the driver copies frames into the UMEM");
	port->priv = x;
	xskp_refill(port, x);
	while (x->in_fill < XSK_STOCK && port->pool->nfree) {
		uint32_t before = x->in_fill;

		xskp_refill(port, x);
		if (x->in_fill == before)
			break;
	}
	return 0;
}

static uint16_t xskp_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	struct xskp *x = port->priv;
	uint32_t pos, got, k = 0;
	uint64_t mask = (1ull << x->shift) - 1;

	xskp_complete(port, x);
	got = xsk_ring_cons__peek(&x->rx, n, &pos);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *xd = xsk_ring_cons__rx_desc(&x->rx, pos + i);
		uint32_t b = (uint32_t)(xd->addr >> x->shift);

		if (!held_take(x, b)) {
			/* Not a buffer we lent: never follow it. */
			port->stats.rx_dropped++;
			LOG_WARN_RL("port", "port '%s': kernel returned unknown frame 0x%llx",
				    port->name, (unsigned long long)xd->addr);
			continue;
		}
		x->in_fill--;
		port->stats.held--;
		d[k++] = (struct netvm_desc){
		    .buf = b, .off = (uint16_t)(xd->addr & mask), .len = (uint16_t)xd->len};
		port->stats.rx_bytes += xd->len;
	}
	if (got)
		xsk_ring_cons__release(&x->rx, got);
	port->stats.rx += k;
	xskp_refill(port, x);
	/* The kernel may have stopped for lack of fill buffers: wake it. */
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return (uint16_t)k;
}

static void xskp_reap(struct netvm_port *port)
{
	xskp_complete(port, port->priv);
}

static uint16_t xskp_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct xskp *x = port->priv;
	uint32_t pos, k;
	uint64_t bytes = 0;

	xskp_complete(port, x);
	k = xsk_prod_nb_free(&x->tx, n);
	if (k > n)
		k = n;
	if (k == 0 || xsk_ring_prod__reserve(&x->tx, k, &pos) != k)
		return 0; /* ring full: the switch counts them as port_tx drops */
	for (uint32_t i = 0; i < k; i++) {
		struct xdp_desc *xd = xsk_ring_prod__tx_desc(&x->tx, pos + i);

		/* The buffer stays ours (owner SWITCH) until its completion. */
		xd->addr = ((uint64_t)d[i].buf << x->shift) + d[i].off;
		xd->len = d[i].len;
		xd->options = 0;
		held_set(x, d[i].buf);
		bytes += d[i].len;
	}
	xsk_ring_prod__submit(&x->tx, k);
	x->in_tx += k;
	port->stats.held += k;
	port->stats.tx += k;
	port->stats.tx_bytes += bytes;
	if (xsk_ring_prod__needs_wakeup(&x->tx))
		sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	return (uint16_t)k;
}

static void xskp_close(struct netvm_port *port)
{
	struct xskp *x = port->priv;
	uint32_t back = 0;

	if (!x)
		return;
	/* Let what is queued go out (bounded), then take everything back. */
	for (int i = 0; i < 100 && x->in_tx; i++) {
		xskp_complete(port, x);
		if (x->in_tx)
			poll(NULL, 0, 1);
	}
	xskp_teardown(x);
	/* The socket is gone: the kernel holds nothing now.  Every buffer
	 * still marked was lent and never came back (fill ring, rx ring not
	 * yet read, or unsent tx); each returns to the pool. */
	for (uint32_t w = 0; w < (x->nbufs + 63) / 64; w++)
		while (x->held[w]) {
			uint32_t b = w * 64 + (uint32_t)__builtin_ctzll(x->held[w]);

			x->held[w] &= x->held[w] - 1;
			netvm_pool_free(port->pool, b);
			back++;
		}
	port->stats.held = 0;
	LOG_INFO("port", "port '%s': closed; %u buffers back from the kernel, pool %u/%u free",
		 port->name, back, port->pool->nfree, port->pool->n);
	free(x->held);
	free(x);
	port->priv = NULL;
}

const struct port_ops port_afxdp_ops = {
    .type = "af_xdp",
    .keys = xdp_keys,
    .parse = xskp_parse,
    .open = xskp_open,
    .rx_burst = xskp_rx_burst,
    .tx_burst = xskp_tx_burst,
    .reap = xskp_reap,
    .close = xskp_close,
};
