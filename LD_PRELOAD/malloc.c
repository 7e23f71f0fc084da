// SPDX-License-Identifier: MIT
/*
 * malloc.c - the C and C++ allocation API of libkmm.so: the boundary with
 * programs.  It holds no allocator logic: it picks a kmalloc class, calls the
 * slab layer's inline fast paths, sets errno, and follows glibc 2.36's answers
 * for the edge cases (research/DESIGN_FACTS.md 5.2).
 *
 * The edge cases follow glibc 2.41 where it changed them: aligned_alloc accepts
 * only powers of two, memalign refuses an alignment above SIZE_MAX / 2 + 1
 * (EINVAL both).  Sizes above PTRDIFF_MAX fail (ENOMEM) on every path.
 *
 * Hit paths (struct kmm_fastpath, lib/ready.h, and slab/slab.h), measured on
 * the release build and kept there by test/abi/hitpath.sh:
 * - malloc(n <= 1 KiB), 20 instructions with the ret: one compare of n with
 *   the readiness word (which doubles as the bound), the rseq pop from this
 *   CPU's stack of the class (the table entry for n is the add's memory
 *   operand), one store to clear the double-free mark.
 * - free() of a slab object, 38: the descriptor by a subtraction, a compare
 *   with the readiness word and a shift (node 0's Normal zone), the cache
 *   from that page, the two checks (object boundary: one multiply; the
 *   double-free mark), the new mark and the rseq push.  No stack frame.
 * Everything else, NUMA's remote frees included, is out of line.
 *
 * The whole family is exported, so a program never mixes two allocators:
 * the standard functions, glibc's __libc_* aliases and introspection calls,
 * C23 free_sized/free_aligned_sized, and every C++ operator new and delete.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/init.h"
#include "../src/lib/bug.h"
#include "../src/lib/printk.h"
#include "../src/malloc/kvmalloc.h"
#include "../src/page/pcp.h"
#include "../src/reclaim.h"
#include "../src/slab/secure.h"
#include "../src/slab/slab.h"
#include "../src/track.h"
#include "../src/vmalloc/vmalloc.h"

#include <kmm/kmm.h>

#define MALLOC_ALIGNMENT 16

/* Exported names that no system header declares (C23, glibc internals, C++). */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);
void cfree(void *p);
void *__libc_malloc(size_t size);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);
int __posix_memalign(void **memptr, size_t align, size_t size);
void *_Znwm(size_t size);
void *_Znam(size_t size);
void *_ZnwmRKSt9nothrow_t(size_t size, const void *nt);
void *_ZnamRKSt9nothrow_t(size_t size, const void *nt);
void *_ZnwmSt11align_val_t(size_t size, size_t align);
void *_ZnamSt11align_val_t(size_t size, size_t align);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt);
void _ZdlPv(void *p);
void _ZdaPv(void *p);
void _ZdlPvm(void *p, size_t size);
void _ZdaPvm(void *p, size_t size);
void _ZdlPvRKSt9nothrow_t(void *p, const void *nt);
void _ZdaPvRKSt9nothrow_t(void *p, const void *nt);
void _ZdlPvSt11align_val_t(void *p, size_t align);
void _ZdaPvSt11align_val_t(void *p, size_t align);
void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align);
void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt);

/*
 * The caller of the exported function: what KMM_TRACK=1 records.  The fast
 * paths must not compute it (it would cost them an instruction): their slow
 * paths are cold functions reached by a tail call, so their own return
 * address is the program's.
 */
#define RET_IP __builtin_return_address(0)

/* KMM_TRACK=1: @p (or NULL) was allocated by @caller. */
static inline void *tracked(void *p, const void *caller)
{
	if (kmm_tracking() && p)
		track_alloc(p, caller);
	return p;
}

