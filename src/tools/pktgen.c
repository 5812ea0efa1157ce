/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvm-pktgen: send on one port at a given rate, size and flow count and
 * measure on another: rate, loss, reordering, latency percentiles.
 *
 * It drives NetVM's own port backends (af_packet, af_xdp, tap) outside the
 * daemon: the sender and the receiver are two threads, each with a private
 * region, pool and port, so neither shares a cache line with the other.
 * Every frame carries a stamp after its UDP header: a magic word, the run
 * id, a 64-bit sequence number and the CLOCK_MONOTONIC time it was sent.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/lathist.h"
#include "common/log.h"
#include "common/parse.h"
#include "ports/frame.h"
#include "ports/pool.h"
#include "ports/port.h"

#define PG_BURST    32
#define PG_MIN_SIZE FRAME_STAMPED /* 64: the stamp fits the smallest frame */
#define PG_MAX_OPTS 16

struct side {
	struct netvm_region region;
	struct netvm_pool pool;
	struct netvm_port port;
	int core;
	pthread_t thr;
	bool open;
};

static struct {
	/* options */
	const char *type, *tx_if, *rx_if;
	uint64_t rate, count;
	uint32_t size, flows;
	uint16_t run;
	double duration, warmup, interval, drain;
	bool json, quiet;
	/* the backend's options (ifname is added per side), as in netvmd's
	 * configuration: --xdp-mode and --zerocopy are mode= and zerocopy= */
	struct port_opt opt[PG_MAX_OPTS];
	int nopt;
	/* threads */
	struct side tx, rx;
	_Atomic bool stop_tx, stop_rx;
	_Atomic uint64_t sent, tx_fail, received, foreign, reordered, dup;
	uint64_t max_seq;
	bool any;
	struct lathist lat; /* written by the receiver, read after it stopped */
	_Atomic uint64_t t_first_tx;
} g = {.type = "af_packet", .size = 64, .flows = 1, .duration = 5, .interval = 1, .drain = 1};

static volatile sig_atomic_t interrupted;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netvm-pktgen --tx IFACE [--rx IFACE] [options]\n"
		"       netvm-pktgen --rx IFACE [options]            (receive and measure only)\n"
		"\n"
		"Send stamped UDP frames on one interface through a NetVM port and measure\n"
		"what arrives on another: rate, loss, reordering and latency percentiles.\n"
		"Progress is printed every --interval seconds on stderr; a summary at the end\n"
		"(human-readable, or one JSON object with --json) on stdout.\n"
		"\n"
		"  -t, --tx IFACE        send on IFACE\n"
		"  -r, --rx IFACE        receive on IFACE (may be the same as --tx)\n"
		"  -T, --type TYPE       port type: af_packet (default), af_xdp or tap\n"
		"  -R, --rate PPS        packets per second, k/M/G suffixes (default 0 = as fast\n"
		"                        as the port takes them)\n"
		"  -s, --size BYTES      frame size without FCS, %d..9000 (default 64)\n"
		"  -f, --flows N         distinct flows (UDP source ports), 1..64512 (default 1)\n"
		"  -n, --count N         send N packets, then stop (default: by duration)\n"
		"  -d, --duration SEC    measure for SEC seconds after the warm-up (default 5)\n"
		"  -w, --warmup SEC      send for SEC seconds before measuring (default 0)\n"
		"      --drain SEC       after sending, wait up to SEC for stragglers (default 1)\n"
		"  -i, --interval SEC    progress every SEC seconds, 0 = none (default 1)\n"
		"      --tx-core N       pin the sender thread to CPU N\n"
		"      --rx-core N       pin the receiver thread to CPU N\n"
		"      --xdp-mode M      af_xdp: the port option mode=M (auto, native or skb)\n"
		"      --zerocopy Z      af_xdp: the port option zerocopy=Z (auto, yes or no)\n"
		"      --opt KEY=VALUE   any other option of the port type, as in netvmd's\n"
		"                        configuration (docs/ports.md), e.g. promisc=no,\n"
		"                        queue=1; repeatable\n"
		"  -j, --json            print the summary as JSON\n"
		"  -q, --quiet           no progress lines, warnings only\n"
		"  -h, --help            this text\n"
		"\n"
		"Frames: Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 10.0.0.1 ->\n"
		"10.0.0.2, UDP source port 1024 + seq %% flows, destination port 9.  The payload\n"
		"starts with magic 'NVPG', a 16-bit run id, the 64-bit sequence number and\n"
		"the 64-bit CLOCK_MONOTONIC send time in ns (host byte order).\n"
		"The receiver counts only frames of this run: 'loss' = sent - received,\n"
		"'reordered' = frames with a lower sequence number than one seen before.\n"
		"\n"
		"Measured rates are over the window after --warmup; the last line of the\n"
		"human summary ends with the receive rate in Mpps (for scripts).\n"
		"Exit status: 0, 1 on a port or run error, 2 on a usage error.\n",
		PG_MIN_SIZE);
}

