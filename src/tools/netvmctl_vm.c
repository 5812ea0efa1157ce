/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvmctl vm start: run an NF inside a QEMU guest (docs/vm-nfs.md).
 *
 * The daemon hands us the fd of the service's domain region (never another
 * domain's); QEMU inherits it and maps it as an ivshmem-plain PCI device
 * (memory-backend-file on /proc/self/fd/N, share=on), so guest and host
 * share the very same pages.  The guest's control channel is a
 * virtio-serial port on a connection to the daemon that is bound to the
 * service first (vm_bind): whatever runs in the guest may attach only as
 * that service.  The guest NF speaks the same protocol as a host NF.
 *
 * netvmctl stays as QEMU's parent and watches it until the NF attaches:
 * QEMU's early exit is reported at once (with its last lines), a guest that
 * does not attach in time is killed, and --accel auto falls back from KVM
 * to TCG in either case.  Then it waits for QEMU, which dies with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common/ctl.h"
#include "netvmctl.h"

#ifndef NETVM_GUEST_DIR
#define NETVM_GUEST_DIR "build/guest"
#endif
#define MAX_ARGS 256

static const char vm_usage[] =
    "Usage: netvmctl vm start SERVICE [OPTIONS] [-- QEMU-ARGS...]\n"
    "\n"
    "Start a QEMU guest that runs an NF attached as SERVICE.  The guest's only\n"
    "packet memory is SERVICE's domain region, an ivshmem PCI device; its control\n"
    "channel is a virtio-serial port on a connection to netvmd bound to SERVICE\n"
    "(the guest may attach as nothing else).  netvmctl stays in the foreground as\n"
    "QEMU's parent: it reports QEMU's early exit at once (with QEMU's last lines and\n"
    "the console), kills a guest whose NF does not attach within the boot timeout,\n"
    "then runs until QEMU exits (Ctrl-C or SIGTERM stops the VM; QEMU dies with it).\n"
    "\n"
    "  --nf 'CMD ARGS'     the NF command line inside the guest (default:\n"
    "                      'nf-forward --service SERVICE'); arguments are split\n"
    "                      on spaces and must not contain commas\n"
    "  --env K=V           environment for the NF (repeatable), e.g. NETVM_IDLE=poll\n"
    "  --image DIR         DIR/vmlinuz and DIR/initrd.img (default: $NETVM_GUEST_DIR,\n"
    "                      else " NETVM_GUEST_DIR "; built by scripts/guest-image.sh)\n"
    "  --kernel FILE       guest kernel (overrides --image)\n"
    "  --initrd FILE       guest initramfs (overrides --image)\n"
    "  --mem MIB           guest RAM in MiB (default 256)\n"
    "  --accel auto|kvm|tcg  auto (default): boot under KVM when /dev/kvm runs a\n"
    "                      test guest, and fall back to TCG (saying why) if QEMU\n"
    "                      exits or the NF does not attach in time; kvm or tcg:\n"
    "                      only that, failing with the reason\n"
    "  --boot-timeout SEC  how long the NF may take to attach (default 30 under\n"
    "                      KVM, 300 under TCG, which emulates every instruction)\n"
    "  --console FILE      write the guest console to FILE (default: stdout)\n"
    "  --qemu PATH         QEMU binary (default: $NETVM_QEMU, else qemu-system-x86_64)\n"
    "  --dry-run           print the QEMU command and exit\n"
    "  -- QEMU-ARGS        passed to QEMU as they are\n"
    "\n"
    "Exit status: QEMU's (0 when the guest powered off), 1 when the VM failed to\n"
    "start or its NF to attach, 2 for usage errors, 3 when netvmd is not running.\n"
    "NETVM_KVM_PROBE=pass skips the test guest (auto then always tries KVM first).\n";

struct argv_buf {
	int n;
	char *v[MAX_ARGS + 1];
};

static void add(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == MAX_ARGS)
		die(EXIT_USAGE, "too many QEMU arguments");
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n++], fmt, ap) < 0)
		die(EXIT_FAIL, "out of memory");
	va_end(ap);
}

/* "nf-forward --service x" -> "nf-forward,--service,x" for the guest's init. */
static char *guest_cmd(const char *cmd)
{
	char *s = strdup(cmd), *w;

	if (!s)
		die(EXIT_FAIL, "out of memory");
	if (strchr(s, ',') || strchr(s, '"'))
		usage_error("vm start: --nf must not contain ',' or '\"': %s", cmd);
	for (w = s; *w; w++)
		if (*w == ' ' || *w == '\t')
			*w = ',';
	return s;
}

