// SPDX-License-Identifier: MIT
/*
 * slub.c - object caches: SLUB's slabs and partial lists behind per-CPU
 * stacks of free objects (the kernel's mm/slub.c with 6.18's "sheaves").
 *
 * Theory of operation.  A slab is a block of 2^order pages from the page
 * allocator cut into objects of cache->size bytes.  Its head page descriptor
 * carries the slab state: PG_slab, the cache, the number of objects handed
 * out (inuse), and the index of its first free object (freelist; each free
 * object holds the index of the next in its first 4 bytes).  The other pages
 * are PG_slab_tail and point to the head; every page names the cache, so any
 * object address finds its cache by arithmetic and one load, its slab with
 * one more.  A new slab's free list is written a page at a time as refills
 * reach it (slab_extend()); the pages not written yet are PG_slab_fresh,
 * which no path takes a pointer into.
 *
 * Each cache has, per CPU, a stack of free object pointers (union slab_cpu,
 * lib/percpu_stack.h, as the page allocator's pcp lists): allocation pops,
 * free pushes, in rseq critical sections on glibc's registration, no lock and
 * no atomic instruction.  A free lands on the freeing CPU's stack whichever CPU
 * allocated the object, so a remote free takes no lock either.  An empty stack
 * is refilled with a batch of objects from the node's partial slabs, or a new
 * slab, under the node's list_lock; a full one flushes a batch back to the
 * objects' slabs.  Without rseq each stack is taken with a trylock, and a
 * failed trylock goes to the slabs directly; one code path serves both.
 *
 * Between the stacks and the slabs sits each node's depot (depot.h): a full
 * stack hands its top batch to the depot as one magazine, and an empty stack
 * takes a full magazine whole, so objects that one CPU frees and another
 * allocates (a producer and a consumer) travel as batches of pointers, with
 * no slab touched and no lock waited for.  Only when the depot is empty or
 * full do batches go to the slabs under the list_lock.
 *
 * Slabs with free objects sit on their node's partial list; full slabs are on
 * no list (SLUB does the same).  Empty slabs stay on the partial list up to
 * min_partial per node (the kernel's reserve; none for slabs of 32 KiB and
 * up); beyond that they go back to the page allocator.
 *
 * Misuse: a free must start on an object boundary before the slab's tail
 * slack (checked with one multiply and one compare, against precomputed
 * constants: div_limit()) and must not find the object marked free (a free
 * object's metadata holds its address mixed with a per-process secret: free
 * and new slabs write it, allocation clears it).  A refill checks each
 * free-list link it follows against the slab's object count; links are stored
 * keyed with a second secret.  All checks are on in every build.  The
 * metadata overlays the free object, except in a cache with a constructor:
 * there it lies past the object (cache->meta), so an object keeps its
 * constructed state from free to the next allocation.
 *
 * Lock order: slab_mutex (the cache list), a cache's stack locks, its
 * depots' pop locks (taken alone: the hot paths only try them), its node
 * list_locks, then zone locks inside the page allocator.  A node's list_lock
 * is never held while taking pages from or giving pages to the page allocator.
 */
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/memcheck.h"
#include "../lib/printk.h"
#include "../numa/os.h"
#include "secure.h"
#include "slab.h"

#define SLAB_BATCH_MAX 64
_Static_assert(SLAB_BATCH_MAX == SLAB_MAGAZINE_SLOTS, "a magazine holds a batch");

/*
 * What the depots hold.  A cache's depot on a node holds up to
 * SLAB_DEPOT_BYTES of objects, 2..SLAB_DEPOT_FULL_MAX batches: enough to
 * absorb a producer running a ring of a thousand objects ahead of its
 * consumer.  All depots together hold at most SLAB_DEPOT_BUDGET bytes of
 * objects (depot_parked), so that a program that frees in bulk, size class
 * after size class, keeps that much at most out of the slabs, whose empty
 * pages then serve other caches as without a depot.  A single-threaded
 * process has no batches to hand over and parks none (glibc's
 * __libc_single_threaded).
 */
#define SLAB_DEPOT_BYTES (128u << 10)
#define SLAB_DEPOT_FULL_MAX 32u
#define SLAB_DEPOT_BUDGET (128ul << 10)
#define SLAB_DEPOT_EMPTY_MAX 4u /* empty magazines kept per node and cache */

struct kmm_lock slab_mutex = KMM_LOCK_INIT;
struct kmm_list slab_caches = { &slab_caches, &slab_caches };
uint64_t slab_secret;
static uint64_t slab_link_secret;	 /* keys the free-list links */
static struct kmm_cache *magazine_cache; /* the depots' magazines (depot.h) */
static unsigned long depot_parked;	 /* bytes of objects in all depots (uatomic) */

/*
 * The reap (slab_reap()): the old SLAB allocator's cache_reap(), on a clock of
 * slab growth instead of a timer.  slab_clock counts the pages of every new
 * slab; a cache stamps it at each refill and flush (cache->last_used).  Every
 * interval of new slabs (128 KiB, or 1/64 of the arenas' committed pages when
 * that is more), a cache that has not refilled nor flushed for two intervals
 * gives back what it keeps for itself: this CPU's stack, its depots and its
 * empty slabs.  So a program that moves from one size to the next makes the
 * new size's slabs from the pages the old one no longer uses, as glibc's one
 * heap serves every size, instead of growing by the stocks of every size it
 * ever used; and a large heap is reaped in proportion, not every 128 KiB.
 */
#define SLAB_REAP_INTERVAL 32ul			     /* pages: 128 KiB */
static unsigned long slab_clock;		     /* pages of new slabs, ever (uatomic) */
static unsigned long reap_next = SLAB_REAP_INTERVAL; /* slab_clock of the next reap */

static inline struct percpu_stack *cache_cpu(const struct kmm_cache *cache, int cpu)
{
	return &cache->cpu[cpu].stack;
}

static inline void *slab_address(const struct kmm_page *slab)
{
	return page_to_virt(slab);
}

static inline void *slab_object(const struct kmm_cache *cache, const struct kmm_page *slab,
				unsigned int idx)
{
	return (char *)slab_address(slab) + (size_t)idx * cache->size;
}

/*
 * The index of @obj in its slab, by a multiply instead of a divide (every
 * object of a flush pays it): with c = div_magic = floor((2^64 - 1) / size)
 * + 1 and e = c * size - 2^64 (0 <= e < size), off * c / 2^64 is off / size
 * plus off * e / (size * 2^64), which stays below 1 / size, so the floors
 * agree for every offset in a slab (off * e < 2^34, far below 2^64).
 */
static inline unsigned int slab_index(const struct kmm_cache *cache, const void *obj)
{
	/* A slab is a buddy block, aligned to its size: the offset is a mask away. */
	uint64_t off = (uintptr_t)obj & cache->slab_mask;

	return (unsigned int)(((unsigned __int128)off * cache->div_magic) >> 64);
}

/*
 * A free object's link is stored XORed with a key from a secret and the
 * object's address (the kernel's CONFIG_SLAB_FREELIST_HARDENED): a plain
 * overwrite after free decodes to an index past the slab (odds of objects /
 * 2^32 to land in range), which take_objects() reports.
 */
static inline uint32_t link_key(const void *obj)
{
	return (uint32_t)((((uintptr_t)obj ^ slab_link_secret) * 0x9e3779b97f4a7c15ULL) >> 32);
}

/*
 * Under memcheck a free object is no-access: the slab layer opens the link's
 * 4 bytes for its own access only.
 */
static inline uint32_t read_link(const struct kmm_cache *cache, void *obj)
{
	uint32_t next;

	if (!kmm_vg())
		return *obj_link(cache, obj) ^ link_key(obj);
	kmm_vg_defined(obj_link(cache, obj), sizeof(uint32_t));
	next = *obj_link(cache, obj);
	kmm_vg_noaccess(obj_link(cache, obj), sizeof(uint32_t));
	return next ^ link_key(obj);
}

static inline void write_link(const struct kmm_cache *cache, void *obj, uint32_t next)
{
	if (kmm_vg())
		kmm_vg_undefined(obj_link(cache, obj), sizeof(uint32_t));
	*obj_link(cache, obj) = next ^ link_key(obj);
	if (kmm_vg())
		kmm_vg_noaccess(obj_link(cache, obj), sizeof(uint32_t));
}

static inline struct kmm_page *obj_to_slab(const void *obj)
{
	return slab_head(virt_to_page_checked(obj));
}

/*
 * The report names the cache, the object the pointer falls in (index and
 * offset into it, of the slab's count) and, for a free of an object start,
 * its state.
 */
