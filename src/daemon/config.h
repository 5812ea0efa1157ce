/* SPDX-License-Identifier: BSD-3-Clause */
/* netvmd configuration: the YAML file, loaded with libyaml. */
#ifndef NETVMD_CONFIG_H
#define NETVMD_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <limits.h>
#include <sys/types.h>

#include <netvm/region.h>
#include <netvm/match.h>

enum cfg_hugepages { CFG_HUGE_AUTO = 0, CFG_HUGE_YES, CFG_HUGE_NO };

/* A port: what the daemon itself needs.  Its backend's options (ifname,
 * rate, read, ...) are parsed by the backend when the file is loaded
 * (port_parse() in src/ports/port.c) into conf. */
struct cfg_port {
	char name[NETVM_NAME_MAX];
	char type[16];		     /* a backend's type ("gen", "pcap", "tap", ...) */
	char output[NETVM_NAME_MAX]; /* port where chains end; "" = this port */
	bool paused;		     /* start with receiving paused (netvmctl port start) */
	int line;
	void *conf; /* the backend's parsed options (freed with free()) */
};

#define CFG_MAX_IDS 16 /* users or groups allowed per service */

struct cfg_service {
	char name[NETVM_NAME_MAX];
	int line;
	/* Security domain: "" is the shared trusted domain; any other name is
	 * a domain with a region of its own, reached only through copies. */
	char domain[NETVM_NAME_MAX];
	/* Who may attach (SO_PEERCRED): a uid in users or a primary gid in
	 * groups.  Neither given: root and the daemon's own user. */
	int nusers, ngroups;
	uid_t users[CFG_MAX_IDS];
	gid_t groups[CFG_MAX_IDS];
	/* Cut the NF off after this many invalid descriptors (0: never). */
	uint64_t bad_desc_limit;
};

/* A link of a graph chain: output @out of hop @from goes to @to. */
struct cfg_link {
	char from[NETVM_NAME_MAX]; /* a hop's service */
	unsigned out;
	char to[NETVM_NAME_MAX + 8]; /* a hop's service, "out", "drop" or "port:NAME" */
	int line;
};

struct cfg_chain {
	char name[NETVM_NAME_MAX];
	int line;
	int nhops;
	char (*hops)[NETVM_NAME_MAX]; /* service names */
	int nlinks;
	struct cfg_link *links; /* checked against the hops when netvmd starts */
};

struct cfg_rule {
	struct netvm_match match;
	char chain[NETVM_NAME_MAX];
	int line;
};

/* The control socket's limits (docs/security.md, "Control socket limits"). */
struct cfg_control {
	uint32_t max_connections;    /* connections at once; default max_nfs + 64 */
	uint32_t admin_reserve;	     /* more, for root and admin peers only; default 8 */
	uint32_t idle_timeout_ms;    /* close a connection that is not an NF after this
				      * long without a request; 0 = never */
	uint32_t request_timeout_ms; /* a request must be complete this long after its
				      * first byte arrived; 0 = never */
	uint32_t queue_limit;	     /* bytes of replies a client may leave unread */
};

struct netvm_config {
	char path[PATH_MAX];   /* file it came from */
	char socket[PATH_MAX]; /* control socket, default NETVM_DEFAULT_SOCKET */
	gid_t socket_gid;      /* socket_group: the group that may connect (0: root only) */
	/* admin_group: its members (primary or supplementary group), root and
	 * netvmd's own user may change the configuration over the socket. */
	char admin_group[64]; /* as written, for messages; "" = none */
	gid_t admin_gid;
	bool status_admin; /* status_access: admin (else anyone who can connect) */
	struct cfg_control ctl;
	uint32_t nbufs;		      /* pool.buffers, default 16384 */
	uint32_t buf_size;	      /* pool.buffer_size, default 2048 */
	uint32_t headroom;	      /* pool.headroom, default 128 */
	uint32_t ring_size;	      /* ring_size, default 1024, power of two */
	uint32_t max_nfs;	      /* max_nfs, default 16 */
	enum cfg_hugepages hugepages; /* pool.hugepages: auto | yes | no */
	int switch_core;	      /* cores.switch, -1 = not pinned */
	bool switch_poll;	      /* switch_idle: poll (never sleep) */
	bool switch_nap;	      /* switch_idle: nap (no deep sleep while ports are live);
				       * neither: adaptive (the default) */
	bool backpressure;    /* a full NF ring holds packets back instead of dropping them */
	uint32_t nf_stall_ms; /* an NF whose ring stays full this long is stalled (0: never) */
	/* malformed: pass -- malformed or evasive frames no flow rule matches take
	 * the default chain instead of being dropped (drops.malformed) */
	bool malformed_pass;
	char default_chain[NETVM_NAME_MAX]; /* chains.default... name of the default chain */
	int nports, nservices, nchains, nrules;
	struct cfg_port *ports;
	struct cfg_service *services;
	struct cfg_chain *chains;
	struct cfg_rule *rules;
};

/**
 * Load and validate @p path.  Names are checked for uniqueness and every
 * reference (chain hop -> service, rule -> chain, output -> port) must
 * resolve.
 * @return 0, or -1 with "file:line: what is wrong" in @p err.
 */
int netvm_config_load(const char *path, struct netvm_config *cfg, char *err, size_t errlen);

/** Same, from a string (for tests and fuzzing); @p name is used in errors. */
int netvm_config_parse(const char *name, const char *text, size_t len, struct netvm_config *cfg,
		       char *err, size_t errlen);

void netvm_config_free(struct netvm_config *cfg);

#endif
