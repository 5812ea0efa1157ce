/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the control commands (src/daemon/commands.c): each request,
 * well-formed or not, from a peer who may use it or not, gets the reply
 * and errno the protocol documents (docs/control-protocol.md), and a
 * refused one changes nothing.  No sockets: command_run() directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/commands.h"
#include "daemon/netvmd.h"

static const char config[] = "pool: {buffers: 256}\n"
			     "ring_size: 64\n"
			     "max_nfs: 4\n"
			     "ports:\n"
			     "  - {name: gen0, type: gen, paused: true}\n"
			     "services: [a, b]\n"
			     "chains:\n"
			     "  default: [a, b]\n"
			     "rules:\n"
			     "  - {match: {proto: udp}, chain: default}\n";

enum who { ADMIN, USER, VM_OF_A };

static const struct {
	enum who who;
	const char *req;
	int err; /* 0: ok */
	const char *phrase;
} cases[] = {
    {ADMIN, "{\"cmd\":5}", EINVAL, "request has no string 'cmd'"},
    {ADMIN, "{\"cmd\":\"frob\"}", EINVAL, "unknown command 'frob'"},
    {ADMIN, "{\"cmd\":\"status\"}", 0, NULL},
    {USER, "{\"cmd\":\"status\"}", 0, NULL},
    {ADMIN, "{\"cmd\":\"help\"}", 0, NULL},
    {ADMIN, "{\"cmd\":\"chain_set\",\"name\":\"w\",\"hops\":\"a\"}", EINVAL, "'hops' must be"},
    {ADMIN, "{\"cmd\":\"chain_set\",\"hops\":[]}", EINVAL, "'name' must be"},
    {ADMIN, "{\"cmd\":\"chain_set\",\"name\":\"w\",\"hops\":[\"zz\"]}", ENOENT,
     "unknown service 'zz'"},
    {ADMIN, "{\"cmd\":\"chain_set\",\"name\":\"w\",\"hops\":[1]}", EINVAL, "hop 0"},
    {ADMIN, "{\"cmd\":\"chain_default\",\"name\":\"nope\"}", ENOENT, "unknown chain 'nope'"},
    {ADMIN, "{\"cmd\":\"rule_add\",\"chain\":\"default\",\"match\":{\"dport\":\"99999\"}}", EINVAL,
     "rule_add: bad dport"},
    {ADMIN, "{\"cmd\":\"rule_add\",\"match\":{}}", EINVAL, "'chain' must be a string"},
    {ADMIN, "{\"cmd\":\"rule_del\",\"id\":42}", ENOENT, "no rule with id 42"},
    {ADMIN, "{\"cmd\":\"rule_del\",\"id\":\"1\"}", EINVAL, "'id' must be an integer"},
    {ADMIN, "{\"cmd\":\"port_rx\",\"name\":\"gen0\",\"enable\":1}", EINVAL, "port_rx:"},
    {ADMIN, "{\"cmd\":\"port_rx\",\"name\":\"x\",\"enable\":true}", ENOENT, "unknown port 'x'"},
    {ADMIN, "{\"cmd\":\"attach\",\"service\":\"zz\"}", ENOENT, "unknown service 'zz'"},
    {ADMIN, "{\"cmd\":\"attach\"}", EINVAL, "'service' must be a string"},
    {ADMIN, "{\"cmd\":\"detach\"}", ENOTCONN, "not attached"},
    /* Who may: a user who is no admin changes nothing. */
    {USER, "{\"cmd\":\"chain_set\",\"name\":\"w\",\"hops\":[]}", EPERM, "chain_set: not permitted"},
    {USER, "{\"cmd\":\"chain_default\",\"name\":null}", EPERM, "chain_default: not permitted"},
    {USER, "{\"cmd\":\"rule_add\",\"chain\":\"default\"}", EPERM, "rule_add: not permitted"},
    {USER, "{\"cmd\":\"rule_del\",\"id\":1}", EPERM, "rule_del: not permitted"},
    {USER, "{\"cmd\":\"port_rx\",\"name\":\"gen0\",\"enable\":true}", EPERM,
     "port_rx: not permitted"},
    {USER, "{\"cmd\":\"attach\",\"service\":\"a\"}", EACCES, "may not attach as service 'a'"},
    /* A VM's channel, bound to a: attach as a only, and no other command. */
    {VM_OF_A, "{\"cmd\":\"status\"}", EPERM, "not allowed on a VM's channel"},
    {VM_OF_A, "{\"cmd\":\"chain_set\",\"name\":\"w\",\"hops\":[]}", EPERM,
     "not allowed on a VM's channel"},
    {VM_OF_A, "{\"cmd\":\"attach\",\"service\":\"b\",\"transport\":\"ivshmem\"}", EPERM,
     "bound to service 'a'"},
    {ADMIN, "{\"cmd\":\"attach\",\"service\":\"a\",\"transport\":\"ivshmem\"}", EPERM,
     "needs a VM's channel"},
    {ADMIN, "{\"cmd\":\"attach\",\"service\":\"a\",\"transport\":\"pigeon\"}", EINVAL,
     "transport must be"},
};

static void test_replies(void **state)
{
	static struct netvmd d;
	char err[256];

	(void)state;
	assert_int_equal(
	    netvm_config_parse("t.yaml", config, sizeof(config) - 1, &d.cfg, err, sizeof(err)), 0);
	assert_int_equal(netvmd_open(&d), 0);
	atomic_store(&d.stop, true); /* no switch thread */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct peer p = {.fd = -1, .slot = -1, .bound_svc = -1, .pid = 1};
		int pass_fd = -1;

		p.uid = cases[i].who == USER ? 65534 : 0;
		p.gid = p.uid;
		p.admin = cases[i].who != USER;
		if (cases[i].who == VM_OF_A)
			p.bound_svc = 0;
		json_t *req = json_loads(cases[i].req, 0, NULL);
		assert_non_null(req);
		uint32_t nrules = d.mgr.rt->nrules, nchains = d.mgr.rt->nchains;
		json_t *rep = command_run(&d, &p, req, &pass_fd);
		const char *msg = json_string_value(json_object_get(rep, "error"));
		int got = json_is_true(json_object_get(rep, "ok"))
			      ? 0
			      : (int)json_integer_value(json_object_get(rep, "errno"));
		if (got != cases[i].err ||
		    (cases[i].phrase && (!msg || !strstr(msg, cases[i].phrase))))
			print_error("case %zu %s: errno %d (%s), want %d (%s)\n", i, cases[i].req,
				    got, msg ? msg : "ok", cases[i].err, cases[i].phrase);
		assert_int_equal(got, cases[i].err);
		if (cases[i].err) { /* a refusal changes nothing */
			assert_int_equal(d.mgr.rt->nrules, nrules);
			assert_int_equal(d.mgr.rt->nchains, nchains);
			assert_int_equal(pass_fd, -1);
			assert_int_equal(p.slot, -1);
		}
		json_decref(req);
		json_decref(rep);
	}
	netvmd_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_replies)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
