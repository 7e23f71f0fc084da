/* SPDX-License-Identifier: MIT */
/*
 * kt_kmm.h - helpers shared by libkmm's tests: capture a kmm_dump() view as a
 * string, and parse buddyinfo.
 */
#ifndef KMM_TEST_KT_KMM_H
#define KMM_TEST_KT_KMM_H

#include <sys/mman.h>

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
 * The free block counts of zone @zone_name on node 0, from buddyinfo.
 * Return: 0, or -1 if the zone's line is missing or malformed.
 */
static inline int kt_buddyinfo(const char *zone_name, unsigned long counts[KMM_NR_PAGE_ORDERS])
{
	char buf[8192], *line;

	if (kt_dump("buddyinfo", buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char zone[32];
		int node, off = 0;

		if (sscanf(line, "Node %d, zone %31s%n", &node, zone, &off) != 2 || node != 0 ||
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

#endif /* KMM_TEST_KT_KMM_H */
