/* SPDX-License-Identifier: BSD-3-Clause */
/* Internet checksums (RFC 1071, RFC 1624); see netvm/csum.h. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netvm/csum.h>

uint32_t netvm_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	uint16_t w;

	for (; len >= 2; p += 2, len -= 2) {
		memcpy(&w, p, 2); /* as stored: frames carry no alignment */
		s += w;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0};
		memcpy(&w, last, 2);
		s += w;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t netvm_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t netvm_ipv4_csum(const uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	/* The header around its checksum field (bytes 10-11). */
	return netvm_csum_fold(netvm_csum_add(netvm_csum_add(0, ip, 10), ip + 12, hlen - 12));
}

uint16_t netvm_l4_csum(const uint8_t *l3, const uint8_t *l4, uint32_t len, uint8_t proto)
{
	uint32_t sum;
	uint16_t w;

	if ((l3[0] >> 4) == 4) {
		sum = netvm_csum_add(0, l3 + 12, 8); /* source and destination */
		w = htons(proto);
		sum = netvm_csum_add(sum, &w, 2);
		w = htons((uint16_t)len);
		sum = netvm_csum_add(sum, &w, 2);
	} else {
		uint32_t big = htonl(len), nh = htonl(proto);
		sum = netvm_csum_add(0, l3 + 8, 32);
		sum = netvm_csum_add(sum, &big, 4);
		sum = netvm_csum_add(sum, &nh, 4);
	}
	w = netvm_csum_fold(netvm_csum_add(sum, l4, len));
	return proto == IPPROTO_UDP && w == 0 ? 0xffff : w;
}

uint16_t netvm_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~csum + (uint32_t)(uint16_t)~old + new_;

	return netvm_csum_fold(sum);
}

uint16_t netvm_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint16_t o[2], n[2];

	memcpy(o, &old, 4);
	memcpy(n, &new_, 4);
	return netvm_csum_update16(netvm_csum_update16(csum, o[0], n[0]), o[1], n[1]);
}
