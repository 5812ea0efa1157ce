/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: netvmd's YAML configuration parser on arbitrary text.
 * Every input must either load (and then free cleanly) or fail with a
 * "name:line: ..." message, and leak nothing either way.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	netvm_log_set_level(NETVM_LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netvm_config cfg;
	char err[512];
	/* Not NUL-terminated on purpose: the parser must honour the length. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (netvm_config_parse("fuzz.yaml", text, size, &cfg, err, sizeof(err)) == 0) {
		/* What loaded must be consistent: every reference resolves. */
		for (int i = 0; i < cfg.nchains; i++)
			if (cfg.chains[i].nhops < 0)
				abort();
		netvm_config_free(&cfg);
	} else if (strncmp(err, "fuzz.yaml:", 10) != 0 || !memchr(err, '\0', sizeof(err))) {
		abort(); /* every error names the file (and line) */
	}
	free(text);
	return 0;
}
