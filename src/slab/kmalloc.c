// SPDX-License-Identifier: MIT
/*
 * kmalloc.c - kmalloc-N size classes over the slab caches, and the large
 * path beyond them (the kernel's mm/slab_common.c kmalloc_caches[] and
 * kmalloc_large()).
 *
 * Classes: 16, 32, ... 128 in 16-byte steps, then four per doubling up to
 * 32 KiB (160, 192, 224, 256, 320, ...), and from 1 KiB on a fifth just
 * above each power of two, at 9/8 of it (1152, 2304, 4608, 9216, 18432).  A
 * size above 128 bytes wastes at most 25% of its class; below, the 16-byte
 * alignment that C requires of malloc for any object of 16 bytes or more
 * bounds the slack to 15 bytes.  (The kernel's powers of two plus 96 and
 * 192 waste up to 50%.)  The fifth class is for the most common large
 * request there is, a power of two plus a header: sqlite's page cache
 * allocates 4096 + 272 bytes per page and its sorter 1024 + 8 per record,
 * a quarter and a fifth of a 5120- and 1280-byte class wasted; glibc's
 * chunks waste 8 bytes of them.  Still a ninth and a twentieth of 1152 and
 * 4608: a size asked for often enough gets a cache of its own (learned
 * classes, below).
 *
 * Beyond 32 KiB: an exact run of pages from the page allocator up to the
 * largest buddy block (4 MiB), the unused tail of the block going back at
 * once (alloc_pages_exact()).  That is all: as in the kernel, kmalloc never
 * calls vmalloc.  The malloc layer (malloc/kvmalloc.c) sends larger blocks
 * to the vmalloc layer, and resizes a run in place with kmalloc_shrink() and
 * kmalloc_grow() before it moves one.
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/memcheck.h"
#include "../lib/printk.h"
#include "secure.h"
#include "slab.h"

struct kmm_cache *kmalloc_caches[NR_KMALLOC_CACHES];
struct kmm_cache *kmalloc_table[KMALLOC_TABLE_MAX / 16 + 1];
struct kmm_cache *kmalloc_class_table[KMALLOC_TABLE_MAX / 16 + 1];
struct kmm_cache *kmalloc_table_fine[KMALLOC_MAX_SIZE / 16 + 1];
struct kmm_cache *kmalloc_table_large[KMALLOC_MAX_SIZE / 128 + 1];
union slab_cpu *kmalloc_fast_table[KMALLOC_FAST_MAX + 1];

/* The classes' object sizes, ascending (kmalloc_size() of each index). */
/* clang-format off */
static const unsigned int kmalloc_sizes[NR_KMALLOC_CACHES] = {
	16, 32, 48, 64, 80, 96, 112, 128,	/* 16-byte steps */
	160, 192, 224, 256,			/* then 4 per doubling */
	320, 384, 448, 512,
	640, 768, 896, 1024,
	1152, 1280, 1536, 1792, 2048,		/* and from 1 KiB, 9/8 of a power of two */
	2304, 2560, 3072, 3584, 4096,
	4608, 5120, 6144, 7168, 8192,
	9216, 10240, 12288, 14336, 16384,
	18432, 20480, 24576, 28672, 32768,
};
/* clang-format on */
_Static_assert(sizeof(kmalloc_sizes) / sizeof(kmalloc_sizes[0]) == NR_KMALLOC_CACHES,
	       "a size per class");

unsigned int kmalloc_size(unsigned int idx)
{
	return kmalloc_sizes[idx];
}

