/* SPDX-License-Identifier: MIT */
/*
 * reclaim.h - giving memory back across the layers (reclaim.c): for the
 * public API (src/api.c, LD_PRELOAD/malloc.c) and start-up (src/init.c).
 */
#ifndef KMM_RECLAIM_H
#define KMM_RECLAIM_H

#include "lib/compiler.h"

/* Every layer's cached memory back to the buddy, free pages to the system (kmm_reclaim()). */
void reclaim_all(void);

/* Start the background reclaim thread if KMM_BACKGROUND=1 (start-up, the kernel's kswapd_init()). */
void kswapd_run(void);

/*
 * A fork()ed child has no background thread: fork_child() cannot start one
 * (the child may only exec, and a thread per child that execs is waste), so
 * it sets kswapd_pending and the child's next allocation on a slow path
 * (malloc's refill, a large block, the kmm_ API) starts it.
 */
extern bool kswapd_pending;
void kswapd_restart(void);

static __always_inline void kswapd_maybe_restart(void)
{
	if (unlikely(__atomic_load_n(&kswapd_pending, __ATOMIC_RELAXED)))
		kswapd_restart();
}

#endif /* KMM_RECLAIM_H */
