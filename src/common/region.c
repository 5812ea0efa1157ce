/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared packet region: layout, backing memory, mapping, translation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <netvm/region.h>
#include "log.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))

static uint32_t log2_ceil(uint64_t x)
{
	uint32_t s = 0;
	while ((1ull << s) < x)
		s++;
	return s;
}

int netvm_region_layout(const struct netvm_region_params *p, struct netvm_region_hdr *h)
{
	uint64_t seg = 1ull << p->seg_shift, off;

	if (p->seg_shift < 12 || p->seg_shift > 30) {
		LOG_ERR("region", "segment shift %u out of range 12..30", p->seg_shift);
		return -EINVAL;
	}
	if (p->ring_size < 2 || (p->ring_size & (p->ring_size - 1))) {
		LOG_ERR("region", "ring size %u is not a power of two", p->ring_size);
		return -EINVAL;
	}
	if (p->nbufs == 0 || p->nf_slots == 0 || p->buf_size == 0) {
		LOG_ERR("region", "need at least one buffer and one NF slot");
		return -EINVAL;
	}
	memset(h, 0, sizeof(*h));
	h->magic = NETVM_REGION_MAGIC;
	h->abi = NETVM_ABI_VERSION;
	h->hdr_size = sizeof(*h);
	h->seg_shift = p->seg_shift;
	h->domain = p->domain;
	h->ring_size = p->ring_size;
	h->nf_slots = p->nf_slots;
	h->nbufs = p->nbufs;
	h->headroom = p->headroom;
	h->n_services = p->n_services;
	h->n_ports = p->n_ports;
	/* Buffers are a power of two in size so an index becomes an offset
	 * with a shift, and segments hold a whole number of them. */
	h->buf_shift = log2_ceil((uint64_t)p->buf_size + p->headroom);
	h->ring_stride = 1u << log2_ceil(netvm_ring_bytes(p->ring_size));
	if (h->buf_shift > p->seg_shift || h->ring_stride > seg) {
		LOG_ERR("region",
			"a buffer (%u B) or ring (%u B) is larger than a segment (%llu B)",
			1u << h->buf_shift, h->ring_stride, (unsigned long long)seg);
		return -EINVAL;
	}
	h->bell_off = ALIGN_UP(sizeof(*h), NETVM_CACHE_LINE);
	h->dir_off = h->bell_off + sizeof(struct netvm_doorbell);
	off = h->dir_off + (uint64_t)(p->n_services + p->n_ports) * NETVM_NAME_MAX;
	if (off > seg) {
		LOG_ERR("region", "too many names for the first segment");
		return -EINVAL;
	}
	/* Power-of-two strides aligned to their size never cross a segment. */
	h->ring_off = ALIGN_UP(off, h->ring_stride);
	off = h->ring_off + (uint64_t)NETVM_SLOT_RINGS * p->nf_slots * h->ring_stride;
	/* A slot's counters are aligned to their size: no block crosses a segment. */
	h->counters_off = ALIGN_UP(off, NETVM_NF_COUNTERS * sizeof(uint64_t));
	off = h->counters_off + (uint64_t)p->nf_slots * NETVM_NF_COUNTERS * sizeof(uint64_t);
	h->buf_off = ALIGN_UP(off, seg);
	h->total_size = h->buf_off + ((uint64_t)p->nbufs << h->buf_shift);
	h->total_size = ALIGN_UP(h->total_size, seg);
	return 0;
}

/* [off, off + len) lies within [0, end), without overflow. */
static bool within(uint64_t off, uint64_t len, uint64_t end)
{
	return off <= end && len <= end - off;
}

