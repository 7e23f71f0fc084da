// SPDX-License-Identifier: MIT
/*
 * arena.c - laying out libkmm's address space and bringing it into service
 * (the kernel's memblock reservation, init_mem_mapping() and memory hot-plug).
 *
 * Layout.  At kmm_init() each node's Normal zone gets a slice of addresses,
 * all nodes' slices consecutive (mmzone.h), and its descriptor array a slice
 * of a second, smaller layout just below; node 0 gets a DMA32 zone below
 * 4 GiB when that much address space is free there.  A zone then grows from
 * its base one 2 MiB section at a time (arena_grow_zone()), its descriptors
 * 2 MiB (256 MiB of zone) at a time ahead of it.
 *
 * Address space on demand.  Only what is mapped counts in VmSize and against
 * RLIMIT_AS, so a zone maps its layout as it grows: at start one PROT_NONE
 * section per zone and one chunk of descriptors, then each growth maps its
 * sections read-write with MAP_FIXED_NOREPLACE (a small program holds a few
 * MiB of zones, a large one what it uses).  The layout stays arithmetic, so
 * pointer -> zone -> descriptor is the same subtraction and shift as with
 * one reservation; a table of sections (the kernel's SPARSEMEM) would put
 * one or two dependent loads on every free to buy placement freedom that a
 * free layout does not need.  The layout sits between 32 and 42 TiB, where
 * nothing else maps: mmap() hands out addresses top-down from below the
 * stack (near 128 TiB), or bottom-up from 42.7 TiB in the legacy layout, and
 * ASan's shadow ends just above 16 TiB.  Where in that range is random, on a
 * 4 MiB boundary, chosen once per process (layout_base()): a heap's addresses
 * are no more predictable than glibc's, whose brk and mmap the kernel
 * randomises; a process run without randomisation gets 32 TiB.  Should
 * something map inside a zone's layout all the same, MAP_FIXED_NOREPLACE
 * fails with EEXIST there: the zone is full at that point (its allocations
 * fall back along the zonelist), and nothing is overwritten.  ENOMEM
 * (RLIMIT_AS, no memory) only fails the one growth: the next one tries
 * again, so memory can be had once the limit is raised.  Where the random
 * place and 32 TiB are both refused (taken, a sanitizer's shadow, a smaller
 * address space) the whole layout is reserved PROT_NONE at start
 * instead, wherever mmap() puts it, halved until it fits: growth is then an
 * mprotect() inside it.  The DMA32 zone grows on demand as well, below 4 GiB
 * where the kernel never puts a mapping of its own choosing; valgrind does
 * (it fills the lowest hole that fits), so where mmap() hands out addresses
 * below 4 GiB the DMA32 zone is reserved whole.
 *
 * Nothing in service is ever unmapped while libkmm lives: memory goes back to
 * the system with madvise, so a racing lock-free reader reads zeros, never
 * faults.  Growth mmaps, mprotects or mbinds only addresses no pointer has
 * been given out for.
 *
 * Huge pages.  With KMM_HUGETLB=1 and huge pages configured, sections are
 * hugetlb mappings instead.  Transparent huge pages only with KMM_THP=1: by
 * default every section of a zone, and every descriptor, is advised
 * MADV_NOHUGEPAGE when it is mapped (keep_small_pages()), whatever the
 * system's THP mode.  Where THP is "always" the kernel put a huge page under
 * the first section and the first chunk of descriptors at their first touch
 * (simple held 5.6 MiB against glibc's 1.9, the demo's sqlite3 30.7 against
 * 26.2), and on these machines (virtual, their free memory handed back to
 * the host) a huge page made of memory freed more than about 2 s before
 * costs 8-10 us per 4 KiB to fault, a 4 KiB page 1.3-3 us: jq's 250 MiB heap
 * ran 2.1 s with huge pages, 1.7 without, glibc 1.8
 * (bench/results/memory.md §24).  vmalloc's areas follow the system's mode.
 *
 * KMM_THP=1 advises madvise(MADV_HUGEPAGE) once a zone has KMM_THP_THRESHOLD
 * in service: a huge page is resident whole from its first touch, so a
 * section gets one where it will be used whole.  Below four times the
 * threshold, that is a section handed out whole, in a run of 2 MiB or more
 * (arena_advise_run()): a big buffer faults once per 2 MiB instead of 512
 * times.  Sections carved into slabs there stay 4 KiB pages, each resident
 * once touched: sqlite3's 24 MiB heap took 1.1 MiB more with all of it huge
 * (the free pages of its last sections).  From four times the threshold
 * every section is advised as the zone grows, for the TLB of a large heap.
 *
 * NUMA.  Each node's ranges, of zone and of descriptors, are bound to its node
 * with mbind() before anything touches them, so the kernel places a node's
 * pages, and their descriptors, on that node (the kernel's memblock node
 * ranges).  The policy is MPOL_PREFERRED, not MPOL_BIND: libkmm falls back
 * between nodes itself, along the zonelist, when a node's arena is full; when
 * the node's physical memory is exhausted the kernel then falls back too,
 * where MPOL_BIND would wake the OOM killer on a machine with free memory
 * elsewhere.  A system that forbids mbind (a container's seccomp filter) keeps
 * the default policy, first touch, which places memory on the node of the CPU
 * that touches it.  Fake nodes (KMM_FAKE_NUMA) are all node 0's memory: no
 * mbind; nor on a machine of one node, where the policy changes nothing.
 *
 * Locking: arena_grow_zone() runs under the zone's lock and maps only in that
 * zone's slices; the limit is shared by all zones and kept with an atomic
 * counter.
 */
