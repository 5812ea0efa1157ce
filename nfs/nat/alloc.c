/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External port selection: RFC 6056 section 3.3.4, algorithm 4
 * ("double-hash port selection"):
 *
 *   offset = F(local IP, remote IP, remote port, key_f)
 *   index  = G(local IP, remote IP, remote port, key_g) % table length
 *   for count = num_ephemeral .. 1:
 *       port = min + (offset + table[index]) % num_ephemeral
 *       table[index]++
 *       if port is free: return port
 *
 * The "local IP" is the public address the mapping gets, the remote
 * endpoint is where the mapping's first packet goes, and the protocol is
 * hashed too.  F and G are SipHash-2-4 (libsodium's crypto_shorthash) with
 * two random 128-bit keys.  So the ports that one remote endpoint sees
 * follow each other in a sequence that starts at a secret offset of its
 * own, while other remote endpoints' sequences are unrelated and cannot be
 * inferred from it (the point of algorithm 4 over algorithm 3); the ports
 * spread over the whole range.  Mappings are endpoint-independent (RFC 4787
 * REQ-1): only the first packet's remote endpoint picks the port.
 *
 * The range is port_min..port_max of the configuration (default
 * 1024-65535), also for ICMP identifiers.  Port preservation is not
 * attempted (RFC 4787 REQ-3 does not require it).  When every port of the
 * range is taken on (protocol, public address) the allocation fails at once
 * (a count per pair), without probing: port exhaustion, counted by the
 * caller.  Otherwise the probe stops at the first free port, at worst after
 * num_ephemeral tries (each a load from the outside index).
 */
#include <string.h>
#include <sys/random.h>

#include <sodium/crypto_shorthash_siphash24.h>

#include "nat.h"

void nat_alloc_init(struct nat_alloc *a)
{
	memset(a, 0, sizeof(*a));
	if (getrandom(a->key_f, sizeof(a->key_f), 0) != (ssize_t)sizeof(a->key_f) ||
	    getrandom(a->key_g, sizeof(a->key_g), 0) != (ssize_t)sizeof(a->key_g)) {
		/* getrandom() does not fail for 16 bytes once the pool is up;
		 * fall back to something that still differs per process. */
		for (size_t i = 0; i < sizeof(a->key_f); i++) {
			a->key_f[i] = (uint8_t)((uintptr_t)a >> (i % 8) ^ i * 131);
			a->key_g[i] = (uint8_t)((uintptr_t)&i >> (i % 8) ^ i * 71);
		}
	}
}

static uint64_t siphash(const uint8_t key[16], const void *in, size_t len)
{
	uint64_t h;

	crypto_shorthash_siphash24((unsigned char *)&h, in, len, key);
	return h;
}

int nat_alloc_port(struct nat_table *t, int proto, int ext, uint32_t raddr, uint16_t rport)
{
	const struct nat_config *c = t->cfg;
	uint32_t num = (uint32_t)c->port_max - c->port_min + 1;
	uint8_t id[12];

	if (t->used[proto][ext] >= num)
		return -1;
	memcpy(id, &c->public_addr[ext], 4);
	memcpy(id + 4, &raddr, 4);
	memcpy(id + 8, &rport, 2);
	id[10] = (uint8_t)proto;
	id[11] = 0;
	uint64_t offset = siphash(t->alloc.key_f, id, sizeof(id));
	uint32_t index = (uint32_t)(siphash(t->alloc.key_g, id, sizeof(id)) % NAT_ALLOC_TABLE);
	uint32_t base = (((uint32_t)proto * t->n_pub + (uint32_t)ext) << 16);

	for (uint32_t count = num; count; count--) {
		uint32_t port = c->port_min + (uint32_t)((offset + t->alloc.table[index]) % num);
		t->alloc.table[index]++;
		if (!t->by_port[base | port])
			return (int)port;
	}
	return -1;
}
