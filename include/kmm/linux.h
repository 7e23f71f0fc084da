/* SPDX-License-Identifier: MIT */
/*
 * kmm/linux.h - the kernel's names for libkmm's API, so that kernel code that
 * allocates memory compiles unchanged in user space:
 *
 *	#include <kmm/linux.h>	// instead of <linux/slab.h>, <linux/gfp.h>,
 *				// <linux/vmalloc.h>, <linux/mempool.h>, <linux/mm.h>
 *
 * What it maps: kmalloc, kmalloc_node, kzalloc, kcalloc, kmalloc_array,
 * krealloc, kfree, ksize, kmemdup, kstrdup; kmem_cache_create, KMEM_CACHE,
 * kmem_cache_alloc, kmem_cache_zalloc, kmem_cache_alloc_node, kmem_cache_free,
 * kmem_cache_destroy; alloc_pages, alloc_page, alloc_pages_node, __free_pages,
 * __free_page, __get_free_pages, __get_free_page, get_zeroed_page,
 * free_pages, free_page, page_address, virt_to_page, page_to_nid; vmalloc,
 * vzalloc, vmalloc_node, vfree, vmalloc_to_page, is_vmalloc_addr, kvmalloc,
 * kvzalloc, kvmalloc_array, kvcalloc, kvfree; mempool_t and mempool_create,
 * mempool_create_slab_pool, mempool_create_kmalloc_pool, mempool_alloc,
 * mempool_free, mempool_resize, mempool_destroy, mempool_alloc_slab,
 * mempool_free_slab, mempool_kmalloc, mempool_kfree; numa_node_id,
 * cpu_to_node; the GFP_* and SLAB_* flags below; struct page, struct
 * kmem_cache, gfp_t, PAGE_SIZE, PAGE_SHIFT, MAX_PAGE_ORDER, NUMA_NO_NODE.
 *
 * What differs from the kernel in user space:
 *  - There is no interrupt context and no reclaim to wait for.  GFP_ATOMIC and
 *    GFP_NOWAIT allocate the same way as GFP_KERNEL, GFP_NOIO and GFP_NOFS
 *    (the same paths, no emergency reserves); none of them sleeps for memory,
 *    and a failure returns NULL at once.  The one difference they keep is the
 *    kernel's for mempools: mempool_alloc() with GFP_KERNEL/GFP_NOIO/GFP_NOFS
 *    (which allow direct reclaim) waits for an element to come back rather than
 *    fail, as the kernel's does; with GFP_ATOMIC/GFP_NOWAIT it returns NULL.
 *  - __GFP_NOFAIL makes mempool_alloc() wait; kmalloc, alloc_pages and the
 *    others still return NULL when memory runs out (KMM_ARENA_LIMIT, or the
 *    system's), they do not loop forever.
 *  - Allocating functions may take locks: they are not async-signal-safe, so
 *    do not call them from a signal handler (the kernel's "atomic context").
 *  - GFP_DMA32 means a virtual address below 4 GiB.  There are no physical
 *    addresses: no virt_to_phys, no DMA mapping, and memory may be swapped.
 *  - struct page is opaque: no page->flags, page_count(), get_page()/put_page()
 *    or page->lru.  virt_to_page() works on kmalloc, slab and page memory and
 *    returns NULL (not garbage) for any other address; a vmalloc address needs
 *    vmalloc_to_page().
 *  - kmalloc(0) returns the smallest object, not ZERO_SIZE_PTR.
 *  - kmem_cache_create() copies @name (up to 31 characters) and keeps only
 *    SLAB_HWCACHE_ALIGN; SLAB_ACCOUNT and SLAB_RECLAIM_ACCOUNT (memory cgroups)
 *    are accepted and mean nothing; SLAB_PANIC aborts when creation fails.
 *  - Misuse (a double free, a free to the wrong cache, a wrong order, a cache
 *    destroyed with live objects) is reported on stderr and aborts: there is
 *    no oops to survive.
 *  - No vmap() (its pgprot_t has no user-space meaning: use kmm_vmap()), no
 *    __GFP_HIGHMEM, __GFP_MOVABLE or __GFP_RETRY_MAYFAIL: code that uses them
 *    does not compile, rather than compile to something else.
 *
 * Everything here is a macro or a static inline function over <kmm/kmm.h>;
 * libkmm's own names stay available.  Link with `pkg-config --libs kmm`.
 */
#ifndef KMM_LINUX_H
#define KMM_LINUX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/kmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GFP flags ---- */

typedef kmm_gfp_t gfp_t;

/*
 * May wait for memory to be freed: kept here only to tell mempool_alloc()
 * whether to wait (libkmm's allocators never wait), and never passed to libkmm.
 */
#define __GFP_DIRECT_RECLAIM 0x400u
#define __GFP_ZERO KMM_GFP_ZERO
#define __GFP_NOWARN KMM_GFP_NOWARN
#define __GFP_NOFAIL KMM_GFP_NOFAIL
#define __GFP_THISNODE KMM_GFP_THISNODE
#define __GFP_DMA32 KMM_GFP_DMA32