/* @dir/@name into @buf, which must be readable. */
static const char *file_in(const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	if (access(buf, R_OK) < 0)
		die(EXIT_FAIL,
		    "vm start: cannot read %s: %s (build the guest image with "
		    "scripts/guest-image.sh)",
		    buf, strerror(errno));
	return buf;
}

/* What the guest gets, whatever the accelerator. */
struct vm_spec {
	const char *service, *domain, *kernel, *initrd, *console, *qemu;
	char *cmd;	 /* the NF command line, comma-separated (guest_cmd) */
	const char *env; /* K=V,K=V or "" */
	long mem;	 /* MiB */
	int region_fd;	 /* inherited by QEMU */
	long long region_size;
	char sock[PATH_MAX];
	char **extra; /* after "--" */
	int nextra;
};

/* QEMU's command line for @accel ("kvm" or "tcg"); @ctl_fd is the bound
 * control connection it inherits (-1: a dry run, shown as a placeholder). */
static void qemu_argv(struct argv_buf *a, const struct vm_spec *vm, const char *accel, int ctl_fd)
{
	bool kvm = !strcmp(accel, "kvm");

	add(a, "%s", vm->qemu);
	add(a, "-name");
	add(a, "netvm-%s", vm->service);
	add(a, "-accel");
	add(a, "%s", accel);
	add(a, "-cpu");
	add(a, "%s", kvm ? "host" : "max");
	add(a, "-m");
	add(a, "%ld", vm->mem);
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-display");
	add(a, "none");
	add(a, "-no-reboot");
	add(a, "-serial");
	if (vm->console)
		add(a, "file:%s", vm->console);
	else
		add(a, "stdio");
	add(a, "-kernel");
	add(a, "%s", vm->kernel);
	add(a, "-initrd");
	add(a, "%s", vm->initrd);
	add(a, "-append");
	add(a, "console=ttyS0 quiet panic=-1 netvm.cmd=%s%s%s", vm->cmd,
	    vm->env[0] ? " netvm.env=" : "", vm->env);
	/* The region: its pages, not a copy (share=on), as PCI BAR2. */
	add(a, "-object");
	add(a, "memory-backend-file,id=netvm-region,mem-path=/proc/self/fd/%d,size=%lld,share=on",
	    vm->region_fd, vm->region_size);
	add(a, "-device");
	add(a, "ivshmem-plain,memdev=netvm-region");
	/* The control channel: a connection to the daemon's socket, bound to
	 * the service, as a port named "netvm". */
	add(a, "-device");
	add(a, "virtio-serial-pci");
	add(a, "-chardev");
	if (ctl_fd >= 0)
		add(a, "socket,id=netvm-ctl,fd=%d", ctl_fd);
	else
		add(a, "socket,id=netvm-ctl,fd=<a connection to %s bound to '%s'>", vm->sock,
		    vm->service);
	add(a, "-device");
	add(a, "virtserialport,chardev=netvm-ctl,name=netvm");
	for (int i = 0; i < vm->nextra; i++)
		add(a, "%s", vm->extra[i]);
}

static void argv_free(struct argv_buf *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* In the child: connect, bind the connection to the service, become QEMU
 * with it as the guest's channel.  Errors go to stderr (the parent's pipe). */
static void exec_qemu(const struct vm_spec *vm, const char *accel)
{
	struct netvm_ctl_conn *c = malloc(sizeof(*c));
	struct argv_buf a = {0};
	json_t *rep = NULL;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* the VM dies with netvmctl */
	fd = netvm_ctl_connect(vm->sock);
	if (fd < 0 || !c) {
		fprintf(stderr, "netvmctl: cannot connect to %s: %s\n", vm->sock,
			strerror(fd < 0 ? -fd : ENOMEM));
		_exit(EXIT_CONNECT);
	}
	netvm_ctl_conn_init(c, fd);
	rep = netvm_ctl_call(c, json_pack("{s:s, s:s}", "cmd", "vm_bind", "service", vm->service),
			     NULL);
	if (!rep || !json_is_true(json_object_get(rep, "ok"))) {
		const char *e = json_string_value(json_object_get(rep, "error"));
		fprintf(stderr, "netvmctl: vm_bind: %s\n", e ? e : strerror(errno));
		_exit(EXIT_FAIL);
	}
	if (fcntl(fd, F_SETFD, 0) < 0 || fcntl(vm->region_fd, F_SETFD, 0) < 0) {
		fprintf(stderr, "netvmctl: fcntl: %s\n", strerror(errno));
		_exit(EXIT_FAIL);
	}
	qemu_argv(&a, vm, accel, fd);
	execvp(a.v[0], a.v);
	fprintf(stderr, "netvmctl: cannot run %s: %s (apt-get install -y qemu-system-x86)\n",
		a.v[0], strerror(errno));
	_exit(127);
}

