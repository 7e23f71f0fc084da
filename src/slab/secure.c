// SPDX-License-Identifier: MIT
/*
 * secure.c - KMM_SECURE=1: the hardened mode of the slab layer and of
 * kmalloc's page runs, in the kernel's terms (slub_debug's red zones and
 * poisoning, CONFIG_SLAB_FREELIST_RANDOM, init_on_free, KASAN's quarantine).
 *
 * The mode keeps the hit paths closed (start-up leaves kmm_fast's readiness
 * words 0, src/init.c), so every allocation and free reaches
 * cache_alloc_slow() and cache_free_slow(), which call in here; their per-CPU
 * stack operations still use rseq.
 * The default build runs none of this: one test of slab_secure on the slow
 * paths.
 *
 * Slab layout.  A secure cache's slot is
 *
 *   [object][canary 0xcc up to meta, >= 8 bytes][meta: mark, link][tag][canary][pad 0xcc, >= 8]
 *
 * The free-object metadata always lies past the object (cache->meta), so a
 * free's double-free mark never covers bytes the program may overrun.  The
 * tag holds the size asked for, the allocation kind (malloc, new, new[])
 * and the state (allocated, freed), XORed with a key from the slab secret
 * and the slot's address; the canary word after it is a second key.  Bytes
 * from the size asked for up to the metadata are 0xcc.  A free checks its
 * own tail (an overflow) and the previous slot's canary (an underflow), all
 * in one pass of word loads (redzones_intact()).  Slot 0 of each slab is never handed out: it is the left redzone of slot 1.  The
 * last page of each slab is a guard page (MADV_GUARD_INSTALL, or PROT_NONE
 * while fewer than SECURE_MAX_GUARDS such exist: each costs the process
 * kernel mappings), so a long overflow faults.  New slabs hand their slots out in a random
 * order (the kernel's CONFIG_SLAB_FREELIST_RANDOM).
 *
 * Poisoning.  A freed object is zeroed (init_on_free) and held in a
 * quarantine; when it leaves it and when it is handed out again it must
 * still be zero: any other byte is a write after free, reported with the
 * cache and object.  At exit, the objects still held are checked too.
 *
 * Quarantine.  Two FIFO rings per CPU (rseq's cpu_id, a hint): a freed
 * block is reused only after SECURE_QUARANTINE_SLOTS more frees on its CPU.
 * Objects of up to SECURE_FAST_MAX bytes go on the CPU's rseq ring, a
 * restartable swap with no lock (rseq_ring_swap()); larger objects, page
 * runs, and frees where rseq cannot serve go on its locked ring, which also
 * holds at most SECURE_QUARANTINE_BYTES and lets a block go once 1024 frees
 * on its CPU, to either ring, have followed it.  Blocks that leave a ring
 * are released outside its lock.
 *
 * Page runs (32 KiB to 4 MiB): one more page, a guard, after each; the
 * tail of the last page past the size asked for is 0xcc; the head page's
 * descriptor holds the kind and state, the second's the size.  A freed run is
 * zeroed and quarantined as an object is.
 *
 * Lock order: a ring's lock (the locked ring's, or the one a drain takes to
 * stop an rseq ring) is taken alone (blocks are released after it is
 * dropped), inside any lock a caller of free holds.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "../lib/bug.h"
#include "../lib/percpu_stack.h"
#include "../lib/printk.h"
#include "../lib/rseq.h"
#include "../numa/os.h"
#include "secure.h"

#define SECURE_POISON 0xcc
#define POISON_WORD (SECURE_POISON * 0x0101010101010101ULL)
#define SECURE_MAX_GUARDS 8192
#define SECURE_ALLOC_CHECK 256 /* bytes of a reused object checked at allocation */
#define SECURE_QUARANTINE_SLOTS 1024
#define SECURE_QUARANTINE_BYTES (4UL << 20)
#define SECURE_RUN 0x5ec0 /* head->inuse of a secure page run */

enum { STATE_ALLOCATED = 1, STATE_FREED = 2 };

bool slab_secure;
void (*secure_describe)(const void *p, char *buf, size_t n);
static unsigned long nr_guards;

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

/*
 * How guard pages are made: MADV_GUARD_INSTALL (Linux 6.13) puts a marker in
 * the page table, with no VMA to split and merge again, and drops the page;
 * mprotect() where the kernel refuses it (EINVAL: older, or a locked range).
 * Chosen on the first guard, then kept, so a guard is removed the way it was
 * put.
 */
enum { GUARD_UNKNOWN, GUARD_MADVISE, GUARD_MPROTECT };
static int guard_mode;

/* Make the page at @p a guard page; 0 or -errno (then it is none). */
static int guard_install(void *p)
{
	int saved = errno, mode = READ_ONCE(guard_mode), ret = 0;

	if (mode != GUARD_MPROTECT) {
		if (!madvise(p, PAGE_SIZE, MADV_GUARD_INSTALL)) {
			if (mode == GUARD_UNKNOWN)
				WRITE_ONCE(guard_mode, GUARD_MADVISE);
			return 0;
		}
		ret = -errno;
		errno = saved;
		if (mode == GUARD_MADVISE || ret != -EINVAL)
			return ret;
		WRITE_ONCE(guard_mode, GUARD_MPROTECT);
	}
	return os_guard(p, PAGE_SIZE);
}

