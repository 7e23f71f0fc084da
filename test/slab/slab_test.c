// SPDX-License-Identifier: MIT
/*
 * slab_test.c - the slab layer through <kmm/slab.h> and its internals:
 * size classes (formula, tables, waste), caches with constructors and
 * alignments, conservation of objects across per-CPU stacks and slabs,
 * slabinfo's format, and misuse (destroying a cache with live objects,
 * freeing an object to the wrong cache, a double free, a free in a slab's
 * tail slack or of a slot never handed out, a free-list link overwritten
 * after free) diagnosed; the secret of the marks is not the stack canary;
 * objects passed between threads through the depot are neither lost nor
 * handed out twice.
 */
#include "../kt_kmm.h"
#include "slab/secure.h"
#include "slab/slab.h"

#include <kmm/mempool.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <unistd.h>

static void test_size_classes(void)
{
	KT_REQUIRE(kmm_init() == 0, "init");
	for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
		KT_CHECK(kmalloc_index(kmalloc_size(i)) == i, "class %u (%u bytes) maps to %u", i,
			 kmalloc_size(i), kmalloc_index(kmalloc_size(i)));
		if (i)
			KT_CHECK(kmalloc_size(i) > kmalloc_size(i - 1),
				 "classes not increasing at %u", i);
	}
	KT_CHECK(kmalloc_size(NR_KMALLOC_CACHES - 1) == KMALLOC_MAX_SIZE, "largest class %u",
		 kmalloc_size(NR_KMALLOC_CACHES - 1));
	/* kmalloc_slab() may give a learned cache in the class (test_learned_class()). */
	for (size_t size = 0; size <= KMALLOC_MAX_SIZE; size++) {
		struct kmm_cache *c = kmalloc_class(size), *s = kmalloc_slab(size);

		unsigned int idx = kmalloc_index(size ? size : 1);

		if (c != kmalloc_caches[idx] || c->size < size ||
		    (idx && kmalloc_size(idx - 1) >= size) || s->kclass != c || s->size < size) {
			KT_CHECK(0,
				 "size %zu: tables give %s and %s, the smallest class that holds "
				 "it %s",
				 size, c->name, s->name, kmalloc_caches[idx]->name);
			break;
		}
	}
	/* A power of two plus a header (sqlite: 1024 + 8, 4096 + 272) wastes under 1/8. */
	for (size_t p2 = 1024; p2 < KMALLOC_MAX_SIZE; p2 *= 2) {
		size_t size = p2 + 8;

		KT_CHECK(kmalloc_slab(size)->size <= p2 + p2 / 8, "%zu bytes in %s", size,
			 kmalloc_slab(size)->name);
	}
}

static int ctor_calls;
static void ctor(void *obj)
{
	memset(obj, 0x5a, 72);
	ctor_calls++;
}

static void test_cache_lifecycle(void)
{
	struct kmm_cache *c = kmm_cache_create("test_obj", 72, 0, 0, ctor);
	void *objs[3000];
	unsigned long first_ctor;

	KT_REQUIRE(c, "create");
	for (int i = 0; i < 3000; i++) {
		unsigned char *o = kmm_cache_alloc(c, KMM_GFP_KERNEL);

		KT_REQUIRE(o, "alloc %d", i);
		KT_CHECK(((uintptr_t)o & 15) == 0, "object %p not 16-aligned", (void *)o);
		KT_CHECK(o[0] == 0x5a && o[71] == 0x5a, "constructor did not run on %p", (void *)o);
		memset(o, i & 0xff, 72);
		objs[i] = o;
	}
	first_ctor = (unsigned long)ctor_calls;
	KT_CHECK(first_ctor >= 3000, "constructor ran %lu times for 3000 objects", first_ctor);
	KT_CHECK(cache_active_objects(c) == 3000, "active %lu", cache_active_objects(c));
	for (int i = 0; i < 3000; i += 2)
		kmm_cache_free(c, objs[i]);
	KT_CHECK(cache_active_objects(c) == 1500, "active %lu after freeing half",
		 cache_active_objects(c));
	for (int i = 1; i < 3000; i += 2)
		kmm_cache_free(c, objs[i]);
	cache_shrink(c);
	KT_CHECK(cache_active_objects(c) == 0, "active %lu after all frees",
		 cache_active_objects(c));
	kmm_cache_destroy(c);
}

/*
 * A constructor cache hands objects back as they were freed: in constructed
 * state (the program frees them so), every byte of them, across slabs and
 * rounds of alloc/free/alloc.  The free-object metadata lies past the object.
 */
#define CTOR_SIZE 40

static void ctor_pattern(void *obj)
{
	for (int i = 0; i < CTOR_SIZE; i++)
		((unsigned char *)obj)[i] = (unsigned char)(0xc0 + i);
}

static int ctor_intact(const unsigned char *o)
{
	for (int i = 0; i < CTOR_SIZE; i++)
		if (o[i] != (unsigned char)(0xc0 + i))
			return i;
	return -1;
}

static void test_ctor_cache_reuse(void)
{
	enum { N = 2000, ROUNDS = 6 };
	struct kmm_cache *c = kmm_cache_create("ctor_reuse", CTOR_SIZE, 0, 0, ctor_pattern);
	struct kmm_mempool *pool;
	static void *objs[N];
	int bad = 0;

	KT_REQUIRE(c, "create");
	KT_CHECK(c->objects < N / 4, "%u objects per slab: the test wants several slabs",
		 c->objects);
	for (int round = 0; round < ROUNDS && !bad; round++) {
		for (int i = 0; i < N; i++) {
			objs[i] = kmm_cache_alloc(c, KMM_GFP_KERNEL);
			KT_REQUIRE(objs[i], "alloc %d", i);
			if (ctor_intact(objs[i]) >= 0 && bad++ < 3)
				KT_CHECK(0, "round %d: object %p byte %d not as constructed", round,
					 objs[i], ctor_intact(objs[i]));
		}
		/* Free in an order other than allocation's: objects change places. */
		for (int i = round & 1; i < N; i += 2)
			kmm_cache_free(c, objs[i]);
		for (int i = !(round & 1); i < N; i += 2)
			kmm_cache_free(c, objs[i]);
	}
	/* One object, freed and taken back at once, many times: the per-CPU stack's top. */
	for (int i = 0; i < 10000; i++) {
		void *o = kmm_cache_alloc(c, KMM_GFP_KERNEL);

		KT_REQUIRE(o && ctor_intact(o) < 0, "alloc/free loop %d: %p", i, o);
		kmm_cache_free(c, o);
	}
	/* The mempool over the same cache takes the same fast path. */
	pool = kmm_mempool_create_slab_pool(4, c);
	KT_REQUIRE(pool, "slab pool");
	for (int i = 0; i < 1000; i++) {
		void *o = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);

		KT_REQUIRE(o && ctor_intact(o) < 0, "mempool loop %d: %p", i, o);
		kmm_mempool_free(o, pool);
	}
	kmm_mempool_destroy(pool);
	cache_shrink(c);
	KT_CHECK(cache_active_objects(c) == 0, "active %lu", cache_active_objects(c));
	kmm_cache_destroy(c);
}

