/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for nf-router's configuration and route file (nfs/router/
 * config.c, routes.c): what a good file gives (connected, local, broadcast
 * and file routes, the next hops' interfaces), and that every mistake is
 * refused with file:line and what is wrong.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nfs/router/config.h"
#include "../../nfs/router/router.h"

static const char CFG[] =
    "interfaces:\n"
    "  - port: pa\n"
    "    mac: 02:00:00:00:01:01\n"
    "    addresses: [10.1.0.1/24, fd01::1/64]\n"
    "  - {port: pb, mac: 02:00:00:00:02:01, addresses: [10.2.0.1/24, fd02::1/64]}\n"
    "static_neighbours:\n"
    "  - {port: pb, ip: 10.2.0.9, mac: 02:00:00:00:02:09}\n"
    "icmp: {rate: 10, burst: 5}\n"
    "neighbour: {reachable: 2s, retrans: 100ms, probes: 2, queue: 4}\n";

static void config(struct rt_config *cfg)
{
	char err[512] = "";
	int rc = rt_config_parse("r.yaml", NULL, CFG, strlen(CFG), cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(rc, 0);
}

static uint32_t look4(const struct rt_fib *fib, const char *a)
{
	struct rt_addr x;
	assert_int_equal(rt_parse_prefix(a, false, &x), 0);
	return lpm_lookup4(fib->v4, rd32(x.a));
}

static uint32_t look6(const struct rt_fib *fib, const char *a)
{
	struct rt_addr x;
	assert_int_equal(rt_parse_prefix(a, false, &x), 0);
	return lpm_lookup6(fib->v6, x.a);
}

static void test_config_good(void **state)
{
	struct rt_config cfg;

	config(&cfg);
	assert_int_equal(cfg.nifaces, 2);
	assert_string_equal(cfg.ifaces[1].port, "pb");
	assert_int_equal(cfg.ifaces[1].naddr, 2);
	assert_int_equal(cfg.ifaces[0].mtu, 1500);
	/* fe80::ff:fe00:101 from 02:00:00:00:01:01 */
	static const uint8_t ll[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [14] = 1, [15] = 1};
	assert_memory_equal(cfg.ifaces[0].ll6, ll, 16);
	assert_int_equal(cfg.nneigh, 1);
	assert_int_equal(cfg.icmp_rate, 10);
	assert_int_equal(cfg.icmp_burst, 5);
	assert_int_equal(cfg.reachable_ms, 2000);
	assert_int_equal(cfg.retrans_ms, 100);
	assert_int_equal(cfg.probes, 2);
	assert_int_equal(cfg.queue, 4);
	assert_int_equal(cfg.stale_ms, 60000); /* default */
	rt_config_free(&cfg);
}

static void test_routes_good(void **state)
{
	struct rt_config cfg;
	char err[512] = "";
	static const char R[] = "# a comment\n"
				"\n"
				"10.3.0.0/16 via 10.2.0.2   # trailing comment\n"
				"10.3.4.0/24 via 10.1.0.9 dev pa\n"
				"192.0.2.0/24 dev pb\n"
				"default via 10.1.0.254\n"
				"fd03::/48 via fd02::2\n"
				"fd04::/32 via fe80::1 dev pa\n"
				"::/0 via fd01::fe\n"
				"blackhole 10.66.0.0/16\n"
				"unreachable 10.67.0.0/16\n"
				"prohibit fd66::/16\n"
				"10.9.9.9 via 10.2.0.3\n"
				"\t 10.8.0.0/13\tvia\t10.2.0.4\r\n";

	config(&cfg);
	struct rt_fib *fib = rt_fib_build(&cfg, "routes.txt", R, strlen(R), err, sizeof(err));
	if (!fib)
		fprintf(stderr, "%s\n", err);
	assert_non_null(fib);
	assert_int_equal(fib->file_routes4, 8);
	assert_int_equal(fib->file_routes6, 4);
	const struct rt_nh *nh = fib->nh;
	uint32_t v;
	v = look4(fib, "10.3.9.9");
	assert_int_equal(nh[v].type, NH_GATEWAY);
	assert_int_equal(nh[v].iface, 1);
	assert_memory_equal(nh[v].gw, "\x0a\x02\x00\x02", 4);
	v = look4(fib, "10.3.4.5");
	assert_int_equal(nh[v].iface, 0);
	v = look4(fib, "192.0.2.77");
	assert_int_equal(nh[v].type, NH_CONNECTED);
	assert_int_equal(nh[v].iface, 1);
	v = look4(fib, "8.8.8.8");
	assert_int_equal(nh[v].type, NH_GATEWAY);
	assert_memory_equal(nh[v].gw, "\x0a\x01\x00\xfe", 4);
	assert_int_equal(nh[look4(fib, "10.1.0.1")].type, NH_LOCAL);
	assert_int_equal(nh[look4(fib, "10.1.0.255")].type, NH_BROADCAST);
	assert_int_equal(nh[look4(fib, "10.1.0.77")].type, NH_CONNECTED);
	assert_int_equal(nh[look4(fib, "10.66.1.1")].type, NH_BLACKHOLE);
	assert_int_equal(nh[look4(fib, "10.67.1.1")].type, NH_UNREACHABLE);
	assert_int_equal(nh[look4(fib, "10.9.9.9")].type, NH_GATEWAY);
	assert_memory_equal(nh[look4(fib, "10.9.9.9")].gw, "\x0a\x02\x00\x03", 4);
	assert_memory_equal(nh[look4(fib, "10.15.0.1")].gw, "\x0a\x02\x00\x04", 4);
	assert_int_equal(nh[look6(fib, "fd03::1")].iface, 1);
	assert_int_equal(nh[look6(fib, "fd04::1")].iface, 0);
	assert_int_equal(nh[look6(fib, "fd66::1")].type, NH_PROHIBIT);
	assert_int_equal(nh[look6(fib, "fd01::1")].type, NH_LOCAL);
	assert_int_equal(nh[look6(fib, "fd01::2")].type, NH_CONNECTED);
	assert_int_equal(nh[look6(fib, "2001:db8::1")].type, NH_GATEWAY);
	assert_int_equal(fib->nlocal4, 4); /* two addresses, two broadcasts */
	/* identical next hops are shared */
	assert_int_equal(look4(fib, "10.3.9.9"), look4(fib, "10.3.0.1"));
	rt_fib_free(fib);

	/* no route file: the interfaces' routes only */
	fib = rt_fib_build(&cfg, "none", NULL, 0, err, sizeof(err));
	assert_non_null(fib);
	assert_int_equal(fib->file_routes4, 0);
	assert_int_equal(look4(fib, "8.8.8.8"), LPM_MISS);
	rt_fib_free(fib);
	rt_config_free(&cfg);
}

/* Each bad line: refused with "routes.txt:LINE: " and the words given. */
static void test_route_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"10.3.0.0/16 via 10.2.0.2\n10.3.0.0/16 via 10.1.0.2\n",
	     "routes.txt:2: duplicate route 10.3.0.0/16 (line 1)"},
	    {"10.1.2.3/16 via 10.2.0.2\n",
	     "routes.txt:1: 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)"},
	    {"10.3.0.0/16 via 10.9.0.2\n",
	     "routes.txt:1: gateway 10.9.0.2 is not on a subnet of any interface"},
	    {"10.3.0.0/16 via 10.2.0.2 dev pa\n",
	     "routes.txt:1: gateway 10.2.0.2 is not on a subnet of port pa"},
	    {"10.3.0.0/16 via 10.2.0.1\n",
	     "routes.txt:1: gateway 10.2.0.1 is one of the router's own addresses"},
	    {"10.3.0.0/16 via fd02::2\n", "routes.txt:1: gateway fd02::2 is not an IPv4 address"},
	    {"10.3.0.0/16 dev pz\n", "routes.txt:1: dev 'pz' is not one of the interfaces"},
	    {"10.3.0.0/16\n", "routes.txt:1: a route needs via GATEWAY or dev PORT"},
	    {"10.3.0.0/16 via\n", "routes.txt:1: via needs a gateway address"},
	    {"10.3.0.0/16 via 10.2.0.2 metric 5\n", "routes.txt:1: unexpected 'metric'"},
	    {"10.3.0.0/33 via 10.2.0.2\n", "routes.txt:1: '10.3.0.0/33' is not a prefix"},
	    {"bogus\n", "routes.txt:1: 'bogus' is not a prefix"},
	    {"fd03::/48 via fe80::1\n", "routes.txt:1: link-local gateway fe80::1 needs dev PORT"},
	    {"default dev pa\n", "routes.txt:1: default needs via GATEWAY"},
	    {"blackhole\n", "routes.txt:1: blackhole needs a prefix"},
	    {"unreachable default\n", "routes.txt:1: write unreachable 0.0.0.0/0 or ::/0"},
	    {"prohibit 10.0.0.0/8 extra\n", "routes.txt:1: unexpected 'extra'"},
	    {"10.1.0.0/24 dev pb\n",
	     "routes.txt:1: 10.1.0.0/24 is already a route of the interfaces"},
	    {"10.1.0.1/32 via 10.2.0.2\n",
	     "routes.txt:1: 10.1.0.1/32 is already a route of the interfaces"},
	    {"# ok\n\n10.4.0.0/16 via 10.2.0.2 via 10.2.0.3\n", "routes.txt:3: via given twice"},
	    {"10.4.0.0/16 via 10.2.0.2\0\n", "routes.txt:1: a NUL byte"},
	};
	struct rt_config cfg;
	char err[512];

	config(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);
		if (strstr(cases[i].want, "NUL"))
			len = strlen(cases[i].text) + 2; /* past the NUL */
		err[0] = '\0';
		struct rt_fib *fib =
		    rt_fib_build(&cfg, "routes.txt", cases[i].text, len, err, sizeof(err));
		if (fib || strncmp(err, cases[i].want, strlen(cases[i].want))) {
			fprintf(stderr, "case %zu: want '%s', got '%s'\n", i, cases[i].want, err);
			fail();
		}
	}
	rt_config_free(&cfg);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"", "r.yaml:1: empty configuration"},
	    {"foo: 1\n", "r.yaml:1: unknown key 'foo' in the configuration"},
	    {"routes: r.txt\n", "r.yaml:1: 'interfaces' is missing"},
	    {"interfaces: []\n", "r.yaml:1: interfaces: 1..256"},
	    {"interfaces:\n  - {mac: 02:00:00:00:01:01}\n", "r.yaml:2: an interface needs 'port'"},
	    {"interfaces:\n  - {port: pa}\n", "r.yaml:2: interface 'pa' needs 'mac'"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:01}\n",
	     "r.yaml:2: mac must be six hex bytes"},
	    {"interfaces:\n  - {port: pa, mac: 03:00:00:00:00:01}\n",
	     "r.yaml:2: mac 03:00:00:00:00:01 is not a unicast address"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [10.1.0.1]}\n",
	     "r.yaml:2: '10.1.0.1' is not an address with its prefix length"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [10.1.0.0/24]}\n",
	     "r.yaml:2: '10.1.0.0/24' is the subnet's network or broadcast address"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [224.1.0.1/24]}\n",
	     "r.yaml:2: '224.1.0.1/24' cannot be an interface address"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [fe80::1/64]}\n",
	     "r.yaml:2: 'fe80::1/64' cannot be an interface address"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: 10.1.0.1/24}\n",
	     "r.yaml:2: addresses must be a list"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, mtu: 100}\n",
	     "r.yaml:2: mtu must be a number 576..9000"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\n  - {port: pa, mac: "
	     "02:00:00:00:00:02}\n",
	     "r.yaml:3: port 'pa' is already an interface (line 2)"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [10.1.0.1/16]}\n"
	     "  - {port: pb, mac: 02:00:00:00:00:02, addresses: [10.1.2.1/24]}\n",
	     "r.yaml:3: an address of 'pb' overlaps the subnet of 'pa' (line 2)"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01, addresses: [10.1.0.1/24]}\n"
	     "static_neighbours:\n  - {port: pa, ip: 10.9.0.1, mac: 02:00:00:00:00:09}\n",
	     "r.yaml:4: 10.9.0.1 is not on a subnet of 'pa'"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\n"
	     "static_neighbours:\n  - {port: pq, ip: 10.9.0.1, mac: 02:00:00:00:00:09}\n",
	     "r.yaml:4: port 'pq' is not one of the interfaces"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\nicmp: {rate: x}\n",
	     "r.yaml:3: icmp rate must be a number"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\nneighbour: {retrans: 1ms}\n",
	     "r.yaml:3: neighbour retrans must be a duration of at least 10 ms"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\nneighbour: {foo: 1}\n",
	     "r.yaml:3: unknown key 'foo' in neighbour"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\nstock: 1\n",
	     "r.yaml:3: stock must be a number 8..8192"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\ntimer: 5s\n",
	     "r.yaml:3: timer must be at most 1s"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\n  port: x\n", "r.yaml:3:"},
	    {"interfaces:\n  - {port: pa, mac: 02:00:00:00:00:01}\nicmp: {rate: 1}\nicmp: {rate: "
	     "2}\n",
	     "r.yaml:4: duplicate key 'icmp'"},
	};
	struct rt_config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rc = rt_config_parse("r.yaml", NULL, cases[i].text, strlen(cases[i].text), &cfg,
					 err, sizeof(err));
		if (rc == 0 || strncmp(err, cases[i].want, strlen(cases[i].want))) {
			fprintf(stderr, "case %zu: want '%s', got '%s'\n", i, cases[i].want, err);
			if (rc == 0)
				rt_config_free(&cfg);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_good),
	    cmocka_unit_test(test_routes_good),
	    cmocka_unit_test(test_route_errors),
	    cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
