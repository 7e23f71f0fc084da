/* SPDX-License-Identifier: MIT */
/*
 * kmm/vmalloc.h - memory contiguous in addresses but not in pages, after the
 * kernel's include/linux/vmalloc.h (seed table 3.4: vmalloc()/vfree()).
 *
 * A vmalloc area lives in libkmm's vmalloc region, followed by a guard gap
 * that faults on an overrun.  Its pages are blocks from the page allocator
 * moved into place with mremap (2 MiB huge pages stay huge); what cannot be
 * stitched that way is mapped fresh.  kmm_dump(fd, "vmallocinfo") lists the
 * areas as /proc/vmallocinfo does.
 */
#ifndef KMM_VMALLOC_H
#define KMM_VMALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include <kmm/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmm_page;

/*
 * kmm_vmalloc() - @size bytes (rounded up to pages), contiguous in addresses.
 * Return: the area, or NULL with errno = ENOMEM (EINVAL for a size of 0).
 */
void *kmm_vmalloc(size_t size);
/* kmm_vzalloc() - the same, zeroed. */
void *kmm_vzalloc(size_t size);
/* kmm_vmalloc_node() - the same, from node @nid's pages first. */
void *kmm_vmalloc_node(size_t size, int nid);
/*
 * kmm_vrealloc() - resize an area without copying: in place when the range
 * after it is free, else its pages move to a new range.  The contents up to
 * the smaller size are kept.  Return: the area, or NULL with errno = ENOMEM
 * (@p is then unchanged).
 */
void *kmm_vrealloc(void *p, size_t size);
/*
 * kmm_vfree() - free an area from kmm_vmalloc().  NULL is ignored; anything
 * else that is not the start of a live area is reported and aborts.
 */
void kmm_vfree(const void *p);

/*
 * kmm_vmap() - map @count allocated pages contiguously.  Private memory cannot
 * be mapped twice in user space, so unlike the kernel's vmap the pages move:
 * until kmm_vunmap() their contents are at the returned address only, and
 * kmm_page_address() of them reads zero.  Return: the address, or NULL with
 * errno = ENOMEM.
 */
void *kmm_vmap(struct kmm_page **pages, unsigned int count);
/* kmm_vunmap() - move the pages of a kmm_vmap() area back. */
void kmm_vunmap(const void *addr);

/*
 * kmm_vmalloc_to_page() - the descriptor of the page that backs @addr in an
 * area, or NULL if @addr is in none or is backed by a fresh mapping.
 */
struct kmm_page *kmm_vmalloc_to_page(const void *addr);
/* kmm_is_vmalloc_addr() - is @addr inside the vmalloc region? */
bool kmm_is_vmalloc_addr(const void *addr);

/*
 * kmm_kvmalloc() - kmalloc, falling back to vmalloc when that fails or the
 * size is beyond the page allocator's largest block.  Free with kmm_kvfree().
 */
void *kmm_kvmalloc(size_t size, kmm_gfp_t gfp);
void kmm_kvfree(const void *p);

#ifdef __cplusplus
}
#endif

#endif /* KMM_VMALLOC_H */