#include <errno.h>
#include <limits.h>

#include "../lib/config.h"
#include "mmzone.h"
#include "os.h"

struct kmm_arena kmm_arena;

#define MAX_BLOCK_SIZE (MAX_ORDER_NR_PAGES << PAGE_SHIFT)
#define MIN_NORMAL_RESERVE (64UL << 20)
#define MIN_DMA32_RESERVE (16UL << 20)
#define LOW_4G (1UL << 32)
#define LOW_SEARCH_FLOOR (1UL << 30)   /* leave the first GiB to brk and MAP_32BIT */
#define LAYOUT_BASE (32UL << 40)       /* the Normal zones' layout (see the top) */
#define LAYOUT_END (80UL << 40)	       /* below where PIE executables are loaded */
#define LAYOUT_RANDOM_END (42UL << 40) /* below the legacy layout's mmap base, 42.7 TiB */
#define MAP_CHUNK SECTION_SIZE	       /* descriptors mapped at a time */

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

/*
 * Set up @zone over [@base, @base + @size), described by @map, with
 * @reserved bytes of it held and descriptors mapped for @mapped bytes.
 */
static void zone_reserve(int nid, enum kmm_zone_type type, uintptr_t base, size_t size,
			 struct kmm_page *map, size_t reserved, size_t mapped)
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
	zone->reserved_pages = MIN(reserved, size) >> PAGE_SHIFT;
	zone->mapped_pages = MIN(mapped, size) >> PAGE_SHIFT;
	zone->max_pages = zone->spanned_pages;
}

/*
 * Bind a node's range (see the top of the file); a refusal leaves first touch.
 * With one node online the policy would say what the kernel does anyway: no
 * mbind() then, at start or as the zones grow.
 */
static void bind_node(void *addr, size_t size, int nid)
{
	if (!kmm_numa_fake && kmm_nr_online_nodes > 1 && !os_bind_node(addr, size, nid))
		kmm_arena.nr_bound++;
}

/*
 * [@addr, @addr + @size) stays on 4 KiB pages, whatever the system's THP mode
 * (the header comment): zone sections no rule advises, and descriptors.  A
 * refusal (a kernel without THP) changes nothing.
 */
static void keep_small_pages(void *addr, size_t size)
{
	if (size)
		os_advise_hugepage(addr, size, false);
}

/* Bind what a bound range grows by, as its start was (not counted again). */
static void bind_more(void *addr, size_t size, int nid)
{
	if (!kmm_numa_fake && kmm_arena.nr_bound)
		os_bind_node(addr, size, nid);
}

/*
 * Does mmap() hand out addresses below 4 GiB?  Not the kernel's (top-down
 * from below the stack, or bottom-up from a third of the address space), but
 * valgrind's, which fills the lowest hole that fits.
 */
