/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The shared packet region: layout, mapping and address translation.
 *
 * One region per security domain.  Every offset below is from the start of
 * the region; nothing in it is a pointer.
 *
 *     0                 struct netvm_region_hdr (magic, ABI, layout)
 *     bell_off          the switch's doorbell: NFs wake a sleeping switch
 *     dir_off           names of services and ports (id -> name)
 *     ring_off          nf_slots x { rx ring, tx ring, stock ring }, each
 *                       ring_stride bytes
 *     counters_off      nf_slots x NETVM_NF_COUNTERS 64-bit NF counters
 *     buf_off           nbufs buffers of buf_stride bytes (segment aligned)
 *
 * The region is made of segments (a huge page each when backed by huge
 * pages).  No ring and no buffer crosses a segment boundary, so a process
 * may map the segments wherever it gets them: a per-process table holds the
 * address of each segment and a reference becomes an address with one
 * shift, one mask and one array index (NSDI'14 NetVM, section 3.2).
 *
 * Writers: the daemon writes the header and directory once at creation.
 * The switch produces on rx and stock rings and consumes tx rings; the NF
 * in the slot does the opposite, and writes its counters (the daemon only
 * reads them).  Buffers belong to whoever holds their descriptor.
 */
#ifndef NETVM_REGION_H
#define NETVM_REGION_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include <netvm/ring.h>

#define NETVM_REGION_MAGIC 0x4e65744d52474e31ull /* "NetMRGN1" */
#define NETVM_ABI_VERSION  2
#define NETVM_NAME_MAX	   32
/** Rings of an NF slot (netvm_region_slot_ring()). */
enum netvm_slot_ring {
	NETVM_RING_RX,	  /**< switch -> NF: packets */
	NETVM_RING_TX,	  /**< NF -> switch: packets back, with their actions */
	NETVM_RING_STOCK, /**< switch -> NF: free buffers the NF may fill (netvm_pkt_alloc) */
	NETVM_SLOT_RINGS
};
/** Counters an NF may define (netvm_nf_counter()). */
#define NETVM_NF_COUNTERS 32

/** Region header at offset 0.  Written once by the daemon. */
struct netvm_region_hdr {
	uint64_t magic;	       /**< NETVM_REGION_MAGIC */
	uint32_t abi;	       /**< NETVM_ABI_VERSION */
	uint32_t hdr_size;     /**< sizeof(struct netvm_region_hdr) */
	uint64_t total_size;   /**< bytes in the region */
	uint32_t seg_shift;    /**< log2(segment size) */
	uint32_t domain;       /**< security domain id */
	uint64_t dir_off;      /**< directory of names */
	uint32_t n_services;   /**< entries in the service directory */
	uint32_t n_ports;      /**< entries in the port directory */
	uint64_t ring_off;     /**< first ring */
	uint32_t ring_size;    /**< descriptors per ring */
	uint32_t ring_stride;  /**< bytes between rings (power of two) */
	uint32_t nf_slots;     /**< NF slots; slot s owns rings 3s (rx), 3s+1 (tx), 3s+2 (stock) */
	uint32_t buf_shift;    /**< log2(bytes per buffer) */
	uint64_t buf_off;      /**< first buffer, segment aligned */
	uint32_t nbufs;	       /**< buffers in the pool */
	uint32_t headroom;     /**< default data offset in a buffer */
	uint64_t bell_off;     /**< the switch's doorbell (struct netvm_doorbell) */
	uint64_t region_id;    /**< random, nonzero: tells regions apart where no fd names
				*   them (a VM guest sees only a PCI device) */
	uint64_t counters_off; /**< slot s's NF counters: NETVM_NF_COUNTERS x uint64_t at
				*   counters_off + s * NETVM_NF_COUNTERS * 8 */
	uint8_t reserved[48];
};
_Static_assert(sizeof(struct netvm_region_hdr) == 160, "region header ABI");

/** Rung by NFs after they return packets, when the switch sleeps. */
struct netvm_doorbell {
	_Alignas(NETVM_CACHE_LINE) _Atomic uint32_t sleeping; /**< (switch) it waits on this word */
};

/** Inputs to the layout computation. */
struct netvm_region_params {
	uint32_t nbufs;	    /**< buffers in the pool */
	uint32_t buf_size;  /**< data room per buffer, bytes */
	uint32_t headroom;  /**< headroom before the data, bytes */
	uint32_t ring_size; /**< descriptors per ring, power of two */
	uint32_t nf_slots;  /**< maximum NFs attached at once */
	uint32_t n_services;
	uint32_t n_ports;
	uint32_t seg_shift; /**< log2(segment size): 21 for 2 MiB huge pages */
	uint32_t domain;
	bool no_hugepages; /**< never back it with huge pages (pool.hugepages: no) */
};

/**
 * A process's view of a region: where each segment is mapped, and a private
 * copy of the layout.
 *
 * Every NF of a domain can write the shared header and directory, so after
 * mapping nothing here reads them again: the layout is copied once, checked,
 * and used from @c layout (the daemon re-writes the shared header from its
 * copy when it hands the region to a new NF, netvm_region_restore()).
 * netvm_region_addr() is the translation of the paper.
 */
struct netvm_region {
	struct netvm_region_hdr layout; /**< private copy of the header, checked */
	char (*names)[NETVM_NAME_MAX];	/**< private copy of the directory: services,
					 *   then ports, each NUL-terminated */
	uint8_t **seg;			/**< seg[i] = address of segment i */
	uint32_t nsegs;
	/* The translation, from layout (kept here for the fast path). */
	uint32_t seg_shift;
	uint64_t seg_mask;
	uint32_t buf_shift;
	uint64_t buf_off;
	uint32_t nbufs;
	size_t map_len; /**< bytes mapped at seg[0] when mapped in one piece, else 0 */
	int fd;		/**< backing fd, or -1 */
	bool hugepages; /**< backed by huge pages (creator only) */
};

/** Address of byte @p off of the region: one shift, one mask, one index. */
static inline void *netvm_region_addr(const struct netvm_region *r, uint64_t off)
{
	return r->seg[off >> r->seg_shift] + (off & r->seg_mask);
}

/** Address of the start of buffer @p idx (no bounds check: validate first). */
static inline uint8_t *netvm_region_buf(const struct netvm_region *r, uint32_t idx)
{
	return (uint8_t *)netvm_region_addr(r, r->buf_off + ((uint64_t)idx << r->buf_shift));
}

/** Shared part of ring @p n (n < NETVM_SLOT_RINGS * layout.nf_slots). */
static inline struct netvm_ring_shm *netvm_region_ring(const struct netvm_region *r, uint32_t n)
{
	return (struct netvm_ring_shm *)netvm_region_addr(
	    r, r->layout.ring_off + (uint64_t)n * r->layout.ring_stride);
}

/** Ring @p which of NF slot @p slot (slot < layout.nf_slots). */
static inline struct netvm_ring_shm *
netvm_region_slot_ring(const struct netvm_region *r, uint32_t slot, enum netvm_slot_ring which)
{
	return netvm_region_ring(r, slot * NETVM_SLOT_RINGS + which);
}

/** The counters of NF slot @p slot (NETVM_NF_COUNTERS of them). */
static inline uint64_t *netvm_region_counters(const struct netvm_region *r, uint32_t slot)
{
	return (uint64_t *)netvm_region_addr(
	    r, r->layout.counters_off + (uint64_t)slot * NETVM_NF_COUNTERS * sizeof(uint64_t));
}

/** The switch's doorbell. */
static inline struct netvm_doorbell *netvm_region_bell(const struct netvm_region *r)
{
	return (struct netvm_doorbell *)netvm_region_addr(r, r->layout.bell_off);
}

/** Name of service @p id from the private copy of the directory ("" when out of range). */
const char *netvm_region_service_name(const struct netvm_region *r, uint32_t id);
/** Name of port @p id from the private copy of the directory ("" when out of range). */
const char *netvm_region_port_name(const struct netvm_region *r, uint32_t id);

/**
 * Compute the layout for @p p into @p hdr (no memory is touched).
 * @return 0, or -EINVAL when a parameter is out of range (errors are
 *         explained on the log).
 */
int netvm_region_layout(const struct netvm_region_params *p, struct netvm_region_hdr *hdr);

/**
 * Create a region: back it with a memfd (huge pages when possible, else
 * normal shared memory with a warning), lay it out and initialise every
 * ring.  @p service_names and @p port_names fill the directory.
 * @return 0 or a negative errno; on failure @p r is left unmapped.
 */
int netvm_region_create(struct netvm_region *r, const struct netvm_region_params *p,
			const char *const *service_names, const char *const *port_names);

/**
 * Map a region received as an fd (in one piece).  Its layout is @p layout
 * when given (the daemon sends it with the fd, so a header scribbled by
 * another NF of the domain does not matter), else the file's header; it is
 * checked either way.  @p names (services then ports) likewise, else the
 * file's directory.
 * @return 0 or a negative errno (-EPROTO: bad magic or layout,
 *         -EPROTONOSUPPORT: ABI).
 */
int netvm_region_map_fd(struct netvm_region *r, int fd, const struct netvm_region_hdr *layout,
			const char *const *names);

/**
 * Build the translation table for a region whose segments are mapped at
 * the given addresses (not necessarily contiguous), with @p layout and
 * @p names as for netvm_region_map_fd() (NULL: from segs[0]).  The caller
 * keeps ownership of the mappings.
 */
int netvm_region_from_segments(struct netvm_region *r, uint8_t **segs, uint32_t nsegs,
			       const struct netvm_region_hdr *layout, const char *const *names);

/** Check a region header for magic, ABI, and a layout that fits @p size. */
int netvm_region_check(const struct netvm_region_hdr *hdr, uint64_t size);

/**
 * Write the header and directory back into the shared memory from the
 * private copies (the creator, before it hands the region to a new NF: an
 * NF of the domain may have scribbled on them).
 */
void netvm_region_restore(struct netvm_region *r);

/** Unmap (when mapped by this library) and close the region. */
void netvm_region_unmap(struct netvm_region *r);

#endif
