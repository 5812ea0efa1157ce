/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port "gen": an in-memory traffic generator on rx and a sink on tx.
 *
 * rx makes Ethernet/IPv4/UDP frames 10.0.0.1 -> 10.0.0.2, UDP source port
 * 1024 + (seq % flows), destination port GEN_DPORT.  When the frame is long
 * enough its payload starts with a stamp: the 64-bit sequence number and the
 * 64-bit CLOCK_MONOTONIC time in ns it was made, both in host byte order.
 * tx frees what it is sent and, for stamped packets, records the latency.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "port.h"

#define GEN_ETH_LEN   14
#define GEN_IP_LEN    20
#define GEN_UDP_LEN   8
#define GEN_HDR_LEN   (GEN_ETH_LEN + GEN_IP_LEN + GEN_UDP_LEN) /* 42 */
#define GEN_SPORT_OFF (GEN_ETH_LEN + GEN_IP_LEN)
#define GEN_STAMP_OFF GEN_HDR_LEN
#define GEN_STAMP_LEN 16
#define GEN_SPORT     1024
#define GEN_DPORT     9 /* discard */
#define GEN_MAX_FLOWS (65536 - GEN_SPORT)
#define GEN_BURST_MAX 256
/* Latency histogram, log-linear: 8 sub-buckets per power of two (12.5%
 * resolution), so p50/p99 per hop are meaningful. */
#define GEN_LAT_SUB	3
#define GEN_LAT_BUCKETS (64 << GEN_LAT_SUB)
/* Percentiles published to port stats over windows of this length. */
#define GEN_LAT_WINDOW_NS 200000000ull

struct gen {
	uint8_t *tmpl; /* the whole frame, built once at open */
	uint32_t size;
	uint32_t flows;
	uint32_t flow; /* seq % flows, kept incrementally */
	bool stamp;
	uint64_t seq;	/* packets generated so far */
	uint64_t count; /* stop after this many; 0 = never */
	/* token bucket (rate > 0) */
	uint64_t rate;
	double tokens, cap;
	uint64_t last_ns;
	/* sink latency of stamped packets */
	uint64_t lat_n, lat_sum, lat_min, lat_max;
	uint64_t lat_hist[GEN_LAT_BUCKETS];
	/* the current window, published to port->stats when it ends */
	uint64_t win_n, win_start;
	uint32_t win_hist[GEN_LAT_BUCKETS];
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_csum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build_template(uint8_t *f, uint32_t size)
{
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	uint8_t *ip = f + GEN_ETH_LEN, *udp = ip + GEN_IP_LEN;

	memset(f, 0, size);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, 0x0800);

	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(size - GEN_ETH_LEN));
	put16(ip + 6, 0x4000); /* DF: the id stays 0 */
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 1;
	ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 2;
	/* Only the UDP port changes per packet, so this checksum holds for all. */
	put16(ip + 10, ip_csum(ip, GEN_IP_LEN));

	put16(udp, GEN_SPORT);
	put16(udp + 2, GEN_DPORT);
	put16(udp + 4, (uint16_t)(size - GEN_ETH_LEN - GEN_IP_LEN));
	/* UDP checksum 0: none (valid for IPv4). */
}

