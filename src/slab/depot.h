/* SPDX-License-Identifier: MIT */
/*
 * slab/depot.h - a node's depot of full batches of free objects, between the
 * per-CPU stacks of one cache (the kernel's 6.18 SLUB "barn", tcmalloc's
 * transfer cache).  See slub.c ("The depot") for how the slab layer uses it.
 *
 * A batch travels in a magazine: a header and an array of object pointers,
 * an object of the internal cache "kmm-magazine".  The depot keeps two
 * lock-free stacks of magazines, liburcu's cds_lfs (intrusive, allocates
 * nothing, static inline with _LGPL_SOURCE: libkmm.so does not link
 * liburcu): full ones and empty ones.  A push is one cmpxchg and never waits.
 * A pop must not race another pop (the ABA problem of a Treiber stack), so
 * each stack has a pop lock, only ever try-locked on the alloc and free paths:
 * a thread that finds it held goes to the slabs instead, and no thread sleeps
 * on it.  Drains and fork() take it for real.
 */
#ifndef KMM_SLAB_DEPOT_H
#define KMM_SLAB_DEPOT_H

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* liburcu's static inline variants: no library to link */
#endif
#include <urcu/lfstack.h>

#include "../lib/compiler.h"
#include "../lib/lock.h"

#define SLAB_MAGAZINE_SLOTS 64 /* SLAB_BATCH_MAX */

/* struct slab_magazine - one batch of free objects of one cache and node. */
struct slab_magazine {
	struct cds_lfs_node link; /* on a depot stack */
	unsigned int count;	  /* objs[0 .. count - 1] */
	void *objs[SLAB_MAGAZINE_SLOTS];
};

/* struct slab_depot - a cache's depot on one node. */
struct slab_depot {
	struct __cds_lfs_stack full;  /* magazines of free objects */
	struct __cds_lfs_stack empty; /* magazines to fill */
	struct kmm_lock full_pop;     /* pops of @full: trylock on the hot paths */
	struct kmm_lock empty_pop;    /* pops of @empty: likewise */
	unsigned int nr_full;	      /* magazines on @full (uatomic; bounds it) */
	unsigned int nr_empty;	      /* magazines on @empty (uatomic; bounds it) */
} ____cacheline_aligned;

#endif /* KMM_SLAB_DEPOT_H */
