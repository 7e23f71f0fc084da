/* SPDX-License-Identifier: MIT */
/*
 * vmalloc/internal.h - what the vmalloc layer's files share: the area and
 * its pieces, the chunks, the layer's state and the functions one file
 * calls in another (vmalloc.c describes the layer).  Every function here
 * runs under vm_state.lock unless it says otherwise.
 */
#ifndef KMM_VMALLOC_INTERNAL_H
#define KMM_VMALLOC_INTERNAL_H

#include "../lib/compiler.h"
#include "../lib/lock.h"
#include "../page/internal.h"
#include "vmalloc.h"

/*
 * An area's layout: [addr, addr + size) mapped, the pieces in address order;
 * [addr + size, addr + claim) a reservation (PROT_NONE) while it grows;
 * then VM_GUARD bytes that stay PROT_NONE, so an overrun faults.  An area of
 * SECTION_SIZE or more starts on a SECTION_SIZE boundary (vm_area_align()),
 * and memory is moved into or out of it only in whole, SECTION_SIZE-aligned
 * units (a PMD each), so its huge pages survive the move and are as fast to
 * write as if they had never moved: a page table moved piece by piece below
 * 2 MiB costs microseconds per 4 KiB page at its next write on some machines
 * (docs/DESIGN.md, "Large blocks").  Only a page run that grows into an area
 * (vmalloc_from_run(), realloc) moves in smaller, to save the copy.  A new
 * area's last unit is mapped only up to its middle where the request uses
 * less than that of it and the cache has no whole unit for it
 * (vm_area_bytes(), vm_cache_fit()): a mapping that does not cover a PMD
 * gets no huge page there, and the area's one mapping grows over the rest
 * as a realloc reaches it.  Such a half unit never moves: a freed area maps
 * the rest of it before it enters the cache (cache_add()).
 */
#define VM_GUARD (64UL << 10)			      /* PROT_NONE after every area */
#define STITCH_MIN_ORDER (SECTION_SHIFT - PAGE_SHIFT) /* 2 MiB: the unit of every move */
#define FROM_RUN_MIN_ORDER 6			      /* 256 KiB: smaller runs are copied */
#define VM_MIN_REGION (1UL << 30)	 /* the least address space the region may reserve */
#define VM_CHUNK_MIN (32UL << 20)	 /* the smallest reservation the region makes */
#define VM_PIECES_MAX (1u << 16)	 /* pieces per area (metadata bound) */
#define VM_TAIL_WHOLE (SECTION_SIZE / 2) /* use of a last unit that maps it whole */

/*
 * The cache of freed areas (cache.c): at most this many; until large blocks
 * are seen reused, a VM_CACHE_SHARE-th of what libkmm holds beyond the
 * cache, VM_CACHE_FLOOR at least, VM_CACHE_BYTES at most; once they are,
 * what the program freed since libkmm held most beyond the cache,
 * VM_CACHE_BYTES at least (cache_bound()).
 */
#define VM_CACHE_MAX 16
#define VM_CACHE_BYTES (128UL << 20)
#define VM_CACHE_SHARE 4
#define VM_CACHE_FLOOR (4UL << 20)
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

/* The layer's state (region.c), all of it under @lock. */
struct vmalloc_state {
	struct kmm_lock lock;
	struct kmm_vm_area **areas; /* sorted by addr */
	size_t nr, cap;
	struct vm_chunk *chunks; /* sorted by start */
	size_t nr_chunks, chunks_cap;
	unsigned int nr_empty;	/* chunks holding no area */
	size_t reserved, limit; /* bytes the chunks hold, and may hold (KMM_VMALLOC_RESERVE) */
	unsigned long maps, max_maps;
	bool no_stitch; /* the zones cannot be moved (hugetlb, old kernel) */
	bool ready; /* max_maps and no_stitch are known: set with them, without @lock (vm_setup()) */
	struct kmm_vm_area *cache[VM_CACHE_MAX]; /* oldest first */
	unsigned int nr_cached;
	size_t cached_bytes;
	size_t dropped;	  /* the last area the footprint bound released at its free */
	bool reusing;	  /* a large request was served, or would have been, by a freed area */
	size_t held_peak; /* the most libkmm held beyond the cache, at a free (cache_bound()) */
	unsigned long stat[NR_VM_STATS];
};

extern struct vmalloc_state vm_state;

void vm_setup_slow(void);

/*
 * The map budget and the mremap probe, once, at the first area (or view):
 * most processes never make one, and the probe is six system calls and a
 * page fault at every start.  Before an area exists nothing reads them.
 */
static inline void vm_setup(void)
{
	if (unlikely(!__atomic_load_n(&vm_state.ready, __ATOMIC_ACQUIRE)))
		vm_setup_slow();
}

static inline uintptr_t piece_src(const struct vm_piece *p)
{
	return (uintptr_t)page_to_virt(p->page);
}

static inline size_t piece_bytes(const struct vm_piece *p)
{
	return (size_t)p->nr_pages << PAGE_SHIFT;
}

static inline uintptr_t area_end(const struct kmm_vm_area *a)
{
	return a->addr + a->claim + VM_GUARD;
}

