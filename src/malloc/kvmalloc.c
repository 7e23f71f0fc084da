// SPDX-License-Identifier: MIT
/*
 * kvmalloc.c - the malloc layer (see kvmalloc.h): the choice between kmalloc
 * and vmalloc, for malloc's allocation, free, usable size and realloc, and
 * for kvmalloc's.  Up to 4 MiB a block is a slab object or a page run, but a
 * run the zone would grow for while freed areas wait in the vmalloc cache
 * is made of them (kv_alloc_large()).
 *
 * A realloc moves pages rather than bytes where it can: a page run grows over
 * the free pages after it, a run that outgrows 4 MiB becomes the first piece
 * of an area (vmalloc_from_run()), an area grows in place or moves by mremap
 * (__vrealloc()).  Only what fails all that is copied.
 */
#include <string.h>

#include "../lib/bug.h"
#include "../lib/memcheck.h"
#include "../slab/secure.h"
#include "kvmalloc.h"

void *kv_alloc_area(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	void *p;

	if (size > KV_SIZE_LIMIT)
		return NULL;
	p = __vmalloc_node(MAX(size, 1), align, gfp, nid, VM_MALLOC, NULL);
	/* The page run held back (kmalloc.c) may be what the area lacks. */
	if (!p && kmalloc_release_held())
		p = __vmalloc_node(MAX(size, 1), align, gfp, nid, VM_MALLOC, NULL);
	return p;
}

/*
 * A block of 1-4 MiB is a page run of the buddy, but where the zone would
 * have to grow for it while the vmalloc cache holds as much in freed areas,
 * it is an area made of the cache's units (moved by mremap, faulted in
 * already): the zone does not grow beside memory the program just freed,
 * which it cannot use (pages never move back into a zone).  `large`, two
 * live blocks of 1-64 MiB: 0.14 -> 0.06 s, its peak 95.7 -> 94.1 MiB, the
 * zone 60 -> 8 MiB (bench/results/memory.md §27).
 */
void *kv_alloc_large(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	void *p;

	if (size > KMALLOC_LARGE_MAX || align > KMALLOC_LARGE_MAX)
		return kv_alloc_area(size, gfp, nid, align);
	if (align <= PAGE_SIZE && !slab_secure && vmalloc_cached_bytes() >= size) {
		p = __kmalloc(size, gfp | __GFP_NOGROW, nid, align);
		if (!p)
			p = kv_alloc_area(size, gfp, nid, align);
		if (p)
			return p;
	}
	return kv_alloc_kmalloc(size, gfp, nid, align);
}

void *kvmalloc_node(size_t size, kmm_gfp_t gfp, int nid, const void *caller)
{
	void *p = NULL;

	if (size <= KMALLOC_LARGE_MAX)
		p = __kmalloc(size ? size : 1, gfp, nid, 0);
	if (!p && size)
		p = __vmalloc_node(size, PAGE_SIZE, gfp, nid, VM_ALLOC, caller);
	return p;
}

void kv_free(void *p, struct kmm_page *page)
{
	if (!page && __vfree(p, "free"))
		return;
	__kfree(p, page);
}

size_t kv_usable_size(const void *p, struct kmm_page *page)
{
	if (!page)
		return is_vmalloc_addr(p) ? vmalloc_usable_size(p) : 0;
	return __ksize(p, page);
}

/*
 * A block stays where it is while the size fits and a move would not save
 * half of it (nor go to a smaller slab object): any size from the one asked
 * for up to the usable size keeps the pointer.
 */
static bool keeps_place(size_t old, size_t size)
{
	return size <= old && (size > old / 2 || size > KMALLOC_MAX_SIZE || old <= 128);
}

