// SPDX-License-Identifier: MIT
/*
 * vmalloc.c - memory contiguous in addresses but not in pages: the kernel's
 * mm/vmalloc.c, with the buddy's blocks playing the physical pages.
 *
 * libkmm owns one vmalloc region, a PROT_NONE reservation kept for its whole
 * life.  An area (struct kmm_vm_area, the kernel's vm_struct and vmap_area in
 * one) is a range of it followed by a guard gap that stays PROT_NONE, so an
 * overrun faults.  Its memory is a list of pieces in address order:
 *
 *  - a run: an exact run of pages from a zone's buddy, moved in with
 *    mremap(MREMAP_DONTUNMAP), page tables and all (a 2 MiB-aligned huge page
 *    stays huge).  Its old place stays mapped and reads zero, so no range
 *    libkmm maps into is ever left unowned (the hole race of DESIGN_FACTS §2).
 *    On vfree it moves back to its old place and the run goes back to the
 *    buddy, still resident, for the next large request.  Runs of 256 KiB and
 *    up only: a smaller move costs as much as copying it.
 *  - a fresh mapping: zero pages mapped in place over the reservation, for
 *    the tail below 256 KiB and whatever the mapping budget cannot afford.
 *    On vfree they go to the system.
 *  - (vmap) a page the caller owns, moved in, moved back by vunmap; or
 *    copied in and out when the budget is spent.
 *
 * Every piece that does not continue its predecessor costs the process one
 * kernel mapping, out of vm.max_map_count (65530) that thread stacks and
 * libraries share.  The layer counts what it creates and keeps under a budget
 * (KMM_MAX_MAPS, default a sixteenth of the limit); past it, stitching stops
 * and the rest of a request is one fresh mapping.
 *
 * Areas sit in an array sorted by address: lookups are a binary search, a new
 * area takes the first gap that also leaves its lower neighbour room to
 * double (so a growing realloc usually stays in place).  One lock covers the
 * array and every system call on areas; the kernel serializes those calls on
 * the process's mmap lock anyway.  Lock order: vmalloc, then slab, then page.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/config.h"
#include "../lib/lock.h"
#include "../lib/printk.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "../page/internal.h"
#include "../slab/slab.h"
#include "vmalloc.h"

#define VM_GUARD (64UL << 10)	  /* PROT_NONE after every area */
#define STITCH_MIN_ORDER 6	  /* 256 KiB: smaller runs are not moved */
#define VM_MIN_REGION (1UL << 30) /* smallest region worth having */
#define VM_PIECES_MAX (1u << 16)  /* pieces per area (metadata bound) */

enum vm_piece_kind {
	VP_FRESH,  /* mapped in place; page is NULL */
	VP_RUN,	   /* exact run owned by the area (PG_exact | PG_vmalloc) */
	VP_MAPPED, /* vmap: the caller's page, moved in */
	VP_COPY,   /* vmap: the caller's page, copied in */
};

struct vm_piece {
	struct kmm_page *page;
	unsigned int nr_pages;
	unsigned int kind;
};

/* struct kmm_vm_area - one allocation of the region (vm_struct + vmap_area). */
struct kmm_vm_area {
	uintptr_t addr;
	size_t size;  /* bytes mapped: the pieces' sum */
	size_t claim; /* bytes of range held (>= size while growing) */
	const void *caller;
	unsigned int flags;   /* VM_ALLOC, VM_MAP, VM_MALLOC */
	unsigned int nr_maps; /* kernel mappings counted for this area */
	unsigned int nr_pieces, max_pieces;
	struct vm_piece *pieces; /* kmalloc'd */
};

enum vm_stat_item {
	VMS_ALLOC,
	VMS_FREE,
	VMS_STITCHED,	 /* runs moved in */
	VMS_STITCHED_KB, /* ... their size */
	VMS_FRESH,	 /* fresh mappings made */
	VMS_FRESH_KB,
	VMS_MOVED_BACK,	 /* runs moved back to their zone */
	VMS_RELEASED_KB, /* run memory given to the system instead */
	VMS_BUDGET_HIT,	 /* stitching stopped by the mapping budget */
	VMS_GROW_INPLACE,
	VMS_GROW_MOVED, /* realloc moved by mremap: no byte copied */
	VMS_SHRINK,
	VMS_FROM_RUN, /* a page run grew into an area */
	NR_VM_STATS
};

uintptr_t vmalloc_start, vmalloc_end;

static struct {
	struct kmm_lock lock;
	struct kmm_vm_area **areas; /* sorted by addr */
	size_t nr, cap;
	unsigned long maps, max_maps;
	bool no_stitch; /* the zones cannot be moved (hugetlb, old kernel) */
	unsigned long stat[NR_VM_STATS];
} vm = { .lock = KMM_LOCK_INIT };

