/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-router: an IPv4/IPv6 router NF.  Its interfaces are NetVM ports; it
 * forwards between them by longest-prefix match (DIR-24-8 for IPv4, a
 * multibit trie for IPv6), resolves next hops with ARP and neighbour
 * discovery, answers for its own addresses and sends ICMP errors as RFC
 * 1812 and RFC 4443 say.  SIGHUP re-reads the route file in a thread and
 * swaps the new table in between bursts; a bad file keeps the old one.
 * docs/nf-router.md has the whole story.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netvm/netvm.h>

#include "config.h"
#include "router.h"

static sem_t hup;		   /* posted by SIGHUP: reload the routes */
static volatile sig_atomic_t usr1; /* print the counters and neighbours */
static atomic_bool loader_stop;

static const char *const counter_names[] = {
#define X(name, doc) #name,
    RT_COUNTERS(X)
#undef X
};

static const char *const counter_docs[] = {
#define X(name, doc) doc,
    RT_COUNTERS(X)
#undef X
};

static void on_hup(int sig)
{
	(void)sig;
	sem_post(&hup); /* async-signal-safe */
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void print_counters(const struct router *r, FILE *f)
{
	fprintf(f, "nf-router: counters:");
	for (int i = 0; i < RT_NCOUNTERS; i++)
		fprintf(f, " %s=%llu", counter_names[i], (unsigned long long)*r->c[i]);
	fprintf(f, "\n");
	fflush(f);
}

static void tick(struct netvm_nf *nf, void *arg)
{
	struct router *r = arg;

	rt_tick(nf, r);
	if (usr1) {
		usr1 = 0;
		print_counters(r, stdout);
		neigh_print(r, stdout);
	}
}

/* Reload the route file on each SIGHUP, beside the packet path. */
static void *loader(void *arg)
{
	struct router *r = arg;
	char err[1024];

	for (;;) {
		while (sem_wait(&hup) < 0 && errno == EINTR)
			;
		if (atomic_load(&loader_stop))
			return NULL;
		while (sem_trywait(&hup) == 0) /* several SIGHUPs: one reload */
			;
		struct rt_fib *fib = rt_fib_load(r->cfg, err, sizeof(err));
		if (!fib) {
			fprintf(stderr, "nf-router: %s; the old routes stay\n", err);
			atomic_fetch_add(&r->reload_failed, 1);
			continue;
		}
		atomic_store_explicit(&r->fresh, fib, memory_order_release);
		/* the packet path takes it between two bursts, or at its next
		 * timer tick when idle; then the old table is ours to free */
		struct rt_fib *old;
		while (!(old = atomic_exchange(&r->stale, NULL))) {
			if (atomic_load(&loader_stop))
				return NULL;
			usleep(1000);
		}
		rt_fib_free(old);
		fprintf(stderr, "nf-router: reloaded %s: %u IPv4 and %u IPv6 routes in %.0f ms\n",
			r->cfg->routes, fib->file_routes4, fib->file_routes6, fib->load_ms);
	}
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: nf-router --service NAME --config FILE [options]\n"
	    "       nf-router --config FILE --check [--print-routes]\n"
	    "An IPv4/IPv6 router between NetVM ports: longest-prefix match forwarding,\n"
	    "ARP and neighbour discovery, TTL/hop limit, ICMP errors and echo replies.\n"
	    "\n"
	    "  -s, --service NAME     attach as an instance of service NAME\n"
	    "  -c, --config FILE      configuration (YAML, below; required)\n"
	    "  -r, --routes FILE      route file (instead of the configuration's 'routes')\n"
	    "  -S, --socket PATH      daemon control socket (default: $NETVM_SOCKET or\n"
	    "                         " NETVM_DEFAULT_SOCKET ")\n"
	    "  -n, --check            load the configuration and routes, say what they hold,\n"
	    "                         exit (0: good, 1: the error, as file:line: what)\n"
	    "  -p, --print-routes     with --check: print the routing table\n"
	    "  -q, --quiet            no informational messages\n"
	    "  -h, --help             show this help\n"
	    "\n"
	    "Configuration (YAML; every key but interfaces is optional):\n"
	    "  interfaces:                    # the router's interfaces: NetVM ports\n"
	    "    - port: pa                   # the port's name in netvmd's configuration\n"
	    "      mac: 02:00:00:00:01:01     # its MAC (frames to other MACs are not ours)\n"
	    "      addresses: [10.1.0.1/24, fd01::1/64]   # connected subnets; a link-local\n"
	    "                                 # fe80::/64 address is made from the MAC\n"
	    "      mtu: 1500                  # largest IP packet sent out of it (576..9000)\n"
	    "  routes: routes.txt             # route file, relative to the configuration\n"
	    "  static_neighbours:             # permanent entries (never resolved or aged)\n"
	    "    - {port: pa, ip: 10.1.0.7, mac: 02:00:00:00:00:07}\n"
	    "  icmp: {rate: 1000, burst: 50}  # ICMP errors per second, bucket depth; rate 0:\n"
	    "                                 # no limit (echo replies are not limited)\n"
	    "  neighbour:                     # ARP / neighbour discovery\n"
	    "    reachable: 30s               # an answer holds this long, then STALE\n"
	    "    stale: 60s                   # an unused STALE entry goes after this long\n"
	    "    retrans: 1s                  # between solicitations\n"
	    "    probes: 3                    # solicitations before giving up\n"
	    "    queue: 3                     # packets held per unresolved next hop\n"
	    "    queue_total: 256             # packets held in all\n"
	    "    max: 4096                    # neighbour entries\n"
	    "  stock: 128                     # buffers the switch keeps ready for ARP/ND\n"
	    "  timer: 50ms                    # housekeeping period (ageing, retransmissions)\n"
	    "\n"
	    "Route file, one route per line ('#' starts a comment), as ip route writes them:\n"
	    "  10.3.0.0/16 via 10.2.0.2          the gateway's connected subnet gives the port\n"
	    "  fd03::/48 via fe80::1 dev pb      a link-local gateway needs dev\n"
	    "  192.0.2.0/24 dev pb               on-link: the destination is the neighbour\n"
	    "  default via 10.1.0.254            0.0.0.0/0, or ::/0 with an IPv6 gateway\n"
	    "  blackhole|unreachable|prohibit PREFIX   drop silently / ICMP unreachable /\n"
	    "                                    ICMP administratively prohibited\n"
	    "An address alone is a host route.  A prefix with host bits set, a duplicate, a\n"
	    "gateway off every subnet refuse the whole file with file:line: what is wrong.\n"
	    "\n"
	    "Signals: SIGHUP re-reads the route file in a thread and swaps the new table in\n"
	    "between bursts (an error keeps the old one: counter reload_errors); SIGUSR1\n"
	    "prints the counters and the neighbour table to stdout; SIGINT/SIGTERM stop\n"
	    "(the counters are printed).\n"
	    "\n"
	    "Counters (netvmctl nfs, the daemon's status):\n");
	for (int i = 0; i < RT_NCOUNTERS; i++)
		fprintf(out, "  %-21s %s\n", counter_names[i], counter_docs[i]);
}

