/* SPDX-License-Identifier: MIT */
/*
 * slab/slab.h - object caches (SLUB with per-CPU object stacks, the kernel's
 * 6.18 "sheaves"), internal interface.  See slub.c for the theory of operation.
 */
#ifndef KMM_SLAB_SLAB_H
#define KMM_SLAB_SLAB_H

#include <kmm/slab.h>

#include "../lib/percpu_stack.h"
#include "../page/internal.h"
#include "depot.h"

#define SLAB_FREELIST_END 0xffff
#define SLAB_MAX_ORDER 5 /* 128 KiB slabs at most */

/*
 * union slab_cpu - one cache's stack of free objects on one CPU
 * (lib/percpu_stack.h): 1 KiB, 126 slots.  A power of two: the hit paths
 * find CPU c's stack with a shift by SLAB_CPU_SHIFT.
 */
#define SLAB_CPU_SHIFT 10
union slab_cpu {
	struct percpu_stack stack;
	char bytes[1 << SLAB_CPU_SHIFT];
};

#define SLAB_CPU_SLOTS PERCPU_STACK_SLOTS(sizeof(union slab_cpu))
_Static_assert(SLAB_CPU_SLOTS == 126, "a slab_cpu holds 126 objects");
_Static_assert(sizeof(union slab_cpu) == 1u << SLAB_CPU_SHIFT, "the stride is a shift");

/* struct kmm_cache_node - a cache's slabs on one node (the kernel's kmem_cache_node). */
struct kmm_cache_node {
	struct kmm_lock list_lock;
	struct kmm_list partial; /* slabs with free objects, empty ones included */
	unsigned long nr_partial;
	unsigned long nr_slabs;	 /* all slabs of the cache on this node */
	unsigned long nr_empty;	 /* empty slabs kept on @partial (<= min_partial) */
	struct slab_depot depot; /* full batches between CPUs (depot.h), its own line */
} ____cacheline_aligned;

enum slab_stat {
	SLAB_STAT_REFILL,      /* per-CPU stack refilled from slabs */
	SLAB_STAT_FLUSH,       /* per-CPU stack flushed to slabs */
	SLAB_STAT_NEW_SLAB,    /* slabs taken from the page allocator */
	SLAB_STAT_FREE_SLAB,   /* slabs given back */
	SLAB_STAT_REMOTE_FREE, /* objects freed from another node, straight to their slab */
	SLAB_STAT_DEPOT_PUT,   /* per-CPU stack overflow handed to the depot as a batch */
	SLAB_STAT_DEPOT_GET,   /* per-CPU stack refilled with a batch from the depot */
	SLAB_STAT_REAP,	       /* stocks given back by slab_reap(), the cache idle */
	NR_SLAB_STATS
};

struct kmm_cache {
	/* Read on every allocation and free. */
	union slab_cpu *cpu;	 /* [kmm_nr_cpu_ids] */
	unsigned long slab_mask; /* (PAGE_SIZE << order) - 1: an address's offset in its slab */
	unsigned int size;	 /* object stride */
	unsigned int order;	 /* slab order */
	uint64_t div_magic;	 /* off % size == 0  <=>  off * div_magic < div_magic */
	uint64_t div_limit;	 /* an object starts at off  <=>  off * div_magic < div_limit */
	unsigned int meta;	 /* offset of a free object's link and mark (see below) */
	/* kmalloc: the class whose sizes it serves (itself, or the one a learned cache sits in) */
	struct kmm_cache *kclass;

	/* Slow paths. */
	unsigned int object_size; /* as asked */
	unsigned int align;
	unsigned int objects;  /* per slab */
	unsigned int used;     /* objects * size: the tail slack starts there */
	unsigned int batch;    /* objects moved per refill or flush: half of high */
	unsigned int high;     /* a per-CPU stack's capacity now, scaled to the heap */
	unsigned int ramp;     /* objects the next refill from the slabs takes, up to batch */
	unsigned int cpu_high; /* the most high grows to */
	bool stacks_used;      /* some CPU's stack was given its capacity (slab_stack_activate()) */
	unsigned long last_used;   /* slab_clock at its last refill or flush (slab_reap()) */
	unsigned long last_reaped; /* slab_clock when slab_reap() last emptied it */
	unsigned long reap_age;	   /* idle pages before a reap, learned from refaults; 0: default */
	unsigned int min_partial;
	unsigned int depot_max;	   /* full batches a node's depot holds; 0: no depot */
	unsigned int redzone;	   /* KMM_SECURE: offset of the tag and canary (secure.c) */
	unsigned int reserved;	   /* KMM_SECURE: slots never handed out (slot 0) */
	unsigned int vote_size[2]; /* kmalloc: the sizes most asked for at refills ... */
	int votes[2];		   /* ... and their counts (kmalloc_learn()) */
	unsigned long flags;
	void (*ctor)(void *);
	struct kmm_list list; /* slab_caches */
	unsigned long stat[NR_SLAB_STATS];
	char name[32];
	struct kmm_cache_node node[]; /* [kmm_nr_node_ids] */
};

