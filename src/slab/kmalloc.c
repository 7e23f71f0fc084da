// SPDX-License-Identifier: MIT
/*
 * kmalloc.c - kmalloc-N size classes over the slab caches, and the large
 * path beyond them (the kernel's mm/slab_common.c kmalloc_caches[] and
 * kmalloc_large()).
 *
 * Classes: 16, 32, ... 128 in 16-byte steps, then four per doubling up to
 * 32 KiB (160, 192, 224, 256, 320, ...).  A size above 128 bytes wastes at
 * most 25% of its class; below, the 16-byte alignment that C requires of
 * malloc for any object of 16 bytes or more bounds the slack to 15 bytes.
 * (The kernel's powers of two plus 96 and 192 waste up to 50%.)
 *
 * Beyond 32 KiB: an exact run of pages from the page allocator up to the
 * largest buddy block (4 MiB), the unused tail of the block going back at
 * once (alloc_pages_exact()); beyond that, a vmalloc area (vmalloc/vmalloc.c).
 * A large realloc moves pages, not bytes: a run that outgrows 4 MiB becomes
 * the first piece of an area, and an area grows in place or moves by mremap.
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/memcheck.h"
#include "../vmalloc/vmalloc.h"
#include "slab.h"

struct kmm_cache *kmalloc_caches[NR_KMALLOC_CACHES];
struct kmm_cache *kmalloc_table[KMALLOC_TABLE_MAX / 16 + 1];
struct kmm_cache *kmalloc_table_large[KMALLOC_MAX_SIZE / 128 + 1];

unsigned int kmalloc_size(unsigned int idx)
{
	unsigned int b, q;

	if (idx < 8)
		return (idx + 1) * 16;
	b = (idx - 8) / 4 + 7; /* floor(log2(size - 1)) of the class */
	q = (idx - 8) % 4;     /* which quarter of the doubling */
	return (1u << b) + ((q + 1) << (b - 2));
}

#define LARGE_MAX (MAX_ORDER_NR_PAGES << PAGE_SHIFT)

/*
 * No block is as large as half the address space: a size above PTRDIFF_MAX
 * fails (glibc refuses it too) before any computation on it can wrap.
 */
#define KMALLOC_SIZE_LIMIT ((size_t)PTRDIFF_MAX)

static void *kmalloc_large(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	unsigned long npages;
	struct kmm_page *page;

	if (size > KMALLOC_SIZE_LIMIT)
		return NULL;
	if (size > LARGE_MAX || align > LARGE_MAX)
		return __vmalloc_node(MAX(size, 1), align, gfp, nid, VM_MALLOC, NULL);
	npages = MAX((size + PAGE_SIZE - 1) >> PAGE_SHIFT, 1UL);
	if (align <= PAGE_SIZE) {
		page = alloc_pages_exact(gfp, npages, nid);
		return page ? page_to_virt(page) : NULL;
	}
	/*
	 * A buddy block of 2^k pages is aligned to 2^k pages: take a run whose
	 * block is as large as @align, then keep only @npages of it.
	 */
	page = alloc_pages_exact(gfp & ~KMM_GFP_ZERO, MAX(npages, align >> PAGE_SHIFT), nid);
	if (!page)
		return NULL;
	shrink_pages_exact(page, npages);
	if (gfp & KMM_GFP_ZERO)
		memset(page_to_virt(page), 0, npages << PAGE_SHIFT);
	return page_to_virt(page);
}

/* The smallest class whose objects are all aligned to @align (<= 4 KiB). */
static unsigned int aligned_index(size_t size, size_t align)
{
	unsigned int idx = kmalloc_index(ALIGN_UP(size, align));

	while (idx < NR_KMALLOC_CACHES && kmalloc_size(idx) % align)
		idx++;
	return idx;
}

/*
 * Memcheck: the slab layer registered @obj at its class's size; narrow it to
 * the @size asked for.  The slack stays addressable, and the double-free mark
 * (obj + 8, cleared by the allocation) defined: free() reads it.
 */
static __cold void vg_kmalloc(struct kmm_cache *cache, void *obj, size_t size)
{
	if (size >= cache->object_size)
		return;
	if (size) {
		kmm_vg_resize(obj, cache->object_size, size);
	} else { /* memcheck resizes no block to 0 bytes */
		kmm_vg_freelike(obj);
		kmm_vg_malloclike(obj, 0, false);
	}
	kmm_vg_undefined((char *)obj + size, cache->size - size);
	if (size < SLAB_MARK_OFFSET + 8)
		kmm_vg_defined((char *)obj + SLAB_MARK_OFFSET, 8);
}

/* Memcheck: a page run (@p, NULL on failure) is a block of @size bytes; areas register themselves. */
static void *vg_kmalloc_large(void *p, size_t size, kmm_gfp_t gfp)
{
	if (kmm_vg() && p && !is_vmalloc_addr(p))
		kmm_vg_malloclike(p, size, gfp & KMM_GFP_ZERO);
	return p;
}

static void *kmalloc_cache(struct kmm_cache *cache, size_t size, kmm_gfp_t gfp, int nid)
{
	void *obj;

	if (nid == KMM_NUMA_NO_NODE) {
		obj = kmalloc_alloc_fast(cache);
		if (likely(obj)) {
			if (gfp & KMM_GFP_ZERO)
				memset(obj, 0, cache->object_size);
			return obj;
		}
	}
	obj = cache_alloc_slow(cache, gfp, nid);
	if (kmm_vg() && obj)
		vg_kmalloc(cache, obj, size);
	return obj;
}

