/* SPDX-License-Identifier: MIT */
/*
 * init.h - lazy start-up: every public entry point calls kmm_ready() first.
 */
#ifndef KMM_INIT_H
#define KMM_INIT_H

#include "lib/compiler.h"

extern bool kmm_initialized;
int kmm_init_slow(void);

/* One load and one predicted branch once the allocator is up. */
static __always_inline bool kmm_ready(void)
{
	if (likely(__atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE)))
		return true;
	return kmm_init_slow() == 0;
}

/* Start the background reclaim thread if KMM_BACKGROUND=1 (reclaim.c). */
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

#endif /* KMM_INIT_H */