int vmalloc_init(void)
{
	size_t size = (size_t)MAX(kmm_config.vmalloc_reserve, VM_MIN_REGION);
	void *base = NULL;

	size = ALIGN_UP(size, SECTION_SIZE);
	/* A smaller address space (valgrind, sanitizers, ulimit -v) gets a smaller region. */
	for (; size >= VM_MIN_REGION; size /= 2) {
		base = os_reserve(size, SECTION_SIZE);
		if (base)
			break;
	}
	if (!base)
		return -ENOMEM;
	vmalloc_start = (uintptr_t)base;
	vmalloc_end = (uintptr_t)base + size;
	vm.max_maps =
		kmm_config.max_maps ? (unsigned long)kmm_config.max_maps : os_max_map_count() / 16;
	return 0;
}

/* ---- the area index ---------------------------------------------------- */

/* Index of the first area starting above @addr.  Context: vm.lock. */
static size_t find_above(uintptr_t addr)
{
	size_t lo = 0, hi = vm.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vm.areas[mid]->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The area containing @addr (guard excluded), or NULL.  Context: vm.lock. */
static struct kmm_vm_area *find_area(uintptr_t addr, size_t *index)
{
	size_t i = find_above(addr);
	struct kmm_vm_area *a;

	if (i == 0)
		return NULL;
	a = vm.areas[i - 1];
	if (addr - a->addr >= a->claim)
		return NULL;
	if (index)
		*index = i - 1;
	return a;
}

static inline uintptr_t area_end(const struct kmm_vm_area *a)
{
	return a->addr + a->claim + VM_GUARD;
}

/* Insert @a at @at.  Context: vm.lock.  Return: false if the index cannot grow. */
static bool index_insert(struct kmm_vm_area *a, size_t at)
{
	if (vm.nr == vm.cap) {
		size_t cap = vm.cap ? vm.cap * 2 : 512;
		struct kmm_vm_area **n = os_map_anon(cap * sizeof(*n));

		if (!n)
			return false;
		if (vm.areas) {
			memcpy(n, vm.areas, vm.nr * sizeof(*n));
			os_unmap(vm.areas, vm.cap * sizeof(*n));
		}
		vm.areas = n;
		vm.cap = cap;
	}
	memmove(&vm.areas[at + 1], &vm.areas[at], (vm.nr - at) * sizeof(*vm.areas));
	vm.areas[at] = a;
	vm.nr++;
	return true;
}

static void index_remove(size_t at)
{
	memmove(&vm.areas[at], &vm.areas[at + 1], (vm.nr - at - 1) * sizeof(*vm.areas));
	vm.nr--;
}

/*
 * Find room for @size bytes aligned to @align and insert @a there.  First a
 * gap that leaves the area below room to double and this one room to double;
 * then any gap.  Context: vm.lock.  Return: false if the region is full.
 */
static bool place_area(struct kmm_vm_area *a, size_t size, size_t align)
{
	for (int pass = 0; pass < 2; pass++) {
		uintptr_t lo = vmalloc_start;
		size_t want = size + VM_GUARD + (pass == 0 ? size : 0);

		for (size_t i = 0; i <= vm.nr; i++) {
			uintptr_t hi = i < vm.nr ? vm.areas[i]->addr : vmalloc_end;
			uintptr_t start = lo;

			if (pass == 0 && i > 0)
				start = MAX(start, vm.areas[i - 1]->addr +
							   2 * vm.areas[i - 1]->claim + VM_GUARD);
			start = ALIGN_UP(start, align);
			if (start < hi && hi - start >= want) {
				a->addr = start;
				a->claim = size;
				return index_insert(a, i);
			}
			if (i < vm.nr)
				lo = area_end(vm.areas[i]);
		}
	}
	return false;
}

/* ---- pieces ------------------------------------------------------------- */

static inline uintptr_t piece_src(const struct vm_piece *p)
{
	return (uintptr_t)page_to_virt(p->page);
}

static inline size_t piece_bytes(const struct vm_piece *p)
{
	return (size_t)p->nr_pages << PAGE_SHIFT;
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
 * predecessor, plus the reservation it splits off the region.  Context: vm.lock.
 */
static void recount_maps(struct kmm_vm_area *a)
{
	unsigned int n = 1;

	for (unsigned int i = 0; i < a->nr_pieces; i++)
		n += i == 0 || !piece_merges(&a->pieces[i - 1], &a->pieces[i]);
	vm.maps = vm.maps + n - a->nr_maps;
	a->nr_maps = n;
}

/* Append a piece, merging it into the last one when it continues it. */
static bool add_piece(struct kmm_vm_area *a, struct kmm_page *page, unsigned long nr,
		      unsigned int kind)
{
	struct vm_piece p = { page, (unsigned int)nr, kind };

	if (a->nr_pieces) {
		struct vm_piece *last = &a->pieces[a->nr_pieces - 1];

		if (kind == VP_FRESH && last->kind == VP_FRESH) {
			last->nr_pages += (unsigned int)nr;
			a->size += nr << PAGE_SHIFT;
			return true;
		}
	}
	if (a->nr_pieces == a->max_pieces) {
		unsigned int max = a->max_pieces ? a->max_pieces * 2 : 4;
		struct vm_piece *n;

		if (max > VM_PIECES_MAX)
			return false;
		n = __kmalloc(max * sizeof(*n), 0, KMM_NUMA_NO_NODE, 0);
		if (!n)
			return false;
		if (a->pieces) {
			memcpy(n, a->pieces, a->nr_pieces * sizeof(*n));
			__kfree(a->pieces, virt_to_page_checked(a->pieces));
		}
		a->pieces = n;
		a->max_pieces = max;
	}
	if (!a->nr_pieces || !piece_merges(&a->pieces[a->nr_pieces - 1], &p)) {
		a->nr_maps++;
		vm.maps++;
	}
	a->pieces[a->nr_pieces++] = p;
	a->size += nr << PAGE_SHIFT;
	return true;
}

/* Can the budget afford one more piece, and a fresh mapping for the rest? */
static inline bool budget_allows(void)
{
	return vm.maps + 2 <= vm.max_maps;
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

/*
 * Map [@a->size, @to) of @a: runs from the buddy, largest first, while the
 * budget lasts, then one fresh mapping for the rest.  Context: vm.lock.
 * Return: false if memory ran out (what was mapped stays in the area).
 */
static bool fill_area(struct kmm_vm_area *a, size_t to, kmm_gfp_t gfp, int nid)
{
	while (a->size < to) {
		size_t left = to - a->size;
		unsigned long nr = left >> PAGE_SHIFT;
		uintptr_t dst = a->addr + a->size;

		if (!vm.no_stitch && nr >= (1UL << STITCH_MIN_ORDER)) {
			unsigned int order = MIN((unsigned int)(63 - __builtin_clzl(nr)),
						 (unsigned int)MAX_PAGE_ORDER);
			struct kmm_page *page;

			if (!budget_allows()) {
				vm.stat[VMS_BUDGET_HIT]++;
				goto fresh;
			}
			/* Free blocks first, largest first; then a grown zone's. */
			page = NULL;
			for (unsigned int o = order; !page && o >= STITCH_MIN_ORDER; o--) {
				page = take_run(o, gfp | __GFP_NOGROW, nid);
				if (page)
					order = o;
			}
			if (!page)
				page = take_run(order, gfp, nid);
			if (!page)
				goto fresh;
			if (os_move(page_to_virt(page), PAGE_SIZE << order, (void *)dst)) {
				/* hugetlb sections, or a kernel without MREMAP_DONTUNMAP. */
				put_run(page, 1UL << order);
				vm.no_stitch = true;
				goto fresh;
			}
			if (!add_piece(a, page, 1UL << order, VP_RUN)) {
				/* Too many pieces to describe: give the run back, map fresh. */
				if (os_move((void *)dst, PAGE_SIZE << order, page_to_virt(page)))
					vm.stat[VMS_RELEASED_KB] += (PAGE_SIZE << order) >> 10;
				put_run(page, 1UL << order);
				goto fresh;
			}
			vm.stat[VMS_STITCHED]++;
			vm.stat[VMS_STITCHED_KB] += (PAGE_SIZE << order) >> 10;
			continue;
		}
	fresh:
		if (!arena_charge(nr))
			return false;
		if (os_map_fixed((void *)dst, left)) {
			arena_uncharge(nr);
			return false;
		}
		if (kmm_arena.thp && left >= SECTION_SIZE)
			os_advise_hugepage((void *)dst, left);
		if (!add_piece(a, NULL, nr, VP_FRESH)) {
			/* Unreachable after a run was refused; keep the range owned. */
			os_unmap_keep((void *)dst, left);
			arena_uncharge(nr);
			return false;
		}
		vm.stat[VMS_FRESH]++;
		vm.stat[VMS_FRESH_KB] += left >> 10;
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
 * 6.17 cannot move several mappings at once).  Return: 0 or -errno.
 */
static int move_stretch(const struct kmm_vm_area *a, unsigned int i, unsigned int j, size_t len,
			uintptr_t from, uintptr_t to)
{
	size_t off = 0;
	int ret = os_move((void *)from, len, (void *)to);

	if (!ret || j - i == 1)
		return ret;
	for (unsigned int k = i; k < j; k++) {
		ret = os_move((void *)(from + off), piece_bytes(&a->pieces[k]), (void *)(to + off));
		if (ret) {
			if (off && os_move((void *)to, off, (void *)from))
				kmm_panic("vmalloc: cannot move %p back", (void *)from);
			return ret;
		}
		off += piece_bytes(&a->pieces[k]);
	}
	return 0;
}

/*
 * Give back the pieces [@from_piece, nr_pieces) of @a whose memory starts at
 * byte @off of the area: runs move back to their zone (several at a time
 * when their sources are contiguous) or, if that fails, are released; vmap
 * pages move or are copied back; fresh pages go to the system with the range.
 */
static void release_pieces(struct kmm_vm_area *a, unsigned int from_piece, size_t off)
{
	unsigned int i = from_piece;

	while (i < a->nr_pieces) {
		struct vm_piece *p = &a->pieces[i];
		unsigned int j = i + 1;
		size_t len = piece_bytes(p);

		if (p->kind == VP_FRESH) {
			arena_uncharge(p->nr_pages);
		} else if (p->kind == VP_COPY) {
			memcpy(page_to_virt(p->page), (void *)(a->addr + off), len);
		} else {
			/* Sources contiguous: one mapping here, one move back. */
			while (j < a->nr_pieces && a->pieces[j].kind == p->kind &&
			       piece_src(&a->pieces[j - 1]) + piece_bytes(&a->pieces[j - 1]) ==
				       piece_src(&a->pieces[j]))
				len += piece_bytes(&a->pieces[j++]);
			if (move_stretch(a, i, j, len, a->addr + off, piece_src(p))) {
				/* No room for even that: the run's memory goes to the system. */
				for (unsigned int k = i; k < j; k++) {
					if (a->pieces[k].kind == VP_MAPPED)
						kmm_panic(
							"vunmap of %p: cannot move its pages back",
							(void *)a->addr);
				}
				vm.stat[VMS_RELEASED_KB] += len >> 10;
			} else if (p->kind == VP_RUN) {
				vm.stat[VMS_MOVED_BACK] += j - i;
			}
			if (p->kind == VP_RUN)
				for (unsigned int k = i; k < j; k++)
					put_run(a->pieces[k].page, a->pieces[k].nr_pages);
		}
		for (unsigned int k = i; k < j; k++)
			off += piece_bytes(&a->pieces[k]);
		i = j;
	}
}

/*
 * Shrink @a to @size bytes (page multiple, < a->size): whole pieces beyond go
 * back, a piece cut in two keeps its head and gives its tail to the system.
 */
static void trim_area(struct kmm_vm_area *a, size_t size)
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
		vm.stat[VMS_RELEASED_KB] += ((p->nr_pages - keep) << PAGE_SHIFT) >> 10;
		off += piece_bytes(p); /* where the next piece is, still */
		p->nr_pages = keep;
		i++;
	}
	release_pieces(a, i, off);
	a->nr_pieces = i;
	recount_maps(a);
	if (a->size > size)
		os_unmap_keep((void *)(a->addr + size), a->size - size);
	a->size = size;
	a->claim = size;
}

/* ---- areas --------------------------------------------------------------- */

static struct kmm_vm_area *new_area(unsigned int flags, const void *caller)
{
	struct kmm_vm_area *a = __kmalloc(sizeof(*a), KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);

	if (a) {
		a->flags = flags;
		a->caller = caller;
	}
	return a;
}

static void free_area_struct(struct kmm_vm_area *a)
{
	if (a->pieces)
		__kfree(a->pieces, virt_to_page_checked(a->pieces));
	__kfree(a, virt_to_page_checked(a));
}

/*
 * Reserve a range for @a and count the mapping it splits off the region.
 * Context: vm.lock.
 */
static bool claim_range(struct kmm_vm_area *a, size_t size, size_t align)
{
	if (!place_area(a, size, align))
		return false;
	a->nr_maps = 1; /* the PROT_NONE after it becomes a mapping of its own */
	vm.maps++;
	return true;
}

/* Take @a out of the index and the budget; its range must be a reservation again. */
static void unclaim_range(struct kmm_vm_area *a)
{
	size_t i = find_above(a->addr);

	if (i == 0 || vm.areas[i - 1] != a)
		kmm_panic("vmalloc: area %p lost from the index", (void *)a->addr);
	index_remove(i - 1);
	vm.maps -= a->nr_maps;
	a->nr_maps = 0;
}

static size_t area_align(size_t size, size_t align)
{
	/* Whole 2 MiB steps for whole huge pages. */
	if (size >= SECTION_SIZE)
		align = MAX(align, SECTION_SIZE);
	return MAX(align, PAGE_SIZE);
}

/* Zero the runs of @a from byte @from on (fresh pages are zero already). */
static void zero_runs(struct kmm_vm_area *a, size_t from)
{
	size_t off = 0;

	for (unsigned int i = 0; i < a->nr_pieces; i++) {
		size_t len = piece_bytes(&a->pieces[i]), start = MAX(off, from);

		if (a->pieces[i].kind == VP_RUN && start < off + len)
			memset((void *)(a->addr + start), 0, off + len - start);
		off += len;
	}
}

void *__vmalloc_node(size_t size, size_t align, kmm_gfp_t gfp, int nid, unsigned int flags,
		     const void *caller)
{
	struct kmm_vm_area *a;
	size_t bytes;

	if (!size || size > vmalloc_end - vmalloc_start ||
	    align > (vmalloc_end - vmalloc_start) / 4)
		return NULL;
	bytes = ALIGN_UP(size, PAGE_SIZE);
	a = new_area(flags, caller);
	if (!a)
		return NULL;
	kmm_lock(&vm.lock);
	if (!claim_range(a, bytes, area_align(bytes, align))) {
		kmm_unlock(&vm.lock);
		free_area_struct(a);
		return NULL;
	}
	if (!fill_area(a, bytes, gfp, nid)) {
		if (a->size)
			trim_area(a, 0);
		unclaim_range(a);
		kmm_unlock(&vm.lock);
		free_area_struct(a);
		return NULL;
	}
	vm.stat[VMS_ALLOC]++;
	kmm_unlock(&vm.lock);
	/* The area is not the caller's yet: no one else touches it. */
	if (gfp & KMM_GFP_ZERO)
		zero_runs(a, 0);
	return (void *)a->addr;
}

static __cold __noreturn void bad_vfree(const void *p, const char *who, const char *why)
{
	kmm_panic("invalid %s of %p: %s", who, p, why);
}

/* The area that starts at @p, checked for a caller that may free it.  Context: vm.lock. */
static struct kmm_vm_area *area_of(const void *p, unsigned int flags, const char *who)
{
	struct kmm_vm_area *a = find_area((uintptr_t)p, NULL);

	if (!a || a->addr != (uintptr_t)p) {
		kmm_unlock(&vm.lock);
		bad_vfree(p, who,
			  a ? "not the start of a vmalloc area"
			    : "no vmalloc area there (double free, or never allocated)");
	}
	if (!(a->flags & flags)) {
		kmm_unlock(&vm.lock);
		bad_vfree(p, who,
			  a->flags & VM_MAP ? "a vmap area (use vunmap)" : "not a vmap area");
	}
	return a;
}

bool __vfree(const void *p, const char *who)
{
	struct kmm_vm_area *a;

	if (!is_vmalloc_addr(p))
		return false;
	kmm_lock(&vm.lock);
	a = area_of(p, VM_ALLOC | VM_MALLOC, who);
	trim_area(a, 0);
	unclaim_range(a);
	vm.stat[VMS_FREE]++;
	kmm_unlock(&vm.lock);
	free_area_struct(a);
	return true;
}

size_t vmalloc_usable_size(const void *p)
{
	struct kmm_vm_area *a;
	size_t size = 0;

	kmm_lock(&vm.lock);
	a = find_area((uintptr_t)p, NULL);
	if (a && a->addr == (uintptr_t)p && !(a->flags & VM_MAP))
		size = a->size;
	kmm_unlock(&vm.lock);
	return size;
}

/* Can @a grow to @size where it is?  Context: vm.lock. */
static bool room_after(const struct kmm_vm_area *a, size_t size)
{
	size_t i = find_above(a->addr);
	uintptr_t next = i < vm.nr ? vm.areas[i]->addr : vmalloc_end;

	return next - a->addr >= size + VM_GUARD;
}

/*
 * Move @a's pieces, stretch by stretch, from @from to @to up to byte @limit.
 * Return: the bytes moved (less than @limit after a failure).
 */
static size_t move_pieces(const struct kmm_vm_area *a, uintptr_t from, uintptr_t to, size_t limit)
{
	size_t off = 0, len;

	for (unsigned int i = 0, j; i < a->nr_pieces && off < limit; i = j) {
		j = stretch_end(a, i, &len);
		if (move_stretch(a, i, j, len, from + off, to + off))
			break;
		off += len;
	}
	return off;
}

void *__vrealloc(void *p, size_t size, kmm_gfp_t gfp)
{
	struct kmm_vm_area *a, *b;
	size_t bytes = ALIGN_UP(size, PAGE_SIZE), old, moved;

	if (!size || size > vmalloc_end - vmalloc_start)
		return NULL;
	kmm_lock(&vm.lock);
	a = area_of(p, VM_ALLOC | VM_MALLOC, "realloc");
	old = a->size;
	if (bytes <= old) {
		if (bytes < old) {
			trim_area(a, bytes);
			vm.stat[VMS_SHRINK]++;
		}
		kmm_unlock(&vm.lock);
		return p;
	}
	if (room_after(a, bytes)) {
		a->claim = bytes;
		if (!fill_area(a, bytes, gfp, KMM_NUMA_NO_NODE)) {
			trim_area(a, old);
			kmm_unlock(&vm.lock);
			return NULL;
		}
		vm.stat[VMS_GROW_INPLACE]++;
		kmm_unlock(&vm.lock);
		if (gfp & KMM_GFP_ZERO)
			zero_runs(a, old);
		return p;
	}
	/* No room: a new range, the pages moved over, the old range reserved again. */
	b = new_area(a->flags, a->caller);
	if (!b || !claim_range(b, bytes, area_align(bytes, PAGE_SIZE))) {
		kmm_unlock(&vm.lock);
		if (b)
			free_area_struct(b);
		return NULL;
	}
	moved = move_pieces(a, a->addr, b->addr, a->size);
	if (moved < a->size) {
		if (move_pieces(a, b->addr, a->addr, moved) < moved)
			kmm_panic("vrealloc of %p: cannot move it back", p);
		unclaim_range(b);
		kmm_unlock(&vm.lock);
		free_area_struct(b);
		return NULL;
	}
	/* The pieces and their mappings belong to @b now. */
	b->pieces = a->pieces;
	b->nr_pieces = a->nr_pieces;
	b->max_pieces = a->max_pieces;
	b->size = a->size;
	a->pieces = NULL;
	a->nr_pieces = a->max_pieces = 0;
	a->size = 0;
	recount_maps(a);
	recount_maps(b);
	if (!fill_area(b, bytes, gfp, KMM_NUMA_NO_NODE)) {
		/* Put everything back where the caller's pointer expects it. */
		trim_area(b, old);
		if (move_pieces(b, b->addr, a->addr, old) < old)
			kmm_panic("vrealloc of %p: cannot move it back", p);
		a->pieces = b->pieces;
		a->nr_pieces = b->nr_pieces;
		a->max_pieces = b->max_pieces;
		a->size = old;
		b->pieces = NULL;
		b->nr_pieces = b->max_pieces = 0;
		recount_maps(a);
		recount_maps(b);
		os_unmap_keep((void *)b->addr, old);
		unclaim_range(b);
		kmm_unlock(&vm.lock);
		free_area_struct(b);
		return NULL;
	}
	os_unmap_keep((void *)a->addr, old);
	unclaim_range(a);
	vm.stat[VMS_GROW_MOVED]++;
	kmm_unlock(&vm.lock);
	free_area_struct(a);
	if (gfp & KMM_GFP_ZERO)
		zero_runs(b, old);
	return (void *)b->addr;
}

void *vmalloc_from_run(struct kmm_page *page, size_t size, kmm_gfp_t gfp)
{
	unsigned long nr = (unsigned long)page->private;
	size_t bytes = ALIGN_UP(size, PAGE_SIZE);
	struct kmm_vm_area *a;

	if (vm.no_stitch || nr < (1UL << STITCH_MIN_ORDER) || bytes <= nr << PAGE_SHIFT ||
	    size > vmalloc_end - vmalloc_start)
		return NULL;
	a = new_area(VM_MALLOC, NULL);
	if (!a)
		return NULL;
	kmm_lock(&vm.lock);
	if (!claim_range(a, bytes, area_align(bytes, PAGE_SIZE)))
		goto fail;
	if (!budget_allows() || os_move(page_to_virt(page), nr << PAGE_SHIFT, (void *)a->addr))
		goto fail_unclaim;
	page->flags = PG_exact | PG_vmalloc;
	if (!add_piece(a, page, nr, VP_RUN)) {
		if (os_move((void *)a->addr, nr << PAGE_SHIFT, page_to_virt(page)))
			kmm_panic("realloc: cannot move %p back", page_to_virt(page));
		page->flags = PG_exact;
		goto fail_unclaim;
	}
	if (!fill_area(a, bytes, gfp, KMM_NUMA_NO_NODE)) {
		/* Back to a plain run where the caller's pointer expects it. */
		trim_area(a, nr << PAGE_SHIFT);
		if (os_move((void *)a->addr, nr << PAGE_SHIFT, page_to_virt(page)))
			kmm_panic("realloc: cannot move %p back", page_to_virt(page));
		page->flags = PG_exact;
		a->nr_pieces = 0;
		recount_maps(a);
		os_unmap_keep((void *)a->addr, nr << PAGE_SHIFT);
		goto fail_unclaim;
	}
	vm.stat[VMS_ALLOC]++;
	vm.stat[VMS_FROM_RUN]++;
	kmm_unlock(&vm.lock);
	if (gfp & KMM_GFP_ZERO)
		zero_runs(a, nr << PAGE_SHIFT);
	return (void *)a->addr;

fail_unclaim:
	unclaim_range(a);
fail:
	kmm_unlock(&vm.lock);
	free_area_struct(a);
	return NULL;
}

struct kmm_page *vmalloc_to_page(const void *addr)
{
	struct kmm_page *page = NULL;
	struct kmm_vm_area *a;

	kmm_lock(&vm.lock);
	a = find_area((uintptr_t)addr, NULL);
	if (a && (uintptr_t)addr - a->addr < a->size) {
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
	kmm_unlock(&vm.lock);
	return page;
}

/*
 * vmap: private anonymous memory cannot be mapped twice, so the pages move
 * here and back (their own addresses read zero meanwhile), or, when the
 * budget is spent, are copied here and back.
 */
void *__vmap(struct kmm_page **pages, unsigned int count, const void *caller)
{
	size_t bytes = (size_t)count << PAGE_SHIFT;
	struct kmm_vm_area *a;

	if (!count || bytes > vmalloc_end - vmalloc_start)
		return NULL;
	for (unsigned int i = 0; i < count; i++) {
		if (!page_zone_checked(pages[i]) || (pages[i]->flags & (PG_buddy | PG_pcp)))
			kmm_panic("vmap: page %u (%p) is not an allocated libkmm page", i,
				  (void *)pages[i]);
	}
	a = new_area(VM_MAP, caller);
	if (!a)
		return NULL;
	kmm_lock(&vm.lock);
	if (!claim_range(a, bytes, area_align(bytes, PAGE_SIZE)))
		goto fail;
	for (unsigned int i = 0, j; i < count; i = j) {
		uintptr_t dst = a->addr + a->size;
		size_t len;

		/* Pages contiguous in their zone move together. */
		for (j = i + 1; j < count && pages[j] == pages[j - 1] + 1 &&
				page_zone(pages[j]) == page_zone(pages[i]);
		     j++)
			;
		len = (size_t)(j - i) << PAGE_SHIFT;
		if (budget_allows() && !vm.no_stitch &&
		    !os_move(page_to_virt(pages[i]), len, (void *)dst)) {
			if (add_piece(a, pages[i], j - i, VP_MAPPED))
				continue;
			if (os_move((void *)dst, len, page_to_virt(pages[i])))
				kmm_panic("vmap: cannot move %p back", page_to_virt(pages[i]));
		}
		if (os_map_fixed((void *)dst, len))
			goto fail_unmap;
		memcpy((void *)dst, page_to_virt(pages[i]), len);
		/* One piece per page: each goes back to its own place. */
		for (unsigned int k = i; k < j; k++) {
			if (!add_piece(a, pages[k], 1, VP_COPY)) {
				os_unmap_keep((void *)(a->addr + a->size), (size_t)(j - k)
										   << PAGE_SHIFT);
				goto fail_unmap;
			}
		}
	}
	kmm_unlock(&vm.lock);
	return (void *)a->addr;

fail_unmap:
	release_pieces(a, 0, 0);
	a->nr_pieces = 0;
	recount_maps(a);
	if (a->size)
		os_unmap_keep((void *)a->addr, a->size);
	unclaim_range(a);
fail:
	kmm_unlock(&vm.lock);
	free_area_struct(a);
	return NULL;
}

void __vunmap(const void *addr)
{
	struct kmm_vm_area *a;

	kmm_lock(&vm.lock);
	a = area_of(addr, VM_MAP, "vunmap");
	release_pieces(a, 0, 0);
	a->nr_pieces = 0;
	recount_maps(a);
	os_unmap_keep((void *)a->addr, a->size);
	unclaim_range(a);
	kmm_unlock(&vm.lock);
	free_area_struct(a);
}

void vmalloc_map_counts(unsigned long *used, unsigned long *budget)
{
	kmm_lock(&vm.lock);
	*used = vm.maps;
	*budget = vm.max_maps;
	kmm_unlock(&vm.lock);
}

/* ---- views -------------------------------------------------------------- */

/* The kernel's %pS: symbol+offset/size when the dynamic linker knows it. */
static void print_caller(struct kmm_seq *m, const struct kmm_vm_area *a)
{
	Dl_info info;

	if (!a->caller) {
		kmm_seq_puts(m, a->flags & VM_MALLOC ? " malloc" : " ?");
		return;
	}
	if (dladdr(a->caller, &info) && info.dli_sname)
		kmm_seq_printf(m, " %s+0x%lx", info.dli_sname,
			       (unsigned long)((uintptr_t)a->caller - (uintptr_t)info.dli_saddr));
	else
		kmm_seq_printf(m, " %p", a->caller);
}

/*
 * /proc/vmallocinfo (mm/vmalloc.c s_show()): range with its guard, size with
 * the guard, caller, pages, the kind and the pages per node.  Fresh pages
 * have no node of their own: they count as the local node's.
 */
void show_vmallocinfo(struct kmm_seq *m)
{
	kmm_lock(&vm.lock);
	for (size_t i = 0; i < vm.nr; i++) {
		struct kmm_vm_area *a = vm.areas[i];
		unsigned long per_node[KMM_MAX_NUMNODES] = { 0 };

		kmm_seq_printf(m, "0x%016lx-0x%016lx %8lu", (unsigned long)a->addr,
			       (unsigned long)(a->addr + a->size + VM_GUARD),
			       (unsigned long)(a->size + VM_GUARD));
		print_caller(m, a);
		kmm_seq_printf(m, " pages=%lu", (unsigned long)(a->size >> PAGE_SHIFT));
		kmm_seq_puts(m, a->flags & VM_MAP ? " vmap" : " vmalloc");
		if (a->flags & VM_MALLOC)
			kmm_seq_puts(m, " user");
		for (unsigned int k = 0; k < a->nr_pieces; k++) {
			struct vm_piece *p = &a->pieces[k];

			per_node[p->page ? page_zone(p->page)->node : 0] += p->nr_pages;
		}
		for (int nid = 0; nid < kmm_nr_node_ids; nid++)
			if (per_node[nid])
				kmm_seq_printf(m, " N%d=%lu", nid, per_node[nid]);
		kmm_seq_puts(m, "\n");
	}
	kmm_unlock(&vm.lock);
}

/* The vmalloc lines of /proc/meminfo: the region, what is used, the largest free gap. */
void show_vmalloc_meminfo(struct kmm_seq *m)
{
	size_t used = 0, chunk = 0;
	uintptr_t lo = vmalloc_start;

	kmm_lock(&vm.lock);
	for (size_t i = 0; i <= vm.nr; i++) {
		uintptr_t hi = i < vm.nr ? vm.areas[i]->addr : vmalloc_end;

		chunk = MAX(chunk, (size_t)(hi - lo));
		if (i < vm.nr) {
			used += vm.areas[i]->size;
			lo = area_end(vm.areas[i]);
		}
	}
	kmm_unlock(&vm.lock);
	kmm_seq_printf(m, "VmallocTotal:   %8lu kB\n",
		       (unsigned long)((vmalloc_end - vmalloc_start) >> 10));
	kmm_seq_printf(m, "VmallocUsed:    %8lu kB\n", (unsigned long)(used >> 10));
	kmm_seq_printf(m, "VmallocChunk:   %8lu kB\n", (unsigned long)(chunk >> 10));
}

static const char *const vm_stat_names[NR_VM_STATS] = {
	[VMS_ALLOC] = "vmalloc_alloc",		 [VMS_FREE] = "vmalloc_free",
	[VMS_STITCHED] = "vmalloc_stitched",	 [VMS_STITCHED_KB] = "vmalloc_stitched_kb",
	[VMS_FRESH] = "vmalloc_fresh",		 [VMS_FRESH_KB] = "vmalloc_fresh_kb",
	[VMS_MOVED_BACK] = "vmalloc_moved_back", [VMS_RELEASED_KB] = "vmalloc_released_kb",
	[VMS_BUDGET_HIT] = "vmalloc_budget_hit", [VMS_GROW_INPLACE] = "vrealloc_in_place",
	[VMS_GROW_MOVED] = "vrealloc_moved",	 [VMS_SHRINK] = "vrealloc_shrunk",
	[VMS_FROM_RUN] = "vrealloc_from_run",
};

/* The vmalloc counters of /proc/vmstat, and the mapping budget. */
void show_vmalloc_vmstat(struct kmm_seq *m)
{
	unsigned long stat[NR_VM_STATS], maps, max_maps, areas;

	kmm_lock(&vm.lock);
	memcpy(stat, vm.stat, sizeof(stat));
	maps = vm.maps;
	max_maps = vm.max_maps;
	areas = vm.nr;
	kmm_unlock(&vm.lock);
	kmm_seq_printf(m, "vmalloc_areas %lu\n", areas);
	kmm_seq_printf(m, "vmalloc_maps %lu\n", maps);
	kmm_seq_printf(m, "vmalloc_maps_budget %lu\n", max_maps);
	for (int i = 0; i < NR_VM_STATS; i++)
		kmm_seq_printf(m, "%s %lu\n", vm_stat_names[i], stat[i]);
}

/* fork(): no stitch is half done while the process is copied. */
void vmalloc_fork_prepare(void)
{
	kmm_lock(&vm.lock);
}

void vmalloc_fork_parent(void)
{
	kmm_unlock(&vm.lock);
}

void vmalloc_fork_child(void)
{
	kmm_lock_init(&vm.lock);
}
