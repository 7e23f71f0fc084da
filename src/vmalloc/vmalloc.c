// SPDX-License-Identifier: MIT
/*
 * vmalloc.c - memory contiguous in addresses but not in pages: the kernel's
 * mm/vmalloc.c, with the buddy's blocks playing the physical pages.
 *
 * The vmalloc region is address space libkmm reserves (PROT_NONE) chunk by
 * chunk as areas need it: nothing before the first large block, each chunk
 * twice the area that asked for it (room to double in place), and a chunk
 * that holds no area is given back (one waits KMM_DECAY_MS for reuse).  A
 * chunk is claimed with a plain mmap, never MAP_FIXED, and everything mapped
 * with MAP_FIXED or MREMAP_FIXED lands inside a chunk: no range libkmm maps
 * into is one it does not own (the hole race in docs/DESIGN.md, "Facts").  An area
 * (struct kmm_vm_area, the kernel's vm_struct and vmap_area in one) is a
 * range of a chunk followed by a guard gap that stays PROT_NONE, so an
 * overrun faults.  Its memory is a list of pieces in address order:
 *
 *  - a run: an exact run of pages from a zone's buddy, moved in with
 *    mremap(MREMAP_DONTUNMAP), page tables and all.  Its old place stays
 *    mapped and reads zero, so no range libkmm maps into is ever left
 *    unowned (the hole race in docs/DESIGN.md, "Facts").  Runs of 2 and
 *    4 MiB only, at 2 MiB boundaries of the area.
 *  - a fresh mapping: zero pages mapped in place over the reservation, for
 *    whatever no run or cached area supplies and the mapping budget cannot
 *    afford.
 *  - (vmap) a copy of a page the caller owns, copied back by vunmap.
 *
 * An area of 2 MiB and up maps whole 2 MiB units from a 2 MiB boundary, and
 * memory moves in and out of it in whole, aligned units only (internal.h
 * has the layout): the kernel moves whole page-table pages, huge pages stay
 * huge, and moved memory writes as fast as memory that never moved.  Only a
 * page run that realloc grows into an area (vmalloc_from_run()) moves in
 * smaller, to save the copy.  A new area whose request uses less than half
 * of its last unit maps only that half of it, with no huge page
 * (vm_area_bytes()), unless the cache holds a whole unit for it
 * (vm_cache_fit()); an area that realloc grows maps whole units.
 *
 * A freed area waits, mapped, in a small cache.  The next request reuses it
 * at its address when it is at most twice as large, and what the request
 * does not need moves to a range of its own and waits in the cache
 * (vm_cache_split()); a request the cache holds no such area for takes whole
 * units from the end of the newest cached area.  An area that leaves the
 * cache is released: its runs go back to the buddy (their old places,
 * zero), its pages to the system.  Pages never move back into a zone: a
 * mapping moved into the middle of the zone's does not always merge with it
 * again (the kernel drops the anon_vma of a mapping that is moved out whole,
 * and a fault there makes a new one), and each that does not costs the
 * process a mapping for good; the model test saw the zone's mapping cut in
 * thirty under load.
 *
 * Every piece that does not continue its predecessor costs the process one
 * kernel mapping, out of vm.max_map_count (65530) that thread stacks and
 * libraries share.  The layer counts what it creates and keeps under a budget
 * (KMM_MAX_MAPS, default a sixteenth of the limit); past it, stitching stops
 * and the rest of a request is one fresh mapping.
 *
 * A system call refused on the way (no mappings or address space left)
 * makes the request fail with everything as it was: a partial move is
 * moved back, or copied back where the kernel refuses that too
 * (vm_move_back()).  Only EINVAL, which does not pass, switches stitching off.
 *
 * Areas and chunks sit in arrays sorted by address: lookups are a binary
 * search, a new area takes the first gap that also leaves its lower
 * neighbour room to double (so a growing realloc usually stays in place).
 * One lock covers the arrays and every system call on areas; the kernel
 * serializes those calls on the process's mmap lock anyway.  Lock order:
 * vmalloc, then slab, then page.
 *
 * The layer's files: region.c (the chunks, the area index, placement),
 * stitch.c (pieces: runs moved in, fresh mappings, moves and moves back),
 * cache.c (freed areas kept for reuse), this file (allocation, growth and
 * realloc, vmap), views.c (vmallocinfo, meminfo, vmstat).
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/memcheck.h"
#include "../lib/lock.h"
#include "../lib/printk.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "../page/internal.h"
#include "../slab/slab.h"
#include "internal.h"

/*
 * Grow @a to @bytes: in place when the range after it is free, else moved
 * to a new range, page tables and all, and filled there.  Context: vm_state.lock.
 * Return: the area (a new one when it moved: @a is then freed), or NULL
 * with @a as it was.
 */
