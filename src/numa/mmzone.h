/* SPDX-License-Identifier: MIT */
/*
 * mmzone.h - libkmm's model of memory: nodes, zones, sections and the page
 * descriptor array (the kernel's include/linux/mmzone.h and mm_types.h).
 *
 * Vocabulary.  An OS page is the kernel's 4 KiB page; a *page* here is the same
 * size, and is what a struct kmm_page describes.  A pfn is an address shifted
 * right by KMM_PAGE_SHIFT: pfns are real virtual page numbers, so the address
 * of a pfn is pfn << 12 and nothing needs a table.
 *
 * Address space.  Each node has one range of addresses for its Normal zone;
 * the Normal ranges of all nodes are consecutive slices, each 2^node_shift
 * bytes, of one layout, so a pointer's node is one subtraction and one shift.
 * Node 0 also has a DMA32 zone: a range below 4 GiB.  A zone's base is
 * aligned to the largest buddy block, so a block of order k is aligned to
 * 2^k pages in addresses as well as in pfns.  The layout is arithmetic: how
 * much of it is mapped (reserved) at a time is arena.c's business.
 *
 * Sections.  A zone is brought into service from its base upwards, one 2 MiB
 * section at a time (memory hot-plug, in small): present_pages only grows, so
 * a pfn below base + present is always backed and always has a descriptor.
 *
 * Descriptors.  mem_map is a read-write MAP_NORESERVE array laid out for the
 * whole zone and mapped at least as far as the sections in service; only the
 * parts that describe sections in service are touched, and a descriptor that
 * was never touched reads as zero (no flags: not ours).
 */
#ifndef KMM_NUMA_MMZONE_H
#define KMM_NUMA_MMZONE_H

#include <kmm/gfp.h>

#include "../lib/compiler.h"
#include "../lib/list.h"
#include "../lib/lock.h"
#include "../lib/ready.h"
#include "../lib/rseq.h"

/*
 * The page geometry: 4 KiB pages, blocks of order 0 to 10 (4 MiB).  The public
 * <kmm/page.h> states the same as KMM_PAGE_SHIFT and KMM_MAX_PAGE_ORDER
 * (src/api.c asserts they agree); the layers take it from here.
 */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MAX_PAGE_ORDER 10 /* inclusive, as the kernel's */
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)
#define MAX_ORDER_NR_PAGES (1UL << MAX_PAGE_ORDER)

#define SECTION_SHIFT 21 /* 2 MiB: one transparent huge page */
#define SECTION_SIZE (1UL << SECTION_SHIFT)
#define PAGES_PER_SECTION (1UL << (SECTION_SHIFT - PAGE_SHIFT))
#define SECTION_ORDER (SECTION_SHIFT - PAGE_SHIFT)
/* A zone remembers which of its first 256 sections it advised for runs (arena.c). */
#define THP_RUN_WORDS 4

#define KMM_MAX_NUMNODES 64
#define KMM_MAX_CPUS 4096

enum kmm_zone_type {
	ZONE_DMA32, /* below 4 GiB, node 0 only */
	ZONE_NORMAL,
	MAX_NR_ZONES
};

/* Page flags: which owner a page belongs to, and what it is to that owner. */
enum kmm_pageflags {
	PG_buddy = 1u << 0,	/* head of a free block in free_area[order] */
	PG_head = 1u << 1,	/* head of an allocated block of 2^order pages */
	PG_slab = 1u << 2,	/* head of a slab: private = its cache (slab layer) */
	PG_slab_tail = 1u << 3, /* other page of a slab: private = the head */
	PG_pcp = 1u << 4,	/* head of a free block in a per-CPU cache */
	PG_exact = 1u << 5,	/* head of an exact run of pages: private = pages */
	PG_vmalloc = 1u << 6,	/* part of a vmalloc area (vmalloc layer) */
	PG_released = 1u << 7,	/* free block whose pages went back to the system: they read zero */
	PG_aged = 1u << 8,	/* free block a release sweep has seen once */
	PG_slab_fresh = 1u << 9, /* page of a slab whose objects are not written yet: as a tail */
	PG_zero = 1u << 10,	 /* block just taken off, released before: reads zero */
};

/*
 * struct kmm_page - one per 4 KiB page in service; 32 bytes.
 * @flags:    PG_* bits.  Written by the page's owner (the buddy under the zone
 *            lock while free; the allocating layer while allocated).
 * @order:    order of the block this page heads, free (PG_buddy) or allocated
 *            (PG_head, PG_slab).  Meaningless on pages that head nothing.
 * @zone_id:  node * MAX_NR_ZONES + zone type, its ZONE_NORMAL bit flipped
 *            (zone_page_id()): page_zone() without a lookup.
 * @inuse:    slab: objects handed out from this slab (those in per-CPU
 *            caches included, as SLUB counts them).
 * @freelist: slab: index of the first free object, SLAB_FREELIST_END if none.
 * @lru:      free_area link while PG_buddy; the owner's list link otherwise
 *            (a slab on its node's partial list, ...).
 * @private:  owner data (the slab cache, a slab tail's head, a run's length).
 */
