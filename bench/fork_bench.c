// SPDX-License-Identifier: MIT
/*
 * fork_bench.c - fork() latency of a process with a large, touched heap,
 * through whatever malloc is preloaded.
 *
 * The heap: HEAP_MIB MiB (default 1024), every byte written, in three kinds
 * of block - small objects of NR_CLASSES (default 100) distinct sizes, runs
 * of 64 KiB-1 MiB, and 8 MiB blocks, about a third of the bytes each.  Under
 * libkmm the small objects come from NR_CLASSES caches made with
 * kmm_cache_create() (found with dlsym, so the same binary runs on any
 * malloc); elsewhere from malloc() of NR_CLASSES sizes.
 *
 * Then FORKS (default 40) times: fork(); the child _exit()s at once; the
 * parent times fork() until it returns (prepare handlers, the kernel's copy,
 * parent handlers) and until waitpid() has the child.  A few threads idle
 * meanwhile, so the process is multi-threaded and the allocator's fork
 * handlers do their full work.  Prints one line:
 *   fork_us=MEDIAN fork_min_us=MIN wait_us=MEDIAN rss_mb=R maps=M
 *
 * usage: fork_bench [HEAP_MIB] [NR_CLASSES] [FORKS]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)

struct kmm_cache;
typedef struct kmm_cache *cache_create_t(const char *name, size_t size, size_t align,
					 unsigned long flags, void (*ctor)(void *));
typedef void *cache_alloc_t(struct kmm_cache *cache, unsigned int gfp);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* The size of class @i: 100 distinct sizes from 24 bytes to about 3 KiB. */
static size_t class_size(unsigned int i)
{
	return 24 + (size_t)i * 32;
}

int main(int argc, char **argv)
{
	size_t heap = (argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) * MiB;
	unsigned int classes = argc > 2 ? (unsigned int)atoi(argv[2]) : 100;
	int forks = argc > 3 ? atoi(argv[3]) : 40;
	cache_create_t *cache_create = (cache_create_t *)dlsym(RTLD_DEFAULT, "kmm_cache_create");
	cache_alloc_t *cache_alloc = (cache_alloc_t *)dlsym(RTLD_DEFAULT, "kmm_cache_alloc");
	struct kmm_cache **caches = calloc(classes, sizeof(*caches));
	uint64_t *fork_ns = calloc((size_t)forks, sizeof(uint64_t));
	uint64_t *wait_ns = calloc((size_t)forks, sizeof(uint64_t));
	size_t small = 0, runs = 0, large = 0, blocks = 0;
	struct rusage ru;
	pthread_t t[3];

	if (!caches || !fork_ns || !wait_ns || !classes)
		return 2;
	for (unsigned int i = 0; i < classes && cache_create && cache_alloc; i++) {
		char name[32];

		snprintf(name, sizeof(name), "bench-%u", i);
		caches[i] = cache_create(name, class_size(i), 0, 0, NULL);
	}
	/* A third of the heap each, interleaved so that no kind sits alone at one end. */
	for (uint64_t seq = 0; small + runs + large < heap; seq++) {
		size_t size;
		void *p;

		if (small <= runs && small <= large) {
			unsigned int c = (unsigned int)(seq % classes);

			size = class_size(c);
			p = caches[c] ? cache_alloc(caches[c], 0) : malloc(size);
			small += size;
		} else if (runs <= large) {
			size = (64UL << 10) << (seq % 5); /* 64 KiB .. 1 MiB */
			p = malloc(size);
			runs += size;
		} else {
			size = 8 * MiB;
			p = malloc(size);
			large += size;
		}
		if (!p) {
			fprintf(stderr, "out of memory after %zu MiB\n",
				(small + runs + large) >> 20);
			return 1;
		}
		memset(p, (int)(seq & 0x7f) | 1, size);
		blocks++;
	}
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, idle, NULL);

	for (int i = 0; i < forks; i++) {
		uint64_t t0 = now_ns(), t1;
		pid_t pid = fork();
		int status;

		if (pid == 0)
			_exit(0);
		t1 = now_ns();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		waitpid(pid, &status, 0);
		fork_ns[i] = t1 - t0;
		wait_ns[i] = now_ns() - t0;
	}
	qsort(fork_ns, (size_t)forks, sizeof(uint64_t), cmp_u64);
	qsort(wait_ns, (size_t)forks, sizeof(uint64_t), cmp_u64);
	getrusage(RUSAGE_SELF, &ru);
	printf("fork_us=%llu fork_min_us=%llu wait_us=%llu rss_mb=%ld maps=%ld blocks=%zu "
	       "caches=%s\n",
	       (unsigned long long)(fork_ns[forks / 2] / 1000),
	       (unsigned long long)(fork_ns[0] / 1000),
	       (unsigned long long)(wait_ns[forks / 2] / 1000), ru.ru_maxrss / 1024, count_maps(),
	       blocks, caches[0] ? "kmm" : "malloc");
	return 0;
}
