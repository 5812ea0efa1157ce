/* SPDX-License-Identifier: BSD-3-Clause */
/* What netvmctl's command files share (netvmctl.c, netvmctl_vm.c). */
#ifndef NETVMCTL_H
#define NETVMCTL_H

#include <jansson.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

extern const char *sock_path;

__attribute__((format(printf, 1, 2), noreturn)) void usage_error(const char *fmt, ...);
__attribute__((format(printf, 2, 3), noreturn)) void die(int code, const char *fmt, ...);

/* Send @req (stolen); the reply when ok:true (else exit 1).  An fd passed
 * with the reply goes to *fd_out when given, else it is closed. */
json_t *ctl_request_fd(json_t *req, int *fd_out);

/* netvmctl_vm.c: "vm start ..." and "vm help" (argv[0] is "start"/"help"). */
int cmd_vm_start(int argc, char **argv);
int cmd_vm_help(int argc, char **argv);

/* kvm_probe.c: why KVM cannot run a guest here (it tries one), or NULL. */
const char *kvm_unusable(void);

#endif