#define GFP_KERNEL __GFP_DIRECT_RECLAIM
#define GFP_NOIO __GFP_DIRECT_RECLAIM
#define GFP_NOFS __GFP_DIRECT_RECLAIM
#define GFP_USER __GFP_DIRECT_RECLAIM
#define GFP_ATOMIC 0u
#define GFP_NOWAIT 0u
#define GFP_DMA32 (GFP_KERNEL | __GFP_DMA32)

/* The flags libkmm knows: what every wrapper passes on. */
static inline kmm_gfp_t __kmm_gfp(gfp_t flags)
{
	return flags &
	       (KMM_GFP_ZERO | KMM_GFP_DMA32 | KMM_GFP_THISNODE | KMM_GFP_NOWARN | KMM_GFP_NOFAIL);
}

#define NUMA_NO_NODE KMM_NUMA_NO_NODE
#define PAGE_SHIFT KMM_PAGE_SHIFT
#define PAGE_SIZE KMM_PAGE_SIZE
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define MAX_PAGE_ORDER KMM_MAX_PAGE_ORDER
#define KMALLOC_MAX_CACHE_SIZE KMM_KMALLOC_MAX_CACHE_SIZE

static inline int numa_node_id(void)
{
	return kmm_numa_node_id();
}

static inline int cpu_to_node(int cpu)
{
	return kmm_cpu_to_node(cpu);
}

/* ---- kmalloc (<linux/slab.h>) ---- */

static inline void *kmalloc(size_t size, gfp_t flags)
{
	return kmm_kmalloc(size, __kmm_gfp(flags));
}

static inline void *kmalloc_node(size_t size, gfp_t flags, int node)
{
	return kmm_kmalloc_node(size, __kmm_gfp(flags), node);
}

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return kmm_kzalloc(size, __kmm_gfp(flags));
}

static inline void *kzalloc_node(size_t size, gfp_t flags, int node)
{
	return kmm_kmalloc_node(size, __kmm_gfp(flags) | KMM_GFP_ZERO, node);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, flags);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return kmalloc_array(n, size, flags | __GFP_ZERO);
}

static inline void *krealloc(const void *p, size_t new_size, gfp_t flags)
{
	return kmm_krealloc((void *)p, new_size, __kmm_gfp(flags));
}

static inline void kfree(const void *p)
{
	kmm_kfree(p);
}

static inline size_t ksize(const void *p)
{
	return kmm_ksize(p);
}

static inline void *kmemdup(const void *src, size_t len, gfp_t flags)
{
	void *p = kmalloc(len, flags);

	if (p)
		memcpy(p, src, len);
	return p;
}

static inline char *kstrdup(const char *s, gfp_t flags)
{
	return s ? (char *)kmemdup(s, strlen(s) + 1, flags) : NULL;
}

/* ---- slab caches (<linux/slab.h>) ---- */

/* An opaque handle: a struct kmm_cache under the kernel's name. */
struct kmem_cache;
typedef unsigned long slab_flags_t;

#define SLAB_HWCACHE_ALIGN KMM_SLAB_HWCACHE_ALIGN
#define SLAB_PANIC 0x40000ul
#define SLAB_ACCOUNT 0x4000000ul
#define SLAB_RECLAIM_ACCOUNT 0x20000ul

static inline struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
						   unsigned int align, slab_flags_t flags,
						   void (*ctor)(void *))
{
	struct kmm_cache *c = kmm_cache_create(name, size, align, flags & SLAB_HWCACHE_ALIGN, ctor);

	if (!c && (flags & SLAB_PANIC))
		abort();
	return (struct kmem_cache *)c;
}

/* A cache named and sized after a struct, as the kernel's KMEM_CACHE(). */
#define KMEM_CACHE(__struct, __flags)                                                              \
	kmem_cache_create(#__struct, sizeof(struct __struct), __alignof__(struct __struct),        \
			  (__flags), NULL)

static inline void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)
{
	return kmm_cache_alloc((struct kmm_cache *)s, __kmm_gfp(flags));
}

static inline void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node)
{
	return kmm_cache_alloc_node((struct kmm_cache *)s, __kmm_gfp(flags), node);
}

static inline void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)
{
	return kmem_cache_alloc(s, flags | __GFP_ZERO);
}

static inline void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	kmm_cache_free((struct kmm_cache *)s, obj);
}

static inline void kmem_cache_destroy(struct kmem_cache *s)
{
	kmm_cache_destroy((struct kmm_cache *)s);
}

/* ---- the page allocator (<linux/gfp.h>, <linux/mm.h>) ---- */

/* An opaque page descriptor: a struct kmm_page under the kernel's name. */
struct page;

static inline struct page *alloc_pages(gfp_t flags, unsigned int order)
{
	return (struct page *)kmm_alloc_pages(__kmm_gfp(flags), order);
}

static inline struct page *alloc_page(gfp_t flags)
{
	return alloc_pages(flags, 0);
}

