/* SPDX-License-Identifier: MIT */
/*
 * kmm/slab.h - object caches and kmalloc, after the kernel's
 * include/linux/slab.h (seed table 3.3: kmem_cache_create()/kmem_cache_alloc(),
 * kmalloc()).
 *
 * A cache hands out objects of one size.  Objects come from slabs (blocks of
 * pages from the page allocator) and are cached per CPU, so the common
 * allocation and free take no lock.  kmalloc picks one of the kmalloc-N
 * caches by size; larger requests take whole pages.
 */
#ifndef KMM_SLAB_H
#define KMM_SLAB_H

#include <stddef.h>

#include <kmm/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmm_cache;

/* Flags for kmm_cache_create(). */
#define KMM_SLAB_HWCACHE_ALIGN 0x1ul /* align objects to a cache line */

/*
 * kmm_cache_create() - a cache of @size-byte objects aligned to @align (0: the
 * natural alignment, at least 16 bytes for sizes of 16 and more).  @ctor, if
 * given, runs once on each object when its slab is created, as the kernel's.
 * @name shows in slabinfo (copied; up to 31 characters).
 * Return: the cache, or NULL with errno (EINVAL for a bad size or alignment).
 */
struct kmm_cache *kmm_cache_create(const char *name, size_t size, size_t align, unsigned long flags,
				   void (*ctor)(void *));
void *kmm_cache_alloc(struct kmm_cache *cache, kmm_gfp_t gfp);
void *kmm_cache_alloc_node(struct kmm_cache *cache, kmm_gfp_t gfp, int nid);
void kmm_cache_free(struct kmm_cache *cache, void *obj);
/* Destroy an empty cache.  Live objects are diagnosed (message, then abort). */
void kmm_cache_destroy(struct kmm_cache *cache);

/* kmalloc: objects of any size.  Sizes above the largest class take pages. */
void *kmm_kmalloc(size_t size, kmm_gfp_t gfp);
void *kmm_kmalloc_node(size_t size, kmm_gfp_t gfp, int nid);
void *kmm_kzalloc(size_t size, kmm_gfp_t gfp);
void *kmm_krealloc(void *ptr, size_t size, kmm_gfp_t gfp);
void kmm_kfree(const void *ptr);
/* The usable size of a kmalloc'd block (the kernel's ksize()). */
size_t kmm_ksize(const void *ptr);

/* The largest size served by a kmalloc-N cache. */
#define KMM_KMALLOC_MAX_CACHE_SIZE 32768

#ifdef __cplusplus
}
#endif

#endif /* KMM_SLAB_H */
