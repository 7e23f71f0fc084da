// SPDX-License-Identifier: MIT
/*
 * region.c - the vmalloc region's address space: the chunks it reserves as
 * areas need them and gives back when they hold none, the index of areas
 * sorted by address, and where a new area goes (vmalloc.c describes the
 * layer).  Also the layer's state, its start-up and its fork handlers.
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

uintptr_t vmalloc_start, vmalloc_end;

struct vmalloc_state vm_state = { .lock = KMM_LOCK_INIT };

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

/*
 * No lock: threads that meet the layer unready together each probe and store
 * the same values (a lock held by one of them across a fork() would leave
 * the child's first area waiting forever).  Context: any, vm_state.lock
 * included (once ready, no one gets here).
 */
__cold void vm_setup_slow(void)
{
	unsigned long max_maps =
		kmm_config.max_maps ? (unsigned long)kmm_config.max_maps : os_max_map_count() / 16;
	bool no_stitch = !can_move_pages();

	__atomic_store_n(&vm_state.max_maps, max_maps, __ATOMIC_RELAXED);
	__atomic_store_n(&vm_state.no_stitch, no_stitch, __ATOMIC_RELAXED);
	__atomic_store_n(&vm_state.ready, true, __ATOMIC_RELEASE);
}

__init int vmalloc_init(void)
{
	/* Nothing is reserved yet: the first area reserves the first chunk. */
	vm_state.limit =
		ALIGN_UP((size_t)MAX(kmm_config.vmalloc_reserve, VM_MIN_REGION), SECTION_SIZE);
	return 0;
}

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