/* The page at @p, a guard page, becomes memory again; 0 or -errno. */
static int guard_remove(void *p)
{
	int saved = errno, ret = 0;

	if (READ_ONCE(guard_mode) != GUARD_MADVISE)
		return os_commit(p, PAGE_SIZE);
	if (madvise(p, PAGE_SIZE, MADV_GUARD_REMOVE))
		ret = -errno;
	errno = saved;
	return ret;
}

struct qentry {
	void *ptr;
	struct kmm_cache *cache; /* NULL: a page run */
	size_t bytes;
	unsigned int stamp; /* the CPU's frees before this one, both rings (a hint) */
};

struct quarantine {
	struct kmm_lock lock;
	unsigned int head, count;
	unsigned int pushes; /* frees to this ring */
	size_t bytes;
	struct qentry e[SECURE_QUARANTINE_SLOTS];
};

static struct quarantine *rings; /* [kmm_nr_cpu_ids] */

static const char *const kind_name[] = { "malloc", "new", "new[]" };
static const char *const state_name[] = { "corrupt", "allocated", "freed" };

/* ---- slab objects ---- */

static inline uint64_t tag_key(const void *obj)
{
	return ((uintptr_t)obj ^ slab_secret) * 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t canary_of(const void *obj)
{
	return (((uintptr_t)obj + 8) ^ slab_secret) * 0xc2b2ae3d27d4eb4fULL;
}

static inline uint64_t *obj_tag(const struct kmm_cache *cache, void *obj)
{
	return (uint64_t *)((char *)obj + cache->redzone);
}

static inline uint64_t *obj_canary(const struct kmm_cache *cache, void *obj)
{
	return (uint64_t *)((char *)obj + cache->redzone + 8);
}

static void set_tag(struct kmm_cache *cache, void *obj, size_t req, unsigned int kind,
		    unsigned int state)
{
	*obj_tag(cache, obj) =
		((uint64_t)req | (uint64_t)kind << 32 | (uint64_t)state << 40) ^ tag_key(obj);
}

struct tag {
	size_t req;
	unsigned int kind, state;
};

/* The tag of @obj; state 0 if it does not decode (overwritten). */
static struct tag get_tag(struct kmm_cache *cache, void *obj)
{
	uint64_t v = *obj_tag(cache, obj) ^ tag_key(obj);
	struct tag t = { v & 0xffffffffu, (v >> 32) & 0xff, (unsigned int)(v >> 40) };

	if (t.kind > KMM_KIND_NEW_ARRAY || t.state < STATE_ALLOCATED || t.state > STATE_FREED ||
	    t.req > cache->object_size)
		t.state = 0;
	return t;
}

static inline unsigned int obj_index(struct kmm_cache *cache, const void *obj)
{
	uint64_t off = (uintptr_t)obj & ((PAGE_SIZE << cache->order) - 1);

	return (unsigned int)(off / cache->size);
}

/* Where the canary past the largest request ends: the metadata. */
static inline unsigned int user_end(const struct kmm_cache *cache)
{
	return cache->meta;
}

static __cold __noreturn void report(struct kmm_cache *cache, void *obj, const char *what,
				     const char *detail)
{
	struct tag t = get_tag(cache, obj);
	char sites[192] = "";

	if (secure_describe)
		secure_describe(obj, sites, sizeof(sites));
	kmm_panic("%s %p (cache %s, object %u, %s%s%s, %zu bytes asked%s): %s", what, obj,
		  cache->name, obj_index(cache, obj), state_name[t.state], t.state ? " by " : "",
		  t.state ? kind_name[t.kind] : "", t.req, sites, detail);
}

typedef uint64_t secure_vec __attribute__((vector_size(16)));

/*
 * Whether [@p, @p + @n) is all @c: 64 bytes a step, the differences ORed
 * together without a branch (SIMD), at about memset's speed.
 */
static bool all_bytes(const unsigned char *p, size_t n, unsigned char c)
{
	uint64_t word = c * 0x0101010101010101ULL, acc = 0;
	secure_vec vw = { word, word }, va = { 0, 0 };
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		secure_vec v[4];

		__builtin_memcpy(v, p + i, 64); /* loads: the build has -fno-builtin */
		va |= (v[0] ^ vw) | (v[1] ^ vw) | (v[2] ^ vw) | (v[3] ^ vw);
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		__builtin_memcpy(&v, p + i, 8);
		acc |= v ^ word;
	}
	for (; i < n; i++)
		acc |= p[i] ^ c;
	return !(acc | va[0] | va[1]);
}

