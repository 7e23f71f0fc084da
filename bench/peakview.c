// SPDX-License-Identifier: MIT
/*
 * peakview.c - libkmm's views at a program's peak RSS (bench/peakview.sh).
 *
 * An LD_PRELOAD shim that goes before libkmm.so: every PEAKVIEW_EVERY-th
 * call of malloc, calloc or free (default 32) it reads the process's RSS
 * from /proc/self/statm and, when RSS passed its highest so far by 16 KiB,
 * writes to $PEAKVIEW_DIR/peak: the RSS and the call count, then
 * /proc/self/smaps_rollup (all of /proc/self/smaps with PEAKVIEW_SMAPS=1,
 * to compare mappings with another run's) and libkmm's views (kmm_dump():
 * meminfo, pagemap, slabinfo, zoneinfo, vmstat).  The file left at exit is the peak's; each
 * new maximum also appends a line to $PEAKVIEW_DIR/trace.
 *
 * A sampling tool, not a measurement: the views cost time, and a maximum
 * reached between samples, or without a call, is seen late or not at all.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void (*real_free)(void *);
static int (*kmm_dump_fn)(int, const char *);

static unsigned long calls, every = 32, max_pages;
static int busy, resolving, full_smaps;
static char dir[512];
static char early[4096]; /* what dlsym() asks for before the real calloc is known */

static void resolve(void)
{
	const char *e;

	resolving = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_free = dlsym(RTLD_NEXT, "free");
	kmm_dump_fn = dlsym(RTLD_DEFAULT, "kmm_dump");
	e = getenv("PEAKVIEW_DIR");
	snprintf(dir, sizeof(dir), "%s", e && *e ? e : ".");
	e = getenv("PEAKVIEW_EVERY");
	if (e && atol(e) > 0)
		every = (unsigned long)atol(e);
	e = getenv("PEAKVIEW_SMAPS");
	full_smaps = e && *e == '1';
	e = getenv("PEAKVIEW_VIEWS"); /* 0: smaps only, libkmm's view code never mapped */
	if (e && *e == '0')
		kmm_dump_fn = NULL;
	resolving = 0;
}

static void copy_file(int out, const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(fd);
}

static void write_views(unsigned long pages, unsigned long count)
{
	static const char *const views[] = { "meminfo",	 "pagemap",  "buddyinfo",
					     "slabinfo", "zoneinfo", "vmstat" };
	char path[600], line[128];
	int fd, n;

	snprintf(path, sizeof(path), "%s/peak", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "RSS %lu KiB at call %lu\n", pages * 4, count);
	if (write(fd, line, (size_t)n) != n)
		n = 0;
	copy_file(fd, full_smaps ? "/proc/self/smaps" : "/proc/self/smaps_rollup");
	for (size_t i = 0; kmm_dump_fn && i < sizeof(views) / sizeof(views[0]); i++)
		kmm_dump_fn(fd, views[i]);
	close(fd);
	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		n = snprintf(line, sizeof(line), "%lu %lu\n", count, pages * 4);
		if (write(fd, line, (size_t)n) != n)
			n = 0;
		close(fd);
	}
}

static void sample(void)
{
	unsigned long count = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED), size, pages;
	char buf[128];
	ssize_t n;
	int fd;

	if (count % every || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	fd = open("/proc/self/statm", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		if (sscanf(buf, "%lu %lu", &size, &pages) == 2 && pages > max_pages + 4) {
			max_pages = pages;
			write_views(pages, count);
		}
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void *malloc(size_t size)
{
	void *p;

	if (!real_malloc) {
		if (resolving) /* dlsym's own buffer, once */
			return size <= sizeof(early) ? early : NULL;
		resolve();
	}
	p = real_malloc(size);
	sample();
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (!real_calloc) {
		if (resolving) /* dlsym's own buffer, once */
			return n * size <= sizeof(early) ? memset(early, 0, sizeof(early)) : NULL;
		resolve();
	}
	p = real_calloc(n, size);
	sample();
	return p;
}

void free(void *p)
{
	if (p == early)
		return;
	if (!real_free)
		resolve();
	real_free(p);
	sample();
}