void slab_bad_free(struct kmm_cache *cache, const void *obj, const char *why)
{
	uint64_t off = (uintptr_t)obj & ((PAGE_SIZE << cache->order) - 1);
	unsigned int idx = (unsigned int)(off / cache->size),
		     in = (unsigned int)(off % cache->size);

	if (idx >= cache->objects)
		kmm_panic("invalid free of %p (%s, cache %s): %s (byte %u of the slack after "
			  "object %u)",
			  obj, "slab object", cache->name, why, (unsigned int)(off - cache->used),
			  cache->objects - 1);
	if (in)
		kmm_panic("invalid free of %p (%s, cache %s): %s (byte %u of object %u of %u, "
			  "at %p)",
			  obj, "slab object", cache->name, why, in, idx, cache->objects,
			  (const char *)obj - in);
	kmm_panic("invalid free of %p (%s, cache %s): %s (object %u of %u, already free)", obj,
		  "slab object", cache->name, why, idx, cache->objects);
}

void slab_bad_offset(struct kmm_cache *cache, const void *obj)
{
	uint64_t off = (uintptr_t)obj & ((PAGE_SIZE << cache->order) - 1);

	slab_bad_free(cache, obj,
		      off % cache->size && off < cache->used
			      ? "not the start of an object"
			      : "in the slab's tail slack, past its last object");
}

static __cold __noreturn void slab_bad_link(struct kmm_cache *cache, struct kmm_page *slab,
					    const void *obj, uint32_t next)
{
	kmm_panic("cache %s: free list corrupted in slab %p: free object %p links to index %u "
		  "of %u (written after free?)",
		  cache->name, slab_address(slab), obj, next, cache->objects);
}

/*
 * A free object's mark must still be its own when it leaves a per-CPU stack
 * or its slab's free list (every build; secure.c checks every byte): a
 * write after free at the mark's offset, or an overflow of the object before
 * it, changed it.  Under memcheck a free object is no-access: not checked.
 */
void slab_bad_mark(struct kmm_cache *cache, void *obj, const char *where)
{
	uint64_t off = (uintptr_t)obj & cache->slab_mask;

	kmm_panic("write after free to %p, or an overflow into it (free object %u of %u, cache "
		  "%s, %s): its free mark at +%u was overwritten",
		  obj, (unsigned int)(off / cache->size), cache->objects, cache->name, where,
		  cache->meta + SLAB_MARK_OFFSET);
}

static inline void check_mark(struct kmm_cache *cache, void *obj, const char *where)
{
	if (!kmm_vg() && !slab_secure && unlikely(*obj_mark(cache, obj) != slab_free_mark(obj)))
		slab_bad_mark(cache, obj, where);
}

/*
 * The kernel's calculate_order(): the smallest slab order that holds enough
 * objects (4 * (fls(cpus) + 1), fewer for big objects) with at most 1/16 of
 * it wasted, then 1/8, then 1/4.  As the kernel's slub_max_order, the
 * object count asked for is what fits in PAGE_ALLOC_COSTLY_ORDER (32 KiB):
 * a new slab is resident whole (every object carries the free mark), so a
 * program with one 4 KiB block pays 32 KiB, not 64.
 */
#define SLAB_COSTLY_ORDER 3

static unsigned int calculate_order(unsigned int size)
{
	unsigned int max_objects = (unsigned int)((PAGE_SIZE << SLAB_COSTLY_ORDER) / size);
	unsigned int min_objects =
		4 * (32 - (unsigned int)__builtin_clz((unsigned int)kmm_nr_cpu_ids) + 1);

	min_objects = MIN(min_objects, MAX(max_objects / 2, 1u));
	/* Up to the costly order first, as the kernel; past it only for a 1/4 waste. */
	for (unsigned int max_order = SLAB_COSTLY_ORDER;; max_order = SLAB_MAX_ORDER) {
		for (unsigned int frac = 16; frac >= 4; frac /= 2)
			for (unsigned int order = 0; order <= max_order; order++) {
				size_t slab = PAGE_SIZE << order;
				size_t n = slab / size;

				if (n >= min_objects && (slab - n * size) * frac <= slab)
					return order;
			}
		if (max_order == SLAB_MAX_ORDER)
			return SLAB_MAX_ORDER;
	}
}

/*
 * Per-CPU stack size: at most about 128 KiB of objects per CPU and cache,
 * between 4 and SLAB_CPU_SLOTS objects (the kernel sizes cpu_partial the
 * same way: fewer objects as they grow), and for 1 KiB and up the kernel's
 * own counts (slub_set_cpu_partial(): 24 objects from 1 KiB, 6 from a page)
 * — stocks of big objects are what a small program's peak RSS is made of.
 */
static unsigned int cpu_high(unsigned int size)
{
	if (size >= PAGE_SIZE)
		return 6;
	if (size >= 1024)
		return 24;
	return MAX(4u, MIN((unsigned int)SLAB_CPU_SLOTS, (128u << 10) / size));
}

/*
 * ... and scaled to the heap, as the kernel sizes a zone's pcp high from its
 * managed pages (zone_highsize()): a stack holds at most 1/64 of the memory
 * in service in objects, 32 KiB of a 2 MiB heap and 16 KiB at least, all of
 * cpu_high() from 8 MiB.  A small program's stocks, a few KiB per class it
 * uses, are then not most of its heap; a large one's batches are as long as
 * ever.  The high only grows, with the heap (cache_stock()); reaps and
 * drains empty the stacks of idle caches.  1/128 took shortthreads 0.3 MiB
 * lower, but moved sqlite3's realloc at the zone's top into 4 MiB more zone
 * (bench/results/memory.md §13).
 */
#define SLAB_STOCK_MIN (16u << 10)
#define SLAB_STOCK_SHIFT 6

static unsigned int stock_high(const struct kmm_cache *cache)
{
	unsigned long bytes = __atomic_load_n(&kmm_arena.committed_pages, __ATOMIC_RELAXED)
				      << PAGE_SHIFT >>
			      SLAB_STOCK_SHIFT;

	bytes = MAX(bytes, (unsigned long)SLAB_STOCK_MIN);
	return MIN(cache->cpu_high, MAX(4u, (unsigned int)MIN(bytes / cache->size, 1u << 16)));
}

static unsigned int batch_of(unsigned int high)
{
	return MAX(1u, MIN(high / 2, (unsigned int)SLAB_BATCH_MAX));
}

/*
 * Empty slabs kept per node: the kernel's 5, but never more than ~256 KiB;
 * none from order 3 (32 KiB, the classes from 3.5 KiB up).  An empty slab
 * that large is a block the growing program could use whole (a table, a
 * run): kept, it is resident and serves only its class.  The page
 * allocator's per-CPU lists keep order-3 blocks anyway, and merge the larger
 * ones.  python_alloc.py 60000: peak 43.2 -> 42.5 MiB (at its peak its
 * classes of 4.5-32 KiB held nine empty slabs, 416 KiB); frag -1.8 MiB;
 * realloc +0.4 MiB of 69; CPU unchanged.  None below order 3 took logicmin
 * 0.3 MiB higher: small slabs come back soon.
 */
static unsigned int min_partial(unsigned int order)
{
	if (order >= 3)
		return 0;
	return MAX(1u, MIN(5u, (unsigned int)((256u << 10) / (PAGE_SIZE << order))));
}

/* A cache and its nodes. */
static size_t cache_head_bytes(void)
{
	return ALIGN_UP(sizeof(struct kmm_cache) +
				sizeof(struct kmm_cache_node) * (size_t)kmm_nr_node_ids,
			KMM_CACHELINE);
}

/* A cache's per-CPU stacks, one union slab_cpu per possible CPU. */
static size_t cache_stacks_bytes(void)
{
	return sizeof(union slab_cpu) * (size_t)kmm_nr_cpu_ids;
}

/*
 * The caches made at start-up (kmalloc's and the magazines'), which are never
 * destroyed, share one mapping, fresh from mmap() and so zero: their heads
 * packed at its start, their per-CPU stacks after them.  Each cache's stacks
 * start a cache line further than the space the one before took (the
 * kernel's slab colouring: at a stride of 2 KiB, every cache's stack on one
 * CPU would share one L1 set of two, and a program using many size classes
 * would miss there on every malloc and free).  The heads need none: a head
 * is an odd number of cache lines (7 on one node), so their first lines
 * already fall in every set in turn, where one line more made the stride
 * 512 bytes and put them all in eight sets (and took 2.9 KiB more).
 *
 * The stacks are left as mapped: a stack gets its capacity when its CPU first
 * pushes to it (percpu_stack_grow()), so only the stacks in use are
 * resident.  The heads are 20 KiB; the stacks of 46 caches, 92 KiB on two
 * CPUs and 2.9 MiB on 64, were all written at start-up before.
 *
 * A stack takes 1 KiB (126 objects) only in the classes below 1 KiB: from
 * 1 KiB up a class stocks 24 objects at most, from 4 KiB 6 (cpu_high()), a
 * stack of 208 or 64 bytes.  Those caches share their CPU rows: four
 * stacks of 256 bytes, or sixteen of 64, side by side in each 1 KiB row of
 * one area, the hit paths' stride unchanged (boot_shared).  The 26 kmalloc
 * caches from 1 KiB up take 4 areas instead of 26, 46 KiB less on two CPUs,
 * and a program that uses many large classes writes 4 rows of stacks
 * instead of up to 26: this mapping's RSS at exit, logicmin (whose hash
 * tables pass through almost every class) 116 -> 72 KiB, python3 -c pass
 * 108 -> 72, /bin/echo 76 -> 68.
 */