/* ---- region.c: chunks, the area index, placement ------------------------ */

/* The chunk containing @addr, or NULL. */
struct vm_chunk *vm_find_chunk(uintptr_t addr);
/* Give back the empty chunks but the one at @keep: all, or with @aged those empty for KMM_DECAY_MS. */
void vm_release_empty_chunks(uintptr_t keep, bool aged);
/* The area containing @addr (guard excluded), or NULL. */
struct kmm_vm_area *vm_find_area(uintptr_t addr);
/* A zeroed area struct.  Context: any (it takes no vmalloc lock).  Return: NULL if none. */
struct kmm_vm_area *vm_new_area(unsigned int flags, const void *caller);
/* Does the freed area @a serve a request for node @nid? */
bool vm_area_serves(const struct kmm_vm_area *a, int nid);
/* Free @a's struct and its pieces array. */
void vm_free_area_struct(struct kmm_vm_area *a);
/* Place @a (@size bytes aligned to @align) in a chunk and the index.  Return: false if no room. */
bool vm_claim_range(struct kmm_vm_area *a, size_t size, size_t align);
/* Take @a out of the index and the budget; its range must be a reservation again. */
void vm_unclaim_range(struct kmm_vm_area *a);
/*
 * The bytes an area for @size bytes maps: whole pages, and from SECTION_SIZE
 * on whole 2 MiB units, so that each of its PMDs can be a huge page and
 * moves whole; but only the first half of the last unit where @size uses
 * less than that of it (no huge page for a few bytes).  Context: any.
 */
size_t vm_area_bytes(size_t size);
/* The alignment of an area of @size bytes asked for with @align. */
size_t vm_area_align(size_t size, size_t align);
/* The area that starts at @p, checked for a caller @who that may free it; misuse aborts. */
struct kmm_vm_area *vm_area_of(const void *p, unsigned int flags, const char *who);
/* Can @a grow to @size where it is? */
bool vm_room_after(const struct kmm_vm_area *a, size_t size);

/* ---- stitch.c: pieces ---------------------------------------------------- */

/* os_move(), counted when the kernel refuses.  Return: 0 or -errno. */
int vm_move(void *from, size_t size, void *to);
/* Back to a reservation, or at least the pages dropped. */
void vm_unmap_keep(uintptr_t addr, size_t size);
/* Recount the kernel mappings of @a. */
void vm_recount_maps(struct kmm_vm_area *a);
/* Append a piece (room reserved with vm_reserve_pieces()). */
void vm_add_piece(struct kmm_vm_area *a, struct kmm_page *page, unsigned long nr, unsigned int kind,
		  bool dirty);
/* Can the mapping budget afford one more piece and a fresh rest? */
bool vm_budget_allows(void);
/* Room in @a->pieces for @n more.  Return: false if the metadata cannot grow. */
bool vm_reserve_pieces(struct kmm_vm_area *a, unsigned int n);
/* Map [@a->size, @to) of @a.  Return: false if memory ran out (what was mapped stays). */
bool vm_fill_area(struct kmm_vm_area *a, size_t to, kmm_gfp_t gfp);
/* Move @a's pieces from @from to @to up to byte @limit.  Return: the bytes moved. */
size_t vm_move_pieces(const struct kmm_vm_area *a, uintptr_t from, uintptr_t to, size_t limit);
/* Undo a move of @a's first @len bytes from @from to @to; never fails. */
void vm_move_back(const struct kmm_vm_area *a, uintptr_t to, uintptr_t from, size_t len);
/* Give back @a's pieces from @from_piece on, whose memory starts at byte @off. */
void vm_release_pieces(struct kmm_vm_area *a, unsigned int from_piece, size_t off);
/* Shrink @a to @size bytes. */
void vm_trim_area(struct kmm_vm_area *a, size_t size);
/* Split piece @i of @a after @keep pages.  Return: false if the metadata cannot grow. */
bool vm_split_piece(struct kmm_vm_area *a, unsigned int i, unsigned int keep);
/* Zero what may hold old data in @a from byte @from on.  Context: @a is the caller's. */
void vm_zero_runs(struct kmm_vm_area *a, size_t from);

/* ---- cache.c: freed areas ------------------------------------------------ */

/* Drop @a for good: its pages to the buddy and the system, its range reserved. */
void vm_release_area(struct kmm_vm_area *a);
/* A cached area for @bytes aligned to @align on node @nid, out of the cache; or NULL. */
struct kmm_vm_area *vm_cache_take(size_t bytes, size_t align, int nid);
/* Release the cached areas and empty chunks unused for KMM_DECAY_MS. */
void vm_cache_decay(void);
/* The bytes an area for @size bytes on node @nid maps: its last unit whole if the cache has one. */
size_t vm_cache_fit(size_t size, int nid);
/* Cut @a, just taken from the cache, to @keep bytes; the rest waits in the cache. */
void vm_cache_split(struct kmm_vm_area *a, size_t keep);
/* Move up to @bytes (2 MiB units) of a cached area's pieces to the end of @a.  Return: the bytes moved. */
size_t vm_take_from_cache(struct kmm_vm_area *a, size_t bytes);

#endif /* KMM_VMALLOC_INTERNAL_H */
