/* SPDX-License-Identifier: BSD-3-Clause */
/* Firewall rule parsing and checking; see fw_rules.h for the file format. */
#include "fw_rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <netvm/desc.h>
#include <netvm/packet.h>

#define WS " \t\r\v\f"

static const char *const keys[] = {"src", "dst", "proto", "sport", "dport"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

__attribute__((format(printf, 5, 6))) static int fail(char *err, size_t errlen, const char *name,
						      int line, const char *fmt, ...)
{
	if (!err || !errlen)
		return -1;
	int n = snprintf(err, errlen, "%s:%d: ", name, line);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int key_index(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(key, keys[i]))
			return (int)i;
	return -1;
}

/* Parse the key=value tokens after the action; @p save continues strtok_r. */
static int parse_fields(struct fw_rule *r, char **save, const char *name, int line, char *err,
			size_t errlen)
{
	unsigned seen = 0;
	char *tok;

	netvm_match_any(&r->match);
	while ((tok = strtok_r(NULL, WS, save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return fail(err, errlen, name, line, "'%s': expected key=value", tok);
		*eq = '\0';
		if (!strcmp(tok, "output")) { /* not a match: where an allowed packet goes */
			char *end;
			unsigned long v = strtoul(eq + 1, &end, 10);
			if (!r->allow)
				return fail(err, errlen, name, line,
					    "output= goes with allow only");
			if (!eq[1] || *end || v >= NETVM_MAX_OUTPUTS)
				return fail(err, errlen, name, line,
					    "output must be 0..%d, got '%s'", NETVM_MAX_OUTPUTS - 1,
					    eq + 1);
			r->output = (uint8_t)v;
			continue;
		}
		/* Only known keys are checked here; netvm_match_set names unknown ones. */
		int k = key_index(tok);
		if (k >= 0 && (seen & (1u << k)))
			return fail(err, errlen, name, line, "duplicate key '%s'", tok);
		if (k >= 0)
			seen |= 1u << k;
		char msg[256] = "";
		if (netvm_match_set(&r->match, tok, eq + 1, msg, sizeof(msg)) < 0)
			return fail(err, errlen, name, line, "%s", msg[0] ? msg : "invalid field");
	}
	return 0;
}

/* "default allow|deny" or "malformed allow|deny": the policy's word after @p what. */
static int parse_policy(const char *what, bool *allow, bool *seen, char **save, const char *name,
			int line, char *err, size_t errlen)
{
	char *pol = strtok_r(NULL, WS, save);
	char *extra = pol ? strtok_r(NULL, WS, save) : NULL;

	if (*seen)
		return fail(err, errlen, name, line, "bad %s: policy already set", what);
	if (!pol || extra || (strcmp(pol, "allow") && strcmp(pol, "deny")))
		return fail(err, errlen, name, line, "bad %s: expected '%s allow' or '%s deny'",
			    what, what, what);
	*seen = true;
	*allow = !strcmp(pol, "allow");
	return 0;
}

/* Which policies a rules file has set (each at most once). */
struct seen_policies {
	bool def, malformed;
};

/* Parse one line (modified in place) into @p rs. */
static int parse_line(struct fw_ruleset *rs, char *s, int line, struct seen_policies *seen,
		      int *cap, const char *name, char *err, size_t errlen)
{
	char *hash = strchr(s, '#');
	if (hash)
		*hash = '\0';

	char *save = NULL;
	char *act = strtok_r(s, WS, &save);
	if (!act)
		return 0; /* blank or comment-only */

	if (!strcmp(act, "default"))
		return parse_policy("default", &rs->default_allow, &seen->def, &save, name, line,
				    err, errlen);
	if (!strcmp(act, "malformed"))
		return parse_policy("malformed", &rs->malformed_allow, &seen->malformed, &save,
				    name, line, err, errlen);

	bool allow;
	if (!strcmp(act, "allow"))
		allow = true;
	else if (!strcmp(act, "deny"))
		allow = false;
	else
		return fail(err, errlen, name, line,
			    "unknown action '%s' (expected allow, deny, default or malformed)",
			    act);

	if (rs->n == *cap) {
		int ncap = *cap ? *cap * 2 : 16;
		struct fw_rule *nr = realloc(rs->rules, (size_t)ncap * sizeof(*nr));
		if (!nr)
			return fail(err, errlen, name, line, "out of memory");
		rs->rules = nr;
		*cap = ncap;
	}
	struct fw_rule *r = &rs->rules[rs->n];
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	r->line = line;
	if (parse_fields(r, &save, name, line, err, errlen) < 0)
		return -1;
	rs->n++;
	return 0;
}

int fw_rules_parse(const char *name, const char *text, struct fw_ruleset *rs, char *err,
		   size_t errlen)
{
	memset(rs, 0, sizeof(*rs));
	rs->default_allow = true;
	if (err && errlen)
		err[0] = '\0';

	/* One private copy, split into lines in place: no line-length limit. */
	char *buf = strdup(text);
	if (!buf)
		return fail(err, errlen, name, 0, "out of memory");

	struct seen_policies seen = {0};
	int cap = 0, line = 0, rc = 0;
	char *p = buf;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		rc = parse_line(rs, p, line, &seen, &cap, name, err, errlen);
		if (rc < 0)
			break;
		p = nl ? nl + 1 : NULL;
	}
	free(buf);
	if (rc < 0)
		fw_rules_free(rs);
	return rc;
}

int fw_rules_load(const char *path, struct fw_ruleset *rs, char *err, size_t errlen)
{
	memset(rs, 0, sizeof(*rs));
	rs->default_allow = true;

	FILE *f = fopen(path, "r");
	if (!f)
		goto io_err;

	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	int e = text ? 0 : ENOMEM;
	while (!e) {
		errno = 0;
		len += fread(text + len, 1, cap - len - 1, f);
		if (ferror(f)) {
			e = errno ? errno : EIO; /* e.g. EISDIR */
			break;
		}
		if (len < cap - 1)
			break;
		char *nt = realloc(text, cap * 2);
		if (!nt) {
			e = ENOMEM;
			break;
		}
		text = nt;
		cap *= 2;
	}
	if (e) {
		free(text);
		fclose(f);
		errno = e;
		goto io_err;
	}
	fclose(f);
	text[len] = '\0';
	/* An embedded NUL would silently truncate the rules: refuse it. */
	if (strlen(text) != len) {
		int line = 1;
		for (const char *c = text; *c; c++)
			line += *c == '\n';
		free(text);
		return fail(err, errlen, path, line, "NUL byte in rules file");
	}
	int rc = fw_rules_parse(path, text, rs, err, errlen);
	free(text);
	return rc;

io_err:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

int fw_verdict(struct fw_ruleset *rs, const uint8_t *pkt, uint32_t len)
{
	struct netvm_5tuple t;

	if (netvm_match_tuple(pkt, len, &t) < 0) {
		rs->non_ip++;
		rs->default_hits++;
		return rs->default_allow ? 0 : -1;
	}
	/* Before any rule: an allow rule without ports must not let a tiny
	 * fragment through either (RFC 1858, 3128, 7112). */
	if (t.malformed) {
		rs->malformed[t.malformed]++;
		if (!rs->malformed_allow)
			return -1;
	}
	for (int i = 0; i < rs->n; i++) {
		struct fw_rule *r = &rs->rules[i];
		if (netvm_match_test(&r->match, &t)) {
			r->hits++;
			return r->allow ? r->output : -1;
		}
	}
	rs->default_hits++;
	return rs->default_allow ? 0 : -1;
}

bool fw_check(struct fw_ruleset *rs, const uint8_t *pkt, uint32_t len)
{
	return fw_verdict(rs, pkt, len) >= 0;
}

void fw_rules_free(struct fw_ruleset *rs)
{
	free(rs->rules);
	rs->rules = NULL;
	rs->n = 0;
}

/* A rule's match, and its output when it has one, for the table. */
static void rule_text(const struct fw_rule *r, char *text, size_t len)
{
	netvm_match_format(&r->match, text, len);
	if (r->output)
		snprintf(text + strlen(text), len - strlen(text), " output=%u", r->output);
}

void fw_rules_print(const struct fw_ruleset *rs, FILE *f)
{
	char text[256];
	int w = (int)strlen("match");

	/* Size the match column to its widest entry so the hits line up. */
	for (int i = 0; i < rs->n; i++) {
		rule_text(&rs->rules[i], text, sizeof(text));
		int l = (int)strlen(text);
		if (l > w)
			w = l;
	}
	fprintf(f, "%5s %5s %-6s %-*s %12s\n", "rule", "line", "action", w, "match", "hits");
	for (int i = 0; i < rs->n; i++) {
		const struct fw_rule *r = &rs->rules[i];
		rule_text(r, text, sizeof(text));
		fprintf(f, "%5d %5d %-6s %-*s %12" PRIu64 "\n", i + 1, r->line,
			r->allow ? "allow" : "deny", w, text, r->hits);
	}
	fprintf(f, "%5s %5s %-6s %-*s %12" PRIu64 "\n", "-", "-",
		rs->default_allow ? "allow" : "deny", w, "default", rs->default_hits);
	uint64_t malformed = 0;
	for (int k = 1; k < NETVM_MALFORMED_COUNT; k++)
		malformed += rs->malformed[k];
	fprintf(f, "%5s %5s %-6s %-*s %12" PRIu64 "\n", "-", "-",
		rs->malformed_allow ? "allow" : "deny", w, "malformed", malformed);
	fprintf(f, "non-IP frames (default policy, included above): %" PRIu64 "\n", rs->non_ip);
	fprintf(f, "malformed or evasive frames by reason:");
	for (int k = 1; k < NETVM_MALFORMED_COUNT; k++)
		fprintf(f, "%s %s %" PRIu64, k > 1 ? "," : "", netvm_malformed_name((unsigned)k),
			rs->malformed[k]);
	fprintf(f, "\n");
	fflush(f);
}
