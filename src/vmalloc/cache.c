// SPDX-License-Identifier: MIT
/*
 * cache.c - freed areas kept mapped for the next request (the kernel's
 * lazily purged vmap areas): an alloc/free loop of large blocks then makes
 * no system call and takes no page fault.  Bounded in number and bytes
 * (VM_CACHE_MAX, VM_CACHE_BYTES); areas unused for KMM_DECAY_MS are
 * released, and kmm_reclaim() empties it (vmalloc_purge()).  A request
 * takes a cached area at its address, the rest of it cached again
 * (vm_cache_split()), or whole 2 MiB units of one (vm_take_from_cache()).
 *
 * Until the program's large requests are seen reusing its large frees, the
 * cache also holds no more than a quarter of the rest of its footprint
 * (cache_bound()): a program whose few large blocks are freed and never
 * asked for again (sqlite's realloc chains) does not keep them resident,
 * nor the buddy's runs they hold.  One request that a cached area serves,
 * or that the area the bound released last would have served, lifts that
 * bound until the cache decays: an alloc/free loop misses once.  From then
 * on the cache keeps what the program freed below the most it held, so its
 * RSS stays under the peak it had (and VM_CACHE_BYTES above what it holds).
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/lock.h"
#include "../lib/memcheck.h"
#include "../lib/printk.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "../page/internal.h"
#include "../slab/slab.h"
#include "internal.h"

/* Drop @a for good: its pages to the buddy and the system, its range reserved. */
void vm_release_area(struct kmm_vm_area *a)
{
	vm_trim_area(a, 0);
	vm_unclaim_range(a);
	vm_free_area_struct(a);
}

static void cache_remove(unsigned int i)
{
	vm_state.cached_bytes -= vm_state.cache[i]->size;
	vm_state.cache[i]->flags &= ~VM_CACHED;
	memmove(&vm_state.cache[i], &vm_state.cache[i + 1],
		(vm_state.nr_cached - i - 1) * sizeof(vm_state.cache[0]));
	vm_state.nr_cached--;
}

/*
 * Would the area the footprint bound released last have served a request
 * for @bytes: at its address, or with whole units (vm_take_from_cache())?
 */
static bool dropped_serves(size_t bytes)
{
	size_t d = vm_state.dropped;

	return d &&
	       ((d >= bytes / 2 && d <= 2 * bytes) || (d >= SECTION_SIZE && bytes >= SECTION_SIZE));
}

/*
 * A cached area for @bytes aligned to @align: the smallest that is large
 * enough, else the largest that can grow where it is.  A request it serves,
 * or the area the footprint bound released last would have, shows large
 * blocks reused (vm_state.reusing).  Context: vm_state.lock.
 */
struct kmm_vm_area *vm_cache_take(size_t bytes, size_t align, int nid)
{
	int best = -1, grow = -1;

	for (unsigned int i = 0; i < vm_state.nr_cached; i++) {
		struct kmm_vm_area *a = vm_state.cache[i];

		if ((a->addr & (align - 1)) || !vm_area_serves(a, nid))
			continue;
		if (a->size >= bytes) {
			/* Larger ones give pieces instead (vm_take_from_cache()). */
			if (a->size <= 2 * bytes &&
			    (best < 0 || a->size < vm_state.cache[best]->size))
				best = (int)i;
		} else if (a->size >= bytes / 2 &&
			   (grow < 0 || a->size > vm_state.cache[grow]->size) &&
			   vm_room_after(a, bytes)) {
			grow = (int)i;
		}
	}
	if (best < 0)
		best = grow;
	if (best >= 0 || dropped_serves(bytes))
		vm_state.reusing = true;
	if (best < 0)
		return NULL;
	{
		struct kmm_vm_area *a = vm_state.cache[best];

		cache_remove((unsigned int)best);
		return a;
	}
}

/*
 * Release the cached areas no request wanted for KMM_DECAY_MS (jemalloc's
 * dirty_decay_ms, mimalloc's purge_delay): a program that stops using large
 * blocks gets its memory back on its next large allocation or free.
 * Context: vm_state.lock.
 */
