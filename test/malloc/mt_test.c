// SPDX-License-Identifier: MIT
/*
 * mt_test.c - malloc under threads, linked with libkmm.so.
 * - producer/consumer: objects of every class from 16 B to 128 KiB are
 *   allocated and filled by producers and checked and freed by consumers
 *   (every free remote);
 * - thread churn: thousands of threads created and joined, each allocating;
 *   the memory in service stays bounded;
 * - fork() while other threads allocate, many times: the child allocates and
 *   checks, the parent goes on.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#define KT_SETUP kt_skip_under_asan()
#include "../ktest.h"

#include <kmm/kmm.h>

#define RING 1024

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void *item[RING];
	size_t size[RING];
	unsigned head, tail;
	int done;
};

static struct ring ring = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
static _Atomic long bad_objects, consumed;

static void ring_put(void *p, size_t size)
{
	pthread_mutex_lock(&ring.lock);
	while (ring.head - ring.tail == RING)
		pthread_cond_wait(&ring.cond, &ring.lock);
	ring.item[ring.head % RING] = p;
	ring.size[ring.head % RING] = size;
	ring.head++;
	pthread_cond_broadcast(&ring.cond);
	pthread_mutex_unlock(&ring.lock);
}

static int ring_get(void **p, size_t *size)
{
	pthread_mutex_lock(&ring.lock);
	while (ring.head == ring.tail && !ring.done)
		pthread_cond_wait(&ring.cond, &ring.lock);
	if (ring.head == ring.tail) {
		pthread_mutex_unlock(&ring.lock);
		return 0;
	}
	*p = ring.item[ring.tail % RING];
	*size = ring.size[ring.tail % RING];
	ring.tail++;
	pthread_cond_broadcast(&ring.cond);
	pthread_mutex_unlock(&ring.lock);
	return 1;
}

static void *producer(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 7919 + 1;
	int n = kt_under_valgrind() ? 5000 : 200000;

	for (int i = 0; i < n; i++) {
		size_t size = 16u << (kt_rand_r(&rng) % 14); /* 16 B .. 128 KiB */
		unsigned char *p;

		size -= kt_rand_r(&rng) % (size / 2);
		p = malloc(size);
		if (!p) {
			atomic_fetch_add(&bad_objects, 1);
			continue;
		}
		p[0] = (unsigned char)size;
		p[size - 1] = (unsigned char)(size >> 3);
		ring_put(p, size);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	void *p;
	size_t size;

	(void)arg;
	while (ring_get(&p, &size)) {
		unsigned char *c = p;

		if (c[0] != (unsigned char)size || c[size - 1] != (unsigned char)(size >> 3))
			atomic_fetch_add(&bad_objects, 1);
		free(p);
		atomic_fetch_add(&consumed, 1);
	}
	return NULL;
}

