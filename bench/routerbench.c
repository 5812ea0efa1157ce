/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * router-bench: nf-router's route table and packet handler measured in one
 * process (bench/router.py runs it).
 *
 *   router-bench lookup CONFIG IPS
 *       Load CONFIG's route file as nf-router does (parse + build, timed),
 *       insert the same prefixes again into an empty table (insertion
 *       alone, timed), then look up every IPv4 address of IPS (one per
 *       line, dotted) in bursts of 64 with the TSC read around each burst,
 *       as dpdk-test-fib measures rte_fib_lookup_bulk(): cycles per lookup.
 *       Prints one JSON object.
 *
 *   router-bench handler CONFIG PACKETS [DST_PREFIX]
 *       The switch and nf-router's handler in lock step in one thread (as
 *       bench/hopcost.c): a gen port sends PACKETS 64-byte frames to random
 *       destinations (the gen's dst, default 0.0.0.0/0) to CONFIG's interface gen0 (MAC
 *       02:00:00:00:00:02), the router routes them back out of it.  Under
 *       `valgrind --tool=callgrind --toggle-collect=rt_handler` the
 *       instructions counted are the handler's and the lookups' only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>
#include <arpa/inet.h>

#include "daemon/netvmd.h"
#include "lib/nf_local.h"
#include "../nfs/router/config.h"
#include "../nfs/router/router.h"

#define BURST 64

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static inline uint64_t tsc(void)
{
	unsigned aux;

	_mm_lfence();
	uint64_t t = __rdtscp(&aux);
	_mm_lfence();
	return t;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int lookup_mode(const char *config, const char *ips_path)
{
	static struct rt_config cfg;
	char err[1024];
	size_t len;

	if (rt_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "router-bench: %s\n", err);
		return 1;
	}
	double t0 = now_s();
	struct rt_fib *fib = rt_fib_load(&cfg, err, sizeof(err));
	double load_s = now_s() - t0;
	if (!fib) {
		fprintf(stderr, "router-bench: %s\n", err);
		return 1;
	}

	/* The prefixes again, parsed first, then inserted alone. */
	char *text = slurp(cfg.routes, &len);
	uint32_t n = 0, cap = 1 << 20;
	uint8_t(*keys)[4] = malloc(cap * 4);
	uint8_t *depth = malloc(cap);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sl = strchr(line, '/');
		if (!sl || line[0] == '#')
			continue;
		*sl = '\0';
		if (n == cap) {
			cap *= 2;
			keys = realloc(keys, cap * 4);
			depth = realloc(depth, cap);
		}
		if (inet_pton(AF_INET, line, keys[n]) != 1)
			continue;
		depth[n++] = (uint8_t)atoi(sl + 1);
	}
	struct lpm *l = lpm_new(LPM_V4);
	t0 = now_s();
	uint64_t c0 = tsc();
	for (uint32_t i = 0; i < n; i++)
		lpm_add(l, keys[i], depth[i], i & 15, i, true, NULL);
	uint64_t insert_cycles = tsc() - c0;
	double insert_s = now_s() - t0;
	lpm_free(l);
	free(keys);
	free(depth);
	free(text);

	/* The addresses. */
	text = slurp(ips_path, &len);
	uint32_t nips = 0;
	cap = 1 << 20;
	uint32_t *ips = malloc(cap * sizeof(uint32_t));
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct in_addr a;
		if (inet_pton(AF_INET, line, &a) != 1)
			continue;
		if (nips == cap) {
			cap *= 2;
			ips = realloc(ips, cap * sizeof(uint32_t));
		}
		ips[nips++] = ntohl(a.s_addr);
	}
	free(text);
	nips -= nips % BURST;

	const struct lpm *v4 = fib->v4;
	uint32_t out[BURST], sum = 0, miss = 0;
	/* one pass to warm up (page faults of the first touch), then the
	 * measured pass, as dpdk-test-fib's single pass over a table it has
	 * just written */
	for (uint32_t i = 0; i < nips; i++)
		sum += lpm_lookup4(v4, ips[i]);
	/* the timed passes: bursts of 64 through lpm_lookup4_bulk() (as
	 * rte_fib_lookup_bulk()), then one address at a time; REPS each, the
	 * median is reported (the machine is shared and noisy) */
	enum { REPS = 5 };
	double bulk[REPS], single[REPS];
	t0 = now_s();
	c0 = tsc();
	for (int rep = 0; rep < REPS; rep++) {
		uint64_t acc = 0, acc1 = 0;
		for (uint32_t i = 0; i < nips; i += BURST) {
			uint64_t s = tsc();
			lpm_lookup4_bulk(v4, ips + i, out, BURST);
			acc += tsc() - s;
			for (int j = 0; j < BURST; j++) {
				sum += out[j];
				miss += out[j] == LPM_MISS;
			}
		}
		for (uint32_t i = 0; i < nips; i += BURST) {
			uint64_t s = tsc();
			for (int j = 0; j < BURST; j++)
				out[j] = lpm_lookup4(v4, ips[i + j]);
			acc1 += tsc() - s;
			for (int j = 0; j < BURST; j++)
				sum += out[j];
		}
		bulk[rep] = (double)acc / nips;
		single[rep] = (double)acc1 / nips;
	}
	double wall = now_s() - t0;
	double hz = (double)(tsc() - c0) / wall;
	qsort(bulk, REPS, sizeof(double), cmp_double);
	qsort(single, REPS, sizeof(double), cmp_double);
	miss /= REPS;
	printf("{\"routes\": %u, \"lookups\": %u, \"misses\": %u, \"load_s\": %.3f, "
	       "\"insert_s\": %.3f, \"insert_cycles_per_route\": %.1f, "
	       "\"lookup_cycles\": %.2f, \"lookup_ns\": %.2f, \"single_lookup_cycles\": %.2f, "
	       "\"tsc_hz\": %.0f, \"groups\": %u, "
	       "\"memory_mib\": %.1f, \"checksum\": %u}\n",
	       fib->file_routes4, nips, miss, load_s, insert_s, (double)insert_cycles / n,
	       bulk[REPS / 2], bulk[REPS / 2] / hz * 1e9, single[REPS / 2], hz, lpm_groups(v4),
	       (double)lpm_memory(v4) / (1 << 20), sum);
	rt_fib_free(fib);
	rt_config_free(&cfg);
	free(ips);
	return 0;
}