static struct {
	char *heads, *stacks; /* the next cache's */
	char *start, *end;
} boot;

/* The area being filled with stacks of 64, 128, 256 and 512 bytes, and how far. */
static struct {
	char *area;
	size_t used;
} boot_shared[4];

/* Bytes of a stack of @high objects: a power of two, 64 to sizeof(union slab_cpu). */
static size_t stack_bytes(unsigned int high)
{
	size_t need = offsetof(struct percpu_stack, slot) + (size_t)high * sizeof(void *),
	       bytes = 64;

	while (bytes < need && bytes < sizeof(union slab_cpu))
		bytes <<= 1;
	return bytes;
}

static int boot_area_init(unsigned int nr)
{
	size_t heads = cache_head_bytes() * nr;
	size_t bytes = heads + (cache_stacks_bytes() + KMM_CACHELINE) * nr;
	char *p = os_map_noreserve(ALIGN_UP(bytes, PAGE_SIZE));

	if (!p)
		return -ENOMEM;
	boot.start = boot.heads = p;
	boot.stacks = p + heads;
	boot.end = p + bytes;
	return 0;
}

/*
 * Memory for a cache: its head, returned, and its stacks (*@stacks).  Past
 * start-up, whole zeroed pages for both, the stacks after the head, at the
 * next of the page's 64 cache-line offsets; cache_mem_free() takes them back
 * (the head lies in the run's first page).
 */
static struct kmm_cache *cache_mem_alloc(union slab_cpu **stacks, size_t sbytes)
{
	static unsigned int next_colour;
	size_t bytes = cache_head_bytes() + cache_stacks_bytes(), colour;
	struct kmm_page *page;
	char *head;

	if (boot.heads) {
		char *row = NULL;

		if (sbytes < sizeof(union slab_cpu)) {
			/* A row shared with other caches' stacks of @sbytes (see boot above). */
			unsigned int i = (unsigned int)__builtin_ctzl(sbytes) - 6;

			if ((!boot_shared[i].area ||
			     boot_shared[i].used + sbytes > sizeof(union slab_cpu)) &&
			    boot.stacks + cache_stacks_bytes() <= boot.end) {
				boot_shared[i].area = boot.stacks;
				boot_shared[i].used = 0;
				boot.stacks += cache_stacks_bytes() + KMM_CACHELINE;
			}
			if (boot_shared[i].area &&
			    boot_shared[i].used + sbytes <= sizeof(union slab_cpu)) {
				row = boot_shared[i].area + boot_shared[i].used;
				boot_shared[i].used += sbytes;
			}
		} else if (boot.stacks + cache_stacks_bytes() <= boot.end) {
			row = boot.stacks;
			boot.stacks += cache_stacks_bytes() + KMM_CACHELINE;
		}
		if (row) {
			head = boot.heads;
			boot.heads += cache_head_bytes();
			*stacks = (union slab_cpu *)row;
			return (struct kmm_cache *)head;
		}
	}
	colour = (__atomic_fetch_add(&next_colour, 1, __ATOMIC_RELAXED) %
		  (PAGE_SIZE / KMM_CACHELINE)) *
		 KMM_CACHELINE;
	page = alloc_pages_exact(KMM_GFP_ZERO, (bytes + colour + PAGE_SIZE - 1) >> PAGE_SHIFT,
				 KMM_NUMA_NO_NODE);
	if (!page)
		return NULL;
	head = (char *)page_to_virt(page) + colour;
	*stacks = (union slab_cpu *)(head + cache_head_bytes());
	return (struct kmm_cache *)head;
}

static void cache_mem_free(struct kmm_cache *cache)
{
	/* The start-up caches are never destroyed. */
	KMM_BUG_ON((char *)cache >= boot.start && (char *)cache < boot.end);
	free_pages_exact(virt_to_page_checked(cache));
}

/*
 * The bound of slab_free_check()'s one compare.  With d = size, c = div_magic
 * = floor((2^64 - 1) / d) + 1 and e = c * d - 2^64 (0 <= e < d): the object
 * offset k * d maps to k * e (mod 2^64), rising with k, and any other offset
 * q * d + r (0 < r < d) to q * e + r * c >= c, far above objects * e (slabs
 * are at most 128 KiB).  So off * c < objects * e accepts exactly the object
 * starts before the tail slack.  A power-of-two size has e = 0 and no slack:
 * the bound is then 1, every multiple of d.
 */
static uint64_t div_limit(const struct kmm_cache *cache)
{
	uint64_t e = cache->div_magic * cache->size; /* mod 2^64 */

	return e ? e * cache->objects : 1;
}

/*
 * Full magazines per node: SLAB_DEPOT_BYTES of objects, 2 to
 * SLAB_DEPOT_FULL_MAX; none for the magazines' own cache (its objects never
 * pass through stacks).
 */
static unsigned int depot_max(const struct kmm_cache *cache)
{
	unsigned int batch_bytes = cache->batch * cache->size;

	if (!magazine_cache)
		return 0;
	return MAX(2u, MIN(SLAB_DEPOT_FULL_MAX, SLAB_DEPOT_BYTES / batch_bytes));
}

static void depot_init(struct slab_depot *d)
{
	__cds_lfs_init(&d->full);
	__cds_lfs_init(&d->empty);
	kmm_lock_init(&d->full_pop);
	kmm_lock_init(&d->empty_pop);
	d->nr_full = 0;
	d->nr_empty = 0;
}

/*
 * A learned kmalloc cache (kmalloc_learn()) exists to waste less than its
 * class: the smallest order from calculate_order()'s whose tail slack is at
 * most 1/64 of the slab (4368-byte objects: 64 KiB slabs of 15, where 32 KiB
 * would leave 2 KiB, 7% of it, unused; 1040: 64 KiB slabs of 63, where 32 KiB
 * left 528 bytes, 1.6%: 178 KiB over sqlite3's 10,700 sorter records).
 */
unsigned int learned_slab_order(unsigned int size)
{
	unsigned int first = calculate_order(size);

	for (unsigned int order = first; order <= SLAB_MAX_ORDER; order++) {
		size_t slab = PAGE_SIZE << order;

		if ((slab - slab / size * size) * 64 <= slab)
			return order;
	}
	return first;
}

static struct kmm_cache *cache_setup(const char *name, size_t size, size_t align,
				     unsigned long flags, void (*ctor)(void *), bool learned)
{
	struct kmm_cache *cache;
	union slab_cpu *stacks;
	unsigned int high;
	size_t sbytes;

	if (size == 0 || size > (PAGE_SIZE << SLAB_MAX_ORDER) || (align & (align - 1)) ||
	    align > PAGE_SIZE)
		return NULL;
	if (flags & KMM_SLAB_HWCACHE_ALIGN)
		align = MAX(align, (size_t)KMM_CACHELINE);
	/* Room for the double-free mark; 16-byte alignment from 16 bytes up. */
	size = MAX(size, (size_t)16);
	align = MAX(align, (size_t)16);
	/*
	 * The stack's size from the stride below; KMM_SECURE's layout can only
	 * make the stride larger, and cpu_high() smaller.
	 */
	sbytes = stack_bytes(cpu_high((unsigned int)ALIGN_UP(size + (ctor ? 16 : 0), align)));
	cache = cache_mem_alloc(&stacks, sbytes);
	if (!cache)
		return NULL;
	cache->cpu = stacks;
	cache->object_size = (unsigned int)size;
	cache->align = (unsigned int)align;
	/* With a constructor the free-object metadata goes past the object. */
	cache->meta = ctor ? (unsigned int)ALIGN_UP(size, 8) : 0;
	cache->size = (unsigned int)ALIGN_UP(size + (ctor ? 16 : 0), align);
	cache->order = learned ? learned_slab_order(cache->size) : calculate_order(cache->size);
	cache->objects = (unsigned int)((PAGE_SIZE << cache->order) / cache->size);
	if (slab_secure)
		secure_cache_layout(cache);
	cache->slab_mask = (PAGE_SIZE << cache->order) - 1; /* the secure layout's order too */
	cache->div_magic = ~0ULL / cache->size + 1;
	cache->used = cache->objects * cache->size;
	cache->div_limit = div_limit(cache);
	high = MIN(cpu_high(cache->size), (unsigned int)PERCPU_STACK_SLOTS(sbytes));
	cache->cpu_high = high;
	cache->high = stock_high(cache);
	cache->batch = batch_of(cache->high);
	cache->ramp = MIN(cache->batch, MAX(2u, (unsigned int)(PAGE_SIZE / cache->size)));
	cache->min_partial = min_partial(cache->order);
	cache->depot_max = depot_max(cache);
	cache->flags = flags;
	cache->ctor = ctor;
	kmm_snprintf(cache->name, sizeof(cache->name), "%s", name ? name : "(unnamed)");
	/* The stacks stay zero: slab_stack_activate() gives each its high on first use. */
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		kmm_lock_init(&cache->node[nid].list_lock);
		list_init(&cache->node[nid].partial);
		depot_init(&cache->node[nid].depot);
	}
	return cache;
}