static bool mmap_goes_low(void)
{
	void *p = os_reserve(SECTION_SIZE, PAGE_SIZE);

	if (p)
		os_unmap(p, SECTION_SIZE);
	return p && (uintptr_t)p < LOW_4G;
}

/*
 * The DMA32 zone's descriptors (2 MiB for 256 MiB, untouched until the zone
 * is used): below the Normal zones' descriptors in libkmm's own layout, not
 * among the program's mappings.  mmap() places a mapping of 2 MiB on a 2 MiB
 * boundary, and python3's 1 MiB arenas, placed below it, then started
 * half-way through a huge page in about half the runs: each arena python3
 * mapped again took 256 page faults instead of a huge page's one
 * (json.dumps() of a 100k-key dict of lists, five times: 30k page faults
 * against 12k, and 0.3 s more).  Where that place is taken, or the layout
 * is the reserved one, wherever mmap() puts it.
 */
static struct kmm_page *map_dma32(size_t bytes)
{
	struct kmm_page *map;
	uintptr_t at;

	if (kmm_arena.on_demand && kmm_arena.normal_map > 2 * bytes + SECTION_SIZE) {
		at = ALIGN_DOWN(kmm_arena.normal_map - bytes, SECTION_SIZE) - SECTION_SIZE;
		if (!os_commit_new((void *)at, bytes, false)) {
			keep_small_pages((void *)at, bytes);
			return (struct kmm_page *)at;
		}
	}
	map = os_map_noreserve(bytes);
	if (map)
		keep_small_pages(map, bytes);
	return map;
}

/*
 * The DMA32 zone below 4 GiB: the highest free range from 4 GiB down to
 * 1 GiB, halving the size if nothing fits.  Sanitizers and valgrind take some
 * of this range; an empty DMA32 zone is allowed (DMA32 requests then fail).
 * On demand, all but its first section is handed back once found, unless
 * mmap() would hand the rest to someone else at its next call.
 */
static void reserve_dma32(void)
{
	size_t size = ALIGN_DOWN((size_t)kmm_config.dma32_reserve, MAX_BLOCK_SIZE);
	bool whole = !kmm_arena.on_demand || mmap_goes_low();
	size_t held;

	for (; size >= MIN_DMA32_RESERVE; size >>= 1) {
		for (uintptr_t addr = LOW_4G - size; addr >= LOW_SEARCH_FLOOR; addr -= size) {
			struct kmm_page *map;

			if (!os_reserve_at((void *)addr, size))
				continue;
			map = map_dma32(map_bytes(size));
			if (!map) {
				os_unmap((void *)addr, size);
				return;
			}
			held = whole ? size : SECTION_SIZE;
			if (held < size)
				os_unmap((void *)(addr + held), size - held);
			zone_reserve(0, ZONE_DMA32, addr, size, map, held, size);
			bind_node((void *)addr, held, 0);
			bind_node(map, map_bytes(size), 0);
			kmm_arena.dma32_map = (uintptr_t)map;
			kmm_arena.dma32_map_end = (uintptr_t)map + map_bytes(size);
			kmm_arena.dma32_base = addr;
			kmm_arena.dma32_end = addr + size;
			return;
		}
	}
}

/*
 * Record the Normal layout: zones from @base, their descriptors from @map,
 * each zone holding its first @held bytes and @map_held bytes of descriptors.
 */
static void set_normal_layout(uintptr_t base, unsigned long node_size, uintptr_t map, size_t held,
			      size_t map_held)
{
	size_t map_size = map_bytes(node_size);
	size_t described = map_held / sizeof(struct kmm_page) << PAGE_SHIFT;

	kmm_arena.normal_base = base;
	kmm_arena.node_shift = (unsigned int)__builtin_ctzl(node_size);
	kmm_arena.normal_end = base + node_size * (size_t)kmm_nr_node_ids;
	kmm_arena.normal_map = map;
	kmm_arena.normal_map_end = map + map_size * (size_t)kmm_nr_node_ids;
	kmm_arena.map_node_shift = (unsigned int)__builtin_ctzl(map_size);
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		uintptr_t zone_base = base + node_size * (size_t)nid;
		uintptr_t node_map = map + map_size * (size_t)nid;

		if (!kmm_nodes[nid].online)
			continue;
		zone_reserve(nid, ZONE_NORMAL, zone_base, node_size, (struct kmm_page *)node_map,
			     held, described);
		bind_node((void *)zone_base, held, nid);
		bind_node((void *)node_map, map_held, nid);
	}
}