/*
 * Lock order: slab_mutex, then a cache's cpu locks, its depots' pop locks, its
 * node list_locks, then zones.
 */
extern struct kmm_lock slab_mutex;
extern struct kmm_list slab_caches;
extern uint64_t slab_secret __hidden;

/* Bring the slab allocator up (kmem_cache_init()).  Return: 0 or -ENOMEM. */
int kmem_cache_init(void);

struct kmm_cache *cache_create(const char *name, size_t size, size_t align, unsigned long flags,
			       void (*ctor)(void *));
/* ... with slab_mutex held, for a learned kmalloc class: slabs of learned_slab_order(). */
struct kmm_cache *cache_create_learned(const char *name, size_t size);
unsigned int learned_slab_order(unsigned int size);
void cache_destroy(struct kmm_cache *cache);
void *cache_alloc_slow(struct kmm_cache *cache, kmm_gfp_t gfp, int nid);
void cache_free_slow(struct kmm_cache *cache, void *obj);
/* Free @obj to its slab, past this CPU's stack (realloc's old block). */
void cache_free_cold(struct kmm_cache *cache, void *obj);
/* cache_free_slow() past the KMM_SECURE checks and quarantine. */
void __cache_free_slow(struct kmm_cache *cache, void *obj);
/* Give every object cached per CPU back to its slab, and empty slabs beyond the reserve. */
void cache_shrink(struct kmm_cache *cache);
void slab_shrink_all(void);
/* Objects handed out and not freed, over all slabs of @cache. */
unsigned long cache_active_objects(struct kmm_cache *cache);

/*
 * fork(): slab_mutex, every cache's stack locks, its depots' pop locks, every
 * cache's list_locks (src/init.c).
 */
void slab_fork_mutex(enum kmm_fork_op op);
void slab_fork_cpu(enum kmm_fork_op op);
void slab_fork_depot(enum kmm_fork_op op);
void slab_fork_node(enum kmm_fork_op op);

/*
 * The slab of a slab page (head or tail).  Every page of a slab has the cache
 * in @private, so free() finds it from any object's page in one load; a tail
 * keeps its head in lru.next (a tail is on no list).
 */
static inline struct kmm_page *slab_head(struct kmm_page *page)
{
	return (page->flags & PG_slab_tail) ? (struct kmm_page *)page->lru.next : page;
}

/*
 * A free object's metadata, 16 bytes at obj + cache->meta: the double-free
 * mark (u64 at +0): the object's address mixed with a per-process secret
 * (from getrandom, not the stack canary), written by a new slab and by free
 * and cleared by allocation; and the index of the next free object in its
 * slab (u32 at +8, XORed with a key derived from the secret and the object's
 * address, as the kernel's CONFIG_SLAB_FREELIST_HARDENED).  A free that finds
 * the mark is a double free or a free of a slot never handed out (a user
 * value matching it is a 2^-64 accident).  The mark is at +0, where a stale
 * pointer most often writes (a first field): a free object whose mark is no
 * longer its own was written after its free, and the slow paths check it
 * (check_mark() in slub.c).  meta is 0 (the metadata overlays the free
 * object) unless the cache has a constructor: then, as SLUB places its free
 * pointer, it lies past the object, which keeps its constructed state
 * between free and allocation.
 */
static inline uint64_t slab_free_mark(const void *obj)
{
	return (uintptr_t)obj ^ slab_secret;
}

#define SLAB_MARK_OFFSET 0 /* of the mark in the metadata */
#define SLAB_LINK_OFFSET 8 /* of the link */

static inline uint32_t *obj_link(const struct kmm_cache *cache, void *obj)
{
	return (uint32_t *)((char *)obj + cache->meta + SLAB_LINK_OFFSET);
}

