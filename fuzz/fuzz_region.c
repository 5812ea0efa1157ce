/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: a region header and directory scribbled by a hostile NF
 * of the domain, then an attach.  Every NF of a domain can write its
 * region's header, so neither side may trust it after mapping:
 *
 *  - the library maps the scribbled region with the layout the daemon
 *    sends in its attach reply (always works), and by its header alone
 *    (netvm_region_map_fd() on the fd, netvm_region_from_segments() as a VM
 *    guest would): when that succeeds, it attaches rings and looks up names
 *    from its private copy;
 *  - the daemon's attach path (slot_open()) gives a slot fresh rings and
 *    writes the header back: afterwards it must be exactly the daemon's.
 *
 * The input is written over the start of segment 0 (header, doorbell,
 * directory); the first byte picks the trusted or the sandbox domain.
 */
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/netvmd.h"
#include "lib/nf_local.h"

static const char config[] = "services:\n"
			     "  - t\n"
			     "  - {name: u, domain: sandbox}\n"
			     "pool: {buffers: 256, buffer_size: 2048}\n"
			     "ring_size: 64\n"
			     "max_nfs: 4\n";

static struct netvmd d;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	netvm_log_set_level(NETVM_LOG_ERR);
	if (netvm_config_parse("fuzz_region.yaml", config, sizeof(config) - 1, &d.cfg, err,
			       sizeof(err)) < 0 ||
	    netvmd_open(&d) < 0) {
		fprintf(stderr, "fuzz_region: setup failed: %s\n", err);
		abort();
	}
	atomic_store(&d.stop, true); /* no switch thread */
	return 0;
}

static void scribble(struct netvm_region *r, const uint8_t *data, size_t size)
{
	size_t room = r->layout.ring_off; /* header, doorbell and directory */

	memcpy(r->seg[0], data, size < room ? size : room);
}

/* Whatever the library accepted must be usable without going out of it. */
static void use(struct netvm_region *m)
{
	for (uint32_t i = 0; i <= m->layout.n_services; i++)
		if (strlen(netvm_region_service_name(m, i)) >= NETVM_NAME_MAX)
			abort();
	for (uint32_t i = 0; i <= m->layout.n_ports; i++)
		if (strlen(netvm_region_port_name(m, i)) >= NETVM_NAME_MAX)
			abort();
	struct netvm_nf *nf = netvm_nf_open_local(m, m->layout.nf_slots - 1);
	if (nf) {
		struct netvm_pkt pkts[NETVM_BURST];
		(void)netvm_nf_recv(nf, pkts, NETVM_BURST);
		netvm_nf_close_local(nf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint16_t svc = data[0] & 1; /* t: trusted region, u: the sandbox's */
	struct netvm_region *r = domain_region(&d, d.svc_domain[svc]);
	struct netvm_region m;
	data++;
	size--;

	/* An NF maps it by fd. */
	scribble(r, data, size);
	int fd = dup(r->fd);
	if (fd >= 0 && netvm_region_map_fd(&m, fd, NULL, NULL) == 0) {
		use(&m);
		netvm_region_unmap(&m); /* closes fd */
	} else if (fd >= 0) {
		close(fd);
	}

	/* A guest maps it as segments (the caller keeps the mappings). */
	if (netvm_region_from_segments(&m, r->seg, r->nsegs, NULL, NULL) == 0) {
		use(&m);
		netvm_region_unmap(&m);
	}

	/* With the layout the daemon sends in the attach reply, the header
	 * does not matter at all. */
	const char *names[r->layout.n_services + r->layout.n_ports + 1];
	for (uint32_t i = 0; i < r->layout.n_services + r->layout.n_ports; i++)
		names[i] = r->names[i];
	if (netvm_region_map_fd(&m, dup(r->fd), &r->layout, names) != 0)
		abort();
	use(&m);
	netvm_region_unmap(&m);

	/* The daemon attaches a newcomer: it must see the daemon's header. */
	for (uint32_t s = 0; s < d.nslots; s++) {
		if (slot_open(&d, s, svc, 1, -1, 0) < 0)
			abort(); /* nothing writes the rings concurrently here */
		atomic_store(&d.slots[s].state, SLOT_FREE);
	}
	if (memcmp(r->seg[0], &r->layout, sizeof(r->layout)) != 0)
		abort();
	if (netvm_region_map_fd(&m, dup(r->fd), NULL, NULL) != 0)
		abort(); /* the restored header maps */
	netvm_region_unmap(&m);
	return 0;
}
