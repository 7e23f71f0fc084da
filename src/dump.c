// SPDX-License-Identifier: MIT
/*
 * dump.c - the kernel's /proc views of libkmm, by name: kmm_dump() (src/api.c)
 * and KMM_STATS at exit.  The views read every layer; nothing below calls
 * them.  Each view writes through a struct kmm_seq on this stack frame: no
 * malloc, no stdio, safe from any context that may call write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "dump.h"
#include "lib/config.h"
#include "lib/printk.h"
#include "lib/ready.h"
#include "numa/mempolicy.h"
#include "page/internal.h"
#include "page/pcp.h"
#include "reclaim.h"
#include "slab/slab.h"
#include "track.h"
#include "vmalloc/vmalloc.h"

/*
 * /proc/meminfo's lines that apply: the zones' memory (MemFree counts free
 * pages, released or not; Released is libkmm's: free pages given back to the
 * system), the slabs, the per-CPU caches, the vmalloc region.
 */
static void show_meminfo(struct kmm_seq *m)
{
	unsigned long total = 0, free = 0, released = 0, pcp = 0;
	struct kmm_zone *zone;

	for_each_zone (zone) {
		kmm_lock(&zone->lock);
		free += zone->nr_free_pages;
		released += zone->nr_released;
		kmm_unlock(&zone->lock);
		total += zone_present(zone);
		if (zone->per_cpu_pageset)
			for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
				pcp += pcp_count(zone, cpu);
	}
	kmm_seq_printf(m, "MemTotal:       %8lu kB\n", total << (PAGE_SHIFT - 10));
	kmm_seq_printf(m, "MemFree:        %8lu kB\n", free << (PAGE_SHIFT - 10));
	kmm_seq_printf(m, "Released:       %8lu kB\n", released << (PAGE_SHIFT - 10));
	kmm_seq_printf(m, "Slab:           %8lu kB\n", slab_pages() << (PAGE_SHIFT - 10));
	kmm_seq_printf(m, "Percpu:         %8lu kB\n", pcp << (PAGE_SHIFT - 10));
	show_vmalloc_meminfo(m);
}

/* /proc/vmstat: the page allocator's counters, the slabs', the vmalloc layer's. */
static void show_vmstat(struct kmm_seq *m)
{
	show_page_vmstat(m);
	kmm_seq_printf(m, "nr_slab_pages %lu\n", slab_pages());
	kmm_seq_printf(m, "slab_refill %lu\n", slab_stat_sum(SLAB_STAT_REFILL));
	kmm_seq_printf(m, "slab_flush %lu\n", slab_stat_sum(SLAB_STAT_FLUSH));
	kmm_seq_printf(m, "slab_new %lu\n", slab_stat_sum(SLAB_STAT_NEW_SLAB));
	kmm_seq_printf(m, "slab_discard %lu\n", slab_stat_sum(SLAB_STAT_FREE_SLAB));
	kmm_seq_printf(m, "slab_remote_free %lu\n", slab_stat_sum(SLAB_STAT_REMOTE_FREE));
	kmm_seq_printf(m, "slab_depot_put %lu\n", slab_stat_sum(SLAB_STAT_DEPOT_PUT));
	kmm_seq_printf(m, "slab_depot_get %lu\n", slab_stat_sum(SLAB_STAT_DEPOT_GET));
	kmm_seq_printf(m, "slab_reap %lu\n", slab_stat_sum(SLAB_STAT_REAP));
	kmm_seq_printf(m, "numa_nodes %d\n", kmm_nr_online_nodes);
	kmm_seq_printf(m, "numa_mbind_ranges %u\n", kmm_arena.nr_bound);
	show_vmalloc_vmstat(m);
	show_kswapd_vmstat(m);
	/* The fork() handlers are registered (init.c) once the process has threads: by whom. */
	static const char *const arm_by[] = { "none", "startup", "calloc", "lock", "thread" };
	kmm_seq_printf(m, "fork_handlers %s\n",
		       READ_ONCE(kmm_fork_armed) ? arm_by[kmm_fork_armed_by] : "none");
}

static const struct {
	const char *name;
	void (*show)(struct kmm_seq *m);
} views[] = {
	{ "buddyinfo", show_buddyinfo },       { "zoneinfo", show_zoneinfo },
	{ "slabinfo", show_slabinfo },	       { "vmallocinfo", show_vmallocinfo },
	{ "meminfo", show_meminfo },	       { "vmstat", show_vmstat },
	{ "pagetypeinfo", show_pagetypeinfo }, { "numastat", show_numastat },
	{ "alloc_traces", show_alloc_traces }, { "free_traces", show_free_traces },
	{ "slabtop", show_slabtop },	       { "pagemap", show_pagemap },
};

static int view_index(const char *what)
{
	for (size_t i = 0; what && i < ARRAY_SIZE(views); i++)
		if (!strcmp(what, views[i].name))
			return (int)i;
	return -1;
}

bool dump_has_view(const char *what)
{
	return view_index(what) >= 0;
}

int dump_view(int fd, const char *what)
{
	int i = view_index(what);
	struct kmm_seq m;

	if (i < 0)
		return -EINVAL;
	kmm_seq_init(&m, fd);
	views[i].show(&m);
	return kmm_seq_flush(&m);
}

static void dump_unknown(int fd, const char *name)
{
	char msg[96];
	size_t n = kmm_snprintf(msg, sizeof(msg), "libkmm: KMM_STATS: no view named '%s'\n", name);

	kmm_write_all(fd, msg, n);
}

/* Write each view of the comma-separated @list to @fd; libkmm is up. */
void kmm_dump_list(int fd, const char *list)
{
	char name[32];

	while (*list) {
		size_t n = strcspn(list, ",");

		if (n && n < sizeof(name)) {
			memcpy(name, list, n);
			name[n] = '\0';
			if (dump_view(fd, name) == -EINVAL)
				dump_unknown(fd, name);
		}
		list += n + (list[n] == ',');
	}
}

/*
 * KMM_STATS=buddyinfo,slabinfo,... (or LD_PRELOAD/kmm-run --stats): write
 * those views to stderr when the program exits.  Programs that close their
 * standard streams before exit (coreutils' close_stdout() closes stderr too)
 * would print nothing: the stderr of the start is kept on a descriptor of
 * libkmm's (close-on-exec, high), used at exit if it is still that file.
 */
#define STATS_FD_MIN 100

static int exit_stats_fd = -1;
static struct stat exit_stats_st;

/* The same open file as at start-up (not a number the program reused). */
static bool exit_stats_fd_valid(void)
{
	struct stat st;

	return exit_stats_fd >= 0 && !fstat(exit_stats_fd, &st) &&
	       st.st_dev == exit_stats_st.st_dev && st.st_ino == exit_stats_st.st_ino;
}

__attribute__((constructor)) static void kmm_keep_stderr(void)
{
	const char *list = kmm_getenv("KMM_STATS");

	if (!list || !*list || fstat(2, &exit_stats_st))
		return;
	exit_stats_fd = fcntl(2, F_DUPFD_CLOEXEC, STATS_FD_MIN);
}

__attribute__((destructor)) static void kmm_exit_stats(void)
{
	const char *list = kmm_getenv("KMM_STATS");

	if (list && *list && kmm_is_up())
		kmm_dump_list(exit_stats_fd_valid() ? exit_stats_fd : 2, list);
}
