/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The manager: the control socket's connections (epoll), their limits,
 * reply queues and timeouts.  What a request does is commands.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/log.h"
#include "commands.h"
#include "netvmd.h"

#define TICK_MS	     100 /* how often cut-off NFs and timeouts are looked at */
#define ACCEPT_BATCH 64	 /* connections taken per wake-up: the others get turns */
#define MAX_EVENTS   64
#define FD_SLACK     32 /* fds beyond the connections: epoll, a spare, logs, ... */

/* A reply line the client has not read yet. */
struct reply {
	struct reply *next;
	size_t len; /* bytes in text, newline included */
	size_t off; /* bytes already sent */
	int fd;	    /* passed with the first byte, or -1.  Borrowed: it is a
		     * region's, and regions outlive every connection. */
	char text[];
};

struct client {
	struct client *prev, *next; /* manager.clients */
	struct netvm_ctl_conn conn;
	struct reply *out, *out_last; /* replies not sent yet, oldest first */
	size_t out_bytes;
	uint32_t events;    /* what epoll watches for now */
	bool closing;	    /* read no more; close once the replies are out */
	int64_t active_ms;  /* last request, or last reply bytes the client took */
	int64_t partial_ms; /* when the unfinished request in conn began, 0: none */
	struct peer peer;   /* who it is, for the commands */
};

struct manager {
	struct netvmd *d;
	int epfd, lfd, sfd;
	int spare_fd; /* closed to take a connection when out of fds (refuse_out_of_fds) */
	struct client *clients;
};

/* ---- connections ----------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "5 s" or "250 ms", for messages. */
static const char *duration(uint32_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%u ms", ms);
	else
		snprintf(buf, len, "%u s", ms / 1000);
	return buf;
}

/*
 * While replies wait, watch for room to write them and read no more
 * requests: a client that does not read its replies then costs nothing
 * more (idle_timeout ends it), and the manager's work for one client is
 * bounded by what one read brings in.
 */
static int watch(struct manager *m, struct client *c)
{
	uint32_t want = c->out ? EPOLLOUT : c->closing ? 0 : EPOLLIN;
	struct epoll_event ev = {.events = want, .data.ptr = c};

	if (want == c->events)
		return 0;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->conn.fd, &ev) < 0)
		return -errno;
	c->events = want;
	return 0;
}

/* One sendmsg() of what is left of @r, never waiting; its fd rides on the
 * first byte.  Bytes sent or -1 with errno. */
