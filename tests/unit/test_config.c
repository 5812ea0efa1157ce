/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for the netvmd configuration loader (src/daemon/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <netvm/netvm.h>

#include "daemon/config.h"

static int parse(const char *text, struct netvm_config *cfg, char *err, size_t errlen)
{
	return netvm_config_parse("x.yaml", text, strlen(text), cfg, err, errlen);
}

static const char good[] = "socket: /tmp/nv.sock\n"	/* 1 */
			   "pool:\n"			/* 2 */
			   "  buffers: 4096\n"		/* 3 */
			   "  buffer_size: 1500\n"	/* 4 */
			   "  headroom: 64\n"		/* 5 */
			   "  hugepages: no\n"		/* 6 */
			   "ring_size: 256\n"		/* 7 */
			   "max_nfs: 8\n"		/* 8 */
			   "cores:\n"			/* 9 */
			   "  switch: 3\n"		/* 10 */
			   "ports:\n"			/* 11 */
			   "  - name: gen0\n"		/* 12 */
			   "    type: gen\n"		/* 13 */
			   "    size: 128\n"		/* 14 */
			   "    flows: 16\n"		/* 15 */
			   "    rate: 10M\n"		/* 16 */
			   "    count: 5k\n"		/* 17 */
			   "    output: in0\n"		/* 18 */
			   "  - name: in0\n"		/* 19 */
			   "    type: pcap\n"		/* 20 */
			   "    read: in.pcap\n"	/* 21 */
			   "    write: /abs/out.pcap\n" /* 22 */
			   "services:\n"		/* 23 */
			   "  - fw\n"			/* 24 */
			   "  - {name: fwd}\n"		/* 25 */
			   "chains:\n"			/* 26 */
			   "  default: [fw, fwd]\n"	/* 27 */
			   "  web: [fw]\n"		/* 28 */
			   "  none: []\n"		/* 29 */
			   "default_chain: web\n"	/* 30 */
			   "rules:\n"			/* 31 */
			   "  - match: {src: 10.1.2.3/8, dst: any, proto: tcp, sport: any, "
			   "dport: 80}\n"		     /* 32 */
			   "    chain: web\n"		     /* 33 */
			   "  - match: {dport: 1000-2000}\n" /* 34 */
			   "    chain: none\n"		     /* 35 */
			   "  - chain: default\n";	     /* 36 */

static void test_good(void **state)
{
	struct netvm_config cfg;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(good, &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.path, "x.yaml");
	assert_string_equal(cfg.socket, "/tmp/nv.sock");
	assert_int_equal(cfg.nbufs, 4096);
	assert_int_equal(cfg.buf_size, 1500);
	assert_int_equal(cfg.headroom, 64);
	assert_int_equal(cfg.hugepages, CFG_HUGE_NO);
	assert_int_equal(cfg.ring_size, 256);
	assert_int_equal(cfg.max_nfs, 8);
	assert_int_equal(cfg.switch_core, 3);

	assert_int_equal(cfg.nports, 2);
	assert_string_equal(cfg.ports[0].name, "gen0");
	assert_string_equal(cfg.ports[0].type, "gen");
	assert_string_equal(cfg.ports[0].output, "in0");
	assert_int_equal(cfg.ports[0].line, 12);
	assert_non_null(cfg.ports[0].conf); /* the backend's: tests/unit/test_ports.c */
	assert_string_equal(cfg.ports[1].name, "in0");
	assert_string_equal(cfg.ports[1].type, "pcap");
	assert_string_equal(cfg.ports[1].output, "");
	assert_int_equal(cfg.ports[1].line, 19);
	assert_non_null(cfg.ports[1].conf);

	assert_int_equal(cfg.nservices, 2);
	assert_string_equal(cfg.services[0].name, "fw");
	assert_int_equal(cfg.services[0].line, 24);
	assert_string_equal(cfg.services[1].name, "fwd");
	assert_int_equal(cfg.services[1].line, 25);

	assert_int_equal(cfg.nchains, 3);
	assert_string_equal(cfg.chains[0].name, "default");
	assert_int_equal(cfg.chains[0].line, 27);
	assert_int_equal(cfg.chains[0].nhops, 2);
	assert_string_equal(cfg.chains[0].hops[0], "fw");
	assert_string_equal(cfg.chains[0].hops[1], "fwd");
	assert_string_equal(cfg.chains[1].name, "web");
	assert_int_equal(cfg.chains[1].nhops, 1);
	assert_string_equal(cfg.chains[1].hops[0], "fw");
	assert_string_equal(cfg.chains[2].name, "none");
	assert_int_equal(cfg.chains[2].nhops, 0);
	assert_string_equal(cfg.default_chain, "web");

	assert_int_equal(cfg.nrules, 3);
	const struct netvm_match *m = &cfg.rules[0].match;
	assert_string_equal(cfg.rules[0].chain, "web");
	assert_int_equal(cfg.rules[0].line, 32);
	assert_int_equal(m->family, 4);
	assert_int_equal(m->proto, IPPROTO_TCP);
	assert_int_equal(m->src_plen, 8);
	assert_int_equal(m->src[0], 10);
	assert_int_equal(m->src[1], 0); /* masked to the prefix */
	assert_int_equal(m->dst_plen, 0);
	assert_int_equal(m->sport_lo, 0);
	assert_int_equal(m->sport_hi, 65535);
	assert_int_equal(m->dport_lo, 80);
	assert_int_equal(m->dport_hi, 80);
	m = &cfg.rules[1].match;
	assert_string_equal(cfg.rules[1].chain, "none");
	assert_int_equal(m->family, 0);
	assert_int_equal(m->proto, 0);
	assert_int_equal(m->dport_lo, 1000);
	assert_int_equal(m->dport_hi, 2000);
	m = &cfg.rules[2].match; /* no match = match everything */
	assert_string_equal(cfg.rules[2].chain, "default");
	assert_int_equal(m->family, 0);
	assert_int_equal(m->dport_lo, 0);
	assert_int_equal(m->dport_hi, 65535);
	assert_int_equal(cfg.rules[2].line, 36);

	netvm_config_free(&cfg);
	assert_int_equal(cfg.nports, 0);
	assert_null(cfg.ports);
	netvm_config_free(&cfg); /* twice is harmless */
}

static void check_defaults(const struct netvm_config *cfg)
{
	assert_string_equal(cfg->socket, NETVM_DEFAULT_SOCKET);
	assert_int_equal(cfg->nbufs, 16384);
	assert_int_equal(cfg->buf_size, 2048);
	assert_int_equal(cfg->headroom, 128);
	assert_int_equal(cfg->hugepages, CFG_HUGE_AUTO);
	assert_int_equal(cfg->ring_size, 1024);
	assert_int_equal(cfg->max_nfs, 16);
	assert_int_equal(cfg->switch_core, -1);
	assert_false(cfg->malformed_pass); /* malformed: drop */
	assert_int_equal(cfg->nports + cfg->nservices + cfg->nchains + cfg->nrules, 0);
	assert_string_equal(cfg->default_chain, "");
	assert_string_equal(cfg->admin_group, "");
	assert_false(cfg->status_admin);
	assert_int_equal(cfg->ctl.max_connections, 16 + 64);
	assert_int_equal(cfg->ctl.admin_reserve, 8);
	assert_int_equal(cfg->ctl.idle_timeout_ms, 60000);
	assert_int_equal(cfg->ctl.request_timeout_ms, 5000);
	assert_int_equal(cfg->ctl.queue_limit, 1000000);
}

static void test_defaults(void **state)
{
	static const char *const empties[] = {"", "\n# only a comment\n", "---\n", "~\n",
					      "---\n...\n"};
	struct netvm_config cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		memset(&cfg, 0xa5, sizeof(cfg)); /* parse must not trust the caller's struct */
		assert_int_equal(parse(empties[i], &cfg, err, sizeof(err)), 0);
		check_defaults(&cfg);
		netvm_config_free(&cfg);
	}

	/* Port defaults, and "default" is the default chain when not named. */
	assert_int_equal(parse("ports:\n"
			       "  - {name: p, type: gen}\n"
			       "services: [a]\n"
			       "chains:\n"
			       "  default: [a]\n",
			       &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.nports, 1);
	assert_string_equal(cfg.ports[0].output, "");
	assert_string_equal(cfg.default_chain, "default");
	netvm_config_free(&cfg);

	/* An explicit "" turns the default chain off. */
	assert_int_equal(parse("services: [a]\n"
			       "chains: {default: [a]}\n"
			       "default_chain: \"\"\n"
			       "pool: {hugepages: yes}\n",
			       &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.default_chain, "");
	assert_int_equal(cfg.hugepages, CFG_HUGE_YES);
	netvm_config_free(&cfg);

	/* What the flow rules do with malformed or evasive frames. */
	assert_int_equal(parse("malformed: pass\n", &cfg, err, sizeof(err)), 0);
	assert_true(cfg.malformed_pass);
	netvm_config_free(&cfg);
	assert_int_equal(parse("malformed: drop\n", &cfg, err, sizeof(err)), 0);
	assert_false(cfg.malformed_pass);
	netvm_config_free(&cfg);

	/* A graph chain: hops and links from their outputs. */
	assert_int_equal(parse("services: [cls, web, rest]\n"
			       "chains:\n"
			       "  g:\n"
			       "    hops: [cls, rest, web]\n"
			       "    links: {cls.1: web, cls.2: drop, web: out}\n",
			       &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.chains[0].nhops, 3);
	assert_int_equal(cfg.chains[0].nlinks, 3);
	assert_string_equal(cfg.chains[0].links[0].from, "cls");
	assert_int_equal(cfg.chains[0].links[0].out, 1);
	assert_string_equal(cfg.chains[0].links[0].to, "web");
	assert_int_equal(cfg.chains[0].links[2].out, 0);
	assert_int_equal(cfg.chains[0].links[2].line, 5);
	netvm_config_free(&cfg);

	/* Interface ports: their options go to their backends. */
	assert_int_equal(parse("ports:\n"
			       "  - {name: t, type: tap, ifname: tap0}\n"
			       "  - {name: a, type: af_packet, ifname: veth-a, promisc: no}\n"
			       "  - {name: x, type: af_xdp, ifname: v0, mode: skb, queue: 3,\n"
			       "     zerocopy: no}\n"
			       "  - {name: y, type: af_xdp, ifname: v1}\n",
			       &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.nports, 4);
	for (int i = 0; i < 4; i++)
		assert_non_null(cfg.ports[i].conf);
	netvm_config_free(&cfg);

	/* Who may do what, and the control socket's limits. */
	assert_int_equal(
	    parse("max_nfs: 300\n"
		  "admin_group: nogroup\n"
		  "status_access: admin\n"
		  "control: {admin_reserve: 0, idle_timeout: 0, request_timeout: 250ms,\n"
		  "          queue_limit: 64k}\n",
		  &cfg, err, sizeof(err)),
	    0);
	assert_string_equal(cfg.admin_group, "nogroup");
	assert_int_equal(cfg.admin_gid, 65534);
	assert_true(cfg.status_admin);
	assert_int_equal(cfg.ctl.max_connections, 364); /* follows max_nfs */
	assert_int_equal(cfg.ctl.admin_reserve, 0);
	assert_int_equal(cfg.ctl.idle_timeout_ms, 0);
	assert_int_equal(cfg.ctl.request_timeout_ms, 250);
	assert_int_equal(cfg.ctl.queue_limit, 64000);
	netvm_config_free(&cfg);
	assert_int_equal(
	    parse("admin_group: 0\nstatus_access: any\n"
		  "control: {max_connections: 16, idle_timeout: 90s, request_timeout: 7}\n",
		  &cfg, err, sizeof(err)),
	    0);
	assert_string_equal(cfg.admin_group, "0");
	assert_int_equal(cfg.admin_gid, 0);
	assert_false(cfg.status_admin);
	assert_int_equal(cfg.ctl.max_connections, 16);
	assert_int_equal(cfg.ctl.idle_timeout_ms, 90000);
	assert_int_equal(cfg.ctl.request_timeout_ms, 7000);
	netvm_config_free(&cfg);

	/* Freeing a zeroed config is fine. */
	memset(&cfg, 0, sizeof(cfg));
	netvm_config_free(&cfg);
}

struct bad {
	const char *text;
	const char *prefix; /* "x.yaml:LINE: " */
	const char *phrase;
};

static const struct bad bads[] = {
    {"admin_group: no-such-group-here\n",
     "x.yaml:1: ", "admin_group: no group 'no-such-group-here'"},
    {"status_access: root\n", "x.yaml:1: ", "status_access must be any or admin, got 'root'"},
    {"control: {max_conections: 5}\n", "x.yaml:1: ", "unknown key 'max_conections' in control"},
    {"control:\n  max_connections: 0\n",
     "x.yaml:2: ", "control.max_connections must be an integer between 1 and 65536"},
    {"max_nfs: 100\ncontrol:\n  max_connections: 99\n",
     "x.yaml:3: ", "control.max_connections (99) must be at least max_nfs (100)"},
    {"control:\n  admin_reserve: 2000\n", "x.yaml:2: ", "control.admin_reserve"},
    {"control:\n  idle_timeout: 5 min\n",
     "x.yaml:2: ", "control.idle_timeout must be a duration such as 5s or 500ms"},
    {"control:\n  request_timeout: 86401s\n", "x.yaml:2: ", "got '86401s'"},
    {"control:\n  request_timeout: ms\n", "x.yaml:2: ", "got 'ms'"},
    {"control:\n  request_timeout: -1s\n", "x.yaml:2: ", "got '-1s'"},
    {"control:\n  queue_limit: 100\n",
     "x.yaml:2: ", "control.queue_limit must be an integer between 1024"},
    {"control: 5\n", "x.yaml:1: ", "control must be a mapping"},
    {"ring_size: 1000\n",
     "x.yaml:1: ", "ring_size must be a power of two between 64 and 65536, got 1000"},
    {"max_nfs: 8\nring_size: 32\n", "x.yaml:2: ", "power of two"},
    {"ring_size: 131072\n", "x.yaml:1: ", "got 131072"},
    {"ports:\n  - name: gen0\n    type: gen\n    sise: 64\n", "x.yaml:4: ",
     "port 'gen0': unknown key 'sise' for a gen port (it takes size, flows, "
     "rate, count or dst)"},
    {"services: [fw]\nchains:\n  web: [fw,\n     fx]\n",
     "x.yaml:4: ", "chain 'web' names unknown service 'fx'"},
    {"ports:\n  - {name: gen0, type: gen}\n  - name: gen0\n    type: gen\n",
     "x.yaml:3: ", "duplicate port name 'gen0'"},
    {"services: [a]\nchains: {c: [a]}\nrules:\n  - match:\n      src: 10.0.0.0/33\n    "
     "chain: c\n",
     "x.yaml:5: ", "rule: bad prefix length"},
    {"services: [a]\nchains: {c: [a]}\nrules:\n  - match: {proto: tcp, colour: red}\n    "
     "chain: c\n",
     "x.yaml:4: ", "unknown match field 'colour'"},
    {"services: [a]\nchains: {c: [a]}\nrules:\n  - match: {dport: 80}\n    chain: d\n",
     "x.yaml:5: ", "unknown chain 'd'"},
    {"services: [a]\nchains: {c: [a]}\nrules:\n  - match: {dport: 80}\n",
     "x.yaml:4: ", "rule has no 'chain'"},
    {"ports:\n  - type: gen\n", "x.yaml:2: ", "port has no 'name'"},
    {"ports:\n  - name: p\n    size: 64\n", "x.yaml:2: ", "port 'p' has no 'type'"},
    {"ports:\n  - name: p\n    type: pcap\n", "x.yaml:2: ", "needs 'read' or 'write'"},
    {"ports:\n  - name: p\n    type: pcap\n    read: a\n    size: 64\n",
     "x.yaml:5: ", "port 'p': unknown key 'size' for a pcap port (it takes read or write)"},
    {"ports:\n  - name: this_name_is_much_too_long_for_netvm\n    type: gen\n",
     "x.yaml:2: ", "not a valid name"},
    {"ports:\n  - name: \"a b\"\n    type: gen\n", "x.yaml:2: ", "not a valid name"},
    {"ports:\n  - name: p\n    type: g-en\n", "x.yaml:3: ", "type 'g-en' is not valid"},
    {"ports:\n  - name: p\n    type: gen\n    output: q\n",
     "x.yaml:4: ", "output names unknown port 'q'"},
    {"ports:\n  - name: p\n    type: gen\n    size: 12x\n",
     "x.yaml:4: ", "port 'p': size must be an integer between 60 and 9000, got '12x'"},
    {"ports:\n  - name: p\n    type: gen\n    size: 9001\n", "x.yaml:4: ", "got '9001'"},
    {"ports:\n  - name: p\n    type: gen\n    flows: 0\n", "x.yaml:4: ", "port 'p': flows"},
    {"ports:\n  - name: p\n    type: gen\n    rate: -5\n", "x.yaml:4: ", "got '-5'"},
    {"ports:\n  - name: p\n    type: gen\n    rate: 10T\n", "x.yaml:4: ", "got '10T'"},
    {"ports:\n  - name: p\n    type: gen\n    count: 18446744073709551616\n",
     "x.yaml:4: ", "port 'p': count must be an integer of at least 0"},
    {"ports:\n  - name: p\n    type: gen\n    count: 18446744073709552G\n",
     "x.yaml:4: ", "port 'p': count must be an integer of at least 0"},
    {"ports:\n  - name: p\n    type: netmap\n",
     "x.yaml:3: ", "port 'p': unknown type 'netmap' (known: gen, pcap, tap, af_packet"},
    {"ports:\n  - name: p\n    type: gen\n    size: [1]\n",
     "x.yaml:4: ", "port 'p': size must be a single value"},
    {"pool:\n  buffers: -1\n", "x.yaml:2: ", "pool.buffers must be an integer between 64"},
    {"pool:\n  buffers: 4294967296\n", "x.yaml:2: ", "pool.buffers"},
    {"pool:\n  buffer_size: 65000\n  headroom: 1024\n",
     "x.yaml:2: ", "pool.buffer_size + pool.headroom must be at most 65535"},
    {"pool:\n  headroom: 2048\n", "x.yaml:2: ", "pool.headroom must be an integer"},
    {"pool:\n  hugepages: maybe\n", "x.yaml:2: ", "auto, yes or no"},
    {"pool:\n  bufers: 10\n", "x.yaml:2: ", "unknown key 'bufers' in pool"},
    {"max_nfs: 0\n", "x.yaml:1: ", "max_nfs must be an integer between 1 and 1024"},
    {"cores:\n  switch: -1\n", "x.yaml:2: ", "cores.switch"},
    {"cores:\n  rx: 1\n", "x.yaml:2: ", "unknown key 'rx' in cores"},
    {"socket: /a\nsockets: /b\n", "x.yaml:2: ", "unknown key 'sockets'"},
    {"socket: /a\nsocket: /b\n", "x.yaml:2: ", "duplicate key 'socket'"},
    {"socket:\n", "x.yaml:1: ", "socket must not be empty"},
    {"services: [fw, fwd, fw]\n", "x.yaml:1: ", "duplicate service name 'fw'"},
    {"services:\n  - {name: fw, cpu: 1}\n", "x.yaml:2: ", "unknown key 'cpu' in service"},
    {"services:\n  - {nam: fw}\n", "x.yaml:2: ", "unknown key 'nam'"},
    {"services: fw\n", "x.yaml:1: ", "services must be a list"},
    {"services: [a]\nchains:\n  c: [a]\n  c: []\n", "x.yaml:4: ", "duplicate key 'c'"},
    {"services: [a]\nchains:\n  c: a\n", "x.yaml:3: ", "chain 'c' must be a list"},
    {"services: [a]\nchains:\n  c: [a]\ndefault_chain: d\n",
     "x.yaml:4: ", "default_chain names unknown chain 'd'"},
    {"ports: {name: p}\n", "x.yaml:1: ", "ports must be a list"},
    {"- a\n- b\n", "x.yaml:1: ", "must be a mapping"},
    {"ring_size: 64\n---\nring_size: 128\n", "x.yaml:3: ", "only one YAML document"},
    {"ports:\n  - name: t\n    type: tap\n", "x.yaml:2: ", "port 't': a tap port needs 'ifname'"},
    {"ports:\n  - name: a\n    type: af_packet\n    ifname: eth0\n    size: 64\n",
     "x.yaml:5: ", "port 'a': unknown key 'size' for a af_packet port"},
    {"ports:\n  - name: a\n    type: af_packet\n    ifname: eth0\n    queue: 1\n", "x.yaml:5: ",
     "port 'a': unknown key 'queue' for a af_packet port (it takes ifname or "
     "promisc)"},
    {"ports:\n  - name: t\n    type: tap\n    ifname: tap0\n    promisc: yes\n",
     "x.yaml:5: ", "port 't': unknown key 'promisc' for a tap port (it takes ifname)"},
    {"ports:\n  - name: g\n    type: gen\n    ifname: eth0\n",
     "x.yaml:4: ", "port 'g': unknown key 'ifname' for a gen port"},
    {"ports:\n  - name: x\n    type: af_xdp\n    ifname: a/b\n",
     "x.yaml:4: ", "ifname 'a/b' is not a valid interface name"},
    {"ports:\n  - name: x\n    type: af_xdp\n    ifname: abcdefghijklmnop\n",
     "x.yaml:4: ", "is not a valid interface name"},
    {"ports:\n  - name: x\n    type: af_xdp\n    ifname: v0\n    mode: fast\n",
     "x.yaml:5: ", "port 'x': mode must be auto, native, drv, skb or generic, got 'fast'"},
    {"ports:\n  - name: x\n    type: af_xdp\n    ifname: v0\n    zerocopy: maybe\n",
     "x.yaml:5: ", "port 'x': zerocopy must be auto, yes, true, no or false, got 'maybe'"},
    {"ports:\n  - name: x\n    type: af_xdp\n    ifname: v0\n    queue: 5000\n",
     "x.yaml:5: ", "port 'x': queue must be an integer between 0 and 4095"},
    {"ports:\n  - name: a\n    type: af_packet\n    ifname: v0\n    promisc: 2\n",
     "x.yaml:5: ", "port 'a': promisc must be true or false (yes or no), got '2'"},
    {"services: [a]\nchains:\n  g: {hops: [a], links: {a.16: out}}\n",
     "x.yaml:3: ", "chain 'g': link from 'a.16': expected HOP or HOP.OUTPUT (output 0..15)"},
    {"services: [a]\nchains:\n  g: {links: {a.1: out}}\n", "x.yaml:3: ", "chain 'g' has no 'hops'"},
    {"services: [a]\nchains:\n  g: {hops: [a], linx: {}}\n",
     "x.yaml:3: ", "unknown key 'linx' in chain 'g' (hops, links)"},
    {"services: [a]\nchains:\n  g: {hops: [a], links: [a]}\n",
     "x.yaml:3: ", "links must be a mapping"},
    {"ring_size: 64\nmalformed: allow\n",
     "x.yaml:2: ", "malformed must be drop or pass, got 'allow'"},
    {"malformed: [drop]\n", "x.yaml:1: ", "malformed must be a single value"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct netvm_config cfg;
		char err[256] = "";
		int rc = parse(bads[i].text, &cfg, err, sizeof(err));

		if (rc != -1 || strncmp(err, bads[i].prefix, strlen(bads[i].prefix)) ||
		    !strstr(err, bads[i].phrase))
			print_error("case %zu: rc %d, err \"%s\", want \"%s...%s\"\n", i, rc, err,
				    bads[i].prefix, bads[i].phrase);
		assert_int_equal(rc, -1);
		assert_memory_equal(err, bads[i].prefix, strlen(bads[i].prefix));
		assert_non_null(strstr(err, bads[i].phrase));
		/* The config is left zeroed: nothing to free, nothing leaked. */
		assert_int_equal(cfg.nports + cfg.nservices + cfg.nchains + cfg.nrules, 0);
		assert_null(cfg.ports);
		assert_null(cfg.chains);
		netvm_config_free(&cfg);
	}
}

static void test_syntax(void **state)
{
	struct netvm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse("pool:\n  buffers: 64\n  headroom: [1, 2\nring_size: 64\n", &cfg,
			       err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "syntax error"));
	assert_true(!strncmp(err, "x.yaml:4: ", 10) || !strncmp(err, "x.yaml:5: ", 10));

	assert_int_equal(parse("a: b: c\n", &cfg, err, sizeof(err)), -1);
	assert_memory_equal(err, "x.yaml:1: syntax error", 22);

	assert_int_equal(parse("ring_size: 64\nx: *nope\n", &cfg, err, sizeof(err)), -1);
	assert_memory_equal(err, "x.yaml:2: syntax error", 22);

	/* Invalid UTF-8 is a reader error, located by byte offset. */
	assert_int_equal(parse("ring_size: 64\n\n# \xff\xfe\n", &cfg, err, sizeof(err)), -1);
	assert_memory_equal(err, "x.yaml:3: syntax error", 22);
	netvm_config_free(&cfg);

	/* A tiny error buffer truncates but does not overflow. */
	char small[8];
	assert_int_equal(parse("ring_size: 3\n", &cfg, small, sizeof(small)), -1);
	assert_string_equal(small, "x.yaml:");
}

static void test_load(void **state)
{
	char dir[] = "/tmp/netvm-cfg-XXXXXX", path[PATH_MAX], sub[256], err[PATH_MAX + 128];
	struct netvm_config cfg;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/netvm.yaml", sub);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("ports:\n"
	      "  - name: in0\n"
	      "    type: pcap\n"
	      "    read: in.pcap\n"
	      "    write: ../out/out.pcap\n"
	      "  - name: in1\n"
	      "    type: pcap\n"
	      "    read: /abs/in.pcap\n",
	      f);
	fclose(f);

	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, path);
	char want[PATH_MAX + 32];
	netvm_config_free(&cfg); /* the paths it resolved: tests/unit/test_ports.c */

	/* Errors from a file carry its path. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("\nring_size: 100\n", f);
	fclose(f);
	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: ring_size must be", path);
	assert_memory_equal(err, want, strlen(want));
	assert_null(cfg.ports);

	/* Empty file: all defaults. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), 0);
	check_defaults(&cfg);
	netvm_config_free(&cfg);

	unlink(path);
	rmdir(sub);
	rmdir(dir);

	assert_int_equal(netvm_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good), cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_bad),	 cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