void vm_cache_decay(void)
{
	uint64_t now;

	vm_release_empty_chunks(0, true);
	if (!vm_state.nr_cached || !kmm_config.decay_ms)
		return;
	now = kmm_now_ms();
	while (vm_state.nr_cached && now - vm_state.cache[0]->freed_ms >= kmm_config.decay_ms) {
		struct kmm_vm_area *old = vm_state.cache[0];

		cache_remove(0);
		vm_release_area(old);
		vm_state.stat[VMS_DECAYED]++;
		/* Nothing asked for it: the footprint bounds the cache again. */
		vm_state.reusing = false;
		vm_state.dropped = 0;
	}
}

/*
 * Cut the cached area @d (index @i) back to whole 2 MiB units, so that its
 * end is where a unit can be taken from.  Return: false if nothing is left
 * of it (it is released).
 */
static bool cache_align_donor(struct kmm_vm_area *d, unsigned int i)
{
	size_t keep = ALIGN_DOWN(d->size, SECTION_SIZE);

	if (keep == d->size)
		return true;
	if (!keep) {
		cache_remove(i);
		vm_release_area(d);
		return false;
	}
	vm_state.cached_bytes -= d->size - keep;
	vm_trim_area(d, keep);
	return true;
}

/*
 * Move up to @bytes (whole 2 MiB units) from the end of @d, whose size is
 * whole units, to the end of @a (a 2 MiB boundary), page tables and all:
 * whole PMDs, so huge pages stay huge and the memory is as fast to write
 * as if it had not moved.  Context: vm_state.lock.
 * Return: the bytes moved, or 0 with both areas as they were.
 */
static size_t move_tail(struct kmm_vm_area *d, struct kmm_vm_area *a, size_t bytes)
{
	struct kmm_vm_area tail;
	size_t len = 0, moved;
	unsigned int i = d->nr_pieces;

	while (i > 0 && len + piece_bytes(&d->pieces[i - 1]) <= bytes)
		len += piece_bytes(&d->pieces[--i]);
	if (i > 0 && len < bytes) {
		/* Both ends of what is taken are 2 MiB boundaries of @d. */
		unsigned int take = (unsigned int)((bytes - len) >> PAGE_SHIFT);

		if (!vm_split_piece(d, i - 1, d->pieces[i - 1].nr_pages - take))
			return 0;
		len = bytes;
	}
	if (!len || vm_state.maps + 2 > vm_state.max_maps ||
	    !vm_reserve_pieces(a, d->nr_pieces - i))
		return 0;
	/* Pieces [i, nr_pieces) of the donor, as an area of their own. */
	tail = (struct kmm_vm_area){ .pieces = &d->pieces[i], .nr_pieces = d->nr_pieces - i };
	moved = vm_move_pieces(&tail, d->addr + d->size - len, a->addr + a->size, len);
	if (moved < len) {
		vm_move_back(&tail, a->addr + a->size, d->addr + d->size - len, moved);
		return 0;
	}
	for (unsigned int k = i; k < d->nr_pieces; k++)
		vm_add_piece(a, d->pieces[k].page, d->pieces[k].nr_pages, d->pieces[k].kind, true);
	d->nr_pieces = i;
	d->size -= len;
	d->claim = d->size;
	vm_recount_maps(d);
	/* Its old place reads zero now: back to a reservation. */
	vm_unmap_keep(d->addr + d->size, len);
	return len;
}

/*
 * Move up to @bytes (whole 2 MiB units) from the end of the newest cached
 * area of @a's node to the end of @a (a 2 MiB boundary): a freed block's
 * pages, faulted in already, serve the next block before any of the
 * buddy's.  Context: vm_state.lock.
 * Return: the bytes moved (0 if nothing could be).
 */
size_t vm_take_from_cache(struct kmm_vm_area *a, size_t bytes)
{
	unsigned int donor = vm_state.nr_cached;
	struct kmm_vm_area *d;
	size_t len;

	/* An area below 2 MiB has no whole unit to give. */
	while (donor > 0 && (!vm_area_serves(vm_state.cache[donor - 1], a->nid) ||
			     vm_state.cache[donor - 1]->size < SECTION_SIZE))
		donor--;
	if (!donor)
		return 0;
	d = vm_state.cache[--donor];
	if (!cache_align_donor(d, donor))
		return 0;
	len = move_tail(d, a, MIN(bytes, d->size));
	vm_state.cached_bytes -= len;
	if (!d->size) {
		cache_remove(donor);
		vm_release_area(d);
	}
	vm_state.stat[VMS_CACHE_REUSED_KB] += len >> 10;
	return len;
}