static inline uint64_t *obj_mark(const struct kmm_cache *cache, void *obj)
{
	return (uint64_t *)((char *)obj + cache->meta + SLAB_MARK_OFFSET);
}

/* The per-CPU stacks of @cache. */
static __always_inline struct percpu_stack_ptr slab_stacks(const struct kmm_cache *cache)
{
	return (struct percpu_stack_ptr){ &cache->cpu[0].stack, (long)sizeof(union slab_cpu),
					  (unsigned int)kmm_nr_cpu_ids };
}

/*
 * The rseq pop and push of the stacks at *@cpu (a cache's cpu field, or a
 * kmalloc_fast_table[] entry), @ncpu CPUs, rseq area at @off.  Pop: the
 * object, NULL on a miss; push: 0 pushed, else the caller goes slow.
 */
static __always_inline void *slab_rseq_pop(long off, union slab_cpu *const *cpu,
					   const unsigned int *ncpu)
{
#if KMM_HAVE_RSEQ_ASM
	return rseq_list_pop_shift(off, (void *const *)cpu, SLAB_CPU_SHIFT, ncpu);
#else
	return NULL;
#endif
}

static __always_inline int slab_rseq_push(long off, union slab_cpu *const *cpu,
					  const unsigned int *ncpu, void *obj)
{
#if KMM_HAVE_RSEQ_ASM
	return rseq_list_push_shift(off, (void *const *)cpu, SLAB_CPU_SHIFT, ncpu, obj);
#else
	return -1;
#endif
}

/*
 * Pop an object from this CPU's stack of @cache; NULL on a miss, or while the
 * hit paths are closed (kmm_fast.malloc_limit 0: without rseq, and in every
 * mode that checks each call on the slow paths, lib/ready.h).
 */
static __always_inline void *slab_pop_fast(struct kmm_cache *cache)
{
	if (likely(kmm_fast.malloc_limit))
		return slab_rseq_pop(kmm_fast.rseq_offset, &cache->cpu, &kmm_fast.ncpu);
	return NULL;
}

/*
 * slab_alloc_fast() - pop an object from this CPU's stack of @cache and clear
 * its double-free mark, wherever the cache keeps it.
 * Budget: the rseq pop (13 instructions), a load of cache->meta (the line
 * the pop read cache->cpu from) and one store; NULL on a miss.
 */
static __always_inline void *slab_alloc_fast(struct kmm_cache *cache)
{
	void *obj = slab_pop_fast(cache);

	if (likely(obj))
		*obj_mark(cache, obj) = 0;
	return obj;
}

/*
 * kmalloc_alloc_fast() - slab_alloc_fast() for a kmalloc cache.  Those have
 * no constructor, so their metadata overlays the object (meta is 0, checked
 * by kmem_cache_init()) and the mark's offset is a constant: no load.
 * Budget: the rseq pop and one store; NULL on a miss.
 */
static __always_inline void *kmalloc_alloc_fast(struct kmm_cache *cache)
{
	void *obj = slab_pop_fast(cache);

	if (likely(obj))
		*(uint64_t *)((char *)obj + SLAB_MARK_OFFSET) = 0;
	return obj;
}

/*
 * slab_free_check() - the release-build checks of a free of @obj in slab
 * @page: the object starts on an object boundary, before the slab's tail
 * slack, and is not free (already freed, or never handed out).
 * Return: the cache.  Misuse is reported and aborts.
 */
void slab_bad_free(struct kmm_cache *cache, const void *obj, const char *why) __noreturn __cold;
void slab_bad_offset(struct kmm_cache *cache, const void *obj) __noreturn __cold;
void slab_bad_mark(struct kmm_cache *cache, void *obj, const char *where) __noreturn __cold;

/* The two checks of slab_free_check(), in a word: true if the free is valid. */
static __always_inline bool slab_free_valid(const struct kmm_cache *cache, void *obj)
{
	return ((uintptr_t)obj & cache->slab_mask) * cache->div_magic < cache->div_limit &&
	       *obj_mark(cache, obj) != slab_free_mark(obj);
}

static __always_inline struct kmm_cache *slab_free_check(struct kmm_page *page, void *obj)
{
	struct kmm_cache *cache = page->private;
	uint64_t off = (uintptr_t)obj & cache->slab_mask;

	if (unlikely(off * cache->div_magic >= cache->div_limit))
		slab_bad_offset(cache, obj);
	if (unlikely(*obj_mark(cache, obj) == slab_free_mark(obj)))
		slab_bad_free(cache, obj, "double free (or never allocated)");
	return cache;
}

