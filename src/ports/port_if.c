/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the backends that sit on a Linux interface. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "port.h"

int port_if_index(const struct netvm_port *port, const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (!idx) {
		int e = errno;

		LOG_ERR("port", "port '%s': no interface '%s': %s", port->name, ifname,
			strerror(e));
		return -e;
	}
	return (int)idx;
}

int port_if_up(const struct netvm_port *port, const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	if (rc < 0)
		LOG_ERR("port", "port '%s': cannot bring '%s' up: %s", port->name, ifname,
			strerror(-rc));
	close(fd);
	return rc;
}
