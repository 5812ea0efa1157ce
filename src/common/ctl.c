/* SPDX-License-Identifier: BSD-3-Clause */
/* Control protocol framing: JSON lines, with an optional fd by SCM_RIGHTS. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netvm/region.h>
#include "ctl.h"

/* First allocation, and what an emptied buffer shrinks back to: requests
 * are short, and thousands of idle connections must cost little. */
#define CTL_BUF_MIN 1024

void netvm_ctl_conn_init(struct netvm_ctl_conn *c, int fd)
{
	*c = (struct netvm_ctl_conn){.fd = fd, .passed_fd = -1, .max = NETVM_CTL_MAX_MSG};
}

void netvm_ctl_conn_free(struct netvm_ctl_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
}

/* Room to read into: a full buffer doubles, up to c->max bytes. */
static int conn_room(struct netvm_ctl_conn *c)
{
	size_t cap;
	char *b;

	if (c->len < c->cap)
		return 0;
	cap = c->cap ? 2 * c->cap : CTL_BUF_MIN;
	if (cap > c->max)
		cap = c->max;
	b = realloc(c->buf, cap);
	if (!b)
		return -ENOMEM;
	c->buf = b;
	c->cap = cap;
	return 0;
}

int netvm_ctl_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

void netvm_ctl_put_fd(struct msghdr *m, union netvm_ctl_fdbuf *u, int fd)
{
	struct cmsghdr *c;

	memset(u, 0, sizeof(*u));
	m->msg_control = u->buf;
	m->msg_controllen = sizeof(u->buf);
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

int netvm_ctl_send(int fd, json_t *msg, int pass_fd)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	union netvm_ctl_fdbuf u;
	struct iovec iov[2];
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	size_t len, sent = 0;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	iov[0] = (struct iovec){text, len};
	iov[1] = (struct iovec){"\n", 1};
	if (pass_fd >= 0)
		netvm_ctl_put_fd(&m, &u, pass_fd);
	while (sent < len + 1) {
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		/* A virtio-serial port in a guest is not a socket (and passes no fds). */
		if (n < 0 && errno == ENOTSOCK && pass_fd < 0)
			n = writev(fd, m.msg_iov, (int)m.msg_iovlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		sent += (size_t)n;
		/* Rest of a short write: plain bytes, the fd went with the first part. */
		m.msg_control = NULL;
		m.msg_controllen = 0;
		while (m.msg_iovlen && (size_t)n >= m.msg_iov[0].iov_len) {
			n -= (ssize_t)m.msg_iov[0].iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + n;
			m.msg_iov[0].iov_len -= (size_t)n;
		}
	}
	free(text);
	return ret;
}

int netvm_ctl_fill(struct netvm_ctl_conn *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	int ret;

	if (c->len >= c->max)
		return -EMSGSIZE;
	if ((ret = conn_room(c)) < 0)
		return ret;
	iov.iov_base = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	do {
		n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == ENOTSOCK) { /* a virtio-serial port */
			m.msg_controllen = 0;
			n = read(c->fd, iov.iov_base, iov.iov_len);
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		int nfds = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd); /* one fd per message; extras are not ours to keep */
		}
	}
	c->len += (size_t)n;
	if (n > 0 && c->len >= c->max && !memchr(c->buf, '\n', c->len))
		return -EMSGSIZE;
	return (int)n;
}

int netvm_ctl_next(struct netvm_ctl_conn *c, json_t **out, int *fd_out)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	size_t line;
	json_t *j;

	*out = NULL;
	if (fd_out)
		*fd_out = -1;
	if (!nl)
		return 0;
	line = (size_t)(nl - c->buf);
	j = json_loadb(c->buf, line, JSON_REJECT_DUPLICATES, NULL);
	memmove(c->buf, nl + 1, c->len - line - 1);
	c->len -= line + 1;
	if (c->len == 0 && c->cap > CTL_BUF_MIN) { /* a long line is done: give it back */
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	if (fd_out) {
		*fd_out = c->passed_fd;
		c->passed_fd = -1;
	}
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	*out = j;
	return 1;
}

