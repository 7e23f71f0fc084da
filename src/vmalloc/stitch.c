// SPDX-License-Identifier: MIT
/*
 * stitch.c - an area's pieces (vmalloc.c describes them): runs taken from
 * the buddy and moved in with mremap, fresh mappings for the rest, moving
 * pieces from area to area and back after a refused move, trimming.
 * Context: every function here runs under vm_state.lock.
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/lock.h"
#include "../lib/printk.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "../page/internal.h"
#include "../slab/slab.h"
#include "internal.h"

/* os_move(), counted when the kernel refuses.  Context: vm_state.lock. */
int vm_move(void *from, size_t size, void *to)
{
	int ret = os_move(from, size, to);

	if (ret)
		vm_state.stat[VMS_MOVE_FAILED]++;
	return ret;
}

/*
 * os_unmap_keep(), or where the kernel cannot split the mapping (no mappings
 * left) at least the pages dropped: the range stays libkmm's, mapped but
 * unused, and reads zero.
 */
void vm_unmap_keep(uintptr_t addr, size_t size)
{
	if (size && os_unmap_keep((void *)addr, size))
		os_release((void *)addr, size, false);
}

/* Does @p continue @prev so that the kernel merges their mappings? */
static bool piece_merges(const struct vm_piece *prev, const struct vm_piece *p)
{
	if (prev->kind == VP_FRESH || prev->kind == VP_COPY)
		return p->kind == VP_FRESH || p->kind == VP_COPY;
	return p->kind != VP_FRESH && p->kind != VP_COPY &&
	       piece_src(prev) + piece_bytes(prev) == piece_src(p);
}

/*
 * Recount the mappings of @a: its pieces that do not continue their
 * predecessor, plus the reservation it splits off the region.  Context: vm_state.lock.
 */
void vm_recount_maps(struct kmm_vm_area *a)
{
	unsigned int n = 1;

	for (unsigned int i = 0; i < a->nr_pieces; i++)
		n += i == 0 || !piece_merges(&a->pieces[i - 1], &a->pieces[i]);
	vm_state.maps = vm_state.maps + n - a->nr_maps;
	a->nr_maps = n;
}

/*
 * Append a piece (room reserved with vm_reserve_pieces()), merging a fresh one
 * into a fresh predecessor, and count the mapping it may start.
 */
void vm_add_piece(struct kmm_vm_area *a, struct kmm_page *page, unsigned long nr, unsigned int kind,
		  bool dirty)
{
	struct vm_piece p = { page, (unsigned int)nr, (unsigned short)kind, dirty };

	a->size += nr << PAGE_SHIFT;
	if (a->nr_pieces) {
		struct vm_piece *last = &a->pieces[a->nr_pieces - 1];

		if (kind == VP_FRESH && last->kind == VP_FRESH && last->dirty == dirty) {
			last->nr_pages += (unsigned int)nr;
			return;
		}
		if (!piece_merges(last, &p)) {
			a->nr_maps++;
			vm_state.maps++;
		}
	} else {
		a->nr_maps++;
		vm_state.maps++;
	}
	a->pieces[a->nr_pieces++] = p;
}

/* Can the budget afford one more piece, and a fresh mapping for the rest? */
bool vm_budget_allows(void)
{
	return vm_state.maps + 2 <= vm_state.max_maps;
}

/* Take an exact run of 2^@order pages out of the buddy, marked as an area's. */
static struct kmm_page *take_run(unsigned int order, kmm_gfp_t gfp, int nid)
{
	struct kmm_page *page =
		alloc_pages_exact((gfp & ~KMM_GFP_ZERO) | KMM_GFP_NOWARN, 1UL << order, nid);

	if (page)
		page->flags = PG_exact | PG_vmalloc;
	return page;
}

/* Give a run back to the buddy (its pages wherever they are). */
static void put_run(struct kmm_page *page, unsigned long nr_pages)
{
	page->flags = PG_exact;
	shrink_pages_exact(page, nr_pages);
	free_pages_exact(page);
}