struct kmm_cache *cache_create(const char *name, size_t size, size_t align, unsigned long flags,
			       void (*ctor)(void *))
{
	struct kmm_cache *cache = cache_setup(name, size, align, flags, ctor, false);

	if (cache) {
		kmm_lock(&slab_mutex);
		list_add_tail(&cache->list, &slab_caches);
		kmm_unlock(&slab_mutex);
	}
	return cache;
}

struct kmm_cache *cache_create_learned(const char *name, size_t size)
{
	struct kmm_cache *cache = cache_setup(name, size, 0, 0, NULL, true);

	KMM_BUG_ON(!kmm_lock_held(&slab_mutex));
	if (cache)
		list_add_tail(&cache->list, &slab_caches);
	return cache;
}

/*
 * KMM_SECURE: the slab's slots in a random order, slot 0 kept out (the
 * left redzone of slot 1), redzones written (secure.c).
 */
static __cold void new_slab_secure(struct kmm_cache *cache, struct kmm_page *slab)
{
	uint16_t order[(PAGE_SIZE << SLAB_MAX_ORDER) / 16];
	unsigned int n = secure_new_slab(cache, slab, order);

	for (unsigned int i = 0; i < n; i++) {
		void *obj = slab_object(cache, slab, order[i]);

		*obj_link(cache, obj) =
			(i + 1 < n ? order[i + 1] : SLAB_FREELIST_END) ^ link_key(obj);
		*obj_mark(cache, obj) = slab_free_mark(obj);
	}
	*obj_mark(cache, slab_address(slab)) = slab_free_mark(slab_address(slab));
	slab->freelist = order[0];
	slab->inuse = (uint16_t)cache->reserved;
}

/*
 * Lazy initialisation.  A new slab of several pages writes its free list
 * (each object's link and mark) into the objects that start in its first
 * page only; its other pages are PG_slab_fresh, which every path that takes
 * a pointer refuses as no object's page (a free there is of an object never
 * handed out: the mark that would catch it is not written yet).  When a
 * refill has taken every object of the pages written so far, slab_extend()
 * writes the next page's, and makes it PG_slab_tail.  A program that uses a
 * few objects of a class so writes, and keeps resident, one page of its slab
 * instead of all 2-32 (with the refills' ramp, cache_refill()).  The first
 * fresh page is kept in the descriptor of the slab's second page (a tail's
 * freelist is otherwise unused; KMM_SECURE has its inuse), 0 once there is
 * none.  Not for KMM_SECURE (its slots are shuffled over the whole slab) nor
 * for a cache with a constructor.
 */
static inline unsigned int slab_fresh_page(const struct kmm_cache *cache,
					   const struct kmm_page *slab)
{
	return cache->order ? slab[1].freelist : 0;
}

/* No free object left and none to write: the slab is on no list. */
static inline bool slab_full(const struct kmm_cache *cache, const struct kmm_page *slab)
{
	return slab->freelist == SLAB_FREELIST_END && !slab_fresh_page(cache, slab);
}

static inline void write_mark(const struct kmm_cache *cache, void *obj)
{
	if (kmm_vg())
		kmm_vg_undefined(obj_mark(cache, obj), sizeof(uint64_t));
	*obj_mark(cache, obj) = slab_free_mark(obj);
	if (kmm_vg())
		kmm_vg_noaccess(obj_mark(cache, obj), sizeof(uint64_t));
}

/* Objects [@first, @end) of @slab, marked free and linked in order, become its free list. */
static void link_objects(struct kmm_cache *cache, struct kmm_page *slab, unsigned int first,
			 unsigned int end)
{
	char *addr = slab_address(slab);

	KMM_BUG_ON(slab->freelist != SLAB_FREELIST_END || first >= end);
	for (unsigned int i = first; i < end; i++) {
		void *obj = addr + (size_t)i * cache->size;

		write_link(cache, obj, i + 1 < end ? i + 1 : SLAB_FREELIST_END);
		write_mark(cache, obj);
	}
	slab->freelist = (uint16_t)first;
}

/*
 * The objects that start in @slab's pages from @page on, a page at a time
 * until some, become its free list; those pages become PG_slab_tail (page 0
 * is the head).  Return: false if no object was left to write.  Context:
 * the node's list_lock, or a slab no one else knows yet.
 */
static bool slab_extend(struct kmm_cache *cache, struct kmm_page *slab, unsigned int page)
{
	unsigned int pages = 1u << cache->order, first, end;

	first = (unsigned int)DIV_ROUND_UP((size_t)page << PAGE_SHIFT, cache->size);
	do {
		if (page)
			WRITE_ONCE(slab[page].flags, PG_slab_tail);
		page++;
		end = (unsigned int)MIN(cache->objects,
					DIV_ROUND_UP((size_t)page << PAGE_SHIFT, cache->size));
	} while (end <= first && page < pages);
	/* Past the last object only slack is left: those pages are no object's either way. */
	for (unsigned int p = page; end >= cache->objects && p < pages; p++)
		WRITE_ONCE(slab[p].flags, PG_slab_tail);
	if (pages > 1)
		slab[1].freelist = (uint16_t)(end < cache->objects ? page : 0);
	if (end <= first)
		return false;
	link_objects(cache, slab, first, end);
	return true;
}

/*
 * A new slab for @cache: pages, descriptors, free list, constructor.  Every
 * object on the free list is marked free, so freeing one never handed out
 * is caught as a double free; the pages not written yet are no object's.
 */
static struct kmm_page *new_slab(struct kmm_cache *cache, int nid)
{
	struct kmm_page *slab = __alloc_pages(KMM_GFP_KERNEL, cache->order, nid);
	bool lazy = !slab_secure && !cache->ctor;

	if (!slab && kmalloc_release_held())
		slab = __alloc_pages(KMM_GFP_KERNEL, cache->order, nid);
	if (!slab)
		return NULL;
	slab->flags = PG_slab;
	slab->private = cache;
	slab->inuse = 0;
	slab->freelist = SLAB_FREELIST_END;
	/* The cache in every page, for free(); a tail's head in lru.next (slab_head()). */
	for (unsigned long i = 1; i < (1UL << cache->order); i++) {
		slab[i].flags = lazy ? PG_slab_fresh : PG_slab_tail;
		slab[i].freelist = 0; /* slab_fresh_page(): none until slab_extend() */
		slab[i].private = cache;
		slab[i].lru.next = (struct kmm_list *)slab;
	}
	if (slab_secure) {
		new_slab_secure(cache, slab);
	} else {
		for (unsigned int i = 0; i < cache->objects && cache->ctor; i++)
			cache->ctor(slab_object(cache, slab, i));
		if (kmm_vg())
			kmm_vg_noaccess(slab_address(slab), PAGE_SIZE << cache->order);
		if (lazy)
			slab_extend(cache, slab, 0);
		else
			link_objects(cache, slab, 0, cache->objects);
	}
	__atomic_fetch_add(&cache->stat[SLAB_STAT_NEW_SLAB], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&slab_clock, 1UL << cache->order, __ATOMIC_RELAXED);
	return slab;
}

static void discard_slab(struct kmm_cache *cache, struct kmm_page *slab)
{
	if (slab_secure && !secure_discard_slab(cache, slab))
		return;
	for (unsigned long i = 1; i < (1UL << cache->order); i++) {
		slab[i].flags = 0;
		slab[i].freelist = 0; /* slab_fresh_page() */
		slab[i].private = NULL;
		slab[i].lru.next = NULL;
	}
	slab->flags = PG_head;
	slab->private = NULL;
	free_pages_fast(page_zone(slab), slab, cache->order);
	__atomic_fetch_add(&cache->stat[SLAB_STAT_FREE_SLAB], 1, __ATOMIC_RELAXED);
}

/*
 * Take up to @want objects from @slab, checking each link against the slab's
 * object count.  Context: its node's list_lock.
 */
static unsigned int take_objects(struct kmm_cache *cache, struct kmm_cache_node *n,
				 struct kmm_page *slab, void **out, unsigned int want)
{
	char *addr = slab_address(slab); /* once: the stores below may alias the descriptor */
	unsigned int got = 0;

