/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-process NF handles, for benchmarks and tests that run the switch and
 * the NF library loop in one thread (deterministic instruction counts).
 * Not part of the public API.
 */
#ifndef NETVM_NF_LOCAL_H
#define NETVM_NF_LOCAL_H

#include <netvm/netvm.h>
#include <netvm/region.h>

/* An NF handle on slot @slot of a region this process already has mapped
 * (no control connection).  NULL with errno on failure. */
struct netvm_nf *netvm_nf_open_local(const struct netvm_region *r, uint32_t slot);
void netvm_nf_close_local(struct netvm_nf *nf);

/* The region an NF handle has mapped (for test tools that misbehave on
 * purpose). */
const struct netvm_region *netvm_nf_region(const struct netvm_nf *nf);

#endif
