// SPDX-License-Identifier: MIT
/*
 * stats.c - KMM_STATS_SIGNAL=SIGUSR2: the views of a running program, on
 * demand, without stopping it (LD_PRELOAD/kmm-run --watch sends the signal).
 *
 * The views take the allocator's locks, and the signal may interrupt a thread
 * that holds one: so the handler only writes a byte to a pipe (write(2) is
 * async-signal-safe; the pipe does not block it), and a thread of libkmm's,
 * asleep in read(2), writes the views.  Signals that arrive during a dump
 * coalesce into the next one.  The views allocate nothing from the heap.
 *
 * Views: KMM_STATS's list, or slabtop,meminfo; each dump starts with a line
 * "==== libkmm stats: pid P, T ms ====".  Output: KMM_STATS_FD (default 2).
 *
 * The handler is installed at start-up (the first call into libkmm, or its
 * constructor): a handler the program installs later for the same signal
 * replaces it.  A forked child keeps the handler but not the thread: there the
 * signal does nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "dump.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/lock.h"
#include "lib/printk.h"
#include "stats.h"

#define STATS_DEFAULT_VIEWS "slabtop,meminfo"

static int stats_pipe[2] = { -1, -1 };
static pid_t stats_pid;
static uint64_t stats_start_ms;

/* Async-signal-safe: a byte into the pipe, errno kept. */
static void stats_handler(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (getpid() == stats_pid)
		(void)!write(stats_pipe[1], &c, 1);
	errno = saved;
}

static void stats_dump(void)
{
	const char *list = kmm_getenv("KMM_STATS");
	int fd = (int)kmm_config.stats_fd;
	char head[96];
	size_t n;

	if (!list || !*list)
		list = STATS_DEFAULT_VIEWS;
	n = kmm_snprintf(head, sizeof(head), "==== libkmm stats: pid %d, %lu ms ====\n",
			 (int)getpid(), (unsigned long)(kmm_now_ms() - stats_start_ms));
	kmm_write_all(fd, head, n);
	kmm_dump_list(fd, list);
}

static void *stats_thread(void *arg)
{
	char buf[64];

	(void)arg;
	prctl(PR_SET_NAME, "kmm_stats", 0, 0, 0);
	for (;;) {
		ssize_t n = read(stats_pipe[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		stats_dump();
	}
}

void stats_signal_start(void)
{
	int sig = (int)kmm_config.stats_signal;
	struct sigaction sa = { .sa_handler = stats_handler, .sa_flags = SA_RESTART };
	sigset_t all, old;
	pthread_t t;
	int err;

	if (!sig || stats_pipe[0] >= 0)
		return;
	/* Its process has threads: fork() must find the handlers registered. */
	if (!kmm_fork_arm(FORK_ARM_THREAD))
		return;
	if (pipe2(stats_pipe, O_CLOEXEC))
		return;
	fcntl(stats_pipe[1], F_SETFL, O_NONBLOCK);
	stats_start_ms = kmm_now_ms();
	stats_pid = getpid();
	/* The program's signals are not for this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, NULL, stats_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(stats_pipe[0]);
		close(stats_pipe[1]);
		stats_pipe[0] = stats_pipe[1] = -1;
		return;
	}
	pthread_detach(t);
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}
