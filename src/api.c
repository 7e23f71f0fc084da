// SPDX-License-Identifier: MIT
/*
 * api.c - the public kernel-style API (<kmm/page.h>, <kmm/slab.h>,
 * <kmm/vmalloc.h>, <kmm/mempool.h>, kmm_dump() and kmm_reclaim()): lazy
 * start-up, argument checks and errno.  Only this boundary (and
 * LD_PRELOAD/malloc.c) starts libkmm up; only the boundary sets errno, the
 * layers below return NULL or -errno.  Mirrors the kernel's wrappers of seed tables 3.1 and 3.2:
 * alloc_pages() -> __alloc_pages(), __get_free_pages() -> alloc_pages(),
 * free_pages() -> __free_pages().
 */
#include <errno.h>
#include <string.h>

#include <kmm/kmm.h>
#include <kmm/mempool.h>
#include <kmm/page.h>
#include <kmm/slab.h>
#include <kmm/vmalloc.h>

#include "dump.h"
#include "init.h"
#include "lib/bug.h"
#include "lib/config.h"
#include "malloc/kvmalloc.h"
#include "malloc/mempool.h"
#include "page/internal.h"
#include "reclaim.h"
#include "slab/slab.h"
#include "track.h"
#include "vmalloc/vmalloc.h"

/* The public page geometry is the one the layers below use (numa/mmzone.h). */
_Static_assert(KMM_PAGE_SHIFT == PAGE_SHIFT && KMM_PAGE_SIZE == PAGE_SIZE,
	       "<kmm/page.h> and numa/mmzone.h disagree on the page size");
_Static_assert(KMM_MAX_PAGE_ORDER == MAX_PAGE_ORDER && KMM_NR_PAGE_ORDERS == NR_PAGE_ORDERS,
	       "<kmm/page.h> and numa/mmzone.h disagree on the page orders");

static __always_inline struct kmm_page *alloc_pages(int nid, kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page = NULL;

	if (likely(kmm_ready()))
		page = alloc_pages_fast(gfp, order, nid);
	if (unlikely(!page))
		errno = ENOMEM;
	return page;
}

__export struct kmm_page *kmm_alloc_pages_node(int nid, kmm_gfp_t gfp, unsigned int order)
{
	return alloc_pages(nid, gfp, order);
}

__export struct kmm_page *kmm_alloc_pages(kmm_gfp_t gfp, unsigned int order)
{
	return alloc_pages(KMM_NUMA_NO_NODE, gfp, order);
}

__export int kmm_numa_nr_node_ids(void)
{
	return kmm_ready() ? kmm_nr_node_ids : 1;
}

__export int kmm_node_online(int nid)
{
	return kmm_ready() && node_online(nid);
}

__export int kmm_numa_node_id(void)
{
	return kmm_ready() ? numa_node_id() : 0;
}

__export int kmm_cpu_to_node(int cpu)
{
	return kmm_ready() ? cpu_to_node(cpu) : 0;
}

__export int kmm_page_to_nid(const struct kmm_page *page)
{
	struct kmm_zone *zone = kmm_ready() ? page_zone_checked(page) : NULL;

	return zone ? zone->node : -1;
}

__export int kmm_addr_to_nid(const void *addr)
{
	struct kmm_zone *zone = kmm_ready() ? addr_to_zone((uintptr_t)addr) : NULL;

	return zone ? zone->node : -1;
}

__export void kmm_free_pages(struct kmm_page *page, unsigned int order)
{
	struct kmm_zone *zone;

	if (!page)
		return;
	zone = kmm_ready() ? page_zone_checked(page) : NULL;
	if (unlikely(!zone))
		kmm_panic("invalid free: %p is not a libkmm page descriptor (order %u)",
			  (void *)page, order);
	free_pages_fast(zone, page, order);
}

__export void *kmm_get_free_pages(kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page = alloc_pages(KMM_NUMA_NO_NODE, gfp, order);

	return page ? page_to_virt(page) : NULL;
}

__export void kmm_free_pages_va(void *addr, unsigned int order)
{
	struct kmm_page *page;

	if (!addr)
		return;
	page = kmm_ready() ? virt_to_page_checked(addr) : NULL;
	if (unlikely(!page))
		kmm_panic("invalid free: %p was not allocated by libkmm (order %u)", addr, order);
	if (unlikely(((uintptr_t)addr & (PAGE_SIZE - 1)) != 0))
		kmm_panic("invalid free: %p is not the start of a page block (order %u)", addr,
			  order);
	free_pages_fast(page_zone(page), page, order);
}

__export void *kmm_page_address(const struct kmm_page *page)
{
	return page_to_virt(page);
}

__export struct kmm_page *kmm_virt_to_page(const void *addr)
{
	if (!kmm_ready())
		return NULL;
	return virt_to_page_checked(addr);
}

__export void kmm_drain_all_pages(void)
{
	if (kmm_ready())
		drain_all_pages();
}

/* ---- slab caches and kmalloc (<kmm/slab.h>) ---- */