/* malloc() past its inline fast path, for @caller. */
static void *malloc_from(size_t size, const void *caller)
{
	void *p;

	kswapd_maybe_start();
	p = kmm_ready() ? kv_alloc(size, KMM_GFP_KERNEL, KMM_NUMA_NO_NODE, 0) : NULL;

	if (unlikely(!p))
		errno = ENOMEM;
	return tracked(p, caller);
}

static __cold void *malloc_slow(size_t size)
{
	return malloc_from(size, RET_IP);
}

/*
 * The rseq pop of malloc() above KMALLOC_FAST_MAX, up to the largest class;
 * NULL on a miss.  Out of malloc()'s hit path, still inline.
 */
static __always_inline void *malloc_fast_large(size_t size)
{
	void *obj = NULL;

	if (likely(size <= KMALLOC_MAX_SIZE && READ_ONCE(kmm_fast.malloc_limit))) {
		obj = slab_rseq_pop(kmm_fast.rseq_offset, &kmalloc_slab(size)->cpu, &kmm_fast.ncpu);
		if (likely(obj))
			*(uint64_t *)((char *)obj + SLAB_MARK_OFFSET) = 0;
	}
	return obj;
}

/* The rseq pop of malloc(); NULL on a miss. */
static __always_inline void *malloc_fast(size_t size)
{
	void *p = kmalloc_fast(size);

	if (likely(p))
		return p;
	return size > KMALLOC_FAST_MAX ? malloc_fast_large(size) : NULL;
}

__export void *malloc(size_t size)
{
	void *p = malloc_fast(size);

	if (likely(p))
		return p;
	return malloc_slow(size);
}

/*
 * free() and delete past their hit paths: NULL, a pointer outside node 0's
 * Normal zone (DMA32, another node, a large block, not libkmm's), or any
 * pointer while the hit path is closed (before start-up, without rseq,
 * KMM_TRACK, KMM_SECURE, NUMA).  For delete (@cxx) first the check that the
 * block came from the matching new (delete for new, delete[] for new[]) and,
 * for the sized forms, that the size is the one asked for (@size 0: not
 * checked): in KMM_SECURE for every block, in every mode for page runs.
 * Inlined into cold functions reached by a tail call: RET_IP is the
 * program's.
 */
static __always_inline void release_other(void *p, bool cxx, enum kmm_alloc_kind kind, size_t size,
					  bool aligned)
{
	struct kmm_page *page;

	if (!p)
		return;
	page = virt_to_page_checked(p);
	if (page && (page->flags & (PG_slab | PG_slab_tail))) {
		struct kmm_cache *cache = slab_free_check(page, p);

		if (cxx && slab_secure)
			secure_check_delete(p, kind, size);
		else if (cxx && size && !slab_sized_delete_ok(cache, size, aligned))
			slab_bad_sized_delete(p, kind, size);
		if (kmm_tracking())
			track_free(p, RET_IP);
		else if (slab_free_fast(cache, p))
			return;
		cache_free_slow(cache, p);
		return;
	}
	if (!page && !__atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE))
		kmm_panic("invalid free of %p: not allocated by libkmm", p);
	if (cxx)
		secure_check_delete(p, kind, size);
	if (kmm_tracking())
		track_free(p, RET_IP);
	kv_free(p, page);
}

static __cold void free_other(void *p)
{
	release_other(p, false, KMM_KIND_MALLOC, 0, false);
}

/*
 * The out-of-line ends of free()'s hit path take @p first, where free() has
 * it: the jumps to them need no register moves.
 * free_invalid(): the report of what slab_free_valid() refused; returns only
 * in name (a tail call).  free_full(): this CPU's stack is full, or rseq is
 * unusable on this thread.
 */
static __cold __noipa void free_invalid(void *p)
{
	slab_free_check(virt_to_page_checked(p), p);
	kmm_panic("invalid free of %p: a check failed once and passed again", p);
}

static __cold __noipa void free_full(void *p, struct kmm_cache *cache)
{
	cache_free_slow(cache, p);
}