static void test_cache_alignment_and_errors(void)
{
	struct kmm_cache *c = kmm_cache_create("aligned", 100, 256, 0, NULL);

	KT_REQUIRE(c, "create");
	for (int i = 0; i < 100; i++) {
		void *o = kmm_cache_alloc(c, KMM_GFP_ZERO);

		KT_CHECK(((uintptr_t)o & 255) == 0, "%p not 256-aligned", o);
		KT_CHECK(((char *)o)[99] == 0, "KMM_GFP_ZERO object not zero");
		kmm_cache_free(c, o);
	}
	kmm_cache_destroy(c);
	c = kmm_cache_create("hw", 40, 0, KMM_SLAB_HWCACHE_ALIGN, NULL);
	KT_CHECK(c && ((uintptr_t)kmm_cache_alloc(c, 0) & 63) == 0, "HWCACHE_ALIGN");
	errno = 0;
	KT_CHECK(!kmm_cache_create("bad", 0, 0, 0, NULL) && errno == EINVAL, "size 0");
	KT_CHECK(!kmm_cache_create("bad", 64, 24, 0, NULL) && errno == EINVAL, "align 24");
	KT_CHECK(!kmm_cache_create("bad", 1 << 30, 0, 0, NULL) && errno == EINVAL, "1 GiB");
}

static void test_kmalloc_api(void)
{
	char *p = kmm_kmalloc(100, KMM_GFP_KERNEL), *q;

	KT_REQUIRE(p, "kmalloc");
	KT_CHECK(kmm_ksize(p) == 112, "ksize %zu", kmm_ksize(p));
	memset(p, 7, 100);
	q = kmm_krealloc(p, 5000, KMM_GFP_KERNEL);
	KT_CHECK(q && q[99] == 7 && kmm_ksize(q) >= 5000, "krealloc");
	kmm_kfree(q);
	p = kmm_kzalloc(300000, KMM_GFP_KERNEL);
	KT_CHECK(p && p[299999] == 0 && kmm_ksize(p) >= 300000, "kzalloc large");
	kmm_kfree(p);
	kmm_kfree(NULL);
	KT_CHECK(kmm_krealloc(NULL, 10, 0) != NULL, "krealloc(NULL)");
}

/* The bytes of [@p + @from, @p + @to) that are not zero. */
static size_t nonzero(const char *p, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++)
		n += p[i] != 0;
	return n;
}

/*
 * krealloc(__GFP_ZERO) of a block from kzalloc(), as the kernel's: what the
 * block did not hold before reads zero, whether it grows in place (a page
 * run over the dirty rest of a reused buddy block, of which kzalloc()
 * zeroed only the pages asked for), moves (a slab object into a run), or
 * shrinks and grows back within its usable size.
 */
static void test_krealloc_zero(void)
{
	char *dirty = kmm_kmalloc(500 << 10, KMM_GFP_KERNEL), *p, *q;

	KT_REQUIRE(dirty, "kmalloc 500 KiB");
	memset(dirty, 0xff, 500 << 10);
	kmm_kfree(dirty);
	p = kmm_kzalloc(300 << 10, KMM_GFP_KERNEL);
	KT_REQUIRE(p, "kzalloc 300 KiB");
	memset(p, 5, 300 << 10);
	q = kmm_krealloc(p, 500 << 10, KMM_GFP_KERNEL | KMM_GFP_ZERO);
	KT_REQUIRE(q, "krealloc to 500 KiB");
	KT_CHECK(q[0] == 5 && q[(300 << 10) - 1] == 5, "contents kept");
	KT_CHECK(nonzero(q, 300 << 10, 500 << 10) == 0, "%zu bytes of the grown part not zero",
		 nonzero(q, 300 << 10, 500 << 10));
	/* Shrunk, then grown back where it is: the bytes in between read zero again. */
	q = kmm_krealloc(q, 400 << 10, KMM_GFP_KERNEL | KMM_GFP_ZERO);
	KT_REQUIRE(q, "krealloc to 400 KiB");
	memset(q, 6, 400 << 10);
	q = kmm_krealloc(q, 200 << 10, KMM_GFP_KERNEL | KMM_GFP_ZERO);
	KT_REQUIRE(q, "krealloc to 200 KiB");
	q = kmm_krealloc(q, 400 << 10, KMM_GFP_KERNEL | KMM_GFP_ZERO);
	KT_REQUIRE(q, "krealloc back to 400 KiB");
	KT_CHECK(q[(200 << 10) - 1] == 6, "contents kept");
	KT_CHECK(nonzero(q, 200 << 10, 400 << 10) == 0, "%zu bytes after shrink and grow not zero",
		 nonzero(q, 200 << 10, 400 << 10));
	kmm_kfree(q);
	/* A slab object that moves. */
	p = kmm_kzalloc(100, KMM_GFP_KERNEL);
	KT_REQUIRE(p, "kzalloc 100");
	memset(p, 7, 100);
	q = kmm_krealloc(p, 60000, KMM_GFP_KERNEL | KMM_GFP_ZERO);
	KT_REQUIRE(q, "krealloc to 60000");
	KT_CHECK(q[99] == 7 && nonzero(q, 100, 60000) == 0, "moved: %zu bytes not zero",
		 nonzero(q, 100, 60000));
	kmm_kfree(q);
}

/*
 * Learned classes (kmalloc.c): a size above 1 KiB asked for again and again,
 * that its class holds with more than 1/32 to spare, gets a cache of its
 * own.  1032 bytes (sqlite's 1024 + 8) then take 1040-byte objects, not
 * 1152; the sizes around it keep their class, a size its class fits (1150)
 * is not learned, blocks from before keep their cache, and a sized delete
 * checks the class either way.
 */
