/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Firewall rule sets for nf-firewall: parsing a rules file and checking
 * packets against it (first match wins).
 *
 * File format, one rule per line, '#' starts a comment, blank lines ignored:
 *
 *   allow proto=tcp dst=10.0.0.0/24 dport=80
 *   allow proto=tcp dport=443 output=1   # out of output 1 (a graph chain's branch)
 *   deny  src=192.168.0.0/16
 *   default deny            # policy when no rule matches (default: allow)
 *   malformed allow         # policy for malformed or evasive frames (default: deny)
 *
 * Keys are those of netvm_match_set() (src, dst, proto, sport, dport); a
 * missing key means "any", and each key may appear once per rule.
 *
 * Frames are decided as netvm_match_tuple() describes: non-IP frames get
 * the default policy; a rule that names ports never matches a frame without
 * a complete L4 header (so not a fragment after the first); a frame that is
 * malformed or evasive (enum netvm_malformed) and that no rule matches gets
 * the malformed policy.
 */
#ifndef NETVM_FW_RULES_H
#define NETVM_FW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netvm/match.h>

struct fw_rule {
	struct netvm_match match;
	bool allow;
	uint8_t output; /* allow ... output=N: out of output N of this hop (graph chains) */
	int line;	/* line of the rules file, for messages and the table */
	uint64_t hits;	/* packets this rule decided */
};

struct fw_ruleset {
	struct fw_rule *rules;
	int n;
	bool default_allow;    /* policy when no rule matches */
	bool malformed_allow;  /* policy for malformed/evasive frames no rule matches */
	uint64_t default_hits; /* packets decided by the default policy (includes non_ip) */
	uint64_t non_ip;       /* frames that are not IPv4/IPv6 */
	/* Frames decided by the malformed policy, by enum netvm_malformed reason. */
	uint64_t malformed[NETVM_MALFORMED_COUNT];
};

/*
 * Parse rules file @p path into @p rs (which need not be initialised).
 * @return 0, or -1 with "PATH:LINE: message" (or "PATH: strerror") in @p err;
 *         on error @p rs is left empty and needs no fw_rules_free().
 */
int fw_rules_load(const char *path, struct fw_ruleset *rs, char *err, size_t errlen);

/* As fw_rules_load() on the text itself; @p name prefixes error messages. */
int fw_rules_parse(const char *name, const char *text, struct fw_ruleset *rs, char *err,
		   size_t errlen);

/*
 * Decide a frame: @return true to allow.  A malformed or evasive frame is
 * counted in malformed[reason] and, by default, denied there, before any
 * rule; otherwise (and with "malformed allow") the hit is counted on the
 * deciding rule or in default_hits (non-IP frames in non_ip too).
 */
bool fw_check(struct fw_ruleset *rs, const uint8_t *pkt, uint32_t len);

/* The same decision with the output: -1 to deny, else the output an allowed
 * frame leaves by (its rule's output=N, 0 for the policies). */
int fw_verdict(struct fw_ruleset *rs, const uint8_t *pkt, uint32_t len);

/* Free the rules; @p rs is left empty (safe to call twice). */
void fw_rules_free(struct fw_ruleset *rs);

/* Print the per-rule counter table (rule#, line, action, hits, match), the
 * default and malformed policies' counts and the malformed ones by reason. */
void fw_rules_print(const struct fw_ruleset *rs, FILE *f);

#endif