static struct kmm_vm_area *grow_area(struct kmm_vm_area *a, size_t bytes, kmm_gfp_t gfp)
{
	size_t old = a->size, moved;
	struct kmm_vm_area *b;

	if (vm_room_after(a, bytes)) {
		a->claim = bytes;
		if (!vm_fill_area(a, bytes, gfp)) {
			vm_trim_area(a, old);
			return NULL;
		}
		vm_state.stat[VMS_GROW_INPLACE]++;
		return a;
	}
	/* No room: a new range, the pages moved over, the old range reserved again. */
	b = vm_new_area(a->flags, a->caller);
	if (b)
		b->nid = a->nid;
	if (!b)
		return NULL;
	if (!vm_claim_range(b, bytes, vm_area_align(bytes, PAGE_SIZE))) {
		vm_free_area_struct(b);
		return NULL;
	}
	moved = vm_move_pieces(a, a->addr, b->addr, old);
	if (moved < old) {
		vm_move_back(a, b->addr, a->addr, moved);
		vm_unclaim_range(b);
		vm_free_area_struct(b);
		return NULL;
	}
	/* The pieces and their mappings belong to @b now. */
	b->pieces = a->pieces;
	b->nr_pieces = a->nr_pieces;
	b->max_pieces = a->max_pieces;
	b->size = old;
	a->pieces = NULL;
	a->nr_pieces = a->max_pieces = 0;
	a->size = 0;
	vm_recount_maps(a);
	vm_recount_maps(b);
	if (!vm_fill_area(b, bytes, gfp)) {
		/* Put everything back where the caller's pointer expects it. */
		vm_trim_area(b, old);
		vm_move_back(b, b->addr, a->addr, old);
		a->pieces = b->pieces;
		a->nr_pieces = b->nr_pieces;
		a->max_pieces = b->max_pieces;
		a->size = old;
		b->pieces = NULL;
		b->nr_pieces = b->max_pieces = 0;
		vm_recount_maps(a);
		vm_recount_maps(b);
		vm_unclaim_range(b);
		vm_free_area_struct(b);
		return NULL;
	}
	vm_unmap_keep(a->addr, old);
	vm_unclaim_range(a);
	vm_free_area_struct(a);
	vm_state.stat[VMS_GROW_MOVED]++;
	return b;
}

/*
 * Fit the cached area @a to @bytes at the same address: what the request
 * does not need waits in the cache as an area of its own (the block holds no
 * more than it asked for, and the cache's bounds decide what is kept), or it
 * grows (in place, or moved with its pages: a freed block's memory serves
 * the next, larger one).
 * Context: vm_state.lock.  Return: the area, or NULL with @a released.
 */
static struct kmm_vm_area *reuse_area(struct kmm_vm_area *a, size_t bytes, kmm_gfp_t gfp)
{
	struct kmm_vm_area *b;

	if (bytes <= a->size) {
		if (a->size > bytes)
			vm_cache_split(a, bytes);
		return a;
	}
	b = grow_area(a, bytes, gfp);
	if (!b)
		vm_release_area(a);
	return b;
}

/* Memcheck: @p is a block of @size bytes (the whole area stays addressable). */
static void *vg_vmalloc(void *p, size_t size, kmm_gfp_t gfp)
{
	if (kmm_vg())
		kmm_vg_malloclike(p, size, gfp & KMM_GFP_ZERO);
	return p;
}

/*
 * Memcheck: the block at @p is now one of @size bytes in an area of @usable,
 * grown or shrunk in place or moved by mremap (which moves memcheck's state
 * too).  It was unregistered before the resize, under the lock, since the
 * range it gives up may be another area's as soon as the lock is dropped.
 * Its old size is unknown here: the contents count as defined, the rest of
 * the area as addressable.
 */
static void *vg_vrealloc(void *p, size_t size, size_t usable)
{
	if (kmm_vg() && p) {
		kmm_vg_malloclike(p, size, true);
		kmm_vg_defined((char *)p + size, usable - size);
	}
	return p;
}

