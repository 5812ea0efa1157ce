/* SPDX-License-Identifier: BSD-3-Clause */
/* Region layout, header checks, and address translation over segments
 * mapped at non-contiguous, out-of-order addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <errno.h>
#include <cmocka.h>

#include <netvm/region.h>

static const struct netvm_region_params params = {
    .nbufs = 1000,
    .buf_size = 2048,
    .headroom = 128,
    .ring_size = 256,
    .nf_slots = 4,
    .n_services = 2,
    .n_ports = 1,
    .seg_shift = 16,
    .domain = 0,
};

static void test_layout(void **state)
{
	struct netvm_region_hdr h;
	struct netvm_region_params p = params;

	assert_int_equal(netvm_region_layout(&p, &h), 0);
	assert_int_equal(h.buf_shift, 12); /* 2048 + 128 rounds up to 4096 */
	assert_int_equal(h.buf_off % (1u << 16), 0);
	assert_true(h.ring_off >= h.dir_off + 3 * NETVM_NAME_MAX);
	assert_true(h.ring_off + NETVM_SLOT_RINGS * 4 * h.ring_stride <= h.counters_off);
	assert_true(h.counters_off + 4 * NETVM_NF_COUNTERS * sizeof(uint64_t) <= h.buf_off);
	assert_int_equal(netvm_region_check(&h, h.total_size), 0);
	assert_int_equal(netvm_region_check(&h, h.total_size - 1), -EPROTO);
	h.magic ^= 1;
	assert_int_equal(netvm_region_check(&h, h.total_size), -EPROTO);
	h.magic ^= 1;
	h.abi = 99;
	assert_int_equal(netvm_region_check(&h, h.total_size), -EPROTONOSUPPORT);

	p.ring_size = 100;
	assert_int_equal(netvm_region_layout(&p, &h), -EINVAL);
	p = params;
	p.buf_size = 1 << 17; /* a buffer larger than a segment */
	assert_int_equal(netvm_region_layout(&p, &h), -EINVAL);
}

/* Map each segment of a memfd separately, in reverse order with gaps, and
 * check that translation reaches the same bytes as a contiguous mapping. */
static void test_noncontiguous_translation(void **state)
{
	struct netvm_region_params p = params;
	struct netvm_region_hdr h;
	struct netvm_region r;
	uint64_t seg = 1ull << p.seg_shift;

	assert_int_equal(netvm_region_layout(&p, &h), 0);
	uint32_t nsegs = (uint32_t)(h.total_size / seg);
	int fd = memfd_create("test-region", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)h.total_size), 0);
	uint8_t *flat = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(flat != MAP_FAILED);
	memcpy(flat, &h, sizeof(h));
	for (uint32_t b = 0; b < h.nbufs; b++)
		memcpy(flat + h.buf_off + ((uint64_t)b << h.buf_shift) + 100, &b, sizeof(b));

	/* Reserve a large area and place segments backwards, one hole apart. */
	uint8_t *area =
	    mmap(NULL, 2 * h.total_size + seg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(area != MAP_FAILED);
	uint8_t **segs = calloc(nsegs, sizeof(*segs));
	for (uint32_t i = 0; i < nsegs; i++) {
		uint8_t *want = area + (uint64_t)(nsegs - 1 - i) * 2 * seg;
		segs[i] = mmap(want, seg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			       (off_t)(i * seg));
		assert_true(segs[i] == want);
	}
	assert_int_equal(netvm_region_from_segments(&r, segs, nsegs, NULL, NULL), 0);
	for (uint32_t b = 0; b < h.nbufs; b++) {
		uint32_t got;
		uint8_t *buf = netvm_region_buf(&r, b);
		memcpy(&got, buf + 100, sizeof(got));
		assert_int_equal(got, b);
		/* the whole buffer is inside one segment */
		uint64_t off = h.buf_off + ((uint64_t)b << h.buf_shift);
		assert_int_equal(off >> h.seg_shift,
				 (off + (1u << h.buf_shift) - 1) >> h.seg_shift);
	}
	/* A write through the translated address shows in the flat mapping. */
	netvm_region_buf(&r, 777)[5] = 0xab;
	assert_int_equal(flat[h.buf_off + (777ull << h.buf_shift) + 5], 0xab);
	/* Rings are reachable and do not cross segments either. */
	for (uint32_t i = 0; i < NETVM_SLOT_RINGS * h.nf_slots; i++) {
		uint64_t off = h.ring_off + (uint64_t)i * h.ring_stride;
		assert_int_equal(off >> h.seg_shift, (off + h.ring_stride - 1) >> h.seg_shift);
		assert_ptr_equal(netvm_region_ring(&r, i),
				 segs[off >> h.seg_shift] + (off & (seg - 1)));
	}
	netvm_region_unmap(&r); /* frees only the table: the mappings are ours */
	munmap(area, 2 * h.total_size + seg);
	munmap(flat, h.total_size);
	free(segs);
	close(fd);
}

static void test_create_and_map_fd(void **state)
{
	static const char *const svc[] = {"fw", "fwd"}, *const port[] = {"gen0"};
	struct netvm_region_params p = params;
	struct netvm_region a, b;

	assert_int_equal(netvm_region_create(&a, &p, svc, port), 0);
	assert_string_equal(netvm_region_service_name(&a, 1), "fwd");
	assert_string_equal(netvm_region_port_name(&a, 0), "gen0");
	assert_string_equal(netvm_region_service_name(&a, 2), "");
	assert_int_equal(netvm_region_ring(&a, 3)->size, 256);
	int fd = dup(a.fd);
	assert_int_equal(netvm_region_map_fd(&b, fd, NULL, NULL), 0);
	netvm_region_buf(&a, 999)[0] = 42;
	assert_int_equal(netvm_region_buf(&b, 999)[0], 42);
	assert_string_equal(netvm_region_service_name(&b, 0), "fw");
	netvm_region_unmap(&b);
	netvm_region_unmap(&a);

	/* An fd that is not a region is refused. */
	fd = memfd_create("junk", 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	assert_int_equal(netvm_region_map_fd(&b, fd, NULL, NULL), -EPROTO);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_noncontiguous_translation),
	    cmocka_unit_test(test_create_and_map_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