/*
 * free()'s hit path: the descriptor by arithmetic from one readiness word
 * (virt_to_page_fast()), the cache from the page, the two checks (object
 * boundary, double-free mark), the mark and the rseq push.
 */
__export void free(void *p)
{
	/* page's scope ends before free_other(): instrumented builds tail-call it too. */
	{
		struct kmm_page *page;

		if (likely(virt_to_page_fast(p, &page) &&
			   (page->flags & (PG_slab | PG_slab_tail)))) {
			struct kmm_cache *cache = page->private;

			if (unlikely(!slab_free_valid(cache, p))) {
				free_invalid(p); /* a jump: free() keeps no stack frame */
				return;
			}
			if (likely(slab_free_hit(cache, p)))
				return;
			free_full(p, cache);
			return;
		}
	}
	free_other(p);
}

__export void *calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (unlikely(__builtin_mul_overflow(n, size, &total))) {
		errno = ENOMEM;
		return NULL;
	}
	/* The first pthread_create()'s TLS (lib/lock.h): the thread does not exist yet. */
	kmm_fork_arm_check();
	p = kmm_ready() ? kv_alloc(total, KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0) : NULL;
	if (unlikely(!p))
		errno = ENOMEM;
	return tracked(p, RET_IP);
}

__export void *realloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return malloc_from(size, RET_IP);
	if (size == 0) { /* glibc: frees and returns NULL */
		free(p);
		return NULL;
	}
	if (kmm_tracking()) /* before another thread can reuse it */
		track_free(p, RET_IP);
	q = kv_realloc(p, size, KMM_GFP_KERNEL);
	if (unlikely(!q)) {
		errno = ENOMEM;
		tracked(p, RET_IP); /* still allocated */
		return NULL;
	}
	return tracked(q, RET_IP);
}

__export void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (unlikely(__builtin_mul_overflow(n, size, &total))) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

/* Aligned allocation; @align is a power of two.  Sets no errno. */
static void *alloc_aligned(size_t align, size_t size)
{
	if (!kmm_ready())
		return NULL;
	if (align <= MALLOC_ALIGNMENT)
		return kv_alloc(size, KMM_GFP_KERNEL, KMM_NUMA_NO_NODE, 0);
	if (size + align < size)
		return NULL;
	return kv_alloc(size, KMM_GFP_KERNEL, KMM_NUMA_NO_NODE, align);
}

/*
 * glibc's memalign(): any alignment, rounded up to a power of two; one above
 * the largest power of two cannot be (EINVAL, glibc 2.38 and later).
 */
static void *__memalign(size_t align, size_t size, const void *caller)
{
	void *p;

	if (unlikely(align > SIZE_MAX / 2 + 1)) {
		errno = EINVAL;
		return NULL;
	}
	if (align & (align - 1))
		align = 1UL << (64 - __builtin_clzl(align));
	p = alloc_aligned(align, size);
	if (!p)
		errno = ENOMEM;
	return tracked(p, caller);
}

__export void *memalign(size_t align, size_t size)
{
	return __memalign(align, size, RET_IP);
}

/*
 * C17's aligned_alloc: an alignment the implementation does not support is
 * an error.  glibc 2.38 and later accept powers of two only (0 and 3 give
 * EINVAL); any size, a multiple of the alignment or not (C17 DR 460).
 */
__export void *aligned_alloc(size_t align, size_t size)
{
	if (unlikely(!align || (align & (align - 1)))) {
		errno = EINVAL;
		return NULL;
	}
	return __memalign(align, size, RET_IP);
}

__export int posix_memalign(void **memptr, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL; /* errno untouched, as glibc */
	p = alloc_aligned(align, size);
	if (!p) {
		errno = ENOMEM;
		return ENOMEM;
	}
	*memptr = tracked(p, RET_IP);
	return 0;
}

__export void *valloc(size_t size)
{
	return __memalign(PAGE_SIZE, size, RET_IP);
}