/*
 * slab_free_fast() - mark @obj free and push it; false: the caller goes slow
 * (also for an object of another node than this thread's, on a NUMA machine:
 * this CPU's stack holds its own node's objects only).
 */
static __always_inline bool slab_free_fast(struct kmm_cache *cache, void *obj)
{
	*obj_mark(cache, obj) = slab_free_mark(obj);
	if (unlikely(kmm_numa_remote_free) && addr_to_nid((uintptr_t)obj) != slab_home_node())
		return false;
	if (likely(kmm_fast.malloc_limit)) /* the hit paths are open (slab_pop_fast()) */
		return slab_rseq_push(kmm_fast.rseq_offset, &cache->cpu, &kmm_fast.ncpu, obj) == 0;
	return false;
}

/*
 * slab_free_hit() - free()'s slab_free_fast(), for an object that
 * virt_to_page_fast() found: its readiness word says rseq is usable and no
 * NUMA check is needed (node 0's objects, and no remote-free rule).
 * Budget: the mark (a load of the secret, an xor, one store), a load of the
 * rseq offset and the rseq push (13 instructions); false: the caller goes slow.
 */
static __always_inline bool slab_free_hit(struct kmm_cache *cache, void *obj)
{
	*obj_mark(cache, obj) = slab_free_mark(obj);
	return slab_rseq_push(kmm_fast.rseq_offset, &cache->cpu, &kmm_fast.ncpu, obj) == 0;
}

/* kmalloc (kmalloc.c). */
#define KMALLOC_MIN_SIZE 16
#define KMALLOC_MAX_SIZE KMM_KMALLOC_MAX_CACHE_SIZE
#define NR_KMALLOC_CACHES 45
extern struct kmm_cache *kmalloc_caches[NR_KMALLOC_CACHES];

/*
 * kmalloc_index() - the class of @size (1..KMALLOC_MAX_SIZE), the smallest
 * that holds it (kmalloc.c lists the classes).  Not on the hit paths:
 * kmalloc_slab() and kmalloc_fast() read tables built from it.
 */
unsigned int kmalloc_index(size_t size);

/* The object size of class @idx. */
unsigned int kmalloc_size(unsigned int idx);

/*
 * kmalloc_slab() - the cache for @size (<= KMALLOC_MAX_SIZE), in one load
 * from a table (the kernel's size_index[], extended) in 16-byte steps.  The
 * class computation sits on malloc's critical path ahead of the rseq pop;
 * measured here, the clz formula cost ~5 ns of the ~8 ns pair, the table ~0.
 * Above 1 KiB, kmalloc_table_fine[] holds only the learned caches
 * (kmalloc_learn()), NULL where the class serves; kmalloc_class() is the
 * class, from a table that never changes (128-byte steps: every class there
 * is a multiple of 128).  Left NULL, the fine table (16 KiB) is no RSS in a
 * program that never gets a learned cache.  Up to 1 KiB, kmalloc_table[]
 * itself (and kmalloc_fast_table[]) point to a learned cache from when it is
 * made, and kmalloc_class() reads kmalloc_class_table[], its copy that never
 * changes (the sized-delete hit path: one load).
 */
#define KMALLOC_TABLE_MAX 1024
extern struct kmm_cache *kmalloc_table[KMALLOC_TABLE_MAX / 16 + 1] __hidden;
extern struct kmm_cache *kmalloc_class_table[KMALLOC_TABLE_MAX / 16 + 1] __hidden;
extern struct kmm_cache *kmalloc_table_fine[KMALLOC_MAX_SIZE / 16 + 1] __hidden;
extern struct kmm_cache *kmalloc_table_large[KMALLOC_MAX_SIZE / 128 + 1] __hidden;

static __always_inline struct kmm_cache *kmalloc_class(size_t size)
{
	if (likely(size <= KMALLOC_TABLE_MAX))
		return kmalloc_class_table[(size + 15) >> 4];
	return kmalloc_table_large[(size + 127) >> 7];
}

static __always_inline struct kmm_cache *kmalloc_slab(size_t size)
{
	struct kmm_cache *learned;

	if (likely(size <= KMALLOC_TABLE_MAX))
		return __atomic_load_n(&kmalloc_table[(size + 15) >> 4], __ATOMIC_ACQUIRE);
	learned = __atomic_load_n(&kmalloc_table_fine[(size + 15) >> 4], __ATOMIC_ACQUIRE);
	return learned ? learned : kmalloc_class(size);
}

