/* SPDX-License-Identifier: BSD-3-Clause */
/* netvmd: the NetVM daemon (manager + switch). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/netvm.h>
#include "common/log.h"
#include "netvmd.h"

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: netvmd -c CONFIG [options]\n"
	       "\n"
	       "Run the NetVM platform: create the shared packet region, open the ports,\n"
	       "run the switch thread and serve the control socket that NFs attach to.\n"
	       "\n"
	       "  -c, --config FILE   YAML configuration (see docs/configuration.md)\n"
	       "  -s, --socket PATH   control socket (overrides the configuration's 'socket')\n"
	       "  -v, --verbose       debug logging\n"
	       "  -q, --quiet         warnings and errors only\n"
	       "  -h, --help          this text\n"
	       "\n"
	       "Stop with SIGINT or SIGTERM: ports are flushed (pcap files closed) and the\n"
	       "final counters are printed.  Inspect and change a running daemon with netvmctl.\n");
}

static void print_summary(struct netvmd *d)
{
	uint64_t held = 0;

	for (uint16_t i = 0; i < d->nports; i++)
		held +=
		    d->ports[i].stats.held; /* lent to the kernel (af_xdp), given back at close */
	fprintf(stderr, "netvmd: pool %u/%u buffers free, %llu held by ports\n", d->pool.nfree,
		d->pool.n, (unsigned long long)held);
	for (uint16_t i = 0; i < d->nports; i++)
		fprintf(stderr, "netvmd: port %-12s rx %10llu  tx %10llu\n", d->ports[i].name,
			(unsigned long long)d->ports[i].stats.rx,
			(unsigned long long)d->ports[i].stats.tx);
	fprintf(stderr, "netvmd: drops");
#define SW_DROP_PRINT(name, help)                                                                  \
	fprintf(stderr, " " #name " %llu", (unsigned long long)d->sw.drops.name);
	SW_DROP_CAUSES(SW_DROP_PRINT)
#undef SW_DROP_PRINT
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"socket", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},      {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	      {0}};
	static struct netvmd d;
	const char *config = NULL, *socket = NULL;
	char err[1024];
	sigset_t mask;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "c:s:vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case 'v':
			netvm_log_set_level(NETVM_LOG_DEBUG);
			break;
		case 'q':
			netvm_log_set_level(NETVM_LOG_WARN);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (netvm_config_load(config, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "netvmd: %s\n", err);
		return 1;
	}
	if (socket)
		snprintf(d.cfg.socket, sizeof(d.cfg.socket), "%s", socket);

	/* Signals are taken by the manager's signalfd; every thread blocks them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (netvmd_open(&d) < 0)
		goto out;
	if (switch_start(&d) < 0) {
		LOG_ERR("netvmd", "cannot start the switch thread");
		goto out;
	}
	LOG_INFO("netvmd", "%d ports, %d services, %u buffers of %u B, rings of %u, %u NF slots",
		 d.cfg.nports, d.cfg.nservices, d.pool.n, 1u << d.region.buf_shift, d.cfg.ring_size,
		 d.nslots);
	ret = manager_run(&d) < 0 ? 1 : 0;
	/* NFs that were still attached are GONE: let the switch reap them. */
	for (int i = 0; i < 1000; i++) {
		bool busy = false;
		for (uint32_t s = 0; s < d.nslots; s++)
			busy |= atomic_load(&d.slots[s].state) == SLOT_GONE;
		if (!busy)
			break;
		switch_quiesce(&d);
	}
	switch_stop(&d);
	print_summary(&d);
out:
	netvmd_close(&d);
	return ret;
}