void *__vmalloc_node(size_t size, size_t align, kmm_gfp_t gfp, int nid, unsigned int flags,
		     const void *caller)
{
	struct kmm_vm_area *a;
	size_t bytes;

	if (!size || size > vm_state.limit || align > vm_state.limit / 4)
		return NULL;
	if (nid == KMM_NUMA_NO_NODE || !node_online(nid)) {
		bool interleaved;

		nid = policy_node(&interleaved);
	}
	kmm_lock(&vm_state.lock);
	vm_cache_decay();
	bytes = vm_cache_fit(size, nid);
	a = vm_cache_take(bytes, vm_area_align(bytes, align), nid);
	if (a)
		a = reuse_area(a, bytes, gfp);
	if (a) {
		a->flags = flags;
		a->caller = caller;
		vm_state.stat[VMS_ALLOC]++;
		vm_state.stat[VMS_CACHE_HIT]++;
		kmm_unlock(&vm_state.lock);
		if (kmm_vg()) /* freed by its last user: no-access to memcheck */
			kmm_vg_undefined((void *)a->addr, a->size);
		/* Dirty from its last user. */
		if (gfp & KMM_GFP_ZERO)
			memset((void *)a->addr, 0, bytes);
		return vg_vmalloc((void *)a->addr, size, gfp);
	}
	kmm_unlock(&vm_state.lock);
	a = vm_new_area(flags, caller);
	if (!a)
		return NULL;
	a->nid = nid;
	kmm_lock(&vm_state.lock);
	if (!vm_claim_range(a, bytes, vm_area_align(bytes, align))) {
		kmm_unlock(&vm_state.lock);
		vm_free_area_struct(a);
		return NULL;
	}
	if (!vm_fill_area(a, bytes, gfp)) {
		if (a->size)
			vm_trim_area(a, 0);
		vm_unclaim_range(a);
		kmm_unlock(&vm_state.lock);
		vm_free_area_struct(a);
		return NULL;
	}
	vm_state.stat[VMS_ALLOC]++;
	kmm_unlock(&vm_state.lock);
	/* The area is not the caller's yet: no one else touches it. */
	if (gfp & KMM_GFP_ZERO)
		vm_zero_runs(a, 0);
	return vg_vmalloc((void *)a->addr, size, gfp);
}

void *__vrealloc(void *p, size_t size, kmm_gfp_t gfp)
{
	size_t bytes, old;
	struct kmm_vm_area *a;

	if (!size || size > vm_state.limit)
		return NULL;
	kmm_lock(&vm_state.lock);
	a = vm_area_of(p, VM_ALLOC | VM_MALLOC, "realloc");
	bytes = vm_cache_fit(size, a->nid);
	old = a->size;
	if (kmm_vg())
		kmm_vg_freelike(p);
	if (bytes <= old) {
		if (bytes < old) {
			vm_trim_area(a, bytes);
			vm_state.stat[VMS_SHRINK]++;
		}
		kmm_unlock(&vm_state.lock);
		return vg_vrealloc(p, size, bytes);
	}
	/*
	 * Whole units for an area that grows: it may grow again, and a half
	 * unit faulted in by pages would stay so when it did.
	 */
	a = grow_area(a, bytes < SECTION_SIZE ? bytes : ALIGN_UP(bytes, SECTION_SIZE), gfp);
	kmm_unlock(&vm_state.lock);
	if (!a) { /* the block stays as it was */
		vg_vrealloc(p, old, old);
		return NULL;
	}
	/* The area is the caller's: no one else may touch it meanwhile. */
	if (gfp & KMM_GFP_ZERO)
		vm_zero_runs(a, old);
	return vg_vrealloc((void *)a->addr, size, a->size);
}