/* Index of the first chunk starting above @addr.  Context: vm_state.lock. */
static size_t chunk_above(uintptr_t addr)
{
	size_t lo = 0, hi = vm_state.nr_chunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vm_state.chunks[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The chunk containing @addr, or NULL.  Context: vm_state.lock. */
struct vm_chunk *vm_find_chunk(uintptr_t addr)
{
	size_t i = chunk_above(addr);

	if (i == 0 || addr >= vm_state.chunks[i - 1].end)
		return NULL;
	return &vm_state.chunks[i - 1];
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
	struct vm_chunk *c = &vm_state.chunks[i];

	if (os_unreserve((void *)c->start, c->end - c->start))
		return false;
	vm_state.reserved -= c->end - c->start;
	vm_state.nr_empty -= !c->nr_areas;
	memmove(c, c + 1, (vm_state.nr_chunks - i - 1) * sizeof(*c));
	vm_state.nr_chunks--;
	return true;
}

/*
 * Give back the empty chunks but the one at @keep: all of them, or with
 * @aged those empty for KMM_DECAY_MS.  One empty chunk waits that long, so
 * that an alloc/free loop of large blocks does not reserve and give back a
 * chunk each time.  Context: vm_state.lock.
 */
void vm_release_empty_chunks(uintptr_t keep, bool aged)
{
	uint64_t now;

	if (!vm_state.nr_empty || (aged && !kmm_config.decay_ms))
		return;
	now = aged ? kmm_now_ms() : 0;
	for (size_t i = vm_state.nr_chunks; i-- > 0;) {
		struct vm_chunk *c = &vm_state.chunks[i];

		if (c->nr_areas || c->start == keep)
			continue;
		if (!aged || now - c->empty_ms >= kmm_config.decay_ms)
			release_chunk(i);
	}
}

/*
 * The address space for a chunk: the lowest gap between libkmm's chunks
 * from the end of the Normal zones' layout up, in libkmm's part of the
 * address space rather than among the program's mappings.  A chunk that
 * mmap() places there leaves holes of up to 2 MiB on both sides (its slack
 * trimmed to align it), and the program's next mappings fill them: python3's
 * 1 MiB arenas then lay scattered across 2 MiB boundaries, without huge
 * pages, and its own code ran 25% slower (json.dumps() of a 300k-key dict:
 * 0.72-0.83 s against 0.53-0.61 with the chunks here, the same page faults;
 * glibc 0.46-0.58).  Where that place is taken, or the layout is the one
 * reserved at start, wherever mmap() puts it.  Context: vm_state.lock.
 */
static void *reserve_chunk(size_t size, size_t align)
{
	uintptr_t at;
	void *p;

	if (kmm_arena.on_demand && kmm_arena.normal_end) {
		at = ALIGN_UP(kmm_arena.normal_end, align);
		for (size_t i = 0; i < vm_state.nr_chunks; i++) {
			const struct vm_chunk *c = &vm_state.chunks[i];

			if (c->end <= at)
				continue;
			if (c->start >= at + size)
				break;
			at = ALIGN_UP(c->end, align);
		}
		p = os_reserve_at((void *)at, size);
		if (p)
			return p;
	}
	return os_reserve(size, align);
}

/*
 * Reserve a chunk for an area of @want bytes (guard included) aligned to
 * @align: twice that, so that the area can double in place, and at least
 * VM_CHUNK_MIN or an eighth of what the region holds, so that chunks stay
 * few; exactly @want where the address space is short (RLIMIT_AS).
 * Context: vm_state.lock.  Return: the chunk, or NULL.
 */
static struct vm_chunk *new_chunk(size_t want, size_t align)
{
	size_t sizes[2], size = 0, i;
	void *base = NULL;

	want = ALIGN_UP(want, SECTION_SIZE);
	sizes[0] = ALIGN_UP(MAX(MAX(2 * want, VM_CHUNK_MIN), vm_state.reserved / 8), SECTION_SIZE);
	sizes[1] = want;
	if (!array_room((void **)&vm_state.chunks, vm_state.nr_chunks, &vm_state.chunks_cap,
			sizeof(*vm_state.chunks)))
		return NULL;
	for (int attempt = 0; attempt < 2 && !base; attempt++) {
		for (i = 0; i < 2 && !base; i++) {
			size = sizes[i];
			if (vm_state.reserved + size <= vm_state.limit)
				base = reserve_chunk(size, MAX(align, SECTION_SIZE));
		}
		/* The address space an empty chunk holds may be what is missing. */
		if (!base)
			vm_release_empty_chunks(0, false);
	}
	if (!base)
		return NULL;
	i = chunk_above((uintptr_t)base);
	memmove(&vm_state.chunks[i + 1], &vm_state.chunks[i],
		(vm_state.nr_chunks - i) * sizeof(*vm_state.chunks));
	vm_state.chunks[i] = (struct vm_chunk){ (uintptr_t)base, (uintptr_t)base + size, 0, 0 };
	vm_state.nr_chunks++;
	vm_state.nr_empty++;
	vm_state.reserved += size;
	widen_hull((uintptr_t)base, (uintptr_t)base + size);
	return &vm_state.chunks[i];
}

bool vmalloc_owns(const void *p)
{
	bool ret;

	kmm_lock(&vm_state.lock);
	ret = vm_find_chunk((uintptr_t)p) != NULL;
	kmm_unlock(&vm_state.lock);
	return ret;
}

/* Index of the first area starting above @addr.  Context: vm_state.lock. */
static size_t find_above(uintptr_t addr)
{
	size_t lo = 0, hi = vm_state.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vm_state.areas[mid]->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The area containing @addr (guard excluded), or NULL.  Context: vm_state.lock. */
struct kmm_vm_area *vm_find_area(uintptr_t addr)
{
	size_t i = find_above(addr);
	struct kmm_vm_area *a;

	if (i == 0)
		return NULL;
	a = vm_state.areas[i - 1];
	return addr - a->addr < a->claim ? a : NULL;
}

/* Insert @a at @at.  Context: vm_state.lock.  Return: false if the index cannot grow. */
static bool index_insert(struct kmm_vm_area *a, size_t at)
{
	if (!array_room((void **)&vm_state.areas, vm_state.nr, &vm_state.cap,
			sizeof(*vm_state.areas)))
		return false;
	memmove(&vm_state.areas[at + 1], &vm_state.areas[at],
		(vm_state.nr - at) * sizeof(*vm_state.areas));
	vm_state.areas[at] = a;
	vm_state.nr++;
	return true;
}

static void index_remove(size_t at)
{
	memmove(&vm_state.areas[at], &vm_state.areas[at + 1],
		(vm_state.nr - at - 1) * sizeof(*vm_state.areas));
	vm_state.nr--;
}

/*
 * A gap in the chunks for @size bytes aligned to @align, its guard after it:
 * with @roomy one that leaves the area below room to double and this one
 * room to double.  Context: vm_state.lock.  Return: the address, or 0.
 */
static uintptr_t find_gap(size_t size, size_t align, bool roomy)
{
	size_t want = size + VM_GUARD + (roomy ? size : 0), i = 0;

	for (size_t c = 0; c < vm_state.nr_chunks; c++) {
		const struct vm_chunk *ch = &vm_state.chunks[c];
		uintptr_t lo = ch->start;

		for (;; i++) {
			bool last = i == vm_state.nr || vm_state.areas[i]->addr >= ch->end;
			uintptr_t hi = last ? ch->end : vm_state.areas[i]->addr;
			uintptr_t start = lo;

			if (roomy && i > 0 && vm_state.areas[i - 1]->addr >= ch->start)
				start = MAX(start, vm_state.areas[i - 1]->addr +
							   2 * vm_state.areas[i - 1]->claim +
							   VM_GUARD);
			start = ALIGN_UP(start, align);
			if (start < hi && hi - start >= want)
				return start;
			if (last)
				break;
			lo = area_end(vm_state.areas[i]);
		}
	}
	return 0;
}

/*
 * Find room for @size bytes aligned to @align and insert @a there: a gap
 * with room to double in the chunks, else a new chunk, else any gap.
 * Context: vm_state.lock.  Return: false if no address space is left.
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
		vm_release_empty_chunks(0, false);
		return false;
	}
	c = vm_find_chunk(addr);
	vm_state.nr_empty -= !c->nr_areas++;
	return true;
}

struct kmm_vm_area *vm_new_area(unsigned int flags, const void *caller)
{
	struct kmm_vm_area *a;

	vm_setup();
	a = __kmalloc(sizeof(*a), KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0);

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
bool vm_area_serves(const struct kmm_vm_area *a, int nid)
{
	return !kmm_numa_remote_free || a->nid == nid;
}

void vm_free_area_struct(struct kmm_vm_area *a)
{
	if (a->pieces)
		__kfree(a->pieces, virt_to_page_checked(a->pieces));
	__kfree(a, virt_to_page_checked(a));
}

/*
 * Reserve a range for @a and count the mapping it splits off the region.
 * Context: vm_state.lock.
 */
bool vm_claim_range(struct kmm_vm_area *a, size_t size, size_t align)
{
	if (!place_area(a, size, align))
		return false;
	a->nr_maps = 1; /* the PROT_NONE after it becomes a mapping of its own */
	vm_state.maps++;
	return true;
}

/* Take @a out of the index and the budget; its range must be a reservation again. */
void vm_unclaim_range(struct kmm_vm_area *a)
{
	size_t i = find_above(a->addr);

	struct vm_chunk *c;

	if (i == 0 || vm_state.areas[i - 1] != a)
		kmm_panic("vmalloc: area %p lost from the index", (void *)a->addr);
	index_remove(i - 1);
	vm_state.maps -= a->nr_maps;
	a->nr_maps = 0;
	c = vm_find_chunk(a->addr);
	if (--c->nr_areas == 0) {
		/* At most one empty chunk waits for reuse: the newest. */
		vm_state.nr_empty++;
		c->empty_ms = kmm_now_ms();
		vm_release_empty_chunks(c->start, false);
	}
}

size_t vm_area_bytes(size_t size)
{
	size_t bytes = ALIGN_UP(size, PAGE_SIZE), units = ALIGN_DOWN(bytes, SECTION_SIZE);

	if (bytes < SECTION_SIZE || bytes == units)
		return bytes;
	/*
	 * The last unit whole only for a request that uses half of it at
	 * least: a mapping that does not cover a PMD gets no huge page, so a
	 * touch of the last bytes of a block faults in 4 KiB, not 2 MiB, and a
	 * huge page costs at most twice what is used of it.
	 */
	return bytes - units < VM_TAIL_WHOLE ? units + VM_TAIL_WHOLE : units + SECTION_SIZE;
}

size_t vm_area_align(size_t size, size_t align)
{
	/* Whole 2 MiB steps for whole huge pages. */
	if (size >= SECTION_SIZE)
		align = MAX(align, SECTION_SIZE);
	return MAX(align, PAGE_SIZE);
}

static __cold __noreturn void bad_vfree(const void *p, const char *who, const char *why)
{
	kmm_panic("invalid %s of %p: %s", who, p, why);
}

/* The area that starts at @p, checked for a caller that may free it.  Context: vm_state.lock. */
struct kmm_vm_area *vm_area_of(const void *p, unsigned int flags, const char *who)
{
	struct kmm_vm_area *a = vm_find_area((uintptr_t)p);

	if (!a || a->addr != (uintptr_t)p) {
		kmm_unlock(&vm_state.lock);
		bad_vfree(p, who,
			  a ? "not the start of a vmalloc area"
			    : "no vmalloc area there (double free, or never allocated)");
	}
	if (a->flags & VM_CACHED) {
		kmm_unlock(&vm_state.lock);
		bad_vfree(p, who, "double free (the area is already free)");
	}
	if (!(a->flags & flags)) {
		kmm_unlock(&vm_state.lock);
		bad_vfree(p, who,
			  a->flags & VM_MAP ? "a vmap area (use vunmap)" : "not a vmap area");
	}
	return a;
}

/* Can @a grow to @size where it is?  Context: vm_state.lock. */
bool vm_room_after(const struct kmm_vm_area *a, size_t size)
{
	size_t i = find_above(a->addr);
	uintptr_t next = vm_find_chunk(a->addr)->end;

	if (i < vm_state.nr)
		next = MIN(next, vm_state.areas[i]->addr);
	return next - a->addr >= size + VM_GUARD;
}

void vmalloc_map_counts(unsigned long *used, unsigned long *budget)
{
	vm_setup();
	kmm_lock(&vm_state.lock);
	*used = vm_state.maps;
	*budget = vm_state.max_maps;
	kmm_unlock(&vm_state.lock);
}

/* fork(): no stitch is half done while the process is copied. */
void vmalloc_fork_prepare(void)
{
	kmm_lock(&vm_state.lock);
}

void vmalloc_fork_parent(void)
{
	kmm_unlock(&vm_state.lock);
}

void vmalloc_fork_child(void)
{
	kmm_lock_init(&vm_state.lock);
}