/* Give back what place_on_demand() took at @base for the nodes below @upto. */
static void unplace_on_demand(uintptr_t base, unsigned long node_size, uintptr_t map, int upto)
{
	for (int nid = 0; nid < upto; nid++) {
		if (!kmm_nodes[nid].online)
			continue;
		os_unmap((void *)(base + node_size * (size_t)nid), SECTION_SIZE);
		os_unmap((void *)(map + map_bytes(node_size) * (size_t)nid), MAP_CHUNK);
	}
}

/*
 * Lay the Normal zones out at @base, their descriptors just below, holding
 * one section of each zone and one chunk of its descriptors.
 * Return: false, holding nothing, if any of it is refused.
 */
static bool place_on_demand(uintptr_t base, unsigned long node_size)
{
	size_t map_size = map_bytes(node_size);
	uintptr_t map = base - map_size * (size_t)kmm_nr_node_ids;

	if (base + node_size * (size_t)kmm_nr_node_ids > LAYOUT_END)
		return false;
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		void *zone_base = (void *)(base + node_size * (size_t)nid);

		if (!kmm_nodes[nid].online)
			continue;
		if (!os_reserve_at(zone_base, SECTION_SIZE)) {
			unplace_on_demand(base, node_size, map, nid);
			return false;
		}
		if (os_commit_new((void *)(map + map_size * (size_t)nid), MAP_CHUNK, false)) {
			os_unmap(zone_base, SECTION_SIZE);
			unplace_on_demand(base, node_size, map, nid);
			return false;
		}
		keep_small_pages((void *)(map + map_size * (size_t)nid), MAP_CHUNK);
	}
	set_normal_layout(base, node_size, map, SECTION_SIZE, MAP_CHUNK);
	return true;
}

/*
 * Where the Normal layout starts: LAYOUT_BASE moved up by a random number of
 * 4 MiB blocks, so that it ends below LAYOUT_RANDOM_END (the kernel
 * randomises brk and mmap the same way: a heap's addresses are not known
 * before the program runs).  About 21 bits of entropy with the default 64 GiB
 * per node.  LAYOUT_BASE itself where the process runs without
 * randomisation, and where the nodes' slices leave no room.
 */
static uintptr_t layout_base(unsigned long node_size)
{
	size_t span = node_size * (size_t)kmm_nr_node_ids;
	uint64_t r, slots;

	if (span >= LAYOUT_RANDOM_END - LAYOUT_BASE || !(r = os_layout_random()))
		return LAYOUT_BASE;
	slots = (LAYOUT_RANDOM_END - LAYOUT_BASE - span) / MAX_BLOCK_SIZE + 1;
	return LAYOUT_BASE + (uintptr_t)(r % slots) * MAX_BLOCK_SIZE;
}

/*
 * Reserve the whole Normal layout, wherever mmap() puts it; a smaller address
 * space (valgrind, ulimit -v) gets a smaller one.  Return: 0 or -ENOMEM.
 */
static int place_reserved(unsigned long node_size)
{
	char *base = NULL;
	void *map;

	for (; node_size >= MIN_NORMAL_RESERVE; node_size >>= 1) {
		base = os_reserve((size_t)node_size * (size_t)kmm_nr_node_ids, node_size);
		if (base)
			break;
	}
	if (!base)
		return -ENOMEM;
	map = os_map_noreserve(map_bytes(node_size) * (size_t)kmm_nr_node_ids);
	if (!map) {
		os_unmap(base, (size_t)node_size * (size_t)kmm_nr_node_ids);
		return -ENOMEM;
	}
	keep_small_pages(map, map_bytes(node_size) * (size_t)kmm_nr_node_ids);
	set_normal_layout((uintptr_t)base, node_size, (uintptr_t)map, node_size,
			  map_bytes(node_size));
	return 0;
}

/**
 * arena_init() - lay out every zone and its descriptor array.
 * Context: kmm_init(), after numa_init().  A kmm_init() retried after a later
 * step failed keeps the layout it has, and what its zones hold.
 * Return: 0, or -ENOMEM if not even the smallest Normal zones fit.
 */
