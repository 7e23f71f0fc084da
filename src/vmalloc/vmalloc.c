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
 * into is one it does not own (the hole race of DESIGN_FACTS §2).  An area
 * (struct kmm_vm_area, the kernel's vm_struct and vmap_area in one) is a
 * range of a chunk followed by a guard gap that stays PROT_NONE, so an
 * overrun faults.  Its memory is a list of pieces in address order:
 *
 *  - a run: an exact run of pages from a zone's buddy, moved in with
 *    mremap(MREMAP_DONTUNMAP), page tables and all (a 2 MiB-aligned huge page
 *    stays huge).  Its old place stays mapped and reads zero, so no range
 *    libkmm maps into is ever left unowned (the hole race of DESIGN_FACTS §2).
 *    Runs of 256 KiB and up only: a smaller move costs as much as a copy.
 *  - a fresh mapping: zero pages mapped in place over the reservation, for
 *    the tail below 256 KiB and whatever the mapping budget cannot afford.
 *  - (vmap) a copy of a page the caller owns, copied back by vunmap.
 *
 * A freed area waits, mapped, in a small cache.  The next request reuses it
 * whole when it is at most twice as large, or takes its pieces: they move
 * from area to area, faulted in already.  An area that leaves the cache is
 * released: its runs go back to the buddy (their old places, zero), its
 * pages to the system.  Pages never move back into a zone: a mapping moved
 * into the middle of the zone's does not always merge with it again (the
 * kernel drops the anon_vma of a mapping that is moved out whole, and a
 * fault there makes a new one), and each that does not costs the process a
 * mapping for good; the model test saw the zone's mapping cut in thirty
 * under load.
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
 * (move_back()).  Only EINVAL, which does not pass, switches stitching off.
 *
 * Areas and chunks sit in arrays sorted by address: lookups are a binary
 * search, a new area takes the first gap that also leaves its lower
 * neighbour room to double (so a growing realloc usually stays in place).
 * One lock covers the arrays and every system call on areas; the kernel
 * serializes those calls on the process's mmap lock anyway.  Lock order:
 * vmalloc, then slab, then page.
 */
#include <dlfcn.h>
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
#include "vmalloc.h"

#define VM_GUARD (64UL << 10)	  /* PROT_NONE after every area */
#define STITCH_MIN_ORDER 6	  /* 256 KiB: smaller runs are not moved */
#define VM_MIN_REGION (1UL << 30) /* the least address space the region may reserve */
#define VM_CHUNK_MIN (32UL << 20) /* the smallest reservation the region makes */
#define VM_PIECES_MAX (1u << 16)  /* pieces per area (metadata bound) */

/*
 * Freed areas kept mapped for the next request (the kernel's lazily purged
 * vmap areas): an alloc/free loop of large blocks then makes no system call
 * and takes no page fault.  Bounded in number and bytes; kmm_reclaim()
 * empties it.
 */
#define VM_CACHE_MAX 16
#define VM_CACHE_BYTES (64UL << 20)
#define VM_CACHED (1u << 7) /* in the cache: free, its range and pages kept */

enum vm_piece_kind {
	VP_FRESH, /* mapped in place; page is NULL */
	VP_RUN,	  /* exact run owned by the area (PG_exact | PG_vmalloc) */
	VP_COPY,  /* vmap: the caller's page, copied in */
};

struct vm_piece {
	struct kmm_page *page;
	unsigned int nr_pages;
	unsigned short kind;
	unsigned short dirty; /* fresh, but written by an earlier user */
};

/* struct kmm_vm_area - one allocation of the region (vm_struct + vmap_area). */
struct kmm_vm_area {
	uintptr_t addr;
	size_t size;  /* bytes mapped: the pieces' sum */
	size_t claim; /* bytes of range held (>= size while growing) */
	const void *caller;
	uint64_t freed_ms;    /* when it entered the cache */
	unsigned int flags;   /* VM_ALLOC, VM_MAP, VM_MALLOC */
	unsigned int nr_maps; /* kernel mappings counted for this area */
	unsigned int nr_pieces, max_pieces;
	int nid;		 /* the node whose pages fill it (-1: a vmap's copies) */
	struct vm_piece *pieces; /* kmalloc'd */
};

enum vm_stat_item {
	VMS_ALLOC,
	VMS_FREE,
	VMS_STITCHED,	 /* runs moved in */
	VMS_STITCHED_KB, /* ... their size */
	VMS_FRESH,	 /* fresh mappings made */
	VMS_FRESH_KB,
	VMS_CACHE_HIT,	     /* an area reused from the cache of freed ones */
	VMS_CACHE_REUSED_KB, /* cached memory moved into another area */
	VMS_RELEASED_KB,     /* run memory given to the system instead */
	VMS_DECAYED,	     /* cached areas released after KMM_DECAY_MS unused */
	VMS_BUDGET_HIT,	     /* stitching stopped by the mapping budget */
	VMS_GROW_INPLACE,
	VMS_GROW_MOVED, /* realloc moved by mremap: no byte copied */
	VMS_SHRINK,
	VMS_FROM_RUN,	 /* a page run grew into an area */
	VMS_MOVE_FAILED, /* mremap refused a move */
	VMS_COPIED_BACK, /* ... and a move back: the pages were copied instead */
	NR_VM_STATS
};

uintptr_t vmalloc_start, vmalloc_end;

