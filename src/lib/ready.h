/* SPDX-License-Identifier: MIT */
/*
 * lib/ready.h - whether libkmm is up: set once by start-up (src/init.c) when
 * every layer's init has run, and never cleared.  The public entry points
 * test it before they start libkmm (src/init.h's kmm_ready()); the views'
 * exit dump (src/dump.c) tests it so as not to start libkmm at exit.
 *
 * And whether the hit paths of malloc() and free() may run (struct
 * kmm_fastpath): their readiness words are the bounds they compare with
 * anyway, the largest size the malloc table serves and the span of addresses
 * free() finds descriptors for, and read 0 while the hit paths must not run:
 * before start-up, without rseq (valgrind, a fork child that lost it), and in
 * every mode that needs the slow paths (KMM_TRACK turns rseq off; KMM_SECURE
 * keeps rseq for its slow paths and start-up leaves the words 0).  So one
 * compare both bounds the request and gates the hit path.
 */
#ifndef KMM_LIB_READY_H
#define KMM_LIB_READY_H

#include "compiler.h"

extern bool kmm_initialized;

static __always_inline bool kmm_is_up(void)
{
	return __atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE);
}

/*
 * struct kmm_fastpath - everything the hit paths read that is not per cache,
 * on one cache line, written by start-up (src/init.c), a fork child, and the
 * growth of node 0's Normal zone; read without a lock.
 * @malloc_limit: sizes below it are served by kmalloc_fast_table[]; 0: not ready.
 * @free_base:    address of the first page of node 0's Normal zone.
 * @free_limit:   bytes from @free_base whose descriptors @free_map has (the
 *                pages in service); 0: not ready.  Other addresses take
 *                free()'s out-of-line path.
 * @free_map:     descriptor (struct kmm_page) of the page at @free_base.
 * @rseq_offset:  of glibc's rseq area from the thread pointer, while a limit is not 0.
 * @ncpu:         kmm_nr_cpu_ids: rseq's cpu_id is checked against it.
 * @free_ok:      free_limit may follow the zone's growth (not read by the hit path).
 */
struct kmm_fastpath {
	unsigned long malloc_limit;
	uintptr_t free_base;
	unsigned long free_limit;
	void *free_map;
	long rseq_offset;
	unsigned int ncpu;
	bool free_ok;
} ____cacheline_aligned;

extern struct kmm_fastpath kmm_fast __hidden;

/* Node 0's Normal zone now has @bytes in service (Context: its lock). */
static inline void fastpath_free_span(unsigned long bytes)
{
	if (kmm_fast.free_ok)
		__atomic_store_n(&kmm_fast.free_limit, bytes, __ATOMIC_RELEASE);
}

#endif /* KMM_LIB_READY_H */