__export struct kmm_cache *kmm_cache_create(const char *name, size_t size, size_t align,
					    unsigned long flags, void (*ctor)(void *))
{
	struct kmm_cache *cache;

	if (!kmm_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	if (size == 0 || size > (PAGE_SIZE << SLAB_MAX_ORDER) || (align & (align - 1)) ||
	    align > PAGE_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	cache = cache_create(name, size, align, flags, ctor);
	if (!cache)
		errno = ENOMEM;
	return cache;
}

/*
 * The caller of an exported function, for KMM_TRACK=1.  Inline fast paths do
 * not compute it: their slow paths are cold functions reached by a tail call,
 * whose own return address is the program's.
 */
#define RET_IP __builtin_return_address(0)

static __cold void *cache_alloc_api_slow(struct kmm_cache *cache, kmm_gfp_t gfp, int nid)
{
	void *obj = cache_alloc_slow(cache, gfp, nid);

	if (unlikely(!obj))
		errno = ENOMEM;
	else if (kmm_tracking())
		track_alloc(obj, RET_IP);
	return obj;
}

__export void *kmm_cache_alloc_node(struct kmm_cache *cache, kmm_gfp_t gfp, int nid)
{
	void *obj = NULL;

	if (nid == KMM_NUMA_NO_NODE && !(gfp & KMM_GFP_ZERO))
		obj = slab_alloc_fast(cache);
	if (likely(obj))
		return obj;
	return cache_alloc_api_slow(cache, gfp, nid);
}

__export void *kmm_cache_alloc(struct kmm_cache *cache, kmm_gfp_t gfp)
{
	return kmm_cache_alloc_node(cache, gfp, KMM_NUMA_NO_NODE);
}

static __cold void cache_free_api_slow(struct kmm_cache *cache, void *obj)
{
	if (kmm_tracking())
		track_free(obj, RET_IP);
	cache_free_slow(cache, obj);
}

__export void kmm_cache_free(struct kmm_cache *cache, void *obj)
{
	struct kmm_page *page;

	if (!obj)
		return;
	page = virt_to_page_checked(obj);
	if (unlikely(!page || !(page->flags & (PG_slab | PG_slab_tail))))
		kmm_panic("invalid free of %p to cache %s: not a slab object", obj, cache->name);
	if (unlikely(slab_head(page)->private != cache))
		kmm_panic("invalid free of %p to cache %s: the object belongs to cache %s", obj,
			  cache->name, ((struct kmm_cache *)slab_head(page)->private)->name);
	slab_free_check(page, obj);
	if (!slab_free_fast(cache, obj))
		cache_free_api_slow(cache, obj);
}

__export void kmm_cache_destroy(struct kmm_cache *cache)
{
	if (cache)
		cache_destroy(cache);
}

__export void *kmm_kmalloc_node(size_t size, kmm_gfp_t gfp, int nid)
{
	void *p;

	kswapd_maybe_start();
	p = kmm_ready() ? kv_alloc(size, gfp, nid, 0) : NULL;

	if (unlikely(!p))
		errno = ENOMEM;
	else if (kmm_tracking())
		track_alloc(p, RET_IP);
	return p;
}

__export void *kmm_kmalloc(size_t size, kmm_gfp_t gfp)
{
	return kmm_kmalloc_node(size, gfp, KMM_NUMA_NO_NODE);
}

__export void *kmm_kzalloc(size_t size, kmm_gfp_t gfp)
{
	return kmm_kmalloc_node(size, gfp | KMM_GFP_ZERO, KMM_NUMA_NO_NODE);
}

__export void kmm_kfree(const void *ptr)
{
	if (!ptr)
		return;
	if (kmm_tracking())
		track_free(ptr, RET_IP);
	kv_free((void *)ptr, virt_to_page_checked(ptr));
}

__export size_t kmm_ksize(const void *ptr)
{
	return ptr ? kv_usable_size(ptr, virt_to_page_checked(ptr)) : 0;
}

__export void *kmm_krealloc(void *ptr, size_t size, kmm_gfp_t gfp)
{
	void *p;

	if (!ptr)
		return kmm_kmalloc(size, gfp);
	if (!size) {
		kmm_kfree(ptr);
		return NULL;
	}
	if (kmm_tracking())
		track_free(ptr, RET_IP);
	p = kv_realloc(ptr, size, gfp);
	if (!p)
		errno = ENOMEM;
	if (kmm_tracking())
		track_alloc(p ? p : ptr, RET_IP);
	return p;
}

/* ---- vmalloc (<kmm/vmalloc.h>) ---- */

static void *vmalloc_api(size_t size, kmm_gfp_t gfp, int nid, const void *caller)
{
	void *p;

	kswapd_maybe_start();
	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	p = kmm_ready() ? __vmalloc_node(size, PAGE_SIZE, gfp, nid, VM_ALLOC, caller) : NULL;
	if (unlikely(!p))
		errno = ENOMEM;
	else if (kmm_tracking())
		track_alloc(p, caller);
	return p;
}

__export void *kmm_vmalloc(size_t size)
{
	return vmalloc_api(size, KMM_GFP_KERNEL, KMM_NUMA_NO_NODE, __builtin_return_address(0));
}

__export void *kmm_vzalloc(size_t size)
{
	return vmalloc_api(size, KMM_GFP_ZERO, KMM_NUMA_NO_NODE, __builtin_return_address(0));
}

__export void *kmm_vmalloc_node(size_t size, int nid)
{
	return vmalloc_api(size, KMM_GFP_KERNEL, nid, __builtin_return_address(0));
}

__export void kmm_vfree(const void *p)
{
	if (p && kmm_tracking() && kmm_ready() && is_vmalloc_addr(p))
		track_free(p, RET_IP);
	if (p && !(kmm_ready() && __vfree(p, "vfree")))
		kmm_panic("invalid vfree of %p: not a vmalloc address", p);
}

__export void *kmm_vrealloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return kmm_vmalloc(size);
	if (!kmm_ready() || !is_vmalloc_addr(p))
		kmm_panic("invalid vrealloc of %p: not a vmalloc address", p);
	if (!size) {
		kmm_vfree(p);
		return NULL;
	}
	if (kmm_tracking())
		track_free(p, RET_IP);
	q = __vrealloc(p, size, KMM_GFP_KERNEL);
	if (!q) {
		/* The pages could not move (no MREMAP_DONTUNMAP, no mappings left): copy. */
		size_t old = vmalloc_usable_size(p);

		q = __vmalloc_node(size, PAGE_SIZE, KMM_GFP_KERNEL, KMM_NUMA_NO_NODE, VM_ALLOC,
				   __builtin_return_address(0));
		if (!q) {
			errno = ENOMEM;
			if (kmm_tracking())
				track_alloc(p, RET_IP); /* still allocated */
			return NULL;
		}
		memcpy(q, p, MIN(old, size));
		__vfree(p, "vrealloc");
	}
	if (kmm_tracking())
		track_alloc(q, RET_IP);
	return q;
}

__export void *kmm_vmap(struct kmm_page **pages, unsigned int count)
{
	void *p = kmm_ready() ? __vmap(pages, count, __builtin_return_address(0)) : NULL;

	if (!p)
		errno = ENOMEM;
	return p;
}

__export void kmm_vunmap(const void *addr)
{
	if (!addr)
		return;
	if (!kmm_ready() || !is_vmalloc_addr(addr))
		kmm_panic("invalid vunmap of %p: not a vmalloc address", addr);
	__vunmap(addr);
}

__export struct kmm_page *kmm_vmalloc_to_page(const void *addr)
{
	return kmm_ready() && is_vmalloc_addr(addr) ? vmalloc_to_page(addr) : NULL;
}

__export bool kmm_is_vmalloc_addr(const void *addr)
{
	return kmm_ready() && is_vmalloc_addr(addr);
}

__export void *kmm_kvmalloc(size_t size, kmm_gfp_t gfp)
{
	void *p;

	if (!kmm_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	p = kvmalloc_node(size, gfp, KMM_NUMA_NO_NODE, __builtin_return_address(0));
	if (!p)
		errno = ENOMEM;
	else if (kmm_tracking())
		track_alloc(p, RET_IP);
	return p;
}

__export void kmm_kvfree(const void *p)
{
	if (p && kmm_ready() && is_vmalloc_addr(p))
		kmm_vfree(p);
	else
		kmm_kfree(p);
}

/* ---- mempools (<kmm/mempool.h>) ---- */

__export struct kmm_mempool *kmm_mempool_create(int min_nr, kmm_mempool_alloc_t *alloc_fn,
						kmm_mempool_free_t *free_fn, void *pool_data)
{
	if (min_nr < 0 || !alloc_fn || !free_fn) {
		errno = EINVAL;
		return NULL;
	}
	if (!kmm_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	return mempool_create(min_nr, alloc_fn, free_fn, pool_data);
}

__export struct kmm_mempool *kmm_mempool_create_slab_pool(int min_nr, struct kmm_cache *cache)
{
	if (!cache) {
		errno = EINVAL;
		return NULL;
	}
	return kmm_mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab, cache);
}

__export struct kmm_mempool *kmm_mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	return kmm_mempool_create(min_nr, mempool_kmalloc, mempool_kfree, (void *)size);
}

/* ---- the views and reclaim (<kmm/kmm.h>) ---- */

__export int kmm_dump(int fd, const char *what)
{
	int ret;

	if (!dump_has_view(what)) {
		errno = EINVAL;
		return -1;
	}
	if (!kmm_ready()) {
		errno = ENOMEM;
		return -1;
	}
	ret = dump_view(fd, what);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

__export void kmm_reclaim(void)
{
	if (kmm_ready())
		reclaim_all();
}

/* KMM_STATS_SIGNAL: a program that never allocates still answers the signal. */
__attribute__((constructor)) static void kmm_stats_constructor(void)
{
	if (kmm_getenv("KMM_STATS_SIGNAL"))
		kmm_init();
}