unsigned int kmalloc_index(size_t size)
{
	unsigned int lo = 0, hi = NR_KMALLOC_CACHES - 1;

	/* The first class of kmalloc_sizes[lo..hi] that holds @size. */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (kmalloc_sizes[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static __cold __noreturn void bad_kfree(const void *ptr, const char *why)
{
	kmm_panic("invalid free of %p: %s", ptr, why);
}

/*
 * The page run freed last, if of 256 KiB at most, is held back until the
 * next such run's free (every build but KMM_SECURE's and memcheck's): the
 * next allocation of its size is not handed the block just freed (a stale
 * pointer would write into it), and its first word holds a mark (its address
 * mixed with the slab secret, as a free slab object's) that must be intact
 * when it leaves, at the next run's free or at exit: a write after free to
 * its start is reported.  Held: its head's freelist has RUN_HELD beside the
 * C++ kind, so a second free of it is a double free.  One exchange per free
 * of a run, no lock.  An allocation that finds no pages, and reclaim, give
 * it back first.
 */
#define RUN_HELD 0x10
/* Larger runs are freed at once: a held run is memory the program freed (peak RSS). */
#define RUN_HOLD_MAX_PAGES 64
static struct kmm_page *held_run;

static inline uint64_t run_mark(const void *p)
{
	return ~((uintptr_t)p ^ slab_secret);
}

bool kmalloc_run_held(const struct kmm_page *page)
{
	/* KMM_SECURE keeps a run's state in the same bits (secure.c) and holds none. */
	return !slab_secure && page->flags == PG_exact && (page->freelist & RUN_HELD);
}

static void check_held_run(struct kmm_page *page, const char *when)
{
	uint64_t *p = page_to_virt(page);

	if (unlikely(*p != run_mark(p)))
		kmm_panic(
			"write after free to %p (page run of %lu pages, freed and held back): its "
			"first word was overwritten (found %s)",
			(void *)p, (unsigned long)page->private, when);
}

/* Hold @page back, freed at @ptr.  Return: the run held before (to free), or NULL. */
static struct kmm_page *hold_run(void *ptr, struct kmm_page *page)
{
	struct kmm_page *old;

	if (page->freelist & RUN_HELD)
		bad_kfree(ptr, "double free (the memory is already free)");
	*(uint64_t *)ptr = run_mark(ptr);
	page->freelist |= RUN_HELD;
	old = __atomic_exchange_n(&held_run, page, __ATOMIC_ACQ_REL);
	if (old) {
		check_held_run(old, "when the next run was freed");
		old->freelist &= (uint16_t)~RUN_HELD;
	}
	return old;
}

bool kmalloc_release_held(void)
{
	struct kmm_page *page = __atomic_exchange_n(&held_run, NULL, __ATOMIC_ACQ_REL);

	if (!page)
		return false;
	check_held_run(page, "when it was released");
	page->freelist &= (uint16_t)~RUN_HELD;
	free_pages_exact(page);
	return true;
}

/* At exit: the run still held must be untouched since its free (it stays out of the buddy). */
static __attribute__((destructor)) void kmalloc_exit_check(void)
{
	struct kmm_page *page = __atomic_exchange_n(&held_run, NULL, __ATOMIC_ACQ_REL);

	if (page)
		check_held_run(page, "at exit");
}

/* Runs up to this many pages (1 MiB) take their whole buddy block. */
#define KMALLOC_RUN_BLOCK_PAGES (1UL << (20 - PAGE_SHIFT))

/*
 * kmalloc_run_pages() - the pages a page run of @npages asked for holds: its
 * whole buddy block up to 1 MiB, then whole MiBs, so that what it gives back
 * to the buddy is a block no smaller (kmalloc_large()).
 */
static unsigned long kmalloc_run_pages(unsigned long npages)
{
	if (npages > KMALLOC_RUN_BLOCK_PAGES)
		return ALIGN_UP(npages, KMALLOC_RUN_BLOCK_PAGES);
	return npages > 1 ? 1UL << (64 - __builtin_clzl(npages - 1)) : 1;
}

static void *kmalloc_large(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	unsigned long npages, block, want, dirty;
	struct kmm_page *page;

	if (size > KMALLOC_LARGE_MAX || align > KMALLOC_LARGE_MAX)
		return NULL;
	if (slab_secure)
		return secure_run_alloc(gfp, size, nid, align);
	npages = MAX((size + PAGE_SIZE - 1) >> PAGE_SHIFT, 1UL);
	/*
	 * The whole buddy block, as the kernel's kmalloc_large() (past 1 MiB,
	 * whole MiBs): a small tail given back is soon a slab's page, and the
	 * block cannot merge again when the run is freed, so the zone grew
	 * for later runs while holding most of its memory free (mstress:
	 * 26-32 MiB, 15-18 with whole blocks; bench/results/memory.md §8).  A
	 * fresh block's tail is never written, so never resident; only the
	 * pages asked for are zeroed.
	 */
	block = kmalloc_run_pages(npages);
	/* A buddy block of 2^k pages is aligned to 2^k pages: as large as @align. */
	want = MAX(block, align >> PAGE_SHIFT);
	page = alloc_pages_exact_dirty(gfp, want, nid, &dirty);
	if (!page && kmalloc_release_held())
		page = alloc_pages_exact_dirty(gfp, want, nid, &dirty);
	if (!page)
		return NULL;
	if (want > block)
		shrink_pages_exact(page, block);
	page->freelist = 0;		/* the C++ kind: malloc (secure.c) */
	page->inuse = (uint16_t)npages; /* the pages asked for: a sized delete names them */
	/*
	 * calloc: pages no one wrote read zero already, and a memset would
	 * make them resident where the program may never look (a sparse
	 * table; python3 -c pass: 310 KiB), as glibc's calloc of fresh memory
	 * skips it.
	 */
	if (gfp & KMM_GFP_ZERO)
		memset(page_to_virt(page), 0, MIN(dirty, npages) << PAGE_SHIFT);
	return page_to_virt(page);
}

/* The smallest class whose objects are all aligned to @align (<= 4 KiB). */
static unsigned int aligned_index(size_t size, size_t align)
{
	unsigned int idx = kmalloc_index(ALIGN_UP(size, align));

	/* The stride: KMM_SECURE's slots hold a redzone past each object. */
	while (idx < NR_KMALLOC_CACHES && kmalloc_caches[idx]->size % align)
		idx++;
	return idx;
}

/*
 * Memcheck: the slab layer registered @obj at its class's size; narrow it to
 * the @size asked for.  The slack stays addressable, and the double-free mark
 * (obj + 0, cleared by the allocation) defined: free() reads it.
 */
static __cold void vg_kmalloc(struct kmm_cache *cache, void *obj, size_t size)
{
	if (size >= cache->object_size)
		return;
	if (size) {
		kmm_vg_resize(obj, cache->object_size, size);
	} else { /* memcheck resizes no block to 0 bytes */
		kmm_vg_freelike(obj);
		kmm_vg_malloclike(obj, 0, false);
	}
	kmm_vg_undefined((char *)obj + size, cache->size - size);
	if (size < SLAB_MARK_OFFSET + 8)
		kmm_vg_defined((char *)obj + SLAB_MARK_OFFSET, 8);
}

void kmalloc_vg_copied(void *obj)
{
	struct kmm_page *page = virt_to_page_checked(obj);

	if (kmm_vg() && page && (page->flags & (PG_slab | PG_slab_tail)))
		kmm_vg_defined((char *)obj + SLAB_MARK_OFFSET, 8);
}

/* Memcheck: a page run (@p, NULL on failure) is a block of @size bytes. */
static void *vg_kmalloc_large(void *p, size_t size, kmm_gfp_t gfp)
{
	if (kmm_vg() && p)
		kmm_vg_malloclike(p, size, gfp & KMM_GFP_ZERO);
	return p;
}

/*
 * Learned classes.  A program's large requests are few sizes, each asked for
 * many times, and often a power of two plus a header: sqlite's 1024 + 8 and
 * 4096 + 272.  Its structures are few sizes too: jq's values are 272 and 392
 * bytes, 15% and 12% of kmalloc-320 and -448 wasted (19 MiB of 217 on a
 * 16 MiB JSON file).  Every refill of a class above 128 bytes, or of a
 * cache learned in it (a per-CPU stack found empty: one in a batch of
 * allocations), votes for the size that caused it unless that cache is its
 * exact size, and the class keeps the two leaders of the votes (Misra and
 * Gries's frequent items with two counters: a size that is neither takes a
 * vote from each).  A leader KMALLOC_LEARN_VOTES ahead, whose own cache
 * would hold it in at least 1/32 less memory per object, slabs included,
 * gets that cache (kmalloc-1040 beside kmalloc-1152, as the kernel gives a
 * hot structure a cache of its own), and the sizes below it down to the
 * class below, or to a smaller size learned before, point there from then
 * on (a larger size learned first gives up those sizes; the votes of a
 * learned cache's refills count in its class).  Up to 1 KiB only in a class that holds 1 MiB
 * of slabs (kmalloc_learn()).  At most KMALLOC_LEARN_MAX of them; not in
 * KMM_SECURE, whose layout is per class.  Blocks keep their cache:
 * those handed out before stay in the class, and free, realloc and
 * malloc_usable_size() read the cache from the slab.
 *
 * 16 votes: a class of a page and up refills 3 blocks at a time, so 64 votes
 * left sqlite3's first 150 blocks of 4368 bytes in kmalloc-4608 for good
 * (704 KiB of slabs at its peak, where 4368-byte slabs hold them in 640):
 * its peak 27.2 -> 26.9 MiB; python, frag, realloc, larson, logicmin
 * unchanged (bench/results/memory.md §19).
 */
#define KMALLOC_LEARN_VOTES 16
#define KMALLOC_LEARN_MAX 16
/* Up to 128 bytes the classes are 16 bytes apart: nothing to learn. */
#define KMALLOC_LEARN_MIN 128
#define KMALLOC_LEARN_SMALL_BYTES (1UL << 20)

static unsigned int nr_kmalloc_learned;

/* Memory per object, the slab's tail slack shared out. */
static size_t slab_bytes_per_object(size_t size, unsigned int order)
{
	return (PAGE_SIZE << order) / ((PAGE_SIZE << order) / size);
}

/*
 * Context: slab_mutex.  The sizes the new cache serves are those of the table
 * that still point to @class from @size down: above the class below, and
 * above any size of the class learned before.
 */
static void kmalloc_add_learned(struct kmm_cache *class, unsigned int size)
{
	struct kmm_cache *cache, *cur = kmalloc_slab(size);
	char name[32];

	if (nr_kmalloc_learned == KMALLOC_LEARN_MAX || cur->object_size == size)
		return; /* full, or learned meanwhile */
	kmm_snprintf(name, sizeof(name), "kmalloc-%u", size);
	cache = cache_create_learned(name, size);
	if (!cache)
		return;
	cache->kclass = class;
	nr_kmalloc_learned++;
	for (unsigned int i = size / 16; kmalloc_slab(i * 16) == cur; i--) {
		if (i > KMALLOC_TABLE_MAX / 16) {
			__atomic_store_n(&kmalloc_table_fine[i], cache, __ATOMIC_RELEASE);
			continue;
		}
		/* The slow paths' table first: a hit path that misses refills the new cache. */
		__atomic_store_n(&kmalloc_table[i], cache, __ATOMIC_RELEASE);
		for (unsigned int b = i * 16; b > i * 16 - 16; b--)
			__atomic_store_n(&kmalloc_fast_table[b], cache->cpu, __ATOMIC_RELEASE);
	}
}

/* Count a vote for @want.  Return: whether its count just reached KMALLOC_LEARN_VOTES. */
static bool kmalloc_vote(struct kmm_cache *class, unsigned int want)
{
	unsigned int size[2];
	int votes[2];

	/* Racing refills may lose a vote or two: it is a heuristic. */
	for (int i = 0; i < 2; i++) {
		size[i] = __atomic_load_n(&class->vote_size[i], __ATOMIC_RELAXED);
		votes[i] = __atomic_load_n(&class->votes[i], __ATOMIC_RELAXED);
	}
	for (int i = 0; i < 2; i++) {
		if (size[i] == want && votes[i] > 0) {
			bool won = votes[i] + 1 >= KMALLOC_LEARN_VOTES;

			__atomic_store_n(&class->votes[i], won ? 0 : votes[i] + 1,
					 __ATOMIC_RELAXED);
			return won;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (votes[i] <= 0) {
			__atomic_store_n(&class->vote_size[i], want, __ATOMIC_RELAXED);
			__atomic_store_n(&class->votes[i], 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	for (int i = 0; i < 2; i++)
		__atomic_store_n(&class->votes[i], votes[i] - 1, __ATOMIC_RELAXED);
	return false;
}

/* The bytes of @cache's slabs, on every node (racy: a heuristic's input). */
static size_t cache_slab_bytes(const struct kmm_cache *cache)
{
	unsigned long slabs = 0;

	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		slabs += __atomic_load_n(&cache->node[nid].nr_slabs, __ATOMIC_RELAXED);
	return (size_t)slabs << (PAGE_SHIFT + cache->order);
}

void kmalloc_learn(struct kmm_cache *cache, size_t size)
{
	unsigned int want = (unsigned int)ALIGN_UP(size, 16);

	if (want == cache->object_size || !kmalloc_vote(cache->kclass, want))
		return;
	/*
	 * Up to 1 KiB, only a class that holds KMALLOC_LEARN_SMALL_BYTES: a
	 * program of random sizes makes a leader of the lower half of every
	 * 32-byte class, and a new cache's partial slab and stocks cost a small
	 * program more than the tenth of its objects they save (simple +128
	 * KiB, shortthreads +290).
	 */
	if (want <= KMALLOC_TABLE_MAX &&
	    cache_slab_bytes(cache->kclass) +
			    (cache != cache->kclass ? cache_slab_bytes(cache) : 0) <
		    KMALLOC_LEARN_SMALL_BYTES)
		return;
	if (slab_bytes_per_object(want, learned_slab_order(want)) * 32 >
	    slab_bytes_per_object(cache->size, cache->order) * 31)
		return; /* the cache serving it fits it as well */
	if (!kmm_trylock(&slab_mutex))
		return; /* a drain or another learner: a later vote */
	kmalloc_add_learned(cache->kclass, want);
	kmm_unlock(&slab_mutex);
}

static void *kmalloc_cache(struct kmm_cache *cache, size_t size, kmm_gfp_t gfp, int nid)
{
	void *obj;

	if (nid == KMM_NUMA_NO_NODE) {
		obj = kmalloc_alloc_fast(cache);
		if (likely(obj)) {
			if (gfp & KMM_GFP_ZERO)
				memset(obj, 0, cache->object_size);
			return obj;
		}
	}
	if (size > KMALLOC_LEARN_MIN && !slab_secure)
		kmalloc_learn(cache, size);
	obj = cache_alloc_slow(cache, gfp, nid);
	if (slab_secure && obj)
		secure_set_size(cache, obj, size);
	if (kmm_vg() && obj)
		vg_kmalloc(cache, obj, size);
	return obj;
}

void *__kmalloc(size_t size, kmm_gfp_t gfp, int nid, size_t align)
{
	struct kmm_cache *cache;
	unsigned int idx;

	if (size > KMALLOC_MAX_SIZE || align > PAGE_SIZE)
		return vg_kmalloc_large(kmalloc_large(size, gfp, nid, align), size, gfp);
	if (align > 16) {
		idx = aligned_index(size, align);
		if (idx >= NR_KMALLOC_CACHES)
			return vg_kmalloc_large(kmalloc_large(size, gfp, nid, align), size, gfp);
		cache = kmalloc_caches[idx];
	} else {
		cache = kmalloc_slab(size);
	}
	return kmalloc_cache(cache, size, gfp, nid);
}

void __kfree(void *ptr, struct kmm_page *page)
{
	unsigned int flags;

	/* Memcheck: slab objects are unregistered in cache_free_slow(). */
	if (kmm_vg() && page && !(page->flags & (PG_slab | PG_slab_tail)))
		kmm_vg_freelike(ptr);
	if (!page)
		bad_kfree(ptr, "not allocated by libkmm");
	flags = READ_ONCE(page->flags);
	if (flags & (PG_slab | PG_slab_tail)) {
		struct kmm_cache *cache = slab_free_check(page, ptr);

		if (!slab_free_fast(cache, ptr))
			cache_free_slow(cache, ptr);
		return;
	}
	if (flags == PG_exact && ((uintptr_t)ptr & (PAGE_SIZE - 1)) == 0) {
		if (slab_secure && secure_run_free(ptr, page))
			return;
		if (!slab_secure && !kmm_vg() && (unsigned long)page->private <= RUN_HOLD_MAX_PAGES)
			page = hold_run(ptr, page);
		if (page)
			free_pages_exact(page);
		return;
	}
	if (flags & (PG_buddy | PG_pcp))
		bad_kfree(ptr, "double free (the memory is already free)");
	if (flags & PG_slab_fresh)
		kmm_panic("invalid free of %p (slab page, cache %s): never allocated (no object of "
			  "this page was handed out yet)",
			  ptr, ((struct kmm_cache *)page->private)->name);
	bad_kfree(ptr, "not the start of a block allocated by malloc");
}

/* KMM_SECURE: the size asked for; the rest up to the class is redzone. */
static __cold size_t secure_ksize(const void *ptr, struct kmm_page *page)
{
	if (page->flags & (PG_slab | PG_slab_tail))
		return secure_object_size(slab_head(page)->private, ptr);
	if (page->flags == PG_exact)
		return secure_run_size(page);
	return 0;
}

size_t __ksize(const void *ptr, struct kmm_page *page)
{
	if (!page)
		return 0;
	if (slab_secure)
		return secure_ksize(ptr, page);
	if (page->flags & (PG_slab | PG_slab_tail))
		return ((struct kmm_cache *)slab_head(page)->private)->size;
	if (page->flags == PG_exact)
		return (unsigned long)page->private << PAGE_SHIFT;
	return 0;
}

/* A page run that may change size in place (not a guarded one of KMM_SECURE). */
static bool is_run(const struct kmm_page *page)
{
	return !(page->flags & (PG_slab | PG_slab_tail | PG_slab_fresh)) && !slab_secure;
}

void kmalloc_shrink(struct kmm_page *page, size_t size)
{
	if (is_run(page))
		shrink_pages_exact(page, (size + PAGE_SIZE - 1) >> PAGE_SHIFT);
}

size_t kmalloc_run_asked(const struct kmm_page *page)
{
	return is_run(page) ? (size_t)page->inuse << PAGE_SHIFT : 0;
}

bool kmalloc_grow(struct kmm_page *page, size_t size)
{
	return is_run(page) && size <= KMALLOC_LARGE_MAX &&
	       grow_pages_exact(page, (size + PAGE_SIZE - 1) >> PAGE_SHIFT);
}
