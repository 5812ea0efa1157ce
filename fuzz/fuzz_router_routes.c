/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: nf-router's route file (rt_fib_build) and configuration
 * (rt_config_parse) parsers on arbitrary text.  A route file is parsed
 * against a fixed configuration of two interfaces; the table it gives is
 * looked up at a few addresses; the same bytes are then parsed as a
 * configuration.  Errors must name the file (and a line).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "router/config.h"
#include "router/router.h"

static const char CFG[] =
    "interfaces:\n"
    "  - {port: pa, mac: 02:00:00:00:01:01, addresses: [10.1.0.1/24, fd01::1/64]}\n"
    "  - {port: pb, mac: 02:00:00:00:02:01, addresses: [10.2.0.1/24, fd02::1/64]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rt_config cfg;
	static int ready;
	char err[512];

	if (!ready) {
		if (rt_config_parse("fuzz.yaml", NULL, CFG, strlen(CFG), &cfg, err, sizeof(err)))
			abort();
		ready = 1;
	}
	/* an exact-size copy, not NUL-terminated: any over-read is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);

	err[0] = '\0';
	struct rt_fib *fib = rt_fib_build(&cfg, "fuzz.routes", text, size, err, sizeof(err));
	if (fib) {
		static const uint8_t a6[16] = {0xfd, 0x02, [15] = 7};
		if (lpm_lookup4(fib->v4, 0x0a010003) == LPM_MISS || lpm_lookup6(fib->v6, a6) == LPM_MISS)
			abort(); /* the connected routes are always there */
		uint32_t v = lpm_lookup4(fib->v4, 0xc0000201);
		if (v != LPM_MISS && v >= fib->nnh)
			abort();
		rt_fib_free(fib);
	} else if (strncmp(err, "fuzz.routes:", 12)) {
		abort();
	}
	struct rt_config c2;
	err[0] = '\0';
	if (rt_config_parse("fuzz.yaml", NULL, text, size, &c2, err, sizeof(err)) == 0)
		rt_config_free(&c2);
	else if (strncmp(err, "fuzz.yaml:", 10))
		abort();
	free(text);
	return 0;
}