/* Room in @a->pieces for @n more.  Return: false if the metadata cannot grow. */
bool vm_reserve_pieces(struct kmm_vm_area *a, unsigned int n)
{
	unsigned int max = a->max_pieces ? a->max_pieces : 4;
	struct vm_piece *p;

	if (a->nr_pieces + n <= a->max_pieces)
		return true;
	while (max < a->nr_pieces + n)
		max *= 2;
	if (max > VM_PIECES_MAX)
		return false;
	p = __kmalloc(max * sizeof(*p), 0, KMM_NUMA_NO_NODE, 0);
	if (!p)
		return false;
	if (a->pieces) {
		memcpy(p, a->pieces, a->nr_pieces * sizeof(*p));
		__kfree(a->pieces, virt_to_page_checked(a->pieces));
	}
	a->pieces = p;
	a->max_pieces = max;
	return true;
}

#define STITCH_BATCH 64

/*
 * Take up to STITCH_BATCH runs for @nr pages, largest first, from the
 * buddy's free blocks; stop where the next run would start a mapping the
 * budget cannot afford.  Return: the number taken.
 */
static unsigned int gather_runs(struct kmm_vm_area *a, unsigned long nr, kmm_gfp_t gfp,
				struct kmm_page **runs)
{
	unsigned long got = 0, maps = 0;
	uintptr_t last_end = 0;
	unsigned int n = 0;
	int nid = a->nid;
	struct kmm_zone *local = kmm_node(nid)->zonelist.zonerefs[0].zone;
	bool reuse = READ_ONCE(local->nr_free_pages) >= nr;

	/*
	 * Only the area's node's free blocks: another node's are no warmer than
	 * a fresh mapping, which the kernel places on the node of the CPU that
	 * first touches it.
	 */
	gfp |= KMM_GFP_THISNODE;

	if (a->nr_pieces && a->pieces[a->nr_pieces - 1].kind == VP_RUN)
		last_end = piece_src(&a->pieces[a->nr_pieces - 1]) +
			   piece_bytes(&a->pieces[a->nr_pieces - 1]);
	while (n < STITCH_BATCH && nr - got >= (1UL << STITCH_MIN_ORDER)) {
		unsigned int order = MIN((unsigned int)(63 - __builtin_clzl(nr - got)),
					 (unsigned int)MAX_PAGE_ORDER);
		struct kmm_page *page = NULL;

		/*
		 * A free block of this order, or one to split; smaller free
		 * blocks only while the zone holds enough free memory to cover
		 * the request (else each request would take the scraps the last
		 * one left and the area would fray into many mappings).  Never
		 * a grown zone's: its pages are no warmer than a fresh mapping,
		 * and cost a zone section and a move each.
		 */
		page = take_run(order, gfp | __GFP_NOGROW, nid);
		for (unsigned int o = order - 1; !page && o >= STITCH_MIN_ORDER && reuse; o--)
			page = take_run(o, gfp | __GFP_NOGROW, nid);
		if (!page)
			break;
		if ((uintptr_t)page_to_virt(page) != last_end) {
			/* A new mapping: this one, and one left for a fresh rest. */
			if (vm_state.maps + maps + 2 > vm_state.max_maps) {
				put_run(page, (unsigned long)page->private);
				vm_state.stat[VMS_BUDGET_HIT]++;
				break;
			}
			maps++;
		}
		last_end = (uintptr_t)page_to_virt(page) +
			   ((unsigned long)page->private << PAGE_SHIFT);
		got += (unsigned long)page->private;
		runs[n++] = page;
	}
	return n;
}

/*
 * Move @n runs in at @dst, one mremap per stretch of runs that are
 * contiguous in their zone, and add them as pieces.  Runs that cannot be
 * moved go back to the buddy.  Return: the bytes added.
 */
