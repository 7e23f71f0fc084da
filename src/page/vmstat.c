// SPDX-License-Identifier: MIT
/*
 * vmstat.c - /proc/buddyinfo and /proc/zoneinfo for libkmm's zones, in the
 * kernel's formats (mm/vmstat.c: frag_show_print(), zoneinfo_show_print()).
 * Only the fields that mean something here are printed; each zone's numbers
 * are read under its lock, so a zone's lines are a consistent snapshot.
 */
#include "../lib/printk.h"
#include "../numa/os.h"
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
	[ZSTAT_RELEASED] = "pages_released", [ZSTAT_RELEASED_GROWTH] = "released_on_growth",
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

/*
 * pagemap: each zone's pages by what holds them, and whether the system has
 * them in memory (mincore()), in KiB: the kernel's /proc/kpageflags as
 * tools/mm/page-types sums it.  It shows where a process's resident memory
 * sits that meminfo and slabinfo count only as totals: free pages still
 * resident (used once, kept), slabs and runs whose pages were never written,
 * and per-CPU stocks.  First a map of the first PAGEMAP_SECTIONS sections,
 * a line each, a character per 4 pages (the state of the first), upper case
 * when any of the four is resident; then the table.
 *
 * The walk reads each block's head descriptor: the buddy's under the zone
 * lock, a slab's or a run's as their owners leave them, so a block changing
 * hands meanwhile is counted as either.  The residency of a section is read
 * before its lock is taken (no system call under a lock).  No heap memory.
 */
enum pagemap_state {
	PM_SLAB,
	PM_RUN,
	PM_BLOCK,
	PM_PCP,
	PM_VMALLOC,
	PM_FREE,
	PM_RELEASED,
	PM_UNUSED,
	PM_OTHER,
	NR_PM_STATES
};

static const char *const pm_names[NR_PM_STATES] = {
	[PM_SLAB] = "slab",	    [PM_RUN] = "run",		[PM_BLOCK] = "block",
	[PM_PCP] = "pcp",	    [PM_VMALLOC] = "vmalloc",	[PM_FREE] = "free",
	[PM_RELEASED] = "released", [PM_UNUSED] = "never_used", [PM_OTHER] = "other",
};
static const char pm_chars[NR_PM_STATES] = "srbpvfxuo";

#define PAGEMAP_SECTIONS 64u /* sections drawn in the map */
#define PAGEMAP_CELL 4u	     /* pages per character of the map */

/* The state of the block whose head is at @pfn, and its length (*@n). */
static enum pagemap_state pagemap_block(struct kmm_zone *zone, unsigned long pfn, unsigned long *n)
{
	const struct kmm_page *page = zone_pfn_to_page(zone, pfn);
	unsigned int flags = READ_ONCE(page->flags), order = READ_ONCE(page->order);
	/* What a head of a buddy, pcp, slab or plain block spans. */
	unsigned long block = 1UL << MIN(order, (unsigned int)MAX_PAGE_ORDER);

	*n = 1;
	if (flags & (PG_buddy | PG_pcp | PG_slab)) {
		*n = block;
		if (flags & PG_buddy)
			return (flags & PG_released) ? PM_RELEASED : PM_FREE;
		return (flags & PG_pcp) ? PM_PCP : PM_SLAB;
	}
	if (flags & (PG_slab_tail | PG_slab_fresh))
		return PM_SLAB;
	if (flags & PG_exact) { /* a run is at most a MAX_PAGE_ORDER block */
		*n = MIN(MAX((unsigned long)READ_ONCE(page->private), 1UL), MAX_ORDER_NR_PAGES);
		return PM_RUN;
	}
	if (flags & PG_head) {
		*n = block;
		return PM_BLOCK;
	}
	if (flags & PG_vmalloc)
		return PM_VMALLOC;
	return PM_OTHER;
}

/*
 * A section at a time: its residency read, then its pages walked under the
 * zone lock, then its line of the map written, in under 1 KiB of stack.
 */
static void pagemap_zone(struct kmm_seq *m, struct kmm_zone *zone)
{
	unsigned long present = zone_present(zone), kb[NR_PM_STATES][2] = { { 0 } };
	unsigned long cur_end = 0, resident = 0;
	enum pagemap_state cur = PM_OTHER;
	unsigned char vec[PAGES_PER_SECTION];
	char line[PAGES_PER_SECTION / PAGEMAP_CELL + 1];

	kmm_seq_printf(m, "Node %d, zone %8s\n", zone->node, zone->name);
	for (unsigned long start = 0; start < present; start += PAGES_PER_SECTION) {
		unsigned long end = MIN(start + PAGES_PER_SECTION, present), frontier;
		unsigned int cell_state = 0, cell_res = 0;

		os_resident((void *)((zone->zone_start_pfn + start) << PAGE_SHIFT),
			    (end - start) << PAGE_SHIFT, vec);
		kmm_lock(&zone->lock);
		frontier = zone->frontier > zone->zone_start_pfn
				   ? zone->frontier - zone->zone_start_pfn
				   : 0;
		for (unsigned long i = start; i < end; i++) {
			unsigned int res = vec[i - start] & 1, st;

			if (i >= cur_end) {
				unsigned long n;

				cur = pagemap_block(zone, zone->zone_start_pfn + i, &n);
				cur_end = i + MIN(n, present - i);
			}
			st = cur == PM_FREE && i >= frontier ? PM_UNUSED : cur;
			kb[st][res] += PAGE_SIZE >> 10;
			resident += res;
			if (i % PAGEMAP_CELL == 0) {
				cell_state = st;
				cell_res = 0;
			}
			cell_res |= res;
			if (i % PAGEMAP_CELL == PAGEMAP_CELL - 1 || i + 1 == end) {
				unsigned long at = (i - start) / PAGEMAP_CELL;
				char c = pm_chars[cell_state];

				line[at] = cell_res ? (char)(c - 'a' + 'A') : c;
				line[at + 1] = '\0';
			}
		}
		kmm_unlock(&zone->lock);
		if (start / PAGES_PER_SECTION < PAGEMAP_SECTIONS)
			kmm_seq_printf(m, "  %3lu %s\n", start / PAGES_PER_SECTION, line);
	}
	if (present > (unsigned long)PAGEMAP_SECTIONS * PAGES_PER_SECTION)
		kmm_seq_printf(m, "  ... %lu more sections\n",
			       present / PAGES_PER_SECTION - PAGEMAP_SECTIONS);
	kmm_seq_printf(m, "  %-12s %10s %10s\n", "kB", "resident", "absent");
	for (int s = 0; s < NR_PM_STATES; s++)
		kmm_seq_printf(m, "  %-12s %10lu %10lu\n", pm_names[s], kb[s][1], kb[s][0]);
	kmm_seq_printf(m, "  %-12s %10lu %10lu\n", "total", resident * (PAGE_SIZE >> 10),
		       (present - resident) * (PAGE_SIZE >> 10));
}

void show_pagemap(struct kmm_seq *m)
{
	struct kmm_zone *zone;

	kmm_seq_printf(m, "%s\n",
		       "pagemap: s slab, r run, b block, p per-CPU, v vmalloc, f free, x released, "
		       "u never used (or trimmed), o other; upper case: resident");
	for_each_zone (zone)
		if (zone_present(zone))
			pagemap_zone(m, zone);
}