/*
 * struct vm_chunk - one reservation of the region: PROT_NONE address space of
 * libkmm's own, where areas are placed.  The region reserves chunks as areas
 * need them and gives back a chunk that holds none.
 */
struct vm_chunk {
	uintptr_t start, end;
	unsigned long nr_areas;
	uint64_t empty_ms; /* when its last area left */
};

static void release_area(struct kmm_vm_area *a);
static void cache_remove(unsigned int i);
static void cache_decay(void);

static struct {
	struct kmm_lock lock;
	struct kmm_vm_area **areas; /* sorted by addr */
	size_t nr, cap;
	struct vm_chunk *chunks; /* sorted by start */
	size_t nr_chunks, chunks_cap;
	unsigned int nr_empty;	/* chunks holding no area */
	size_t reserved, limit; /* bytes the chunks hold, and may hold (KMM_VMALLOC_RESERVE) */
	unsigned long maps, max_maps;
	bool no_stitch; /* the zones cannot be moved (hugetlb, old kernel) */
	struct kmm_vm_area *cache[VM_CACHE_MAX]; /* oldest first */
	unsigned int nr_cached;
	size_t cached_bytes;
	unsigned long stat[NR_VM_STATS];
} vm = { .lock = KMM_LOCK_INIT };

/* os_move(), counted when the kernel refuses.  Context: vm.lock. */
static int vm_move(void *from, size_t size, void *to)
{
	int ret = os_move(from, size, to);

	if (ret)
		vm.stat[VMS_MOVE_FAILED]++;
	return ret;
}

/*
 * os_unmap_keep(), or where the kernel cannot split the mapping (no mappings
 * left) at least the pages dropped: the range stays libkmm's, mapped but
 * unused, and reads zero.
 */
static void unmap_keep(uintptr_t addr, size_t size)
{
	if (size && os_unmap_keep((void *)addr, size))
		os_release((void *)addr, size, false);
}

/*
 * Does mremap(MREMAP_DONTUNMAP) work here?  Not before Linux 5.7, nor under
 * valgrind, which emulates mremap itself.  Without it every area is fresh.
 */
static bool can_move_pages(void)
{
	char *src = os_map_anon(PAGE_SIZE), *dst;
	bool ok = false;

	if (!src)
		return false;
	dst = os_reserve(PAGE_SIZE, PAGE_SIZE);
	if (dst) {
		src[0] = 1;
		ok = !os_move(src, PAGE_SIZE, dst) && dst[0] == 1 && src[0] == 0;
		os_unmap(dst, PAGE_SIZE);
	}
	os_unmap(src, PAGE_SIZE);
	return ok;
}

int vmalloc_init(void)
{
	/* Nothing is reserved yet: the first area reserves the first chunk. */
	vm.limit = ALIGN_UP((size_t)MAX(kmm_config.vmalloc_reserve, VM_MIN_REGION), SECTION_SIZE);
	vm.max_maps =
		kmm_config.max_maps ? (unsigned long)kmm_config.max_maps : os_max_map_count() / 16;
	vm.no_stitch = !can_move_pages();
	return 0;
}

/* ---- the area index and the chunks -------------------------------------- */

/*
 * Room for one more of the @size-byte entries of the array at @arr, which
 * holds @nr of @cap (metadata mapped apart: it must not come from the slab
 * that calls vmalloc).  Return: false if it cannot grow.
 */
static bool array_room(void **arr, size_t nr, size_t *cap, size_t size)
{
	size_t n = *cap ? *cap * 2 : PAGE_SIZE / size;
	void *p;

	if (nr < *cap)
		return true;
	p = os_map_anon(n * size);
	if (!p)
		return false;
	if (*arr) {
		memcpy(p, *arr, nr * size);
		os_unmap(*arr, *cap * size);
	}
	*arr = p;
	*cap = n;
	return true;
}

