/* SPDX-License-Identifier: MIT */
/*
 * kmm/mempool.h - memory pools with a guaranteed reserve, after the kernel's
 * include/linux/mempool.h (seed table 3.3: mempool_create()).
 *
 * A pool keeps @min_nr elements aside.  An allocation asks the underlying
 * allocator first and falls back to the reserve when it fails; a free
 * refills the reserve before it gives anything back.  So @min_nr allocations
 * succeed even when memory has run out, as long as the elements come back:
 * the kernel's way to make forward progress on paths that free memory.
 */
#ifndef KMM_MEMPOOL_H
#define KMM_MEMPOOL_H

#include <stddef.h>

#include <kmm/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmm_cache;
struct kmm_mempool;

typedef void *kmm_mempool_alloc_t(kmm_gfp_t gfp, void *pool_data);
typedef void kmm_mempool_free_t(void *element, void *pool_data);

/*
 * kmm_mempool_create() - a pool whose elements come from @alloc_fn and go
 * back through @free_fn, @min_nr of them allocated now as the reserve.
 * Return: the pool, or NULL with errno (ENOMEM: the reserve could not be
 * filled; EINVAL: a negative @min_nr or a missing function).
 */
struct kmm_mempool *kmm_mempool_create(int min_nr, kmm_mempool_alloc_t *alloc_fn,
				       kmm_mempool_free_t *free_fn, void *pool_data);
/* A pool of objects of @cache (kmm_cache_alloc()/kmm_cache_free()). */
struct kmm_mempool *kmm_mempool_create_slab_pool(int min_nr, struct kmm_cache *cache);
/* A pool of @size-byte kmalloc blocks. */
struct kmm_mempool *kmm_mempool_create_kmalloc_pool(int min_nr, size_t size);

/*
 * kmm_mempool_alloc() - an element: from the allocator, else from the
 * reserve.  With KMM_GFP_NOFAIL it waits for an element to be freed when both
 * are empty (retrying the allocator every few seconds, as the kernel does).
 * Return: the element, or NULL with errno = ENOMEM (never with NOFAIL).
 */
void *kmm_mempool_alloc(struct kmm_mempool *pool, kmm_gfp_t gfp);
/* kmm_mempool_free() - refill the reserve if it is short, else free; wakes a waiter. */
void kmm_mempool_free(void *element, struct kmm_mempool *pool);
/*
 * kmm_mempool_resize() - change the reserve to @new_min_nr elements, freeing
 * the surplus or allocating the shortfall.  Return: 0, or -1 with errno =
 * ENOMEM (the pool unchanged).
 */
int kmm_mempool_resize(struct kmm_mempool *pool, int new_min_nr);
/* kmm_mempool_destroy() - free the reserve and the pool (every element must be back). */
void kmm_mempool_destroy(struct kmm_mempool *pool);

#ifdef __cplusplus
}
#endif

#endif /* KMM_MEMPOOL_H */
