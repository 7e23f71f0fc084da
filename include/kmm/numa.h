/* SPDX-License-Identifier: MIT */
/*
 * kmm/numa.h - NUMA topology as libkmm sees it (the kernel's numa_node_id(),
 * cpu_to_node() and page_to_nid()).  With KMM_FAKE_NUMA=N these describe the
 * made-up nodes.  Allocation on a chosen node is kmm_alloc_pages_node(),
 * kmm_kmalloc_node(), kmm_cache_alloc_node() and kmm_vmalloc_node(); where
 * malloc's memory comes from is KMM_NUMA=local|interleave|<node>.
 */
#ifndef KMM_NUMA_H
#define KMM_NUMA_H

#include <kmm/page.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Highest node id + 1 (nodes may be absent in between: see kmm_node_online()). */
int kmm_numa_nr_node_ids(void);
/* Whether node @nid exists. */
int kmm_node_online(int nid);
/* The node of the CPU this thread runs on now. */
int kmm_numa_node_id(void);
/* The node of CPU @cpu (0 for a CPU libkmm does not know). */
int kmm_cpu_to_node(int cpu);
/* The node whose memory @page is. */
int kmm_page_to_nid(const struct kmm_page *page);
/*
 * The node of the libkmm memory that holds @addr (heap, page or slab memory),
 * or -1 when libkmm's arena does not hold @addr (vmalloc areas are stitched
 * from several nodes' pages: use kmm_vmalloc_to_page() and kmm_page_to_nid()).
 */
int kmm_addr_to_nid(const void *addr);

#ifdef __cplusplus
}
#endif

#endif /* KMM_NUMA_H */