/* Index of the first chunk starting above @addr.  Context: vm.lock. */
static size_t chunk_above(uintptr_t addr)
{
	size_t lo = 0, hi = vm.nr_chunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vm.chunks[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The chunk containing @addr, or NULL.  Context: vm.lock. */
static struct vm_chunk *find_chunk(uintptr_t addr)
{
	size_t i = chunk_above(addr);

	if (i == 0 || addr >= vm.chunks[i - 1].end)
		return NULL;
	return &vm.chunks[i - 1];
}

/* Widen the hull is_vmalloc_addr() checks first; it never narrows. */
static void widen_hull(uintptr_t start, uintptr_t end)
{
	if (!vmalloc_end) {
		__atomic_store_n(&vmalloc_start, start, __ATOMIC_RELEASE);
		__atomic_store_n(&vmalloc_end, end, __ATOMIC_RELEASE);
		return;
	}
	if (start < vmalloc_start)
		__atomic_store_n(&vmalloc_start, start, __ATOMIC_RELEASE);
	if (end > vmalloc_end)
		__atomic_store_n(&vmalloc_end, end, __ATOMIC_RELEASE);
}

/* Give chunk @i back to the system.  Return: false if the kernel refused (it stays). */
static bool release_chunk(size_t i)
{
	struct vm_chunk *c = &vm.chunks[i];

	if (os_unreserve((void *)c->start, c->end - c->start))
		return false;
	vm.reserved -= c->end - c->start;
	vm.nr_empty -= !c->nr_areas;
	memmove(c, c + 1, (vm.nr_chunks - i - 1) * sizeof(*c));
	vm.nr_chunks--;
	return true;
}

/*
 * Give back the empty chunks but the one at @keep: all of them, or with
 * @aged those empty for KMM_DECAY_MS.  One empty chunk waits that long, so
 * that an alloc/free loop of large blocks does not reserve and give back a
 * chunk each time.  Context: vm.lock.
 */
static void release_empty_chunks(uintptr_t keep, bool aged)
{
	uint64_t now;

	if (!vm.nr_empty || (aged && !kmm_config.decay_ms))
		return;
	now = aged ? kmm_now_ms() : 0;
	for (size_t i = vm.nr_chunks; i-- > 0;) {
		struct vm_chunk *c = &vm.chunks[i];

		if (c->nr_areas || c->start == keep)
			continue;
		if (!aged || now - c->empty_ms >= kmm_config.decay_ms)
			release_chunk(i);
	}
}

/*
 * Reserve a chunk for an area of @want bytes (guard included) aligned to
 * @align: twice that, so that the area can double in place, and at least
 * VM_CHUNK_MIN or an eighth of what the region holds, so that chunks stay
 * few; exactly @want where the address space is short (RLIMIT_AS).
 * Context: vm.lock.  Return: the chunk, or NULL.
 */
static struct vm_chunk *new_chunk(size_t want, size_t align)
{
	size_t sizes[2], size = 0, i;
	void *base = NULL;

	want = ALIGN_UP(want, SECTION_SIZE);
	sizes[0] = ALIGN_UP(MAX(MAX(2 * want, VM_CHUNK_MIN), vm.reserved / 8), SECTION_SIZE);
	sizes[1] = want;
	if (!array_room((void **)&vm.chunks, vm.nr_chunks, &vm.chunks_cap, sizeof(*vm.chunks)))
		return NULL;
	for (int attempt = 0; attempt < 2 && !base; attempt++) {
		for (i = 0; i < 2 && !base; i++) {
			size = sizes[i];
			if (vm.reserved + size <= vm.limit)
				base = os_reserve(size, MAX(align, SECTION_SIZE));
		}
		/* The address space an empty chunk holds may be what is missing. */
		if (!base)
			release_empty_chunks(0, false);
	}
	if (!base)
		return NULL;
	i = chunk_above((uintptr_t)base);
	memmove(&vm.chunks[i + 1], &vm.chunks[i], (vm.nr_chunks - i) * sizeof(*vm.chunks));
	vm.chunks[i] = (struct vm_chunk){ (uintptr_t)base, (uintptr_t)base + size, 0, 0 };
	vm.nr_chunks++;
	vm.nr_empty++;
	vm.reserved += size;
	widen_hull((uintptr_t)base, (uintptr_t)base + size);
	return &vm.chunks[i];
}

bool vmalloc_owns(const void *p)
{
	bool ret;

	kmm_lock(&vm.lock);
	ret = find_chunk((uintptr_t)p) != NULL;
	kmm_unlock(&vm.lock);
	return ret;
}

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
static struct kmm_vm_area *find_area(uintptr_t addr)
{
	size_t i = find_above(addr);
	struct kmm_vm_area *a;

	if (i == 0)
		return NULL;
	a = vm.areas[i - 1];
	return addr - a->addr < a->claim ? a : NULL;
}

static inline uintptr_t area_end(const struct kmm_vm_area *a)
{
	return a->addr + a->claim + VM_GUARD;
}

/* Insert @a at @at.  Context: vm.lock.  Return: false if the index cannot grow. */
static bool index_insert(struct kmm_vm_area *a, size_t at)
{
	if (!array_room((void **)&vm.areas, vm.nr, &vm.cap, sizeof(*vm.areas)))
		return false;
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
 * A gap in the chunks for @size bytes aligned to @align, its guard after it:
 * with @roomy one that leaves the area below room to double and this one
 * room to double.  Context: vm.lock.  Return: the address, or 0.
 */
static uintptr_t find_gap(size_t size, size_t align, bool roomy)
{
	size_t want = size + VM_GUARD + (roomy ? size : 0), i = 0;

	for (size_t c = 0; c < vm.nr_chunks; c++) {
		const struct vm_chunk *ch = &vm.chunks[c];
		uintptr_t lo = ch->start;

		for (;; i++) {
			bool last = i == vm.nr || vm.areas[i]->addr >= ch->end;
			uintptr_t hi = last ? ch->end : vm.areas[i]->addr;
			uintptr_t start = lo;

			if (roomy && i > 0 && vm.areas[i - 1]->addr >= ch->start)
				start = MAX(start, vm.areas[i - 1]->addr +
							   2 * vm.areas[i - 1]->claim + VM_GUARD);
			start = ALIGN_UP(start, align);
			if (start < hi && hi - start >= want)
				return start;
			if (last)
				break;
			lo = area_end(vm.areas[i]);
		}
	}
	return 0;
}

/*
 * Find room for @size bytes aligned to @align and insert @a there: a gap
 * with room to double in the chunks, else a new chunk, else any gap.
 * Context: vm.lock.  Return: false if no address space is left.
 */
static bool place_area(struct kmm_vm_area *a, size_t size, size_t align)
{
	struct vm_chunk *c;
	uintptr_t addr = find_gap(size, align, true);

	if (!addr) {
		c = new_chunk(size + VM_GUARD, align);
		addr = c ? c->start : find_gap(size, align, false);
	}
	if (!addr)
		return false;
	a->addr = addr;
	a->claim = size;
	if (!index_insert(a, find_above(addr))) {
		release_empty_chunks(0, false);
		return false;
	}
	c = find_chunk(addr);
	vm.nr_empty -= !c->nr_areas++;
	return true;
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

/*
 * Append a piece (room reserved with reserve_pieces()), merging a fresh one
 * into a fresh predecessor, and count the mapping it may start.
 */
static void add_piece(struct kmm_vm_area *a, struct kmm_page *page, unsigned long nr,
		      unsigned int kind, bool dirty)
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
			vm.maps++;
		}
	} else {
		a->nr_maps++;
		vm.maps++;
	}
	a->pieces[a->nr_pieces++] = p;
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

/* Room in @a->pieces for @n more.  Return: false if the metadata cannot grow. */
static bool reserve_pieces(struct kmm_vm_area *a, unsigned int n)
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
			if (vm.maps + maps + 2 > vm.max_maps) {
				put_run(page, (unsigned long)page->private);
				vm.stat[VMS_BUDGET_HIT]++;
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

	if (!reserve_pieces(a, n))
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
				vm.no_stitch = true;
			break;
		}
		for (unsigned int k = i; k < j; k++)
			add_piece(a, runs[k], (unsigned long)runs[k]->private, VP_RUN, true);
		vm.stat[VMS_STITCHED] += j - i;
		vm.stat[VMS_STITCHED_KB] += len >> 10;
		done += len;
	}
put_back:
	for (; i < n; i++)
		put_run(runs[i], (unsigned long)runs[i]->private);
	return done;
}