struct kmm_page {
	uint16_t flags;
	uint8_t order;
	uint8_t zone_id;
	uint16_t inuse;
	uint16_t freelist;
	struct kmm_list lru;
	void *private;
};

_Static_assert(sizeof(struct kmm_page) == 32, "struct kmm_page must stay 32 bytes");

struct kmm_free_area {
	struct kmm_list free_list;
	unsigned long nr_free;
};

enum kmm_zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

/* Zone event counters (the per-zone part of the kernel's vmstat). */
enum kmm_zone_stat {
	ZSTAT_PGALLOC,	       /* blocks handed out */
	ZSTAT_PGFREE,	       /* blocks given back */
	ZSTAT_GROW,	       /* sections brought into service */
	ZSTAT_GROW_FAILED,     /* growth refused: reservation full or over the limit */
	ZSTAT_PCP_REFILL,      /* batches moved from the buddy to a per-CPU cache */
	ZSTAT_PCP_DRAIN,       /* batches moved from a per-CPU cache to the buddy */
	ZSTAT_RELEASED,	       /* pages of free blocks given back to the system */
	ZSTAT_RELEASED_GROWTH, /* of those, given back as the RSS grew (zone_release_on_rise()) */
	NR_ZONE_STATS
};

/*
 * struct kmm_zone - a range of one node's memory with its own buddy allocator.
 *
 * Locking: the first group is set at kmm_init() and only read afterwards.
 * present_pages grows under @lock and is read without it (acquire) to
 * classify pointers.  Everything after @lock is protected by it.
 *
 * Address space, from the base: [0, present) in service, [present, reserved)
 * reserved PROT_NONE, [reserved, spanned) not mapped at all; descriptors are
 * mapped for [0, mapped).  present <= reserved, present <= mapped and
 * present <= max <= spanned.
 */
struct kmm_zone {
	/* Read-mostly. */
	unsigned long zone_start_pfn; /* base address >> PAGE_SHIFT */
	unsigned long spanned_pages;  /* pages laid out: the most the zone can hold */
	struct kmm_page *mem_map;     /* descriptor of zone_start_pfn */
	const char *name;
	int node;
	uint8_t type;			 /* enum kmm_zone_type */
	uint8_t id;			 /* node * MAX_NR_ZONES + type */
	unsigned long present_pages;	 /* pages in service, from the base up */
	struct kmm_pcp *per_cpu_pageset; /* [kmm_nr_cpu_ids], or NULL (page/pcp.h) */
	unsigned int pcp_batch;		 /* pages moved per refill or drain */
	int pcp_last_cpu;		 /* the CPU of the last refill (pcp.c: single-threaded) */
	unsigned int pcp_high;		 /* pages a CPU may cache, a quarter per order's list */
	/* Freed runs released at once (release_run(): racy, without @lock). */
	unsigned long run_release_pages;    /* from this size; 0: not yet set */
	unsigned long released_reused_seen; /* released_reused at the last run released */
	unsigned long keep_released;	    /* pages run_keep_check() gave back (atomic) */
	/* Sections below thp_all_pages advised for a run (arena_advise_run(); atomic). */
	unsigned long thp_runs[THP_RUN_WORDS];

	/* Written under @lock. */
	struct kmm_lock lock ____cacheline_aligned;
	unsigned long nr_free_pages;
	unsigned long nr_released;	   /* pages of free blocks given back (PG_released) */
	unsigned long frontier;		   /* end of the highest block handed out since a trim */
	unsigned long frontier_max;	   /* the highest the frontier was (zone_trim_top()) */
	unsigned long trim_refaults;	   /* pages the frontier grew back below frontier_max */
	bool trim_pending;		   /* a free merged up to the frontier */
	bool rise_pending;		   /* RSS grew past resident free blocks */
	uint64_t last_sweep_ms;		   /* when free blocks were last released */
	unsigned long released_reused;	   /* pages of released blocks runs took back */
	unsigned long last_released_pfn;   /* the last run released: its head */
	unsigned long last_released_pages; /* and its size */
	unsigned long reserved_pages;	   /* address space held from the base */
	unsigned long mapped_pages;	   /* pages whose descriptors are mapped */
	unsigned long max_pages; /* growth stops here: spanned, or where another mapping is */
	unsigned long watermark[NR_WMARK];
	unsigned long stat[NR_ZONE_STATS];
	struct kmm_free_area free_area[NR_PAGE_ORDERS];
} ____cacheline_aligned;