static void test_learned_class(void)
{
	enum { N = 3000 };
	static void *obj[N];
	struct kmm_cache *class = kmalloc_class(1032), *learned;
	void *before;
	bool listed = false;

	if (slab_secure)
		return; /* KMM_SECURE: no learned classes */
	KT_REQUIRE(class->object_size == 1152, "1032 bytes in %s", class->name);
	before = kmm_kmalloc(1032, KMM_GFP_KERNEL);
	KT_REQUIRE(before && kmm_ksize(before) == 1152, "before learning: ksize %zu",
		   kmm_ksize(before));
	for (int round = 0; round < 2; round++) {
		size_t size = round ? 1150 : 1032;

		for (int i = 0; i < N; i++) {
			obj[i] = kmm_kmalloc(size, KMM_GFP_KERNEL);
			KT_REQUIRE(obj[i], "kmalloc %zu #%d", size, i);
			memset(obj[i], i, size);
		}
		for (int i = 0; i < N; i++)
			kmm_kfree(obj[i]);
	}
	learned = kmalloc_slab(1032);
	KT_CHECK(learned != class && learned->object_size == 1040 && learned->kclass == class,
		 "after %d blocks of 1032 bytes: %s (class %s)", N, learned->name,
		 learned->kclass->name);
	KT_CHECK(kmalloc_slab(1025) == learned && kmalloc_slab(1040) == learned &&
			 kmalloc_slab(1024) != learned && kmalloc_slab(1041) == class,
		 "sizes around 1040: %s %s %s %s", kmalloc_slab(1024)->name,
		 kmalloc_slab(1025)->name, kmalloc_slab(1040)->name, kmalloc_slab(1041)->name);
	KT_CHECK(kmalloc_slab(1150) == class, "1150 bytes (2 to spare in 1152) in %s",
		 kmalloc_slab(1150)->name);
	/* Its slabs waste at most 1/32 (kmalloc-1152's, order 2, waste 1/64). */
	KT_CHECK(((PAGE_SIZE << learned->order) - learned->used) * 32 <=
			 (PAGE_SIZE << learned->order),
		 "%s: %u objects in %lu bytes", learned->name, learned->objects,
		 (unsigned long)(PAGE_SIZE << learned->order));
	obj[0] = kmm_kmalloc(1032, KMM_GFP_KERNEL);
	KT_CHECK(obj[0] && kmm_ksize(obj[0]) == 1040 && kmm_ksize(before) == 1152,
		 "ksize after learning %zu, of the block from before %zu", kmm_ksize(obj[0]),
		 kmm_ksize(before));
	KT_CHECK(slab_sized_delete_ok(learned, 1032, false) &&
			 slab_sized_delete_ok(class, 1032, false),
		 "a sized delete of 1032 bytes refused");
	KT_CHECK(!slab_sized_delete_ok(learned, 2048, false) &&
			 !slab_sized_delete_ok(learned, 1000, false),
		 "a sized delete of a size of another class accepted");
	kmm_kfree(obj[0]);
	kmm_kfree(before);
	/* Two sizes of one class, asked for in turn, are both learned. */
	for (int i = 0; i < N; i++) {
		obj[i] = kmm_kmalloc(i % 2 ? 2200 : 2056, KMM_GFP_KERNEL);
		KT_REQUIRE(obj[i], "kmalloc #%d", i);
	}
	for (int i = 0; i < N; i++)
		kmm_kfree(obj[i]);
	KT_CHECK(kmalloc_slab(2056)->object_size == 2064 &&
			 kmalloc_slab(2200)->object_size == 2208 &&
			 kmalloc_slab(2056)->kclass == kmalloc_class(2200),
		 "2056 and 2200 bytes in turn: %s and %s", kmalloc_slab(2056)->name,
		 kmalloc_slab(2200)->name);
	kmm_lock(&slab_mutex);
	for (struct kmm_list *pos = slab_caches.next; pos != &slab_caches; pos = pos->next)
		listed |= list_entry(pos, struct kmm_cache, list) == learned;
	kmm_unlock(&slab_mutex);
	KT_CHECK(listed, "%s is not in the cache list (slabinfo, drains)", learned->name);
}

/*
 * A size is learned early, while most of the program's blocks of it are
 * still to come: blocks made before stay in the class's larger objects for
 * their whole life.  4368 bytes (sqlite3's page, 4096 + 272) in
 * kmalloc-4608, refilled 3 at a time: learned within 100 blocks (it took
 * about 190 with 64 votes).
 */
static void test_learned_early(void)
{
	enum { N = 100 };
	static void *obj[N];
	struct kmm_cache *class = kmalloc_class(4368);
	int n = 0;

	if (slab_secure)
		return; /* KMM_SECURE: no learned classes */
	KT_REQUIRE(kmalloc_slab(4368) == class && class->object_size == 4608,
		   "4368 bytes in %s before the test", kmalloc_slab(4368)->name);
	while (n < N && kmalloc_slab(4368) == class) {
		obj[n] = kmm_kmalloc(4368, KMM_GFP_KERNEL);
		KT_REQUIRE(obj[n], "kmalloc 4368 #%d", n);
		n++;
	}
	KT_CHECK(kmalloc_slab(4368) != class && kmalloc_slab(4368)->object_size == 4368,
		 "4368 bytes still in %s after %d blocks", kmalloc_slab(4368)->name, n);
	while (n > 0)
		kmm_kfree(obj[--n]);
}

/* The bytes of @cache's slabs on every node. */
static size_t slab_bytes(const struct kmm_cache *cache)
{
	size_t slabs = 0;

	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		slabs += cache->node[nid].nr_slabs;
	return slabs << (PAGE_SHIFT + cache->order);
}

/*
 * Up to 1 KiB, a size is learned only in a class that holds 1 MiB of slabs
 * (a small program of random sizes would pay more for a new cache than it
 * saves): 272 bytes (jq's objects, 64-byte steps between the classes there)
 * stay in kmalloc-320 below 1 MiB, then get a cache of their own, which the
 * hit path's table serves too.
 */
static void test_learned_small(void)
{
	enum { N = 12000 };
	static void *obj[N];
	struct kmm_cache *class = kmalloc_class(272), *learned;
	int n = 0;

	if (slab_secure)
		return; /* KMM_SECURE: no learned classes */
	KT_REQUIRE(kmalloc_slab(272) == class && class->object_size == 320,
		   "272 bytes in %s before the test", kmalloc_slab(272)->name);
	while (n < N && slab_bytes(class) < (3u << 20) / 4) {
		obj[n] = kmm_kmalloc(272, KMM_GFP_KERNEL);
		KT_REQUIRE(obj[n], "kmalloc 272 #%d", n);
		n++;
	}
	KT_CHECK(kmalloc_slab(272) == class, "272 bytes learned in a class of %zu KiB (%d blocks)",
		 slab_bytes(class) >> 10, n);
	while (n < N && kmalloc_slab(272) == class) {
		obj[n] = kmm_kmalloc(272, KMM_GFP_KERNEL);
		KT_REQUIRE(obj[n], "kmalloc 272 #%d", n);
		n++;
	}
	learned = kmalloc_slab(272);
	KT_REQUIRE(n < N, "272 bytes not learned in %d blocks", n);
	obj[n] = kmm_kmalloc(272, KMM_GFP_KERNEL); /* the first from the new cache */
	KT_REQUIRE(obj[n], "kmalloc 272 #%d", n);
	n++;
	KT_CHECK(learned != class && learned->object_size == 272 && learned->kclass == class &&
			 kmalloc_class(272) == class,
		 "272 bytes in %s after %d blocks (%zu KiB of slabs in %s)", learned->name, n,
		 slab_bytes(class) >> 10, class->name);
	KT_CHECK(kmalloc_slab(257) == learned && kmalloc_slab(256) != learned &&
			 kmalloc_slab(273) == class,
		 "sizes around 272: %s %s %s", kmalloc_slab(256)->name, kmalloc_slab(257)->name,
		 kmalloc_slab(273)->name);
	KT_CHECK(kmalloc_fast_table[257] == learned->cpu &&
			 kmalloc_fast_table[272] == learned->cpu &&
			 kmalloc_fast_table[273] == class->cpu &&
			 kmalloc_fast_table[256] != learned->cpu,
		 "the hit path's table does not follow the learned cache");
	KT_CHECK(kmm_ksize(obj[0]) == 320 && kmm_ksize(obj[n - 1]) == 272,
		 "ksize of the first block %zu, of the last %zu", kmm_ksize(obj[0]),
		 kmm_ksize(obj[n - 1]));
	KT_CHECK(slab_sized_delete_ok(class, 272, false) &&
			 slab_sized_delete_ok(learned, 272, false) &&
			 !slab_sized_delete_ok(learned, 200, false),
		 "a sized delete of 272 bytes judged wrong");
	while (n > 0)
		kmm_kfree(obj[--n]);
}