static size_t take_from_cache(struct kmm_vm_area *a, size_t bytes);

/*
 * Map [@a->size, @to) of @a: memory of freed areas in the cache first (mapped
 * and faulted in already), then runs from the buddy while the budget lasts,
 * then one fresh mapping for the rest.  Context: vm.lock.
 * Return: false if memory ran out (what was mapped stays in the area).
 */
static bool fill_area(struct kmm_vm_area *a, size_t to, kmm_gfp_t gfp)
{
	while (a->size < to) {
		size_t left = to - a->size;
		unsigned long nr = left >> PAGE_SHIFT;
		uintptr_t dst = a->addr + a->size;

		if (!vm.no_stitch && vm.nr_cached && take_from_cache(a, left))
			continue;
		if (!vm.no_stitch && nr >= (1UL << STITCH_MIN_ORDER)) {
			struct kmm_page *runs[STITCH_BATCH];
			unsigned int n = gather_runs(a, nr, gfp, runs);

			if (n && stitch_runs(a, runs, n, dst))
				continue;
		}
		if (!arena_charge(nr))
			return false;
		if (os_map_fixed((void *)dst, left)) {
			arena_uncharge(nr);
			return false;
		}
		/* By the area's size, so that its fresh pieces all merge into one mapping. */
		if (kmm_arena.thp && to >= SECTION_SIZE)
			os_advise_hugepage((void *)dst, left);
		if (!reserve_pieces(a, 1)) {
			unmap_keep(dst, left);
			arena_uncharge(nr);
			return false;
		}
		add_piece(a, NULL, nr, VP_FRESH, false);
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
 * Give back the pieces [@from_piece, nr_pieces) of @a, whose memory starts at
 * byte @off of the area: runs go back to the buddy and their pages to the
 * system with the area's range (their old places in the zone read zero, so
 * the zone's next user of them faults in fresh pages); vmap copies go back
 * to their pages.  Nothing is moved back into a zone: a mapping moved into
 * the middle of the zone's does not always merge with it again (the kernel
 * drops the anon_vma of a mapping moved out whole), and each one that does
 * not costs the process a mapping for good.
 */
static void release_pieces(struct kmm_vm_area *a, unsigned int from_piece, size_t off)
{
	for (unsigned int i = from_piece; i < a->nr_pieces; i++) {
		struct vm_piece *p = &a->pieces[i];

		if (p->kind == VP_FRESH) {
			arena_uncharge(p->nr_pages);
		} else if (p->kind == VP_COPY) {
			memcpy(page_to_virt(p->page), (void *)(a->addr + off), PAGE_SIZE);
		} else {
			put_run(p->page, p->nr_pages);
			vm.stat[VMS_RELEASED_KB] += piece_bytes(p) >> 10;
		}
		off += piece_bytes(p);
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
		unmap_keep(a->addr + size, a->size - size);
	a->size = size;
	a->claim = size;
}

/* ---- areas --------------------------------------------------------------- */

static struct kmm_vm_area *cache_take(size_t bytes, size_t align, int nid);
static struct kmm_vm_area *grow_area(struct kmm_vm_area *a, size_t bytes, kmm_gfp_t gfp);

static struct kmm_vm_area *new_area(unsigned int flags, const void *caller)
{
	struct kmm_vm_area *a = __kmalloc(sizeof(*a), KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);

	if (a) {
		a->flags = flags;
		a->caller = caller;
		a->nid = -1;
	}
	return a;
}

/*
 * On a NUMA machine a freed area serves only requests for its own node (under
 * interleave, any): its pages are that node's.
 */
static bool area_serves(const struct kmm_vm_area *a, int nid)
{
	return !kmm_numa_remote_free || a->nid == nid;
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

	struct vm_chunk *c;

	if (i == 0 || vm.areas[i - 1] != a)
		kmm_panic("vmalloc: area %p lost from the index", (void *)a->addr);
	index_remove(i - 1);
	vm.maps -= a->nr_maps;
	a->nr_maps = 0;
	c = find_chunk(a->addr);
	if (--c->nr_areas == 0) {
		/* At most one empty chunk waits for reuse: the newest. */
		vm.nr_empty++;
		c->empty_ms = kmm_now_ms();
		release_empty_chunks(c->start, false);
	}
}

static size_t area_align(size_t size, size_t align)
{
	/* Whole 2 MiB steps for whole huge pages. */
	if (size >= SECTION_SIZE)
		align = MAX(align, SECTION_SIZE);
	return MAX(align, PAGE_SIZE);
}

/* Zero what may hold old data in @a from byte @from on (fresh pages are zero). */
static void zero_runs(struct kmm_vm_area *a, size_t from)
{
	size_t off = 0;

	for (unsigned int i = 0; i < a->nr_pieces; i++) {
		size_t len = piece_bytes(&a->pieces[i]), start = MAX(off, from);

		if ((a->pieces[i].kind == VP_RUN || a->pieces[i].dirty) && start < off + len)
			memset((void *)(a->addr + start), 0, off + len - start);
		off += len;
	}
}

/*
 * Fit the cached area @a to @bytes: cut what passes twice @bytes, or grow it
 * (in place, or moved with its pages: a freed block's memory serves the
 * next, larger one).
 * Context: vm.lock.  Return: the area, or NULL with @a released.
 */
static struct kmm_vm_area *reuse_area(struct kmm_vm_area *a, size_t bytes, kmm_gfp_t gfp)
{
	struct kmm_vm_area *b;

	if (bytes <= a->size) {
		/*
		 * Up to twice the request stays: a smaller block after a larger
		 * one keeps the pages the next larger one will want, at most
		 * doubling what this one holds.
		 */
		if (a->size > 2 * bytes)
			trim_area(a, 2 * bytes);
		return a;
	}
	b = grow_area(a, bytes, gfp);
	if (!b)
		release_area(a);
	return b;
}

void *__vmalloc_node(size_t size, size_t align, kmm_gfp_t gfp, int nid, unsigned int flags,
		     const void *caller)
{
	struct kmm_vm_area *a;
	size_t bytes;

	if (!size || size > vm.limit || align > vm.limit / 4)
		return NULL;
	bytes = ALIGN_UP(size, PAGE_SIZE);
	if (nid == KMM_NUMA_NO_NODE || !node_online(nid)) {
		bool interleaved;

		nid = policy_node(&interleaved);
	}
	kmm_lock(&vm.lock);
	cache_decay();
	a = cache_take(bytes, area_align(bytes, align), nid);
	if (a)
		a = reuse_area(a, bytes, gfp);
	if (a) {
		a->flags = flags;
		a->caller = caller;
		vm.stat[VMS_ALLOC]++;
		vm.stat[VMS_CACHE_HIT]++;
		kmm_unlock(&vm.lock);
		/* Dirty from its last user. */
		if (gfp & KMM_GFP_ZERO)
			memset((void *)a->addr, 0, bytes);
		return (void *)a->addr;
	}
	kmm_unlock(&vm.lock);
	a = new_area(flags, caller);
	if (!a)
		return NULL;
	a->nid = nid;
	kmm_lock(&vm.lock);
	if (!claim_range(a, bytes, area_align(bytes, align))) {
		kmm_unlock(&vm.lock);
		free_area_struct(a);
		return NULL;
	}
	if (!fill_area(a, bytes, gfp)) {
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
	struct kmm_vm_area *a = find_area((uintptr_t)p);

	if (!a || a->addr != (uintptr_t)p) {
		kmm_unlock(&vm.lock);
		bad_vfree(p, who,
			  a ? "not the start of a vmalloc area"
			    : "no vmalloc area there (double free, or never allocated)");
	}
	if (a->flags & VM_CACHED) {
		kmm_unlock(&vm.lock);
		bad_vfree(p, who, "double free (the area is already free)");
	}
	if (!(a->flags & flags)) {
		kmm_unlock(&vm.lock);
		bad_vfree(p, who,
			  a->flags & VM_MAP ? "a vmap area (use vunmap)" : "not a vmap area");
	}
	return a;
}

/* Can @a grow to @size where it is?  Context: vm.lock. */
static bool room_after(const struct kmm_vm_area *a, size_t size)
{
	size_t i = find_above(a->addr);
	uintptr_t next = find_chunk(a->addr)->end;

	if (i < vm.nr)
		next = MIN(next, vm.areas[i]->addr);
	return next - a->addr >= size + VM_GUARD;
}

/* Drop @a for good: its pages to the buddy and the system, its range reserved. */
static void release_area(struct kmm_vm_area *a)
{
	trim_area(a, 0);
	unclaim_range(a);
	free_area_struct(a);
}

static void cache_remove(unsigned int i)
{
	vm.cached_bytes -= vm.cache[i]->size;
	vm.cache[i]->flags &= ~VM_CACHED;
	memmove(&vm.cache[i], &vm.cache[i + 1], (vm.nr_cached - i - 1) * sizeof(vm.cache[0]));
	vm.nr_cached--;
}

/*
 * A cached area for @bytes aligned to @align: the smallest that is large
 * enough, else the largest that can grow where it is.  Context: vm.lock.
 */
static struct kmm_vm_area *cache_take(size_t bytes, size_t align, int nid)
{
	int best = -1, grow = -1;

	for (unsigned int i = 0; i < vm.nr_cached; i++) {
		struct kmm_vm_area *a = vm.cache[i];

		if ((a->addr & (align - 1)) || !area_serves(a, nid))
			continue;
		if (a->size >= bytes) {
			/* Larger ones give pieces instead (take_from_cache()). */
			if (a->size <= 2 * bytes && (best < 0 || a->size < vm.cache[best]->size))
				best = (int)i;
		} else if (a->size >= bytes / 2 && (grow < 0 || a->size > vm.cache[grow]->size) &&
			   room_after(a, bytes)) {
			grow = (int)i;
		}
	}
	if (best < 0)
		best = grow;
	if (best < 0)
		return NULL;
	{
		struct kmm_vm_area *a = vm.cache[best];

		cache_remove((unsigned int)best);
		return a;
	}
}

/*
 * Release the cached areas no request wanted for KMM_DECAY_MS (jemalloc's
 * dirty_decay_ms, mimalloc's purge_delay): a program that stops using large
 * blocks gets its memory back on its next large allocation or free.
 * Context: vm.lock.
 */
static void cache_decay(void)
{
	uint64_t now;

	release_empty_chunks(0, true);
	if (!vm.nr_cached || !kmm_config.decay_ms)
		return;
	now = kmm_now_ms();
	while (vm.nr_cached && now - vm.cache[0]->freed_ms >= kmm_config.decay_ms) {
		struct kmm_vm_area *old = vm.cache[0];

		cache_remove(0);
		release_area(old);
		vm.stat[VMS_DECAYED]++;
	}
}

bool __vfree(const void *p, const char *who)
{
	struct kmm_vm_area *a;

	if (!in_vmalloc_hull(p))
		return false;
	kmm_lock(&vm.lock);
	if (!find_chunk((uintptr_t)p)) {
		kmm_unlock(&vm.lock);
		return false;
	}
	a = area_of(p, VM_ALLOC | VM_MALLOC, who);
	vm.stat[VMS_FREE]++;
	cache_decay();
	if (a->size <= VM_CACHE_BYTES) {
		a->flags |= VM_CACHED;
		a->freed_ms = kmm_now_ms();
		vm.cache[vm.nr_cached++] = a;
		vm.cached_bytes += a->size;
		while (vm.nr_cached > VM_CACHE_MAX - 1 || vm.cached_bytes > VM_CACHE_BYTES) {
			struct kmm_vm_area *old = vm.cache[0];

			cache_remove(0);
			release_area(old);
		}
	} else {
		release_area(a);
	}
	kmm_unlock(&vm.lock);
	return true;
}

void vmalloc_decay(void)
{
	kmm_lock(&vm.lock);
	cache_decay();
	kmm_unlock(&vm.lock);
}

void vmalloc_purge(void)
{
	kmm_lock(&vm.lock);
	while (vm.nr_cached) {
		struct kmm_vm_area *a = vm.cache[0];

		cache_remove(0);
		release_area(a);
	}
	release_empty_chunks(0, false);
	kmm_unlock(&vm.lock);
}

size_t vmalloc_usable_size(const void *p)
{
	struct kmm_vm_area *a;
	size_t size = 0;

	kmm_lock(&vm.lock);
	a = find_area((uintptr_t)p);
	if (a && a->addr == (uintptr_t)p && !(a->flags & (VM_MAP | VM_CACHED)))
		size = a->size;
	kmm_unlock(&vm.lock);
	return size;
}

/*
 * Move @a's pieces, stretch by stretch, from @from to @to up to byte @limit.
 * Return: the bytes moved, a whole number of pieces (less than @limit after
 * a failure).
 */
static size_t move_pieces(const struct kmm_vm_area *a, uintptr_t from, uintptr_t to, size_t limit)
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
 * move.  Context: vm.lock.
 */
static void move_back(const struct kmm_vm_area *a, uintptr_t to, uintptr_t from, size_t len)
{
	size_t back = move_pieces(a, to, from, len);

	if (back < len) {
		memcpy((void *)(from + back), (void *)(to + back), len - back);
		vm.stat[VMS_COPIED_BACK]++;
	}
	unmap_keep(to, len);
}

/*
 * Split piece @i of @a after its first @keep pages: a run becomes two exact
 * runs, a fresh mapping two pieces (the kernel's mappings do not change).
 * Context: vm.lock.  Return: false if the metadata cannot grow.
 */
static bool split_piece(struct kmm_vm_area *a, unsigned int i, unsigned int keep)
{
	struct vm_piece *p;

	if (!reserve_pieces(a, 1))
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

/*
 * Move up to @bytes from the end of the newest cached area of @a's node to
 * the end of @a, page tables and all: a freed block's pages, faulted in
 * already, serve the next block before any of the buddy's.  Context: vm.lock.
 * Return: the bytes moved (0 if nothing could be).
 */
static size_t take_from_cache(struct kmm_vm_area *a, size_t bytes)
{
	unsigned int donor = vm.nr_cached;
	struct kmm_vm_area *d, tail;
	size_t len = 0, moved;
	unsigned int i;

	while (donor > 0 && !area_serves(vm.cache[donor - 1], a->nid))
		donor--;
	if (!donor)
		return 0;
	d = vm.cache[--donor];
	i = d->nr_pieces;

	while (i > 0 && len + piece_bytes(&d->pieces[i - 1]) <= bytes)
		len += piece_bytes(&d->pieces[--i]);
	if (i > 0 && len < bytes && d->pieces[i - 1].kind != VP_COPY) {
		unsigned int take = (unsigned int)((bytes - len) >> PAGE_SHIFT);

		if (!split_piece(d, i - 1, d->pieces[i - 1].nr_pages - take))
			return 0;
		len += (size_t)take << PAGE_SHIFT;
	}
	if (!len || vm.maps + 2 > vm.max_maps || !reserve_pieces(a, d->nr_pieces - i))
		return 0;
	/* Pieces [i, nr_pieces) of the donor, as an area of their own. */
	tail = (struct kmm_vm_area){ .pieces = &d->pieces[i], .nr_pieces = d->nr_pieces - i };
	moved = move_pieces(&tail, d->addr + d->size - len, a->addr + a->size, len);
	if (moved < len) {
		move_back(&tail, a->addr + a->size, d->addr + d->size - len, moved);
		return 0;
	}
	for (unsigned int k = i; k < d->nr_pieces; k++)
		add_piece(a, d->pieces[k].page, d->pieces[k].nr_pages, d->pieces[k].kind, true);
	vm.cached_bytes -= len;
	d->nr_pieces = i;
	d->size -= len;
	d->claim = d->size;
	recount_maps(d);
	/* Its old place reads zero now: back to a reservation. */
	unmap_keep(d->addr + d->size, len);
	if (!d->size) {
		cache_remove(donor);
		release_area(d);
	}
	vm.stat[VMS_CACHE_REUSED_KB] += len >> 10;
	return len;
}

/*
 * Grow @a to @bytes: in place when the range after it is free, else moved
 * to a new range, page tables and all, and filled there.  Context: vm.lock.
 * Return: the area (a new one when it moved: @a is then freed), or NULL
 * with @a as it was.
 */
static struct kmm_vm_area *grow_area(struct kmm_vm_area *a, size_t bytes, kmm_gfp_t gfp)
{
	size_t old = a->size, moved;
	struct kmm_vm_area *b;

	if (room_after(a, bytes)) {
		a->claim = bytes;
		if (!fill_area(a, bytes, gfp)) {
			trim_area(a, old);
			return NULL;
		}
		vm.stat[VMS_GROW_INPLACE]++;
		return a;
	}
	/* No room: a new range, the pages moved over, the old range reserved again. */
	b = new_area(a->flags, a->caller);
	if (b)
		b->nid = a->nid;
	if (!b)
		return NULL;
	if (!claim_range(b, bytes, area_align(bytes, PAGE_SIZE))) {
		free_area_struct(b);
		return NULL;
	}
	moved = move_pieces(a, a->addr, b->addr, old);
	if (moved < old) {
		move_back(a, b->addr, a->addr, moved);
		unclaim_range(b);
		free_area_struct(b);
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
	recount_maps(a);
	recount_maps(b);
	if (!fill_area(b, bytes, gfp)) {
		/* Put everything back where the caller's pointer expects it. */
		trim_area(b, old);
		move_back(b, b->addr, a->addr, old);
		a->pieces = b->pieces;
		a->nr_pieces = b->nr_pieces;
		a->max_pieces = b->max_pieces;
		a->size = old;
		b->pieces = NULL;
		b->nr_pieces = b->max_pieces = 0;
		recount_maps(a);
		recount_maps(b);
		unclaim_range(b);
		free_area_struct(b);
		return NULL;
	}
	unmap_keep(a->addr, old);
	unclaim_range(a);
	free_area_struct(a);
	vm.stat[VMS_GROW_MOVED]++;
	return b;
}

void *__vrealloc(void *p, size_t size, kmm_gfp_t gfp)
{
	size_t bytes = ALIGN_UP(size, PAGE_SIZE), old;
	struct kmm_vm_area *a;

	if (!size || size > vm.limit)
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
	a = grow_area(a, bytes, gfp);
	kmm_unlock(&vm.lock);
	/* The area is the caller's: no one else may touch it meanwhile. */
	if (a && (gfp & KMM_GFP_ZERO))
		zero_runs(a, old);
	return a ? (void *)a->addr : NULL;
}

void *vmalloc_from_run(struct kmm_page *page, size_t size, kmm_gfp_t gfp)
{
	unsigned long nr = (unsigned long)page->private;
	size_t bytes = ALIGN_UP(size, PAGE_SIZE);
	struct kmm_vm_area *a;

	if (vm.no_stitch || nr < (1UL << STITCH_MIN_ORDER) || bytes <= nr << PAGE_SHIFT ||
	    size > vm.limit)
		return NULL;
	a = new_area(VM_MALLOC, NULL);
	if (!a)
		return NULL;
	a->nid = page_zone(page)->node;
	kmm_lock(&vm.lock);
	if (!claim_range(a, bytes, area_align(bytes, PAGE_SIZE)))
		goto fail;
	if (!budget_allows() || !reserve_pieces(a, 1) ||
	    vm_move(page_to_virt(page), nr << PAGE_SHIFT, (void *)a->addr))
		goto fail_unclaim;
	page->flags = PG_exact | PG_vmalloc;
	add_piece(a, page, nr, VP_RUN, true);
	if (!fill_area(a, bytes, gfp)) {
		/* Back to a plain run where the caller's pointer expects it. */
		trim_area(a, nr << PAGE_SHIFT);
		move_back(a, a->addr, (uintptr_t)page_to_virt(page), nr << PAGE_SHIFT);
		page->flags = PG_exact;
		a->nr_pieces = 0;
		recount_maps(a);
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
	a = find_area((uintptr_t)addr);
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
	kmm_unlock(&vm.lock);
	return page;
}

/*
 * vmap: private anonymous memory cannot be mapped twice, and moving the pages
 * here and back would cut the zone's mapping into pieces (see
 * release_pieces()), so their contents are copied in, and out by vunmap.
 */
void *__vmap(struct kmm_page **pages, unsigned int count, const void *caller)
{
	size_t bytes = (size_t)count << PAGE_SHIFT;
	struct kmm_vm_area *a;

	if (!count || count > VM_PIECES_MAX || bytes > vm.limit)
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
	if (!reserve_pieces(a, count) || os_map_fixed((void *)a->addr, bytes))
		goto fail_unclaim;
	for (unsigned int i = 0; i < count; i++) {
		memcpy((void *)(a->addr + a->size), page_to_virt(pages[i]), PAGE_SIZE);
		add_piece(a, pages[i], 1, VP_COPY, true);
	}
	kmm_unlock(&vm.lock);
	return (void *)a->addr;

fail_unclaim:
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
	unmap_keep(a->addr, a->size);
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
		if (a->flags & VM_CACHED) {
			/* Freed, not purged yet: the kernel's words for it. */
			kmm_seq_puts(m, " unpurged vm_area\n");
			continue;
		}
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

/*
 * The vmalloc lines of /proc/meminfo: the address space the region may
 * reserve, what is used, the largest free gap (in a chunk, or yet to be
 * reserved).
 */
void show_vmalloc_meminfo(struct kmm_seq *m)
{
	size_t used = 0, chunk, i = 0;

	kmm_lock(&vm.lock);
	chunk = vm.limit - vm.reserved;
	for (size_t c = 0; c < vm.nr_chunks; c++) {
		uintptr_t lo = vm.chunks[c].start;

		for (; i < vm.nr && vm.areas[i]->addr < vm.chunks[c].end; i++) {
			chunk = MAX(chunk, (size_t)(vm.areas[i]->addr - lo));
			if (!(vm.areas[i]->flags & VM_CACHED))
				used += vm.areas[i]->size;
			lo = area_end(vm.areas[i]);
		}
		chunk = MAX(chunk, (size_t)(vm.chunks[c].end - lo));
	}
	kmm_unlock(&vm.lock);
	kmm_seq_printf(m, "VmallocTotal:   %8lu kB\n", (unsigned long)(vm.limit >> 10));
	kmm_seq_printf(m, "VmallocUsed:    %8lu kB\n", (unsigned long)(used >> 10));
	kmm_seq_printf(m, "VmallocChunk:   %8lu kB\n", (unsigned long)(chunk >> 10));
}

static const char *const vm_stat_names[NR_VM_STATS] = {
	[VMS_ALLOC] = "vmalloc_alloc",
	[VMS_FREE] = "vmalloc_free",
	[VMS_STITCHED] = "vmalloc_stitched",
	[VMS_STITCHED_KB] = "vmalloc_stitched_kb",
	[VMS_FRESH] = "vmalloc_fresh",
	[VMS_FRESH_KB] = "vmalloc_fresh_kb",
	[VMS_CACHE_HIT] = "vmalloc_cache_hit",
	[VMS_CACHE_REUSED_KB] = "vmalloc_cache_reused_kb",
	[VMS_RELEASED_KB] = "vmalloc_released_kb",
	[VMS_DECAYED] = "vmalloc_decayed",
	[VMS_BUDGET_HIT] = "vmalloc_budget_hit",
	[VMS_GROW_INPLACE] = "vrealloc_in_place",
	[VMS_GROW_MOVED] = "vrealloc_moved",
	[VMS_SHRINK] = "vrealloc_shrunk",
	[VMS_FROM_RUN] = "vrealloc_from_run",
	[VMS_MOVE_FAILED] = "vmalloc_move_failed",
	[VMS_COPIED_BACK] = "vmalloc_copied_back",
};

/* The vmalloc counters of /proc/vmstat, and the mapping budget. */
void show_vmalloc_vmstat(struct kmm_seq *m)
{
	unsigned long stat[NR_VM_STATS], maps, max_maps, areas, chunks;
	unsigned int cached;
	size_t cached_bytes, reserved;

	kmm_lock(&vm.lock);
	memcpy(stat, vm.stat, sizeof(stat));
	maps = vm.maps;
	max_maps = vm.max_maps;
	areas = vm.nr - vm.nr_cached;
	cached = vm.nr_cached;
	cached_bytes = vm.cached_bytes;
	chunks = vm.nr_chunks;
	reserved = vm.reserved;
	kmm_unlock(&vm.lock);
	kmm_seq_printf(m, "vmalloc_areas %lu\n", areas);
	kmm_seq_printf(m, "vmalloc_chunks %lu\n", chunks);
	kmm_seq_printf(m, "vmalloc_reserved_kb %lu\n", (unsigned long)(reserved >> 10));
	kmm_seq_printf(m, "vmalloc_maps %lu\n", maps);
	kmm_seq_printf(m, "vmalloc_maps_budget %lu\n", max_maps);
	kmm_seq_printf(m, "vmalloc_stitching %d\n", !vm.no_stitch);
	kmm_seq_printf(m, "vmalloc_cached %u\n", cached);
	kmm_seq_printf(m, "vmalloc_cached_kb %lu\n", (unsigned long)(cached_bytes >> 10));
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
