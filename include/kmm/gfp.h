/* SPDX-License-Identifier: MIT */
/*
 * kmm/gfp.h - allocation flags ("get free pages" flags), after the kernel's
 * include/linux/gfp_types.h.
 *
 * A kmm_gfp_t says where memory may come from and how it is prepared.  The
 * zone modifiers pick the highest zone an allocation may use; the action
 * modifiers say what to do with the memory before it is returned.
 */
#ifndef KMM_GFP_H
#define KMM_GFP_H

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int kmm_gfp_t;

/* The ordinary request: any zone of the local node, falling back by distance. */
#define KMM_GFP_KERNEL 0x0u
/* Return the memory filled with zeros (the kernel's __GFP_ZERO). */
#define KMM_GFP_ZERO 0x1u
/*
 * Only memory below 4 GiB (the kernel's __GFP_DMA32): for JITs, compressed
 * pointers and anything else that needs 32-bit addresses.
 */
#define KMM_GFP_DMA32 0x2u
/* Do not fall back to other nodes (the kernel's __GFP_THISNODE). */
#define KMM_GFP_THISNODE 0x4u
/* Do not print a warning on failure (the kernel's __GFP_NOWARN). Reserved. */
#define KMM_GFP_NOWARN 0x8u
/*
 * Wait rather than fail (the kernel's __GFP_NOFAIL, and the waiting of
 * mempool_alloc() with __GFP_DIRECT_RECLAIM): kmm_mempool_alloc() sleeps until
 * an element is given back when the allocator and the reserve are both empty.
 */
#define KMM_GFP_NOFAIL 0x10u

/* "Any node": let the allocator choose the local one (the kernel's NUMA_NO_NODE). */
#define KMM_NUMA_NO_NODE (-1)

#ifdef __cplusplus
}
#endif

#endif /* KMM_GFP_H */