__export void *pvalloc(size_t size)
{
	size_t rounded = ALIGN_UP(size, PAGE_SIZE);

	if (rounded < size) {
		errno = ENOMEM;
		return NULL;
	}
	return __memalign(PAGE_SIZE, rounded, RET_IP);
}

__export size_t malloc_usable_size(void *p)
{
	return p ? kv_usable_size(p, virt_to_page_checked(p)) : 0;
}

__export void free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

__export void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	free(p);
}

/* ---- glibc's introspection calls, doing the libkmm thing ---- */

__export int mallopt(int param, int value)
{
	(void)param;
	(void)value;
	return 1; /* accepted: libkmm has no tunables of glibc's kind */
}

/* Drain every per-CPU cache, give empty slabs back: the buddy then holds all free memory. */
__export int malloc_trim(size_t pad)
{
	(void)pad;
	if (!kmm_ready())
		return 0;
	kmm_reclaim();
	return 1;
}

struct kmm_usage {
	size_t system; /* bytes brought into service */
	size_t free;   /* free in the buddy and the per-CPU page caches */
	size_t free_blocks;
};

static void usage(struct kmm_usage *u)
{
	struct kmm_zone *zone;

	memset(u, 0, sizeof(*u));
	if (!kmm_ready())
		return;
	u->system = READ_ONCE(kmm_arena.committed_pages) << PAGE_SHIFT;
	for_each_zone (zone) {
		unsigned long counts[NR_PAGE_ORDERS];

		zone_free_counts(zone, counts);
		for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
			u->free += (counts[o] << o) << PAGE_SHIFT;
			u->free_blocks += counts[o];
		}
		u->free += pcp_total(zone) << PAGE_SHIFT;
	}
}

__export struct mallinfo2 mallinfo2(void)
{
	struct mallinfo2 mi;
	struct kmm_usage u;

	usage(&u);
	memset(&mi, 0, sizeof(mi));
	mi.arena = u.system;
	mi.ordblks = u.free_blocks;
	mi.uordblks = u.system - u.free;
	mi.fordblks = u.free;
	return mi;
}

__export struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo mi;

	memset(&mi, 0, sizeof(mi));
	mi.arena = (int)MIN(m2.arena, (size_t)INT32_MAX);
	mi.ordblks = (int)MIN(m2.ordblks, (size_t)INT32_MAX);
	mi.uordblks = (int)MIN(m2.uordblks, (size_t)INT32_MAX);
	mi.fordblks = (int)MIN(m2.fordblks, (size_t)INT32_MAX);
	return mi;
}

__export void malloc_stats(void)
{
	struct kmm_usage u;
	char buf[256];
	size_t n;

	usage(&u);
	n = kmm_snprintf(
		buf, sizeof(buf),
		"Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
		"Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n",
		u.system, u.system - u.free, u.system, u.system - u.free);
	kmm_write_all(2, buf, n);
	kmm_dump(2, "buddyinfo");
}

__export int malloc_info(int options, FILE *fp)
{
	struct kmm_usage u;

	if (options) {
		errno = EINVAL;
		return -1;
	}
	usage(&u);
	fprintf(fp,
		"<malloc version=\"1\" allocator=\"libkmm\">\n"
		"<heap nr=\"0\">\n<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
		"<system type=\"current\" size=\"%zu\"/>\n</heap>\n"
		"<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
		"<system type=\"current\" size=\"%zu\"/>\n</malloc>\n",
		u.system, u.free_blocks, u.free, u.system);
	return 0;
}

/*
 * ---- glibc's internal names, which some programs call directly ----
 * Aliases: the exported symbol is the function itself, with no second frame.
 */
#if defined(__clang__)
#define KMM_ALIAS(target) __export __attribute__((alias(#target)))
#else /* gcc: the alias carries the target's attributes (malloc, alloc_size, nonnull) */
#define KMM_ALIAS(target) __export __attribute__((alias(#target), copy(target)))
#endif