__init int arena_init(void)
{
	unsigned long node_size = pow2_floor(MAX(kmm_config.arena_reserve, MIN_NORMAL_RESERVE));
	int ret = 0;

	if (kmm_arena.normal_end)
		return 0;

	kmm_arena.thp = kmm_config.thp;
	kmm_arena.thp_from_pages =
		MAX((unsigned long)(kmm_config.thp_threshold >> PAGE_SHIFT), PAGES_PER_SECTION);
	kmm_arena.thp_from_pages = ALIGN_UP(kmm_arena.thp_from_pages, PAGES_PER_SECTION);
	kmm_arena.thp_all_pages = kmm_arena.thp_from_pages * 4;
	kmm_arena.small_pages = kmm_arena.thp ? kmm_arena.thp_all_pages : ULONG_MAX;
	kmm_arena.hugetlb = kmm_config.hugetlb;
	kmm_arena.limit_pages = (unsigned long)(kmm_config.arena_limit >> PAGE_SHIFT);

	/* A random place, else the fixed one, else wherever mmap() puts the whole layout. */
	kmm_arena.on_demand = place_on_demand(layout_base(node_size), node_size) ||
			      place_on_demand(LAYOUT_BASE, node_size);
	if (!kmm_arena.on_demand)
		ret = place_reserved(node_size);
	if (ret)
		return ret;
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

/*
 * Map descriptors for the first @pages pages of @zone, a chunk at a time.
 * Return: 0, -ENOMEM, or -EEXIST (another mapping is in the way: the zone
 * cannot grow past the descriptors it has).
 */
static int map_descriptors(struct kmm_zone *zone, unsigned long pages)
{
	uintptr_t from = (uintptr_t)(zone->mem_map + zone->mapped_pages);
	uintptr_t to = ALIGN_UP((uintptr_t)(zone->mem_map + pages), MAP_CHUNK);
	int ret;

	if (pages <= zone->mapped_pages)
		return 0;
	ret = os_commit_new((void *)from, to - from, false);
	if (ret == -EEXIST)
		zone->max_pages = zone->mapped_pages;
	if (ret)
		return ret;
	keep_small_pages((void *)from, to - from);
	bind_more((void *)from, to - from, zone->node);
	zone->mapped_pages =
		MIN((unsigned long)((struct kmm_page *)to - zone->mem_map), zone->spanned_pages);
	return 0;
}

/* Mark section @s of @zone advised for a run.  Return: whether it was already. */
static bool thp_run_test_and_set(struct kmm_zone *zone, unsigned long s)
{
	const unsigned long bits = 8 * sizeof(unsigned long);
	unsigned long bit = 1UL << (s % bits);

	if (s / bits >= THP_RUN_WORDS) /* not remembered: advised again, no harm */
		return false;
	return __atomic_fetch_or(&zone->thp_runs[s / bits], bit, __ATOMIC_RELAXED) & bit;
}

void arena_advise_run(struct kmm_zone *zone, unsigned long pfn, unsigned long nr)
{
	unsigned long off = ALIGN_UP(pfn - zone->zone_start_pfn, PAGES_PER_SECTION);
	unsigned long end = MIN(ALIGN_DOWN(pfn + nr - zone->zone_start_pfn, PAGES_PER_SECTION),
				kmm_arena.thp_all_pages);

	if (!kmm_arena.thp ||
	    __atomic_load_n(&zone->present_pages, __ATOMIC_RELAXED) < kmm_arena.thp_from_pages)
		return;
	while (off < end) {
		unsigned long from;

		if (thp_run_test_and_set(zone, off / PAGES_PER_SECTION)) {
			off += PAGES_PER_SECTION;
			continue;
		}
		/* One call for the sections not advised yet that follow each other. */
		for (from = off, off += PAGES_PER_SECTION;
		     off < end && !thp_run_test_and_set(zone, off / PAGES_PER_SECTION);)
			off += PAGES_PER_SECTION;
		os_advise_hugepage(pfn_to_virt(zone->zone_start_pfn + from),
				   (off - from) << PAGE_SHIFT, true);
		if (off < end) /* the one that stopped the loop was advised already */
			off += PAGES_PER_SECTION;
	}
}

/*
 * Put [@pfn, @pfn + @nr) of @zone in service: inside the reservation an
 * mprotect (or hugetlb pages mapped over it), past it a fresh mapping.
 * Return: 0, -ENOMEM, or -EEXIST (past the reservation, something is there).
 */
static int commit_sections(struct kmm_zone *zone, unsigned long pfn, unsigned long nr)
{
	static bool hugetlb_failed;
	bool fresh = pfn >= zone->zone_start_pfn + zone->reserved_pages;
	void *addr = pfn_to_virt(pfn);
	size_t size = nr << PAGE_SHIFT;
	int ret;

	if (kmm_arena.hugetlb && !READ_ONCE(hugetlb_failed)) {
		ret = fresh ? os_commit_new(addr, size, true) : os_commit_hugetlb(addr, size);
		if (!ret || ret == -EEXIST)
			goto out;
		/* No huge pages configured (or none left): stop asking. */
		WRITE_ONCE(hugetlb_failed, true);
	}
	ret = fresh ? os_commit_new(addr, size, false) : os_commit(addr, size);
	if (!ret) {
		/* Below four times the threshold, or all of it with KMM_THP=0. */
		unsigned long off = pfn - zone->zone_start_pfn;
		unsigned long end = MIN(off + nr, kmm_arena.small_pages);

		if (end > off)
			keep_small_pages(addr, (end - off) << PAGE_SHIFT);
	}
out:
	if (!ret && fresh) {
		bind_more(addr, size, zone->node);
		zone->reserved_pages = pfn + nr - zone->zone_start_pfn;
	}
	return ret;
}

/* Charge, describe and commit the next @nr pages of @zone.  Return: 0 or -errno. */
static int grow_by(struct kmm_zone *zone, unsigned long nr)
{
	int ret;

	if (!arena_charge(nr))
		return -ENOMEM;
	ret = map_descriptors(zone, zone->present_pages + nr);
	if (!ret)
		ret = commit_sections(zone, zone->zone_start_pfn + zone->present_pages, nr);
	if (ret)
		arena_uncharge(nr);
	return ret;
}

/**
 * arena_grow_zone() - bring the next sections of @zone into service: an
 * eighth of what it has (one section at least, 32 at most), so that a large
 * heap grows in few system calls; one section when no more fits under a
 * limit or before another mapping.
 * @start_pfn: set to the first pfn of the new range.
 * Context: zone->lock held.
 * Return: the number of new pages (whole sections), or -ENOMEM when the zone
 * is full, the limit is reached, or the system refused the memory.
 */
int arena_grow_zone(struct kmm_zone *zone, unsigned long *start_pfn)
{
	unsigned long present = zone->present_pages;
	unsigned long pfn = zone->zone_start_pfn + present;
	unsigned long nr = ALIGN_DOWN(present / 8, PAGES_PER_SECTION);
	bool fresh = present >= zone->reserved_pages;
	int ret;

	nr = MIN(MAX(nr, PAGES_PER_SECTION), 32 * PAGES_PER_SECTION);
	nr = MIN(nr, zone->max_pages - present);
	/* All inside the reservation or all past it: one kind of call. */
	if (!fresh)
		nr = MIN(nr, zone->reserved_pages - present);
	if (nr < PAGES_PER_SECTION)
		return -ENOMEM;
	ret = grow_by(zone, nr);
	if (ret && nr > PAGES_PER_SECTION) {
		nr = PAGES_PER_SECTION;
		ret = grow_by(zone, nr);
	}
	if (ret == -EEXIST && fresh)
		zone->max_pages = MIN(zone->max_pages, present);
	if (ret)
		return -ENOMEM;
	/*
	 * Every section from thp_all_pages on is advised: from the section
	 * that crosses it, the rest of what the zone holds in one call, then
	 * each fresh mapping.
	 */
	if (kmm_arena.thp && present + nr >= kmm_arena.thp_all_pages &&
	    (present < kmm_arena.thp_all_pages || fresh)) {
		unsigned long from = MAX(pfn, zone->zone_start_pfn + kmm_arena.thp_all_pages -
						      PAGES_PER_SECTION);

		os_advise_hugepage(
			pfn_to_virt(from),
			(zone->zone_start_pfn + zone->reserved_pages - from) << PAGE_SHIFT, true);
	}
	*start_pfn = pfn;
	return (int)nr;
}
