/* SPDX-License-Identifier: MIT */
/*
 * init.h - lazy start-up, for the public entry points (src/api.c,
 * LD_PRELOAD/malloc.c): each calls kmm_ready() first.  Nothing below them
 * does: the layers, the views and reclaim are brought up by start-up and
 * never call it.
 */
#ifndef KMM_INIT_H
#define KMM_INIT_H

#include "lib/compiler.h"
#include "lib/ready.h"
#include "reclaim.h"

int kmm_init_slow(void);

/* One load and one predicted branch once the allocator is up. */
static __always_inline bool kmm_ready(void)
{
	if (likely(kmm_is_up()))
		return true;
	return kmm_init_slow() == 0;
}

#endif /* KMM_INIT_H */
