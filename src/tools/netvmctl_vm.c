/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netvmctl vm start: run an NF inside a QEMU guest (docs/vm-nfs.md).
 *
 * The daemon hands us the fd of the service's domain region (never another
 * domain's); QEMU inherits it and maps it as an ivshmem-plain PCI device
 * (memory-backend-file on /proc/self/fd/N, share=on), so guest and host
 * share the very same pages.  The guest's control channel is a
 * virtio-serial port that QEMU connects to the daemon's control socket: the
 * guest NF speaks the same protocol as a host NF, through QEMU.
 * netvmctl then becomes QEMU (exec), so killing that pid stops the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    "channel is a virtio-serial port connected to netvmd's socket.  netvmctl\n"
    "becomes QEMU: stop the VM with Ctrl-C or by killing that process.\n"
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
    "  --accel auto|kvm|tcg  auto (default) uses KVM when a test guest runs on it,\n"
    "                      else TCG (and says why)\n"
    "  --console FILE      write the guest console to FILE (default: stdout)\n"
    "  --qemu PATH         QEMU binary (default: qemu-system-x86_64)\n"
    "  --dry-run           print the QEMU command and exit\n"
    "  -- QEMU-ARGS        passed to QEMU as they are\n";

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

static int vm_start(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"nf", required_argument, NULL, 'n'},
	    {"env", required_argument, NULL, 'e'},
	    {"image", required_argument, NULL, 'i'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'r'},
	    {"mem", required_argument, NULL, 'm'},
	    {"accel", required_argument, NULL, 'a'},
	    {"console", required_argument, NULL, 'c'},
	    {"qemu", required_argument, NULL, 'q'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *image = getenv("NETVM_GUEST_DIR"), *kernel = NULL, *initrd = NULL;
	const char *nf = NULL, *accel = "auto", *console = NULL, *qemu = "qemu-system-x86_64";
	char env[1024] = "", sock[PATH_MAX], *end;
	long mem = 256;
	bool dry = false;
	int opt, fd;

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
			kernel = optarg;
			break;
		case 'r':
			initrd = optarg;
			break;
		case 'a':
			accel = optarg;
			break;
		case 'c':
			console = optarg;
			break;
		case 'q':
			qemu = optarg;
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
			mem = strtol(optarg, &end, 10);
			if (*end || mem < 64 || mem > 65536)
				usage_error("vm start: --mem must be 64..65536 MiB, got '%s'",
					    optarg);
			break;
		default:
			usage_error("vm start: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("usage: vm start SERVICE [OPTIONS] [-- QEMU-ARGS]");
	const char *service = argv[optind++]; /* what follows came after "--" */
	if (strcmp(accel, "auto") && strcmp(accel, "kvm") && strcmp(accel, "tcg"))
		usage_error("vm start: --accel must be auto, kvm or tcg");
	if (!image)
		image = NETVM_GUEST_DIR;
	char kbuf[PATH_MAX], ibuf[PATH_MAX];
	kernel = kernel ? kernel : file_in(image, "vmlinuz", kbuf, sizeof(kbuf));
	initrd = initrd ? initrd : file_in(image, "initrd.img", ibuf, sizeof(ibuf));
	if (!realpath(sock_path, sock))
		die(EXIT_CONNECT, "cannot find %s: %s — is netvmd running?", sock_path,
		    strerror(errno));

	char *dflt;
	if (asprintf(&dflt, "nf-forward --service %s", service) < 0)
		die(EXIT_FAIL, "out of memory");
	char *cmd = guest_cmd(nf ? nf : dflt);
	free(dflt);

	/* The region of the service's domain, if we may attach as it. */
	json_t *rep =
	    ctl_request_fd(json_pack("{s:s, s:s}", "cmd", "region", "service", service), &fd);
	json_int_t file_size = json_integer_value(json_object_get(rep, "file_size"));
	const char *dom = json_string_value(json_object_get(rep, "domain"));
	char domain[64];
	snprintf(domain, sizeof(domain), "%s", dom && dom[0] ? dom : "trusted");
	json_decref(rep);
	if (fd < 0 || file_size <= 0 || (file_size & (file_size - 1)))
		die(EXIT_FAIL, "the daemon sent no usable region for '%s'", service);
	if (fcntl(fd, F_SETFD, 0) < 0) /* QEMU inherits it */
		die(EXIT_FAIL, "fcntl: %s", strerror(errno));

	const char *why = strcmp(accel, "auto") ? NULL : kvm_unusable();
	bool kvm = !strcmp(accel, "kvm") || (!strcmp(accel, "auto") && !why);
	if (why)
		fprintf(stderr,
			"netvmctl: KVM is not usable (%s): running under TCG, software "
			"emulation, far slower than KVM\n",
			why);

	struct argv_buf a = {0};
	add(&a, "%s", qemu);
	add(&a, "-name");
	add(&a, "netvm-%s", service);
	add(&a, "-accel");
	add(&a, "%s", kvm ? "kvm" : "tcg");
	add(&a, "-cpu");
	add(&a, "%s", kvm ? "host" : "max");
	add(&a, "-m");
	add(&a, "%ld", mem);
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-display");
	add(&a, "none");
	add(&a, "-no-reboot");
	add(&a, "-serial");
	if (console)
		add(&a, "file:%s", console);
	else
		add(&a, "stdio");
	add(&a, "-kernel");
	add(&a, "%s", kernel);
	add(&a, "-initrd");
	add(&a, "%s", initrd);
	add(&a, "-append");
	add(&a, "console=ttyS0 quiet panic=-1 netvm.cmd=%s%s%s", cmd, env[0] ? " netvm.env=" : "",
	    env);
	/* The region: its pages, not a copy (share=on), as PCI BAR2. */
	add(&a, "-object");
	add(&a, "memory-backend-file,id=netvm-region,mem-path=/proc/self/fd/%d,size=%lld,share=on",
	    fd, (long long)file_size);
	add(&a, "-device");
	add(&a, "ivshmem-plain,memdev=netvm-region");
	/* The control channel: the daemon's socket, as a port named "netvm". */
	add(&a, "-device");
	add(&a, "virtio-serial-pci");
	add(&a, "-chardev");
	add(&a, "socket,id=netvm-ctl,path=%s", sock);
	add(&a, "-device");
	add(&a, "virtserialport,chardev=netvm-ctl,name=netvm");
	for (; optind < argc; optind++)
		add(&a, "%s", argv[optind]);

	fprintf(stderr, "netvmctl: VM for service '%s' (domain '%s', region %lld MiB) under %s:\n ",
		service, domain, (long long)file_size >> 20, kvm ? "KVM" : "TCG");
	for (int i = 0; i < a.n; i++)
		fprintf(stderr, " %s", a.v[i]);
	fputc('\n', stderr);
	if (dry) {
		for (int i = 0; i < a.n; i++)
			free(a.v[i]);
		free(cmd);
		close(fd);
		return EXIT_OK;
	}
	execvp(a.v[0], a.v);
	die(EXIT_FAIL, "cannot run %s: %s (apt-get install -y qemu-system-x86)", a.v[0],
	    strerror(errno));
}

int cmd_vm(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "start"))
		return vm_start(argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "help")) {
		fputs(vm_usage, stdout);
		return EXIT_OK;
	}
	usage_error("usage: vm start SERVICE [OPTIONS] [-- QEMU-ARGS] (see 'netvmctl vm help')");
}
