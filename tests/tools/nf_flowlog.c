/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-flowlog: a test NF that passes every packet on and records which flows
 * (UDP/TCP source port) it saw, and how many packets came with a flow hash
 * that is not the packet's.  At exit it prints one JSON line:
 *   {"instance": 3, "packets": 1000, "bad_hash": 0, "flows": {"1024": 500, "1025": 500}}
 * Used by the replica tests to check that each flow sticks to one replica.
 */
#include <stdio.h>
#include <stdlib.h>

#include <netvm/netvm.h>

static uint64_t per_port[65536];
static uint64_t packets, bad_hash;

static void handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg)
{
	struct netvm_5tuple t;

	for (uint16_t i = 0; i < n; i++) {
		packets++;
		bad_hash += pkts[i].desc.hash != netvm_pkt_flow_hash(pkts[i].data, pkts[i].len);
		if (netvm_5tuple_get(pkts[i].data, pkts[i].len, &t) == 0)
			per_port[t.sport]++;
	}
}

int main(int argc, char **argv)
{
	struct netvm_nf *nf;
	const char *sep = "";

	if (argc != 2) {
		fprintf(stderr, "usage: nf-flowlog SERVICE   (socket from $NETVM_SOCKET)\n");
		return 2;
	}
	nf = netvm_nf_attach(argv[1], NULL);
	if (!nf) {
		perror("nf-flowlog: attach");
		return 1;
	}
	int rc = netvm_nf_run(nf, handler, NULL);
	printf("{\"instance\": %d, \"packets\": %llu, \"bad_hash\": %llu, \"flows\": {",
	       netvm_nf_instance(nf), (unsigned long long)packets, (unsigned long long)bad_hash);
	for (int p = 0; p < 65536; p++)
		if (per_port[p]) {
			printf("%s\"%d\": %llu", sep, p, (unsigned long long)per_port[p]);
			sep = ", ";
		}
	printf("}}\n");
	netvm_nf_detach(nf);
	return rc == 0 ? 0 : 1;
}
