// SPDX-License-Identifier: MIT
/*
 * model_test.c - malloc, calloc, realloc, the aligned allocations and free
 * in random order against a model of what each live block must hold,
 * linked with libkmm.so: every block carries its own tag in every word that
 * is checked, so a block handed out twice, or overlapping another, or
 * losing bytes in a realloc, shows as a wrong tag; every calloc must read
 * zero in every word, whatever the memory held before (page runs reused,
 * released by malloc_trim() or kmm_reclaim(), the zone's fresh pages, the
 * vmalloc areas past 4 MiB and the 1-4 MiB blocks made of cached ones).  One thread first (no depots), then two at
 * once (remote frees: each frees some blocks of the other's).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Under ASan, ASan's malloc answers these calls, not libkmm's. */
#define KT_SETUP kt_skip_under_asan()
#include "../ktest.h"

#include <kmm/kmm.h>

#define SLOTS 1024
#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct block {
	uint64_t *p;
	size_t size;  /* bytes asked for */
	uint64_t tag; /* in each checked word; 0 for a calloc not written since */
};

struct model {
	struct block b[SLOTS];
	uint64_t rng;
	long bad;
	char what[160];
};

/* The words checked: all of a small block, else every 64th and the last ones. */
static size_t word_step(size_t words)
{
	return words <= 4096 ? 1 : 64;
}

static void fill(struct block *b)
{
	size_t words = b->size / 8, step = word_step(words);

	for (size_t i = 0; i < words; i += step)
		b->p[i] = b->tag ^ i;
	if (words)
		b->p[words - 1] = b->tag ^ (words - 1);
}

/* The words fill() wrote below byte @upto of @b hold its tag.  Return: true if so. */
static bool check(struct model *m, const struct block *b, size_t upto, const char *when)
{
	size_t words = upto / 8, step = word_step(b->size / 8);

	for (size_t i = 0; i < words; i += step)
		if (b->p[i] != (b->tag ^ i)) {
			snprintf(m->what, sizeof(m->what),
				 "%s: block %p of %zu bytes, word %zu: %#llx, want %#llx", when,
				 (void *)b->p, b->size, i, (unsigned long long)b->p[i],
				 (unsigned long long)(b->tag ^ i));
			return false;
		}
	if (words && words == b->size / 8 && b->p[words - 1] != (b->tag ^ (words - 1))) {
		snprintf(m->what, sizeof(m->what), "%s: block %p of %zu bytes, last word", when,
			 (void *)b->p, b->size);
		return false;
	}
	return true;
}

/* A calloc'd block reads zero in every word. */
static bool all_zero(struct model *m, const uint64_t *p, size_t size)
{
	for (size_t i = 0; i < size / 8; i++)
		if (p[i]) {
			snprintf(m->what, sizeof(m->what),
				 "calloc(%zu) = %p: word %zu is %#llx, not zero", size, (void *)p,
				 i, (unsigned long long)p[i]);
			return false;
		}
	return true;
}

static size_t pick_size(uint64_t *rng)
{
	unsigned int k = (unsigned int)(kt_rand_r(rng) % 100);
	uint64_t r = kt_rand_r(rng);

	if (k < 45)
		return 8 + r % 512;
	if (k < 75)
		return 8 + r % (32 << 10);
	if (k < 98)
		return 8 + r % (1 << 20);
	/* 1-6 MiB: runs, runs made of cached areas (kv_alloc_large()), vmalloc areas. */
	return (1 << 20) + r % (5 << 20);
}

static void fail(struct model *m)
{
	if (!m->bad++)
		fprintf(stderr, "%s\n", m->what);
}

static void release(struct model *m, struct block *b)
{
	if (!check(m, b, b->size, "before free"))
		fail(m);
	free(b->p);
	b->p = NULL;
}

static void one_op(struct model *m)
{
	struct block *b = &m->b[kt_rand_r(&m->rng) % SLOTS];
	unsigned int k = (unsigned int)(kt_rand_r(&m->rng) % 100);
	size_t size;

	if (b->p && k < 20) { /* realloc: the old bytes up to the smaller size stay */
		struct block old = *b;
		void *q;

		size = pick_size(&m->rng);
		q = realloc(b->p, size);
		if (!q) {
			snprintf(m->what, sizeof(m->what), "realloc(%zu) failed", size);
			fail(m);
			return;
		}
		b->p = q;
		old.p = q;
		if (!check(m, &old, MIN(size, old.size), "after realloc"))
			fail(m);
		b->size = size;
		b->tag = kt_rand_r(&m->rng) | 1;
		fill(b);
		return;
	}
	if (b->p) {
		release(m, b);
		if (k < 60)
			return;
	}
	size = pick_size(&m->rng);
	if (k % 4 == 0) {
		b->p = calloc(1, size);
		if (b->p && !all_zero(m, b->p, size))
			fail(m);
	} else if (k % 4 == 1) {
		size_t align = (size_t)16 << (kt_rand_r(&m->rng) % 9); /* 16 B to 4 KiB */

		b->p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
		if (b->p && (uintptr_t)b->p % align) {
			snprintf(m->what, sizeof(m->what), "aligned_alloc(%zu) = %p", align,
				 (void *)b->p);
			fail(m);
		}
	} else {
		b->p = malloc(size);
	}
	if (!b->p) {
		snprintf(m->what, sizeof(m->what), "allocation of %zu bytes failed", size);
		fail(m);
		return;
	}
	if (malloc_usable_size(b->p) < size) {
		snprintf(m->what, sizeof(m->what), "malloc_usable_size(%p) = %zu < %zu",
			 (void *)b->p, malloc_usable_size(b->p), size);
		fail(m);
	}
	b->size = size;
	b->tag = kt_rand_r(&m->rng) | 1;
	fill(b);
	if (kt_rand_r(&m->rng) % 2000 == 0)
		malloc_trim(0);
	if (kt_rand_r(&m->rng) % 5000 == 0)
		kmm_reclaim();
}

static long ops(void)
{
	return kt_under_valgrind() ? 600 : 12000;
}

static void run_model(struct model *m, long n)
{
	for (long i = 0; i < n; i++)
		one_op(m);
}

static void drain(struct model *m)
{
	for (int i = 0; i < SLOTS; i++)
		if (m->b[i].p)
			release(m, &m->b[i]);
}

static struct model models[2];

static void test_single_thread(void)
{
	struct model *m = &models[0];

	memset(m, 0, sizeof(*m));
	m->rng = kt_rand() | 1;
	run_model(m, ops());
	drain(m);
	KT_CHECK(m->bad == 0, "%ld wrong blocks; the first: %s", m->bad, m->what);
}

static void *worker(void *arg)
{
	run_model(arg, ops());
	return NULL;
}

static void test_two_threads(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++) {
		memset(&models[i], 0, sizeof(models[i]));
		models[i].rng = kt_rand() | 1;
	}
	for (int i = 0; i < 2; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, worker, &models[i]), "pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* Each thread's blocks, half of them freed by the other thread's model. */
	for (int i = 0; i < SLOTS; i += 2) {
		struct block tmp = models[0].b[i];

		models[0].b[i] = models[1].b[i];
		models[1].b[i] = tmp;
	}
	for (int i = 0; i < 2; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, worker, &models[i]), "pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		drain(&models[i]);
		KT_CHECK(models[i].bad == 0, "thread %d: %ld wrong blocks; the first: %s", i,
			 models[i].bad, models[i].what);
	}
}

KT_MAIN({ "single_thread", test_single_thread }, { "two_threads", test_two_threads })
