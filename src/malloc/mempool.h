/* SPDX-License-Identifier: MIT */
/*
 * malloc/mempool.h - pools with a reserve (mempool.c), for the public API in
 * src/api.c and the fork handlers in src/init.c.
 */
#ifndef KMM_MALLOC_MEMPOOL_H
#define KMM_MALLOC_MEMPOOL_H

#include <kmm/mempool.h>

#include "../lib/lock.h"

/*
 * mempool_create() - a pool with a reserve of @min_nr (>= 0) elements, taken
 * now from @alloc_fn (not NULL, as @free_fn).  Return: the pool, or NULL
 * with errno ENOMEM.
 */
struct kmm_mempool *mempool_create(int min_nr, kmm_mempool_alloc_t *alloc_fn,
				   kmm_mempool_free_t *free_fn, void *pool_data);

/* Element functions: objects of the cache @pool_data, kmalloc blocks of size (size_t)@pool_data. */
void *mempool_alloc_slab(kmm_gfp_t gfp, void *cache);
void mempool_free_slab(void *element, void *cache);
void *mempool_kmalloc(kmm_gfp_t gfp, void *size);
void mempool_kfree(void *element, void *size);

/* fork(): the mempool list and each pool's lock (src/init.c). */
void mempool_fork_list(enum kmm_fork_op op);
void mempool_fork_pools(enum kmm_fork_op op);

#endif /* KMM_MALLOC_MEMPOOL_H */
