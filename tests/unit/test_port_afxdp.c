/* SPDX-License-Identifier: BSD-3-Clause */
/* The af_xdp backend's options (the others: test_ports.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ports/port_afxdp.c"

#include "port_parse.h"

static void test_afxdp(void **state)
{
	(void)state;
	struct port_opt xdp[] = {{"ifname", "v0", 0},
				 {"mode", "generic", 0},
				 {"queue", "3", 0},
				 {"zerocopy", "false", 0}};
	struct parsed p = run("af_xdp", xdp, N(xdp), NULL);
	struct xdp_conf *x = p.conf;
	assert_non_null(x);
	assert_int_equal(x->mode, XSK_MODE_SKB); /* generic is skb */
	assert_int_equal(x->queue, 3);
	assert_int_equal(x->zerocopy, XSK_ZC_NO);
	free(x);
	p = run("af_xdp", xdp, 1, NULL);
	x = p.conf;
	assert_true(x->mode == XSK_MODE_AUTO && x->zerocopy == XSK_ZC_AUTO && x->queue == 0);
	free(x);
	struct port_opt fast[] = {{"ifname", "v0", 0}, {"mode", "fast", 0}};
	p = run("af_xdp", fast, N(fast), NULL);
	assert_int_equal(p.bad, 1);
	assert_string_equal(p.err,
			    "port 'p': mode must be auto, native, drv, skb or generic, got 'fast'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_afxdp)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