void *vmalloc_from_run(struct kmm_page *page, size_t size, kmm_gfp_t gfp)
{
	unsigned long nr = (unsigned long)page->private;
	size_t bytes = vm_area_bytes(size);
	struct kmm_vm_area *a;

	vm_setup();
	if (vm_state.no_stitch || nr < (1UL << FROM_RUN_MIN_ORDER) || bytes <= nr << PAGE_SHIFT ||
	    size > vm_state.limit)
		return NULL;
	a = vm_new_area(VM_MALLOC, NULL);
	if (!a)
		return NULL;
	a->nid = page_zone(page)->node;
	kmm_lock(&vm_state.lock);
	bytes = vm_cache_fit(size, a->nid);
	if (!vm_claim_range(a, bytes, vm_area_align(bytes, PAGE_SIZE)))
		goto fail;
	if (!vm_budget_allows() || !vm_reserve_pieces(a, 1) ||
	    vm_move(page_to_virt(page), nr << PAGE_SHIFT, (void *)a->addr))
		goto fail_unclaim;
	page->flags = PG_exact | PG_vmalloc;
	vm_add_piece(a, page, nr, VP_RUN, true);
	if (!vm_fill_area(a, bytes, gfp)) {
		/* Back to a plain run where the caller's pointer expects it. */
		vm_trim_area(a, nr << PAGE_SHIFT);
		vm_move_back(a, a->addr, (uintptr_t)page_to_virt(page), nr << PAGE_SHIFT);
		page->flags = PG_exact;
		a->nr_pieces = 0;
		vm_recount_maps(a);
		goto fail_unclaim;
	}
	vm_state.stat[VMS_ALLOC]++;
	vm_state.stat[VMS_FROM_RUN]++;
	kmm_unlock(&vm_state.lock);
	if (gfp & KMM_GFP_ZERO)
		vm_zero_runs(a, nr << PAGE_SHIFT);
	return (void *)a->addr;

fail_unclaim:
	vm_unclaim_range(a);
fail:
	kmm_unlock(&vm_state.lock);
	vm_free_area_struct(a);
	return NULL;
}

size_t vmalloc_usable_size(const void *p)
{
	struct kmm_vm_area *a;
	size_t size = 0;

	kmm_lock(&vm_state.lock);
	a = vm_find_area((uintptr_t)p);
	if (a && a->addr == (uintptr_t)p && !(a->flags & (VM_MAP | VM_CACHED)))
		size = a->size;
	kmm_unlock(&vm_state.lock);
	return size;
}

struct kmm_page *vmalloc_to_page(const void *addr)
{
	struct kmm_page *page = NULL;
	struct kmm_vm_area *a;

	kmm_lock(&vm_state.lock);
	a = vm_find_area((uintptr_t)addr);
	if (a && !(a->flags & VM_CACHED) && (uintptr_t)addr - a->addr < a->size) {
		size_t off = (uintptr_t)addr - a->addr;

		for (unsigned int i = 0; i < a->nr_pieces; i++) {
			struct vm_piece *p = &a->pieces[i];

			if (off < piece_bytes(p)) {
				if (p->kind != VP_FRESH)
					page = p->page + (off >> PAGE_SHIFT);
				break;
			}
			off -= piece_bytes(p);
		}
	}
	kmm_unlock(&vm_state.lock);
	return page;
}

/*
 * vmap: private anonymous memory cannot be mapped twice, and moving the pages
 * here and back would cut the zone's mapping into pieces (see
 * vm_release_pieces()), so their contents are copied in, and out by vunmap.
 */
void *__vmap(struct kmm_page **pages, unsigned int count, const void *caller)
{
	size_t bytes = (size_t)count << PAGE_SHIFT;
	struct kmm_vm_area *a;

	if (!count || count > VM_PIECES_MAX || bytes > vm_state.limit)
		return NULL;
	for (unsigned int i = 0; i < count; i++) {
		if (!page_zone_checked(pages[i]) || (pages[i]->flags & (PG_buddy | PG_pcp)))
			kmm_panic("vmap: page %u (%p) is not an allocated libkmm page", i,
				  (void *)pages[i]);
	}
	a = vm_new_area(VM_MAP, caller);
	if (!a)
		return NULL;
	kmm_lock(&vm_state.lock);
	if (!vm_claim_range(a, bytes, vm_area_align(bytes, PAGE_SIZE)))
		goto fail;
	if (!vm_reserve_pieces(a, count) || os_map_fixed((void *)a->addr, bytes))
		goto fail_unclaim;
	for (unsigned int i = 0; i < count; i++) {
		memcpy((void *)(a->addr + a->size), page_to_virt(pages[i]), PAGE_SIZE);
		vm_add_piece(a, pages[i], 1, VP_COPY, true);
	}
	kmm_unlock(&vm_state.lock);
	return (void *)a->addr;

fail_unclaim:
	vm_unclaim_range(a);
fail:
	kmm_unlock(&vm_state.lock);
	vm_free_area_struct(a);
	return NULL;
}

void __vunmap(const void *addr)
{
	struct kmm_vm_area *a;

	kmm_lock(&vm_state.lock);
	a = vm_area_of(addr, VM_MAP, "vunmap");
	vm_release_pieces(a, 0, 0);
	a->nr_pieces = 0;
	vm_recount_maps(a);
	vm_unmap_keep(a->addr, a->size);
	vm_unclaim_range(a);
	kmm_unlock(&vm_state.lock);
	vm_free_area_struct(a);
}
