/* SPDX-License-Identifier: MIT */
/*
 * lib/ready.h - whether libkmm is up: set once by start-up (src/init.c) when
 * every layer's init has run, and never cleared.  The public entry points
 * test it before they start libkmm (src/init.h's kmm_ready()); the views'
 * exit dump (src/dump.c) tests it so as not to start libkmm at exit.
 */
#ifndef KMM_LIB_READY_H
#define KMM_LIB_READY_H

#include "compiler.h"

extern bool kmm_initialized;

static __always_inline bool kmm_is_up(void)
{
	return __atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE);
}

#endif /* KMM_LIB_READY_H */