static size_t stitch_runs(struct kmm_vm_area *a, struct kmm_page **runs, unsigned int n,
			  uintptr_t dst)
{
	size_t done = 0;
	unsigned int i = 0, j;

	if (!vm_reserve_pieces(a, n))
		goto put_back;
	/*
	 * By address: runs that were neighbours in the zone stay neighbours
	 * here, one move and one mapping for all of them (the buddy hands out
	 * a grown zone's blocks from the top down).
	 */
	for (unsigned int k = 1; k < n; k++) {
		struct kmm_page *run = runs[k];

		for (j = k; j > 0 && runs[j - 1] > run; j--)
			runs[j] = runs[j - 1];
		runs[j] = run;
	}
	for (; i < n; i = j) {
		size_t len = (unsigned long)runs[i]->private << PAGE_SHIFT;

		for (j = i + 1; j < n && (uintptr_t)page_to_virt(runs[j]) ==
						 (uintptr_t)page_to_virt(runs[i]) + len;
		     j++)
			len += (unsigned long)runs[j]->private << PAGE_SHIFT;
		int ret = vm_move(page_to_virt(runs[i]), len, (void *)(dst + done));

		if (ret) {
			/*
			 * EINVAL: hugetlb sections, or a kernel without
			 * MREMAP_DONTUNMAP, for good.  Anything else (ENOMEM: no
			 * mappings or memory left) passes: the next request
			 * stitches again.
			 */
			if (ret == -EINVAL)
				__atomic_store_n(&vm_state.no_stitch, true, __ATOMIC_RELAXED);
			break;
		}
		for (unsigned int k = i; k < j; k++)
			vm_add_piece(a, runs[k], (unsigned long)runs[k]->private, VP_RUN, true);
		vm_state.stat[VMS_STITCHED] += j - i;
		vm_state.stat[VMS_STITCHED_KB] += len >> 10;
		done += len;
	}
put_back:
	for (; i < n; i++)
		put_run(runs[i], (unsigned long)runs[i]->private);
	return done;
}

/*
 * How much of [@dst, @dst + @left) to map fresh: all of it, or where whole
 * 2 MiB units could be moved in after it, only up to the next 2 MiB
 * boundary (a grown area's end need not be on one).
 */
static size_t fresh_len(uintptr_t dst, size_t left)
{
	size_t head = ALIGN_UP(dst, SECTION_SIZE) - dst;

	if (vm_state.no_stitch || !head || left - MIN(head, left) < SECTION_SIZE)
		return left;
	return head;
}

/* Map @len bytes fresh at the end of @a.  Return: false if memory ran out. */
static bool fill_fresh(struct kmm_vm_area *a, size_t len, size_t to)
{
	uintptr_t dst = a->addr + a->size;
	unsigned long nr = len >> PAGE_SHIFT;

	if (!arena_charge(nr))
		return false;
	if (os_map_fixed((void *)dst, len)) {
		arena_uncharge(nr);
		return false;
	}
	/* By the area's size, so that its fresh pieces all merge into one mapping. */
	if (kmm_arena.thp && to >= SECTION_SIZE)
		os_advise_hugepage((void *)dst, len, true);
	if (!vm_reserve_pieces(a, 1)) {
		vm_unmap_keep(dst, len);
		arena_uncharge(nr);
		return false;
	}
	vm_add_piece(a, NULL, nr, VP_FRESH, false);
	vm_state.stat[VMS_FRESH]++;
	vm_state.stat[VMS_FRESH_KB] += len >> 10;
	return true;
}

/*
 * Map [@a->size, @to) of @a: memory of freed areas in the cache first (mapped
 * and faulted in already), then runs from the buddy while the budget lasts,
 * both in whole 2 MiB units at 2 MiB boundaries only, then fresh mappings
 * for the rest.  Context: vm_state.lock.
 * Return: false if memory ran out (what was mapped stays in the area).
 */
