/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "gen": an in-memory traffic generator on rx and a sink on tx.
 *
 * rx makes the test frames of frame.h (UDP source port 1024 + seq % flows),
 * stamped when they are 64 bytes or more; tx frees what it is sent and, for
 * the packets this port stamped, records the latency (common/lathist.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <netvm/csum.h>

#include "common/lathist.h"
#include "common/log.h"
#include "frame.h"
#include "port.h"

#define GEN_BURST_MAX 256
/* Percentiles published to port stats over windows of this length. */
#define GEN_LAT_WINDOW_NS 200000000ull

struct gen {
	uint8_t *tmpl; /* the frame, built once at open (frame.h) */
	uint32_t size;
	uint32_t flows;
	uint32_t flow;	/* seq % flows, kept incrementally */
	uint16_t run;	/* stamps with another run id are not this port's */
	uint64_t seq;	/* packets generated so far */
	uint64_t count; /* stop after this many; 0 = never */
	/* token bucket (rate > 0) */
	uint64_t rate;
	double tokens, cap;
	uint64_t last_ns;
	/* sink latency of this port's stamped packets: in all, and in the
	 * current window (published to port->stats when it ends) */
	struct lathist lat, win;
	uint64_t win_start;
	/* dst A.B.C.D/LEN: each frame to a random address of the prefix */
	uint32_t dst_host; /* host bits to randomise (0: the template's dst) */
	uint64_t rng;	   /* xorshift64* state */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The options (docs/ports.md). */
struct gen_conf {
	uint32_t size, flows;
	uint64_t rate, count;
	uint32_t dst;	   /* network order; 0: the frame's own 10.0.0.2 */
	uint32_t dst_host; /* host bits of a dst prefix: randomised per frame */
	bool dst_set;	   /* dst given (0.0.0.0/N is a prefix too) */
};

static const char *const gen_keys[] = {"size", "flows", "rate", "count", "dst", NULL};

/* "A.B.C.D" or "A.B.C.D/LEN" (a random address of the prefix per frame). */
static int gen_parse_dst(struct port_args *a, struct gen_conf *c)
{
	const char *v = port_arg(a, "dst");
	char buf[32];
	unsigned len = 32;

	if (!v)
		return 0;
	const char *slash = strchr(v, '/');
	size_t n = slash ? (size_t)(slash - v) : strlen(v);
	if (n >= sizeof(buf))
		return port_args_fail(a, "dst", "dst must be an IPv4 address or prefix, got '%s'",
				      v);
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (slash) {
		char *end;
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || l > 32)
			return port_args_fail(a, "dst", "dst prefix length must be 0..32, got '%s'",
					      slash + 1);
		len = (unsigned)l;
	}
	if (inet_pton(AF_INET, buf, &c->dst) != 1)
		return port_args_fail(a, "dst", "dst must be an IPv4 address or prefix, got '%s'",
				      v);
	c->dst_host = len == 32 ? 0 : ~0u >> len;
	c->dst_set = true;
	c->dst &= htonl(~c->dst_host);
	return 0;
}

static void *gen_parse(struct port_args *a)
{
	struct gen_conf *c = calloc(1, sizeof(*c));

	if (!c) {
		port_args_fail(a, NULL, "out of memory");
		return NULL;
	}
	*c = (struct gen_conf){.size = 64, .flows = 1};
	if (port_arg_u32(a, "size", 60, 9000, &c->size) ||
	    port_arg_u32(a, "flows", 1, FRAME_FLOWS_MAX, &c->flows) ||
	    port_arg_u64(a, "rate", 0, UINT64_MAX, true, &c->rate) ||
	    port_arg_u64(a, "count", 0, UINT64_MAX, true, &c->count) || gen_parse_dst(a, c) ||
	    port_args_done(a, gen_keys)) {
		free(c);
		return NULL;
	}
	return c;
}

static int gen_open(struct netvm_port *port, const void *conf)
{
	const struct gen_conf *cfg = conf;
	struct gen *g;
	uint32_t size = cfg->size, flows = cfg->flows;

	if (size < FRAME_HDR_LEN || size > port->pool->room || size > UINT16_MAX) {
		LOG_ERR("port", "port '%s': gen size %u out of range (%u..%u)", port->name, size,
			FRAME_HDR_LEN,
			port->pool->room < UINT16_MAX ? port->pool->room : UINT16_MAX);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->tmpl = malloc(size))) {
		free(g);
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	frame_build(g->tmpl, size);
	if (cfg->dst_set) {
		/* the template's destination, its checksum updated (RFC 1624) */
		uint8_t *ip = g->tmpl + 14;
		uint32_t old;
		uint16_t c;
		memcpy(&old, ip + 16, 4);
		memcpy(&c, ip + 10, 2);
		c = netvm_csum_update32(c, old, cfg->dst);
		memcpy(ip + 10, &c, 2);
		memcpy(ip + 16, &cfg->dst, 4);
	}
	g->dst_host = cfg->dst_host;
	g->size = size;
	g->flows = flows;
	g->run = (uint16_t)(now_ns() ^ (uint64_t)getpid() ^ port->id);
	g->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)port->id << 32); /* the same each run */
	g->count = cfg->count;
	g->rate = cfg->rate;
	/* Bucket depth: 1 ms of traffic, at least a few bursts, so the rate holds
	 * even when the switch polls the port only now and then. */
	g->cap = (double)cfg->rate / 1000.0;
	if (g->cap < 64)
		g->cap = 64;
	lathist_reset(&g->lat);
	lathist_reset(&g->win);
	port->priv = g;
	return 0;
}

