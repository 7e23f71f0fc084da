/* SPDX-License-Identifier: MIT */
/*
 * slab/secure.h - KMM_SECURE=1, the hardened mode of the slab layer and the
 * page runs of kmalloc (see secure.c for what it does and the layout).
 *
 * The mode is chosen at start-up and turns the rseq fast paths off (as
 * KMM_TRACK does), so every allocation and free reaches the out-of-line
 * paths, where these hooks sit behind one test of slab_secure.
 */
#ifndef KMM_SLAB_SECURE_H
#define KMM_SLAB_SECURE_H

#include "slab.h"

/* Who allocated a block: checked by the C++ delete operators in secure mode. */
enum kmm_alloc_kind {
	KMM_KIND_MALLOC,
	KMM_KIND_NEW,	    /* operator new */
	KMM_KIND_NEW_ARRAY, /* operator new[] */
};

extern bool slab_secure;
/* Set at start-up with KMM_TRACK=1: the call sites of a block, for the reports. */
extern void (*secure_describe)(const void *p, char *buf, size_t n);

/* Start-up: the quarantine rings.  Return: 0 or -ENOMEM. */
int secure_init(void);
/* cache_create(): the secure layout of @cache (redzone, guard page, slot 0 kept). */
void secure_cache_layout(struct kmm_cache *cache);
/*
 * new_slab(): poison the objects, write the redzones, guard the last page.
 * Return: how many slots go on the free list, in the random order written to @order.
 */
unsigned int secure_new_slab(struct kmm_cache *cache, struct kmm_page *slab, uint16_t *order);
/* discard_slab(): open the guard page again.  Return: false if it cannot be (keep the pages). */
bool secure_discard_slab(struct kmm_cache *cache, struct kmm_page *slab);
/* cache_alloc_slow(): check @obj for writes after free; mark it allocated. */
void secure_alloc(struct kmm_cache *cache, void *obj);
/* kmalloc: the block at @obj holds @size bytes; the rest of the object is redzone. */
void secure_set_size(struct kmm_cache *cache, void *obj, size_t size);
/* cache_free_slow(): check, poison and quarantine @obj.  Return: true if held back. */
bool secure_free(struct kmm_cache *cache, void *obj);
/* realloc: a slab object at @p (descriptor @page) keeps its place for @size.  Return: @p or NULL. */
void *secure_realloc_in_place(void *p, struct kmm_page *page, size_t size);
/* The bytes asked for at @obj, a slab object. */
size_t secure_object_size(struct kmm_cache *cache, const void *obj);

/* kmalloc's page runs: a guard page after each, quarantined when freed. */
void *secure_run_alloc(kmm_gfp_t gfp, size_t size, int nid, size_t align);
bool secure_run_free(void *ptr, struct kmm_page *page);
size_t secure_run_size(const struct kmm_page *page);

/* C++: record who allocated @p; check a delete of @p (@size 0: unsized). */
void secure_set_kind(void *p, enum kmm_alloc_kind kind);
void secure_check_delete(void *p, enum kmm_alloc_kind kind, size_t size);
/*
 * Every build: a sized delete of an object of @cache names @size (@aligned:
 * from an aligned new, whose class may be larger).  Return: whether @size
 * could have made it (one table load; the hit path calls it too).
 */
static __always_inline bool slab_sized_delete_ok(const struct kmm_cache *cache, size_t size,
						 bool aligned)
{
	if (aligned)
		return size <= cache->object_size;
	return size <= KMALLOC_MAX_SIZE && kmalloc_class(size) == cache->kclass;
}
/* ... and the report when it could not. */
__cold __noreturn void slab_bad_sized_delete(void *p, enum kmm_alloc_kind kind, size_t size);

/* Release the blocks of @cache (NULL: all blocks) held in quarantine, checked. */
void secure_drain(struct kmm_cache *cache);

/* fork(): every quarantine ring's lock. */
void secure_fork(enum kmm_fork_op op);

#endif /* KMM_SLAB_SECURE_H */