static int setup_ports(struct router *r)
{
	int max = -1;

	for (int i = 0; i < r->cfg->nifaces; i++) {
		struct rt_iface *ifc = &r->cfg->ifaces[i];
		ifc->port_id = netvm_nf_port_id(r->nf, ifc->port);
		if (ifc->port_id < 0) {
			fprintf(stderr,
				"nf-router: %s:%d: port '%s' is not a port of the daemon's "
				"configuration\n",
				r->cfg->path, ifc->line, ifc->port);
			return -1;
		}
		if (ifc->port_id > max)
			max = ifc->port_id;
	}
	r->nport_if = (uint32_t)max + 1;
	r->port_if = malloc(r->nport_if * sizeof(*r->port_if));
	if (!r->port_if)
		return -1;
	for (uint32_t i = 0; i < r->nport_if; i++)
		r->port_if[i] = -1;
	for (int i = 0; i < r->cfg->nifaces; i++)
		r->port_if[r->cfg->ifaces[i].port_id] = (int16_t)i;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"service", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"routes", required_argument, NULL, 'r'},
	    {"socket", required_argument, NULL, 'S'},
	    {"check", no_argument, NULL, 'n'},
	    {"print-routes", no_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct rt_config cfg;
	static struct router r;
	struct netvm_nf_opts opts = {0};
	const char *service = NULL, *config = NULL, *routes = NULL;
	bool check = false, print_routes = false, quiet = false;
	char err[1024];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "s:c:r:S:npqh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			service = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'r':
			routes = optarg;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'p':
			print_routes = true;
			break;
		case 'q':
			quiet = opts.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config || (!service && !check) || optind < argc) {
		fprintf(stderr, "nf-router: %s\n",
			optind < argc ? "unexpected argument"
			: !config     ? "--config is required"
				      : "--service is required (or --check)");
		usage(stderr);
		return 2;
	}

	/* Everything that can be wrong in the files, before attaching. */
	if (rt_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nf-router: %s\n", err);
		return 1;
	}
	if (routes)
		snprintf(cfg.routes, sizeof(cfg.routes), "%s", routes);
	r.cfg = &cfg;
	r.fib = rt_fib_load(&cfg, err, sizeof(err));
	if (!r.fib) {
		fprintf(stderr, "nf-router: %s\n", err);
		goto out;
	}
	if (!quiet || check)
		fprintf(stderr,
			"nf-router: %d interfaces; %u IPv4 and %u IPv6 routes from %s in %.0f ms "
			"(%u next hops, %u + %u groups, %.1f MiB)\n",
			cfg.nifaces, r.fib->file_routes4, r.fib->file_routes6,
			cfg.routes[0] ? cfg.routes : "(no route file)", r.fib->load_ms, r.fib->nnh,
			lpm_groups(r.fib->v4), lpm_groups(r.fib->v6),
			(double)(lpm_memory(r.fib->v4) + lpm_memory(r.fib->v6)) / (1 << 20));
	if (check) {
		if (print_routes)
			rt_fib_print(r.fib, &cfg, stdout);
		rc = 0;
		goto out;
	}

	opts.stock = cfg.stock;
	r.nf = netvm_nf_attach(service, &opts);
	if (!r.nf) { /* libnetvm has said why */
		fprintf(stderr, "nf-router: cannot attach as service '%s'\n", service);
		goto out;
	}
	if (setup_ports(&r) < 0)
		goto detach;
	for (int i = 0; i < RT_NCOUNTERS; i++) {
		r.c[i] = netvm_nf_counter(r.nf, counter_names[i]);
		if (!r.c[i]) {
			fprintf(stderr, "nf-router: counter %s: %s (shown only at exit)\n",
				counter_names[i], strerror(errno));
			r.c[i] = &r.local_c[i];
		}
	}
	if (neigh_init(&r.nt, &cfg) < 0 || neigh_add_static(&r) < 0) {
		fprintf(stderr, "nf-router: out of memory for the neighbour table\n");
		goto detach;
	}
	r.tokens = cfg.icmp_burst;

	pthread_t th;
	sem_init(&hup, 0, 0);
	if (pthread_create(&th, NULL, loader, &r) != 0) {
		fprintf(stderr, "nf-router: cannot start the route loader thread\n");
		goto detach;
	}
	struct sigaction sa = {.sa_handler = on_hup};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	netvm_nf_set_timer(r.nf, cfg.timer_ms, tick, &r);
	if (!quiet)
		fprintf(stderr, "nf-router: routing as '%s'\n", service);
	int run = netvm_nf_run(r.nf, rt_handler, &r);
	if (run == -ECONNRESET)
		fprintf(stderr, "nf-router: the daemon went away\n");
	rc = run == 0 ? 0 : 1;

	atomic_store(&loader_stop, true);
	sem_post(&hup);
	pthread_join(th, NULL);
	print_counters(&r, stdout);
	rt_fib_free(atomic_exchange(&r.fresh, NULL));
	rt_fib_free(atomic_exchange(&r.stale, NULL));
detach:
	netvm_nf_detach(r.nf);
	neigh_free(&r.nt);
	free(r.port_if);
out:
	rt_fib_free(r.fib);
	rt_config_free(&cfg);
	return rc;
}