bool vm_fill_area(struct kmm_vm_area *a, size_t to, kmm_gfp_t gfp)
{
	while (a->size < to) {
		size_t left = to - a->size, units = ALIGN_DOWN(left, SECTION_SIZE);
		uintptr_t dst = a->addr + a->size;

		if (!vm_state.no_stitch && units && IS_ALIGNED(dst, SECTION_SIZE)) {
			struct kmm_page *runs[STITCH_BATCH];
			unsigned int n;

			if (vm_state.nr_cached && vm_take_from_cache(a, units))
				continue;
			n = gather_runs(a, units >> PAGE_SHIFT, gfp, runs);
			if (n && stitch_runs(a, runs, n, dst))
				continue;
		}
		if (!fill_fresh(a, fresh_len(dst, left), to))
			return false;
	}
	return true;
}

/* The end of the stretch of pieces from @i on that the kernel keeps as one mapping. */
static unsigned int stretch_end(const struct kmm_vm_area *a, unsigned int i, size_t *len)
{
	*len = piece_bytes(&a->pieces[i++]);
	while (i < a->nr_pieces && piece_merges(&a->pieces[i - 1], &a->pieces[i]))
		*len += piece_bytes(&a->pieces[i++]);
	return i;
}

/*
 * Move pieces [@i, @j) (@len bytes) from @from to @to: in one call, or piece
 * by piece where the kernel did not merge them after all (a kernel before
 * 6.17 cannot move several mappings at once).  Return: the bytes moved, a
 * whole number of pieces (less than @len after a failure).
 */
static size_t move_stretch(const struct kmm_vm_area *a, unsigned int i, unsigned int j, size_t len,
			   uintptr_t from, uintptr_t to)
{
	size_t off = 0;

	if (!vm_move((void *)from, len, (void *)to))
		return len;
	for (unsigned int k = i; k < j && j - i > 1; k++) {
		if (vm_move((void *)(from + off), piece_bytes(&a->pieces[k]), (void *)(to + off)))
			break;
		off += piece_bytes(&a->pieces[k]);
	}
	return off;
}

/*
 * Move @a's pieces, stretch by stretch, from @from to @to up to byte @limit.
 * Return: the bytes moved, a whole number of pieces (less than @limit after
 * a failure).
 */
size_t vm_move_pieces(const struct kmm_vm_area *a, uintptr_t from, uintptr_t to, size_t limit)
{
	size_t off = 0, len, done;

	for (unsigned int i = 0, j; i < a->nr_pieces && off < limit; i = j) {
		j = stretch_end(a, i, &len);
		/* Only what lies below @limit (a move back after a partial move). */
		while (off + len > limit)
			len -= piece_bytes(&a->pieces[--j]);
		done = move_stretch(a, i, j, len, from + off, to + off);
		off += done;
		if (done < len)
			break;
	}
	return off;
}

/*
 * Undo a move of @a's first @len bytes from @from to @to, so that @from
 * holds them again: moved back, or where the kernel refuses that too (no
 * mappings left), copied back (a move leaves @from mapped, reading zero) and
 * their pages dropped.  @to is a reservation again either way.  Never fails
 * short of memory for the copy, so no caller's data is lost to a refused
 * move.  Context: vm_state.lock.
 */
void vm_move_back(const struct kmm_vm_area *a, uintptr_t to, uintptr_t from, size_t len)
{
	size_t back = vm_move_pieces(a, to, from, len);

	if (back < len) {
		memcpy((void *)(from + back), (void *)(to + back), len - back);
		vm_state.stat[VMS_COPIED_BACK]++;
	}
	vm_unmap_keep(to, len);
}

/*
 * Give back the pieces [@from_piece, nr_pieces) of @a, whose memory starts at
 * byte @off of the area: runs go back to the buddy and their pages to the
 * system with the area's range (their old places in the zone read zero, so
 * the zone's next user of them faults in fresh pages); vmap copies go back
 * to their pages.  Nothing is moved back into a zone: a mapping moved into
 * the middle of the zone's does not always merge with it again (the kernel
 * drops the anon_vma of a mapping moved out whole), and each one that does
 * not costs the process a mapping for good.
 */
