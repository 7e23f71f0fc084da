// SPDX-License-Identifier: MIT
/*
 * views.c - the vmalloc layer as the kernel's /proc shows it: vmallocinfo,
 * the Vmalloc lines of meminfo, the vmalloc counters of vmstat.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/lock.h"
#include "../lib/printk.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "../page/internal.h"
#include "../slab/slab.h"
#include "internal.h"

/* One line of vmallocinfo, copied under the lock and printed without it. */
struct vminfo_line {
	uintptr_t addr;
	size_t size;
	unsigned int flags;
	const void *caller;
	unsigned long per_node[KMM_MAX_NUMNODES];
};

#define VMINFO_BATCH 16

/* The kernel's %pS: symbol+offset when the dynamic linker knows it. */
static void print_caller(struct kmm_seq *m, const struct vminfo_line *l)
{
	Dl_info info;

	if (!l->caller) {
		kmm_seq_puts(m, l->flags & VM_MALLOC ? " malloc" : " ?");
		return;
	}
	if (dladdr(l->caller, &info) && info.dli_sname)
		kmm_seq_printf(m, " %s+0x%lx", info.dli_sname,
			       (unsigned long)((uintptr_t)l->caller - (uintptr_t)info.dli_saddr));
	else
		kmm_seq_printf(m, " %p", l->caller);
}

static void copy_line(struct vminfo_line *l, const struct kmm_vm_area *a)
{
	l->addr = a->addr;
	l->size = a->size;
	l->flags = a->flags;
	l->caller = a->caller;
	memset(l->per_node, 0, sizeof(l->per_node));
	for (unsigned int k = 0; k < a->nr_pieces; k++) {
		const struct vm_piece *p = &a->pieces[k];

		l->per_node[p->page ? page_zone(p->page)->node : 0] += p->nr_pages;
	}
}

static void print_line(struct kmm_seq *m, const struct vminfo_line *l)
{
	kmm_seq_printf(m, "0x%016lx-0x%016lx %8lu", (unsigned long)l->addr,
		       (unsigned long)(l->addr + l->size + VM_GUARD),
		       (unsigned long)(l->size + VM_GUARD));
	if (l->flags & VM_CACHED) {
		/* Freed, not purged yet: the kernel's words for it. */
		kmm_seq_puts(m, " unpurged vm_area\n");
		return;
	}
	print_caller(m, l);
	kmm_seq_printf(m, " pages=%lu", (unsigned long)(l->size >> PAGE_SHIFT));
	kmm_seq_puts(m, l->flags & VM_MAP ? " vmap" : " vmalloc");
	if (l->flags & VM_MALLOC)
		kmm_seq_puts(m, " user");
	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		if (l->per_node[nid])
			kmm_seq_printf(m, " N%d=%lu", nid, l->per_node[nid]);
	kmm_seq_puts(m, "\n");
}

/*
 * /proc/vmallocinfo (mm/vmalloc.c s_show()): range with its guard, size with
 * the guard, caller, pages, the kind and the pages per node.  Fresh pages
 * have no node of their own: they count as the local node's.  Areas are
 * copied a batch at a time under the lock and printed without it: naming the
 * caller (dladdr) takes the dynamic linker's lock, which a thread in dlopen()
 * may hold while it allocates a large block and waits for this one.
 */
void show_vmallocinfo(struct kmm_seq *m)
{
	struct vminfo_line lines[VMINFO_BATCH];
	uintptr_t from = 0;
	size_t n;

	do {
		n = 0;
		kmm_lock(&vm_state.lock);
		for (size_t i = 0; i < vm_state.nr && n < VMINFO_BATCH; i++)
			if (vm_state.areas[i]->addr >= from)
				copy_line(&lines[n++], vm_state.areas[i]);
		kmm_unlock(&vm_state.lock);
		for (size_t k = 0; k < n; k++)
			print_line(m, &lines[k]);
		if (n)
			from = lines[n - 1].addr + 1;
	} while (n == VMINFO_BATCH);
}

/*
 * The vmalloc lines of /proc/meminfo: the address space the region may
 * reserve, what is used, the largest free gap (in a chunk, or yet to be
 * reserved).
 */
