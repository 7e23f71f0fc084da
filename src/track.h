/* SPDX-License-Identifier: MIT */
/*
 * track.h - KMM_TRACK=1: the caller of every live block and of the last free
 * of every freed one (the kernel's SLAB_STORE_USER), and the views that group
 * them by caller (/sys/kernel/debug/slab/<cache>/alloc_traces, free_traces).
 */
#ifndef KMM_TRACK_H
#define KMM_TRACK_H

#include "lib/config.h"

struct kmm_seq;

/* KMM_TRACK=1: record callers (the rseq fast paths are then off, config.c). */
static __always_inline bool kmm_tracking(void)
{
	return unlikely(kmm_config.track);
}

/* @p (not NULL) was allocated by a call from @caller. */
void track_alloc(const void *p, const void *caller);
/* @p is about to be freed by a call from @caller. */
void track_free(const void *p, const void *caller);

/*
 * track_describe() - "; allocated by f+0x1c; freed by g+0x8" for block @p in
 * @buf (empty when nothing is recorded): the call sites a KMM_SECURE report
 * names (SLAB_STORE_USER).
 */
void track_describe(const void *p, char *buf, size_t n);

void show_alloc_traces(struct kmm_seq *m);
void show_free_traces(struct kmm_seq *m);

/* fork(): the record table's lock. */
void track_fork_prepare(void);
void track_fork_parent(void);
void track_fork_child(void);

#endif /* KMM_TRACK_H */
