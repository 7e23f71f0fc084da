/* SPDX-License-Identifier: MIT */
/*
 * reclaim.h - giving memory back across the layers (reclaim.c): for the
 * public API (src/api.c, LD_PRELOAD/malloc.c) and start-up (src/init.c).
 */
#ifndef KMM_RECLAIM_H
#define KMM_RECLAIM_H

#include "lib/compiler.h"
#include "numa/mmzone.h"

/* Every layer's cached memory back to the buddy, free pages to the system (kmm_reclaim()). */
void reclaim_all(void);

/*
 * The background thread (the kernel's kswapd).  Start-up hands it the
 * fork() handlers' lock list (kswapd_init()); it starts once the arenas
 * hold kswapd_wake_pages, checked on the allocation paths past the fast
 * path (kswapd_maybe_start()).  A fork()ed child has no thread: it starts
 * one once its footprint grows by the threshold (the child may only exec,
 * and a thread per child that execs is waste).
 */
extern unsigned long kswapd_wake_pages;
void kswapd_init(void (*lock_all)(void));
void kswapd_start(void);

static __always_inline void kswapd_maybe_start(void)
{
	if (unlikely(__atomic_load_n(&kmm_arena.committed_pages, __ATOMIC_RELAXED) >=
		     __atomic_load_n(&kswapd_wake_pages, __ATOMIC_RELAXED)))
		kswapd_start();
}

/*
 * fork() in a signal handler that interrupted the allocator: the thread
 * lets go of every lock and takes none until kswapd_unpark() (src/init.c).
 */
void kswapd_park(void);
void kswapd_unpark(void);
/* fork() child: no thread, none parked; a new one on the next slow path. */
void kswapd_fork_child(void);

/* The thread's counters for the vmstat view: rounds done, rounds a busy lock or a fork stopped, parks. */
struct kmm_seq;
void show_kswapd_vmstat(struct kmm_seq *m);

#endif /* KMM_RECLAIM_H */