int netvm_region_check(const struct netvm_region_hdr *h, uint64_t size)
{
	uint64_t seg;

	if (h->magic != NETVM_REGION_MAGIC)
		return -EPROTO;
	if (h->abi != NETVM_ABI_VERSION || h->hdr_size != sizeof(*h))
		return -EPROTONOSUPPORT;
	if (h->seg_shift < 12 || h->seg_shift > 30)
		return -EPROTO;
	seg = 1ull << h->seg_shift;
	/* Sizes and strides: powers of two that fit a segment. */
	if (h->total_size > size || h->total_size & (seg - 1) || h->buf_shift > h->seg_shift ||
	    h->headroom >= (1u << h->buf_shift) || h->nbufs == 0 || h->nf_slots == 0 ||
	    h->ring_size < 2 || (h->ring_size & (h->ring_size - 1)) ||
	    h->ring_stride < netvm_ring_bytes(h->ring_size) ||
	    (h->ring_stride & (h->ring_stride - 1)) || h->ring_stride > seg)
		return -EPROTO;
	/* In order, none overlapping: header, doorbell and directory in the
	 * first segment, the rings, then the buffers up to the end. */
	if (h->bell_off < sizeof(*h) || h->bell_off % NETVM_CACHE_LINE ||
	    !within(h->bell_off, sizeof(struct netvm_doorbell), h->dir_off) ||
	    !within(h->dir_off, ((uint64_t)h->n_services + h->n_ports) * NETVM_NAME_MAX, seg) ||
	    h->dir_off + ((uint64_t)h->n_services + h->n_ports) * NETVM_NAME_MAX > h->ring_off ||
	    h->ring_off % h->ring_stride ||
	    !within(h->ring_off, (uint64_t)NETVM_SLOT_RINGS * h->nf_slots * h->ring_stride,
		    h->counters_off) ||
	    h->counters_off % (NETVM_NF_COUNTERS * sizeof(uint64_t)) ||
	    !within(h->counters_off, (uint64_t)h->nf_slots * NETVM_NF_COUNTERS * sizeof(uint64_t),
		    h->buf_off) ||
	    h->buf_off & (seg - 1) ||
	    !within(h->buf_off, (uint64_t)h->nbufs << h->buf_shift, h->total_size))
		return -EPROTO;
	return 0;
}

/* Take @h (a private, checked copy of the header) as the layout. */
static void set_translation(struct netvm_region *r, const struct netvm_region_hdr *h)
{
	r->layout = *h;
	r->seg_shift = h->seg_shift;
	r->seg_mask = (1ull << h->seg_shift) - 1;
	r->buf_shift = h->buf_shift;
	r->buf_off = h->buf_off;
	r->nbufs = h->nbufs;
}

static char *dir_entry(const struct netvm_region *r, uint32_t i)
{
	return (char *)r->seg[0] + r->layout.dir_off + (uint64_t)i * NETVM_NAME_MAX;
}

/* The directory: from @names (services then ports) when given, else out of
 * shared memory; each name cut to fit. */
static int copy_names(struct netvm_region *r, const char *const *names)
{
	uint32_t n = r->layout.n_services + r->layout.n_ports;

	r->names = calloc(n ? n : 1, NETVM_NAME_MAX);
	if (!r->names)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		strncpy(r->names[i], names ? names[i] : dir_entry(r, i), NETVM_NAME_MAX - 1);
	return 0;
}

/* Map @len bytes of @fd in one piece; the segment table gets @seg_shift. */
static int map_whole(struct netvm_region *r, int fd, size_t len, uint32_t seg_shift)
{
	uint8_t *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (base == MAP_FAILED)
		return -errno;
	r->nsegs = (uint32_t)(len >> seg_shift);
	r->seg = calloc(r->nsegs ? r->nsegs : 1, sizeof(*r->seg));
	if (!r->seg) {
		munmap(base, len);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->nsegs; i++)
		r->seg[i] = base + ((size_t)i << seg_shift);
	r->map_len = len;
	r->fd = fd;
	return 0;
}

const char *netvm_region_service_name(const struct netvm_region *r, uint32_t id)
{
	return id < r->layout.n_services ? r->names[id] : "";
}

const char *netvm_region_port_name(const struct netvm_region *r, uint32_t id)
{
	return id < r->layout.n_ports ? r->names[r->layout.n_services + id] : "";
}

void netvm_region_restore(struct netvm_region *r)
{
	memcpy(r->seg[0], &r->layout, sizeof(r->layout));
	for (uint32_t i = 0; i < r->layout.n_services + r->layout.n_ports; i++)
		strncpy(dir_entry(r, i), r->names[i], NETVM_NAME_MAX);
}

/*
 * Back the region with huge pages when the system has them to give.  The
 * file is a power of two in size, of which the region uses the first @size
 * bytes: a VM maps the whole file as an ivshmem PCI BAR, and PCI BARs are
 * powers of two.  The tail costs nothing until a VM maps it.
 */