void show_vmalloc_meminfo(struct kmm_seq *m)
{
	size_t used = 0, chunk, i = 0;

	kmm_lock(&vm_state.lock);
	chunk = vm_state.limit - vm_state.reserved;
	for (size_t c = 0; c < vm_state.nr_chunks; c++) {
		uintptr_t lo = vm_state.chunks[c].start;

		for (; i < vm_state.nr && vm_state.areas[i]->addr < vm_state.chunks[c].end; i++) {
			chunk = MAX(chunk, (size_t)(vm_state.areas[i]->addr - lo));
			if (!(vm_state.areas[i]->flags & VM_CACHED))
				used += vm_state.areas[i]->size;
			lo = area_end(vm_state.areas[i]);
		}
		chunk = MAX(chunk, (size_t)(vm_state.chunks[c].end - lo));
	}
	kmm_unlock(&vm_state.lock);
	kmm_seq_printf(m, "VmallocTotal:   %8lu kB\n", (unsigned long)(vm_state.limit >> 10));
	kmm_seq_printf(m, "VmallocUsed:    %8lu kB\n", (unsigned long)(used >> 10));
	kmm_seq_printf(m, "VmallocChunk:   %8lu kB\n", (unsigned long)(chunk >> 10));
}

static const char *const vm_stat_names[NR_VM_STATS] = {
	[VMS_ALLOC] = "vmalloc_alloc",
	[VMS_FREE] = "vmalloc_free",
	[VMS_STITCHED] = "vmalloc_stitched",
	[VMS_STITCHED_KB] = "vmalloc_stitched_kb",
	[VMS_FRESH] = "vmalloc_fresh",
	[VMS_FRESH_KB] = "vmalloc_fresh_kb",
	[VMS_CACHE_HIT] = "vmalloc_cache_hit",
	[VMS_CACHE_REUSED_KB] = "vmalloc_cache_reused_kb",
	[VMS_RELEASED_KB] = "vmalloc_released_kb",
	[VMS_DECAYED] = "vmalloc_decayed",
	[VMS_BUDGET_HIT] = "vmalloc_budget_hit",
	[VMS_GROW_INPLACE] = "vrealloc_in_place",
	[VMS_GROW_MOVED] = "vrealloc_moved",
	[VMS_SHRINK] = "vrealloc_shrunk",
	[VMS_FROM_RUN] = "vrealloc_from_run",
	[VMS_MOVE_FAILED] = "vmalloc_move_failed",
	[VMS_COPIED_BACK] = "vmalloc_copied_back",
};

/* The vmalloc counters of /proc/vmstat, and the mapping budget. */
void show_vmalloc_vmstat(struct kmm_seq *m)
{
	unsigned long stat[NR_VM_STATS], maps, max_maps, areas, chunks;
	unsigned int cached;
	size_t cached_bytes, reserved;

	vm_setup();
	kmm_lock(&vm_state.lock);
	memcpy(stat, vm_state.stat, sizeof(stat));
	maps = vm_state.maps;
	max_maps = vm_state.max_maps;
	areas = vm_state.nr - vm_state.nr_cached;
	cached = vm_state.nr_cached;
	cached_bytes = vm_state.cached_bytes;
	chunks = vm_state.nr_chunks;
	reserved = vm_state.reserved;
	kmm_unlock(&vm_state.lock);
	kmm_seq_printf(m, "vmalloc_areas %lu\n", areas);
	kmm_seq_printf(m, "vmalloc_chunks %lu\n", chunks);
	kmm_seq_printf(m, "vmalloc_reserved_kb %lu\n", (unsigned long)(reserved >> 10));
	kmm_seq_printf(m, "vmalloc_maps %lu\n", maps);
	kmm_seq_printf(m, "vmalloc_maps_budget %lu\n", max_maps);
	kmm_seq_printf(m, "vmalloc_stitching %d\n", !vm_state.no_stitch);
	kmm_seq_printf(m, "vmalloc_cached %u\n", cached);
	kmm_seq_printf(m, "vmalloc_cached_kb %lu\n", (unsigned long)(cached_bytes >> 10));
	for (int i = 0; i < NR_VM_STATS; i++)
		kmm_seq_printf(m, "%s %lu\n", vm_stat_names[i], stat[i]);
}