static inline struct page *alloc_pages_node(int nid, gfp_t flags, unsigned int order)
{
	return (struct page *)kmm_alloc_pages_node(nid, __kmm_gfp(flags), order);
}

static inline void __free_pages(struct page *page, unsigned int order)
{
	kmm_free_pages((struct kmm_page *)page, order);
}

static inline void __free_page(struct page *page)
{
	__free_pages(page, 0);
}

static inline unsigned long __get_free_pages(gfp_t flags, unsigned int order)
{
	return (unsigned long)kmm_get_free_pages(__kmm_gfp(flags), order);
}

static inline unsigned long __get_free_page(gfp_t flags)
{
	return __get_free_pages(flags, 0);
}

static inline unsigned long get_zeroed_page(gfp_t flags)
{
	return __get_free_pages(flags | __GFP_ZERO, 0);
}

/* As the kernel's, an address of 0 is ignored. */
static inline void free_pages(unsigned long addr, unsigned int order)
{
	if (addr)
		kmm_free_pages_va((void *)addr, order);
}

static inline void free_page(unsigned long addr)
{
	free_pages(addr, 0);
}

static inline void *page_address(const struct page *page)
{
	return kmm_page_address((const struct kmm_page *)page);
}

static inline struct page *virt_to_page(const void *addr)
{
	return (struct page *)kmm_virt_to_page(addr);
}

static inline int page_to_nid(const struct page *page)
{
	return kmm_page_to_nid((const struct kmm_page *)page);
}

/* ---- vmalloc (<linux/vmalloc.h>, <linux/slab.h>) ---- */

static inline void *vmalloc(unsigned long size)
{
	return kmm_vmalloc(size);
}

static inline void *vzalloc(unsigned long size)
{
	return kmm_vzalloc(size);
}

static inline void *vmalloc_node(unsigned long size, int node)
{
	return kmm_vmalloc_node(size, node);
}

static inline void vfree(const void *addr)
{
	kmm_vfree(addr);
}

static inline struct page *vmalloc_to_page(const void *addr)
{
	return (struct page *)kmm_vmalloc_to_page(addr);
}

static inline bool is_vmalloc_addr(const void *addr)
{
	return kmm_is_vmalloc_addr(addr);
}

static inline void *kvmalloc(size_t size, gfp_t flags)
{
	return kmm_kvmalloc(size, __kmm_gfp(flags));
}

static inline void *kvzalloc(size_t size, gfp_t flags)
{
	return kvmalloc(size, flags | __GFP_ZERO);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kvmalloc(bytes, flags);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	return kvmalloc_array(n, size, flags | __GFP_ZERO);
}

static inline void kvfree(const void *addr)
{
	kmm_kvfree(addr);
}

/* ---- mempool (<linux/mempool.h>) ---- */

typedef struct kmm_mempool mempool_t;
typedef kmm_mempool_alloc_t mempool_alloc_t;
typedef kmm_mempool_free_t mempool_free_t;

static inline mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn,
					mempool_free_t *free_fn, void *pool_data)
{
	return kmm_mempool_create(min_nr, alloc_fn, free_fn, pool_data);
}

static inline mempool_t *mempool_create_slab_pool(int min_nr, struct kmem_cache *cache)
{
	return kmm_mempool_create_slab_pool(min_nr, (struct kmm_cache *)cache);
}

static inline mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	return kmm_mempool_create_kmalloc_pool(min_nr, size);
}

/* Waits for a freed element when @flags allow direct reclaim, as the kernel's. */
static inline void *mempool_alloc(mempool_t *pool, gfp_t flags)
{
	kmm_gfp_t gfp = __kmm_gfp(flags);

	if (flags & __GFP_DIRECT_RECLAIM)
		gfp |= KMM_GFP_NOFAIL;
	return kmm_mempool_alloc(pool, gfp);
}

static inline void mempool_free(void *element, mempool_t *pool)
{
	if (element)
		kmm_mempool_free(element, pool);
}

/* Return: 0, or -ENOMEM as the kernel's (errno is set too). */
static inline int mempool_resize(mempool_t *pool, int new_min_nr)
{
	return kmm_mempool_resize(pool, new_min_nr) ? -ENOMEM : 0;
}

static inline void mempool_destroy(mempool_t *pool)
{
	kmm_mempool_destroy(pool);
}

/* The element functions of the kernel's slab and kmalloc pools, for mempool_create(). */
static inline void *mempool_alloc_slab(gfp_t flags, void *pool_data)
{
	return kmem_cache_alloc((struct kmem_cache *)pool_data, flags);
}

static inline void mempool_free_slab(void *element, void *pool_data)
{
	kmem_cache_free((struct kmem_cache *)pool_data, element);
}

static inline void *mempool_kmalloc(gfp_t flags, void *pool_data)
{
	return kmalloc((size_t)pool_data, flags);
}

static inline void mempool_kfree(void *element, void *pool_data)
{
	(void)pool_data;
	kfree(element);
}

#ifdef __cplusplus
}
#endif

#endif /* KMM_LINUX_H */
