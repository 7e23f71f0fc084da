/* SPDX-License-Identifier: MIT */
/*
 * mempolicy.h - which node an allocation comes from (the kernel's task
 * mempolicy, set once for the process by KMM_NUMA) and the per-node
 * allocation counters that numastat shows (the kernel's NUMA_HIT ...).
 *
 * Policy.  An allocation that names a node starts from that node's zonelist.
 * One that names none (KMM_NUMA_NO_NODE: malloc, kmm_kmalloc, kmm_alloc_pages)
 * starts from policy_node(): the node of the CPU the thread runs on (local,
 * the default), a fixed node (KMM_NUMA=<nid>, the kernel's MPOL_PREFERRED),
 * or the next node round-robin (interleave, page by page as the kernel
 * interleaves: a slab's objects come from its pages' node, so small objects
 * interleave a slab at a time).  Every policy falls back along the zonelist.
 *
 * Counters.  Every page allocation counts its pages once, per node, as the
 * kernel's zone_statistics() does: a hit on the node it wanted or a miss on
 * the node it got (and foreign on the node it wanted), local or other by the
 * CPU's node, and interleave_hit when interleave got the node it chose.  The
 * counters are per CPU, added with one rseq instruction on the fast path;
 * threads without rseq add atomically to a row of their own.
 */
#ifndef KMM_NUMA_MEMPOLICY_H
#define KMM_NUMA_MEMPOLICY_H

#include "../lib/rseq.h"
#include "mmzone.h"

enum kmm_mpol_mode { MPOL_MODE_LOCAL, MPOL_MODE_PREFERRED, MPOL_MODE_INTERLEAVE };

extern int kmm_mpol_mode;
extern int kmm_mpol_node; /* MPOL_MODE_PREFERRED's node */
/*
 * A free of a slab object from another node than the one this thread
 * allocates from goes back to its own node's slab: set when there is more
 * than one node and the policy is not interleave (under which every node is
 * this thread's).
 */
extern bool kmm_numa_remote_free;

/* Parse KMM_NUMA against the topology (after numa_init()).  Return: 0. */
int mempolicy_init(void);

int policy_node_slow(bool *interleaved);

/*
 * policy_node() - the node an allocation that names none starts from.
 * @interleaved: set to true when the interleave policy chose the node.
 */
static __always_inline int policy_node(bool *interleaved)
{
	*interleaved = false;
	if (likely(kmm_mpol_mode == MPOL_MODE_LOCAL))
		return numa_node_id();
	return policy_node_slow(interleaved);
}

/* The node a slab free compares its object's node with (see kmm_numa_remote_free). */
static inline int slab_home_node(void)
{
	return kmm_mpol_mode == MPOL_MODE_PREFERRED ? kmm_mpol_node : numa_node_id();
}

/* The node of an address in the arena (DMA32 is node 0's). */
static inline int addr_to_nid(uintptr_t addr)
{
	if (addr - kmm_arena.normal_base < kmm_arena.normal_end - kmm_arena.normal_base)
		return (int)((addr - kmm_arena.normal_base) >> kmm_arena.node_shift);
	return 0;
}

/*
 * The counters: hit or miss crossed with local or other, so that the common
 * allocation (a local hit) is one add.
 */
enum numa_event {
	NUMA_HIT_LOCAL,
	NUMA_HIT_OTHER,
	NUMA_MISS_LOCAL,
	NUMA_MISS_OTHER,
	NUMA_FOREIGN,
	NUMA_INTERLEAVE_HIT,
	NR_NUMA_EVENTS
};

/* Row c is CPU c's (rseq adds only); row kmm_nr_cpu_ids takes atomic adds. */
extern unsigned long *numa_events;
extern long numa_events_stride; /* bytes between two CPUs' rows */

void numa_event_add_atomic(unsigned long *counter, unsigned long n);

static __always_inline void numa_event_add(int nid, enum numa_event ev, unsigned long n)
{
	unsigned long *counter = numa_events + nid * NR_NUMA_EVENTS + ev;

#if KMM_HAVE_RSEQ_ASM
	if (likely(kmm_rseq_usable) &&
	    likely(rseq_percpu_add(kmm_rseq_offset, counter, numa_events_stride,
				   (unsigned int)kmm_nr_cpu_ids, n) == 0))
		return;
#endif
	numa_event_add_atomic(counter, n);
}

/*
 * zone_statistics() - count an allocation of @pages pages that wanted node
 * @preferred and got node @nid.
 */
void numa_count_alloc(int preferred, int nid, unsigned long pages, bool interleaved);

/* The sum of one counter over all CPUs. */
unsigned long numa_event_sum(int nid, enum numa_event ev);

struct kmm_seq;
/* The numastat command's table: one column per node. */
void show_numastat(struct kmm_seq *m);

#endif /* KMM_NUMA_MEMPOLICY_H */