/*
 * kmalloc keeps to slabs and page runs: up to the largest buddy block, and
 * nothing beyond (the malloc layer sends larger blocks to vmalloc).  A run
 * grows in place only up to that block; a slab object never grows.
 */
/*
 * The kmalloc caches of 1 KiB and up, whose stacks hold 24 or 6 objects,
 * share rows of stacks (slub.c, boot_shared): no two caches' stacks overlap
 * on any CPU, each stack fits its high, and they take at most 4 areas
 * (one for each class of 1 KiB up to 3.5 KiB in fours, one for all 16 from
 * 4 KiB), not 26.  Then objects of every such class go through their
 * stacks at once and each comes back with its own contents.
 */
static void test_shared_stack_rows(void)
{
	uintptr_t lo[NR_KMALLOC_CACHES], hi[NR_KMALLOC_CACHES], base = 0;
	unsigned int n = 0, nareas = 0, bad = 0;
	void *objs[NR_KMALLOC_CACHES][32];

	KT_REQUIRE(kmm_init() == 0, "init");
	for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
		struct kmm_cache *c = kmalloc_caches[i];

		if (c->size < 1024)
			continue;
		lo[n] = (uintptr_t)&c->cpu[0];
		hi[n] = lo[n] + offsetof(struct percpu_stack, slot) + c->cpu_high * sizeof(void *);
		for (unsigned int j = 0; j < n; j++)
			if (lo[n] < hi[j] && lo[j] < hi[n])
				KT_CHECK(0, "%s: its stacks overlap another cache's", c->name);
		n++;
	}
	/* By address: a stack within 1 KiB of an area's first one shares its rows. */
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (lo[j] < lo[i]) {
				uintptr_t t = lo[i], u = hi[i];

				lo[i] = lo[j], hi[i] = hi[j], lo[j] = t, hi[j] = u;
			}
	for (unsigned int i = 0; i < n; i++) {
		if (!nareas || lo[i] - base >= sizeof(union slab_cpu)) {
			base = lo[i];
			nareas++;
		}
		KT_CHECK(hi[i] - base <= sizeof(union slab_cpu),
			 "a stack at %#lx ends %lu bytes into its area's row", (unsigned long)lo[i],
			 (unsigned long)(hi[i] - base));
	}
	KT_CHECK(n >= 20, "only %u kmalloc caches of 1 KiB and up", n);
	KT_CHECK(nareas <= 4, "%u caches of 1 KiB and up take %u areas of stacks", n, nareas);
	for (int round = 0; round < 50; round++) {
		for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
			unsigned int size = kmalloc_size(i);

			for (int k = 0; k < 32 && size >= 1024; k++) {
				objs[i][k] = kmm_kmalloc(size, KMM_GFP_KERNEL);
				KT_REQUIRE(objs[i][k], "kmalloc(%u)", size);
				memset(objs[i][k], (int)(i * 32 + k), size);
			}
		}
		for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
			unsigned int size = kmalloc_size(i);

			for (int k = 0; k < 32 && size >= 1024; k++) {
				unsigned char *p = objs[i][k];

				bad += p[0] != (unsigned char)(i * 32 + k) ||
				       p[size - 1] != (unsigned char)(i * 32 + k);
				kmm_kfree(p);
			}
		}
	}
	KT_CHECK(bad == 0, "%u objects of the classes from 1 KiB changed while stacked", bad);
	printf("%u caches of 1 KiB and up: stacks in %u areas\n", n, nareas);
}

static void test_kmalloc_stays_below_vmalloc(void)
{
	char *run, *obj;

	KT_REQUIRE(kmm_init() == 0, "init");
	run = __kmalloc(KMALLOC_LARGE_MAX, 0, KMM_NUMA_NO_NODE, 0);
	KT_REQUIRE(run, "__kmalloc of %lu bytes failed", KMALLOC_LARGE_MAX);
	KT_CHECK(virt_to_page_checked(run) && !kmm_is_vmalloc_addr(run),
		 "a 4 MiB kmalloc block is not a page run");
	KT_CHECK(!kmalloc_grow(virt_to_page_checked(run), KMALLOC_LARGE_MAX + 1),
		 "a run grew past the largest buddy block");
	__kfree(run, virt_to_page_checked(run));
	KT_CHECK(!__kmalloc(KMALLOC_LARGE_MAX + 1, 0, KMM_NUMA_NO_NODE, 0),
		 "kmalloc gave a block above 4 MiB");
	KT_CHECK(!__kmalloc(64 << 20, KMM_GFP_ZERO, KMM_NUMA_NO_NODE, 0), "kmalloc of 64 MiB");
	KT_CHECK(!__kmalloc(16, 0, KMM_NUMA_NO_NODE, 2 * KMALLOC_LARGE_MAX),
		 "kmalloc gave an alignment above 4 MiB");
	KT_CHECK(!__kmalloc(SIZE_MAX, 0, KMM_NUMA_NO_NODE, 0), "kmalloc of SIZE_MAX");
	obj = __kmalloc(100, 0, KMM_NUMA_NO_NODE, 0);
	KT_REQUIRE(obj, "__kmalloc(100)");
	KT_CHECK(!kmalloc_grow(virt_to_page_checked(obj), 200), "a slab object grew");
	__kfree(obj, virt_to_page_checked(obj));
}

static void test_slabinfo_format(void)
{
	char buf[32768], name[64];
	unsigned long active, num;
	unsigned int objsize, perslab, pages;
	char *line;
	int seen = 0;
	void *p = kmm_kmalloc(300, 0);

	KT_REQUIRE(kt_dump("slabinfo", buf, sizeof(buf)) == 0, "dump");
	KT_CHECK(!strncmp(buf, "slabinfo - version: 2.1\n# name ", 31), "header:\n%.80s", buf);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		KT_CHECK(sscanf(line, "%63s %lu %lu %u %u %u : tunables", name, &active, &num,
				&objsize, &perslab, &pages) == 6,
			 "line: %s", line);
		KT_CHECK(active <= num && strstr(line, " : slabdata "), "line: %s", line);
		if (!strcmp(name, "kmalloc-320"))
			seen = active >= 1;
	}
	KT_CHECK(seen, "kmalloc-320 does not show the live object");
	kmm_kfree(p);
}

static void destroy_live(void *a)
{
	struct kmm_cache *c = kmm_cache_create("leaky", 32, 0, 0, NULL);

	(void)a;
	kmm_cache_alloc(c, 0);
	kmm_cache_destroy(c);
}

static void wrong_cache(void *a)
{
	struct kmm_cache *c1 = kmm_cache_create("one", 64, 0, 0, NULL);
	struct kmm_cache *c2 = kmm_cache_create("two", 64, 0, 0, NULL);

	(void)a;
	kmm_cache_free(c2, kmm_cache_alloc(c1, 0));
}

static void double_free(void *a)
{
	struct kmm_cache *c = kmm_cache_create("twice", 64, 0, 0, NULL);
	void *o = kmm_cache_alloc(c, 0);

	(void)a;
	kmm_cache_free(c, o);
	kmm_cache_free(c, o);
}