static ssize_t send_reply(int fd, const struct reply *r)
{
	union netvm_ctl_fdbuf u;
	struct iovec iov = {(char *)r->text + r->off, r->len - r->off};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (r->off == 0 && r->fd >= 0)
		netvm_ctl_put_fd(&msg, &u, r->fd);
	return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Send queued replies until none is left or the socket is full.  False when
 * the connection must go: broken, or closing and done. */
static bool client_flush(struct manager *m, struct client *c, int64_t now)
{
	while (c->out) {
		struct reply *r = c->out;
		ssize_t n = send_reply(c->conn.fd, r);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* EPOLLOUT tells when there is room */
		if (n < 0)
			return false;
		r->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		c->active_ms = now;
		if (r->off < r->len)
			continue;
		c->out = r->next;
		if (!c->out)
			c->out_last = NULL;
		free(r);
	}
	if (c->closing && !c->out)
		return false;
	return watch(m, c) == 0;
}

/* Queue @rep (stolen) with @fd.  One reply always fits, however long (a
 * status of many NFs is); -ENOBUFS when the client left too much unread. */
static int reply_queue(struct manager *m, struct client *c, json_t *rep, int fd)
{
	char *text = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
	struct reply *r = NULL;
	size_t len;
	int ret = -ENOMEM;

	json_decref(rep);
	if (!text)
		goto out;
	len = strlen(text) + 1;
	ret = -ENOBUFS;
	if (c->out && c->out_bytes + len > m->d->cfg.ctl.queue_limit)
		goto out;
	ret = -ENOMEM;
	if (!(r = malloc(sizeof(*r) + len)))
		goto out;
	*r = (struct reply){.len = len, .fd = fd}; /* before the text: padding */
	memcpy(r->text, text, len - 1);
	r->text[len - 1] = '\n';
	if (c->out_last)
		c->out_last->next = r;
	else
		c->out = r;
	c->out_last = r;
	c->out_bytes += len;
	ret = 0;
out:
	free(text);
	return ret;
}

/* Answer: queue the reply and send what the socket takes now.  False when
 * the connection must go (it let too many replies pile up, or broke). */
static bool client_reply(struct manager *m, struct client *c, json_t *rep, int fd, int64_t now)
{
	int ret = reply_queue(m, c, rep, fd);

	if (ret == -ENOBUFS) {
		m->d->mgr.ctl.overflowed++;
		LOG_WARN_RL("manager",
			    "pid %d uid %u left more than %u bytes of replies unread: "
			    "disconnected",
			    (int)c->peer.pid, (unsigned)c->peer.uid, m->d->cfg.ctl.queue_limit);
	}
	if (ret < 0)
		return false;
	/* While EPOLLOUT is armed the socket was full: it will say when not. */
	return (c->events & EPOLLOUT) || client_flush(m, c, now);
}

static void client_close(struct manager *m, struct client *c)
{
	struct netvmd *d = m->d;

	peer_gone(d, &c->peer);
	/* Explicitly: a VM NF's wake_fd is a dup, which would keep the
	 * registration (and this freed client) alive in epoll. */
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->conn.fd, NULL);
	close(c->conn.fd);
	netvm_ctl_conn_free(&c->conn);
	while (c->out) {
		struct reply *r = c->out;
		c->out = r->next;
		free(r);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		m->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->mgr.ctl.connections--;
	free(c);
}

/* Read what the client sent and answer every complete request.  False when
 * the connection must go. */
static bool client_input(struct manager *m, struct client *c, int64_t now)
{
	int n = netvm_ctl_fill(&c->conn), fd, ret;
	bool lines = false;
	json_t *req;

	if (n == -EAGAIN || n == -EINTR)
		return true;
	if (n == -EMSGSIZE) {
		/* No way to find the next message: say so, then close. */
		c->closing = true;
		return client_reply(
		    m, c, error_reply(EMSGSIZE, "message longer than %d bytes", NETVM_CTL_MAX_MSG),
		    -1, now);
	}
	if (n == 0 && c->out && c->peer.slot < 0) {
		c->closing = true; /* it shut down its side: it may still read */
		return client_flush(m, c, now);
	}
	if (n <= 0)
		return false;
	while ((ret = netvm_ctl_next(&c->conn, &req, &fd)) != 0) {
		int pass_fd = -1;
		lines = true;
		if (fd >= 0)
			close(fd); /* clients have no reason to send us fds */
		if (ret == 1 && command_event(m->d, &c->peer, req)) {
			json_decref(req);
			continue;
		}
		json_t *rep = ret < 0 ? error_reply(EBADMSG, "request is not a JSON object")
				      : command_run(m->d, &c->peer, req, &pass_fd);
		json_decref(req);
		if (!client_reply(m, c, rep, pass_fd, now))
			return false;
	}
	/* A request's clock starts at its first byte; a finished line restarts it. */
	if (lines)
		c->active_ms = now;
	if (!c->conn.len)
		c->partial_ms = 0;
	else if (lines || !c->partial_ms)
		c->partial_ms = now;
	return true;
}

/* What epoll reported for @c.  False if the connection is gone. */
static bool client_event(struct manager *m, struct client *c, uint32_t events, int64_t now)
{
	bool keep = true;

	if (events & EPOLLOUT)
		keep = client_flush(m, c, now);
	if (keep && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		keep = c->closing ? client_flush(m, c, now) : client_input(m, c, now);
	if (!keep)
		client_close(m, c);
	return keep;
}

/* Close @c for taking too long, telling it why if its socket has room. */
static void timed_out(struct manager *m, struct client *c, int64_t now, const char *why)
{
	m->d->mgr.ctl.timed_out++;
	LOG_WARN_RL("manager", "pid %d uid %u: %s: closing the connection", (int)c->peer.pid,
		    (unsigned)c->peer.uid, why);
	if (!c->out) /* else it is not reading anyway */
		client_reply(m, c, error_reply(ETIMEDOUT, "%s: closing", why), -1, now);
	client_close(m, c);
}

/* Every TICK_MS: NFs the switch wants cut off, and connections past their
 * time.  An attached NF's connection never times out, nor does a VM's
 * channel: its guest may take long to boot (netvmctl vm start bounds that). */
static void tick(struct manager *m, int64_t now)
{
	const struct cfg_control *ctl = &m->d->cfg.ctl;
	struct client *c, *next;
	char why[64], t[32];

	for (c = m->clients; c; c = next) {
		next = c->next;
		if (c->peer.slot >= 0) {
			if (atomic_load(&m->d->slots[c->peer.slot].cut)) {
				LOG_WARN("manager", "NF instance %d cut off (bad descriptors)",
					 m->d->slots[c->peer.slot].instance);
				client_close(m, c);
			}
			continue;
		}
		if (c->peer.bound_svc >= 0)
			continue;
		if (ctl->request_timeout_ms && c->partial_ms &&
		    now - c->partial_ms >= ctl->request_timeout_ms) {
			snprintf(why, sizeof(why), "request not complete within %s",
				 duration(ctl->request_timeout_ms, t, sizeof(t)));
			timed_out(m, c, now, why);
		} else if (ctl->idle_timeout_ms && now - c->active_ms >= ctl->idle_timeout_ms) {
			snprintf(why, sizeof(why), "idle for %s",
				 duration(ctl->idle_timeout_ms, t, sizeof(t)));
			timed_out(m, c, now, why);
		}
	}
}

/* Tell a newcomer why it cannot stay, without waiting: its socket buffer is
 * empty, so the line fits. */
static void refuse(struct manager *m, int fd, const char *why)
{
	json_t *rep = error_reply(EAGAIN, "%s", why);
	char *text = rep ? json_dumps(rep, JSON_COMPACT) : NULL;

	m->d->mgr.ctl.refused++;
	LOG_WARN_RL("manager", "refused a connection: %s", why);
	if (text) {
		struct iovec iov[2] = {{text, strlen(text)}, {"\n", 1}};
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
		(void)!sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(text);
	json_decref(rep);
	close(fd);
}

/* Take the connection on @fd, or refuse it past the limits.  The last
 * admin_reserve connections are kept for those who may fix things, so a
 * user who fills the rest cannot lock the operator out. */
static struct client *client_new(struct manager *m, int fd, int64_t now)
{
	struct netvmd *d = m->d;
	const struct cfg_control *ctl = &d->cfg.ctl;
	struct ucred cred = {.uid = (uid_t)-1, .gid = (gid_t)-1}; /* unknown peers are nobody */
	socklen_t len = sizeof(cred);
	struct client *c;
	char why[128];

	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	bool admin = peer_is_admin(d, fd, cred.uid, cred.gid);
	if (d->mgr.ctl.connections >= ctl->max_connections + (admin ? ctl->admin_reserve : 0)) {
		snprintf(why, sizeof(why), "too many control connections (limit %u%s)",
			 ctl->max_connections,
			 admin && ctl->admin_reserve ? ", and the reserve for admins is in use"
						     : "");
		refuse(m, fd, why);
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		goto fail;
	netvm_ctl_conn_init(&c->conn, fd);
	c->peer.fd = fd;
	c->peer.slot = -1;
	c->peer.bound_svc = -1;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.admin = admin;
	c->active_ms = now;
	c->events = EPOLLIN;
	struct epoll_event ev = {.events = c->events, .data.ptr = c};
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	c->next = m->clients;
	if (c->next)
		c->next->prev = c;
	m->clients = c;
	d->mgr.ctl.connections++;
	return c;
fail:
	LOG_WARN_RL("manager", "cannot take a connection: %s", strerror(errno));
	free(c);
	close(fd);
	return NULL;
}

/* Out of fds: a pending connection would keep the listening socket readable
 * and the loop spinning.  Give up the spare fd to take it and say why. */
static void refuse_out_of_fds(struct manager *m)
{
	int fd;

	if (m->spare_fd < 0)
		return;
	close(m->spare_fd);
	fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		refuse(m, fd, "netvmd has no file descriptor left for another connection");
	m->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_clients(struct manager *m, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			client_new(m, fd, now);
		else if (errno == EMFILE || errno == ENFILE)
			refuse_out_of_fds(m);
		else if (errno != EINTR && errno != ECONNABORTED)
			return; /* EAGAIN: none left */
	}
}

static unsigned open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!dir)
		return 64; /* a guess */
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

/* Enough fds for every connection the limits allow, on top of what is open
 * now and a VM NF's wake channel (a dup) per slot: raise the soft limit, up
 * to the hard one. */
static void raise_fd_limit(const struct netvmd *d)
{
	const struct cfg_control *ctl = &d->cfg.ctl;
	rlim_t need =
	    (rlim_t)open_fds() + ctl->max_connections + ctl->admin_reserve + d->nslots + FD_SLACK;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
		LOG_WARN("manager",
			 "RLIMIT_NOFILE allows %llu open files, the control socket's limits need "
			 "%llu: connections past that are refused",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static int listen_socket(const char *path, gid_t gid)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char dir[sizeof(a.sun_path)];
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		LOG_ERR("manager", "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750); /* /run/netvm by default; fine if it exists */
	}
	/* A stale socket from a daemon that died is in the way; a live one is not. */
	int probe = netvm_ctl_connect(path);
	if (probe >= 0) {
		close(probe);
		LOG_ERR("manager", "another netvmd is already listening on %s", path);
		return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0117); /* owner and group only */
	int ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	/* A group that may use the socket (NFs running as other users). */
	if (ret == 0 && gid &&
	    (chown(path, (uid_t)-1, gid) < 0 ||
	     (slash && slash != dir && chown(dir, (uid_t)-1, gid) < 0))) {
		LOG_ERR("manager", "cannot give %s to group %u: %s", path, (unsigned)gid,
			strerror(errno));
		ret = -1;
	}
	if (ret < 0 || listen(fd, SOMAXCONN) < 0) {
		ret = -errno;
		LOG_ERR("manager", "cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/* Undo manager_open(), also a partial one. */
static void manager_close(struct manager *m)
{
	while (m->clients)
		client_close(m, m->clients);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->sfd >= 0)
		close(m->sfd);
	if (m->spare_fd >= 0)
		close(m->spare_fd);
	if (m->lfd >= 0) {
		close(m->lfd);
		unlink(m->d->cfg.socket);
	}
}

static int epoll_add(struct manager *m, int fd, void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int manager_open(struct manager *m)
{
	const struct cfg_control *ctl = &m->d->cfg.ctl;
	sigset_t mask;
	int ret;

	raise_fd_limit(m->d);
	m->lfd = listen_socket(m->d->cfg.socket, m->d->cfg.socket_gid);
	if (m->lfd < 0)
		return m->lfd;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	m->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (m->sfd < 0 || m->epfd < 0 || m->spare_fd < 0)
		return -errno;
	/* The fds' own addresses tag them: a client's tag is its struct. */
	if ((ret = epoll_add(m, m->sfd, &m->sfd)) < 0 || (ret = epoll_add(m, m->lfd, &m->lfd)) < 0)
		return ret;
	LOG_INFO("manager", "listening on %s (%u connections, %u more for admins)",
		 m->d->cfg.socket, ctl->max_connections, ctl->admin_reserve);
	return 0;
}

/* Handle what epoll reported.  False on SIGINT or SIGTERM. */
static bool serve(struct manager *m, const struct epoll_event *ev, int n, int64_t now)
{
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == &m->sfd) {
			struct signalfd_siginfo si;
			if (read(m->sfd, &si, sizeof(si)) == sizeof(si))
				LOG_INFO("manager", "signal %u: shutting down", si.ssi_signo);
			return false;
		}
		if (ev[i].data.ptr == &m->lfd)
			accept_clients(m, now);
		else
			client_event(m, ev[i].data.ptr, ev[i].events, now);
	}
	return true;
}

int manager_run(struct netvmd *d)
{
	struct manager m = {.d = d, .epfd = -1, .lfd = -1, .sfd = -1, .spare_fd = -1};
	struct epoll_event ev[MAX_EVENTS];
	int ret = manager_open(&m);
	int64_t next_tick = now_ms() + TICK_MS;

	while (ret == 0) {
		int64_t now = now_ms();
		/* Wake at least every TICK_MS to act on NFs the switch wants cut off. */
		int n = epoll_wait(m.epfd, ev, MAX_EVENTS,
				   next_tick > now ? (int)(next_tick - now) : 0);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		now = now_ms();
		if (!serve(&m, ev, n < 0 ? 0 : n, now))
			break;
		if (now >= next_tick) {
			tick(&m, now);
			next_tick = now + TICK_MS;
		}
	}
	manager_close(&m);
	return ret;
}