struct kmm_zoneref {
	struct kmm_zone *zone;
	int zone_idx; /* zone->type, kept beside the pointer as the kernel does */
};

/* Zones to try, in order; ends with a NULL zone. */
struct kmm_zonelist {
	struct kmm_zoneref zonerefs[KMM_MAX_NUMNODES * MAX_NR_ZONES + 1];
};

/* struct kmm_node - one NUMA node (the kernel's pglist_data). */
struct kmm_node {
	int node_id;
	bool online;
	unsigned char distance[KMM_MAX_NUMNODES];
	struct kmm_zone node_zones[MAX_NR_ZONES];
	struct kmm_zonelist zonelist;
};

/* The address space libkmm lays out (set up by arena_init(), then read-only). */
struct kmm_arena {
	bool on_demand;	       /* zones map address space as they grow (arena.c) */
	uintptr_t normal_base; /* node n's Normal zone: normal_base + (n << node_shift) */
	uintptr_t normal_end;
	unsigned int node_shift;
	uintptr_t dma32_base; /* node 0's DMA32 zone, or 0 */
	uintptr_t dma32_end;
	uintptr_t normal_map; /* all Normal zones' descriptors, node by node */
	uintptr_t normal_map_end;
	unsigned int map_node_shift;
	uintptr_t dma32_map; /* the DMA32 zone's descriptors */
	uintptr_t dma32_map_end;
	unsigned long limit_pages;     /* 0: no limit */
	unsigned long committed_pages; /* in service, all zones (atomic) */
	bool thp, hugetlb;	       /* thp: madvise(MADV_HUGEPAGE) (KMM_THP=1) */
	unsigned long thp_from_pages;  /* THP for runs of whole sections from this zone size on */
	unsigned long thp_all_pages;   /* ... and for every section from this pfn offset on */
	unsigned long small_pages;     /* MADV_NOHUGEPAGE below this pfn offset */
	unsigned int nr_bound;	       /* ranges bound to their node with mbind */
};

extern struct kmm_node kmm_nodes[KMM_MAX_NUMNODES] __hidden;
extern struct kmm_arena kmm_arena __hidden;
extern int kmm_nr_node_ids __hidden; /* highest online node + 1 */
extern int kmm_nr_cpu_ids __hidden;  /* highest possible CPU + 1 */
extern int kmm_nr_online_nodes;
extern bool kmm_numa_fake; /* KMM_FAKE_NUMA: made-up nodes, no mbind */

static inline struct kmm_node *kmm_node(int nid)
{
	return &kmm_nodes[nid];
}

static inline struct kmm_zone *zone_by_id(unsigned int id)
{
	return &kmm_nodes[id / MAX_NR_ZONES].node_zones[id % MAX_NR_ZONES];
}

/*
 * What a page of @zone holds in @zone_id: the zone's id with the bit of
 * ZONE_NORMAL flipped, so that node 0's Normal zone, where a program's pages
 * lie unless it asks for DMA32 or runs on several nodes, is 0.  Its
 * descriptors, zero from mmap(), are then right as the zone grows without a
 * write: a section's 16 KiB of them stay untouched until its pages are used.
 */
static inline uint8_t zone_page_id(const struct kmm_zone *zone)
{
	return (uint8_t)(zone->id ^ ZONE_NORMAL);
}

static inline struct kmm_zone *page_zone(const struct kmm_page *page)
{
	return zone_by_id(page->zone_id ^ ZONE_NORMAL);
}

static inline unsigned long zone_present(const struct kmm_zone *zone)
{
	return __atomic_load_n(&zone->present_pages, __ATOMIC_ACQUIRE);
}

static inline unsigned long page_to_pfn(const struct kmm_page *page)
{
	const struct kmm_zone *zone = page_zone(page);

	return zone->zone_start_pfn + (unsigned long)(page - zone->mem_map);
}

static inline void *pfn_to_virt(unsigned long pfn)
{
	return (void *)(pfn << PAGE_SHIFT);
}

static inline void *page_to_virt(const struct kmm_page *page)
{
	return pfn_to_virt(page_to_pfn(page));
}

static inline struct kmm_page *zone_pfn_to_page(struct kmm_zone *zone, unsigned long pfn)
{
	return zone->mem_map + (pfn - zone->zone_start_pfn);
}

/*
 * addr_to_zone() - the zone whose reservation holds @addr, or NULL.
 * O(1): a subtraction and a shift for Normal, a range check for DMA32.
 */
static inline struct kmm_zone *addr_to_zone(uintptr_t addr)
{
	if (likely(addr - kmm_arena.normal_base < kmm_arena.normal_end - kmm_arena.normal_base))
		return &kmm_nodes[(addr - kmm_arena.normal_base) >> kmm_arena.node_shift]
				.node_zones[ZONE_NORMAL];
	if (addr - kmm_arena.dma32_base < kmm_arena.dma32_end - kmm_arena.dma32_base)
		return &kmm_nodes[0].node_zones[ZONE_DMA32];
	return NULL;
}

