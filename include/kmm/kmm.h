/* SPDX-License-Identifier: MIT */
/*
 * kmm/kmm.h - libkmm: the Linux kernel's memory manager as a user-space
 * allocator.  This header brings in the whole public API.
 */
#ifndef KMM_KMM_H
#define KMM_KMM_H

#include <kmm/gfp.h>
#include <kmm/mempool.h>
#include <kmm/numa.h>
#include <kmm/page.h>
#include <kmm/slab.h>
#include <kmm/vmalloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * kmm_init() - bring the memory manager up (the kernel's start_kernel() memory
 * steps).  Every entry point calls it on first use, so programs never need to.
 * Return: 0, or -1 with errno set when the address space could not be reserved.
 */
int kmm_init(void);

/*
 * kmm_reclaim() - give back what libkmm keeps for speed: freed vmalloc areas
 * still mapped, empty slabs, the per-CPU caches' pages, and then every free
 * block of 2 MiB and up to the system (MADV_DONTNEED).  malloc_trim() calls it.
 * Without it, free blocks go back after KMM_DECAY_MS (1 s) unused, on a free.
 */
void kmm_reclaim(void);

/*
 * kmm_dump() - write one of the kernel's /proc views of libkmm's state to @fd,
 * in the kernel's own text format.  @what is one of "buddyinfo", "zoneinfo",
 * "slabinfo", "vmallocinfo", "pagetypeinfo", "meminfo" (the lines that apply),
 * "vmstat" (libkmm's counters, one "name value" per line), "numastat" (the
 * numastat command's table of page allocations per node, in pages),
 * "slabtop" (slabtop -o), "pagemap" (the zones' pages by holder, resident or
 * not: /proc/kpageflags as page-types sums it), and with KMM_TRACK=1
 * "alloc_traces" and "free_traces" (the kernel's debugfs slab files).
 * Uses no malloc and no stdio; it takes the allocator's locks, so not from a
 * signal handler (KMM_STATS_SIGNAL writes them from a thread of libkmm's).
 * Return: 0, or -1 with errno = EINVAL for an unknown view, or the write error.
 */
int kmm_dump(int fd, const char *what);

#ifdef __cplusplus
}
#endif

#endif /* KMM_KMM_H */