/* ---- sides ------------------------------------------------------------------ */

/* A region, pool and port of their own for one side: the backend gets the
 * options as netvmd's configuration would give them (ifname=IFACE plus
 * --opt/--xdp-mode/--zerocopy), parsed by the backend itself. */
static int side_open(struct side *s, const char *name, const char *ifname)
{
	static const char *const none[] = {NULL};
	const char *pname[] = {name};
	struct netvm_region_params p = {
	    .nbufs = 8192,
	    .buf_size = 2048,
	    .headroom = 128,
	    .ring_size = 64,
	    .nf_slots = 1,
	    .n_services = 0,
	    .n_ports = 1,
	};
	struct port_opt opt[PG_MAX_OPTS + 1] = {{"ifname", ifname, 0}};
	char err[512];
	void *conf;
	int rc;

	memcpy(opt + 1, g.opt, (size_t)g.nopt * sizeof(*opt));
	struct port_args a = {.port = name,
			      .type = g.type,
			      .opt = opt,
			      .n = g.nopt + 1,
			      .err = err,
			      .errlen = sizeof(err)};
	conf = port_parse(&a);
	if (!conf) {
		fprintf(stderr, "netvm-pktgen: %s\n", err);
		return -EINVAL;
	}
	rc = netvm_region_create(&s->region, &p, none, pname);
	if (rc < 0)
		goto out;
	if (netvm_pool_init(&s->pool, &s->region) < 0) {
		netvm_region_unmap(&s->region);
		rc = -ENOMEM;
		goto out;
	}
	rc = port_open(&s->port, 0, name, port_ops_find(g.type), conf, &s->pool);
	if (rc < 0) {
		netvm_pool_fini(&s->pool);
		netvm_region_unmap(&s->region);
		goto out;
	}
	s->open = true;
out:
	free(conf);
	return rc;
}

static void side_close(struct side *s)
{
	if (!s->open)
		return;
	port_close(&s->port);
	netvm_pool_fini(&s->pool);
	netvm_region_unmap(&s->region);
	s->open = false;
}

