/* SPDX-License-Identifier: BSD-3-Clause */
/* Run a port backend's parse op on options, for the unit tests of the
 * backends (test_ports.c, test_port_afxdp.c). */
#ifndef TEST_PORT_PARSE_H
#define TEST_PORT_PARSE_H

#include "ports/port.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct parsed {
	void *conf;
	int bad;
	char err[512];
};

static inline struct parsed run(const char *type, const struct port_opt *opt, int n,
				const char *dir)
{
	struct parsed p = {0};
	struct port_args a = {.port = "p",
			      .type = type,
			      .dir = dir,
			      .opt = opt,
			      .n = n,
			      .err = p.err,
			      .errlen = sizeof(p.err)};

	p.conf = port_parse(&a);
	p.bad = a.bad;
	return p;
}

#endif