/* What libkmm holds beyond the cache: the zones and the areas in use (committed pages). */
static size_t held_beyond_cache(void)
{
	size_t held = (size_t)__atomic_load_n(&kmm_arena.committed_pages, __ATOMIC_RELAXED)
		      << PAGE_SHIFT;

	return held - MIN(held, vm_state.cached_bytes);
}

/*
 * The bytes the cache may hold.  Once large requests reuse freed areas:
 * what the program has freed since libkmm held the most beyond the cache
 * (vm_state.held_peak, noted at each free with the freed area still held),
 * so that what the cache adds stays under the RSS the program already had,
 * and VM_CACHE_BYTES at least (`large`, two live blocks of 1-64 MiB: with
 * 64 MiB, 96 MiB of its frees went back to the system and were mapped
 * again; with its peak as the bound, four live blocks of 1-256 MiB ran in
 * 0.8 s instead of 3.7, the peak unchanged, and in 0.49 s once a full cache
 * gave up its smallest area instead of its oldest, bench/results/memory.md
 * §27).
 * Else a VM_CACHE_SHARE-th of what libkmm holds beyond the cache,
 * VM_CACHE_FLOOR at least, VM_CACHE_BYTES at most.  Context: vm_state.lock.
 */
static size_t cache_bound(void)
{
	size_t held = held_beyond_cache();

	if (vm_state.reusing)
		return MAX(VM_CACHE_BYTES, vm_state.held_peak - MIN(vm_state.held_peak, held));
	return MIN(MAX(held / VM_CACHE_SHARE, VM_CACHE_FLOOR), VM_CACHE_BYTES);
}

/* Map the rest of the half unit at the end of @a, or give the half back. */
static void cache_whole_units(struct kmm_vm_area *a)
{
	size_t whole = ALIGN_UP(a->size, SECTION_SIZE);

	if (vm_room_after(a, whole)) {
		a->claim = whole;
		if (vm_fill_area(a, whole, 0))
			return;
	}
	vm_trim_area(a, ALIGN_DOWN(a->size, SECTION_SIZE));
}

/*
 * The smallest cached area but the newest, the oldest of equals: what goes
 * when the cache is full by count, not bytes (the 1-4 MiB blocks that
 * kv_alloc_large() makes areas would push out the large ones by age).
 */
static unsigned int cache_smallest(void)
{
	unsigned int best = 0;

	for (unsigned int i = 1; i + 1 < vm_state.nr_cached; i++)
		if (vm_state.cache[i]->size < vm_state.cache[best]->size)
			best = i;
	return best;
}

/*
 * Put the free area @a in the cache, as the newest, and release the oldest
 * while the cache holds more bytes than its bound, the smallest while it
 * holds more areas; an area larger than the bound by itself is released at
 * once.  A half unit at its end is mapped whole first (the rest, untouched,
 * costs nothing until it serves), or where that cannot be given back: the
 * area is reused, grown or given away in whole units only.  Context:
 * vm_state.lock.
 */
static void cache_add(struct kmm_vm_area *a)
{
	size_t bound;

	vm_state.held_peak = MAX(vm_state.held_peak, held_beyond_cache());
	/* More than the bound can be before reuse; after, held_peak counts @a: cache_bound() decides. */
	if (!vm_state.reusing && a->size > VM_CACHE_BYTES)
		goto drop;
	if (a->size > SECTION_SIZE && !IS_ALIGNED(a->size, SECTION_SIZE))
		cache_whole_units(a);
	a->flags |= VM_CACHED;
	a->freed_ms = kmm_now_ms();
	vm_state.cache[vm_state.nr_cached++] = a;
	vm_state.cached_bytes += a->size;
	bound = cache_bound();
	if (a->size > bound) {
		cache_remove(vm_state.nr_cached - 1);
		goto drop;
	}
	while (vm_state.nr_cached > VM_CACHE_MAX - 1 || vm_state.cached_bytes > bound) {
		unsigned int i = vm_state.cached_bytes > bound ? 0 : cache_smallest();
		struct kmm_vm_area *old = vm_state.cache[i];

		if (vm_state.cached_bytes > bound && !vm_state.reusing)
			vm_state.dropped = old->size;
		cache_remove(i);
		vm_release_area(old);
	}
	return;
drop:
	/* Asked for again, it shows large blocks reused (dropped_serves()). */
	if (!vm_state.reusing)
		vm_state.dropped = a->size;
	vm_release_area(a);
}