/* Without a move: the pointer, or NULL. */
static void *realloc_in_place(void *p, struct kmm_page *page, size_t old, size_t size,
			      kmm_gfp_t gfp)
{
	if (!page) {
		/* An area grows in place or moves by mremap, without copying. */
		if (keeps_place(old, size) || size > KMALLOC_MAX_SIZE)
			return __vrealloc(p, size, gfp);
		return NULL;
	}
	if (keeps_place(old, size)) {
		kmalloc_shrink(page, size);
		return p;
	}
	if (kmalloc_grow(page, size))
		return p;
	/* Outgrowing the buddy: the run's pages move into an area. */
	if (size > KMALLOC_LARGE_MAX && !(page->flags & (PG_slab | PG_slab_tail)))
		return vmalloc_from_run(page, size, gfp);
	return NULL;
}

/*
 * Memcheck: kmalloc block @p, of @usable bytes, is unregistered before a
 * resize in place can give pages of it back (another thread may be handed
 * them at once, and a later FREELIKE of @p would make them no-access), and
 * registered again as @q of @size bytes after it.  Its old size is unknown
 * here: the contents count as defined, the slack up to the usable size as
 * addressable.  Areas that __vrealloc() resizes tell memcheck themselves.
 */
static void vg_realloc_register(void *q, size_t size)
{
	size_t usable = kv_usable_size(q, virt_to_page_checked(q));

	kmm_vg_malloclike(q, size, true);
	if (usable > size)
		kmm_vg_defined((char *)q + size, usable - size);
}

/*
 * krealloc(__GFP_ZERO), as the kernel's: what the block did not hold before
 * reads zero, and so does its slack past the new size, which a later
 * krealloc() may grow into in place.  Zero @q (@size bytes asked) from
 * @from to its usable size.
 * What a block held is its usable size, but for a page run only the pages
 * it was asked for: kzalloc() zeroes no more of its buddy block.
 */
static void zero_past(void *q, size_t from, size_t size)
{
	/* Memcheck: an area's slack is not addressable. */
	size_t end = kmm_vg() ? size : kv_usable_size(q, virt_to_page_checked(q));

	if (end > from)
		memset((char *)q + from, 0, end - from);
}

void *kv_realloc(void *p, size_t size, kmm_gfp_t gfp)
{
	struct kmm_page *page = virt_to_page_checked(p);
	size_t old = kv_usable_size(p, page), asked = page ? kmalloc_run_asked(page) : 0, held;
	void *q;

	/* A freed or misplaced object is reported as free() reports it. */
	if (page && (page->flags & (PG_slab | PG_slab_tail)))
		slab_free_check(page, p);
	if (page && ((page->flags & (PG_buddy | PG_pcp)) || kmalloc_run_held(page)))
		kmm_panic("invalid free of %p: realloc after free: double free (the memory is "
			  "already free)",
			  p);
	if (!old && !(slab_secure && page)) /* secure: malloc(0)'s usable size is 0 */
		kmm_panic("invalid free of %p: realloc of a pointer not allocated by libkmm", p);
	if (size > KV_SIZE_LIMIT)
		return NULL; /* the block stays as it is */
	held = asked ? MIN(old, asked) : old;
	if (kmm_vg() && page)
		kmm_vg_freelike(p);
	/*
	 * KMM_SECURE: a slab object keeps its place within its class (its red
	 * zone moves), a page run always moves (a new guarded run; the old one
	 * goes to the quarantine), a vmalloc area as in every mode.
	 */
	if (slab_secure && page)
		q = secure_realloc_in_place(p, page, size);
	else
		q = realloc_in_place(p, page, old, size, gfp);
	if (kmm_vg() && page)
		vg_realloc_register(q ? q : p, q ? size : old);
	if (q) {
		if (gfp & KMM_GFP_ZERO)
			zero_past(q, MIN(held, size), size);
		return q;
	}
	q = kv_alloc(size, gfp & ~KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);
	if (!q)
		return NULL;
	memcpy(q, p, MIN(old, size));
	if (gfp & KMM_GFP_ZERO)
		zero_past(q, MIN(held, size), size);
	if (kmm_vg())
		kmalloc_vg_copied(q);
	/* A slab object: not the next one handed out (cache_free_cold()). */
	if (page && (page->flags & (PG_slab | PG_slab_tail)) && !slab_secure && !kmm_vg())
		cache_free_cold(slab_head(page)->private, p);
	else
		kv_free(p, page);
	return q;
}