static void double_free_ctor(void *a)
{
	struct kmm_cache *c = kmm_cache_create("twice_ctor", CTOR_SIZE, 0, 0, ctor_pattern);
	void *o = kmm_cache_alloc(c, 0), *p;

	(void)a;
	kmm_cache_free(c, o);
	p = kmm_cache_alloc(c, 0); /* o again (the top of the stack), then freed twice */
	kmm_cache_free(c, p);
	kmm_cache_free(c, p);
}

/* A pointer to free in a child, and the cache it belongs to. */
struct bad_free {
	struct kmm_cache *cache;
	void *ptr;
};

static void free_it(void *a)
{
	struct bad_free *b = a;

	kmm_cache_free(b->cache, b->ptr);
}

/* Expect a free of @ptr in @cache to die with "invalid free of <ptr> ...: @why". */
static void expect_bad_free(const char *what, struct kmm_cache *cache, void *ptr, const char *why)
{
	struct bad_free b = { cache, ptr };
	char needle[160];

	snprintf(needle, sizeof(needle), "invalid free of %p (slab object, cache %s): %s", ptr,
		 cache->name, why);
	kt_expect_death(what, free_it, &b, needle);
}

/*
 * slab_free_check()'s one compare, off * div_magic < div_limit, accepts
 * exactly the object starts before the tail slack: every offset of every
 * kmalloc class's slab.
 */
static void test_free_offset_check(void)
{
	for (unsigned int i = 0; i < NR_KMALLOC_CACHES; i++) {
		struct kmm_cache *c = kmalloc_caches[i];
		unsigned long bad = 0;

		for (uint64_t off = 0; off < (PAGE_SIZE << c->order); off++) {
			bool object = off % c->size == 0 && off < c->used;

			bad += (off * c->div_magic < c->div_limit) != object;
		}
		KT_CHECK(bad == 0, "%s: %lu offsets misjudged", c->name, bad);
	}
}

/*
 * A free at an object-sized offset in a slab's tail slack (past objects *
 * size; the 48-byte class's order-0 slab has 16 bytes of it, at 4080) passes
 * the boundary check and must still be refused.
 */
static void test_free_in_slack(void)
{
	struct kmm_cache *c = kmm_cache_create("slack48", 48, 0, 0, NULL);
	char *o = kmm_cache_alloc(c, 0), *base;

	KT_REQUIRE(o, "no object");
	KT_CHECK(c->used < (PAGE_SIZE << c->order) && c->used % c->size == 0,
		 "slack48: %u objects of %u in a %lu-byte slab leave no object-sized slack offset",
		 c->objects, c->size, (unsigned long)(PAGE_SIZE << c->order));
	base = (char *)((uintptr_t)o & ~((uintptr_t)(PAGE_SIZE << c->order) - 1));
	expect_bad_free("free in the tail slack", c, base + c->used,
			"in the slab's tail slack, past its last object");
	kmm_cache_free(c, o);
	kmm_cache_destroy(c);
}

/*
 * A slot of a slab never handed out is marked free from the slab's creation:
 * freeing it is refused (otherwise it would be handed out twice).
 */
static void test_free_never_allocated(void)
{
	struct kmm_cache *c = kmm_cache_create("fresh", 64, 0, 0, NULL);
	struct kmm_cache *cc = kmm_cache_create("fresh_ctor", CTOR_SIZE, 0, 0, ctor_pattern);
	char *o = kmm_cache_alloc(c, 0), *p = kmm_cache_alloc(cc, 0);

	KT_REQUIRE(o && p && c->objects > 6 && cc->objects > 2, "no objects");
	/* o and p are the first objects of new slabs: their neighbours are free. */
	expect_bad_free("free of a slot never allocated", c, o + 5 * c->size,
			"double free (or never allocated)");
	expect_bad_free("free of a slot never allocated (constructor cache)", cc, p + cc->size,
			"double free (or never allocated)");
	kmm_cache_free(c, o);
	kmm_cache_free(cc, p);
	kmm_cache_destroy(c);
	kmm_cache_destroy(cc);
}

/*
 * A new slab of several pages writes only the objects of its first page
 * (slab_extend()): its other pages are PG_slab_fresh until a refill reaches
 * them, a free into one of them is refused as a free of an object never
 * handed out, and every object of the slab, whatever the size's fit to the
 * pages (384 bytes straddle them, 6000 leave pages with no object start),
 * is still handed out once and only once.
 */
static void free_in_fresh_page(void *arg)
{
	struct kmm_cache *c = kmm_cache_create("lazy_free", 512, 0, 0, NULL);
	char *o = kmm_cache_alloc(c, 0);

	(void)arg;
	KT_REQUIRE(o && c->order >= 1, "no object, or a one-page slab");
	/* o is the new slab's first object; its last page is fresh. */
	kmm_cache_free(c, o + (PAGE_SIZE << c->order) - c->size);
}

static void kfree_in_fresh_page(void *arg)
{
	struct kmm_cache *c = kmalloc_slab(3000);

	(void)arg;
	/* The class may be in use already: allocate until a slab has a fresh page. */
	for (int i = 0; i < 1000; i++) {
		char *o = kmm_kmalloc(3000, KMM_GFP_KERNEL);
		char *base = (char *)((uintptr_t)o & ~(uintptr_t)c->slab_mask);

		KT_REQUIRE(o && kmalloc_slab(3000) == c, "no object, or a learned cache");
		for (unsigned int p = 1; p < 1u << c->order; p++)
			if (virt_to_page_checked(base + p * PAGE_SIZE)->flags & PG_slab_fresh)
				kmm_kfree(base + p * PAGE_SIZE);
	}
}

static void test_lazy_slab(void)
{
	static const unsigned int sizes[] = { 384, 512, 3000, 6000, 9000 };

	for (unsigned int k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct kmm_cache *c = kmm_cache_create("lazy", sizes[k], 0, 0, NULL);
		unsigned int n, pages, fresh = 0, bad = 0;
		char **obj, *base;

		KT_REQUIRE(c && c->order >= 1, "%u: no cache, or a one-page slab", sizes[k]);
		n = c->objects;
		pages = 1u << c->order;
		obj = calloc(2 * n, sizeof(*obj));
		KT_REQUIRE(obj, "calloc");
		obj[0] = kmm_cache_alloc(c, 0);
		KT_REQUIRE(obj[0], "%u: first object", sizes[k]);
		base = (char *)((uintptr_t)obj[0] & ~(uintptr_t)c->slab_mask);
		for (unsigned int p = 1; p < pages; p++)
			fresh += (virt_to_page_checked(base + p * PAGE_SIZE)->flags &
				  PG_slab_fresh) != 0;
		/* The first refill takes two objects, or a page of them. */
		KT_CHECK(fresh + 1 + DIV_ROUND_UP(2 * c->size, PAGE_SIZE) >= pages,
			 "%s: %u of %u pages fresh after one allocation", c->name, fresh, pages);
		for (unsigned int i = 1; i < 2 * n; i++) {
			obj[i] = kmm_cache_alloc(c, 0);
			KT_REQUIRE(obj[i], "%u: object %u", sizes[k], i);
		}
		/* Two slabs' worth: distinct, on object boundaries, none of them overlapping. */
		for (unsigned int i = 0; i < 2 * n; i++) {
			uint64_t off = (uintptr_t)obj[i] & c->slab_mask;

			bad += off % c->size != 0 || off >= c->used;
			for (unsigned int j = 0; j < i; j++)
				bad += obj[j] == obj[i];
			memset(obj[i], 0x5a, c->object_size);
		}
		KT_CHECK(bad == 0, "%s: %u objects misplaced or handed out twice", c->name, bad);
		fresh = 0;
		for (unsigned int p = 1; p < pages; p++)
			fresh += (virt_to_page_checked(base + p * PAGE_SIZE)->flags &
				  PG_slab_fresh) != 0;
		KT_CHECK(fresh == 0, "%s: %u pages still fresh once all objects are out", c->name,
			 fresh);
		for (unsigned int i = 0; i < 2 * n; i++)
			kmm_cache_free(c, obj[i]);
		KT_CHECK(cache_active_objects(c) == 0, "%s: %lu objects still active", c->name,
			 cache_active_objects(c));
		free(obj);
		kmm_cache_destroy(c);
	}
	kt_expect_death("free into a page of a slab not used yet", free_in_fresh_page, NULL,
			"invalid free of");
	if (!kt_under_valgrind())
		kt_expect_death("kfree into a page of a slab not used yet", kfree_in_fresh_page,
				NULL,
				"never allocated (no object of this page was handed out yet)");
}

