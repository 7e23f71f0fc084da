/* SPDX-License-Identifier: MIT */
/*
 * vmalloc/huge.h - allocations larger than the largest buddy block, mapped
 * directly, until the stitching vmalloc of DESIGN.md replaces this path.
 */
#ifndef KMM_VMALLOC_HUGE_H
#define KMM_VMALLOC_HUGE_H

#include "../lib/compiler.h"

/* @size bytes aligned to @align (a power of two), zeroed.  Return: NULL if the system refuses. */
void *huge_alloc(size_t size, size_t align);
/* Return: the usable size of the huge block at @p, or 0 if @p is not one. */
size_t huge_usable_size(const void *p);
/* Unmap the huge block at @p.  Return: false if @p is not one. */
bool huge_free(void *p);
/* Resize with mremap (no copy).  Return: the new address, or NULL (@p intact). */
void *huge_realloc(void *p, size_t size);
void huge_fork_prepare(void);
void huge_fork_parent(void);
void huge_fork_child(void);

#endif /* KMM_VMALLOC_HUGE_H */