void *__kmalloc(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	struct kmm_cache *cache;
	unsigned int idx;

	if (size > KMALLOC_MAX_SIZE || align > PAGE_SIZE)
		return vg_kmalloc_large(kmalloc_large(size, gfp, nid, align), size, gfp);
	if (align > 16) {
		idx = aligned_index(size, align);
		if (idx >= NR_KMALLOC_CACHES)
			return vg_kmalloc_large(kmalloc_large(size, gfp, nid, align), size, gfp);
		cache = kmalloc_caches[idx];
	} else {
		cache = kmalloc_slab(size);
	}
	return kmalloc_cache(cache, size, gfp, nid);
}

static __cold __noreturn void bad_kfree(const void *ptr, const char *why)
{
	kmm_panic("invalid free of %p: %s", ptr, why);
}

void __kfree(void *ptr, struct kmm_page *page)
{
	unsigned int flags;

	/* Memcheck: slab objects are unregistered in cache_free_slow(), areas in __vfree(). */
	if (kmm_vg() && page && !(page->flags & (PG_slab | PG_slab_tail)))
		kmm_vg_freelike(ptr);
	if (!page) {
		if (!__vfree(ptr, "free"))
			bad_kfree(ptr, "not allocated by libkmm");
		return;
	}
	flags = READ_ONCE(page->flags);
	if (flags & (PG_slab | PG_slab_tail)) {
		struct kmm_cache *cache = slab_free_check(page, ptr);

		if (!slab_free_fast(cache, ptr))
			cache_free_slow(cache, ptr);
		return;
	}
	if (flags == PG_exact && ((uintptr_t)ptr & (PAGE_SIZE - 1)) == 0) {
		free_pages_exact(page);
		return;
	}
	if (flags & (PG_buddy | PG_pcp))
		bad_kfree(ptr, "double free (the memory is already free)");
	bad_kfree(ptr, "not the start of a block allocated by malloc");
}

size_t __ksize(const void *ptr, struct kmm_page *page)
{
	if (!page)
		return is_vmalloc_addr(ptr) ? vmalloc_usable_size(ptr) : 0;
	if (page->flags & (PG_slab | PG_slab_tail))
		return ((struct kmm_cache *)slab_head(page)->private)->size;
	if (page->flags == PG_exact)
		return (unsigned long)page->private << PAGE_SHIFT;
	return 0;
}

/*
 * Resize in place: a slab object as it is, a page run or an area without its
 * tail pages (they go back).
 */
static void *krealloc_in_place(void *ptr, struct kmm_page *page, size_t size, kmm_gfp_t gfp)
{
	if (!page)
		return __vrealloc(ptr, size, gfp);
	if (!(page->flags & (PG_slab | PG_slab_tail)))
		shrink_pages_exact(page, (size + PAGE_SIZE - 1) >> PAGE_SHIFT);
	return ptr;
}

/*
 * Memcheck: the block at @ptr is now @p, of @size bytes, resized in place or
 * moved with its pages.  Its old size is unknown here: the contents count as
 * defined, the slack up to @usable as addressable.
 */
static void *vg_krealloc(void *ptr, void *p, size_t size, size_t usable)
{
	if (kmm_vg()) {
		kmm_vg_freelike(ptr);
		kmm_vg_malloclike(p, size, true);
		if (usable > size)
			kmm_vg_defined((char *)p + size, usable - size);
	}
	return p;
}

void *__krealloc(void *ptr, size_t size, kmm_gfp_t gfp)
{
	struct kmm_page *page = virt_to_page_checked(ptr);
	size_t old = __ksize(ptr, page);
	void *p;

	if (!old)
		bad_kfree(ptr, "realloc of a pointer not allocated by libkmm");
	if (size > KMALLOC_SIZE_LIMIT)
		return NULL; /* the block stays as it is */
	/*
	 * A block stays where it is while the size fits and a move would not
	 * save half of it (nor go to a smaller slab object): any size from the
	 * one asked for up to the usable size keeps the pointer.
	 */
	if (size <= old && (size > old / 2 || size > KMALLOC_MAX_SIZE || old <= 128)) {
		p = krealloc_in_place(ptr, page, size, gfp);
		if (p) /* an area: __vrealloc() told memcheck */
			return page ? vg_krealloc(ptr, p, size, __ksize(p, page)) : p;
	} else if (page && !(page->flags & (PG_slab | PG_slab_tail))) {
		unsigned long npages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;

		/* A page run grows where it is, over free pages that follow it. */
		if (size <= LARGE_MAX && grow_pages_exact(page, npages))
			return vg_krealloc(ptr, ptr, size, npages << PAGE_SHIFT);
		/* Outgrowing the buddy: the run's pages move into an area. */
		if (size > LARGE_MAX) {
			p = vmalloc_from_run(page, size, gfp);
			if (p)
				return vg_krealloc(ptr, p, size, ALIGN_UP(size, PAGE_SIZE));
		}
	} else if (!page && size > KMALLOC_MAX_SIZE) {
		/* An area grows in place or moves by mremap, without copying. */
		p = __vrealloc(ptr, size, gfp); /* tells memcheck */
		if (p)
			return p;
	}
	p = __kmalloc(size, gfp & ~KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);
	if (!p)
		return NULL;
	memcpy(p, ptr, MIN(old, size));
	__kfree(ptr, page);
	return p;
}