json_t *netvm_ctl_call(struct netvm_ctl_conn *c, json_t *req, int *fd_out)
{
	json_t *rep = NULL;
	int ret = netvm_ctl_send(c->fd, req, -1);

	json_decref(req);
	/* Refused: the daemon wrote why and closed before our request went. */
	if (ret < 0 && ret != -EPIPE && ret != -ECONNRESET) {
		errno = -ret;
		return NULL;
	}
	for (;;) {
		ret = netvm_ctl_next(c, &rep, fd_out);
		if (ret == 1 && json_object_get(rep, "event")) {
			json_decref(rep); /* a VM NF's wake: not the reply */
			continue;
		}
		if (ret == 1)
			return rep;
		if (ret < 0) {
			errno = EPROTO;
			return NULL;
		}
		ret = netvm_ctl_fill(c);
		if (ret == 0) {
			errno = ECONNRESET;
			return NULL;
		}
		if (ret < 0) {
			errno = -ret;
			return NULL;
		}
	}
}

/* The layout fields a peer needs, in one list for both directions. */
#define LAYOUT_FIELDS(X)                                                                           \
	X(total_size)                                                                              \
	X(seg_shift)                                                                               \
	X(domain)                                                                                  \
	X(dir_off) X(n_services) X(n_ports) X(ring_off) X(ring_size) X(ring_stride) X(nf_slots)    \
	    X(buf_shift) X(buf_off) X(nbufs) X(headroom) X(bell_off) X(region_id) X(counters_off)

json_t *netvm_ctl_layout_pack(const struct netvm_region *r)
{
	json_t *lay = json_object(), *svc = json_array(), *port = json_array();

#define PACK(f) json_object_set_new(lay, #f, json_integer((json_int_t)r->layout.f));
	LAYOUT_FIELDS(PACK)
#undef PACK
	for (uint32_t i = 0; i < r->layout.n_services; i++)
		json_array_append_new(svc, json_string(netvm_region_service_name(r, i)));
	for (uint32_t i = 0; i < r->layout.n_ports; i++)
		json_array_append_new(port, json_string(netvm_region_port_name(r, i)));
	return json_pack("{s:o, s:o, s:o}", "layout", lay, "services", svc, "ports", port);
}

static int unpack_u64(json_t *lay, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(lay, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EPROTO;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int netvm_ctl_layout_unpack(json_t *rep, struct netvm_region_hdr *h, char ***names)
{
	json_t *lay = json_object_get(rep, "layout"), *svc = json_object_get(rep, "services"),
	       *port = json_object_get(rep, "ports"), *v;
	uint64_t x;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->magic = NETVM_REGION_MAGIC;
	h->abi = NETVM_ABI_VERSION;
	h->hdr_size = sizeof(*h);
#define UNPACK(f)                                                                                  \
	if (unpack_u64(lay, #f, &x) || x != (__typeof__(h->f))x)                                   \
		return -EPROTO;                                                                    \
	h->f = (__typeof__(h->f))x;
	LAYOUT_FIELDS(UNPACK)
#undef UNPACK
	if (!json_is_array(svc) || !json_is_array(port) || json_array_size(svc) != h->n_services ||
	    json_array_size(port) != h->n_ports)
		return -EPROTO;
	*names = calloc((size_t)h->n_services + h->n_ports + 1, sizeof(char *));
	if (!*names)
		return -ENOMEM;
	json_array_foreach(svc, i, v)(*names)[i] = strdup(json_string_value(v) ?: "");
	json_array_foreach(port, i, v)(*names)[h->n_services + i] =
	    strdup(json_string_value(v) ?: "");
	size_t n = (size_t)h->n_services + h->n_ports;
	for (i = 0; i < n && (*names)[i]; i++)
		;
	if (i < n) { /* out of memory: the array has holes */
		for (i = 0; i < n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		return -ENOMEM;
	}
	return 0;
}

void netvm_ctl_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}
