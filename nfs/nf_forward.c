/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-forward: the smallest useful NF, and the tutorial example
 * (docs/writing-an-nf.md walks through it).
 *
 * Every packet is passed on: to the next hop of its chain (the default),
 * or to a fixed port or service.  Optionally the MAC addresses are swapped,
 * which turns a port into a reflector.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/netvm.h>

/* Everything the handler needs, passed to it through netvm_nf_run's arg. */
struct fwd {
	bool mac_swap;
	enum { TO_NEXT, TO_PORT, TO_SERVICE } mode;
	uint16_t dst;	    /* port or service id, resolved once at start */
	uint64_t forwarded; /* only the NF's thread touches it: no atomics */
};

/*
 * The handler: called by netvm_nf_run() with each burst (1..NETVM_BURST
 * packets).  It sets each packet's action; the library sends them all back
 * to the switch when it returns.  It must not block.
 */
static void handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct fwd *f = arg;
	(void)nf;

	for (uint16_t i = 0; i < n; i++) {
		struct netvm_pkt *p = &pkts[i];

		/* Packet data lives in the shared region: edit it in place. */
		if (f->mac_swap)
			netvm_eth_swap(p->data, p->len);
		if (f->mode == TO_PORT)
			netvm_pkt_to_port(p, f->dst);
		else if (f->mode == TO_SERVICE)
			netvm_pkt_to_service(p, f->dst);
		/* else: no action set means "next hop of the chain". */
	}
	f->forwarded += n;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: nf-forward --service NAME [options]\n"
		     "Pass every packet on: to the next hop of its chain, or to a fixed port or\n"
		     "service.\n"
		     "\n"
		     "  -s, --service NAME     attach as an instance of service NAME (required)\n"
		     "  -m, --mac-swap         swap source and destination MAC addresses\n"
		     "  -p, --to-port PORT     send every packet out port PORT\n"
		     "  -t, --to-service SVC   send every packet to service SVC\n"
		     "  -S, --socket PATH      daemon control socket (default: $NETVM_SOCKET or\n"
		     "                         " NETVM_DEFAULT_SOCKET ")\n"
		     "  -h, --help             show this help\n"
		     "\n"
		     "Runs until SIGINT/SIGTERM, then prints the number of packets forwarded.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"service", required_argument, NULL, 's'},
	    {"mac-swap", no_argument, NULL, 'm'},
	    {"to-port", required_argument, NULL, 'p'},
	    {"to-service", required_argument, NULL, 't'},
	    {"socket", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct fwd f = {0};
	struct netvm_nf_opts opts = {0};
	const char *service = NULL, *to = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "s:mp:t:S:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			service = optarg;
			break;
		case 'm':
			f.mac_swap = true;
			break;
		case 'p':
		case 't':
			if (to) {
				fprintf(stderr,
					"nf-forward: give only one --to-port/--to-service\n");
				return 2;
			}
			to = optarg;
			f.mode = c == 'p' ? TO_PORT : TO_SERVICE;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!service || optind < argc) {
		fprintf(stderr, "nf-forward: %s\n",
			service ? "unexpected argument" : "--service is required");
		usage(stderr);
		return 2;
	}

	/* 1. Attach: connect to netvmd, register, map the packet region. */
	struct netvm_nf *nf = netvm_nf_attach(service, &opts);
	if (!nf) { /* libnetvm has said why */
		fprintf(stderr, "nf-forward: cannot attach as service '%s'\n", service);
		return 1;
	}

	/* 2. Resolve names to ids once; the handler only uses the ids. */
	if (f.mode != TO_NEXT) {
		int id = f.mode == TO_PORT ? netvm_nf_port_id(nf, to) : netvm_nf_service_id(nf, to);
		if (id < 0) {
			fprintf(stderr, "nf-forward: unknown %s '%s'\n",
				f.mode == TO_PORT ? "port" : "service", to);
			netvm_nf_detach(nf);
			return 1;
		}
		f.dst = (uint16_t)id;
	}

	/* 3. Run the packet loop until SIGINT/SIGTERM or the daemon goes away. */
	int rc = netvm_nf_run(nf, handler, &f);
	if (rc == -ECONNRESET)
		fprintf(stderr, "nf-forward: the daemon went away\n");

	/* 4. Detach: hands every buffer back to the daemon. */
	netvm_nf_detach(nf);
	printf("nf-forward: %" PRIu64 " packets forwarded\n", f.forwarded);
	return rc == 0 ? 0 : 1;
}
