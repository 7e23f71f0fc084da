/* SPDX-License-Identifier: MIT */
/*
 * malloc/kvmalloc.h - the malloc layer: a block of any size from the layer
 * that suits it, as the kernel's kvmalloc() family (mm/util.c) chooses for
 * its callers.  Up to KMALLOC_LARGE_MAX (4 MiB), for an alignment up to that
 * too, kmalloc: a slab object, or a page run above 32 KiB (from 1 MiB, an
 * area instead where the zone would grow for the run while the vmalloc cache
 * holds as much: kv_alloc_large()).  Beyond, a vmalloc area.  A pointer
 * tells which: a descriptor in the zones means kmalloc, none means an area
 * (or not libkmm's).  kmalloc never calls vmalloc; this layer calls both.
 */
#ifndef KMM_MALLOC_KVMALLOC_H
#define KMM_MALLOC_KVMALLOC_H

#include "../slab/secure.h"
#include "../slab/slab.h"
#include "../vmalloc/vmalloc.h"

/*
 * No block is as large as half the address space: a size above PTRDIFF_MAX
 * fails (glibc refuses it too) before any computation on it can wrap.
 */
#define KV_SIZE_LIMIT ((size_t)PTRDIFF_MAX)

/* A vmalloc area for a block beyond kmalloc (kv_alloc()'s slow side). */
void *kv_alloc_area(size_t size, kmm_gfp_t gfp, int nid, size_t align);

/* From here on a block may be a vmalloc area instead of a page run (kv_alloc_large()). */
#define KV_RUN_AREA_MIN (1UL << 20)

/*
 * A block of KV_RUN_AREA_MIN bytes and up, or aligned beyond
 * KMALLOC_LARGE_MAX: kv_alloc()'s out-of-line side, one branch on its path.
 */
void *kv_alloc_large(size_t size, kmm_gfp_t gfp, int nid, size_t align);

/* A slab object or page run from kmalloc (an area where KMM_SECURE's run does not fit). */
static inline void *kv_alloc_kmalloc(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	void *p = __kmalloc(size, gfp, nid, align);

	/* KMM_SECURE: a run with its guard pages may not fit in the largest block. */
	if (unlikely(!p && slab_secure))
		p = kv_alloc_area(size, gfp, nid, align);
	return p;
}

/*
 * kv_alloc() - @size bytes aligned to @align (0 or a power of two; 16 is
 * always given) on node @nid, zeroed with KMM_GFP_ZERO.  Return: the block,
 * or NULL (no errno set).
 */
static inline void *kv_alloc(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	if (unlikely(size >= KV_RUN_AREA_MIN || align > KMALLOC_LARGE_MAX))
		return kv_alloc_large(size, gfp, nid, align);
	return kv_alloc_kmalloc(size, gfp, nid, align);
}

/*
 * kv_free() - free the block at @p, whose descriptor is @page
 * (virt_to_page_checked(): NULL for an area).  A pointer that is no block
 * is reported and aborts.
 */
void kv_free(void *p, struct kmm_page *page);

/* The usable size of the block at @p (descriptor @page), or 0 if it is none. */
size_t kv_usable_size(const void *p, struct kmm_page *page);

/*
 * kv_realloc() - resize the block at @p (not NULL) to @size (not 0) bytes:
 * in place where it can, else moved (pages by mremap, or bytes copied).
 * Return: the block, or NULL with the old one unchanged.  A pointer that is
 * no block is reported and aborts.
 */
void *kv_realloc(void *p, size_t size, kmm_gfp_t gfp);

/*
 * kvmalloc_node() - the kernel's kvmalloc_node(): kmalloc for up to
 * KMALLOC_LARGE_MAX, and a page-aligned vmalloc area (VM_ALLOC, shown as
 * @caller's) when that fails or for a larger @size.  Return: the block, or
 * NULL (no errno set).
 */
void *kvmalloc_node(size_t size, kmm_gfp_t gfp, int nid, const void *caller);

#endif /* KMM_MALLOC_KVMALLOC_H */
