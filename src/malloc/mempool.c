// SPDX-License-Identifier: MIT
/*
 * mempool.c - pools with a reserve of elements (the kernel's mm/mempool.c).
 *
 * The reserve is a stack of @min_nr element pointers under the pool's lock.
 * mempool_alloc(): the allocator first (the reserve is for when it fails),
 * then the reserve, then, with KMM_GFP_NOFAIL, a wait on a futex word that
 * every free bumps.  mempool_free(): a short reserve is refilled first, which
 * is what guarantees a waiter its element.  The pool sits in the malloc layer
 * (its own metadata is kv_alloc()'d) and calls nothing above it: the element
 * functions are the caller's, or the slab and kmalloc ones below.  The
 * public constructors, which start libkmm up, are in src/api.c.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <kmm/mempool.h>

#include "../lib/bug.h"
#include "../lib/lock.h"
#include "kvmalloc.h"
#include "mempool.h"

struct kmm_mempool {
	struct kmm_lock lock;
	struct kmm_list list; /* mempool_list */
	int min_nr;	      /* reserve wanted */
	int curr_nr;	      /* reserve held */
	void **elements;
	kmm_mempool_alloc_t *alloc;
	kmm_mempool_free_t *free;
	void *pool_data;
	uint32_t wait_seq; /* bumped by every free; waiters sleep on it */
	uint32_t waiters;
};

/* Every pool, for fork(): its handlers take, release or reset each pool's lock. */
static struct kmm_lock mempool_list_lock = KMM_LOCK_INIT;
static struct kmm_list mempool_list = { &mempool_list, &mempool_list };

/* The kernel retries the allocator every 5 s while it waits (io_schedule_timeout). */
#define MEMPOOL_RETRY_SEC 5

static void *kmalloc_elements(int n)
{
	return kv_alloc((size_t)(n ? n : 1) * sizeof(void *), 0, KMM_NUMA_NO_NODE, 0);
}

static void kfree_any(void *p)
{
	if (p)
		kv_free(p, virt_to_page_checked(p));
}

static void add_element(struct kmm_mempool *pool, void *element)
{
	pool->elements[pool->curr_nr++] = element;
}

static void *remove_element(struct kmm_mempool *pool)
{
	return pool->elements[--pool->curr_nr];
}

struct kmm_mempool *mempool_create(int min_nr, kmm_mempool_alloc_t *alloc_fn,
				   kmm_mempool_free_t *free_fn, void *pool_data)
{
	struct kmm_mempool *pool;

	pool = kv_alloc(sizeof(*pool), KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);
	if (!pool || !(pool->elements = kmalloc_elements(min_nr))) {
		kfree_any(pool);
		errno = ENOMEM;
		return NULL;
	}
	kmm_lock_init(&pool->lock);
	kmm_lock(&mempool_list_lock);
	list_add_tail(&pool->list, &mempool_list);
	kmm_unlock(&mempool_list_lock);
	pool->min_nr = min_nr;
	pool->alloc = alloc_fn;
	pool->free = free_fn;
	pool->pool_data = pool_data;
	/* The reserve, now: a pool that cannot hold it is no pool. */
	while (pool->curr_nr < min_nr) {
		void *element = alloc_fn(KMM_GFP_KERNEL, pool_data);

		if (!element) {
			kmm_mempool_destroy(pool);
			errno = ENOMEM;
			return NULL;
		}
		add_element(pool, element);
	}
	return pool;
}

/* The slab layer's and kmalloc's element functions (the kernel's mempool_alloc_slab() and friends). */
void *mempool_alloc_slab(kmm_gfp_t gfp, void *cache)
{
	void *obj = (gfp & KMM_GFP_ZERO) ? NULL : slab_alloc_fast(cache);

	return obj ? obj : cache_alloc_slow(cache, gfp & ~KMM_GFP_NOFAIL, KMM_NUMA_NO_NODE);
}

void mempool_free_slab(void *element, void *cache)
{
	struct kmm_page *page = virt_to_page_checked(element);

	if (!page || !(page->flags & (PG_slab | PG_slab_tail)) || slab_head(page)->private != cache)
		kmm_panic("mempool: invalid free of %p to cache %s", element,
			  ((struct kmm_cache *)cache)->name);
	slab_free_check(page, element);
	if (!slab_free_fast(cache, element))
		cache_free_slow(cache, element);
}

void *mempool_kmalloc(kmm_gfp_t gfp, void *size)
{
	return kv_alloc((size_t)size, gfp & ~KMM_GFP_NOFAIL, KMM_NUMA_NO_NODE, 0);
}

void mempool_kfree(void *element, void *size)
{
	(void)size;
	kv_free(element, virt_to_page_checked(element));
}