/* The first byte of [@p, @p + @n) that is not @c, or NULL. */
static const unsigned char *find_not(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	uint64_t word = c * 0x0101010101010101ULL;
	size_t i = 0;

	if (likely(all_bytes(b, n, c)))
		return NULL;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		__builtin_memcpy(&v, b + i, 8); /* a load: the build has -fno-builtin */
		if (v != word)
			break;
	}
	for (; i < n; i++)
		if (b[i] != c)
			return b + i;
	return NULL;
}

void secure_cache_layout(struct kmm_cache *cache)
{
	unsigned int order;

	/*
	 * At least 8 bytes of canary before the metadata: its first word is the
	 * mark, 0 while the object is allocated, which free overwrites before the
	 * redzone checks could see an overflow into it.
	 */
	cache->meta = (unsigned int)ALIGN_UP(cache->object_size, 8) + 8;
	cache->redzone = cache->meta + 16;
	/*
	 * At least 8 bytes of 0xcc after the canary: the bytes an underflow of
	 * the next object hits first are fixed, not the keyed canary's, which a
	 * one-byte write matched once in 256 runs.  (A 16-byte object's slot is
	 * then one cache line.)
	 */
	cache->size = (unsigned int)ALIGN_UP(cache->redzone + 24, cache->align);
	cache->reserved = 1;
	/*
	 * Order 2 at least (16 KiB, 12 of them objects): each slab costs two
	 * madvise() calls for its guard, so half-page slabs made simple spend
	 * 40 % of its time in them; order 3 makes the walks of a new slab's
	 * random free list miss the cache (logicmin 1.4x).
	 */
	for (order = 2; order < SLAB_MAX_ORDER; order++)
		if (((PAGE_SIZE << order) - PAGE_SIZE) / cache->size >= 8)
			break;
	cache->order = order;
	cache->objects = (unsigned int)(((PAGE_SIZE << order) - PAGE_SIZE) / cache->size);
}

/* The canaries of slot @obj: the gap before the metadata, the canary word and the padding. */
static void write_canaries(struct kmm_cache *cache, void *obj)
{
	*obj_canary(cache, obj) = canary_of(obj);
	memset((char *)obj + cache->redzone + 16, SECURE_POISON, cache->size - cache->redzone - 16);
}

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

unsigned int secure_new_slab(struct kmm_cache *cache, struct kmm_page *slab, uint16_t *order)
{
	char *base = page_to_virt(slab);
	uint64_t seed = ((uintptr_t)base ^ slab_secret) | 1;
	unsigned int n = cache->objects - 1;

	memset(base, 0, (size_t)cache->objects * cache->size);
	for (unsigned int i = 0; i < cache->objects; i++) {
		void *obj = base + (size_t)i * cache->size;

		if (cache->ctor)
			cache->ctor(obj);
		memset((char *)obj + cache->object_size, SECURE_POISON,
		       user_end(cache) - cache->object_size);
		set_tag(cache, obj, cache->object_size, KMM_KIND_MALLOC, STATE_FREED);
		write_canaries(cache, obj);
	}
	/* Slots 1..objects-1 in a random order (Fisher-Yates). */
	for (unsigned int i = 0; i < n; i++)
		order[i] = (uint16_t)(i + 1);
	for (unsigned int i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(rnd_next(&seed) % (i + 1));
		uint16_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* slab[1] (order >= 1) is a tail page: its inuse says the slab has a guard. */
	slab[1].inuse = 0;
	if ((__atomic_add_fetch(&nr_guards, 1, __ATOMIC_RELAXED) > SECURE_MAX_GUARDS &&
	     READ_ONCE(guard_mode) != GUARD_MADVISE) ||
	    guard_install(base + (PAGE_SIZE << cache->order) - PAGE_SIZE))
		__atomic_fetch_sub(&nr_guards, 1, __ATOMIC_RELAXED);
	else
		slab[1].inuse = 1;
	return n;
}

bool secure_discard_slab(struct kmm_cache *cache, struct kmm_page *slab)
{
	char *guard = (char *)page_to_virt(slab) + (PAGE_SIZE << cache->order) - PAGE_SIZE;

	/* A guard that cannot be opened again keeps its slab's pages out of the buddy. */
	if (slab[1].inuse && guard_remove(guard))
		return false;
	if (slab[1].inuse)
		__atomic_fetch_sub(&nr_guards, 1, __ATOMIC_RELAXED);
	slab[1].inuse = 0;
	slab->inuse = 0;
	return true;
}

/* A freed object must hold zeros (its mark and link are in the metadata). */
static void check_poison(struct kmm_cache *cache, void *obj, const char *when, size_t limit)
{
	const unsigned char *bad;
	char detail[96];

	if (*obj_mark(cache, obj) != slab_free_mark(obj))
		report(cache, obj, "write after free to", "its free metadata was overwritten");
	if (cache->ctor)
		return;
	bad = find_not(obj, MIN(cache->object_size, limit), 0);
	if (!bad)
		return;
	kmm_snprintf(detail, sizeof(detail), "byte +%zu is 0x%02x, not 0 (found %s)",
		     (size_t)(bad - (unsigned char *)obj), *bad, when);
	report(cache, obj, "write after free to", detail);
}

void secure_alloc(struct kmm_cache *cache, void *obj)
{
	/*
	 * The whole object was checked when it left the quarantine: here only
	 * its first bytes, where a stale pointer most often writes.
	 */
	check_poison(cache, obj, "when it was handed out again", SECURE_ALLOC_CHECK);
	/* While allocated, the link's 8 bytes are redzone too (the mark is cleared). */
	__builtin_memcpy(obj_link(cache, obj), &(uint64_t){ POISON_WORD }, 8); /* a store */
	set_tag(cache, obj, cache->object_size, KMM_KIND_MALLOC, STATE_ALLOCATED);
}

void secure_set_size(struct kmm_cache *cache, void *obj, size_t size)
{
	if (size >= cache->object_size)
		return;
	memset((char *)obj + size, SECURE_POISON, cache->object_size - size);
	set_tag(cache, obj, size, KMM_KIND_MALLOC, STATE_ALLOCATED);
}

void *secure_realloc_in_place(void *p, struct kmm_page *page, size_t size)
{
	struct kmm_cache *cache;
	struct tag t;

	if (!(page->flags & (PG_slab | PG_slab_tail)))
		return NULL; /* a page run moves, into a new guarded run */
	cache = slab_head(page)->private;
	t = get_tag(cache, p);
	if (t.state != STATE_ALLOCATED || !size || size > cache->object_size)
		return NULL;
	if (size > t.req) /* the new bytes come from the red zone: not the program's */
		memset((char *)p + t.req, 0, size - t.req);
	else
		memset((char *)p + size, SECURE_POISON, t.req - size);
	set_tag(cache, p, size, t.kind, STATE_ALLOCATED);
	return p;
}

size_t secure_object_size(struct kmm_cache *cache, const void *obj)
{
	struct tag t = get_tag(cache, (void *)obj);

	return t.state ? t.req : cache->object_size;
}

static inline uint64_t load_word(const char *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, 8); /* a load: the build has -fno-builtin */
	return v;
}

