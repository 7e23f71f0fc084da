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

#endif /* KMM_INIT_H */