static uint16_t gen_rx_burst(struct netvm_port *port, struct netvm_desc *d, uint16_t n)
{
	struct gen *g = port->priv;
	struct netvm_pool *pool = port->pool;
	uint32_t idx[GEN_BURST_MAX];
	uint64_t now = 0;
	uint32_t want = n < GEN_BURST_MAX ? n : GEN_BURST_MAX, got;

	if (port->rx_done)
		return 0;
	if (g->count && g->count - g->seq < want)
		want = (uint32_t)(g->count - g->seq);
	if (g->rate || g->size >= FRAME_STAMPED)
		now = now_ns(); /* once per burst */
	if (g->rate) {
		if (g->last_ns == 0)
			g->last_ns = now;
		g->tokens += (double)(now - g->last_ns) * (double)g->rate * 1e-9;
		g->last_ns = now;
		if (g->tokens > g->cap)
			g->tokens = g->cap;
		if (want > g->tokens)
			want = (uint32_t)g->tokens;
	}
	if (want == 0)
		return 0;

	got = netvm_pool_alloc_burst(pool, idx, want);
	/* An empty pool is backpressure: the packets are not made, only counted. */
	port->stats.rx_nobuf += want - got;

	for (uint32_t i = 0; i < got; i++) {
		uint8_t *p = netvm_region_buf(port->region, idx[i]) + pool->headroom;

		frame_make(p, g->tmpl, g->size, g->flow, g->run, g->seq, now);
		if (g->dst_host) {
			uint8_t *ip = p + 14;
			uint32_t old, new_;
			uint16_t c;
			g->rng ^= g->rng >> 12;
			g->rng ^= g->rng << 25;
			g->rng ^= g->rng >> 27;
			memcpy(&old, ip + 16, 4);
			new_ = old | htonl((uint32_t)((g->rng * 0x2545f4914f6cdd1dull) >> 32) &
					   g->dst_host);
			memcpy(&c, ip + 10, 2);
			c = netvm_csum_update32(c, old, new_);
			memcpy(ip + 10, &c, 2);
			memcpy(ip + 16, &new_, 4);
		}
		if (++g->flow == g->flows)
			g->flow = 0;
		g->seq++;
		d[i] = (struct netvm_desc){
		    .buf = idx[i], .off = (uint16_t)pool->headroom, .len = (uint16_t)g->size};
	}
	if (g->rate)
		g->tokens -= got;
	port->stats.rx += got;
	port->stats.rx_bytes += (uint64_t)got * g->size;
	if (g->count && g->seq >= g->count)
		port->rx_done = true;
	return (uint16_t)got;
}

/* End of a window: publish its percentiles and start the next. */
static void gen_lat_publish(struct netvm_port *port, struct gen *g, uint64_t now)
{
	struct port_stats *st = &port->stats;

	if (g->win.n) {
		__atomic_store_n(&st->lat_p50_ns, lathist_quantile(&g->win, 0.50),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_p99_ns, lathist_quantile(&g->win, 0.99),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_p999_ns, lathist_quantile(&g->win, 0.999),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_samples, g->win.n, __ATOMIC_RELAXED);
	}
	lathist_reset(&g->win);
	g->win_start = now;
}

static uint16_t gen_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct gen *g = port->priv;
	uint64_t now = 0, bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *p = netvm_region_buf(port->region, d[i].buf) + d[i].off;

		struct frame_stamp st;

		if (frame_stamp_get(p, d[i].len, &st) && st.run == g->run) {
			if (!now)
				now = now_ns();	     /* once per burst, and only if needed */
			if (st.ts && st.ts <= now) { /* plausible: not from the future */
				lathist_add(&g->lat, now - st.ts);
				lathist_add(&g->win, now - st.ts);
			}
		}
		bytes += d[i].len;
		netvm_pool_free(port->pool, d[i].buf);
	}
	port->stats.tx += n;
	port->stats.tx_bytes += bytes;
	if (now && now - g->win_start > GEN_LAT_WINDOW_NS)
		gen_lat_publish(port, g, now);
	return n;
}

static void gen_close(struct netvm_port *port)
{
	struct gen *g = port->priv;

	if (!g)
		return;
	if (g->lat.n)
		LOG_INFO("port",
			 "port '%s': latency of %llu stamped packets: min %llu avg %llu max %llu "
			 "ns, p50 %llu p99 %llu ns",
			 port->name, (unsigned long long)g->lat.n, (unsigned long long)g->lat.min,
			 (unsigned long long)(g->lat.sum / g->lat.n),
			 (unsigned long long)g->lat.max,
			 (unsigned long long)lathist_quantile(&g->lat, 0.50),
			 (unsigned long long)lathist_quantile(&g->lat, 0.99));
	free(g->tmpl);
	free(g);
	port->priv = NULL;
}

const struct port_ops port_gen_ops = {
    .type = "gen",
    .keys = gen_keys,
    .parse = gen_parse,
    .open = gen_open,
    .rx_burst = gen_rx_burst,
    .tx_burst = gen_tx_burst,
    .close = gen_close,
};
