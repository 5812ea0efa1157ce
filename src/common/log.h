/* SPDX-License-Identifier: BSD-3-Clause */
/* Levelled logging with a component prefix; the sink is replaceable. */
#ifndef NETVM_LOG_H
#define NETVM_LOG_H

#include <stdarg.h>
#include <time.h>

enum netvm_log_level { NETVM_LOG_ERR, NETVM_LOG_WARN, NETVM_LOG_INFO, NETVM_LOG_DEBUG };

typedef void (*netvm_log_fn)(enum netvm_log_level lvl, const char *component, const char *msg);

/* Messages above this level are discarded (default NETVM_LOG_INFO). */
void netvm_log_set_level(enum netvm_log_level lvl);
/* Replace the sink (default: stderr, "netvm[component] LEVEL: msg"). */
void netvm_log_set_fn(netvm_log_fn fn);

void netvm_log(enum netvm_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_ERR(comp, ...)   netvm_log(NETVM_LOG_ERR, comp, __VA_ARGS__)
#define LOG_WARN(comp, ...)  netvm_log(NETVM_LOG_WARN, comp, __VA_ARGS__)
#define LOG_INFO(comp, ...)  netvm_log(NETVM_LOG_INFO, comp, __VA_ARGS__)
#define LOG_DEBUG(comp, ...) netvm_log(NETVM_LOG_DEBUG, comp, __VA_ARGS__)

/* At most one message per second from this call site (for per-packet events). */
#define LOG_WARN_RL(comp, ...)                                                                     \
	do {                                                                                       \
		static time_t last_;                                                               \
		time_t now_ = time(NULL);                                                          \
		if (now_ != last_) {                                                               \
			last_ = now_;                                                              \
			netvm_log(NETVM_LOG_WARN, comp, __VA_ARGS__);                              \
		}                                                                                  \
	} while (0)

#endif
