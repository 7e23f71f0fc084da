// SPDX-License-Identifier: MIT
/*
 * rseq.c - finding glibc's rseq registration and the membarrier fence
 * (see rseq.h).  The symbols are weak references, so libkmm still loads on a
 * glibc without them (they resolve to NULL), and never needs dlsym.
 */
#include "rseq.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

long kmm_rseq_offset;
bool kmm_rseq_usable;

static long sys_membarrier(int cmd, unsigned int flags, int cpu)
{
	return syscall(__NR_membarrier, cmd, flags, cpu);
}

__init bool rseq_init(bool want)
{
	int saved = errno;
	long mask;

	kmm_rseq_usable = false;
	if (!want || !KMM_HAVE_RSEQ_ASM || !&__rseq_size || !&__rseq_offset || __rseq_size < 20)
		return false;
	mask = sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	if (mask < 0 || !(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) ||
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0)) {
		errno = saved;
		return false;
	}
	errno = saved;
	kmm_rseq_offset = (long)__rseq_offset;
	kmm_rseq_usable = true;
	return true;
}

bool rseq_fork_child(void)
{
	int saved = errno;
	bool ok = true;

	if (kmm_rseq_usable &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0)) {
		/* No fence for drains: the child goes on with the locked fallback. */
		kmm_rseq_usable = false;
		ok = false;
	}
	errno = saved;
	return ok;
}

int rseq_fence_cpu(int cpu)
{
	int saved = errno, ret = 0;

	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, cpu))
		ret = -errno;
	/*
	 * Not registered: a child of a fork() that ran no handler of ours (a
	 * process with one thread registers none, lib/lock.h).  Linux copies
	 * the registration with the mm, but nothing documents that: register
	 * again, once, as rseq_fork_child() does.
	 */
	if (ret == -EPERM &&
	    !sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) &&
	    !sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, cpu))
		ret = 0;
	errno = saved;
	/* An offline CPU runs nothing: there is nothing to fence. */
	return ret == -EINVAL ? 0 : ret;
}

int kmm_current_cpu(void)
{
	int cpu = rseq_current_cpu();

	if (cpu >= 0)
		return cpu;
	int saved = errno;

	cpu = sched_getcpu();

	errno = saved;
	return cpu < 0 ? 0 : cpu;
}