void vm_release_pieces(struct kmm_vm_area *a, unsigned int from_piece, size_t off)
{
	for (unsigned int i = from_piece; i < a->nr_pieces; i++) {
		struct vm_piece *p = &a->pieces[i];

		if (p->kind == VP_FRESH) {
			arena_uncharge(p->nr_pages);
		} else if (p->kind == VP_COPY) {
			memcpy(page_to_virt(p->page), (void *)(a->addr + off), PAGE_SIZE);
		} else {
			put_run(p->page, p->nr_pages);
			vm_state.stat[VMS_RELEASED_KB] += piece_bytes(p) >> 10;
		}
		off += piece_bytes(p);
	}
}

/*
 * Shrink @a to @size bytes (page multiple, < a->size): whole pieces beyond go
 * back, a piece cut in two keeps its head and gives its tail to the system.
 */
void vm_trim_area(struct kmm_vm_area *a, size_t size)
{
	size_t off = 0;
	unsigned int i = 0;

	while (i < a->nr_pieces && off + piece_bytes(&a->pieces[i]) <= size)
		off += piece_bytes(&a->pieces[i++]);
	if (i < a->nr_pieces && off < size) {
		struct vm_piece *p = &a->pieces[i];
		unsigned int keep = (unsigned int)((size - off) >> PAGE_SHIFT);

		/* The tail's pages are dropped below; their old places already read zero. */
		if (p->kind == VP_RUN)
			shrink_pages_exact(p->page, keep);
		else if (p->kind == VP_FRESH)
			arena_uncharge(p->nr_pages - keep);
		else
			kmm_panic("vmalloc: cannot trim vmap area %p", (void *)a->addr);
		vm_state.stat[VMS_RELEASED_KB] += ((p->nr_pages - keep) << PAGE_SHIFT) >> 10;
		off += piece_bytes(p); /* where the next piece is, still */
		p->nr_pages = keep;
		i++;
	}
	vm_release_pieces(a, i, off);
	a->nr_pieces = i;
	vm_recount_maps(a);
	if (a->size > size)
		vm_unmap_keep(a->addr + size, a->size - size);
	a->size = size;
	a->claim = size;
}

/*
 * Split piece @i of @a after its first @keep pages: a run becomes two exact
 * runs, a fresh mapping two pieces (the kernel's mappings do not change).
 * Context: vm_state.lock.  Return: false if the metadata cannot grow.
 */
bool vm_split_piece(struct kmm_vm_area *a, unsigned int i, unsigned int keep)
{
	struct vm_piece *p;

	if (!vm_reserve_pieces(a, 1))
		return false;
	p = &a->pieces[i];
	memmove(&a->pieces[i + 2], &a->pieces[i + 1], (a->nr_pieces - i - 1) * sizeof(*p));
	a->pieces[i + 1] = *p;
	a->pieces[i + 1].nr_pages = p->nr_pages - keep;
	p->nr_pages = keep;
	if (p->kind == VP_RUN) {
		struct kmm_page *tail = p->page + keep;

		tail->flags = PG_exact | PG_vmalloc;
		tail->private = (void *)(unsigned long)a->pieces[i + 1].nr_pages;
		p->page->private = (void *)(unsigned long)keep;
		a->pieces[i + 1].page = tail;
	}
	a->nr_pieces++;
	return true;
}

/* Zero what may hold old data in @a from byte @from on (fresh pages are zero). */
void vm_zero_runs(struct kmm_vm_area *a, size_t from)
{
	size_t off = 0;

	for (unsigned int i = 0; i < a->nr_pieces; i++) {
		size_t len = piece_bytes(&a->pieces[i]), start = MAX(off, from);

		if ((a->pieces[i].kind == VP_RUN || a->pieces[i].dirty) && start < off + len)
			memset((void *)(a->addr + start), 0, off + len - start);
		off += len;
	}
}
