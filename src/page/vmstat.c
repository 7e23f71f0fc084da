// SPDX-License-Identifier: MIT
/*
 * vmstat.c - /proc/buddyinfo and /proc/zoneinfo for libkmm's zones, in the
 * kernel's formats (mm/vmstat.c: frag_show_print(), zoneinfo_show_print()).
 * Only the fields that mean something here are printed; each zone's numbers
 * are read under its lock, so a zone's lines are a consistent snapshot.
 */
#include "../lib/printk.h"
#include "internal.h"
#include "pcp.h"

void show_buddyinfo(struct kmm_seq *m)
{
	struct kmm_zone *zone;

	for_each_zone (zone) {
		unsigned long counts[NR_PAGE_ORDERS];

		zone_free_counts(zone, counts);
		kmm_seq_printf(m, "Node %d, zone %8s ", zone->node, zone->name);
		for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
			kmm_seq_printf(m, "%6lu ", counts[o]);
		kmm_seq_puts(m, "\n");
	}
}

static const char *const zone_stat_names[NR_ZONE_STATS] = {
	[ZSTAT_PGALLOC] = "pgalloc",	     [ZSTAT_PGFREE] = "pgfree",
	[ZSTAT_GROW] = "sections_added",     [ZSTAT_GROW_FAILED] = "sections_refused",
	[ZSTAT_PCP_REFILL] = "pcp_refills",  [ZSTAT_PCP_DRAIN] = "pcp_drains",
	[ZSTAT_RELEASED] = "pages_released",
};

static void zoneinfo_show_print(struct kmm_seq *m, struct kmm_zone *zone)
{
	unsigned long wm[NR_WMARK], stat[NR_ZONE_STATS], nr_free, present, nr_released;

	kmm_lock(&zone->lock);
	nr_free = zone->nr_free_pages;
	present = zone->present_pages;
	for (int i = 0; i < NR_WMARK; i++)
		wm[i] = zone->watermark[i];
	for (int i = 0; i < NR_ZONE_STATS; i++)
		stat[i] = zone->stat[i];
	nr_released = zone->nr_released;
	kmm_unlock(&zone->lock);

	kmm_seq_printf(m, "Node %d, zone %8s", zone->node, zone->name);
	kmm_seq_printf(m, "\n  pages free     %lu", nr_free);
	kmm_seq_printf(m, "\n        %-8s %lu", "boost", 0UL);
	kmm_seq_printf(m, "\n        %-8s %lu", "min", wm[WMARK_MIN]);
	kmm_seq_printf(m, "\n        %-8s %lu", "low", wm[WMARK_LOW]);
	kmm_seq_printf(m, "\n        %-8s %lu", "high", wm[WMARK_HIGH]);
	kmm_seq_printf(m, "\n        %-8s %lu", "promo", wm[WMARK_PROMO]);
	kmm_seq_printf(m, "\n        %-8s %lu", "spanned", zone->spanned_pages);
	kmm_seq_printf(m, "\n        %-8s %lu", "present", present);
	kmm_seq_printf(m, "\n        %-8s %lu", "managed", present);
	kmm_seq_printf(m, "\n        %-8s %lu", "cma", 0UL);
	kmm_seq_puts(m, "\n        protection: (0");
	for (int i = 1; i < MAX_NR_ZONES; i++)
		kmm_seq_puts(m, ", 0");
	kmm_seq_puts(m, ")");
	if (zone->spanned_pages) {
		kmm_seq_printf(m, "\n      %-12s %lu", "nr_free_pages", nr_free);
		kmm_seq_printf(m, "\n      %-12s %lu", "nr_released", nr_released);
		for (int i = 0; i < NR_ZONE_STATS; i++)
			kmm_seq_printf(m, "\n      %-12s %lu", zone_stat_names[i], stat[i]);
		if (zone->per_cpu_pageset) {
			kmm_seq_puts(m, "\n  pagesets");
			for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
				kmm_seq_printf(m, "\n    cpu: %i", cpu);
				kmm_seq_printf(m, "\n              count:    %lu",
					       pcp_count(zone, cpu));
				kmm_seq_printf(m, "\n              high:     %u", zone->pcp_high);
				kmm_seq_printf(m, "\n              batch:    %u", zone->pcp_batch);
				kmm_seq_printf(m, "\n              high_min: %u", zone->pcp_high);
				kmm_seq_printf(m, "\n              high_max: %u", zone->pcp_high);
			}
		}
		kmm_seq_printf(m, "\n  node_unreclaimable:  %u", 0U);
		kmm_seq_printf(m, "\n  start_pfn:           %lu", zone->zone_start_pfn);
	}
	kmm_seq_puts(m, "\n");
}

void show_zoneinfo(struct kmm_seq *m)
{
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		if (!node_online(nid))
			continue;
		for (int zt = 0; zt < MAX_NR_ZONES; zt++)
			zoneinfo_show_print(m, &kmm_nodes[nid].node_zones[zt]);
	}
}
