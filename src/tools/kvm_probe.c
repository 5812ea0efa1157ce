/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Can this machine run a KVM guest?  Opening /dev/kvm is not enough: inside
 * a VM whose vCPUs lack hardware virtualization, VMs can be created but
 * their guests never run (QEMU hangs).  So run one: a 4 KiB guest whose
 * first instruction is HLT must exit with KVM_EXIT_HLT within a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "netvmctl.h"

#define GUEST_ADDR 0x1000

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

/* Run the HLT guest on a fresh vCPU of @vm; NULL when it halted. */
static const char *run_hlt(int kvm, int vm)
{
	const char *why = NULL;
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = MAP_FAILED;
	int cpu = -1;

	if (mem == MAP_FAILED || run_size <= 0)
		return "out of memory";
	mem[0] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region reg = {
	    .guest_phys_addr = GUEST_ADDR, .memory_size = 4096, .userspace_addr = (uintptr_t)mem};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rip = GUEST_ADDR, .rflags = 2};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0 ||
	    (cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0)) ==
		MAP_FAILED ||
	    ioctl(cpu, KVM_GET_SREGS, &sregs) < 0) {
		why = "cannot set up a test vCPU";
		goto out;
	}
	sregs.cs.base = 0; /* real mode, code at physical GUEST_ADDR */
	sregs.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(cpu, KVM_SET_REGS, &regs) < 0) {
		why = "cannot set up a test vCPU";
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval t = {.it_value = {.tv_sec = 1}}, off = {0};
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: KVM_RUN returns EINTR */
	setitimer(ITIMER_REAL, &t, NULL);
	int ret = ioctl(cpu, KVM_RUN, 0);
	int err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (ret < 0)
		why = err == EINTR ? "a test guest did not run within 1 s" : "KVM_RUN fails";
	else if (run->exit_reason != KVM_EXIT_HLT)
		why = "a test guest did not halt as it should";
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (cpu >= 0)
		close(cpu);
	munmap(mem, 4096);
	return why;
}

const char *kvm_unusable(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;
	const char *why;

	if (kvm < 0)
		return errno == ENOENT ? "no /dev/kvm" : "/dev/kvm cannot be opened";
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		why = "/dev/kvm has an unknown API version";
	else if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		why = "/dev/kvm cannot create a VM";
	else {
		why = run_hlt(kvm, vm);
		close(vm);
	}
	close(kvm);
	return why;
}
