/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the port backends' options (each backend's parse op, the
 * getters of src/ports/port_args.c and the shared value parsers), and for
 * the configuration loader handing a port's keys to its backend.
 *
 * The backends are included here so their private option blocks can be
 * looked at; the rest of the port layer comes from the ports library (the
 * linker takes no backend from it: this file defines them all but af_xdp,
 * whose headers clash with libpcap's: test_port_afxdp.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ports/port_gen.c"
#include "ports/port_pcap.c"
#include "ports/port_tap.c"
#include "ports/port_afpacket.c"
#include "daemon/config.h"
#include "port_parse.h"

static void test_gen(void **state)
{
	(void)state;
	struct port_opt o[] = {
	    {"size", "128", 0}, {"rate", "10M", 0}, {"count", "5k", 0}, {"flows", "16", 0}};
	struct parsed p = run("gen", o, N(o), NULL);
	struct gen_conf *c = p.conf;
	assert_non_null(c);
	assert_int_equal(c->size, 128);
	assert_int_equal(c->flows, 16);
	assert_true(c->rate == 10000000 && c->count == 5000);
	free(c);

	p = run("gen", NULL, 0, NULL); /* the defaults */
	c = p.conf;
	assert_non_null(c);
	assert_true(c->size == 64 && c->flows == 1 && c->rate == 0 && c->count == 0);
	free(c);

	struct port_opt bad[] = {{"rate", "1M", 0}, {"size", "12x", 0}};
	p = run("gen", bad, N(bad), NULL);
	assert_null(p.conf);
	assert_int_equal(p.bad, 1); /* the option the message is about */
	assert_string_equal(p.err,
			    "port 'p': size must be an integer between 60 and 9000, got '12x'");

	struct port_opt typo[] = {{"sise", "64", 0}};
	p = run("gen", typo, N(typo), NULL);
	assert_null(p.conf);
	assert_int_equal(p.bad, 0);
	assert_string_equal(p.err, "port 'p': unknown key 'sise' for a gen port (it takes size, "
				   "flows, rate, count or dst)");

	/* dst: a fixed address, or a prefix to draw random ones from */
	struct port_opt dst[] = {{"dst", "10.9.8.7/8", 0}};
	p = run("gen", dst, N(dst), NULL);
	c = p.conf;
	assert_non_null(c);
	assert_true(c->dst == htonl(0x0a000000) && c->dst_host == 0x00ffffff);
	free(c);
	struct port_opt host[] = {{"dst", "192.0.2.9", 0}};
	p = run("gen", host, N(host), NULL);
	c = p.conf;
	assert_non_null(c);
	assert_true(c->dst == htonl(0xc0000209) && c->dst_host == 0);
	free(c);
	struct port_opt any[] = {{"dst", "0.0.0.0/1", 0}};
	p = run("gen", any, N(any), NULL);
	c = p.conf;
	assert_non_null(c);
	assert_true(c->dst_set && c->dst == 0 && c->dst_host == 0x7fffffff);
	free(c);
	struct port_opt bad_dst[] = {{"dst", "10.0.0.0/33", 0}};
	p = run("gen", bad_dst, N(bad_dst), NULL);
	assert_null(p.conf);
	assert_string_equal(p.err, "port 'p': dst prefix length must be 0..32, got '33'");
}

static void test_pcap(void **state)
{
	(void)state;
	struct port_opt o[] = {{"read", "in.pcap", 0}, {"write", "/abs/out.pcap", 0}};
	struct parsed p = run("pcap", o, N(o), "/etc/netvm");
	struct pcap_conf *c = p.conf;
	assert_non_null(c);
	assert_string_equal(c->read, "/etc/netvm/in.pcap"); /* relative: the config's dir */
	assert_string_equal(c->write, "/abs/out.pcap");
	free(c);

	p = run("pcap", o, 1, NULL); /* no directory: as written */
	c = p.conf;
	assert_string_equal(c->read, "in.pcap");
	assert_string_equal(c->write, "");
	free(c);

	p = run("pcap", NULL, 0, NULL);
	assert_null(p.conf);
	assert_int_equal(p.bad, -1);
	assert_string_equal(p.err, "port 'p': a pcap port needs 'read' or 'write'");
}

static void test_interfaces(void **state)
{
	(void)state;
	struct port_opt tap[] = {{"ifname", "tap0", 0}};
	struct parsed p = run("tap", tap, N(tap), NULL);
	assert_string_equal(((struct tap_conf *)p.conf)->ifname, "tap0");
	free(p.conf);

	struct port_opt afp[] = {{"ifname", "veth-a", 0}, {"promisc", "no", 0}};
	p = run("af_packet", afp, N(afp), NULL);
	struct afp_conf *a = p.conf;
	assert_string_equal(a->ifname, "veth-a");
	assert_false(a->promisc);
	free(a);
	p = run("af_packet", afp, 1, NULL);
	assert_true(((struct afp_conf *)p.conf)->promisc); /* the default */
	free(p.conf);

	struct port_opt bad[] = {{"ifname", "a/b", 0}};
	p = run("af_packet", bad, N(bad), NULL);
	assert_null(p.conf);
	assert_non_null(strstr(p.err, "ifname 'a/b' is not a valid interface name"));
	p = run("tap", NULL, 0, NULL);
	assert_string_equal(p.err, "port 'p': a tap port needs 'ifname'");
}

static void test_unknown_type(void **state)
{
	(void)state;
	struct parsed p = run("netmap", NULL, 0, NULL);
	assert_null(p.conf);
	assert_non_null(strstr(p.err, "unknown type 'netmap' (known: gen, pcap, tap, af_packet"));
}

/* The shared value parsers: one spelling everywhere. */
static void test_values(void **state)
{
	uint64_t v;
	uint32_t ms;
	bool b;

	(void)state;
	assert_int_equal(netvm_parse_u64("10M", true, &v), 0);
	assert_true(v == 10000000);
	assert_int_equal(netvm_parse_u64("10M", false, &v), -1);
	assert_int_equal(netvm_parse_u64("18446744073709551615", false, &v), 0);
	assert_int_equal(netvm_parse_u64("18446744073709551616", false, &v), -1);
	assert_int_equal(netvm_parse_u64("20000000000G", true, &v), -1); /* overflow */
	assert_int_equal(netvm_parse_u64("-1", false, &v), -1);
	assert_int_equal(netvm_parse_u64("", false, &v), -1);
	assert_int_equal(netvm_parse_range("5", false, 6, 9, &v), -1);
	assert_int_equal(netvm_parse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(netvm_parse_bool("false", &b), 0);
	assert_false(b);
	assert_int_equal(netvm_parse_bool("1", &b), -1);
	assert_int_equal(netvm_parse_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(netvm_parse_duration_ms("5", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(netvm_parse_duration_ms("86401s", &ms), -1);
	assert_int_equal(netvm_parse_duration_ms("5 min", &ms), -1);
	assert_true(netvm_valid_ifname("veth-a.1"));
	assert_false(netvm_valid_ifname("abcdefghijklmnop"));
	assert_false(netvm_valid_ifname(".."));
	assert_true(netvm_valid_name("x.1-a_b"));
	assert_false(netvm_valid_name("a b"));
}

/* The loader hands a port's keys to its backend, relative paths taken
 * against the configuration file's directory. */
static void test_config_paths(void **state)
{
	char dir[] = "/tmp/netvm-ports-XXXXXX", path[256], err[PATH_MAX + 128];
	struct netvm_config cfg;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/netvm.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("ports:\n"
	      "  - {name: in0, type: pcap, read: in.pcap, write: ../out.pcap}\n"
	      "  - {name: g, type: gen, rate: 2k}\n"
	      "  - name: bad\n"
	      "    type: gen\n",
	      f);
	fclose(f);
	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), 0);
	struct pcap_conf *c = cfg.ports[0].conf;
	char want[PATH_MAX + 32];
	snprintf(want, sizeof(want), "%s/in.pcap", dir);
	assert_string_equal(c->read, want);
	snprintf(want, sizeof(want), "%s/../out.pcap", dir);
	assert_string_equal(c->write, want);
	assert_true(((struct gen_conf *)cfg.ports[1].conf)->rate == 2000);
	netvm_config_free(&cfg);

	/* A backend's error points at the line of its key. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("ports:\n  - name: g\n    type: gen\n    rate: 2k\n    flows: lots\n", f);
	fclose(f);
	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: port 'g': flows must be an integer", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gen),	       cmocka_unit_test(test_pcap),
	    cmocka_unit_test(test_interfaces), cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_values),     cmocka_unit_test(test_config_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
