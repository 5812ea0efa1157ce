/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libnetvm inside a VM guest: the control channel is a virtio-serial port
 * and the region is the BAR2 of an ivshmem PCI device (docs/vm-nfs.md).
 */
#ifndef NETVM_LIB_GUEST_H
#define NETVM_LIB_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <netvm/region.h>

/* NETVM_SOCKET value that selects a virtio-serial port by name. */
#define NETVM_GUEST_PREFIX "virtio:"
/* The port name netvmctl gives the control channel of a VM. */
#define NETVM_GUEST_PORT "netvm"

/* Does a virtio-serial port called @name exist here? */
bool netvm_guest_port_exists(const char *name);

/* Open the virtio-serial port called @name.  Returns the fd or -errno. */
int netvm_guest_port_open(const char *name);

/*
 * Map the region of @layout (with @names, from the attach reply) from the
 * ivshmem devices present: the one whose header carries its id, else the
 * only one.  Returns 0, or -ENOENT when none holds it (with the number of
 * ivshmem devices seen in *ndev, for the error message).
 */
int netvm_guest_region_map(struct netvm_region *r, const struct netvm_region_hdr *layout,
			   const char *const *names, int *ndev);

#endif