/* The differences of the words [@p, @end) (8-aligned) from the poison, ORed. */
static inline uint64_t poison_diff(const char *p, const char *end)
{
	uint64_t acc = 0;

	for (; p < end; p += 8)
		acc |= load_word(p) ^ POISON_WORD;
	return acc;
}

/*
 * Whether every redzone byte around @obj (@req bytes asked) is as written:
 * its tail up to the metadata, the link, its canary and padding, and the
 * previous slot's canary and padding (the bytes just before @obj).  One pass
 * of word loads ORed together and one branch: free's common case.  A long
 * tail (a small request in a large class) goes to all_bytes().
 */
static inline bool redzones_intact(const struct kmm_cache *cache, char *obj, size_t req)
{
	const char *tail = obj + (req & ~7UL), *meta = obj + cache->meta;
	unsigned int pad = cache->size - cache->redzone - 16;
	uint64_t acc;

	/* The word holding byte @req: only its bytes from @req on are redzone. */
	acc = (load_word(tail) ^ POISON_WORD) & (~0ULL << ((req & 7) * 8));
	tail += 8;
	if (meta - tail > 64) {
		if (!all_bytes((const unsigned char *)tail, (size_t)(meta - tail), SECURE_POISON))
			return false;
	} else {
		acc |= poison_diff(tail, meta);
	}
	acc |= load_word(meta + SLAB_LINK_OFFSET) ^ POISON_WORD;
	acc |= load_word(obj + cache->redzone + 8) ^ canary_of(obj);
	acc |= poison_diff(obj + cache->redzone + 16, obj + cache->size);
	acc |= load_word(obj - pad - 8) ^ canary_of(obj - cache->size);
	acc |= poison_diff(obj - pad, obj);
	return !acc;
}

/* The redzones around @obj, on its free. */
static void check_redzones(struct kmm_cache *cache, void *obj, struct tag t)
{
	char *prev = (char *)obj - cache->size;
	const unsigned char *bad;
	char detail[128];

	if (likely(redzones_intact(cache, obj, t.req)))
		return;

	bad = find_not((char *)obj + t.req, user_end(cache) - t.req, SECURE_POISON);
	if (!bad)
		bad = find_not((const void *)obj_link(cache, obj), 8, SECURE_POISON);
	if (!bad && *obj_canary(cache, obj) != canary_of(obj))
		bad = (unsigned char *)obj_canary(cache, obj);
	if (!bad)
		bad = find_not((char *)obj + cache->redzone + 16, cache->size - cache->redzone - 16,
			       SECURE_POISON);
	if (bad) {
		kmm_snprintf(detail, sizeof(detail),
			     "redzone overwritten at +%zu (heap buffer overflow)",
			     (size_t)(bad - (unsigned char *)obj));
		report(cache, obj, "overflow of", detail);
	}
	/* Slot 0 is never handed out: every object has a left neighbour. */
	if (*obj_canary(cache, prev) != canary_of(prev) ||
	    find_not(prev + cache->redzone + 16, cache->size - cache->redzone - 16, SECURE_POISON))
		report(cache, obj, "underflow of",
		       "the redzone before the object was overwritten (heap buffer underflow)");
}

