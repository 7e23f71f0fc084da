// SPDX-License-Identifier: MIT
/*
 * huge.c - direct mappings for blocks larger than the largest buddy block
 * (4 MiB), registered by address so that free() classifies them in O(1).
 *
 * This is the interim large path that the slab/malloc issue calls for; the
 * vmalloc issue replaces it with areas stitched from buddy pages in libkmm's
 * own vmalloc region.  The registry is an open-addressing hash table of
 * (address, size) in its own mapping, grown by doubling under a lock; the
 * mappings are few and large, so the lock is not a fast-path cost.
 */
#include <string.h>

#include "../lib/lock.h"
#include "../numa/mmzone.h"
#include "../numa/os.h"
#include "huge.h"

struct huge_entry {
	uintptr_t addr; /* 0: empty; 1: deleted */
	size_t size;	/* mapped bytes (the usable size) */
	uintptr_t map;	/* start of the mapping (before alignment) */
	size_t map_size;
};

#define DELETED 1UL

static struct kmm_lock huge_lock = KMM_LOCK_INIT;
static struct huge_entry *table;
static size_t table_size; /* a power of two */
static size_t table_used; /* live + deleted */

static inline size_t slot_of(uintptr_t addr, size_t mask)
{
	return (size_t)((addr >> 21) * 0x9e3779b97f4a7c15ULL >> 20) & mask;
}

static struct huge_entry *lookup(uintptr_t addr)
{
	if (!table)
		return NULL;
	for (size_t i = slot_of(addr, table_size - 1);; i = (i + 1) & (table_size - 1)) {
		if (table[i].addr == addr)
			return &table[i];
		if (table[i].addr == 0)
			return NULL;
	}
}

static bool grow_table(void)
{
	size_t new_size = table_size ? table_size * 2 : 512;
	struct huge_entry *t = os_map_anon(new_size * sizeof(*t));

	if (!t)
		return false;
	for (size_t i = 0; i < table_size; i++) {
		size_t j;

		if (table[i].addr <= DELETED)
			continue;
		for (j = slot_of(table[i].addr, new_size - 1); t[j].addr;
		     j = (j + 1) & (new_size - 1))
			;
		t[j] = table[i];
	}
	if (table)
		os_unmap(table, table_size * sizeof(*t));
	table = t;
	table_size = new_size;
	table_used = 0;
	for (size_t i = 0; i < table_size; i++)
		table_used += table[i].addr > DELETED;
	return true;
}

static bool insert(const struct huge_entry *e)
{
	size_t i;

	if ((table_used + 1) * 2 > table_size && !grow_table())
		return false;
	for (i = slot_of(e->addr, table_size - 1); table[i].addr > DELETED;
	     i = (i + 1) & (table_size - 1))
		;
	if (table[i].addr == 0)
		table_used++;
	table[i] = *e;
	return true;
}

void *huge_alloc(size_t size, size_t align)
{
	struct huge_entry e;
	size_t len = ALIGN_UP(size, PAGE_SIZE), extra = align > PAGE_SIZE ? align : 0;
	char *map;

	if (len < size || len + extra < len)
		return NULL;
	map = os_map_anon(len + extra);
	if (!map)
		return NULL;
	e.map = (uintptr_t)map;
	e.map_size = len + extra;
	e.addr = extra ? ALIGN_UP((uintptr_t)map, align) : (uintptr_t)map;
	e.size = len;
	if (extra) {
		/* Trim to exactly the aligned block. */
		if (e.addr > e.map)
			os_unmap(map, e.addr - e.map);
		if (e.map + e.map_size > e.addr + len)
			os_unmap((void *)(e.addr + len), e.map + e.map_size - (e.addr + len));
		e.map = e.addr;
		e.map_size = len;
	}
	if (kmm_arena.thp)
		os_advise_hugepage((void *)e.addr, len);
	kmm_lock(&huge_lock);
	if (!insert(&e)) {
		kmm_unlock(&huge_lock);
		os_unmap((void *)e.map, e.map_size);
		return NULL;
	}
	kmm_unlock(&huge_lock);
	return (void *)e.addr;
}

size_t huge_usable_size(const void *p)
{
	struct huge_entry *e;
	size_t size;

	kmm_lock(&huge_lock);
	e = lookup((uintptr_t)p);
	size = e ? e->size : 0;
	kmm_unlock(&huge_lock);
	return size;
}

bool huge_free(void *p)
{
	struct huge_entry *e, copy;

	kmm_lock(&huge_lock);
	e = lookup((uintptr_t)p);
	if (!e) {
		kmm_unlock(&huge_lock);
		return false;
	}
	copy = *e;
	e->addr = DELETED;
	kmm_unlock(&huge_lock);
	os_unmap((void *)copy.map, copy.map_size);
	return true;
}

void *huge_realloc(void *p, size_t size)
{
	struct huge_entry *e;
	size_t len = ALIGN_UP(size, PAGE_SIZE);
	void *q;

	kmm_lock(&huge_lock);
	e = lookup((uintptr_t)p);
	if (!e || e->map != e->addr || len < size) {
		kmm_unlock(&huge_lock);
		return NULL;
	}
	/* Page tables move; bytes are not copied. */
	q = os_remap(p, e->map_size, len);
	if (q) {
		struct huge_entry moved = { (uintptr_t)q, len, (uintptr_t)q, len };

		e->addr = DELETED;
		insert(&moved); /* never grows: one entry out, one in */
	}
	kmm_unlock(&huge_lock);
	return q;
}

void huge_fork_prepare(void)
{
	kmm_lock(&huge_lock);
}

void huge_fork_parent(void)
{
	kmm_unlock(&huge_lock);
}

void huge_fork_child(void)
{
	kmm_lock_init(&huge_lock);
}