static int handler_mode(const char *config, long packets, const char *dst)
{
	static struct netvmd d;
	static struct rt_config cfg;
	static struct router r;
	struct netvm_pkt pkts[NETVM_BURST];
	char text[1024], err[1024];

	if (rt_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "router-bench: %s\n", err);
		return 1;
	}
	double t0 = now_s();
	r.cfg = &cfg;
	r.fib = rt_fib_load(&cfg, err, sizeof(err));
	if (!r.fib) {
		fprintf(stderr, "router-bench: %s\n", err);
		return 1;
	}
	fprintf(stderr, "router-bench: %u routes loaded in %.2f s\n", r.fib->file_routes4,
		now_s() - t0);
	snprintf(text, sizeof(text),
		 "pool: {buffers: 4096}\nring_size: 1024\nmax_nfs: 1\nbackpressure: true\n"
		 "ports:\n  - {name: gen0, type: gen, size: 64, count: %ld, dst: %s}\n"
		 "services: [router]\nchains:\n  default: [router]\n",
		 packets, dst);
	if (netvm_config_parse("router-bench", text, strlen(text), &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "router-bench: %s\n", err);
		return 1;
	}
	if (netvmd_open(&d) < 0)
		return 1;
	slot_open(&d, 0, 0, 0, -1, 0);
	r.nf = netvm_nf_open_local(&d.region, 0);
	route_set_replicas(&d, d.mgr.rt);

	int id = netvm_nf_port_id(r.nf, "gen0");
	if (id < 0 || cfg.nifaces != 1 || strcmp(cfg.ifaces[0].port, "gen0")) {
		fprintf(stderr, "router-bench: %s must have one interface, port gen0\n", config);
		return 1;
	}
	cfg.ifaces[0].port_id = id;
	r.nport_if = (uint32_t)id + 1;
	r.port_if = calloc(r.nport_if, sizeof(*r.port_if));
	for (uint32_t i = 0; i < r.nport_if; i++)
		r.port_if[i] = -1;
	r.port_if[id] = 0;
	for (int i = 0; i < RT_NCOUNTERS; i++)
		r.c[i] = &r.local_c[i];
	if (neigh_init(&r.nt, &cfg) < 0 || neigh_add_static(&r) < 0)
		return 1;
	r.tokens = cfg.icmp_burst;

	t0 = now_s();
	while (!d.ports[0].rx_done || d.pool.nfree != d.pool.n) {
		switch_round(&d);
		uint16_t n = netvm_nf_recv(r.nf, pkts, NETVM_BURST);
		if (n) {
			rt_handler(r.nf, pkts, n, &r);
			netvm_nf_send(r.nf, pkts, n);
		}
	}
	double run = now_s() - t0;
	printf("{\"packets\": %llu, \"forwarded\": %llu, \"sink\": %llu, \"seconds\": %.3f, "
	       "\"no_route\": %llu, \"blackhole\": %llu, \"other_drops\": %llu}\n",
	       (unsigned long long)d.ports[0].stats.rx, (unsigned long long)r.local_c[C_fwd_v4],
	       (unsigned long long)d.ports[0].stats.tx, run,
	       (unsigned long long)r.local_c[C_no_route],
	       (unsigned long long)r.local_c[C_blackhole],
	       (unsigned long long)(r.local_c[C_rx] - r.local_c[C_fwd_v4] - r.local_c[C_no_route] -
				    r.local_c[C_blackhole]));
	netvm_nf_close_local(r.nf);
	netvmd_close(&d);
	neigh_free(&r.nt);
	rt_fib_free(r.fib);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "lookup"))
		return lookup_mode(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "handler"))
		return handler_mode(argv[2], atol(argv[3]), argc == 5 ? argv[4] : "0.0.0.0/0");
	fprintf(stderr, "usage: router-bench lookup CONFIG IPS\n"
			"       router-bench handler CONFIG PACKETS [DST_PREFIX]\n");
	return 2;
}