static void quarantine_push(void *ptr, struct kmm_cache *cache, size_t bytes);
static void quarantine_object(struct kmm_cache *cache, void *obj);

bool secure_free(struct kmm_cache *cache, void *obj)
{
	struct tag t = get_tag(cache, obj);

	if (t.state == STATE_FREED)
		report(cache, obj, "invalid free of", "double free (the object is in quarantine)");
	if (!t.state)
		report(cache, obj, "overflow of",
		       "its tag in the redzone was overwritten (heap buffer overflow)");
	check_redzones(cache, obj, t);
	if (!cache->ctor)
		memset(obj, 0, cache->object_size);
	set_tag(cache, obj, t.req, t.kind, STATE_FREED);
	quarantine_object(cache, obj);
	return true;
}

/* ---- page runs ---- */

/*
 * A secure run is [guard][data: npages][guard] (no front guard for an
 * alignment above a page).  The descriptor of the first data page, d, is
 * PG_exact too: free() finds it from the pointer.  d->inuse marks the run,
 * d->freelist holds the kind and state, d[1].private the size asked for and
 * d[1].inuse whether there is a front guard.
 */
static bool is_secure_run(const struct kmm_page *page)
{
	return page->flags == PG_exact && page->inuse == SECURE_RUN;
}

size_t secure_run_size(const struct kmm_page *page)
{
	return is_secure_run(page) ? (size_t)page[1].private : 0;
}

static unsigned long run_pages(const struct kmm_page *d)
{
	return MAX(((size_t)d[1].private + PAGE_SIZE - 1) >> PAGE_SHIFT, 1UL);
}

void *secure_run_alloc(kmm_gfp_t gfp, size_t size, int nid, size_t align)
{
	unsigned long npages = MAX((size + PAGE_SIZE - 1) >> PAGE_SHIFT, 1UL);
	unsigned int front = align <= PAGE_SIZE;
	struct kmm_page *page, *d;
	char *p;

	if (npages + 1 + front > MAX_ORDER_NR_PAGES || align > KMALLOC_LARGE_MAX)
		return NULL; /* kv_alloc() takes a vmalloc area */
	page = alloc_pages_exact(gfp & ~KMM_GFP_ZERO, MAX(npages + 1 + front, align >> PAGE_SHIFT),
				 nid);
	if (!page)
		return NULL;
	if (align > PAGE_SIZE)
		shrink_pages_exact(page, npages + 1);
	d = page + front;
	p = page_to_virt(d);
	if (gfp & KMM_GFP_ZERO)
		memset(p, 0, size);
	memset(p + size, SECURE_POISON, (npages << PAGE_SHIFT) - size);
	if (front) {
		d->flags = PG_exact;
		guard_install(page_to_virt(page)); /* may fail: no guard, no harm */
	}
	d->inuse = SECURE_RUN;
	d->freelist = KMM_KIND_MALLOC | STATE_ALLOCATED << 4;
	d[1].private = (void *)size;
	d[1].inuse = (uint16_t)front;
	guard_install(p + (npages << PAGE_SHIFT));
	return p;
}

static __cold __noreturn void report_run(void *p, struct kmm_page *d, const char *what,
					 const char *detail)
{
	unsigned int st = d->freelist >> 4, kind = d->freelist & 15;
	char sites[192] = "";

	if (secure_describe)
		secure_describe(p, sites, sizeof(sites));
	kmm_panic("%s %p (page run of %lu pages, %s%s%s, %zu bytes asked%s): %s", what, p,
		  run_pages(d), st <= STATE_FREED ? state_name[st] : "corrupt",
		  st == STATE_ALLOCATED ? " by " : "",
		  st == STATE_ALLOCATED ? kind_name[kind % 3] : "", secure_run_size(d), sites,
		  detail);
}

bool secure_run_free(void *p, struct kmm_page *d)
{
	size_t size, bytes;
	const unsigned char *bad;

	if (!is_secure_run(d))
		kmm_panic("invalid free of %p: not the start of a block allocated by malloc", p);
	size = secure_run_size(d);
	bytes = run_pages(d) << PAGE_SHIFT;
	if ((d->freelist >> 4) != STATE_ALLOCATED)
		report_run(p, d, "invalid free of", "double free (the run is in quarantine)");
	bad = find_not((char *)p + size, bytes - size, SECURE_POISON);
	if (bad) {
		char detail[96];

		kmm_snprintf(detail, sizeof(detail),
			     "redzone overwritten at +%zu (heap buffer overflow)",
			     (size_t)(bad - (unsigned char *)p));
		report_run(p, d, "overflow of", detail);
	}
	memset(p, 0, size);
	d->freelist = (uint16_t)((d->freelist & 15) | STATE_FREED << 4);
	quarantine_push(p, NULL, bytes);
	return true;
}