static void test_producer_consumer(void)
{
	pthread_t prod[3], cons[3];

	for (long i = 0; i < 3; i++) {
		pthread_create(&prod[i], NULL, producer, (void *)(i + 1));
		pthread_create(&cons[i], NULL, consumer, NULL);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(prod[i], NULL);
	pthread_mutex_lock(&ring.lock);
	ring.done = 1;
	pthread_cond_broadcast(&ring.cond);
	pthread_mutex_unlock(&ring.lock);
	for (int i = 0; i < 3; i++)
		pthread_join(cons[i], NULL);
	KT_CHECK(atomic_load(&bad_objects) == 0, "%ld bad objects", atomic_load(&bad_objects));
	KT_CHECK(atomic_load(&consumed) == (kt_under_valgrind() ? 15000 : 600000), "%ld consumed",
		 atomic_load(&consumed));
}

static void *short_lived(void *arg)
{
	void *keep[64];

	for (int i = 0; i < 64; i++) {
		keep[i] = malloc((size_t)(i * 37 + 1));
		memset(keep[i], i, (size_t)(i * 37 + 1));
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return arg;
}

static void test_thread_churn_is_bounded(void)
{
	int rounds = kt_under_valgrind() ? 200 : 3000;
	size_t after_warmup = 0;

	for (int i = 0; i < rounds; i++) {
		pthread_t t;

		KT_REQUIRE(pthread_create(&t, NULL, short_lived, NULL) == 0, "pthread_create %d",
			   i);
		pthread_join(t, NULL);
		if (i == 100)
			after_warmup = mallinfo2().arena;
	}
	/* No per-thread state: the memory in service does not grow with the thread count. */
	KT_CHECK(mallinfo2().arena <= after_warmup + (8u << 20),
		 "arena %zu after %d threads, %zu after 100", mallinfo2().arena, rounds,
		 after_warmup);
}

static _Atomic int stop_noise;

static void *noise(void *arg)
{
	uint64_t rng = (uintptr_t)arg;
	void *slot[256] = { NULL };

	while (!atomic_load_explicit(&stop_noise, memory_order_relaxed)) {
		int i = (int)(kt_rand_r(&rng) % 256);

		free(slot[i]);
		slot[i] = malloc(kt_rand_r(&rng) % 5000 + 1);
	}
	for (int i = 0; i < 256; i++)
		free(slot[i]);
	return NULL;
}

static void test_fork_while_allocating(void)
{
	pthread_t t[3];
	int forks = kt_under_valgrind() ? 5 : 60, bad = 0;

	atomic_store(&stop_noise, 0);
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, noise, (void *)(i * 131 + 7));
	for (int f = 0; f < forks; f++) {
		char *mine = malloc(100);
		pid_t pid;
		int status;

		strcpy(mine, "parent");
		pid = fork();
		if (pid == 0) {
			/* The child has one thread; every lock must be usable. */
			char *blocks[1000];

			if (strcmp(mine, "parent"))
				_exit(3);
			strcpy(mine, "child");
			for (int i = 0; i < 1000; i++) {
				blocks[i] = malloc((size_t)(i * 13 % 9000 + 1));
				if (!blocks[i])
					_exit(4);
				blocks[i][0] = (char)i;
			}
			for (int i = 0; i < 1000; i++) {
				if (blocks[i][0] != (char)i)
					_exit(5);
				free(blocks[i]);
			}
			kmm_drain_all_pages();
			malloc_trim(0);
			_exit(0);
		}
		KT_REQUIRE(pid > 0, "fork");
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			bad++;
			fprintf(stderr, "fork %d: child status %#x\n", f, status);
		}
		KT_CHECK(strcmp(mine, "parent") == 0, "the child's write showed in the parent");
		free(mine);
	}
	atomic_store(&stop_noise, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	KT_CHECK(bad == 0, "%d of %d children failed", bad, forks);
}

/*
 * Classes learned while threads allocate (src/slab/kmalloc.c): four threads
 * allocate, fill, check and free (a third of them after a realloc) sizes of
 * the same classes in turn, so that caches are created and the size tables
 * change under them; every block keeps its bytes and at least its size.
 */
static void *learn_worker(void *arg)
{
	static const size_t sizes[] = { 1032, 1100, 2056, 2200, 4368, 5000, 9000, 1500 };
	enum { N = 2000 };
	long id = (long)arg;
	char **p = malloc(N * sizeof(*p));
	long bad = 0;

	if (!p)
		return (void *)1L;
	for (int round = 0; round < (kt_under_valgrind() ? 2 : 12); round++) {
		for (int i = 0; i < N; i++) {
			size_t size = sizes[(i + id + round) % 8];

			p[i] = malloc(size);
			if (!p[i] || malloc_usable_size(p[i]) < size)
				return (void *)1L;
			memset(p[i], (int)(id * 31 + i) & 0xff, size);
		}
		for (int i = 0; i < N; i++) {
			size_t size = sizes[(i + id + round) % 8];

			for (size_t k = 0; k < size; k += 61)
				bad += p[i][k] != (char)((id * 31 + i) & 0xff);
			if (i % 3 == 0 && !(p[i] = realloc(p[i], size + 40)))
				return (void *)1L;
			bad += p[i][size - 1] != (char)((id * 31 + i) & 0xff);
			free(p[i]);
		}
	}
	free(p);
	return (void *)bad;
}

static void test_learning_under_threads(void)
{
	pthread_t t[4];
	void *ret;

	for (long i = 0; i < 4; i++)
		KT_REQUIRE(pthread_create(&t[i], NULL, learn_worker, (void *)i) == 0, "thread");
	for (int i = 0; i < 4; i++) {
		KT_CHECK(pthread_join(t[i], &ret) == 0 && ret == NULL,
			 "thread %d: %ld blocks wrong or lost", i, (long)ret);
	}
	if (!kt_under_valgrind()) { /* ... and a size of kmalloc-1152 was learned */
		void *q = malloc(1100);

		KT_CHECK(q && malloc_usable_size(q) < 1152, "1100 bytes: usable size %zu",
			 q ? malloc_usable_size(q) : 0);
		free(q);
	}
}

KT_MAIN(KT_TEST(test_producer_consumer), KT_TEST(test_learning_under_threads),
	KT_TEST(test_thread_churn_is_bounded), KT_TEST(test_fork_while_allocating))
