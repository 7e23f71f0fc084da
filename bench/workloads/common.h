/*
 * Helpers shared by the allocator workloads in bench/workloads/.
 *
 * Every workload takes its sizes as positional arguments (each with a
 * default), checks what it wrote before it frees it, prints one line whose
 * content depends only on the arguments (bench/run compares it with a glibc
 * run), and exits:
 *   0  the result is right,
 *   1  a self-check failed (wrong contents, wrong counts),
 *   2  bad arguments or an allocation that returned NULL.
 *
 * Before it returns 0, every workload calls bench_idle() with everything
 * it allocated freed: when bench/run asks for it (BENCH_IDLE_MS), it sleeps
 * and reports the RSS the allocator still holds.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

/* Exit with status 1 (wrong result) after printing a message. */
static inline void wrong(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("WRONG: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Exit with status 2 (cannot run) after printing a message. */
static inline void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Positional argument i as a positive number, or def when it is absent. */
static inline long arg_long(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (i >= argc)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end != '\0' || v <= 0)
		fail("argument %d: '%s' is not a positive number", i, argv[i]);
	return v;
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		fail("malloc(%zu) returned NULL", n);
	return p;
}

static inline void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (!p)
		fail("realloc(%zu) returned NULL", n);
	return p;
}

/* splitmix64: a small, fast generator; one state per thread. */
static inline uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline uint64_t rnd_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd_next(s) % (hi - lo + 1);
}

/*
 * In [lo, hi], skewed to small sizes as real programs are: the octave
 * [lo * 2^k, lo * 2^(k+1)] is picked with probability 2^-(k+1).
 */
static inline uint64_t rnd_skew(uint64_t *s, uint64_t lo, uint64_t hi)
{
	uint64_t top = lo;

	while (top * 2 <= hi && rnd_next(s) % 2)
		top *= 2;
	return rnd_range(s, top, top * 2 > hi ? hi : top * 2);
}

/* A tag that names one object: mixes an id into 64 bits. */
static inline uint64_t tag_of(uint64_t id)
{
	uint64_t s = id;

	return rnd_next(&s);
}

/*
 * Object fill and check.  An object of n >= 16 bytes gets its tag in its
 * first and last 8 bytes and one byte in every 64 in between, so every
 * cache line of it is written; obj_check reads the same bytes back.
 */
static inline void obj_fill(void *obj, size_t n, uint64_t tag)
{
	unsigned char *p = obj;

	memcpy(p, &tag, 8);
	memcpy(p + n - 8, &tag, 8);
	for (size_t k = 64; k + 8 < n; k += 64)
		p[k] = (unsigned char)(tag + k);
}

static inline int obj_check(const void *obj, size_t n, uint64_t tag)
{
	const unsigned char *p = obj;
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + n - 8, 8);
	if (a != tag || b != tag)
		return 0;
	for (size_t k = 64; k + 8 < n; k += 64)
		if (p[k] != (unsigned char)(tag + k))
			return 0;
	return 1;
}

static inline void start_threads(pthread_t *tid, long n, void *(*fn)(void *), void *args,
				 size_t argsize, size_t stack)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	for (long i = 0; i < n; i++)
		if (pthread_create(&tid[i], &attr, fn, (char *)args + i * argsize))
			fail("pthread_create failed for thread %ld", i);
	pthread_attr_destroy(&attr);
}

static inline void join_threads(pthread_t *tid, long n)
{
	for (long i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
}

/*
 * The false-sharing loop of cache-thrash and cache-scratch: @nobjs times,
 * allocate an object of @size bytes, increment every byte @nwrites times,
 * check it, free it.  @name labels a wrong result.
 */
static inline void thrash_objects(const char *name, long nobjs, long size, long nwrites)
{
	for (long i = 0; i < nobjs; i++) {
		volatile unsigned char *p = xmalloc((size_t)size);

		for (long k = 0; k < size; k++)
			p[k] = 0;
		for (long w = 0; w < nwrites; w++)
			for (long k = 0; k < size; k++)
				p[k]++;
		for (long k = 0; k < size; k++)
			if (p[k] != (unsigned char)nwrites)
				wrong("%s: byte %ld of an object is %d", name, k, p[k]);
		free((void *)p);
	}
}

/* VmRSS of this process in KiB, read without calling malloc, or -1. */
static inline long self_rss_kib(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/*
 * The idle phase bench/run measures "final RSS after idle" with: when the
 * environment has BENCH_IDLE_MS (milliseconds) and BENCH_IDLE_FILE, sleep
 * that long without touching the allocator, then write
 * "idle_ms=N rss_kib=N" (the time actually slept and VmRSS) to the file.
 * bench/run subtracts idle_ms from the wall time.  Without them, nothing.
 */
static inline void bench_idle(void)
{
	const char *ms = getenv("BENCH_IDLE_MS"), *file = getenv("BENCH_IDLE_FILE");
	struct timespec t0, t1, d;
	char line[64];
	long v, slept;
	int fd, len;

	if (!ms || !file || (v = strtol(ms, NULL, 10)) <= 0)
		return;
	fflush(stdout);
	d.tv_sec = v / 1000;
	d.tv_nsec = v % 1000 * 1000000L;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (nanosleep(&d, &d))
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	slept = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	len = snprintf(line, sizeof(line), "idle_ms=%ld rss_kib=%ld\n", slept, self_rss_kib());
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		fail("cannot write %s", file);
	close(fd);
}

#endif /* BENCH_COMMON_H */
