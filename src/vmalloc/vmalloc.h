/* SPDX-License-Identifier: MIT */
/*
 * vmalloc/vmalloc.h - the vmalloc layer's interface to kmalloc, the public
 * API and the views.  Public callers use <kmm/vmalloc.h>.
 */
#ifndef KMM_VMALLOC_VMALLOC_H
#define KMM_VMALLOC_VMALLOC_H

#include <kmm/gfp.h>

#include "../lib/compiler.h"

/*
 * The vmalloc region is reserved chunk by chunk as areas need it (see
 * vmalloc.c); [vmalloc_start, vmalloc_end) is the hull of every chunk it has
 * held, widened under its lock and never narrowed: a first, lock-free test.
 */
extern uintptr_t vmalloc_start, vmalloc_end;

/* Size the mapping budget, probe stitching (kmm_init step "vmalloc_init"); nothing is reserved. */
int vmalloc_init(void);

static inline bool in_vmalloc_hull(const void *p)
{
	uintptr_t start = __atomic_load_n(&vmalloc_start, __ATOMIC_ACQUIRE);

	return (uintptr_t)p - start < __atomic_load_n(&vmalloc_end, __ATOMIC_ACQUIRE) - start;
}

/* Is @p in one of the region's chunks now?  Takes the region's lock. */
bool vmalloc_owns(const void *p);

/* Is @p inside the vmalloc region?  (The kernel's is_vmalloc_addr().) */
static inline bool is_vmalloc_addr(const void *p)
{
	return in_vmalloc_hull(p) && vmalloc_owns(p);
}

/* Where an area came from: what its free must be. */
enum { VM_ALLOC = 1u << 0, VM_MAP = 1u << 1, VM_MALLOC = 1u << 2 };

/*
 * __vmalloc_node() - @size bytes (rounded up to pages) contiguous in the
 * vmalloc region, aligned to @align, from pages of node @nid's zones stitched
 * in with mremap, the rest (and what the mapping budget cannot afford) mapped
 * fresh.  @flags: VM_ALLOC, or VM_MALLOC for malloc's large blocks; @caller
 * is shown by vmallocinfo.  Return: the address, or NULL (no errno set).
 */
void *__vmalloc_node(size_t size, size_t align, kmm_gfp_t gfp, int nid, unsigned int flags,
		     const void *caller);

/*
 * __vfree() - free the area that starts at @p (VM_ALLOC or VM_MALLOC): kept
 * mapped in a small cache for the next request, or released (its runs to
 * the buddy, its pages to the system, its range a reservation again).
 * Return: false if @p is not in the vmalloc region; misuse inside it (not an
 * area's start, a vmap area, a double free) is reported and aborts.
 */
bool __vfree(const void *p, const char *who);

/* The bytes of freed areas the cache holds (unlocked: a heuristic's input). */
size_t vmalloc_cached_bytes(void);

/* Areas allocated and freed, ever (unlocked): the reclaim thread's sign of use. */
unsigned long vmalloc_traffic(void);

/*
 * __vrealloc() - resize the area at @p: in place when the range after it is
 * free, else moved page tables and all to a new range (no byte is copied);
 * shrinking gives the tail back.  Return: the address, or NULL with the area
 * unchanged.
 */
void *__vrealloc(void *p, size_t size, kmm_gfp_t gfp);

/*
 * vmalloc_from_run() - grow the exact page run at @page (@old_pages pages) to
 * @size bytes as a vmalloc area: the run is moved in as its first piece.
 * Return: the area, or NULL with the run untouched.
 */
struct kmm_page;
void *vmalloc_from_run(struct kmm_page *page, size_t size, kmm_gfp_t gfp);

/* Release every cached freed area (kmm_reclaim()). */
void vmalloc_purge(void);
/* Release the cached areas unused for KMM_DECAY_MS (the background thread). */
void vmalloc_decay(void);

/* The usable size of the area that starts at @p, or 0 if none does. */
size_t vmalloc_usable_size(const void *p);

struct kmm_page *vmalloc_to_page(const void *addr);
void *__vmap(struct kmm_page **pages, unsigned int count, const void *caller);
void __vunmap(const void *addr);

/* Mappings the layer has made, against its budget (for tests and views). */
void vmalloc_map_counts(unsigned long *used, unsigned long *budget);

struct kmm_seq;
void show_vmallocinfo(struct kmm_seq *m);
void show_vmalloc_meminfo(struct kmm_seq *m);
void show_vmalloc_vmstat(struct kmm_seq *m);

void vmalloc_fork_prepare(void);
void vmalloc_fork_parent(void);
void vmalloc_fork_child(void);

#endif /* KMM_VMALLOC_VMALLOC_H */
