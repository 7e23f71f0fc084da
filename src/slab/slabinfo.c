// SPDX-License-Identifier: MIT
/*
 * slabinfo.c - /proc/slabinfo for libkmm's caches, in the kernel's format
 * (mm/slab_common.c: cache_show(), version 2.1).  tunables shows the per-CPU
 * stack size (limit) and the refill/flush batch (batchcount).
 */
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
		kmm_seq_printf(m, " : tunables %4u %4u %4u", cache->cpu[0].stack.high, cache->batch,
			       0u);
		kmm_seq_printf(m, " : slabdata %6lu %6lu %6lu\n", slabs, slabs, 0UL);
	}
	kmm_unlock(&slab_mutex);
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