static void futex_wait_sec(uint32_t *addr, uint32_t val, int sec)
{
	struct timespec ts = { sec, 0 };

	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

__export void *kmm_mempool_alloc(struct kmm_mempool *pool, kmm_gfp_t gfp)
{
	int saved = errno;

	for (;;) {
		uint32_t seq;
		void *element = pool->alloc(gfp & ~KMM_GFP_NOFAIL, pool->pool_data);

		if (element) {
			errno = saved;
			return element;
		}
		kmm_lock(&pool->lock);
		if (pool->curr_nr) {
			element = remove_element(pool);
			kmm_unlock(&pool->lock);
			errno = saved;
			return element;
		}
		if (!(gfp & KMM_GFP_NOFAIL)) {
			kmm_unlock(&pool->lock);
			errno = ENOMEM;
			return NULL;
		}
		/* Both empty: sleep until a free (or a few seconds), then try it all again. */
		seq = __atomic_load_n(&pool->wait_seq, __ATOMIC_ACQUIRE);
		pool->waiters++;
		kmm_unlock(&pool->lock);
		futex_wait_sec(&pool->wait_seq, seq, MEMPOOL_RETRY_SEC);
		kmm_lock(&pool->lock);
		pool->waiters--;
		if (pool->curr_nr) {
			element = remove_element(pool);
			kmm_unlock(&pool->lock);
			errno = saved;
			return element;
		}
		kmm_unlock(&pool->lock);
	}
}

__export void kmm_mempool_free(void *element, struct kmm_mempool *pool)
{
	if (!element)
		return;
	kmm_lock(&pool->lock);
	if (pool->curr_nr < pool->min_nr) {
		add_element(pool, element);
		__atomic_fetch_add(&pool->wait_seq, 1, __ATOMIC_RELEASE);
		if (pool->waiters)
			syscall(SYS_futex, &pool->wait_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
				0);
		kmm_unlock(&pool->lock);
		return;
	}
	kmm_unlock(&pool->lock);
	pool->free(element, pool->pool_data);
}

__export int kmm_mempool_resize(struct kmm_mempool *pool, int new_min_nr)
{
	void **elements;

	if (new_min_nr < 0) {
		errno = EINVAL;
		return -1;
	}
	kmm_lock(&pool->lock);
	if (new_min_nr <= pool->min_nr) {
		/* Shrink: the surplus of the reserve goes back, outside the lock. */
		while (pool->curr_nr > new_min_nr) {
			void *element = remove_element(pool);

			kmm_unlock(&pool->lock);
			pool->free(element, pool->pool_data);
			kmm_lock(&pool->lock);
		}
		pool->min_nr = new_min_nr;
		kmm_unlock(&pool->lock);
		return 0;
	}
	kmm_unlock(&pool->lock);
	elements = kmalloc_elements(new_min_nr);
	if (!elements) {
		errno = ENOMEM;
		return -1;
	}
	kmm_lock(&pool->lock);
	memcpy(elements, pool->elements, (size_t)pool->curr_nr * sizeof(void *));
	kfree_any(pool->elements);
	pool->elements = elements;
	pool->min_nr = new_min_nr;
	/* Grow: fill the reserve, the allocator called without the lock. */
	while (pool->curr_nr < pool->min_nr) {
		void *element;

		kmm_unlock(&pool->lock);
		element = pool->alloc(KMM_GFP_KERNEL, pool->pool_data);
		if (!element) {
			/* The kernel keeps the new size and lets frees fill it; so do we. */
			errno = ENOMEM;
			return -1;
		}
		kmm_lock(&pool->lock);
		if (pool->curr_nr < pool->min_nr) {
			add_element(pool, element);
		} else {
			kmm_unlock(&pool->lock);
			pool->free(element, pool->pool_data);
			kmm_lock(&pool->lock);
		}
	}
	kmm_unlock(&pool->lock);
	return 0;
}

__export void kmm_mempool_destroy(struct kmm_mempool *pool)
{
	if (!pool)
		return;
	if (pool->waiters)
		kmm_panic("mempool_destroy of %p: %u allocations still wait on it", (void *)pool,
			  pool->waiters);
	kmm_lock(&mempool_list_lock);
	list_del(&pool->list);
	kmm_unlock(&mempool_list_lock);
	while (pool->curr_nr)
		pool->free(remove_element(pool), pool->pool_data);
	kfree_any(pool->elements);
	kfree_any(pool);
}

/*
 * fork() (src/init.c lists every lock in order): the pool list, then each
 * pool.  A pool's lock comes before the allocator's: kmm_mempool_resize()
 * frees the old reserve array under it.  The child's only thread waits on no
 * pool, so its pools have no waiters.
 */
void mempool_fork_list(enum kmm_fork_op op)
{
	kmm_lock_fork(&mempool_list_lock, op);
}

void mempool_fork_pools(enum kmm_fork_op op)
{
	struct kmm_list *pos;

	list_for_each (pos, &mempool_list) {
		struct kmm_mempool *pool = list_entry(pos, struct kmm_mempool, list);

		kmm_lock_fork(&pool->lock, op);
		if (op == FORK_RESET)
			pool->waiters = 0;
	}
}