/*
 * A free object's link (+8) overwritten through a dangling pointer: the
 * slab's free list reaches it on a refill and the decoded index is checked
 * (stored keyed, a plain value decodes out of range).  Without the check the
 * slab hands out memory past its end.
 */
static void corrupt_link(void *a)
{
	struct kmm_cache *c = kmm_cache_create("links", 64, 0, 0, NULL);
	void *keep = kmm_cache_alloc(c, 0);
	uint32_t *dangling = kmm_cache_alloc(c, 0);

	kmm_cache_free(c, dangling);
	cache_shrink(c); /* dangling is back on its slab's free list, keep holds the slab */
	dangling[2] = *(const uint32_t *)a;
	for (unsigned int i = 0; i <= c->objects; i++)
		kmm_cache_alloc(c, 0);
	(void)keep;
}

/*
 * A free object's first word (its free mark) overwritten through a dangling
 * pointer (@where: 0 while it is on its slab's free list, found by a refill;
 * 1 while on this CPU's stack, found by the flush of cache_shrink()).
 */
static void corrupt_mark(void *where)
{
	struct kmm_cache *c = kmm_cache_create("marks", 64, 0, 0, NULL);
	void *keep = kmm_cache_alloc(c, 0);
	uint64_t *dangling = kmm_cache_alloc(c, 0);

	kmm_cache_free(c, dangling);
	if (!*(const int *)where)
		cache_shrink(c);
	*dangling = 42;
	if (*(const int *)where)
		cache_shrink(c);
	for (unsigned int i = 0; i <= c->objects; i++)
		kmm_cache_alloc(c, 0);
	(void)keep;
}

static void test_corrupt_link(void)
{
	/* Past the slab: caught by the bounds check alone. */
	static const uint32_t past = 1000;
	/* In range: caught because links are stored keyed (2^-25 odds of a miss). */
	static const uint32_t in_range = 3;
	static const int on_slab = 0, on_stack = 1;

	kt_expect_death("free list link overwritten after free (past the slab)", corrupt_link,
			(void *)&past, "cache links: free list corrupted in slab");
	kt_expect_death("free list link overwritten after free (in range)", corrupt_link,
			(void *)&in_range, "cache links: free list corrupted in slab");
	/* Memcheck reports the write to the free object itself (the mark check is off). */
	if (kt_under_valgrind())
		return;
	kt_expect_death("free mark overwritten on the slab's free list", corrupt_mark,
			(void *)&on_slab,
			"cache marks, on its slab's free list): its free mark at +0");
	kt_expect_death("free mark overwritten on a per-CPU stack", corrupt_mark, (void *)&on_stack,
			"cache marks, on a per-CPU stack): its free mark at +0");
}

/* Marks written before fork() are the child's: the secret is inherited. */
static void test_secret(void)
{
	const unsigned char *at = (const unsigned char *)getauxval(AT_RANDOM);
	struct kmm_cache *c = kmm_cache_create("forked", 64, 0, 0, NULL);
	void *o = kmm_cache_alloc(c, 0);
	uint64_t canary;

	KT_REQUIRE(at && o, "no AT_RANDOM or object");
	memcpy(&canary, at, sizeof(canary));
	KT_CHECK(slab_secret != (canary | 1), "slab_secret is the stack canary's bytes");
	KT_CHECK(slab_secret & 1, "slab_secret is even");
	kmm_cache_free(c, o);
	expect_bad_free("double free across fork()", c, o, "double free");
	o = kmm_cache_alloc(c, 0);
	kmm_cache_free(c, o);
	kmm_cache_destroy(c);
}

/*
 * The depot (the cross-CPU path): a producer thread allocates objects of one
 * cache and hands them through a ring to a consumer thread, which frees them,
 * on two CPUs where there are two, while a third thread keeps shrinking the
 * cache (draining the stacks and the depot under the traffic).  Every object
 * carries a claim word: the producer swaps in "live, number i" and must find
 * no live claim (an object handed out twice), the consumer swaps in "free"
 * and must find its own claim (an object handed to another owner meanwhile).
 * Then every object is accounted for: none active before and after a
 * shrink, no slab left, and the batches went through the depot.
 */
#define DEPOT_RING 1024
/* 40 bits of magic and 24 of the object's number: old data passes for a claim 1 in 2^40. */
#define CLAIM_FREE 0x46524545ULL /* "FREE" */
#define CLAIM_LIVE 0xc1a1ed0b1e000000ULL
#define CLAIM_MASK 0xffffffffff000000ULL

struct depot_run {
	struct kmm_cache *cache;
	long objects;
	bool valgrind;
	void *ring[DEPOT_RING];
	_Alignas(64) _Atomic long tail;
	_Alignas(64) _Atomic long head;
	_Atomic int done, twice, stolen;
};

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort: one CPU runs both */
}

/* The claim word, past the free object's metadata (link and mark). */
static _Atomic uint64_t *claim(void *obj)
{
	return (_Atomic uint64_t *)((char *)obj + 16);
}

static void *depot_producer(void *arg)
{
	struct depot_run *r = arg;

	pin_to(0);
	for (long i = 0; i < r->objects; i++) {
		void *o = kmm_cache_alloc(r->cache, 0);
		uint64_t old;

		if (!o) {
			atomic_fetch_add(&r->stolen, 1);
			break;
		}
		/* Memcheck: a new object is undefined, its old claim unreadable. */
		if (r->valgrind) {
			atomic_store(claim(o), CLAIM_LIVE | (uint64_t)i);
		} else {
			old = atomic_exchange(claim(o), CLAIM_LIVE | (uint64_t)i);
			if ((old & CLAIM_MASK) == CLAIM_LIVE)
				atomic_fetch_add(&r->twice, 1);
		}
		while (i - atomic_load_explicit(&r->head, memory_order_acquire) >= DEPOT_RING)
			sched_yield();
		r->ring[i % DEPOT_RING] = o;
		atomic_store_explicit(&r->tail, i + 1, memory_order_release);
	}
	return NULL;
}

