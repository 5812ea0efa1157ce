/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the manager's connection loop (manager.c) and the commands
 * (commands.c, status.c) share: who is on a connection, and the calls that
 * answer a request.  Manager thread only.
 */
#ifndef NETVMD_COMMANDS_H
#define NETVMD_COMMANDS_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

struct netvmd;

/* Who is on a control connection, as the commands see it. */
struct peer {
	int fd;	       /* the connection (a VM NF's wake channel is a dup of it) */
	int slot;      /* NF slot this connection registered, or -1 */
	int bound_svc; /* a VM's channel: the only service it may attach as (vm_bind), or -1 */
	pid_t pid;     /* from SO_PEERCRED when it connected */
	uid_t uid;
	gid_t gid;
	bool admin; /* may change the configuration (peer_is_admin()) */
};

/* Root, netvmd's own user, or a member (primary or supplementary group) of
 * admin_group: the peer on @fd may change the configuration. */
bool peer_is_admin(const struct netvmd *d, int fd, uid_t uid, gid_t gid);

/* Answer request @req from @p (a JSON object with a string "cmd"), after
 * checking that @p may use it; the reply (the caller decrefs), and in
 * *pass_fd an fd to pass with it (or -1). */
json_t *command_run(struct netvmd *d, struct peer *p, json_t *req, int *pass_fd);

/* An event ({"event": ...}, no reply): true if @req is one (handled). */
bool command_event(struct netvmd *d, struct peer *p, json_t *req);

/* @p's connection closed: its NF, if any, is gone. */
void peer_gone(struct netvmd *d, struct peer *p);

/* {"ok": false, "error": "...", "errno": err} */
json_t *error_reply(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* status.c: the status reply. */
json_t *status_json(struct netvmd *d);

#endif
