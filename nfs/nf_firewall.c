/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-firewall: a stateless 5-tuple firewall.  Each packet is checked against
 * a rules file (see fw_rules.h); the first matching rule decides, denied
 * packets are dropped and allowed ones go to the next hop of their chain.
 * Malformed or evasive frames get the "malformed" policy before any rule.
 *
 * The per-rule counter table is printed at exit, every --stats-interval
 * seconds and on SIGUSR1.  netvm_nf_run() only calls the handler when
 * packets arrive, so the periodic and SIGUSR1 tables are printed from the
 * handler: with no traffic they wait for the next packet (or exit).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netvm/netvm.h>

#include "fw_rules.h"

struct fw_state {
	struct fw_ruleset rs;
	unsigned interval;    /* seconds between tables, 0 = only at exit/SIGUSR1 */
	struct timespec next; /* when the next periodic table is due */
};

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void print_table(struct fw_state *st)
{
	time_t now = time(NULL);
	char ts[32];

	strftime(ts, sizeof(ts), "%F %T", localtime(&now));
	printf("nf-firewall: counters at %s\n", ts);
	fw_rules_print(&st->rs, stdout); /* flushes: stdout may be a pipe */
}

static void handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct fw_state *st = arg;
	(void)nf;

	for (uint16_t i = 0; i < n; i++) {
		int v = fw_verdict(&st->rs, pkts[i].data, pkts[i].len);
		if (v < 0)
			netvm_pkt_drop(&pkts[i]);
		else if (v > 0)
			netvm_pkt_output(&pkts[i], (uint16_t)v);
		/* else the default action: the next hop of the chain */
	}

	bool due = false;
	if (st->interval) {
		/* One clock read per burst, not per packet. */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > st->next.tv_sec ||
		    (now.tv_sec == st->next.tv_sec && now.tv_nsec >= st->next.tv_nsec)) {
			due = true;
			st->next = now;
			st->next.tv_sec += st->interval;
		}
	}
	if (usr1) {
		usr1 = 0;
		due = true;
	}
	if (due)
		print_table(st);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: nf-firewall --service NAME --rules FILE [options]\n"
	    "Stateless 5-tuple firewall: drop the packets that FILE denies, pass the rest to\n"
	    "the next hop of their chain.\n"
	    "\n"
	    "  -s, --service NAME         attach as an instance of service NAME (required)\n"
	    "  -r, --rules FILE           rules file (required; format below)\n"
	    "  -S, --socket PATH          daemon control socket (default: $NETVM_SOCKET or\n"
	    "                             " NETVM_DEFAULT_SOCKET ")\n"
	    "  -i, --stats-interval SEC   also print the counters every SEC seconds (0: off)\n"
	    "  -h, --help                 show this help\n"
	    "\n"
	    "Rules file: one rule per line, first match wins; '#' starts a comment.\n"
	    "  allow|deny [src=PREFIX] [dst=PREFIX] [proto=P] [sport=PORTS] [dport=PORTS]\n"
	    "  allow ... output=N      allowed packets leave by output N (0..15) of this hop\n"
	    "                          (a branch of a graph chain: the chain's links say\n"
	    "                          where it leads); the others by output 0, the next hop\n"
	    "  default allow|deny      policy when no rule matches (default: allow)\n"
	    "  malformed allow|deny    deny (default): drop malformed or evasive frames before\n"
	    "                          any rule; allow: let the rules decide (only rules\n"
	    "                          without ports can match them), then the default\n"
	    "A missing field matches anything.  PREFIX: 10.0.0.0/8, fe80::/10 or an address;\n"
	    "P: tcp, udp, icmp, icmpv6 or a number; PORTS: 80 or 1000-2000.\n"
	    "\n"
	    "IPv6 extension headers are walked (at most 8) to the TCP/UDP header.  A rule\n"
	    "with ports matches only packets whose L4 header is complete; a rule without\n"
	    "ports matches every packet with a valid IP header, fragments included.\n"
	    "Fragments after the first carry no ports: only rules without ports match them,\n"
	    "else they get the default policy (they are useless without their first).\n"
	    "Malformed or evasive: an invalid IP header (bad_ip); a packet or first fragment\n"
	    "too short for its TCP (20 bytes) or UDP (8) header, or whose IPv6 header chain\n"
	    "is cut (short_l4, RFC 1858/7112); a TCP fragment at offset 1 (tcp_off1, RFC\n"
	    "3128); more than 8 IPv6 extension headers (ext_chain).  Frames that are not IP\n"
	    "(ARP, ...) get the default policy.\n"
	    "Example:\n"
	    "  allow proto=tcp dst=10.0.0.0/24 dport=80\n"
	    "  deny  src=192.168.0.0/16\n"
	    "  default deny\n"
	    "\n"
	    "The per-rule counters, and the malformed ones by reason, are printed to stdout\n"
	    "at exit (SIGINT/SIGTERM), every --stats-interval seconds and after SIGUSR1.\n"
	    "The periodic and SIGUSR1 tables are printed when the next packets arrive, so\n"
	    "they wait while there is no traffic.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"service", required_argument, NULL, 's'},
	    {"rules", required_argument, NULL, 'r'},
	    {"socket", required_argument, NULL, 'S'},
	    {"stats-interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct fw_state st = {0};
	struct netvm_nf_opts opts = {0};
	const char *service = NULL, *rules = NULL;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:S:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			service = optarg;
			break;
		case 'r':
			rules = optarg;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'i': {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v > 86400) {
				fprintf(stderr,
					"nf-firewall: --stats-interval: '%s' is not a number of "
					"seconds (0..86400)\n",
					optarg);
				return 2;
			}
			st.interval = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!service || !rules || optind < argc) {
		fprintf(stderr, "nf-firewall: %s\n",
			optind < argc ? "unexpected argument"
			: !service    ? "--service is required"
				      : "--rules is required");
		usage(stderr);
		return 2;
	}

	/* Load the rules before attaching: a typo should not take a slot. */
	char err[512];
	if (fw_rules_load(rules, &st.rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "nf-firewall: %s\n", err);
		return 1;
	}
	fprintf(stderr, "nf-firewall: %d rules from %s, default %s, malformed %s\n", st.rs.n, rules,
		st.rs.default_allow ? "allow" : "deny", st.rs.malformed_allow ? "allow" : "deny");

	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	struct netvm_nf *nf = netvm_nf_attach(service, &opts);
	if (!nf) { /* libnetvm has said why */
		fprintf(stderr, "nf-firewall: cannot attach as service '%s'\n", service);
		fw_rules_free(&st.rs);
		return 1;
	}

	if (st.interval) {
		clock_gettime(CLOCK_MONOTONIC, &st.next);
		st.next.tv_sec += st.interval;
	}
	int rc = netvm_nf_run(nf, handler, &st);
	if (rc == -ECONNRESET)
		fprintf(stderr, "nf-firewall: the daemon went away\n");

	print_table(&st);
	netvm_nf_detach(nf);
	fw_rules_free(&st.rs);
	return rc == 0 ? 0 : 1;
}
