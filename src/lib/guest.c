/* SPDX-License-Identifier: BSD-3-Clause */
/* libnetvm in a VM guest: find the virtio-serial port and the ivshmem BAR. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/log.h"
#include "guest.h"

#define PORTS_DIR "/sys/class/virtio-ports"
#define PCI_DIR	  "/sys/bus/pci/devices"
/* ivshmem's PCI ids (Red Hat, Inc. / Inter-VM shared memory). */
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

/* First line of a small sysfs file, without the newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok = f && fgets(buf, (int)len, f);

	if (f)
		fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The vportNpM device called @name, into @dev (e.g. "vport1p1"). */
static int find_port(const char *name, char *dev, size_t len)
{
	DIR *d = opendir(PORTS_DIR);
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		char path[512], got[64];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORTS_DIR "/%s/name", e->d_name);
		if (read_line(path, got, sizeof(got)) == 0 && !strcmp(got, name)) {
			snprintf(dev, len, "%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

bool netvm_guest_port_exists(const char *name)
{
	char dev[256];
	return find_port(name, dev, sizeof(dev)) == 0;
}

int netvm_guest_port_open(const char *name)
{
	char dev[256], path[300];
	int fd;

	if (find_port(name, dev, sizeof(dev)) < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Map BAR2 of ivshmem device @pci as the region of @layout.  With @by_id,
 * only if the header there carries its id (a peer in the domain may have
 * scribbled on the header: the layout itself comes from the daemon). */
static int map_bar(struct netvm_region *r, const char *pci, const struct netvm_region_hdr *layout,
		   const char *const *names, bool by_id)
{
	char path[512];
	struct stat st;
	uint8_t *base;
	int fd, ret = -ENOENT;

	/* The BAR decodes only while the device is enabled; nothing binds a
	 * driver to ivshmem, so enable it ourselves (harmless if it is). */
	snprintf(path, sizeof(path), PCI_DIR "/%s/enable", pci);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			LOG_WARN("nf", "cannot enable PCI device %s: %s", pci, strerror(errno));
		close(fd);
	}
	snprintf(path, sizeof(path), PCI_DIR "/%s/resource2", pci);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < layout->total_size) {
		close(fd);
		return -EPROTO;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return -errno;
	if (!by_id || ((const struct netvm_region_hdr *)base)->region_id == layout->region_id) {
		/* One mapping, cut into segments: the same translation as on the host. */
		uint32_t nsegs = (uint32_t)(layout->total_size >> layout->seg_shift);
		uint8_t **segs = malloc((nsegs ? nsegs : 1) * sizeof(*segs));
		ret = -ENOMEM;
		if (segs) {
			for (uint32_t i = 0; i < nsegs; i++)
				segs[i] = base + ((size_t)i << layout->seg_shift);
			ret = netvm_region_from_segments(r, segs, nsegs, layout, names);
			free(segs);
		}
		if (ret == 0) {
			r->map_len = (size_t)st.st_size; /* netvm_region_unmap() unmaps it */
			return 0;
		}
	}
	munmap(base, (size_t)st.st_size);
	return ret;
}

/* The PCI addresses of the ivshmem devices, in @pci (up to @max). */
static int ivshmem_devices(char (*pci)[64], int max)
{
	DIR *d = opendir(PCI_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[512], v[32], dv[32];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DIR "/%s/vendor", e->d_name);
		if (read_line(path, v, sizeof(v)) < 0 || strtoul(v, NULL, 16) != IVSHMEM_VENDOR)
			continue;
		snprintf(path, sizeof(path), PCI_DIR "/%s/device", e->d_name);
		if (read_line(path, dv, sizeof(dv)) < 0 || strtoul(dv, NULL, 16) != IVSHMEM_DEVICE)
			continue;
		snprintf(pci[n++], 64, "%.63s", e->d_name);
	}
	closedir(d);
	return n;
}

int netvm_guest_region_map(struct netvm_region *r, const struct netvm_region_hdr *layout,
			   const char *const *names, int *ndev)
{
	char pci[16][64];
	int n = ivshmem_devices(pci, 16), ret = -ENOENT;

	*ndev = n;
	for (int i = 0; i < n && ret; i++)
		if ((ret = map_bar(r, pci[i], layout, names, true)) == 0)
			LOG_INFO("nf", "region %016llx is ivshmem device %s",
				 (unsigned long long)layout->region_id, pci[i]);
	/* Its id is not found (scribbled?), but a VM has only its domain's. */
	if (ret && n == 1 && (ret = map_bar(r, pci[0], layout, names, false)) == 0)
		LOG_INFO("nf", "region %016llx is the only ivshmem device, %s",
			 (unsigned long long)layout->region_id, pci[0]);
	return ret;
}