static double now_secs(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The instance of the NF that QEMU pid @pid attached, 0 while none, -1 when
 * the daemon cannot be asked.  A connection of its own each time: this one
 * must not die with the daemon, and must not sit idle on its socket. */
static int attached_instance(const char *sock, pid_t pid)
{
	struct netvm_ctl_conn *c = malloc(sizeof(*c));
	int fd = netvm_ctl_connect(sock), inst = -1;
	json_t *rep = NULL, *nf;
	size_t i;

	if (fd >= 0 && c) {
		netvm_ctl_conn_init(c, fd);
		c->max = NETVM_CTL_MAX_REPLY; /* status with many NFs is long */
		rep = netvm_ctl_call(c, json_pack("{s:s}", "cmd", "status"), NULL);
		netvm_ctl_conn_free(c);
	}
	if (rep && json_is_true(json_object_get(rep, "ok"))) {
		inst = 0;
		json_array_foreach(json_object_get(rep, "nfs"), i, nf)
		{
			const char *st = json_string_value(json_object_get(nf, "state"));
			if (json_integer_value(json_object_get(nf, "pid")) == pid && st &&
			    strcmp(st, "gone") && strcmp(st, "leaving"))
				inst = (int)json_integer_value(json_object_get(nf, "instance"));
		}
	}
	json_decref(rep);
	if (fd >= 0)
		close(fd);
	free(c);
	return inst;
}

/* QEMU's last lines, for the report when it fails. */
#define TAIL_BYTES 4096
struct tail {
	char buf[TAIL_BYTES];
	size_t len;
};

/* Relay what QEMU writes to stderr, keeping the last TAIL_BYTES.  False at
 * end of file. */
static bool relay(int fd, struct tail *t)
{
	char chunk[1024];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	(void)!write(STDERR_FILENO, chunk, (size_t)n);
	_Static_assert(sizeof(chunk) < TAIL_BYTES, "a chunk fits the tail");
	if (t->len + (size_t)n > TAIL_BYTES) {
		size_t drop = t->len + (size_t)n - TAIL_BYTES;
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, chunk, (size_t)n);
	t->len += (size_t)n;
	return true;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

enum vm_outcome { VM_RAN, VM_FAILED };

/*
 * Boot the VM under @accel and watch it.  VM_FAILED with the reason in @why
 * when QEMU exits before the NF attaches or the NF does not attach within
 * @timeout seconds (QEMU is killed); else VM_RAN once QEMU has exited,
 * with its exit status in *status.
 */
static enum vm_outcome run_vm(const struct vm_spec *vm, const char *accel, double timeout,
			      char *why, size_t whylen, int *status)
{
	struct tail tail = {.len = 0};
	int pipefd[2], wstatus = 0, inst = 0;
	bool open_pipe = true, exited = false;
	double deadline = now_secs() + timeout, next_check = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die(EXIT_FAIL, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		exec_qemu(vm, accel);
	}
	close(pipefd[1]);
	while (!exited) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		if (open_pipe && poll(&p, 1, 100) > 0)
			open_pipe = relay(pipefd[0], &tail);
		else if (!open_pipe)
			poll(NULL, 0, 100);
		if (stop_signal)
			kill(pid, SIGTERM);
		if (waitpid(pid, &wstatus, WNOHANG) == pid) {
			exited = true;
			while (open_pipe && relay(pipefd[0], &tail))
				;
			break;
		}
		if (inst > 0 || now_secs() < next_check)
			continue;
		next_check = now_secs() + 0.25;
		if ((inst = attached_instance(vm->sock, pid)) > 0) {
			fprintf(
			    stderr,
			    "netvmctl: the NF in the VM attached as '%s' (instance %d, QEMU pid "
			    "%d, %s)\n",
			    vm->service, inst, (int)pid, !strcmp(accel, "kvm") ? "KVM" : "TCG");
			continue;
		}
		if (now_secs() >= deadline && !stop_signal) {
			snprintf(why, whylen, "the NF did not attach within %g s under %s", timeout,
				 !strcmp(accel, "kvm") ? "KVM" : "TCG");
			kill(pid, SIGKILL);
			waitpid(pid, &wstatus, 0);
			exited = true;
		}
	}
	close(pipefd[0]);
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (inst > 0 || stop_signal)
		return VM_RAN;
	if (!why[0]) {
		if (WIFEXITED(wstatus))
			snprintf(why, whylen, "QEMU exited with status %d before the NF attached",
				 WEXITSTATUS(wstatus));
		else
			snprintf(why, whylen, "QEMU was killed by signal %d before the NF attached",
				 WTERMSIG(wstatus));
	}
	/* Its last lines: what QEMU (or the bind) said about why. */
	tail.buf[tail.len < TAIL_BYTES ? tail.len : TAIL_BYTES - 1] = '\0';
	char *last = tail.buf;
	for (int lines = 0, i = (int)tail.len - 1; i > 0; i--)
		if (tail.buf[i - 1] == '\n' && ++lines == 6) {
			last = tail.buf + i;
			break;
		}
	size_t l = strlen(why);
	if (last[0])
		snprintf(why + l, whylen - l, "; QEMU's last lines:\n%s%s", last,
			 last[strlen(last) - 1] == '\n' ? "" : "\n");
	else
		snprintf(why + l, whylen - l, " (QEMU printed nothing)\n");
	return VM_FAILED;
}

int cmd_vm_start(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"nf", required_argument, NULL, 'n'},
	    {"env", required_argument, NULL, 'e'},
	    {"image", required_argument, NULL, 'i'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'r'},
	    {"mem", required_argument, NULL, 'm'},
	    {"accel", required_argument, NULL, 'a'},
	    {"boot-timeout", required_argument, NULL, 'b'},
	    {"console", required_argument, NULL, 'c'},
	    {"qemu", required_argument, NULL, 'q'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct vm_spec vm = {.qemu = getenv("NETVM_QEMU"), .mem = 256};
	const char *image = getenv("NETVM_GUEST_DIR"), *nf = NULL, *accel = "auto";
	char env[1024] = "", *end;
	double boot_timeout = 0;
	bool dry = false;
	int opt;

	optind = 0; /* 0: full re-init (main parsed with "+"); argv[0] is "start" */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			nf = optarg;
			break;
		case 'i':
			image = optarg;
			break;
		case 'k':
			vm.kernel = optarg;
			break;
		case 'r':
			vm.initrd = optarg;
			break;
		case 'a':
			accel = optarg;
			break;
		case 'b':
			boot_timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(boot_timeout > 0) || boot_timeout > 86400)
				usage_error("vm start: --boot-timeout must be 0..86400 seconds, "
					    "got '%s'",
					    optarg);
			break;
		case 'c':
			vm.console = optarg;
			break;
		case 'q':
			vm.qemu = optarg;
			break;
		case 'd':
			dry = true;
			break;
		case 'e':
			/* It travels on the kernel command line, comma-separated. */
			if (!strchr(optarg, '=') || strpbrk(optarg, " \t,\"") ||
			    strlen(env) + strlen(optarg) + 2 > sizeof(env))
				usage_error("vm start: --env wants K=V without spaces, commas or "
					    "quotes, got '%s'",
					    optarg);
			snprintf(env + strlen(env), sizeof(env) - strlen(env), "%s%s",
				 env[0] ? "," : "", optarg);
			break;
		case 'm':
			vm.mem = strtol(optarg, &end, 10);
			if (*end || vm.mem < 64 || vm.mem > 65536)
				usage_error("vm start: --mem must be 64..65536 MiB, got '%s'",
					    optarg);
			break;
		default:
			usage_error("vm start: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("usage: vm start SERVICE [OPTIONS] [-- QEMU-ARGS]");
	if (!vm.qemu || !vm.qemu[0])
		vm.qemu = "qemu-system-x86_64";
	vm.service = argv[optind++]; /* what follows came after "--" */
	vm.extra = argv + optind;
	vm.nextra = argc - optind;
	vm.env = env;
	if (strcmp(accel, "auto") && strcmp(accel, "kvm") && strcmp(accel, "tcg"))
		usage_error("vm start: --accel must be auto, kvm or tcg");
	if (!image)
		image = NETVM_GUEST_DIR;
	char kbuf[PATH_MAX], ibuf[PATH_MAX];
	vm.kernel = vm.kernel ? vm.kernel : file_in(image, "vmlinuz", kbuf, sizeof(kbuf));
	vm.initrd = vm.initrd ? vm.initrd : file_in(image, "initrd.img", ibuf, sizeof(ibuf));
	if (!realpath(sock_path, vm.sock))
		die(EXIT_CONNECT, "cannot find %s: %s — is netvmd running?", sock_path,
		    strerror(errno));

	char *dflt;
	if (asprintf(&dflt, "nf-forward --service %s", vm.service) < 0)
		die(EXIT_FAIL, "out of memory");
	vm.cmd = guest_cmd(nf ? nf : dflt);
	free(dflt);

	/* The region of the service's domain, if we may attach as it. */
	json_t *rep = ctl_request_fd(
	    json_pack("{s:s, s:s}", "cmd", "region", "service", vm.service), &vm.region_fd);
	vm.region_size = (long long)json_integer_value(json_object_get(rep, "file_size"));
	const char *dom = json_string_value(json_object_get(rep, "domain"));
	char domain[64];
	snprintf(domain, sizeof(domain), "%s", dom && dom[0] ? dom : "trusted");
	vm.domain = domain;
	json_decref(rep);
	if (vm.region_fd < 0 || vm.region_size <= 0 || (vm.region_size & (vm.region_size - 1)))
		die(EXIT_FAIL, "the daemon sent no usable region for '%s'", vm.service);

	/* What to try, in order.  auto: KVM first when /dev/kvm runs a test
	 * guest; the real boot is the real test, with TCG behind it. */
	const char *plan[2] = {accel, NULL};
	if (!strcmp(accel, "auto")) {
		const char *probe = getenv("NETVM_KVM_PROBE");
		const char *why = probe && !strcmp(probe, "pass") ? NULL : kvm_unusable();
		plan[0] = why ? "tcg" : "kvm";
		plan[1] = why ? NULL : "tcg";
		if (why)
			fprintf(stderr,
				"netvmctl: KVM is not usable (%s): running under TCG, software "
				"emulation, far slower than KVM\n",
				why);
	}

	struct argv_buf a = {0};
	qemu_argv(&a, &vm, plan[0], -1);
	fprintf(stderr, "netvmctl: VM for service '%s' (domain '%s', region %lld MiB) under %s:\n ",
		vm.service, domain, vm.region_size >> 20, !strcmp(plan[0], "kvm") ? "KVM" : "TCG");
	for (int i = 0; i < a.n; i++)
		fprintf(stderr, " %s", a.v[i]);
	fputc('\n', stderr);
	argv_free(&a);
	if (dry) {
		free(vm.cmd);
		close(vm.region_fd);
		return EXIT_OK;
	}

	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int status = EXIT_FAIL;
	for (int i = 0; i < 2 && plan[i]; i++) {
		char why[TAIL_BYTES + 256] = "";
		bool kvm = !strcmp(plan[i], "kvm");
		double t = boot_timeout ? boot_timeout : kvm ? 30 : 300;
		if (i > 0)
			fprintf(stderr, "netvmctl: booting the VM again under TCG\n");
		if (run_vm(&vm, plan[i], t, why, sizeof(why), &status) == VM_RAN) {
			free(vm.cmd);
			close(vm.region_fd);
			return status;
		}
		fprintf(stderr, "netvmctl: VM for '%s' failed under %s: %s", vm.service,
			kvm ? "KVM" : "TCG", why);
		fprintf(stderr, "netvmctl: guest console: %s\n",
			vm.console ? vm.console : "(standard output, above)");
		if (i == 0 && plan[1])
			fprintf(stderr, "netvmctl: KVM is present but this guest does not run on "
					"it: falling back to TCG\n");
		if (stop_signal)
			break;
	}
	free(vm.cmd);
	close(vm.region_fd);
	return EXIT_FAIL;
}

int cmd_vm_help(int argc, char **argv)
{
	fputs(vm_usage, stdout);
	return EXIT_OK;
}