static void run_release(void *p)
{
	struct kmm_page *d = virt_to_page_checked(p);
	unsigned long npages = run_pages(d);
	unsigned int front = d[1].inuse;
	const unsigned char *bad = find_not(p, secure_run_size(d), 0);

	if (bad) {
		char detail[96];

		kmm_snprintf(detail, sizeof(detail), "byte +%zu is 0x%02x, not 0",
			     (size_t)(bad - (unsigned char *)p), *bad);
		report_run(p, d, "write after free to", detail);
	}
	/* A guard that cannot be opened again keeps the run out of the buddy. */
	if (guard_remove((char *)p + (npages << PAGE_SHIFT)) ||
	    (front && guard_remove((char *)p - PAGE_SIZE)))
		return;
	d->inuse = 0;
	d->freelist = 0;
	d[1].private = NULL;
	d[1].inuse = 0;
	if (front)
		d->flags = 0;
	free_pages_exact(d - front);
}

/* ---- the quarantine ---- */

/*
 * The rseq rings: per CPU, the last SECURE_QUARANTINE_SLOTS frees of objects
 * of at most SECURE_FAST_MAX bytes (so at most 2 MiB and a bit), as object
 * pointers in a struct percpu_stack used as a FIFO (rseq_ring_swap(): no lock,
 * no atomic instruction).  Their cache is the one on the object's page.
 * Drains stop a ring as lib/percpu_stack.c stops a stack.  Without rseq (or
 * while a drain holds this CPU's ring) a free takes the locked ring.
 */
#define SECURE_FAST_MAX 2048
union fast_ring {
	struct percpu_stack s;
	char bytes[SECURE_QUARANTINE_SLOTS * sizeof(void *) + KMM_CACHELINE];
};
_Static_assert(PERCPU_STACK_SLOTS(sizeof(union fast_ring)) >= SECURE_QUARANTINE_SLOTS,
	       "a fast ring holds a quarantine");
_Static_assert(!(SECURE_QUARANTINE_SLOTS & (SECURE_QUARANTINE_SLOTS - 1)),
	       "rseq_ring_swap() takes a power of two");

static union fast_ring *fast_rings; /* [kmm_nr_cpu_ids] */

static void *alloc_per_cpu(size_t size)
{
	size_t bytes = size * (size_t)kmm_nr_cpu_ids;
	struct kmm_page *page;

	page = alloc_pages_exact(KMM_GFP_ZERO, (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT,
				 KMM_NUMA_NO_NODE);
	return page ? page_to_virt(page) : NULL;
}

int secure_init(void)
{
	rings = alloc_per_cpu(sizeof(struct quarantine));
	fast_rings = alloc_per_cpu(sizeof(union fast_ring));
	if (!rings || !fast_rings)
		return -ENOMEM;
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
		kmm_lock_init(&rings[cpu].lock);
		percpu_stack_init(&fast_rings[cpu].s, SECURE_QUARANTINE_SLOTS);
	}
	return 0;
}

static void release_object(struct kmm_cache *cache, void *obj)
{
	check_poison(cache, obj, "when it left the quarantine", SIZE_MAX);
	__cache_free_slow(cache, obj);
}

static void release(struct qentry *e)
{
	if (!e->cache)
		run_release(e->ptr);
	else
		release_object(e->cache, e->ptr);
}

/* An object from a fast ring: its cache is its page's. */
static void release_fast(void *obj)
{
	release_object(virt_to_page_checked(obj)->private, obj);
}

/* This CPU: rseq's cpu_id, one load (a hint: any CPU's rings will do). */
static int this_cpu(void)
{
	int cpu = rseq_current_cpu();

	if (cpu < 0)
		cpu = sched_getcpu();

	return (unsigned int)cpu < (unsigned int)kmm_nr_cpu_ids ? cpu : 0;
}

#define RELEASE_BATCH 8
#define PREFETCH_MAX 2048 /* bytes of a block leaving soon brought into the cache */

/*
 * A full ring releases its oldest block on each push, cold by then: the
 * block after the next one to leave is fetched now, two frees ahead of its
 * poison scan.
 */
static void prefetch_next(const struct qentry *e)
{
	const char *p = e->ptr;
	size_t n = MIN(e->bytes, (size_t)PREFETCH_MAX);

	for (size_t i = 0; i < n; i += KMM_CACHELINE)
		__builtin_prefetch(p + i);
	if (e->cache) /* the free metadata, past a large object */
		__builtin_prefetch(p + e->cache->meta);
}

/*
 * The locked ring.  A block leaves it when it is full (in slots or bytes),
 * or once SECURE_QUARANTINE_SLOTS frees on this CPU, to either ring, have
 * followed its own: large blocks, rare among small ones, are held as long
 * as the small ones, not until 1024 other large ones are freed.
 */