	if (slab->inuse == cache->reserved)
		n->nr_empty--;
	while (got < want) {
		void *obj;
		uint32_t next;

		if (slab->freelist == SLAB_FREELIST_END) {
			unsigned int fresh = slab_fresh_page(cache, slab);

			if (!fresh || !slab_extend(cache, slab, fresh))
				break;
		}
		obj = addr + (size_t)slab->freelist * cache->size;
		next = read_link(cache, obj);
		if (unlikely(next >= cache->objects && next != SLAB_FREELIST_END))
			slab_bad_link(cache, slab, obj, next);
		check_mark(cache, obj, "on its slab's free list");
		slab->freelist = (uint16_t)next;
		slab->inuse++;
		out[got++] = obj;
	}
	if (slab_full(cache, slab)) {
		list_del(&slab->lru);
		n->nr_partial--;
	}
	return got;
}

/*
 * Gather up to @want objects for node @nid: partial slabs first, then a new
 * slab.  Return: how many (0 when no memory is left).
 */
static unsigned int refill_objects(struct kmm_cache *cache, int nid, void **out, unsigned int want)
{
	struct kmm_cache_node *n = &cache->node[nid];
	struct kmm_page *slab;
	unsigned int got = 0;

	kmm_lock(&n->list_lock);
	while (got < want && !list_empty(&n->partial)) {
		slab = list_first_entry(&n->partial, struct kmm_page, lru);
		got += take_objects(cache, n, slab, out + got, want - got);
	}
	kmm_unlock(&n->list_lock);
	if (got)
		return got;

	slab = new_slab(cache, nid);
	if (!slab)
		return 0;
	nid = page_zone(slab)->node; /* a remote node when the local one is full */
	n = &cache->node[nid];
	kmm_lock(&n->list_lock);
	n->nr_slabs++;
	list_add(&slab->lru, &n->partial);
	n->nr_partial++;
	n->nr_empty++;
	got = take_objects(cache, n, slab, out, want);
	kmm_unlock(&n->list_lock);
	return got;
}

/* Return @count objects to their slabs; release empty slabs beyond the reserve. */
static void flush_objects(struct kmm_cache *cache, void *const *objs, unsigned int count)
{
	struct kmm_page *discard[SLAB_BATCH_MAX], *slab = NULL;
	struct kmm_cache_node *n = NULL;
	uintptr_t base = 0;
	unsigned int nr_discard = 0;

	for (unsigned int i = 0; i < count; i++) {
		/*
		 * Objects freed together often share a slab (a slab is a buddy
		 * block, aligned to its size): the descriptor and node lookups
		 * only when the slab changes.
		 */
		if (((uintptr_t)objs[i] & ~cache->slab_mask) != base) {
			struct kmm_cache_node *sn;

			slab = obj_to_slab(objs[i]);
			base = (uintptr_t)objs[i] & ~cache->slab_mask;
			sn = &cache->node[page_zone(slab)->node];
			if (sn != n) {
				if (n)
					kmm_unlock(&n->list_lock);
				n = sn;
				kmm_lock(&n->list_lock);
			}
		}
		if (slab_full(cache, slab)) {
			list_add_tail(&slab->lru, &n->partial);
			n->nr_partial++;
		}
		check_mark(cache, objs[i], "on a per-CPU stack");
		write_link(cache, objs[i], slab->freelist);
		slab->freelist = (uint16_t)slab_index(cache, objs[i]);
		if (--slab->inuse == cache->reserved) {
			if (n->nr_empty >= cache->min_partial && nr_discard < SLAB_BATCH_MAX) {
				list_del(&slab->lru);
				n->nr_partial--;
				n->nr_slabs--;
				discard[nr_discard++] = slab;
			} else {
				n->nr_empty++;
			}
		}
	}
	if (n)
		kmm_unlock(&n->list_lock);
	for (unsigned int i = 0; i < nr_discard; i++)
		discard_slab(cache, discard[i]);
}

/*
 * The depot (depot.h).  A magazine is an object of magazine_cache taken from
 * and given back to its slabs directly (never through a per-CPU stack, so
 * the depot never recurses); under memcheck it is addressable only while in
 * use.
 */
static struct slab_magazine *magazine_alloc(int nid)
{
	void *obj;

	if (!refill_objects(magazine_cache, nid, &obj, 1))
		return NULL;
	if (kmm_vg())
		kmm_vg_undefined(obj, sizeof(struct slab_magazine));
	return obj;
}

static void magazine_free(struct slab_magazine *mag)
{
	*obj_mark(magazine_cache, mag) = slab_free_mark(mag); /* the depot wrote over it */
	if (kmm_vg())
		kmm_vg_noaccess(mag, sizeof(*mag));
	flush_objects(magazine_cache, (void *const *)&mag, 1);
}

/*
 * Pop a magazine from @stack, whose pops @lock excludes; NULL when it is
 * empty or another thread is popping (the caller then goes to the slabs or
 * makes a magazine: it never waits).
 */
static struct slab_magazine *depot_pop(struct __cds_lfs_stack *stack, struct kmm_lock *lock,
				       unsigned int *nr)
{
	struct cds_lfs_node *node;

	if (cds_lfs_empty(stack) || !kmm_trylock(lock))
		return NULL;
	node = __cds_lfs_pop(stack);
	kmm_unlock(lock);
	if (!node)
		return NULL;
	uatomic_dec(nr);
	return caa_container_of(node, struct slab_magazine, link);
}

/* Push @mag on @stack unless it holds @max already.  Return: pushed. */
static bool depot_push(struct __cds_lfs_stack *stack, unsigned int *nr, unsigned int max,
		       struct slab_magazine *mag)
{
	if (uatomic_read(nr) >= max)
		return false;
	if (uatomic_add_return(nr, 1) > max) {
		uatomic_dec(nr);
		return false;
	}
	cds_lfs_push(stack, &mag->link);
	return true;
}

static void depot_put_empty(struct slab_depot *d, struct slab_magazine *mag)
{
	if (!depot_push(&d->empty, &d->nr_empty, SLAB_DEPOT_EMPTY_MAX, mag))
		magazine_free(mag);
}

/*
 * A batch of @count objects of @cache leaves a full stack: into a magazine
 * on the depot of its node.  Return: false when the depot is full or no
 * magazine could be had; the batch is still the caller's.
 */
static bool depot_put_batch(struct kmm_cache *cache, void *const *objs, unsigned int count)
{
	int nid = addr_to_nid((uintptr_t)objs[0]);
	struct slab_depot *d = &cache->node[nid].depot;
	unsigned long bytes = (unsigned long)count * cache->size;
	struct slab_magazine *mag;

	if (!cache->depot_max || kmm_single_threaded() || /* nothing to hand over */
	    uatomic_read(&d->nr_full) >= cache->depot_max ||
	    uatomic_read(&depot_parked) + bytes > SLAB_DEPOT_BUDGET)
		return false;
	mag = depot_pop(&d->empty, &d->empty_pop, &d->nr_empty);
	if (!mag)
		mag = magazine_alloc(nid);
	if (!mag)
		return false;
	memcpy(mag->objs, objs, count * sizeof(*objs));
	mag->count = count;
	if (uatomic_add_return(&depot_parked, bytes) > SLAB_DEPOT_BUDGET ||
	    !depot_push(&d->full, &d->nr_full, cache->depot_max, mag)) {
		uatomic_sub(&depot_parked, bytes);
		depot_put_empty(d, mag);
		return false;
	}
	__atomic_fetch_add(&cache->stat[SLAB_STAT_DEPOT_PUT], 1, __ATOMIC_RELAXED);
	return true;
}

/* A full magazine of node @nid's depot into @out.  Return: how many objects (0: none). */
static unsigned int depot_get_batch(struct kmm_cache *cache, int nid, void **out)
{
	struct slab_depot *d = &cache->node[nid].depot;
	struct slab_magazine *mag;
	unsigned int count;

	if (!cache->depot_max)
		return 0;
	mag = depot_pop(&d->full, &d->full_pop, &d->nr_full);
	if (!mag)
		return 0;
	count = mag->count;
	memcpy(out, mag->objs, count * sizeof(*out));
	uatomic_sub(&depot_parked, (unsigned long)count * cache->size);
	depot_put_empty(d, mag);
	__atomic_fetch_add(&cache->stat[SLAB_STAT_DEPOT_GET], 1, __ATOMIC_RELAXED);
	return count;
}

/*
 * Empty node @nid's depot of @cache: objects to their slabs, magazines to
 * theirs.  pop_all under the pop lock makes the magazines this thread's.
 */
