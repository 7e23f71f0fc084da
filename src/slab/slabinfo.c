// SPDX-License-Identifier: MIT
/*
 * slabinfo.c - /proc/slabinfo for libkmm's caches, in the kernel's format
 * (mm/slab_common.c: cache_show(), version 2.1).  tunables shows the per-CPU
 * stack size (limit) and the refill/flush batch (batchcount).
 */
#include <string.h>

#include "../lib/printk.h"
#include "slab.h"

void show_slabinfo(struct kmm_seq *m)
{
	struct kmm_list *pos;

	kmm_seq_puts(m, "slabinfo - version: 2.1\n");
	kmm_seq_puts(m, "# name            <active_objs> <num_objs> <objsize> <objperslab> "
			"<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
			"<active_slabs> <num_slabs> <sharedavail>\n");
	kmm_lock(&slab_mutex);
	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);
		unsigned long slabs = 0, active;

		for (int nid = 0; nid < kmm_nr_node_ids; nid++)
			slabs += READ_ONCE(cache->node[nid].nr_slabs);
		active = cache_active_objects(cache);
		kmm_seq_printf(m, "%-17s %6lu %6lu %6u %4u %4u", cache->name, active,
			       slabs * cache->objects, cache->size, cache->objects,
			       1u << cache->order);
		kmm_seq_printf(m, " : tunables %4u %4u %4u", cache->high, cache->batch, 0u);
		kmm_seq_printf(m, " : slabdata %6lu %6lu %6lu\n", slabs, slabs, 0UL);
	}
	kmm_unlock(&slab_mutex);
}

/* One cache's line of slabtop. */
struct slabtop_line {
	char name[32];
	unsigned long objs, active, slabs, kib;
	unsigned int size, per_slab;
};

#define SLABTOP_MAX 128 /* caches looked at; 1 KiB of stack per 16 */
#define SLABTOP_LINES 20

/* x / y as a percentage with one decimal, in tenths. */
static unsigned long tenths(unsigned long x, unsigned long y)
{
	return y ? (x * 1000 + y / 2) / y : 0;
}

/*
 * slabtop -o (procps): the totals, then the caches by memory held, largest
 * first (the first SLABTOP_LINES).  Sizes in KiB with two decimals.
 */
void show_slabtop(struct kmm_seq *m)
{
	struct slabtop_line lines[SLABTOP_MAX];
	unsigned long objs = 0, active = 0, slabs = 0, kib = 0, used_bytes = 0;
	unsigned int nr = 0, nr_active = 0, nr_caches = 0, min = ~0u, max = 0;
	struct kmm_list *pos;

	kmm_lock(&slab_mutex);
	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);
		struct slabtop_line l = { .size = cache->size, .per_slab = cache->objects };

		for (int nid = 0; nid < kmm_nr_node_ids; nid++)
			l.slabs += READ_ONCE(cache->node[nid].nr_slabs);
		l.objs = l.slabs * cache->objects;
		l.active = cache_active_objects(cache);
		l.kib = (l.slabs << cache->order) * (PAGE_SIZE >> 10);
		memcpy(l.name, cache->name, sizeof(l.name));
		nr_caches++;
		nr_active += l.active != 0;
		objs += l.objs;
		active += l.active;
		slabs += l.slabs;
		kib += l.kib;
		used_bytes += l.active * cache->size;
		min = MIN(min, cache->size);
		max = MAX(max, cache->size);
		if (nr < SLABTOP_MAX)
			lines[nr++] = l;
	}
	kmm_unlock(&slab_mutex);

	/* Largest first: a selection of the top lines is enough. */
	for (unsigned int i = 0; i < nr && i < SLABTOP_LINES; i++) {
		unsigned int best = i;

		for (unsigned int j = i + 1; j < nr; j++)
			if (lines[j].kib > lines[best].kib ||
			    (lines[j].kib == lines[best].kib &&
			     lines[j].active > lines[best].active))
				best = j;
		if (best != i) {
			struct slabtop_line t = lines[i];

			lines[i] = lines[best];
			lines[best] = t;
		}
	}
	kmm_seq_printf(m, " Active / Total Objects (%% used)    : %lu / %lu (%lu.%lu%%)\n", active,
		       objs, tenths(active, objs) / 10, tenths(active, objs) % 10);
	kmm_seq_printf(m, " Active / Total Slabs (%% used)      : %lu / %lu (%lu.%lu%%)\n", slabs,
		       slabs, slabs ? 100UL : 0UL, 0UL);
	kmm_seq_printf(m, " Active / Total Caches (%% used)     : %u / %u (%lu.%lu%%)\n", nr_active,
		       nr_caches, tenths(nr_active, nr_caches) / 10,
		       tenths(nr_active, nr_caches) % 10);
	kmm_seq_printf(m,
		       " Active / Total Size (%% used)       : %lu.%02luK / %lu.00K (%lu.%lu%%)\n",
		       used_bytes >> 10, ((used_bytes & 1023) * 100) >> 10, kib,
		       tenths(used_bytes >> 10, kib) / 10, tenths(used_bytes >> 10, kib) % 10);
	kmm_seq_printf(
		m, " Minimum / Average / Maximum Object : %u.%02uK / %lu.%02luK / %u.%02uK\n\n",
		min >> 10, ((min & 1023) * 100) >> 10, active ? (used_bytes / active) >> 10 : 0UL,
		active ? (((used_bytes / active) & 1023) * 100) >> 10 : 0UL, max >> 10,
		((max & 1023) * 100) >> 10);
	kmm_seq_puts(m, "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME\n");
	for (unsigned int i = 0; i < nr && i < SLABTOP_LINES; i++) {
		const struct slabtop_line *l = &lines[i];

		kmm_seq_printf(m, "%6lu %6lu %3lu%% %5u.%02uK %6lu %8u %9luK %s\n", l->objs,
			       l->active, tenths(l->active, l->objs) / 10, l->size >> 10,
			       ((l->size & 1023) * 100) >> 10, l->slabs, l->per_slab, l->kib,
			       l->name);
	}
}

unsigned long slab_pages(void)
{
	struct kmm_list *pos;
	unsigned long pages = 0;

	kmm_lock(&slab_mutex);
	list_for_each (pos, &slab_caches) {
		struct kmm_cache *cache = list_entry(pos, struct kmm_cache, list);

		for (int nid = 0; nid < kmm_nr_node_ids; nid++)
			pages += READ_ONCE(cache->node[nid].nr_slabs) << cache->order;
	}
	kmm_unlock(&slab_mutex);
	return pages;
}

unsigned long slab_stat_sum(enum slab_stat item)
{
	struct kmm_list *pos;
	unsigned long sum = 0;

	kmm_lock(&slab_mutex);
	list_for_each (pos, &slab_caches)
		sum += __atomic_load_n(&list_entry(pos, struct kmm_cache, list)->stat[item],
				       __ATOMIC_RELAXED);
	kmm_unlock(&slab_mutex);
	return sum;
}