static void *depot_consumer(void *arg)
{
	struct depot_run *r = arg;

	pin_to(kmm_nr_cpu_ids > 1 ? 1 : 0);
	for (long i = 0; i < r->objects; i++) {
		void *o;

		while (atomic_load_explicit(&r->tail, memory_order_acquire) <= i)
			sched_yield();
		o = r->ring[i % DEPOT_RING];
		if (atomic_exchange(claim(o), CLAIM_FREE) != (CLAIM_LIVE | (uint64_t)i))
			atomic_fetch_add(&r->stolen, 1);
		kmm_cache_free(r->cache, o);
		atomic_store_explicit(&r->head, i + 1, memory_order_release);
	}
	atomic_store(&r->done, 1);
	return NULL;
}

static void *depot_shrinker(void *arg)
{
	struct depot_run *r = arg;

	while (!atomic_load(&r->done)) {
		cache_shrink(r->cache);
		usleep(2000);
	}
	return NULL;
}

static void test_depot_producer_consumer(void)
{
	static struct depot_run r;
	unsigned long gets = kt_vmstat("slab_depot_get"), puts = kt_vmstat("slab_depot_put");
	pthread_t p, c, s;

	r.cache = kmm_cache_create("depot_pc", 64, 0, 0, NULL);
	KT_REQUIRE(r.cache && r.cache->depot_max >= 2, "create (depot of %u)",
		   r.cache ? r.cache->depot_max : 0);
	r.valgrind = kt_under_valgrind();
	r.objects = r.valgrind ? 5000 : 100000; /* < 2^24 */
	KT_REQUIRE(!pthread_create(&c, NULL, depot_consumer, &r) &&
			   !pthread_create(&p, NULL, depot_producer, &r) &&
			   !pthread_create(&s, NULL, depot_shrinker, &r),
		   "threads");
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	pthread_join(s, NULL);
	KT_CHECK(atomic_load(&r.twice) == 0, "%d objects handed out while live",
		 atomic_load(&r.twice));
	KT_CHECK(atomic_load(&r.stolen) == 0, "%d objects changed owner (or alloc failed)",
		 atomic_load(&r.stolen));
	KT_CHECK(cache_active_objects(r.cache) == 0, "%lu objects active after all frees",
		 cache_active_objects(r.cache));
	/* Valgrind runs one thread at a time: the two may share a stack throughout. */
	KT_CHECK(r.valgrind ||
			 (kt_vmstat("slab_depot_put") > puts && kt_vmstat("slab_depot_get") > gets),
		 "no batch went through the depot (%lu puts, %lu gets)",
		 kt_vmstat("slab_depot_put") - puts, kt_vmstat("slab_depot_get") - gets);
	cache_shrink(r.cache);
	KT_CHECK(cache_active_objects(r.cache) == 0, "%lu objects active after shrink",
		 cache_active_objects(r.cache));
	KT_CHECK(r.cache->node[0].nr_slabs == 0 && r.cache->node[0].depot.nr_full == 0,
		 "%lu slabs, %u full batches left after shrink", r.cache->node[0].nr_slabs,
		 r.cache->node[0].depot.nr_full);
	kmm_cache_destroy(r.cache);
}

/*
 * Empty slabs kept (slub.c, min_partial()): a cache of small slabs keeps a
 * few on its partial list, for the next refill; one of 32 KiB slabs and up
 * keeps none, so the pages serve whatever asks next.  Enough objects are
 * freed to pass this CPU's stack and the depot and empty slabs through
 * flush_objects().
 */
static void check_empty_kept(const char *name, size_t size, unsigned int n, bool keeps)
{
	struct kmm_cache *c = kmm_cache_create(name, size, 0, 0, NULL);
	static void *objs[4096];
	unsigned long slabs;

	KT_REQUIRE(c && n <= 4096, "create %s", name);
	for (unsigned int i = 0; i < n; i++)
		KT_REQUIRE((objs[i] = kmm_cache_alloc(c, KMM_GFP_KERNEL)), "alloc %u", i);
	slabs = c->node[0].nr_slabs;
	for (unsigned int i = 0; i < n; i++)
		kmm_cache_free(c, objs[i]);
	KT_CHECK(c->node[0].nr_slabs < slabs, "%s: no slab emptied (%lu slabs)", name, slabs);
	if (keeps)
		KT_CHECK(c->node[0].nr_empty >= 1 && c->node[0].nr_empty <= c->min_partial,
			 "%s (order %u): %lu empty slabs kept, min_partial %u", name, c->order,
			 c->node[0].nr_empty, c->min_partial);
	else
		KT_CHECK(c->node[0].nr_empty == 0, "%s (order %u): %lu empty slabs kept", name,
			 c->order, c->node[0].nr_empty);
	cache_shrink(c);
	kmm_cache_destroy(c);
}

static void test_empty_slabs_kept(void)
{
	struct kmm_cache *probe = kmm_cache_create("empty_probe", 6144, 0, 0, NULL);

	KT_REQUIRE(probe && probe->order >= 3, "6 KiB objects in slabs of 32 KiB and up (order %u)",
		   probe ? probe->order : 0);
	kmm_cache_destroy(probe);
	check_empty_kept("empty_small", 64, 4000, true);
	check_empty_kept("empty_large", 6144, 400, false);
}

/*
 * The reap (slub.c, slab_reap()): a cache that neither refilled nor flushed
 * while other caches grew by two reap intervals of new slabs (128 KiB, or
 * 1/64 of the arena) gives back this CPU's stack and its empty slabs, and
 * nothing else: its live objects keep their contents and are not handed out
 * again.
 */
#define REAP_LIVE 100
#define REAP_IDLE 2000
#define REAP_GROW_MAX 65536 /* 32 MiB of 512-byte objects */

static unsigned long cache_slabs(const struct kmm_cache *c)
{
	unsigned long n = 0;

	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		n += READ_ONCE(c->node[nid].nr_slabs);
	return n;
}

