// SPDX-License-Identifier: MIT
/*
 * arena.c - reserving libkmm's address space and bringing it into service
 * (the kernel's memblock reservation, init_mem_mapping() and memory hot-plug).
 *
 * At kmm_init() each node's Normal zone gets a PROT_NONE, MAP_NORESERVE range
 * (costs no memory), all nodes' ranges being consecutive slices of one
 * reservation; node 0 gets a DMA32 zone below 4 GiB when that much address
 * space is free there.  A zone then grows from its base one 2 MiB section at a
 * time: mprotect() to read-write (or a hugetlb mapping put in place when
 * KMM_HUGETLB=1 and the system has huge pages).  Once a zone has
 * KMM_THP_THRESHOLD in service, the rest of its reservation is
 * madvise(MADV_HUGEPAGE)d in one call, so every later section can be a
 * transparent huge page.  Nothing is ever unmapped while libkmm lives: memory goes back to the
 * system with madvise, so a racing lock-free reader reads zeros, never faults.
 *
 * NUMA.  Each node's slice of the reservation and of the descriptor array is
 * bound to its node with one mbind() before anything touches it, so the
 * kernel places a node's pages, and their descriptors, on that node (the
 * kernel's memblock node ranges).  The policy is MPOL_PREFERRED, not
 * MPOL_BIND: libkmm falls back between nodes itself, along the zonelist, when
 * a node's arena is full; when the node's physical memory is exhausted the
 * kernel then falls back too, where MPOL_BIND would wake the OOM killer on a
 * machine with free memory elsewhere.  A system that forbids mbind (a
 * container's seccomp filter) keeps the default policy, first touch, which
 * places memory on the node of the CPU that touches it.  Fake nodes
 * (KMM_FAKE_NUMA) are all node 0's memory: no mbind.
 *
 * Locking: arena_grow_zone() runs under the zone's lock; the limit is shared
 * by all zones and kept with an atomic counter.
 */
#include <errno.h>

#include "../lib/config.h"
#include "mmzone.h"
#include "os.h"

struct kmm_arena kmm_arena;

#define MAX_BLOCK_SIZE (MAX_ORDER_NR_PAGES << PAGE_SHIFT)
#define MIN_NORMAL_RESERVE (64UL << 20)
#define MIN_DMA32_RESERVE (16UL << 20)
#define LOW_4G (1UL << 32)
#define LOW_SEARCH_FLOOR (1UL << 30) /* leave the first GiB to brk and MAP_32BIT */

static const char *const zone_names[MAX_NR_ZONES] = { "DMA32", "Normal" };

static unsigned long pow2_floor(unsigned long long v)
{
	unsigned long p = 1;

	while (v >= 2ULL * p && p < (1UL << 46))
		p <<= 1;
	return p;
}

/* Bytes of descriptors for @size bytes of zone. */
static size_t map_bytes(size_t size)
{
	return ALIGN_UP((size >> PAGE_SHIFT) * sizeof(struct kmm_page), SECTION_SIZE);
}

/* Set up @zone over [@base, @base + @size), described by @map. */
static void zone_reserve(int nid, enum kmm_zone_type type, uintptr_t base, size_t size,
			 struct kmm_page *map)
{
	struct kmm_zone *zone = &kmm_nodes[nid].node_zones[type];

	zone->zone_start_pfn = base >> PAGE_SHIFT;
	zone->spanned_pages = size >> PAGE_SHIFT;
	zone->present_pages = 0;
	zone->mem_map = map;
	zone->name = zone_names[type];
	zone->node = nid;
	zone->type = (uint8_t)type;
	zone->id = (uint8_t)(nid * MAX_NR_ZONES + type);
}

/* Bind a node's range (see the top of the file); a refusal leaves first touch. */
static void bind_node(void *addr, size_t size, int nid)
{
	if (!kmm_numa_fake && !os_bind_node(addr, size, nid))
		kmm_arena.nr_bound++;
}

/*
 * Find room for the DMA32 zone below 4 GiB: top-down from 4 GiB to 1 GiB,
 * halving the size if nothing fits.  Sanitizers and valgrind take some of
 * this range; an empty DMA32 zone is allowed (DMA32 requests then fail).
 */
static void reserve_dma32(void)
{
	size_t size = ALIGN_DOWN((size_t)kmm_config.dma32_reserve, MAX_BLOCK_SIZE);

	for (; size >= MIN_DMA32_RESERVE; size >>= 1) {
		for (uintptr_t addr = LOW_4G - size; addr >= LOW_SEARCH_FLOOR; addr -= size) {
			struct kmm_page *map;

			if (!os_reserve_at((void *)addr, size))
				continue;
			map = os_map_noreserve(map_bytes(size));
			if (!map) {
				os_unmap((void *)addr, size);
				return;
			}
			zone_reserve(0, ZONE_DMA32, addr, size, map);
			bind_node((void *)addr, size, 0);
			bind_node(map, map_bytes(size), 0);
			kmm_arena.dma32_map = (uintptr_t)map;
			kmm_arena.dma32_map_end = (uintptr_t)map + map_bytes(size);
			kmm_arena.dma32_base = addr;
			kmm_arena.dma32_end = addr + size;
			return;
		}
	}
}

/**
 * arena_init() - reserve every zone's address space and descriptor array.
 * Context: kmm_init(), after numa_init().
 * Return: 0, or -ENOMEM if not even the smallest Normal reservation fits.
 */
