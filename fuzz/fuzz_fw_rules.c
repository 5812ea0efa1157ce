/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: nf-firewall's rules-file parser on arbitrary text, and
 * the rule set it accepts applied to a few fixed frames.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fw_rules.h"

/* Ethernet/IPv4/UDP 10.0.0.1:1024 -> 10.0.0.2:9 and an IPv6/TCP frame. */
static const uint8_t udp4[] = {0x02, 0, 0,  0,	0, 2, 0x02, 0,	  0,	0,    0, 1, 0x08, 0x00,
			       0x45, 0, 0,  28, 0, 0, 0,    0,	  64,	17,   0, 0, 10,	  0,
			       0,    1, 10, 0,	0, 2, 0x04, 0x00, 0x00, 0x09, 0, 8, 0,	  0};
static const uint8_t tcp6[] = {
    0x02, 0, 0,	 0,    0, 2, 0x02, 0, 0, 0,    0,    1,	   0x86, 0xdd, 0x60, 0, 0, 0,  0,
    20,	  6, 64, 0xfd, 0, 0, 0,	   0, 0, 0,    0,    0,	   0,	 0,    0,    0, 0, 0,  1,
    0xfd, 0, 0,	 0,    0, 0, 0,	   0, 0, 0,    0,    0,	   0,	 0,    0,    2, 0, 80, 0x1f,
    0x90, 0, 0,	 0,    0, 0, 0,	   0, 0, 0x50, 0x02, 0xff, 0xff, 0,    0,    0, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_ruleset rs;
	char err[512];
	/* fw_rules_parse() takes a C string: stop at the first NUL. */
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (fw_rules_parse("fuzz.rules", text, &rs, err, sizeof(err)) == 0) {
		if (rs.n < 0 || (rs.n > 0 && !rs.rules))
			abort();
		fw_check(&rs, udp4, sizeof(udp4));
		fw_check(&rs, tcp6, sizeof(tcp6));
		fw_check(&rs, udp4, 20); /* cut in the IP header: malformed policy */
		fw_check(&rs, udp4, 12); /* not even Ethernet: default policy */
		uint64_t hits = rs.default_hits;
		for (int i = 0; i < rs.n; i++)
			hits += rs.rules[i].hits;
		/* With "malformed allow" a malformed frame is counted by reason
		 * and then decided by a rule or the default. */
		for (int k = 0; k < NETVM_MALFORMED_COUNT && !rs.malformed_allow; k++)
			hits += rs.malformed[k];
		if (hits != 4 || rs.malformed[NETVM_MALFORMED_BAD_IP] != 1 || rs.non_ip != 1)
			abort(); /* each frame is decided exactly once */
		static FILE *devnull;
		if (!devnull)
			devnull = fopen("/dev/null", "w");
		if (devnull)
			fw_rules_print(&rs, devnull);
		fw_rules_free(&rs);
	} else if (strncmp(err, "fuzz.rules", 10) != 0) {
		abort();
	}
	free(text);
	return 0;
}