void *__libc_malloc(size_t size) KMM_ALIAS(malloc);
void __libc_free(void *p) KMM_ALIAS(free);
void *__libc_calloc(size_t n, size_t size) KMM_ALIAS(calloc);
void *__libc_realloc(void *p, size_t size) KMM_ALIAS(realloc);
void *__libc_memalign(size_t align, size_t size) KMM_ALIAS(memalign);
void *__libc_valloc(size_t size) KMM_ALIAS(valloc);
void *__libc_pvalloc(size_t size) KMM_ALIAS(pvalloc);
int __posix_memalign(void **memptr, size_t align, size_t size) KMM_ALIAS(posix_memalign);
void cfree(void *p) KMM_ALIAS(free);

/* ---- C++: every operator new and delete (mangled names, no libstdc++ needed) ---- */

typedef void (*new_handler_t)(void);
extern new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));
/* new_handler.cc: run @handler; false if it threw. */
bool cxx_call_new_handler(new_handler_t handler);

/* The program's new_handler; none without libstdc++. */
static new_handler_t get_new_handler(void)
{
	return _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
}

static __always_inline void *new_try(size_t size, size_t align, const void *caller)
{
	return align ? tracked(alloc_aligned(align, size), caller) : malloc_from(size, caller);
}

/*
 * The throwing forms ([new.delete.single]): call the new_handler until an
 * allocation succeeds or no handler is left, then throw bad_alloc.  The
 * handler may throw itself: the exception passes through these C frames.
 */
static __cold void *new_failed(size_t size, size_t align)
{
	for (;;) {
		new_handler_t handler = get_new_handler();
		void *p;

		if (!handler) {
			if (_ZSt17__throw_bad_allocv)
				_ZSt17__throw_bad_allocv();
			kmm_panic("operator new(%zu): out of memory", size);
		}
		handler();
		p = new_try(size, align, NULL);
		if (p)
			return p;
	}
}

/*
 * The nothrow forms: the same loop, as if they called the throwing form and
 * caught its exception (libstdc++'s own definition): nullptr once no handler
 * is left or the handler throws.
 */
static __cold void *new_nothrow_failed(size_t size, size_t align)
{
	for (;;) {
		new_handler_t handler = get_new_handler();
		void *p;

		if (!handler || !cxx_call_new_handler(handler)) {
			errno = ENOMEM;
			return NULL;
		}
		p = new_try(size, align, NULL);
		if (p)
			return p;
	}
}

/*
 * Record which operator allocated @p, for the delete checks: of every block
 * in KMM_SECURE, of page runs in every mode (their new and delete take the
 * slow paths; a slab object's take the fast ones, which record nothing).
 */
static inline void *new_kind(void *p, enum kmm_alloc_kind kind)
{
	if (p)
		secure_set_kind(p, kind);
	return p;
}

/*
 * operator new and new[] past malloc's fast path, reached by a tail call:
 * RET_IP is the program's.  The two are separate functions so that the
 * secure mode knows which allocated a block; their fast paths are malloc's.
 */
static __cold void *cxx_new_slow(size_t size)
{
	void *p = malloc_from(size, RET_IP);

	return new_kind(likely(p) ? p : new_failed(size, 0), KMM_KIND_NEW);
}

static __cold void *cxx_new_array_slow(size_t size)
{
	void *p = malloc_from(size, RET_IP);

	return new_kind(likely(p) ? p : new_failed(size, 0), KMM_KIND_NEW_ARRAY);
}

static __always_inline void *cxx_new_aligned(size_t size, size_t align, enum kmm_alloc_kind kind)
{
	void *p = tracked(alloc_aligned(align, size), RET_IP);

	return new_kind(likely(p) ? p : new_failed(size, align), kind);
}

static __always_inline void *cxx_new_nothrow(size_t size, size_t align, enum kmm_alloc_kind kind)
{
	void *p = new_try(size, align, RET_IP);

	return new_kind(likely(p) ? p : new_nothrow_failed(size, align), kind);
}

