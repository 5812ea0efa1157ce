/* SPDX-License-Identifier: BSD-3-Clause */
/* Port layer: backend lookup and the open/close common to every backend. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "port.h"
#include "ports/port_backends.h"

/* Every backend of this build, in the order src/ports/meson.build lists them. */
static const struct port_ops *const backends[] = {PORT_BACKENDS};

#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

const struct port_ops *port_ops_find(const char *type)
{
	for (size_t i = 0; i < N_BACKENDS; i++)
		if (strcmp(backends[i]->type, type) == 0)
			return backends[i];
	return NULL;
}

void port_types(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_BACKENDS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 backends[i]->type);
}

void *port_parse(struct port_args *a)
{
	const struct port_ops *ops = port_ops_find(a->type);
	char known[128];

	a->used = 0;
	a->bad = -1;
	if (!ops) {
		port_types(known, sizeof(known));
		port_args_fail(a, NULL, "unknown type '%s' (known: %s)", a->type, known);
		return NULL;
	}
	return ops->parse(a);
}

int port_open(struct netvm_port *port, uint16_t id, const char *name, const struct port_ops *ops,
	      const void *conf, struct netvm_pool *pool)
{
	int rc;

	memset(port, 0, sizeof(*port));
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->id = id;
	port->out_id = id; /* the daemon sets the real one from the output */
	port->pool = pool;
	port->wait_fd = -1;
	port->region = pool->region;
	port->ops = ops;
	rc = ops->open(port, conf);
	if (rc < 0) {
		/* Leave the port closed so port_close() is a no-op. */
		port->ops = NULL;
		port->priv = NULL;
		return rc;
	}
	return 0;
}

void port_close(struct netvm_port *port)
{
	if (port->ops && port->ops->close)
		port->ops->close(port);
	port->ops = NULL;
	port->priv = NULL;
}