/*
 * kmalloc_learn() - a refill of kmalloc cache @cache (a class above 1 KiB or
 * a cache learned in one) for @size: count the vote in its class, and once
 * one size leads by enough, give it a cache of its own.
 */
void kmalloc_learn(struct kmm_cache *cache, size_t size) __cold;

/*
 * kmalloc_fast() - malloc()'s hit path, for @size below KMALLOC_FAST_MAX + 1:
 * kmalloc_fast_table[] has, for every size in bytes, the per-CPU stacks of
 * its class (the index is the size itself, no arithmetic), and the bound is
 * kmm_fast.malloc_limit, 0 while the hit path must not run (lib/ready.h).
 * Budget: a compare with a load and its branch, a load of the rseq offset,
 * the table's address, the rseq pop (13 instructions, its add loads the table
 * entry) and one store: 19 instructions and a ret in the release build
 * (test/abi/hitpath.sh).  NULL: the caller goes slow.
 */
#define KMALLOC_FAST_MAX 1024
extern union slab_cpu *kmalloc_fast_table[KMALLOC_FAST_MAX + 1] __hidden;

static __always_inline void *kmalloc_fast(size_t size)
{
	void *obj = NULL;

	/* A plain load: the compare then takes it as its memory operand. */
	if (likely(size < kmm_fast.malloc_limit)) {
		obj = slab_rseq_pop(kmm_fast.rseq_offset, &kmalloc_fast_table[size],
				    &kmm_fast.ncpu);
		if (likely(obj))
			*(uint64_t *)((char *)obj + SLAB_MARK_OFFSET) = 0;
	}
	return obj;
}

/* Beyond the classes, page runs up to the largest buddy block (4 MiB). */
#define KMALLOC_LARGE_MAX (MAX_ORDER_NR_PAGES << PAGE_SHIFT)

/*
 * __kmalloc() - a slab object, or a page run above KMALLOC_MAX_SIZE or for an
 * alignment above 4 KiB.  Return: the block, or NULL (also for a size or an
 * alignment above KMALLOC_LARGE_MAX: larger blocks are the malloc layer's).
 */
void *__kmalloc(size_t size, kmm_gfp_t gfp, int nid, size_t align);
/* Free the block at @ptr, whose descriptor is @page (NULL: not libkmm's, which aborts). */
void __kfree(void *ptr, struct kmm_page *page);
/* The usable size of the block at @ptr (descriptor @page), or 0 if it is none. */
size_t __ksize(const void *ptr, struct kmm_page *page);
/* The block keeps @size (<= its usable size) bytes where it is: a page run gives its tail back. */
void kmalloc_shrink(struct kmm_page *page, size_t size);

/*
 * The page run freed last, held back (kmalloc.c): is @page it; give it back
 * now (Return: true if there was one).
 */
bool kmalloc_run_held(const struct kmm_page *page);
bool kmalloc_release_held(void);
/*
 * kmalloc_grow() - a page run grows to @size bytes where it is, over the free
 * pages that follow it, up to KMALLOC_LARGE_MAX.  Return: true if it now
 * holds @size bytes (also when it already did); false for a slab object.
 */
bool kmalloc_grow(struct kmm_page *page, size_t size);
/*
 * kmalloc_run_asked() - the bytes page run @page was asked for, in whole
 * pages (its block's tail past them was never zeroed by kzalloc()); 0 for a
 * slab object, or in KMM_SECURE=1, where the usable size is the size asked.
 */
size_t kmalloc_run_asked(const struct kmm_page *page);
/*
 * kmalloc_vg_copied() - memcheck: bytes were copied into kmalloc block @obj,
 * perhaps undefined ones over its free mark, which free() reads: define it.
 */
void kmalloc_vg_copied(void *obj);

/* Views. */
struct kmm_seq;
void show_slabinfo(struct kmm_seq *m);
/* slabtop -o: the totals and the largest caches. */
void show_slabtop(struct kmm_seq *m);
/* Pages held by all caches' slabs (meminfo's Slab). */
unsigned long slab_pages(void);
/* One event counter summed over all caches (vmstat). */
unsigned long slab_stat_sum(enum slab_stat item);

#endif /* KMM_SLAB_SLAB_H */