static void test_reap_idle_cache(void)
{
	struct kmm_cache *a = kmm_cache_create("reap_idle", 256, 0, 0, NULL);
	struct kmm_cache *b = kmm_cache_create("reap_busy", 512, 0, 0, NULL);
	static unsigned char *objs[REAP_IDLE], *grow[REAP_GROW_MAX], *again[REAP_LIVE];
	unsigned long reaps = kt_vmstat("slab_reap"), live_slabs, before, interval;
	int bad = 0, twice = 0, ngrow;
	cpu_set_t old;

	KT_REQUIRE(a && b, "create");
	sched_getaffinity(0, sizeof(old), &old);
	pin_to(0); /* the stocks the reap gives back are this CPU's */
	for (int i = 0; i < REAP_IDLE; i++) {
		objs[i] = kmm_cache_alloc(a, KMM_GFP_KERNEL);
		KT_REQUIRE(objs[i], "alloc %d", i);
		memset(objs[i], i & 0xff, 256);
	}
	for (int i = REAP_LIVE; i < REAP_IDLE; i++)
		kmm_cache_free(a, objs[i]);
	live_slabs = (REAP_LIVE + a->objects - 1) / a->objects;
	before = cache_slabs(a);
	/* The stack's objects and the kept empty slabs hold more than the live ones. */
	KT_CHECK(before > live_slabs + 2, "%lu slabs for %d live objects before the reap", before,
		 REAP_LIVE);
	/* Four intervals of new slabs (a page holds 8 objects), as the arena is now. */
	interval = MAX(32ul, kmm_arena.committed_pages / 64);
	ngrow = (int)MIN(4 * interval * 8, (unsigned long)REAP_GROW_MAX);
	for (int i = 0; i < ngrow; i++) {
		grow[i] = kmm_cache_alloc(b, KMM_GFP_KERNEL);
		KT_REQUIRE(grow[i], "alloc %d of the growing cache", i);
		memset(grow[i], 0xb0 ^ (i & 0xf), 512);
	}
	KT_CHECK(kt_vmstat("slab_reap") > reaps, "no cache was reaped in %d KiB of new slabs",
		 ngrow / 2);
	KT_CHECK(cache_slabs(a) <= live_slabs + 1,
		 "the idle cache kept %lu slabs (%lu before) for %d live objects of %u a slab",
		 cache_slabs(a), before, REAP_LIVE, a->objects);
	KT_CHECK(cache_active_objects(a) == REAP_LIVE, "idle cache: %lu active, %d live",
		 cache_active_objects(a), REAP_LIVE);
	for (int i = 0; i < REAP_LIVE; i++)
		for (int j = 0; j < 256; j++)
			bad += objs[i][j] != (unsigned char)(i & 0xff);
	KT_CHECK(bad == 0, "%d bytes of live objects changed by the reap", bad);
	for (int i = 0; i < REAP_LIVE; i++) {
		again[i] = kmm_cache_alloc(a, KMM_GFP_KERNEL);
		KT_REQUIRE(again[i], "alloc again %d", i);
		for (int j = 0; j < REAP_LIVE; j++)
			twice += again[i] == objs[j];
	}
	KT_CHECK(twice == 0, "%d live objects handed out again after the reap", twice);
	for (int i = 0; i < ngrow; i++)
		for (int j = 0; j < 512; j++)
			bad += grow[i][j] != (unsigned char)(0xb0 ^ (i & 0xf));
	KT_CHECK(bad == 0, "%d bytes of the growing cache's objects changed", bad);
	KT_CHECK(cache_active_objects(b) == (unsigned long)ngrow, "growing cache: %lu active of %d",
		 cache_active_objects(b), ngrow);
	for (int i = 0; i < REAP_LIVE; i++) {
		kmm_cache_free(a, objs[i]);
		kmm_cache_free(a, again[i]);
	}
	for (int i = 0; i < ngrow; i++)
		kmm_cache_free(b, grow[i]);
	sched_setaffinity(0, sizeof(old), &old);
	kmm_cache_destroy(a);
	kmm_cache_destroy(b);
}

/* Allocate @n objects of @c's @size and free them again: refills and flushes. */
static void churn(struct kmm_cache *c, unsigned char **objs, int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		objs[i] = kmm_cache_alloc(c, KMM_GFP_KERNEL);
		KT_REQUIRE(objs[i], "alloc %d of %s", i, c->name);
		memset(objs[i], 0x3c, size);
	}
	for (int i = 0; i < n; i++)
		kmm_cache_free(c, objs[i]);
}

/*
 * A cache used again soon after its reap is part of the working set (a
 * refault): it learns a longer age, and the same gap does not reap it again.
 */
static void test_reap_refault(void)
{
	struct kmm_cache *a = kmm_cache_create("refault_a", 256, 0, 0, NULL);
	struct kmm_cache *b = kmm_cache_create("refault_b", 512, 0, 0, NULL);
	static unsigned char *objs[512], *grow[REAP_GROW_MAX];
	unsigned long interval, reaped;
	int ngrow = 0, n;
	cpu_set_t old;

	KT_REQUIRE(a && b, "create");
	sched_getaffinity(0, sizeof(old), &old);
	pin_to(0);
	interval = MAX(32ul, kmm_arena.committed_pages / 64);
	KT_REQUIRE(7 * interval * 8 <= REAP_GROW_MAX, "arena of %lu pages: too big for the test",
		   kmm_arena.committed_pages);
	churn(a, objs, 512, 256);
	/* Four intervals of new slabs in b: a, idle, is reaped. */
	for (n = ngrow + (int)(4 * interval * 8); ngrow < n; ngrow++)
		KT_REQUIRE((grow[ngrow] = kmm_cache_alloc(b, KMM_GFP_KERNEL)), "alloc b");
	reaped = a->stat[SLAB_STAT_REAP];
	KT_CHECK(reaped >= 1, "the idle cache was not reaped in %lu pages", 4 * interval);
	KT_CHECK(a->reap_age == 0, "age %lu learned before any refault", a->reap_age);
	/* Used again at once: a refault. */
	churn(a, objs, 512, 256);
	KT_CHECK(a->reap_age >= 4 * interval, "a refault left the age at %lu (interval %lu)",
		 a->reap_age, interval);
	/* Three intervals more in b: less than the age learned, so a keeps its stocks. */
	for (n = ngrow + (int)(3 * interval * 8); ngrow < n; ngrow++)
		KT_REQUIRE((grow[ngrow] = kmm_cache_alloc(b, KMM_GFP_KERNEL)), "alloc b");
	KT_CHECK(a->stat[SLAB_STAT_REAP] == reaped,
		 "reaped again (%lu times) within the age it learned (%lu pages)",
		 a->stat[SLAB_STAT_REAP], a->reap_age);
	for (int i = 0; i < ngrow; i++)
		kmm_cache_free(b, grow[i]);
	sched_setaffinity(0, sizeof(old), &old);
	kmm_cache_destroy(a);
	kmm_cache_destroy(b);
}

static void test_misuse(void)
{
	kt_expect_death("destroy with live objects", destroy_live, NULL,
			"1 objects are still allocated");
	kt_expect_death("free to the wrong cache", wrong_cache, NULL, "belongs to cache one");
	kt_expect_death("double free", double_free, NULL, "double free");
	kt_expect_death("double free (constructor cache)", double_free_ctor, NULL,
			"(slab object, cache twice_ctor): double free");
}

KT_MAIN(KT_TEST(test_size_classes), KT_TEST(test_learned_class), KT_TEST(test_learned_early),
	KT_TEST(test_learned_small), KT_TEST(test_cache_lifecycle), KT_TEST(test_ctor_cache_reuse),
	KT_TEST(test_cache_alignment_and_errors), KT_TEST(test_kmalloc_api),
	KT_TEST(test_krealloc_zero), KT_TEST(test_kmalloc_stays_below_vmalloc),
	KT_TEST(test_slabinfo_format), KT_TEST(test_misuse), KT_TEST(test_free_offset_check),
	KT_TEST(test_free_in_slack), KT_TEST(test_free_never_allocated), KT_TEST(test_lazy_slab),
	KT_TEST(test_corrupt_link), KT_TEST(test_secret), KT_TEST(test_depot_producer_consumer),
	KT_TEST(test_reap_idle_cache), KT_TEST(test_reap_refault), KT_TEST(test_empty_slabs_kept),
	KT_TEST(test_shared_stack_rows))
