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

/* Free blocks per order, those released to the system apart.  Context: zone->lock. */
static void count_free(struct kmm_zone *zone, unsigned long kept[NR_PAGE_ORDERS],
		       unsigned long released[NR_PAGE_ORDERS])
{
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct kmm_list *pos;

		kept[o] = released[o] = 0;
		list_for_each (pos, &zone->free_area[o].free_list) {
			const struct kmm_page *page = list_entry(pos, struct kmm_page, lru);

			if (page->flags & PG_released)
				released[o]++;
			else
				kept[o]++;
		}
	}
}

/*
 * /proc/pagetypeinfo (mm/vmstat.c pagetypeinfo_show()).  libkmm does not
 * migrate pages, so its types are what a free block is: Unmovable (kept, its
 * pages resident) and Released (given back to the system, reading zero).
 */
void show_pagetypeinfo(struct kmm_seq *m)
{
	static const char *const types[] = { "Unmovable", "Released" };
	struct kmm_zone *zone;

	kmm_seq_printf(m, "Page block order: %d\n", SECTION_ORDER);
	kmm_seq_printf(m, "Pages per block:  %lu\n\n", PAGES_PER_SECTION);
	kmm_seq_printf(m, "%-43s", "Free pages count per migrate type at order");
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		kmm_seq_printf(m, "%6u ", o);
	kmm_seq_puts(m, "\n");
	for_each_zone (zone) {
		unsigned long counts[2][NR_PAGE_ORDERS];

		kmm_lock(&zone->lock);
		count_free(zone, counts[0], counts[1]);
		kmm_unlock(&zone->lock);
		for (int t = 0; t < 2; t++) {
			kmm_seq_printf(m, "Node %4d, zone %8s, type %12s ", zone->node, zone->name,
				       types[t]);
			for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
				kmm_seq_printf(m, "%6lu ", counts[t][o]);
			kmm_seq_puts(m, "\n");
		}
	}
	kmm_seq_printf(m, "\n%-23s %12s %12s\n", "Number of blocks type", types[0], types[1]);
	for_each_zone (zone) {
		unsigned long present = zone_present(zone), released;

		kmm_lock(&zone->lock);
		released = zone->nr_released;
		kmm_unlock(&zone->lock);
		kmm_seq_printf(m, "Node %d, zone %8s %12lu %12lu\n", zone->node, zone->name,
			       (present - released) / PAGES_PER_SECTION,
			       released / PAGES_PER_SECTION);
	}
}

/* The page allocator's lines of /proc/vmstat, summed over the zones. */
void show_page_vmstat(struct kmm_seq *m)
{
	unsigned long free = 0, released = 0, pcp = 0, present = 0, stat[NR_ZONE_STATS] = { 0 };
	struct kmm_zone *zone;

	for_each_zone (zone) {
		kmm_lock(&zone->lock);
		free += zone->nr_free_pages;
		released += zone->nr_released;
		for (int i = 0; i < NR_ZONE_STATS; i++)
			stat[i] += zone->stat[i];
		kmm_unlock(&zone->lock);
		present += zone_present(zone);
		if (zone->per_cpu_pageset)
			for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
				pcp += pcp_count(zone, cpu);
	}
	kmm_seq_printf(m, "nr_present_pages %lu\n", present);
	kmm_seq_printf(m, "nr_free_pages %lu\n", free);
	kmm_seq_printf(m, "nr_released_pages %lu\n", released);
	kmm_seq_printf(m, "nr_pcp_pages %lu\n", pcp);
	for (int i = 0; i < NR_ZONE_STATS; i++)
		kmm_seq_printf(m, "%s %lu\n", zone_stat_names[i], stat[i]);
}
