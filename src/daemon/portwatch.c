/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port watcher: lets the switch sleep while ports are live.
 *
 * The switch sleeps on a futex (NFs ring it), which cannot also wait for a
 * socket or a TAP device to become readable.  So before it sleeps with live
 * ports, the switch arms this thread with their fds; the thread poll()s them
 * and rings the switch's doorbell when one is readable, then waits to be
 * armed again (the fds stay readable until the switch reads them: polling on
 * would spin).  The watcher stays armed, blocked in poll(), across any
 * number of the switch's sleeps, so the switch re-arms it (one eventfd
 * write) only after a kick or when the set of live ports changes.
 *
 * No lost wake-up: the watcher lowers `watching` before it rings, and the
 * switch, with its doorbell flag raised, neither sleeps while `watching` is
 * down nor while an armed fd is readable (portwatch_ready()).  Both sides
 * use sequentially consistent accesses, so either the ring finds the flag
 * raised, or the switch sees `watching` down and re-arms instead.
 *
 * Ports without an fd (gen, pcap) cannot be watched: while one is live the
 * switch naps instead (nap.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "common/log.h"
#include "netvmd.h"

/* Wait until armed (efd readable), then copy the fds to watch into @pfd[1..]. */
static nfds_t wait_armed(struct netvmd *d, struct pollfd *pfd)
{
	struct portwatch *w = &d->sw.watch;
	uint64_t v;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = w->efd, .events = POLLIN};
		if (poll(pfd, 1, -1) < 0 && errno != EINTR)
			return 0;
		if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return 0;
		if (atomic_load(&d->stop))
			return 0;
		/* Seqlock: the switch may be writing the next set already. */
		uint32_t seq = atomic_load_explicit(&w->seq, memory_order_acquire);
		uint32_t n = w->n;
		memcpy(pfd + 1, w->fds, n * sizeof(*pfd));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&w->seq, memory_order_relaxed) == seq && !(seq & 1))
			return n + 1;
	}
}

static void *watch_main(void *arg)
{
	struct netvmd *d = arg;
	struct pollfd *pfd = calloc((size_t)d->nports + 1, sizeof(*pfd));
	nfds_t n;

	if (!pfd)
		return NULL;
	while ((n = wait_armed(d, pfd)) > 0) {
		/* Watch the ports, and the efd: a new arming may change the set. */
		if (poll(pfd, n, -1) <= 0)
			continue;
		/* A port is readable: ring the switch, then wait for the next
		 * arming.  Re-armed: wait_armed() finds the efd readable and
		 * takes the new set at once. */
		for (nfds_t i = 1; i < n; i++)
			if (pfd[i].revents) {
				atomic_store(&d->sw.watch.watching, false);
				switch_kick(d);
				break;
			}
	}
	free(pfd);
	return NULL;
}

int portwatch_start(struct netvmd *d)
{
	struct portwatch *w = &d->sw.watch;

	w->fds = calloc((size_t)d->nports + 1, sizeof(*w->fds));
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!w->fds || w->efd < 0)
		return -ENOMEM;
	int ret = pthread_create(&w->thread, NULL, watch_main, d);
	if (ret)
		return -ret;
	pthread_setname_np(w->thread, "netvm-portwatch");
	w->running = true;
	return 0;
}

void portwatch_arm(struct netvmd *d, const struct pollfd *fds, uint32_t n)
{
	struct portwatch *w = &d->sw.watch;

	if (!w->running)
		return;
	w->armed = n;
	if (atomic_load(&w->watching) && n == w->n && !memcmp(fds, w->fds, n * sizeof(*fds)))
		return;						     /* it watches these already */
	atomic_fetch_add_explicit(&w->seq, 1, memory_order_relaxed); /* odd: writing */
	atomic_thread_fence(memory_order_release);
	memcpy(w->fds, fds, n * sizeof(*fds));
	w->n = n;
	atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
	atomic_store(&w->watching, true);
	eventfd_write(w->efd, 1);
}

void portwatch_disarm(struct netvmd *d)
{
	d->sw.watch.armed = 0;
}

bool portwatch_ready(struct netvmd *d)
{
	struct portwatch *w = &d->sw.watch;
	struct pollfd p[w->armed + 1];

	if (!w->armed)
		return false;
	if (!atomic_load(&w->watching))
		return true; /* it rang, or is about to: re-arm it rather than sleep */
	memcpy(p, w->fds, w->armed * sizeof(*p)); /* poll() writes revents */
	return poll(p, w->armed, 0) > 0;
}

void portwatch_stop(struct netvmd *d)
{
	struct portwatch *w = &d->sw.watch;

	if (w->running) {
		eventfd_write(w->efd, 1); /* d->stop is set: it returns */
		pthread_join(w->thread, NULL);
		w->running = false;
	}
	if (w->efd > 0)
		close(w->efd);
	free(w->fds);
	w->fds = NULL;
}
