/* SPDX-License-Identifier: MIT */
/*
 * kt_kmm.h - helpers shared by libkmm's tests: capture a kmm_dump() view as a
 * string, and parse buddyinfo; /proc readers; scattered free blocks.
 */
#ifndef KMM_TEST_KT_KMM_H
#define KMM_TEST_KT_KMM_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kmm/kmm.h>

#include "ktest.h"

/* kmm_dump(@what) into @buf (NUL-terminated).  Return: kmm_dump()'s result. */
static inline int kt_dump(const char *what, char *buf, size_t size)
{
	int fd = memfd_create("kt_dump", 0), ret;
	ssize_t n;

	if (fd < 0) {
		perror("memfd_create");
		exit(2);
	}
	ret = kmm_dump(fd, what);
	n = pread(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

/*
 * The free block counts of zone @zone_name on node @nid, from buddyinfo.
 * Return: 0, or -1 if the zone's line is missing or malformed.
 */
static inline int kt_buddyinfo_node(int nid, const char *zone_name,
				    unsigned long counts[KMM_NR_PAGE_ORDERS])
{
	char buf[8192], *line;

	if (kt_dump("buddyinfo", buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char zone[32];
		int node, off = 0;

		if (sscanf(line, "Node %d, zone %31s%n", &node, zone, &off) != 2 || node != nid ||
		    strcmp(zone, zone_name))
			continue;
		for (int o = 0; o < KMM_NR_PAGE_ORDERS; o++) {
			int used = 0;

			if (sscanf(line + off, "%lu%n", &counts[o], &used) != 1)
				return -1;
			off += used;
		}
		return 0;
	}
	return -1;
}

/* The same on node 0. */
static inline int kt_buddyinfo(const char *zone_name, unsigned long counts[KMM_NR_PAGE_ORDERS])
{
	return kt_buddyinfo_node(0, zone_name, counts);
}

/*
 * Pages of node 0's Normal zone in use right now, per-CPU caches drained:
 * what the tests compare before and after, since kmm_init() itself takes a
 * few pages (the kmalloc caches' metadata).
 */
static inline unsigned long kt_normal_in_use(void)
{
	unsigned long counts[KMM_NR_PAGE_ORDERS], free_pages = 0;
	char buf[16384], *p;
	unsigned long present = 0;

	kmm_drain_all_pages();
	if (kt_buddyinfo("Normal", counts))
		return ~0UL;
	for (int o = 0; o < KMM_NR_PAGE_ORDERS; o++)
		free_pages += counts[o] << o;
	kt_dump("zoneinfo", buf, sizeof(buf));
	p = strstr(buf, "zone   Normal");
	if (!p || !(p = strstr(p, "present  ")) || sscanf(p, "present %lu", &present) != 1)
		return ~0UL;
	return present - free_pages;
}

/* One counter of the "vmstat" view, or ~0UL if it is missing. */
static inline unsigned long kt_vmstat(const char *name)
{
	char buf[8192];
	size_t n = strlen(name);

	kt_dump("vmstat", buf, sizeof(buf));
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, name, n) && l[n] == ' ')
			return strtoul(l + n + 1, NULL, 10);
	return ~0UL;
}

/* Resident set size in KiB, from /proc/self/statm (-1 if unreadable). */
static inline long kt_rss_kb(void)
{
	long size = 0, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = -1;
		fclose(f);
	}
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Lines of /proc/self/maps: the kernel mappings of the process. */
static inline int kt_count_maps(void)
{
	char buf[4096];
	int n = 0;
	ssize_t len;
	int fd = open("/proc/self/maps", O_RDONLY);

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < len; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

/*
 * A pattern of @seed and the offset, 8 bytes at a time: kt_fill() writes
 * bytes [@from, @to) of a buffer at @p, kt_check() returns the first offset
 * below @len that differs from it, or @len.
 */
static inline uint64_t kt_word(uint64_t seed, size_t i)
{
	return seed ^ (i * 0x9e3779b97f4a7c15ULL);
}

static inline void kt_fill(void *p, size_t from, size_t to, uint64_t seed)
{
	uint64_t *w = p;

	for (size_t i = from / 8; i < to / 8; i++)
		w[i] = kt_word(seed, i);
}

static inline size_t kt_check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != kt_word(seed, i))
			return i * 8;
	return len;
}

/*
 * A field of /proc/self/status ("VmSize:") in KiB, read without malloc (the
 * tests read it under a lowered RLIMIT_AS).  0 if unreadable.
 */
static inline unsigned long kt_status_kb(const char *field)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, field);
	return p ? strtoul(p + strlen(field), NULL, 10) : 0;
}

/* __GFP_NOGROW (src/page/internal.h): a free block the zone has, or none. */
#define KT_GFP_NOGROW 0x80000000u

/* Larger free blocks kt_scatter_free() holds, so that a stitch takes the scattered ones. */
static struct kmm_page *kt_held[64];
static unsigned int kt_held_order[64];
static int kt_nr_held;

/*
 * Leave free blocks of @order scattered through the zone: @nr are taken into
 * @blocks and every other one is freed, so an area stitched from them has
 * many pieces; the zone's larger free blocks are taken too (without growing
 * it), so that the scattered ones are all it has free.
 * kt_release_scattered() frees the rest.
 */
static inline void kt_scatter_free(struct kmm_page **blocks, int nr, unsigned int order)
{
	for (int i = 0; i < nr; i++) {
		blocks[i] = kmm_alloc_pages(KMM_GFP_KERNEL, order);
		if (!blocks[i]) {
			fprintf(stderr, "order-%u allocation %d failed\n", order, i);
			exit(2);
		}
	}
	for (int i = 0; i < nr; i += 2) {
		kmm_free_pages(blocks[i], order);
		blocks[i] = NULL;
	}
	for (unsigned int o = KMM_MAX_PAGE_ORDER; o > order; o--) {
		while (kt_nr_held < 64) {
			struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL | KT_GFP_NOGROW, o);

			if (!page)
				break;
			kt_held_order[kt_nr_held] = o;
			kt_held[kt_nr_held++] = page;
		}
	}
}

static inline void kt_release_scattered(struct kmm_page **blocks, int nr, unsigned int order)
{
	for (int i = 1; i < nr; i += 2)
		kmm_free_pages(blocks[i], order);
	while (kt_nr_held > 0) {
		kt_nr_held--;
		kmm_free_pages(kt_held[kt_nr_held], kt_held_order[kt_nr_held]);
	}
}

#endif /* KMM_TEST_KT_KMM_H */