__export void *_Znwm(size_t size)
{
	void *p = malloc_fast(size);

	return likely(p) ? p : cxx_new_slow(size);
}
__export void *_Znam(size_t size)
{
	void *p = malloc_fast(size);

	return likely(p) ? p : cxx_new_array_slow(size);
}
__export void *_ZnwmRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	return cxx_new_nothrow(size, 0, KMM_KIND_NEW);
}
__export void *_ZnamRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	return cxx_new_nothrow(size, 0, KMM_KIND_NEW_ARRAY);
}
__export void *_ZnwmSt11align_val_t(size_t size, size_t align)
{
	return cxx_new_aligned(size, align, KMM_KIND_NEW);
}
__export void *_ZnamSt11align_val_t(size_t size, size_t align)
{
	return cxx_new_aligned(size, align, KMM_KIND_NEW_ARRAY);
}
__export void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	return cxx_new_nothrow(size, align, KMM_KIND_NEW);
}
__export void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	return cxx_new_nothrow(size, align, KMM_KIND_NEW_ARRAY);
}

static __cold void delete_other(void *p, enum kmm_alloc_kind kind, size_t size)
{
	release_other(p, true, kind, size, false);
}

static __cold void delete_aligned_other(void *p, enum kmm_alloc_kind kind, size_t size)
{
	release_other(p, true, kind, size, true);
}

/*
 * free()'s hit path, instruction for instruction, and for the sized forms
 * (@size not 0) the check that the size names the object's class (a table
 * load and a compare): the hit path is open only in the default mode, where
 * a slab object records no kind, so only delete_other() checks kinds.
 * @aligned: the aligned forms, whose new may have taken a larger class.
 */
static __always_inline void cxx_delete(void *p, enum kmm_alloc_kind kind, size_t size, bool aligned)
{
	{
		struct kmm_page *page;

		if (likely(virt_to_page_fast(p, &page) &&
			   (page->flags & (PG_slab | PG_slab_tail)))) {
			struct kmm_cache *cache = page->private;

			if (unlikely(!slab_free_valid(cache, p))) {
				free_invalid(p);
				return;
			}
			if (size && unlikely(!slab_sized_delete_ok(cache, size, aligned)))
				slab_bad_sized_delete(p, kind, size);
			if (likely(slab_free_hit(cache, p)))
				return;
			free_full(p, cache);
			return;
		}
	}
	if (aligned)
		delete_aligned_other(p, kind, size);
	else
		delete_other(p, kind, size);
}

__export void _ZdlPv(void *p)
{
	cxx_delete(p, KMM_KIND_NEW, 0, false);
}
__export void _ZdaPv(void *p)
{
	cxx_delete(p, KMM_KIND_NEW_ARRAY, 0, false);
}
__export void _ZdlPvm(void *p, size_t size)
{
	cxx_delete(p, KMM_KIND_NEW, size, false);
}
__export void _ZdaPvm(void *p, size_t size)
{
	cxx_delete(p, KMM_KIND_NEW_ARRAY, size, false);
}
__export void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	cxx_delete(p, KMM_KIND_NEW, 0, false);
}
__export void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	cxx_delete(p, KMM_KIND_NEW_ARRAY, 0, false);
}
__export void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	cxx_delete(p, KMM_KIND_NEW, 0, false);
}
__export void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	cxx_delete(p, KMM_KIND_NEW_ARRAY, 0, false);
}
__export void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)align;
	cxx_delete(p, KMM_KIND_NEW, size, true);
}
__export void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)align;
	cxx_delete(p, KMM_KIND_NEW_ARRAY, size, true);
}
__export void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	cxx_delete(p, KMM_KIND_NEW, 0, false);
}
__export void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	cxx_delete(p, KMM_KIND_NEW_ARRAY, 0, false);
}