static void pin(int core)
{
	cpu_set_t set;

	if (core < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		LOG_WARN("pktgen", "cannot pin to CPU %d", core);
}

static void idle_wait(unsigned *idle)
{
	if (++*idle < 64)
		return;
	if (*idle < 1024) {
		sched_yield();
	} else {
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
}

static void *tx_main(void *arg)
{
	struct side *s = &g.tx;
	struct netvm_port *port = &s->port;
	struct netvm_pool *pool = &s->pool;
	uint8_t *tmpl = malloc(g.size);
	uint64_t seq = 0, last = 0, cap = g.rate / 1000 > 64 ? g.rate / 1000 : 64;
	double tokens = 0;
	uint32_t flow = 0;
	unsigned idle = 0;

	(void)arg;
	pin(s->core);
	if (!tmpl)
		return NULL;
	frame_build(tmpl, g.size);
	atomic_store(&g.t_first_tx, now_ns());
	while (!atomic_load_explicit(&g.stop_tx, memory_order_relaxed)) {
		struct netvm_desc d[PG_BURST];
		uint32_t idx[PG_BURST], want = PG_BURST, got;
		uint64_t now = now_ns();
		uint16_t done;

		if (g.count && g.count - seq < want)
			want = (uint32_t)(g.count - seq);
		if (want == 0)
			break;
		if (g.rate) {
			if (!last)
				last = now;
			tokens += (double)(now - last) * (double)g.rate * 1e-9;
			last = now;
			if (tokens > (double)cap)
				tokens = (double)cap;
			if (want > tokens)
				want = (uint32_t)tokens;
			if (!want) {
				idle_wait(&idle);
				continue;
			}
		}
		got = netvm_pool_alloc_burst(pool, idx, want);
		for (uint32_t i = 0; i < got; i++) {
			uint8_t *p = netvm_region_buf(&s->region, idx[i]) + pool->headroom;

			frame_make(p, tmpl, g.size, flow, g.run, seq + i, now);
			if (++flow == g.flows)
				flow = 0;
			d[i] = (struct netvm_desc){.buf = idx[i],
						   .off = (uint16_t)pool->headroom,
						   .len = (uint16_t)g.size};
		}
		done = got ? port->ops->tx_burst(port, d, (uint16_t)got) : 0;
		/* Not taken (ring full): not sent, so not lost; try again. */
		for (uint32_t i = got; i-- > done;)
			netvm_pool_free(pool, idx[i]);
		if (done < got) {
			atomic_fetch_add_explicit(&g.tx_fail, got - done, memory_order_relaxed);
			/* The sequence must stay dense: rewind the flows we skipped. */
			flow = (uint32_t)((seq + done) % g.flows);
		}
		seq += done;
		tokens -= done;
		atomic_store_explicit(&g.sent, seq, memory_order_relaxed);
		/* A sender that never receives takes back what was sent here. */
		if (!done)
			port_reap(port);
	}
	/* Let the port push out what it holds (af_xdp completions). */
	for (int i = 0; i < 1000 && port->stats.held; i++) {
		port_reap(port);
		usleep(100);
	}
	free(tmpl);
	return NULL;
}

static void *rx_main(void *arg)
{
	struct side *s = &g.rx;
	struct netvm_port *port = &s->port;
	unsigned idle = 0;

	(void)arg;
	pin(s->core);
	while (!atomic_load_explicit(&g.stop_rx, memory_order_relaxed)) {
		struct netvm_desc d[PG_BURST];
		uint16_t n = port_rx_burst(port, d, PG_BURST);
		uint64_t now, mine = 0;

		if (!n) {
			idle_wait(&idle);
			continue;
		}
		idle = 0;
		now = now_ns();
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *p = netvm_region_buf(&s->region, d[i].buf) + d[i].off;
			struct frame_stamp st;

			if (!frame_stamp_get(p, d[i].len, &st) || st.run != g.run) {
				atomic_fetch_add_explicit(&g.foreign, 1, memory_order_relaxed);
			} else {
				if (g.any && st.seq <= g.max_seq) {
					if (st.seq == g.max_seq)
						atomic_fetch_add_explicit(&g.dup, 1,
									  memory_order_relaxed);
					else
						atomic_fetch_add_explicit(&g.reordered, 1,
									  memory_order_relaxed);
				} else {
					g.max_seq = st.seq;
					g.any = true;
				}
				if (st.ts && st.ts <= now)
					lathist_add(&g.lat, now - st.ts);
				mine++;
			}
			netvm_pool_free(&s->pool, d[i].buf);
		}
		atomic_fetch_add_explicit(&g.received, mine, memory_order_relaxed);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) * 1e-9;
}

/* --opt KEY=VALUE, --xdp-mode M (mode=M) or --zerocopy Z (zerocopy=Z): an
 * option for the port backend. */
static int add_opt(int which, char *arg)
{
	char *eq = which == 'o' ? strchr(arg, '=') : NULL;

	if (g.nopt == PG_MAX_OPTS) {
		fprintf(stderr, "netvm-pktgen: at most %d port options\n", PG_MAX_OPTS);
		return -1;
	}
	if (which == 'o' && (!eq || eq == arg)) {
		fprintf(stderr, "netvm-pktgen: --opt wants KEY=VALUE, got '%s'\n", arg);
		return -1;
	}
	if (eq) {
		*eq = '\0';
		g.opt[g.nopt++] = (struct port_opt){arg, eq + 1, 0};
	} else {
		g.opt[g.nopt++] = (struct port_opt){which == 'm' ? "mode" : "zerocopy", arg, 0};
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_TXCORE = 256, O_RXCORE, O_MODE, O_ZC, O_DRAIN, O_OPT };
	static const struct option opts[] = {{"tx", required_argument, NULL, 't'},
					     {"rx", required_argument, NULL, 'r'},
					     {"type", required_argument, NULL, 'T'},
					     {"rate", required_argument, NULL, 'R'},
					     {"size", required_argument, NULL, 's'},
					     {"flows", required_argument, NULL, 'f'},
					     {"count", required_argument, NULL, 'n'},
					     {"duration", required_argument, NULL, 'd'},
					     {"warmup", required_argument, NULL, 'w'},
					     {"drain", required_argument, NULL, O_DRAIN},
					     {"interval", required_argument, NULL, 'i'},
					     {"tx-core", required_argument, NULL, O_TXCORE},
					     {"rx-core", required_argument, NULL, O_RXCORE},
					     {"xdp-mode", required_argument, NULL, O_MODE},
					     {"zerocopy", required_argument, NULL, O_ZC},
					     {"opt", required_argument, NULL, O_OPT},
					     {"json", no_argument, NULL, 'j'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	uint64_t u, t0, t_meas = 0, rx_meas0 = 0, tx_meas0 = 0, t_end_meas = 0;
	uint64_t rx_meas1 = 0, tx_meas1 = 0, last_t, last_rx = 0, last_tx = 0;
	int opt, rc = 0;

	g.tx.core = g.rx.core = -1;
	while ((opt = getopt_long(argc, argv, "t:r:T:R:s:f:n:d:w:i:jqh", opts, NULL)) != -1) {
		char *end = NULL;

		switch (opt) {
		case 't':
			g.tx_if = optarg;
			break;
		case 'r':
			g.rx_if = optarg;
			break;
		case 'T':
			g.type = optarg;
			break;
		case 'R':
			if (netvm_parse_u64(optarg, true, &g.rate))
				goto bad;
			break;
		case 's':
			if (netvm_parse_range(optarg, false, PG_MIN_SIZE, 9000, &u))
				goto bad;
			g.size = (uint32_t)u;
			break;
		case 'f':
			if (netvm_parse_range(optarg, true, 1, FRAME_FLOWS_MAX, &u))
				goto bad;
			g.flows = (uint32_t)u;
			break;
		case 'n':
			if (netvm_parse_range(optarg, true, 1, UINT64_MAX, &g.count))
				goto bad;
			break;
		case 'd':
			g.duration = strtod(optarg, &end);
			if (*end || g.duration <= 0)
				goto bad;
			break;
		case 'w':
			g.warmup = strtod(optarg, &end);
			if (*end || g.warmup < 0)
				goto bad;
			break;
		case O_DRAIN:
			g.drain = strtod(optarg, &end);
			if (*end || g.drain < 0)
				goto bad;
			break;
		case 'i':
			g.interval = strtod(optarg, &end);
			if (*end || g.interval < 0)
				goto bad;
			break;
		case O_TXCORE:
		case O_RXCORE:
			if (netvm_parse_range(optarg, false, 0, 1023, &u))
				goto bad;
			(opt == O_TXCORE ? &g.tx : &g.rx)->core = (int)u;
			break;
		case O_MODE: /* the backend checks the values, as in netvmd's configuration */
		case O_ZC:
		case O_OPT:
			if (add_opt(opt == O_MODE ? 'm' : opt == O_ZC ? 'z' : 'o', optarg) < 0)
				return 2;
			break;
		case 'j':
			g.json = true;
			break;
		case 'q':
			g.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		continue;
	bad:
		fprintf(stderr, "netvm-pktgen: bad value '%s' for option %s\n", optarg,
			argv[optind - 1]);
		return 2;
	}
	if (optind != argc || (!g.tx_if && !g.rx_if)) {
		fprintf(stderr, "netvm-pktgen: %s\n",
			optind != argc ? "unexpected argument" : "--tx or --rx is required");
		usage(stderr);
		return 2;
	}
	if (!port_ops_find(g.type) || !strcmp(g.type, "gen") || !strcmp(g.type, "pcap")) {
		fprintf(stderr,
			"netvm-pktgen: port type '%s' is not an interface type (af_packet, af_xdp, "
			"tap)\n",
			g.type);
		return 2;
	}
	netvm_log_set_level(NETVM_LOG_WARN); /* the ports' open chatter is for netvmd */
	lathist_reset(&g.lat);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g.run = (uint16_t)(now_ns() ^ (uint64_t)getpid());

	/* Receiver first, so nothing sent is missed. */
	if (g.rx_if && side_open(&g.rx, "pktgen-rx", g.rx_if) < 0) {
		fprintf(stderr, "netvm-pktgen: cannot open %s port on '%s'\n", g.type, g.rx_if);
		return 1;
	}
	if (g.tx_if && side_open(&g.tx, "pktgen-tx", g.tx_if) < 0) {
		fprintf(stderr, "netvm-pktgen: cannot open %s port on '%s'\n", g.type, g.tx_if);
		side_close(&g.rx);
		return 1;
	}
	if (!g.quiet) {
		if (g.tx.open)
			fprintf(stderr, "netvm-pktgen: tx %s\n", g.tx.port.info);
		if (g.rx.open)
			fprintf(stderr, "netvm-pktgen: rx %s\n", g.rx.port.info);
	}
	if (g.rx.open && pthread_create(&g.rx.thr, NULL, rx_main, NULL)) {
		fprintf(stderr, "netvm-pktgen: cannot start the receiver\n");
		rc = 1;
		goto out;
	}
	t0 = now_ns();
	if (g.tx.open && pthread_create(&g.tx.thr, NULL, tx_main, NULL)) {
		fprintf(stderr, "netvm-pktgen: cannot start the sender\n");
		atomic_store(&g.stop_rx, true);
		pthread_join(g.rx.thr, NULL);
		rc = 1;
		goto out;
	}

	/* Sample: warm-up, then the measurement window, with progress lines. */
	last_t = t0;
	if (g.warmup == 0)
		t_meas = t0;
	for (;;) {
		uint64_t now, rx, tx;
		double step = g.interval > 0 ? g.interval : 0.1, el;
		bool tx_over;

		if (step > 0.1)
			step = 0.1;
		sleep_s(step);
		now = now_ns();
		el = secs(t0, now);
		rx = atomic_load(&g.received);
		tx = atomic_load(&g.sent);
		if (!t_meas && el >= g.warmup) {
			t_meas = now, rx_meas0 = rx, tx_meas0 = tx;
		}
		tx_over = g.count ? (g.tx.open ? tx >= g.count : rx >= g.count)
				  : el >= g.warmup + g.duration;
		if (!t_end_meas && (tx_over || interrupted)) {
			t_end_meas = now, rx_meas1 = rx, tx_meas1 = tx;
			if (!t_meas)
				t_meas = t0;
		}
		if (g.interval > 0 && !g.quiet && secs(last_t, now) >= g.interval) {
			double dt = secs(last_t, now);

			fprintf(stderr,
				"%7.1f s  tx %9.4f Mpps  rx %9.4f Mpps  sent %llu  received %llu  "
				"loss %lld\n",
				el, (double)(tx - last_tx) / dt * 1e-6,
				(double)(rx - last_rx) / dt * 1e-6, (unsigned long long)tx,
				(unsigned long long)rx, (long long)(g.tx.open ? tx - rx : 0));
			last_t = now, last_rx = rx, last_tx = tx;
		}
		if (t_end_meas)
			break;
	}
	atomic_store(&g.stop_tx, true);
	if (g.tx.open)
		pthread_join(g.tx.thr, NULL);
	/* Stragglers: wait until everything sent arrived, or nothing more comes. */
	if (g.rx.open) {
		uint64_t seen = atomic_load(&g.received), quiet_since = now_ns();

		while (!interrupted && (!g.tx.open || seen < atomic_load(&g.sent)) &&
		       secs(quiet_since, now_ns()) < g.drain) {
			uint64_t r;

			sleep_s(0.01);
			r = atomic_load(&g.received);
			if (r != seen)
				seen = r, quiet_since = now_ns();
		}
		atomic_store(&g.stop_rx, true);
		pthread_join(g.rx.thr, NULL);
	}

	{
		double win = secs(t_meas, t_end_meas);
		uint64_t sent = atomic_load(&g.sent), rcvd = atomic_load(&g.received);
		int64_t loss = g.tx.open && g.rx.open ? (int64_t)(sent - rcvd) : 0;
		double tx_mpps = win > 0 ? (double)(tx_meas1 - tx_meas0) / win * 1e-6 : 0;
		double rx_mpps = win > 0 ? (double)(rx_meas1 - rx_meas0) / win * 1e-6 : 0;
		double bits = (double)(g.size + 24) * 8; /* + preamble, FCS, gap */
		double p50 = (double)lathist_quantile(&g.lat, 0.50) / 1e3;
		double p99 = (double)lathist_quantile(&g.lat, 0.99) / 1e3;
		double p999 = (double)lathist_quantile(&g.lat, 0.999) / 1e3;
		double avg = g.lat.n ? (double)g.lat.sum / (double)g.lat.n / 1e3 : 0;
		double lmin = g.lat.n ? (double)g.lat.min / 1e3 : 0, lmax = (double)g.lat.max / 1e3;

		if (g.json) {
			printf(
			    "{\"type\": \"%s\", \"tx_if\": \"%s\", \"rx_if\": \"%s\", "
			    "\"tx_info\": \"%s\", \"rx_info\": \"%s\", "
			    "\"size\": %u, \"flows\": %u, \"rate\": %llu, \"window_s\": %.3f, "
			    "\"sent\": %llu, \"received\": %llu, \"lost\": %lld, "
			    "\"loss_pct\": %.6f, \"reordered\": %llu, \"duplicates\": %llu, "
			    "\"foreign\": %llu, \"tx_retries\": %llu, \"tx_mpps\": %.6f, "
			    "\"rx_mpps\": %.6f, \"rx_gbps\": %.4f, \"latency_us\": {\"n\": %llu, "
			    "\"min\": %.3f, \"avg\": %.3f, \"p50\": %.3f, \"p99\": %.3f, "
			    "\"p99_9\": %.3f, \"max\": %.3f}}\n",
			    g.type, g.tx_if ? g.tx_if : "", g.rx_if ? g.rx_if : "",
			    g.tx.open ? g.tx.port.info : "", g.rx.open ? g.rx.port.info : "",
			    g.size, g.flows, (unsigned long long)g.rate, win,
			    (unsigned long long)sent, (unsigned long long)rcvd, (long long)loss,
			    sent ? 100.0 * (double)loss / (double)sent : 0.0,
			    (unsigned long long)g.reordered, (unsigned long long)g.dup,
			    (unsigned long long)g.foreign, (unsigned long long)g.tx_fail, tx_mpps,
			    rx_mpps, rx_mpps * bits * 1e-3, (unsigned long long)g.lat.n, lmin, avg,
			    p50, p99, p999, lmax);
		} else {
			char rate[32] = "unlimited";

			if (g.rate)
				snprintf(rate, sizeof(rate), "%llu pps",
					 (unsigned long long)g.rate);
			printf("netvm-pktgen: %s, %u B frames, %u flows, rate %s, window %.2f s\n",
			       g.type, g.size, g.flows, rate, win);
			if (g.tx.open)
				printf("  tx %-10s %12llu packets  %9.4f Mpps  (%llu retries on a "
				       "full ring)\n",
				       g.tx_if, (unsigned long long)sent, tx_mpps,
				       (unsigned long long)g.tx_fail);
			if (g.rx.open) {
				printf("  rx %-10s %12llu packets  %9.4f Mpps  %.3f Gbit/s on the "
				       "wire\n",
				       g.rx_if, (unsigned long long)rcvd, rx_mpps,
				       rx_mpps * bits * 1e-3);
				if (g.tx.open)
					printf("  loss %lld (%.4f %%)  reordered %llu  duplicates "
					       "%llu  other frames %llu\n",
					       (long long)loss,
					       sent ? 100.0 * (double)loss / (double)sent : 0.0,
					       (unsigned long long)g.reordered,
					       (unsigned long long)g.dup,
					       (unsigned long long)g.foreign);
				printf("  latency us: min %.1f  avg %.1f  p50 %.1f  p99 %.1f  "
				       "p99.9 %.1f  max %.1f  (%llu samples)\n",
				       lmin, avg, p50, p99, p999, lmax,
				       (unsigned long long)g.lat.n);
				printf("rx Mpps: %.4f\n", rx_mpps);
			} else {
				printf("tx Mpps: %.4f\n", tx_mpps);
			}
		}
	}
out:
	side_close(&g.tx);
	side_close(&g.rx);
	return rc;
}
