/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "log.h"

static enum netvm_log_level max_level = NETVM_LOG_INFO;
static netvm_log_fn sink;

void netvm_log_set_level(enum netvm_log_level lvl)
{
	max_level = lvl;
}

void netvm_log_set_fn(netvm_log_fn fn)
{
	sink = fn;
}

void netvm_log(enum netvm_log_level lvl, const char *component, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[1024];
	va_list ap;

	if (lvl > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sink)
		sink(lvl, component, msg);
	else
		fprintf(stderr, "netvm[%s] %s: %s\n", component, names[lvl], msg);
}
