/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-nat: IPv4 NAPT as a NetVM network function.  It translates L3/L4 and
 * passes packets on to the next hop of their chain (a chain [nat, router]
 * makes a NAT gateway); which side a packet is from is its ingress port.
 * See docs/nf-nat.md and nat.h for the parts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netvm/netvm.h>

#include "nat.h"
#include "nf_nat.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void nf_nat_handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct nf_nat *s = arg;
	uint64_t now = now_ms(); /* one clock read per burst */
	(void)nf;

	for (uint16_t i = 0; i < n; i++) {
		struct netvm_pkt *p = &pkts[i];
		enum nat_side side = (enum nat_side)s->side[p->in_port];

		switch (nat_translate(&s->nat, p->data, p->len, side, now)) {
		case NAT_V_DROP:
			netvm_pkt_drop(p);
			break;
		case NAT_V_HAIRPIN:
			if (s->nat.cfg.hairpin == NAT_HAIRPIN_PORT) {
				/* Bump in the wire: back where it came from, to the
				 * sender's L2 neighbour (the L2 of that side is the
				 * one the inside hosts share). */
				netvm_eth_swap(p->data, p->len);
				netvm_pkt_to_port(p, p->in_port);
			}
			break;
		default: /* the next hop of the chain */
			break;
		}
	}
}

void nf_nat_timer(struct netvm_nf *nf, void *arg)
{
	struct nf_nat *s = arg;
	(void)nf;

	nat_tick(&s->nat, now_ms());
}

int nf_nat_bind(struct nf_nat *s, struct netvm_nf *nf, char *err, size_t errlen)
{
	for (int side = NAT_SIDE_INSIDE; side <= NAT_SIDE_OUTSIDE; side++) {
		const struct nat_config *c = &s->nat.cfg;
		int n = side == NAT_SIDE_INSIDE ? c->n_inside : c->n_outside;
		for (int i = 0; i < n; i++) {
			const char *name = side == NAT_SIDE_INSIDE ? c->inside[i] : c->outside[i];
			int id = netvm_nf_port_id(nf, name);
			if (id < 0 || id == NETVM_PORT_NONE) {
				snprintf(err, errlen, "the daemon has no port '%s' (%s)", name,
					 side == NAT_SIDE_INSIDE ? "inside" : "outside");
				return -1;
			}
			s->side[id] = (uint8_t)side;
		}
	}
	for (int i = 0; i < NAT_C_MAX; i++) {
		uint64_t *p = netvm_nf_counter(nf, nat_counter_names[i]);
		if (!p) {
			snprintf(err, errlen, "counter '%s': %s", nat_counter_names[i],
				 strerror(errno));
			return -1;
		}
		*p = 0;
		s->nat.c[i] = p;
	}
	return 0;
}

#ifndef NF_NAT_NO_MAIN
static void usage(FILE *out)
{
	fprintf(out,
		"Usage: nf-nat --service NAME --config FILE [options]\n"
		"IPv4 NAPT (source NAT with port translation, RFC 4787/5382/5508): packets\n"
		"from the inside ports get a public source address:port, replies to it get\n"
		"the inside endpoint back; everything goes on to the next hop of its chain.\n"
		"\n"
		"  -s, --service NAME   attach as an instance of service NAME (required)\n"
		"  -c, --config FILE    configuration file, YAML (required; keys below)\n"
		"  -S, --socket PATH    daemon control socket (default: $NETVM_SOCKET or\n"
		"                       " NETVM_DEFAULT_SOCKET ")\n"
		"  -n, --check          load the configuration, print it and exit\n"
		"  -h, --help           show this help\n"
		"\n"
		"Configuration keys:\n"
		"  inside: [PORT...]        daemon ports on the private side (required)\n"
		"  outside: [PORT...]       daemon ports on the public side (required)\n"
		"  public: [ADDR...]        public IPv4 addresses, 1..16 (required); an inside\n"
		"                           address always gets the same one (paired pooling)\n"
		"  ports: LOW-HIGH          external ports and ICMP identifiers (1024-65535)\n"
		"  max_mappings: N          mappings at most, preallocated (65536)\n"
		"  timeouts:                durations: 300 (s), 5m, 2h4m, 1500ms\n"
		"    udp: 5m                RFC 4787 REQ-5 (at least 2 min)\n"
		"    tcp_established: 2h4m  RFC 5382 REQ-5 (at least 2 h 4 min)\n"
		"    tcp_transitory: 4m     RFC 5382 REQ-5: opening, closing, reset (>= 4 min)\n"
		"    icmp: 60s              RFC 5508 (at least 60 s)\n"
		"  hairpin: next|port|drop  an inside packet to a public address:port of another\n"
		"                           mapping is translated both ways, then goes to the\n"
		"                           next hop (next: a router after the NAT), back out of\n"
		"                           its ingress port with the MACs swapped (port: a bump\n"
		"                           in the wire), or is dropped (drop).  Default next.\n"
		"Shorter timeouts than the RFCs' are accepted with a warning.\n"
		"\n"
		"Behaviour: endpoint-independent mapping and filtering; ports chosen by RFC 6056\n"
		"algorithm 4 (SipHash, random keys); TCP, UDP, ICMP echo/timestamp (the\n"
		"identifier is the port); ICMP errors (3, 11, 12) translated with their\n"
		"embedded header; IPv4 first fragments translated, later fragments dropped;\n"
		"frames that are not IPv4, and IPv4 from the outside not to a public address,\n"
		"pass unchanged.  One instance per service (the mappings are its own).\n"
		"\n"
		"Counters (netvmctl nfs, status JSON), printed at exit:\n");
	for (int i = 0; i < NAT_C_MAX; i++)
		fprintf(out, "  %-17s %s\n", nat_counter_names[i], nat_counter_help[i]);
	fprintf(out, "See docs/nf-nat.md.\n");
}