static void quarantine_push(void *ptr, struct kmm_cache *cache, size_t bytes)
{
	int cpu = this_cpu();
	struct quarantine *q = &rings[cpu];
	struct qentry out[RELEASE_BATCH];
	unsigned int n = 0, now;

	kmm_lock(&q->lock);
	now = q->pushes++ + READ_ONCE(fast_rings[cpu].s.count);
	while (q->count && n < RELEASE_BATCH &&
	       (q->count == SECURE_QUARANTINE_SLOTS || q->bytes + bytes > SECURE_QUARANTINE_BYTES ||
		now - q->e[q->head].stamp >= SECURE_QUARANTINE_SLOTS)) {
		out[n++] = q->e[q->head];
		q->bytes -= q->e[q->head].bytes;
		q->head = (q->head + 1) % SECURE_QUARANTINE_SLOTS;
		q->count--;
	}
	q->e[(q->head + q->count) % SECURE_QUARANTINE_SLOTS] =
		(struct qentry){ ptr, cache, bytes, now };
	q->count++;
	q->bytes += bytes;
	if (q->count > 1)
		prefetch_next(&q->e[(q->head + 1) % SECURE_QUARANTINE_SLOTS]);
	kmm_unlock(&q->lock);
	for (unsigned int i = 0; i < n; i++)
		release(&out[i]);
}

/*
 * Quarantine slab object @obj: a small one on this CPU's rseq ring, whose
 * oldest object leaves (the next to leave is fetched now, a free ahead of
 * its poison scan); else, or when that ring cannot take it, the locked ring.
 */
static void quarantine_object(struct kmm_cache *cache, void *obj)
{
#if KMM_HAVE_RSEQ_ASM
	if (cache->object_size <= SECURE_FAST_MAX && percpu_stack_rseq()) {
		void *old, *next;

		if (!rseq_ring_swap(kmm_rseq_offset, fast_rings, sizeof(union fast_ring),
				    (unsigned int)kmm_nr_cpu_ids, obj, &old, &next)) {
			if (next) { /* and its descriptor, where its cache is */
				__builtin_prefetch(next);
				__builtin_prefetch((char *)next + KMM_CACHELINE);
				__builtin_prefetch(virt_to_page_checked(next));
			}
			if (old)
				release_fast(old);
			return;
		}
	}
#endif
	quarantine_push(obj, cache, cache->size);
}

/*
 * Take the objects of @cache (NULL: all) off CPU @cpu's fast ring, up to
 * ARRAY_SIZE(out) a pass, and release them.
 */
static void drain_fast(struct kmm_cache *cache, int cpu)
{
	struct percpu_stack *s = &fast_rings[cpu].s;
	void *out[64];
	unsigned int n;

	do {
		n = 0;
		percpu_stack_stop(&s, 1, cpu);
		for (unsigned int i = 0; i < SECURE_QUARANTINE_SLOTS && n < ARRAY_SIZE(out); i++) {
			void *obj = s->slot[i];

			if (obj && (!cache || virt_to_page_checked(obj)->private == cache)) {
				out[n++] = obj;
				s->slot[i] = NULL;
			}
		}
		percpu_stack_restart(&s, 1);
		for (unsigned int i = 0; i < n; i++)
			release_fast(out[i]);
	} while (n == ARRAY_SIZE(out));
}

void secure_drain(struct kmm_cache *cache)
{
	if (!slab_secure)
		return;
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
		struct quarantine *q = &rings[cpu];
		struct qentry out[64];
		unsigned int n;

		drain_fast(cache, cpu);
		do {
			unsigned int keep = 0;

			n = 0;
			kmm_lock(&q->lock);
			for (unsigned int i = 0; i < q->count; i++) {
				struct qentry e = q->e[(q->head + i) % SECURE_QUARANTINE_SLOTS];

				if ((!cache || e.cache == cache) && n < ARRAY_SIZE(out)) {
					out[n++] = e;
					q->bytes -= e.bytes;
				} else {
					q->e[(q->head + keep++) % SECURE_QUARANTINE_SLOTS] = e;
				}
			}
			q->count = keep;
			kmm_unlock(&q->lock);
			for (unsigned int i = 0; i < n; i++)
				release(&out[i]);
		} while (n == ARRAY_SIZE(out));
	}
}

/* At exit: the objects on CPU @cpu's fast ring must be untouched since their free. */
static void exit_check_fast(int cpu)
{
	struct percpu_stack *s = &fast_rings[cpu].s;

	percpu_stack_stop(&s, 1, cpu);
	for (unsigned int i = 0; i < SECURE_QUARANTINE_SLOTS; i++) {
		void *obj = s->slot[i];

		if (obj)
			check_poison(virt_to_page_checked(obj)->private, obj, "at exit", SIZE_MAX);
	}
	percpu_stack_restart(&s, 1);
}

/* At exit: the blocks still held must be untouched since their free. */
static __cold void secure_exit_walk(void)
{
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
		struct quarantine *q = &rings[cpu];

		exit_check_fast(cpu);
		kmm_lock(&q->lock);
		for (unsigned int i = 0; i < q->count; i++) {
			struct qentry *e = &q->e[(q->head + i) % SECURE_QUARANTINE_SLOTS];

			if (e->cache) {
				check_poison(e->cache, e->ptr, "at exit", SIZE_MAX);
			} else if (find_not(e->ptr, secure_run_size(virt_to_page_checked(e->ptr)),
					    0)) {
				report_run(e->ptr, virt_to_page_checked(e->ptr),
					   "write after free to", "found at exit");
			}
		}
		kmm_unlock(&q->lock);
	}
}

