/* SPDX-License-Identifier: BSD-3-Clause */
/* nf-nat's NF glue (nf_nat.c), shared with bench/natcost.c. */
#ifndef NFS_NF_NAT_H
#define NFS_NF_NAT_H

#include <stddef.h>
#include <stdint.h>

#include <netvm/netvm.h>

#include "nat.h"

#define NF_NAT_PORTS 65536 /* port ids are 16-bit; NETVM_PORT_NONE is "other" */

struct nf_nat {
	struct nat nat;
	uint8_t side[NF_NAT_PORTS]; /* enum nat_side of each ingress port id */
};

/* Resolve the configuration's port names to ids and take the NF's named
 * counters.  @return 0, or -1 with the reason in @err. */
int nf_nat_bind(struct nf_nat *s, struct netvm_nf *nf, char *err, size_t errlen);
/* The packet handler (arg: the struct nf_nat) and the expiry timer. */
void nf_nat_handler(struct netvm_nf *nf, struct netvm_pkt *pkts, uint16_t n, void *arg);
void nf_nat_timer(struct netvm_nf *nf, void *arg);

#endif
