/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control protocol framing: one JSON object per line over a Unix stream
 * socket (or a virtio-serial port in a guest), optionally with one file
 * descriptor passed by SCM_RIGHTS on the same sendmsg().  The commands are
 * documented in docs/control-protocol.md.
 */
#ifndef NETVM_CTL_H
#define NETVM_CTL_H

#include <stddef.h>
#include <sys/socket.h>
#include <jansson.h>

/* Longest request accepted; a longer line is a protocol error. */
#define NETVM_CTL_MAX_MSG 65536
/* Longest reply a client accepts (set conn.max to it): status lists every
 * NF, about 150 bytes each, so 1024 NFs need more than a request may have. */
#define NETVM_CTL_MAX_REPLY (16 << 20)

/* A connection's receive buffer.  It is allocated when data arrives and
 * grows as a line needs it, so an idle connection costs no buffer. */
struct netvm_ctl_conn {
	int fd;
	int passed_fd; /* fd received with the buffered data, or -1 */
	size_t len;    /* bytes buffered in buf */
	size_t cap;    /* bytes allocated at buf */
	size_t max;    /* longest line accepted: NETVM_CTL_MAX_MSG unless raised */
	char *buf;
};

/* Set up @c for @fd (no allocation). */
void netvm_ctl_conn_init(struct netvm_ctl_conn *c, int fd);
/* Free the buffer and any fd received but not taken; the socket stays open. */
void netvm_ctl_conn_free(struct netvm_ctl_conn *c);

/* Connect to the control socket at @path.  Returns the fd or -errno. */
int netvm_ctl_connect(const char *path);

/* Room in a message's control data for one passed fd. */
union netvm_ctl_fdbuf {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int))];
};

/* Attach @fd to @m (SCM_RIGHTS), its control data in @u. */
void netvm_ctl_put_fd(struct msghdr *m, union netvm_ctl_fdbuf *u, int fd);

/* Send @msg as one line, with @pass_fd attached if >= 0.  0 or -errno. */
int netvm_ctl_send(int fd, json_t *msg, int pass_fd);

/*
 * Read from the socket into the connection buffer (one recvmsg; call when
 * the fd is readable or in blocking mode).  Returns bytes read, 0 at end of
 * stream, -EMSGSIZE when a line exceeds c->max, or -errno (-EAGAIN when a
 * non-blocking socket has nothing).
 */
int netvm_ctl_fill(struct netvm_ctl_conn *c);

/*
 * Take the next complete line out of the buffer and parse it.  Returns 1
 * with *out set (a JSON object; the caller decrefs), 0 if no complete line
 * is buffered, or -EBADMSG if the line is not a JSON object (the line is
 * consumed, so the caller may reply with an error and go on).
 * A passed fd, if any, is moved to *fd_out (else -1).
 */
int netvm_ctl_next(struct netvm_ctl_conn *c, json_t **out, int *fd_out);

struct netvm_region;
struct netvm_region_hdr;

/* The layout and names of region @r, for an attach reply: what the NF maps
 * instead of the region's header, which its peers may scribble on. */
json_t *netvm_ctl_layout_pack(const struct netvm_region *r);

/* The reverse, from the reply's "layout", "services" and "ports": fills @h
 * and *names (n_services + n_ports strings, freed with free()).  0, or
 * -EPROTO when a field is missing or out of range. */
int netvm_ctl_layout_unpack(json_t *rep, struct netvm_region_hdr *h, char ***names);
/* Free what netvm_ctl_layout_unpack() gave (a NULL-terminated array). */
void netvm_ctl_names_free(char **names);

/* Blocking request/reply: send @req (stolen), wait for one reply line.
 * Returns the reply (caller decrefs) or NULL with errno set.  A daemon that
 * closed the connection after saying why (too many connections, a timeout)
 * still has its say: that line is the reply. */
json_t *netvm_ctl_call(struct netvm_ctl_conn *c, json_t *req, int *fd_out);

#endif