static int region_memfd(uint64_t size, bool try_huge, uint32_t *seg_shift)
{
	off_t file_size = (off_t)1 << log2_ceil(size);
	int fd = try_huge ? memfd_create("netvm-region", MFD_CLOEXEC | MFD_HUGETLB) : -1;
	if (fd >= 0) {
		if (ftruncate(fd, file_size) == 0) {
			/* Touch-test: a hugetlb memfd can be truncated beyond the
			 * free pages and only fail (SIGBUS) on first access. */
			void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_POPULATE, fd, 0);
			if (m != MAP_FAILED) {
				munmap(m, size);
				*seg_shift = 21;
				return fd;
			}
		}
		close(fd);
	}
	fd = memfd_create("netvm-region", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, file_size) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int netvm_region_create(struct netvm_region *r, const struct netvm_region_params *p,
			const char *const *service_names, const char *const *port_names)
{
	struct netvm_region_params q = *p;
	struct netvm_region_hdr h;
	uint32_t got_shift = 0;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	q.seg_shift = 21; /* 2 MiB segments whatever the backing, so the layout is the same */
	ret = netvm_region_layout(&q, &h);
	if (ret < 0)
		return ret;
	fd = region_memfd(h.total_size, !p->no_hugepages, &got_shift);
	if (fd < 0) {
		LOG_ERR("region", "cannot create a %llu-byte region: %s",
			(unsigned long long)h.total_size, strerror(-fd));
		return fd;
	}
	if (got_shift)
		LOG_INFO("region", "%llu MiB on 2 MiB huge pages",
			 (unsigned long long)(h.total_size >> 20));
	else if (p->no_hugepages)
		LOG_INFO("region", "%llu MiB on normal shared memory (huge pages off)",
			 (unsigned long long)(h.total_size >> 20));
	else
		LOG_WARN("region",
			 "no huge pages available: %llu MiB region on normal shared memory "
			 "(slower; reserve pages with: echo N > /proc/sys/vm/nr_hugepages)",
			 (unsigned long long)(h.total_size >> 20));

	ret = map_whole(r, fd, h.total_size, h.seg_shift);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	while (getrandom(&h.region_id, sizeof(h.region_id), 0) != sizeof(h.region_id) ||
	       !(h.region_id &= INT64_MAX)) /* fits a JSON integer */
		;
	set_translation(r, &h);
	r->names = calloc((size_t)h.n_services + h.n_ports + 1, NETVM_NAME_MAX);
	if (!r->names) {
		netvm_region_unmap(r);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < h.n_services; i++)
		strncpy(r->names[i], service_names[i], NETVM_NAME_MAX - 1);
	for (uint32_t i = 0; i < h.n_ports; i++)
		strncpy(r->names[h.n_services + i], port_names[i], NETVM_NAME_MAX - 1);
	netvm_region_restore(r);
	for (uint32_t i = 0; i < NETVM_SLOT_RINGS * h.nf_slots; i++)
		netvm_ring_shm_init(netvm_region_ring(r, i), h.ring_size);
	r->hugepages = got_shift != 0;
	return 0;
}

int netvm_region_map_fd(struct netvm_region *r, int fd, const struct netvm_region_hdr *layout,
			const char *const *names)
{
	off_t size = lseek(fd, 0, SEEK_END);
	struct netvm_region_hdr h;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (layout) {
		h = *layout;
	} else if (size < (off_t)sizeof(h) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		return -EPROTO;
	}
	/* Check the layout before trusting its segment size. */
	ret = netvm_region_check(&h, size < 0 ? 0 : (uint64_t)size);
	if (ret < 0)
		return ret;
	ret = map_whole(r, fd, (size_t)h.total_size, h.seg_shift);
	if (ret < 0)
		return ret;
	set_translation(r, &h);
	/* Read from the file, the header may have changed since pread(): map
	 * only what was checked. */
	if ((!layout && memcmp(r->seg[0], &h, sizeof(h)) != 0) || copy_names(r, names) < 0) {
		netvm_region_unmap(r);
		return -EPROTO;
	}
	return 0;
}

int netvm_region_from_segments(struct netvm_region *r, uint8_t **segs, uint32_t nsegs,
			       const struct netvm_region_hdr *layout, const char *const *names)
{
	struct netvm_region_hdr h;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (layout)
		h = *layout;
	else
		memcpy(&h, segs[0], sizeof(h)); /* check and use one private copy */
	if (h.seg_shift < 12 || h.seg_shift > 30)
		return -EPROTO;
	ret = netvm_region_check(&h, (uint64_t)nsegs << h.seg_shift);
	if (ret < 0)
		return ret;
	r->seg = calloc(nsegs, sizeof(*r->seg));
	if (!r->seg)
		return -ENOMEM;
	memcpy(r->seg, segs, nsegs * sizeof(*segs));
	r->nsegs = nsegs;
	set_translation(r, &h);
	if (copy_names(r, names) < 0) {
		free(r->seg);
		memset(r, 0, sizeof(*r));
		r->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

void netvm_region_unmap(struct netvm_region *r)
{
	if (r->map_len && r->seg)
		munmap(r->seg[0], r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->seg);
	free(r->names);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