static void depot_drain(struct kmm_cache *cache, int nid)
{
	struct slab_depot *d = &cache->node[nid].depot;
	struct cds_lfs_head *full, *empty;
	struct cds_lfs_node *node, *next;

	kmm_lock(&d->full_pop);
	full = __cds_lfs_pop_all(&d->full);
	kmm_unlock(&d->full_pop);
	kmm_lock(&d->empty_pop);
	empty = __cds_lfs_pop_all(&d->empty);
	kmm_unlock(&d->empty_pop);
	cds_lfs_for_each_safe(full, node, next)
	{
		struct slab_magazine *mag = caa_container_of(node, struct slab_magazine, link);

		uatomic_dec(&d->nr_full);
		uatomic_sub(&depot_parked, (unsigned long)mag->count * cache->size);
		flush_objects(cache, mag->objs, mag->count);
		magazine_free(mag);
	}
	cds_lfs_for_each_safe(empty, node, next)
	{
		uatomic_dec(&d->nr_empty);
		magazine_free(caa_container_of(node, struct slab_magazine, link));
	}
}

/* Free objects waiting in node @nid's depot of @cache (a view: it changes). */
static unsigned long depot_objects(struct kmm_cache *cache, int nid)
{
	struct slab_depot *d = &cache->node[nid].depot;
	struct cds_lfs_head *head;
	struct cds_lfs_node *node;
	unsigned long count = 0;

	/* Under the pop lock no magazine leaves: walking from the head is safe. */
	kmm_lock(&d->full_pop);
	head = CMM_LOAD_SHARED(d->full.head);
	cds_lfs_for_each(head, node) count +=
		caa_container_of(node, struct slab_magazine, link)->count;
	kmm_unlock(&d->full_pop);
	return count;
}

/*
 * Order a refill batch of small objects so that neighbours on the stack are
 * at least 128 bytes apart in memory (a stride of ceil(128 / size) through
 * the batch).  Threads that start on one CPU pop consecutive stack entries;
 * in slab order those share cache lines, and once the scheduler spreads the
 * threads, LIFO reuse keeps two CPUs writing one line (Hoard's cache-thrash
 * and cache-scratch, 4-5x slower).  Strided, consecutive pops never share a
 * line, nor an adjacent-line prefetch pair.
 */
static void spread_batch(const struct kmm_cache *cache, void **objs, unsigned int n)
{
	unsigned int stride = (128 + cache->size - 1) / cache->size, k = 0;
	void *tmp[SLAB_BATCH_MAX];

	if (stride <= 1 || n <= 2)
		return;
	for (unsigned int r = 0; r < stride; r++)
		for (unsigned int i = r; i < n; i += stride)
			tmp[k++] = objs[i];
	memcpy(objs, tmp, n * sizeof(*objs));
}

static int pick_node(int nid)
{
	bool interleaved;

	return nid == KMM_NUMA_NO_NODE || !node_online(nid) ? policy_node(&interleaved) : nid;
}

/*
 * Memcheck: @obj becomes a block of object_size bytes (defined if
 * constructed), its slack and metadata addressable; allocation then clears
 * the mark, which defines it.
 */
static __cold void vg_alloc(struct kmm_cache *cache, void *obj, kmm_gfp_t gfp)
{
	kmm_vg_malloclike(obj, cache->object_size, cache->ctor || (gfp & KMM_GFP_ZERO));
	kmm_vg_undefined((char *)obj + cache->object_size, cache->size - cache->object_size);
}

/* Memcheck: @obj is freed; the whole object becomes no-access. */
static __cold void vg_free(struct kmm_cache *cache, void *obj)
{
	kmm_vg_freelike(obj);
	kmm_vg_noaccess(obj, cache->size);
}

/*
 * The high this cache's stacks get now (stock_high()), and its batch with it:
 * only ever raised, by a refill or an overflow (racing raisers store the
 * same values).
 */
static unsigned int cache_stock(struct kmm_cache *cache)
{
	unsigned int high = READ_ONCE(cache->high), want;

	if (high < cache->cpu_high && (want = stock_high(cache)) > high) {
		WRITE_ONCE(cache->batch, batch_of(want));
		WRITE_ONCE(cache->high, want);
		high = want;
	}
	return high;
}

/*
 * This CPU's stack of @cache, without its high (zero, as mapped) or with a
 * lower one than the heap now gives (cache_stock()): give it.  The cache is
 * marked first, so that drains and the exit check, under slab_mutex which
 * the growth needs too, skip the stacks of caches never used without
 * reading them (a read faults a stack's page in, as the zero page: 10
 * faults at every program's exit).
 */
static bool slab_stack_activate(struct kmm_cache *cache)
{
	if (!__atomic_load_n(&cache->stacks_used, __ATOMIC_RELAXED))
		__atomic_store_n(&cache->stacks_used, true, __ATOMIC_SEQ_CST);
	return percpu_stack_grow(slab_stacks(cache), cache_stock(cache), &slab_mutex);
}

/* Whether any stack of @cache may hold objects.  Context: slab_mutex. */
static bool stacks_used(const struct kmm_cache *cache)
{
	return __atomic_load_n(&cache->stacks_used, __ATOMIC_RELAXED);
}

static void slab_reap(void);
static void reap_refault(struct kmm_cache *cache, unsigned long now);

/* A refill or flush of @cache: it is in use (slab_reap()); time for a reap? */
static inline void cache_used(struct kmm_cache *cache)
{
	unsigned long now = __atomic_load_n(&slab_clock, __ATOMIC_RELAXED);
	unsigned long used = READ_ONCE(cache->last_used);

	if (unlikely(READ_ONCE(cache->last_reaped) > used))
		reap_refault(cache, now);
	if (used != now)
		WRITE_ONCE(cache->last_used, now);
	if (unlikely(now >= READ_ONCE(reap_next)))
		slab_reap();
}

/*
 * The first refills of a cache from its slabs take a page's worth of objects
 * (two at least: one for the caller and one on the stack, whose mark catches
 * an overflow of the first), each one twice the one before, up to the batch:
 * a class a program uses a few times writes one page of its slab
 * (slab_extend()), not a whole batch of objects (up to 64 KiB) that would
 * then sit on a per-CPU stack.  A handful of refills more per class, once.
 */
static unsigned int refill_ramp(struct kmm_cache *cache)
{
	unsigned int n = READ_ONCE(cache->ramp);

	if (n < cache->batch)
		WRITE_ONCE(cache->ramp, MIN(cache->batch, 2 * n));
	return n;
}

/*
 * Stack empty (@want a batch), contended or a chosen node (@want 1): objects
 * from the slabs, one for the caller and the rest pushed; what does not fit
 * (the thread migrated to a full or stopped stack) goes back.
 */
static __noinline void *cache_refill(struct kmm_cache *cache, int nid, unsigned int want)
{
	bool any_node = nid == KMM_NUMA_NO_NODE;
	void *objs[SLAB_BATCH_MAX];
	unsigned int got = 0;
	int pushed = 0;

	nid = pick_node(nid); /* once: under interleave each call moves to the next node */
	/* An empty stack takes a whole batch from the depot first. */
	if (want == cache->batch && any_node)
		got = depot_get_batch(cache, nid, objs);
	if (!got) {
		got = refill_objects(cache, nid, objs,
				     want == cache->batch ? refill_ramp(cache) : want);
		if (!got)
			return NULL;
		spread_batch(cache, objs, got);
	}
	if (got > 1) {
		slab_stack_activate(cache);
		pushed = percpu_stack_push_bulk(slab_stacks(cache), objs + 1, got - 1);
	}
	if (pushed < 0)
		pushed = 0;
	if (1 + (unsigned int)pushed < got)
		flush_objects(cache, objs + 1 + pushed, got - 1 - (unsigned int)pushed);
	__atomic_fetch_add(&cache->stat[SLAB_STAT_REFILL], 1, __ATOMIC_RELAXED);
	cache_used(cache);
	return objs[0];
}

void *cache_alloc_slow(struct kmm_cache *cache, kmm_gfp_t gfp, int nid)
{
	void *obj = NULL;
	int ret = -1;

	if (nid == KMM_NUMA_NO_NODE)
		ret = percpu_stack_pop(slab_stacks(cache), &obj);
	if (ret > 0)
		check_mark(cache, obj, "on a per-CPU stack");
	if (ret <= 0) {
		obj = cache_refill(cache, nid, ret == 0 ? cache->batch : 1);
		if (!obj)
			return NULL;
	}
	if (kmm_vg())
		vg_alloc(cache, obj, gfp);
	if (slab_secure)
		secure_alloc(cache, obj);
	*obj_mark(cache, obj) = 0;
	if (gfp & KMM_GFP_ZERO)
		memset(obj, 0, cache->object_size);
	return obj;
}

/* Stack full (or stopped): a batch back to the slabs, then push again. */
static __noinline void cache_overflow(struct kmm_cache *cache, void *obj)
{
	struct percpu_stack_ptr stacks = slab_stacks(cache);
	void *objs[SLAB_BATCH_MAX];
	int n;

	if (slab_stack_activate(cache) && percpu_stack_push(stacks, obj) == 0)
		return;
	n = percpu_stack_pop_bulk(stacks, objs, cache->batch);
	/* To the depot as one batch, for another CPU's refill; else to the slabs. */
	if (n > 0 && !depot_put_batch(cache, objs, (unsigned int)n))
		flush_objects(cache, objs, (unsigned int)n);
	__atomic_fetch_add(&cache->stat[SLAB_STAT_FLUSH], 1, __ATOMIC_RELAXED);
	if (n < 0 || percpu_stack_push(stacks, obj) != 0)
		flush_objects(cache, &obj, 1);
	cache_used(cache);
}