/*
 * virt_to_page_checked() - descriptor of the page holding @addr if it lies in
 * a section in service, else NULL.  Safe on any pointer.
 */
static inline struct kmm_page *virt_to_page_checked(const void *addr)
{
	struct kmm_zone *zone = addr_to_zone((uintptr_t)addr);
	unsigned long pfn = (uintptr_t)addr >> PAGE_SHIFT;

	if (!zone || pfn - zone->zone_start_pfn >= zone_present(zone))
		return NULL;
	return zone_pfn_to_page(zone, pfn);
}

/*
 * virt_to_page_fast() - free()'s descriptor lookup: true with the descriptor
 * of @addr in *@page if @addr lies in node 0's Normal zone, in service, while
 * the hit paths may run (lib/ready.h); else false, and the caller asks
 * virt_to_page_checked().
 * A subtraction, a compare with the readiness word, a shift and an add: no
 * zone, no node, no multiply.
 */
static __always_inline bool virt_to_page_fast(const void *addr, struct kmm_page **page)
{
	uintptr_t off = (uintptr_t)addr - kmm_fast.free_base;

	/* A plain load: the compare then takes it as its memory operand. */
	if (likely(off < kmm_fast.free_limit)) {
		*page = (struct kmm_page *)kmm_fast.free_map + (off >> PAGE_SHIFT);
		return true;
	}
	return false;
}

/*
 * page_zone_checked() - the zone whose descriptor array holds @page, if @page
 * is exactly a descriptor of a page in service; else NULL.  O(1), like
 * addr_to_zone(): the Normal zones' arrays are slices of one mapping.
 */
static inline struct kmm_zone *page_zone_checked(const struct kmm_page *page)
{
	uintptr_t p = (uintptr_t)page, off;
	struct kmm_zone *zone;

	if (likely(p - kmm_arena.normal_map < kmm_arena.normal_map_end - kmm_arena.normal_map))
		zone = &kmm_nodes[(p - kmm_arena.normal_map) >> kmm_arena.map_node_shift]
				.node_zones[ZONE_NORMAL];
	else if (p - kmm_arena.dma32_map < kmm_arena.dma32_map_end - kmm_arena.dma32_map)
		zone = &kmm_nodes[0].node_zones[ZONE_DMA32];
	else
		return NULL;
	off = p - (uintptr_t)zone->mem_map;
	if (unlikely(off % sizeof(*page) || off / sizeof(*page) >= zone_present(zone)))
		return NULL;
	return zone;
}

/* for_each_zone: every zone with a layout, by node then type. */
#define for_each_zone(zone)                                                                        \
	for (int __nid = 0; __nid < kmm_nr_node_ids; __nid++)                                      \
		for (int __zt = 0; __zt < MAX_NR_ZONES; __zt++)                                    \
			if (((zone) = &kmm_nodes[__nid].node_zones[__zt])->spanned_pages)

/* Topology (node.c). */
int numa_init(void);
void build_all_zonelists(void);
int numa_node_id_slow(void);

extern uint8_t kmm_cpu_node_map[KMM_MAX_CPUS];

/*
 * The node of the CPU this thread runs on (the kernel's numa_node_id()):
 * rseq's cpu_id, a load, then the CPU->node table (rseq's node_id would not
 * know KMM_FAKE_NUMA's nodes).
 */
static inline int numa_node_id(void)
{
	int cpu;

	if (likely(kmm_nr_online_nodes == 1))
		return 0;
	cpu = rseq_current_cpu();
	if (likely(cpu >= 0 && cpu < KMM_MAX_CPUS))
		return kmm_cpu_node_map[cpu];
	return numa_node_id_slow();
}
int cpu_to_node(int cpu);
bool node_online(int nid);

/* Address space (arena.c). */
int arena_init(void);
int arena_grow_zone(struct kmm_zone *zone, unsigned long *start_pfn);

/*
 * arena_advise_run() - the whole sections of the run [@pfn, @pfn + @nr) of
 * @zone, just handed out, become transparent huge pages at their first
 * touch, once the zone has KMM_THP_THRESHOLD in service.  Context: no lock.
 */
void arena_advise_run(struct kmm_zone *zone, unsigned long pfn, unsigned long nr);
/*
 * Count @pages against KMM_ARENA_LIMIT (memory that libkmm maps outside the
 * zones, the vmalloc layer's fresh mappings, counts too).
 * Return: false, charging nothing, if it would pass the limit.
 */
bool arena_charge(unsigned long pages);
void arena_uncharge(unsigned long pages);

#endif /* KMM_NUMA_MMZONE_H */