static int gen_open(struct netvm_port *port, const struct cfg_port *cfg)
{
	struct gen *g;
	uint32_t size = cfg->size ? cfg->size : 64;
	uint32_t flows = cfg->flows ? cfg->flows : 1;

	if (size < GEN_HDR_LEN || size > port->pool->room || size > UINT16_MAX) {
		LOG_ERR("port", "port '%s': gen size %u out of range (%u..%u)", port->name, size,
			GEN_HDR_LEN, port->pool->room < UINT16_MAX ? port->pool->room : UINT16_MAX);
		return -EINVAL;
	}
	if (flows > GEN_MAX_FLOWS) {
		LOG_ERR("port", "port '%s': gen flows %u out of range (1..%u)", port->name, flows,
			GEN_MAX_FLOWS);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->tmpl = malloc(size))) {
		free(g);
		LOG_ERR("port", "port '%s': out of memory", port->name);
		return -ENOMEM;
	}
	build_template(g->tmpl, size);
	g->size = size;
	g->flows = flows;
	g->stamp = size >= GEN_STAMP_OFF + GEN_STAMP_LEN;
	g->count = cfg->count;
	g->rate = cfg->rate;
	/* Bucket depth: 1 ms of traffic, at least a few bursts, so the rate holds
	 * even when the switch polls the port only now and then. */
	g->cap = (double)cfg->rate / 1000.0;
	if (g->cap < 64)
		g->cap = 64;
	g->lat_min = UINT64_MAX;
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
	if (g->rate || g->stamp)
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

		memcpy(p, g->tmpl, g->size);
		put16(p + GEN_SPORT_OFF, (uint16_t)(GEN_SPORT + g->flow));
		if (g->stamp) {
			memcpy(p + GEN_STAMP_OFF, &g->seq, 8);
			memcpy(p + GEN_STAMP_OFF + 8, &now, 8);
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

/* Whether @p looks like a frame made by a gen port (so its stamp is ours). */
static inline bool gen_is_stamped(const uint8_t *p, uint16_t len)
{
	return len >= GEN_STAMP_OFF + GEN_STAMP_LEN && p[12] == 0x08 && p[13] == 0x00 &&
	       p[GEN_ETH_LEN] == 0x45 && p[GEN_ETH_LEN + 9] == 17 &&
	       p[GEN_SPORT_OFF + 2] == (GEN_DPORT >> 8) &&
	       p[GEN_SPORT_OFF + 3] == (GEN_DPORT & 0xff);
}

static unsigned lat_bucket(uint64_t ns)
{
	if (ns < (1u << GEN_LAT_SUB))
		return (unsigned)ns;
	unsigned e = 63 - (unsigned)__builtin_clzll(ns); /* ns in [2^e, 2^(e+1)) */
	unsigned sub = (unsigned)(ns >> (e - GEN_LAT_SUB)) & ((1u << GEN_LAT_SUB) - 1);
	return ((e - GEN_LAT_SUB + 1) << GEN_LAT_SUB) | sub;
}

/* Lower bound (ns) of bucket @b: the inverse of lat_bucket(). */
static uint64_t lat_bucket_floor(unsigned b)
{
	unsigned e = b >> GEN_LAT_SUB, sub = b & ((1u << GEN_LAT_SUB) - 1);

	if (e == 0)
		return sub;
	return (uint64_t)((1u << GEN_LAT_SUB) | sub) << (e - 1);
}

/* Lower bound of the bucket holding quantile @q of @n samples in @hist. */
static uint64_t hist_quantile(const uint32_t *hist32, const uint64_t *hist64, uint64_t n, double q)
{
	uint64_t need = (uint64_t)(q * (double)n), seen = 0;

	for (unsigned b = 0; b < GEN_LAT_BUCKETS; b++) {
		seen += hist32 ? hist32[b] : hist64[b];
		if (seen > need)
			return lat_bucket_floor(b);
	}
	return lat_bucket_floor(GEN_LAT_BUCKETS - 1);
}

static void gen_lat_add(struct gen *g, uint64_t ns)
{
	unsigned b = lat_bucket(ns);

	if (b >= GEN_LAT_BUCKETS)
		b = GEN_LAT_BUCKETS - 1;
	g->lat_hist[b]++;
	g->win_hist[b]++;
	g->win_n++;
	g->lat_n++;
	g->lat_sum += ns;
	if (ns < g->lat_min)
		g->lat_min = ns;
	if (ns > g->lat_max)
		g->lat_max = ns;
}

/* End of a window: publish its percentiles and start the next. */
static void gen_lat_publish(struct netvm_port *port, struct gen *g, uint64_t now)
{
	struct port_stats *st = &port->stats;

	if (g->win_n) {
		__atomic_store_n(&st->lat_p50_ns, hist_quantile(g->win_hist, NULL, g->win_n, 0.50),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_p99_ns, hist_quantile(g->win_hist, NULL, g->win_n, 0.99),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_p999_ns,
				 hist_quantile(g->win_hist, NULL, g->win_n, 0.999),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&st->lat_samples, g->win_n, __ATOMIC_RELAXED);
	}
	memset(g->win_hist, 0, sizeof(g->win_hist));
	g->win_n = 0;
	g->win_start = now;
}

static uint16_t gen_tx_burst(struct netvm_port *port, const struct netvm_desc *d, uint16_t n)
{
	struct gen *g = port->priv;
	uint64_t now = 0, bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *p = netvm_region_buf(port->region, d[i].buf) + d[i].off;

		if (gen_is_stamped(p, d[i].len)) {
			uint64_t ts;

			if (!now)
				now = now_ns(); /* once per burst, and only if needed */
			memcpy(&ts, p + GEN_STAMP_OFF + 8, 8);
			if (ts && ts <= now) /* plausible: not from the future */
				gen_lat_add(g, now - ts);
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
	if (g->lat_n)
		LOG_INFO("port",
			 "port '%s': latency of %llu stamped packets: min %llu avg %llu max %llu "
			 "ns, p50 < %llu p99 < %llu ns",
			 port->name, (unsigned long long)g->lat_n, (unsigned long long)g->lat_min,
			 (unsigned long long)(g->lat_sum / g->lat_n),
			 (unsigned long long)g->lat_max,
			 (unsigned long long)hist_quantile(NULL, g->lat_hist, g->lat_n, 0.50),
			 (unsigned long long)hist_quantile(NULL, g->lat_hist, g->lat_n, 0.99));
	free(g->tmpl);
	free(g);
	port->priv = NULL;
}

const struct port_ops port_gen_ops = {
    .type = "gen",
    .open = gen_open,
    .rx_burst = gen_rx_burst,
    .tx_burst = gen_tx_burst,
    .close = gen_close,
};