/* Every process runs this; only the hardened ones walk (out of the hot
 * code, src/layout.ld). */
static __attribute__((destructor)) void secure_exit_check(void)
{
	if (slab_secure && rings && fast_rings)
		secure_exit_walk();
}

void secure_fork(enum kmm_fork_op op)
{
	if (!slab_secure)
		return;
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
		kmm_lock_fork(&fast_rings[cpu].s.lock, op);
		kmm_lock_fork(&rings[cpu].lock, op);
	}
}

/* ---- C++ ---- */

static const char *delete_name(enum kmm_alloc_kind kind)
{
	return kind == KMM_KIND_NEW_ARRAY ? "delete[]" : "delete";
}

/*
 * Every build: a page run (the default layout) keeps its kind in
 * head->freelist, which kmalloc clears for each new run; delete and new
 * reach their slow paths for runs, so the check costs the fast paths nothing.
 * A sized delete must name a size of the pages asked for (head->inuse; the
 * run itself is the whole block, kmalloc_large()).
 */
static void run_check_delete(void *p, struct kmm_page *page, enum kmm_alloc_kind kind, size_t size)
{
	unsigned long npages = (unsigned long)page->private;
	unsigned int k = page->freelist & 15;

	if (k == KMM_KIND_MALLOC)
		return;
	if (k != kind)
		kmm_panic("mismatched delete of %p (page run of %lu pages, allocated by %s): freed "
			  "with %s",
			  p, npages, kind_name[k % 3], delete_name(kind));
	if (size && MAX((size + PAGE_SIZE - 1) >> PAGE_SHIFT, 1UL) != page->inuse)
		kmm_panic("mismatched sized delete of %p (page run of %lu pages, %u asked for, "
			  "allocated by %s): sized %s of %zu bytes",
			  p, npages, page->inuse, kind_name[k % 3], delete_name(kind), size);
}

void slab_bad_sized_delete(void *p, enum kmm_alloc_kind kind, size_t size)
{
	struct kmm_cache *cache = slab_head(virt_to_page_checked(p))->private;

	kmm_panic("mismatched sized delete of %p (cache %s, object %u, allocated): sized %s of "
		  "%zu bytes, which %s",
		  p, cache->name, obj_index(cache, p), delete_name(kind), size,
		  size > cache->object_size ? "does not fit it" : "a smaller class holds");
}

void secure_set_kind(void *p, enum kmm_alloc_kind kind)
{
	struct kmm_page *page = p ? virt_to_page_checked(p) : NULL;

	if (!page)
		return;
	if (page->flags & (PG_slab | PG_slab_tail)) {
		struct kmm_cache *cache = slab_head(page)->private;
		struct tag t;

		if (!slab_secure) /* no tag in the default layout */
			return;
		t = get_tag(cache, p);
		set_tag(cache, p, t.req, kind, STATE_ALLOCATED);
	} else if (is_secure_run(page)) {
		page->freelist = (uint16_t)(kind | STATE_ALLOCATED << 4);
	} else if (page->flags == PG_exact) {
		page->freelist = (uint16_t)kind;
	}
}

void secure_check_delete(void *p, enum kmm_alloc_kind kind, size_t size)
{
	struct kmm_page *page = p ? virt_to_page_checked(p) : NULL;
	char detail[128];

	if (!page)
		return;
	if (page->flags & (PG_slab | PG_slab_tail)) {
		struct kmm_cache *cache = slab_head(page)->private;
		struct tag t;

		if (!slab_secure) /* no tag in the default layout */
			return;
		t = get_tag(cache, p);
		if (t.state != STATE_ALLOCATED)
			return; /* the free reports it */
		if (t.kind != KMM_KIND_MALLOC && t.kind != kind) {
			kmm_snprintf(detail, sizeof(detail), "freed with %s", delete_name(kind));
			report(cache, p, "mismatched delete of", detail);
		}
		if (size && t.kind != KMM_KIND_MALLOC && size != t.req) {
			kmm_snprintf(detail, sizeof(detail), "sized %s of %zu bytes",
				     delete_name(kind), size);
			report(cache, p, "mismatched sized delete of", detail);
		}
	} else if (is_secure_run(page) && (page->freelist >> 4) == STATE_ALLOCATED) {
		unsigned int k = page->freelist & 15;

		if (k != KMM_KIND_MALLOC && k != kind) {
			kmm_snprintf(detail, sizeof(detail), "freed with %s", delete_name(kind));
			report_run(p, page, "mismatched delete of", detail);
		}
		if (size && k != KMM_KIND_MALLOC && size != secure_run_size(page)) {
			kmm_snprintf(detail, sizeof(detail), "sized %s of %zu bytes",
				     delete_name(kind), size);
			report_run(p, page, "mismatched sized delete of", detail);
		}
	} else if (page->flags == PG_exact && !((uintptr_t)p & (PAGE_SIZE - 1))) {
		run_check_delete(p, page, kind, size);
	}
}
