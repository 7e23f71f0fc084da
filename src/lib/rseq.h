/* SPDX-License-Identifier: MIT */
/*
 * rseq.h - restartable sequences on the registration glibc already made for
 * every thread (glibc >= 2.35 exports __rseq_offset and __rseq_size), and the
 * membarrier fence that lets one thread take over another CPU's list.
 *
 * libkmm never registers an rseq area of its own: when glibc did not
 * (GLIBC_TUNABLES=glibc.pthread.rseq=0, valgrind, glibc < 2.35, an old
 * kernel) rseq_init() says so and the callers use their locked fallback.
 */
#ifndef KMM_LIB_RSEQ_H
#define KMM_LIB_RSEQ_H

#include "compiler.h"

#if defined(__x86_64__)
#include "rseq-x86_64.h"
#else
#define KMM_HAVE_RSEQ_ASM 0
#endif

/* The documented part of struct rseq (linux/rseq.h). */
struct kmm_rseq_abi {
	uint32_t cpu_id_start;
	uint32_t cpu_id;
	uint64_t rseq_cs;
	uint32_t flags;
	uint32_t node_id;
	uint32_t mm_cid;
};

/* Offset of the rseq area from the thread pointer; valid when rseq_usable. */
extern long kmm_rseq_offset __hidden;
extern bool kmm_rseq_usable __hidden;

/*
 * rseq_init() - decide whether the per-CPU fast paths may use rseq: glibc
 * registered an area, the architecture has the sequences, and the membarrier
 * RSEQ fence could be registered.  @want false forces the fallback.
 * Return: kmm_rseq_usable.
 */
bool rseq_init(bool want);

/*
 * rseq_fence_cpu() - after it returns, no rseq critical section that started
 * on @cpu before the call is still running: it committed or it was aborted
 * (membarrier's RSEQ command; the drains of lib/percpu_stack.c use it).
 * Return: 0 or -errno.
 */
int rseq_fence_cpu(int cpu);

/*
 * In a child after fork(): register the membarrier RSEQ fence for its new mm.
 * If that fails, rseq is turned off (the child is single-threaded here, so
 * the per-CPU data passes safely to the locked fallback).
 * Return: false when rseq was turned off.
 */
bool rseq_fork_child(void);

/*
 * This thread's CPU from its rseq area, one load; -1 when rseq is unusable
 * or the thread has no registration.  A hint: it may move right after.
 */
static inline int rseq_current_cpu(void)
{
#if KMM_HAVE_RSEQ_ASM
	if (likely(kmm_rseq_usable)) {
		const struct kmm_rseq_abi *rs =
			(const void *)(rseq_thread_pointer() + kmm_rseq_offset);
		int32_t cpu = (int32_t)READ_ONCE(rs->cpu_id);

		if (cpu >= 0)
			return cpu;
	}
#endif
	return -1;
}

/* The CPU this thread runs on now (a hint: it may move right after). */
int kmm_current_cpu(void);

#endif /* KMM_LIB_RSEQ_H */
