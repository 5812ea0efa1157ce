/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf-router's configuration file (YAML, docs/nf-router.md):
 *
 *   interfaces:
 *     - {port: pa, mac: 02:00:00:00:01:01, addresses: [10.1.0.1/24, fd01::1/64]}
 *   routes: routes.txt
 *   static_neighbours:
 *     - {port: pa, ip: 10.1.0.7, mac: 02:00:00:00:00:07}
 *   icmp: {rate: 1000, burst: 50}
 *   neighbour: {reachable: 30s, stale: 60s, retrans: 1s, probes: 3, queue: 3}
 */
#ifndef NF_ROUTER_CONFIG_H
#define NF_ROUTER_CONFIG_H

#include "router.h"

/* Load @p path into @p cfg (zeroed first).  @return 0, or -1 with
 * "file:line: what is wrong" in @p err (nothing to free then). */
int rt_config_load(const char *path, struct rt_config *cfg, char *err, size_t errlen);

/* The same on @p text; relative paths are taken from @p dir (NULL: as
 * written); @p name names it in messages. */
int rt_config_parse(const char *name, const char *dir, const char *text, size_t len,
		    struct rt_config *cfg, char *err, size_t errlen);

void rt_config_free(struct rt_config *cfg);

/* An address with its prefix length ("10.1.0.1/24", "fd01::1/64"; without
 * "/LEN" when @p need_len is false: a host).  @return 0 or -1. */
int rt_parse_prefix(const char *s, bool need_len, struct rt_addr *out);

/* "02:00:00:00:01:01".  @return 0 or -1. */
int rt_parse_mac(const char *s, uint8_t mac[6]);

/* The interface whose port is @p name, or -1. */
int rt_iface_by_port(const struct rt_config *cfg, const char *name);

/* Whether @p a (family @p family) is inside prefix @p p. */
bool rt_prefix_has(const struct rt_addr *p, uint8_t family, const uint8_t *a);

#endif