int arena_init(void)
{
	unsigned long node_size = pow2_floor(MAX(kmm_config.arena_reserve, MIN_NORMAL_RESERVE));
	char *base = NULL;
	struct kmm_page *map;

	kmm_arena.thp = kmm_config.thp;
	kmm_arena.thp_from_pages =
		MAX((unsigned long)(kmm_config.thp_threshold >> PAGE_SHIFT), PAGES_PER_SECTION);
	kmm_arena.thp_from_pages = ALIGN_UP(kmm_arena.thp_from_pages, PAGES_PER_SECTION);
	kmm_arena.hugetlb = kmm_config.hugetlb;
	kmm_arena.limit_pages = (unsigned long)(kmm_config.arena_limit >> PAGE_SHIFT);

	/* A smaller address space (valgrind, ulimit -v) gets a smaller arena. */
	for (; node_size >= MIN_NORMAL_RESERVE; node_size >>= 1) {
		base = os_reserve((size_t)node_size * (size_t)kmm_nr_node_ids, node_size);
		if (base)
			break;
	}
	if (!base)
		return -ENOMEM;
	kmm_arena.normal_base = (uintptr_t)base;
	kmm_arena.node_shift = (unsigned int)__builtin_ctzl(node_size);
	kmm_arena.normal_end = (uintptr_t)base + node_size * (size_t)kmm_nr_node_ids;

	/*
	 * All Normal zones' descriptors in one mapping, node by node like the
	 * zones themselves: a descriptor pointer is checked by arithmetic too.
	 */
	map = os_map_noreserve(map_bytes(node_size) * (size_t)kmm_nr_node_ids);
	if (!map)
		return -ENOMEM;
	kmm_arena.normal_map = (uintptr_t)map;
	kmm_arena.normal_map_end = (uintptr_t)map + map_bytes(node_size) * (size_t)kmm_nr_node_ids;
	kmm_arena.map_node_shift = (unsigned int)__builtin_ctzl(map_bytes(node_size));
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		struct kmm_page *node_map = (struct kmm_page *)(kmm_arena.normal_map +
								map_bytes(node_size) * (size_t)nid);

		if (!kmm_nodes[nid].online)
			continue;
		zone_reserve(nid, ZONE_NORMAL, (uintptr_t)base + node_size * (size_t)nid, node_size,
			     node_map);
		bind_node(base + node_size * (size_t)nid, node_size, nid);
		bind_node(node_map, map_bytes(node_size), nid);
	}
	reserve_dma32();
	return 0;
}

bool arena_charge(unsigned long pages)
{
	unsigned long old = __atomic_load_n(&kmm_arena.committed_pages, __ATOMIC_RELAXED);

	do {
		if (kmm_arena.limit_pages && old + pages > kmm_arena.limit_pages)
			return false;
	} while (!__atomic_compare_exchange_n(&kmm_arena.committed_pages, &old, old + pages, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void arena_uncharge(unsigned long pages)
{
	__atomic_fetch_sub(&kmm_arena.committed_pages, pages, __ATOMIC_RELAXED);
}

static int commit_sections(void *addr, size_t size)
{
	static bool hugetlb_failed;

	if (kmm_arena.hugetlb && !READ_ONCE(hugetlb_failed)) {
		if (!os_commit_hugetlb(addr, size))
			return 0;
		/* No huge pages configured (or none left): stop asking. */
		WRITE_ONCE(hugetlb_failed, true);
	}
	return os_commit(addr, size);
}

/**
 * arena_grow_zone() - bring the next sections of @zone into service: an
 * eighth of what it has (one section at least, 32 at most), so that a large
 * heap grows in few system calls; one section when the limit allows no more.
 * @start_pfn: set to the first pfn of the new range.
 * Context: zone->lock held.
 * Return: the number of new pages (whole sections), or -ENOMEM when the
 * reservation is full, the limit is reached, or the system refused the memory.
 */
int arena_grow_zone(struct kmm_zone *zone, unsigned long *start_pfn)
{
	unsigned long present = zone->present_pages;
	unsigned long pfn = zone->zone_start_pfn + present;
	unsigned long nr = ALIGN_DOWN(present / 8, PAGES_PER_SECTION);

	nr = MIN(MAX(nr, PAGES_PER_SECTION), 32 * PAGES_PER_SECTION);
	nr = MIN(nr, zone->spanned_pages - present);
	if (nr < PAGES_PER_SECTION)
		return -ENOMEM;
	if (!arena_charge(nr)) {
		nr = PAGES_PER_SECTION;
		if (!arena_charge(nr))
			return -ENOMEM;
	}
	if (commit_sections(pfn_to_virt(pfn), nr << PAGE_SHIFT)) {
		arena_uncharge(nr);
		return -ENOMEM;
	}
	/*
	 * Transparent huge pages once the zone is big enough to use them: a
	 * small heap stays small (the first touch of a THP section makes all
	 * 2 MiB resident), a large one gets fewer TLB misses.  The advice from
	 * the section that crosses the threshold on covers the rest of the
	 * reservation, in one call.
	 */
	if (kmm_arena.thp && present < kmm_arena.thp_from_pages &&
	    present + nr >= kmm_arena.thp_from_pages) {
		unsigned long from = MAX(pfn, zone->zone_start_pfn + kmm_arena.thp_from_pages -
						      PAGES_PER_SECTION);

		os_advise_hugepage(pfn_to_virt(from), (zone->zone_start_pfn + zone->spanned_pages -
						       from) << PAGE_SHIFT);
	}
	*start_pfn = pfn;
	return (int)nr;
}