void cache_free_slow(struct kmm_cache *cache, void *obj)
{
	/*
	 * Marked by every free before here but KMM_TRACK's, which skips the
	 * hit path's (malloc.c): KMM_SECURE's quarantine checks it on reuse.
	 */
	*obj_mark(cache, obj) = slab_free_mark(obj);
	if (slab_secure && secure_free(cache, obj))
		return;
	__cache_free_slow(cache, obj);
}

void __cache_free_slow(struct kmm_cache *cache, void *obj)
{
	int ret;

	if (kmm_vg())
		vg_free(cache, obj);
	/* Another node's object goes straight back to its slab, on its node. */
	if (unlikely(kmm_numa_remote_free) && addr_to_nid((uintptr_t)obj) != slab_home_node()) {
		__atomic_fetch_add(&cache->stat[SLAB_STAT_REMOTE_FREE], 1, __ATOMIC_RELAXED);
		flush_objects(cache, &obj, 1);
		return;
	}
	ret = percpu_stack_push(slab_stacks(cache), obj);
	if (ret > 0)
		cache_overflow(cache, obj);
	else if (ret < 0) /* contended (or rseq unusable on this thread) */
		flush_objects(cache, &obj, 1);
}

/*
 * The object a realloc moved away from goes back to its slab, under the
 * per-CPU stack's objects: the next allocation of its class is not handed
 * the block a stale pointer still points to, and a write through that
 * pointer is caught by the mark check when a refill takes it again.  Not
 * for KMM_SECURE (its quarantine) or memcheck: the malloc layer frees those
 * the usual way.
 */
void cache_free_cold(struct kmm_cache *cache, void *obj)
{
	*obj_mark(cache, obj) = slab_free_mark(obj);
	flush_objects(cache, &obj, 1);
}

/*
 * Empty @cpu's stack of @cache into the slabs (stop, fence, flush, restart).
 * Context: slab_mutex (fork() counts on it: see slab_fork_cpu()).
 */
static void drain_cpu(struct kmm_cache *cache, int cpu)
{
	struct percpu_stack *stack = cache_cpu(cache, cpu);
	unsigned int count;

	KMM_BUG_ON(!kmm_lock_held(&slab_mutex));
	/* Never used (exact: slab_mutex keeps drains out): its lock would make it resident. */
	if (!stacks_used(cache) || !percpu_stack_used(stack))
		return;
	percpu_stack_stop(&stack, 1, cpu);
	count = percpu_stack_take_all(stack);
	if (count)
		flush_objects(cache, stack->slot, count);
	percpu_stack_restart(&stack, 1);
}

/* Give the empty slabs kept in reserve back to the page allocator. */
static void release_empty_slabs(struct kmm_cache *cache)
{
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		struct kmm_cache_node *n = &cache->node[nid];
		struct kmm_list *pos, *next;

		kmm_lock(&n->list_lock);
		for (pos = n->partial.next; pos != &n->partial && n->nr_empty; pos = next) {
			struct kmm_page *slab = list_entry(pos, struct kmm_page, lru);

			next = pos->next;
			if (slab->inuse != cache->reserved)
				continue;
			list_del(&slab->lru);
			n->nr_partial--;
			n->nr_slabs--;
			n->nr_empty--;
			kmm_unlock(&n->list_lock);
			discard_slab(cache, slab);
			kmm_lock(&n->list_lock);
			next = n->partial.next; /* the list may have changed */
		}
		kmm_unlock(&n->list_lock);
	}
}

/*
 * The depots' objects back to their slabs, then the empty slabs to the pages:
 * what cache_shrink() and slab_reap() both give back.  Context: slab_mutex.
 */
static void release_reserve(struct kmm_cache *cache)
{
	for (int nid = 0; nid < kmm_nr_node_ids && cache->depot_max; nid++)
		depot_drain(cache, nid);
	release_empty_slabs(cache);
}

/* Context: slab_mutex. */
static void cache_shrink_locked(struct kmm_cache *cache)
{
	if (slab_secure)
		secure_drain(cache);
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		drain_cpu(cache, cpu);
	release_reserve(cache);
	/* The drained magazines leave empty slabs in their own cache. */
	if (cache->depot_max)
		release_empty_slabs(magazine_cache);
}

void cache_shrink(struct kmm_cache *cache)
{
	kmm_lock(&slab_mutex);
	cache_shrink_locked(cache);
	kmm_unlock(&slab_mutex);
}

/* The reap interval now: 128 KiB of new slabs, or 1/64 of the arenas. */
static unsigned long reap_interval(void)
{
	return MAX(SLAB_REAP_INTERVAL, READ_ONCE(kmm_arena.committed_pages) / 64);
}

/* How long @cache must stay idle before a reap: two intervals, or what it learned. */
static unsigned long reap_age(const struct kmm_cache *cache, unsigned long interval)
{
	return MAX(2 * interval, READ_ONCE(cache->reap_age));
}

/*
 * The first use of @cache since a reap: a refault, as the kernel's working
 * set detection calls a page faulted back soon after its eviction.  Used
 * again within twice the age it was reaped at, the cache is part of the
 * program's working set, reaped only to be rebuilt (each string of a builder
 * passing through every class), and its rebuilt slabs would drive the clock
 * on to the next reap: its age doubles.  Used again later, the reap paid off
 * and the age halves back towards the default.  Unlocked: a race costs one
 * doubling or halving.
 */
static void reap_refault(struct kmm_cache *cache, unsigned long now)
{
	unsigned long age = reap_age(cache, reap_interval());

	if (now - READ_ONCE(cache->last_reaped) < 2 * age)
		WRITE_ONCE(cache->reap_age, MIN(2 * age, 1UL << 30));
	else
		WRITE_ONCE(cache->reap_age, age / 2);
}

/*
 * The reap: what an idle cache keeps goes back (see slab_clock).  Only this
 * CPU's stacks: another CPU's would need a fence each, and a single-threaded
 * program, whose stocks are what this is for, keeps them on the CPU it runs
 * on.  Skipped when another thread holds slab_mutex: the next refill tries.
 */
static void slab_reap(void)
{
	unsigned long now = __atomic_load_n(&slab_clock, __ATOMIC_RELAXED);
	unsigned long interval = reap_interval();
	void *objs[SLAB_BATCH_MAX];
	struct kmm_list *pos;

	if (!kmm_trylock(&slab_mutex))
		return;
	WRITE_ONCE(reap_next, now + interval);
	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);
		unsigned long used = READ_ONCE(cache->last_used);
		struct percpu_stack *stack;
		int n;

		if (!used || cache->last_reaped > used || now - used < reap_age(cache, interval))
			continue;
		/* A stack this CPU never used stays unread: the locked backend would write it. */
		stack = stacks_used(cache) ? cache_cpu(cache, percpu_this_cpu(kmm_nr_cpu_ids))
					   : NULL;
		for (int i = 0; i < 4 && stack && percpu_stack_used(stack); i++) {
			n = percpu_stack_pop_bulk(slab_stacks(cache), objs, SLAB_BATCH_MAX);
			if (n <= 0)
				break;
			flush_objects(cache, objs, (unsigned int)n);
		}
		release_reserve(cache);
		WRITE_ONCE(cache->last_reaped, now); /* cache_used() reads it unlocked */
		__atomic_fetch_add(&cache->stat[SLAB_STAT_REAP], 1, __ATOMIC_RELAXED);
	}
	/* The drained magazines leave empty slabs in their own cache. */
	release_empty_slabs(magazine_cache);
	kmm_unlock(&slab_mutex);
}

void slab_shrink_all(void)
{
	struct kmm_list *pos;

	if (slab_secure) /* the page runs in quarantine too */
		secure_drain(NULL);
	kmalloc_release_held();
	kmm_lock(&slab_mutex);
	list_for_each (pos, &slab_caches)
		cache_shrink_locked(list_entry(pos, struct kmm_cache, list));
	kmm_unlock(&slab_mutex);
}

/* The objects on @n stacks must carry their marks. */
static void check_stacks(struct kmm_cache *const *caches, struct percpu_stack *const *stacks,
			 unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < stacks[k]->count; i++)
			check_mark(caches[k], stacks[k]->slot[i],
				   "on a per-CPU stack, found at exit");
}

/*
 * At exit: the objects still on the per-CPU stacks must carry their marks (a
 * write after free that no later allocation or flush saw).  Up to 126
 * objects per cache and CPU, one load each.  A process that has had a second
 * thread stops each CPU's stacks while it reads them (up to 32 caches a
 * fence); skipped if another thread holds slab_mutex (exit from a signal
 * handler).
 */