static void warn(const char *msg)
{
	fprintf(stderr, "nf-nat: warning: %s\n", msg);
}

static void print_config(const struct nat_config *c, FILE *out)
{
	char a[INET_ADDRSTRLEN];
	static const char *const hp[] = {"next", "port", "drop"};

	fprintf(out, "nf-nat: inside");
	for (int i = 0; i < c->n_inside; i++)
		fprintf(out, " %s", c->inside[i]);
	fprintf(out, ", outside");
	for (int i = 0; i < c->n_outside; i++)
		fprintf(out, " %s", c->outside[i]);
	fprintf(out, ", public");
	for (int i = 0; i < c->n_public; i++)
		fprintf(out, " %s", inet_ntop(AF_INET, &c->public_addr[i], a, sizeof(a)));
	fprintf(out,
		", ports %u-%u, max_mappings %u, timeouts udp %llu ms, tcp_established %llu ms, "
		"tcp_transitory %llu ms, icmp %llu ms, hairpin %s\n",
		c->port_min, c->port_max, c->max_mappings, (unsigned long long)c->timeout.udp,
		(unsigned long long)c->timeout.tcp_established,
		(unsigned long long)c->timeout.tcp_transitory, (unsigned long long)c->timeout.icmp,
		hp[c->hairpin]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"service", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 'S'},  {"check", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	static struct nf_nat s;
	struct netvm_nf_opts opts = {0};
	struct nat_config cfg;
	const char *service = NULL, *config = NULL;
	bool check = false;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "s:c:S:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			service = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((!service && !check) || !config || optind < argc) {
		fprintf(stderr, "nf-nat: %s\n",
			optind < argc ? "unexpected argument"
			: !config     ? "--config is required"
				      : "--service is required");
		usage(stderr);
		return 2;
	}
	/* Configuration and every allocation before attaching: a typo or a
	 * max_mappings too large should not take a slot. */
	if (nat_config_load(config, &cfg, err, sizeof(err), warn) < 0) {
		fprintf(stderr, "nf-nat: %s\n", err);
		return 1;
	}
	print_config(&cfg, stderr);
	if (check)
		return 0;
	if (nat_init(&s.nat, &cfg) < 0) {
		fprintf(stderr, "nf-nat: cannot allocate %u mappings: out of memory\n",
			cfg.max_mappings);
		return 1;
	}

	struct netvm_nf *nf = netvm_nf_attach(service, &opts);
	if (!nf) { /* libnetvm has said why */
		fprintf(stderr, "nf-nat: cannot attach as service '%s'\n", service);
		nat_fini(&s.nat);
		return 1;
	}
	if (nf_nat_bind(&s, nf, err, sizeof(err)) < 0) {
		fprintf(stderr, "nf-nat: %s\n", err);
		netvm_nf_detach(nf);
		nat_fini(&s.nat);
		return 1;
	}
	netvm_nf_set_timer(nf, NAT_EXPIRY_TICK, nf_nat_timer, &s);
	int rc = netvm_nf_run(nf, nf_nat_handler, &s);
	if (rc == -ECONNRESET)
		fprintf(stderr, "nf-nat: the daemon went away\n");

	printf("nf-nat: counters at exit:\n");
	for (int i = 0; i < NAT_C_MAX; i++)
		printf("  %-17s %llu\n", nat_counter_names[i], (unsigned long long)*s.nat.c[i]);
	fflush(stdout);
	/* The counters live in the region: read them before detaching. */
	for (int i = 0; i < NAT_C_MAX; i++)
		s.nat.c[i] = &s.nat.local_c[i];
	netvm_nf_detach(nf);
	nat_fini(&s.nat);
	return rc == 0 ? 0 : 1;
}
#endif
