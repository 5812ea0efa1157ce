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
 * Map the region whose header carries @region_id from the ivshmem devices
 * present.  Returns 0, or -ENOENT when no device holds it (with the number
 * of ivshmem devices seen in *ndev, for the error message).
 */
int netvm_guest_region_map(struct netvm_region *r, uint64_t region_id, int *ndev);

#endif