#define EXIT_CHUNK 32

static __attribute__((destructor)) void slab_exit_check(void)
{
	bool alone = kmm_single_threaded();
	struct percpu_stack *stacks[EXIT_CHUNK];
	struct kmm_cache *caches[EXIT_CHUNK];
	struct kmm_list *pos;

	if (!kmm_is_up() || slab_secure || kmm_vg() || kmm_lock_any_held() ||
	    !kmm_trylock(&slab_mutex))
		return;
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
		unsigned int n = 0;

		list_for_each (pos, &slab_caches) {
			caches[n] = list_entry(pos, struct kmm_cache, list);
			stacks[n] = cache_cpu(caches[n], cpu);
			if (stacks_used(caches[n]) && percpu_stack_used(stacks[n]))
				n++;
			if ((n < EXIT_CHUNK && pos->next != &slab_caches) || !n)
				continue;
			if (!alone)
				percpu_stack_stop(stacks, n, cpu);
			check_stacks(caches, stacks, n);
			if (!alone)
				percpu_stack_restart(stacks, n);
			n = 0;
		}
	}
	kmm_unlock(&slab_mutex);
}

unsigned long cache_active_objects(struct kmm_cache *cache)
{
	unsigned long active = 0;

	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		struct kmm_cache_node *n = &cache->node[nid];
		struct kmm_list *pos;

		kmm_lock(&n->list_lock);
		/* Full slabs are on no list: count them from the totals. */
		active += n->nr_slabs * cache->objects;
		list_for_each (pos, &n->partial) {
			struct kmm_page *slab = list_entry(pos, struct kmm_page, lru);

			active -= cache->objects - slab->inuse;
		}
		active -= n->nr_slabs * cache->reserved;
		kmm_unlock(&n->list_lock);
		if (cache->depot_max)
			active -= depot_objects(cache, nid);
	}
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		active -= percpu_stack_count(cache_cpu(cache, cpu));
	return active;
}

/*
 * How long kmm_cache_destroy() waits, in KMM_SECURE=1, for objects another
 * thread took off a quarantine ring to reach their cache (secure.c releases
 * a block outside the ring's lock or restartable sequence, where no drain
 * sees it: microseconds, or a time slice if that thread is preempted).
 */
#define DESTROY_WAIT_MS 2000

void cache_destroy(struct kmm_cache *cache)
{
	struct timespec pause = { 0, 1000 * 1000 };
	uint64_t start = kmm_now_ms();
	unsigned long live;

	for (;;) {
		kmm_lock(&slab_mutex);
		cache_shrink_locked(cache);
		live = cache_active_objects(cache);
		if (!live || !slab_secure || kmm_now_ms() - start >= DESTROY_WAIT_MS)
			break;
		kmm_unlock(&slab_mutex);
		nanosleep(&pause, NULL);
	}
	if (live)
		kmm_panic("kmm_cache_destroy(%s): %lu objects are still allocated", cache->name,
			  live);
	list_del(&cache->list);
	kmm_unlock(&slab_mutex);
	cache_mem_free(cache); /* and its per-CPU stacks */
}

/*
 * fork() (src/init.c lists every lock in order): slab_mutex, then every
 * cache's per-CPU stack locks, then every cache's node list_locks.  The
 * stack and list steps run under slab_mutex, so the cache list holds still.
 * With rseq, a stack lock is taken only by drain_cpu(), the exit check and
 * a stack's first use (slab_stack_activate()), always under slab_mutex
 * (the last with a trylock): holding that, fork() leaves the stack locks alone (a page
 * fault per cache and CPU spared in the parent and the child); without rseq
 * every operation takes them, and so does fork().
 */
static bool slab_fork_cpu_locked; /* this fork took the stack locks */

void slab_fork_mutex(enum kmm_fork_op op)
{
	kmm_lock_fork(&slab_mutex, op);
}

void slab_fork_cpu(enum kmm_fork_op op)
{
	struct kmm_list *pos;

	if (op == FORK_LOCK)
		slab_fork_cpu_locked = !kmm_rseq_usable;
	if (!slab_fork_cpu_locked)
		return;
	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);

		for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
			kmm_lock_fork(&cache_cpu(cache, cpu)->lock, op);
	}
}

void slab_fork_depot(enum kmm_fork_op op)
{
	struct kmm_list *pos;

	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);

		for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
			kmm_lock_fork(&cache->node[nid].depot.full_pop, op);
			kmm_lock_fork(&cache->node[nid].depot.empty_pop, op);
		}
	}
}

void slab_fork_node(enum kmm_fork_op op)
{
	struct kmm_list *pos;

	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);

		for (int nid = 0; nid < kmm_nr_node_ids; nid++)
			kmm_lock_fork(&cache->node[nid].list_lock, op);
	}
}

/*
 * The secrets of the marks and links: 16 bytes from getrandom() (the raw
 * syscall, non-blocking).  Not AT_RANDOM's first 8 bytes: glibc's stack
 * canary is made of them, and a mark read after free would reveal it.  If
 * getrandom fails (an old kernel, a seccomp filter, no entropy yet):
 * AT_RANDOM's other 8 bytes mixed with addresses and the time.  A fork child
 * inherits them: objects marked before fork() stay recognised.  errno is
 * kept (start-up may run inside a successful malloc).
 */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static void init_secrets(void)
{
	uint64_t rnd[2] = { 0, 0 };
	int saved_errno = errno;

	if (syscall(SYS_getrandom, rnd, sizeof(rnd), 1 /* GRND_NONBLOCK */) != sizeof(rnd)) {
		const char *at = (const char *)getauxval(AT_RANDOM); /* 16 bytes */
		struct timespec ts = { 0, 0 };
		uint64_t seed = 0x9e3779b97f4a7c15ULL;

		if (at)
			memcpy(&seed, at + 8, sizeof(seed));
		kmm_clock_gettime(CLOCK_MONOTONIC, &ts);
		seed ^= (uintptr_t)&rnd ^ (uintptr_t)at ^ (uintptr_t)&slab_secret;
		rnd[0] = mix64(seed ^ (uint64_t)ts.tv_nsec);
		rnd[1] = mix64(rnd[0] ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid());
	}
	slab_secret = rnd[0] | 1;
	slab_link_secret = rnd[1];
	errno = saved_errno;
}

/*
 * @table[i], for i below @n, is the kmalloc class of i * @step bytes (of 1
 * byte for i = 0): one walk up the classes, where a search per entry was a
 * few thousand binary searches at every program's start.
 */
static void fill_class_table(struct kmm_cache **table, unsigned int n, unsigned int step)
{
	unsigned int idx = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t size = i ? (size_t)i * step : 1;

		while (kmalloc_size(idx) < size)
			idx++;
		table[i] = kmalloc_caches[idx];
	}
}

__init int kmem_cache_init(void)
{
	init_secrets();
	/* Memcheck tracks blocks itself: the secure layout would only confuse it. */
	slab_secure = kmm_config.secure && !kmm_vg();
	if (slab_secure && secure_init())
		return -ENOMEM;
	if (boot_area_init(NR_KMALLOC_CACHES + 1))
		return -ENOMEM;
	/* First: the caches created after it have depots. */
	magazine_cache = cache_create("kmm-magazine", sizeof(struct slab_magazine), 0, 0, NULL);
	if (!magazine_cache)
		return -ENOMEM;
	for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
		char name[32];

		unsigned int size = kmalloc_size(i);

		/* The kernel's names: kmalloc-96, kmalloc-1k, kmalloc-8k. */
		if (size % 1024)
			kmm_snprintf(name, sizeof(name), "kmalloc-%u", size);
		else
			kmm_snprintf(name, sizeof(name), "kmalloc-%uk", size / 1024);
		kmalloc_caches[i] = cache_create(name, kmalloc_size(i), 0, 0, NULL);
		if (!kmalloc_caches[i])
			return -ENOMEM;
		/* kmalloc_alloc_fast() clears the mark at a fixed offset. */
		KMM_BUG_ON(kmalloc_caches[i]->meta != 0 && !slab_secure);
	}
	boot.heads = NULL; /* later caches have runs of their own */
	fill_class_table(kmalloc_table, ARRAY_SIZE(kmalloc_table), 16);
	fill_class_table(kmalloc_class_table, ARRAY_SIZE(kmalloc_class_table), 16);
	for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++)
		kmalloc_caches[i]->kclass = kmalloc_caches[i];
	fill_class_table(kmalloc_table_large, ARRAY_SIZE(kmalloc_table_large), 128);
	for (unsigned int i = 0; i < ARRAY_SIZE(kmalloc_fast_table); i++)
		kmalloc_fast_table[i] = kmalloc_slab(i)->cpu;
	return 0;
}