/*
 * Cut the area @a, just taken from the cache, to @keep bytes at the same
 * address.  The rest, whole 2 MiB units from the end of @keep's last unit,
 * moves to a range of its own and waits in the cache for the next request
 * (its pages faulted in, its huge pages whole); where that cannot be, and
 * for the part of a unit @keep maps only half of, it goes back to the
 * system.  Context: vm_state.lock.
 */
void vm_cache_split(struct kmm_vm_area *a, size_t keep)
{
	size_t units = ALIGN_UP(keep, SECTION_SIZE), rest;
	struct kmm_vm_area *b;

	if (units >= a->size || !IS_ALIGNED(a->size, SECTION_SIZE) || !keep || vm_state.no_stitch)
		goto trim;
	rest = a->size - units;
	b = vm_new_area(VM_MALLOC, a->caller);
	if (!b)
		goto trim;
	b->nid = a->nid;
	if (!vm_claim_range(b, rest, SECTION_SIZE)) {
		vm_free_area_struct(b);
		goto trim;
	}
	if (move_tail(a, b, rest) != rest) {
		if (b->size)
			kmm_panic("vmalloc: a split of %p half done", (void *)a->addr);
		vm_unclaim_range(b);
		vm_free_area_struct(b);
		goto trim;
	}
	cache_add(b);
trim:
	if (a->size > keep)
		vm_trim_area(a, keep);
}

/*
 * The bytes an area for @size bytes on node @nid maps: vm_area_bytes(), but
 * its last unit whole where the cache holds a whole unit for it (memory
 * faulted in already: the area holds it for no more than the cache does,
 * and a half unit would be mapped fresh beside it) — an area of one unit
 * too, from half of it (the 1-4 MiB blocks kv_alloc_large() sends here).
 * Context: vm_state.lock.
 */
size_t vm_cache_fit(size_t size, int nid)
{
	size_t bytes = vm_area_bytes(size);

	if (IS_ALIGNED(bytes, SECTION_SIZE) || bytes < VM_TAIL_WHOLE)
		return bytes;
	for (unsigned int i = 0; i < vm_state.nr_cached; i++)
		if (vm_state.cache[i]->size >= SECTION_SIZE &&
		    vm_area_serves(vm_state.cache[i], nid))
			return ALIGN_UP(bytes, SECTION_SIZE);
	return bytes;
}

bool __vfree(const void *p, const char *who)
{
	struct kmm_vm_area *a;

	if (!in_vmalloc_hull(p))
		return false;
	kmm_lock(&vm_state.lock);
	if (!vm_find_chunk((uintptr_t)p)) {
		kmm_unlock(&vm_state.lock);
		return false;
	}
	a = vm_area_of(p, VM_ALLOC | VM_MALLOC, who);
	if (kmm_vg()) { /* before another thread can take the area again */
		kmm_vg_freelike(p);
		kmm_vg_noaccess(p, a->size);
	}
	vm_state.stat[VMS_FREE]++;
	vm_cache_decay();
	cache_add(a);
	kmm_unlock(&vm_state.lock);
	return true;
}

size_t vmalloc_cached_bytes(void)
{
	return READ_ONCE(vm_state.cached_bytes);
}

unsigned long vmalloc_traffic(void)
{
	return READ_ONCE(vm_state.stat[VMS_ALLOC]) + READ_ONCE(vm_state.stat[VMS_FREE]);
}

void vmalloc_decay(void)
{
	kmm_lock(&vm_state.lock);
	vm_cache_decay();
	kmm_unlock(&vm_state.lock);
}

void vmalloc_purge(void)
{
	kmm_lock(&vm_state.lock);
	while (vm_state.nr_cached) {
		struct kmm_vm_area *a = vm_state.cache[0];

		cache_remove(0);
		vm_release_area(a);
	}
	vm_release_empty_chunks(0, false);
	kmm_unlock(&vm_state.lock);
}
