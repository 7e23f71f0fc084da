// SPDX-License-Identifier: MIT
/*
 * node_test.c - topology and zonelists as read from this machine's sysfs, and
 * the real NUMA policy: every node's arena bound to its node with mbind.
 */
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../kt_kmm.h"
#include "numa/mmzone.h"
#include "numa/os.h"

static int count_nodes_in(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	int n = 0, lo, hi;
	char *s = buf;

	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	while (sscanf(s, "%d", &lo) == 1) {
		hi = lo;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '-') {
			sscanf(++s, "%d", &hi);
			while (*s >= '0' && *s <= '9')
				s++;
		}
		n += hi - lo + 1;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

static void test_topology(void)
{
	int online = 0;

	KT_REQUIRE(kmm_init() == 0, "init");
	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		online += node_online(nid);
	KT_CHECK(online == count_nodes_in("/sys/devices/system/node/online"), "%d nodes online",
		 online);
	KT_CHECK(kmm_nr_cpu_ids >= (int)sysconf(_SC_NPROCESSORS_ONLN), "%d possible CPUs",
		 kmm_nr_cpu_ids);
	KT_CHECK(node_online(numa_node_id()), "local node %d", numa_node_id());
	KT_CHECK(kmm_nodes[0].distance[0] == 10, "local distance %d", kmm_nodes[0].distance[0]);
}

static void test_zonelist_order(void)
{
	struct kmm_zoneref *z = kmm_nodes[0].zonelist.zonerefs;
	int n = 0;

	KT_REQUIRE(z[0].zone == &kmm_nodes[0].node_zones[ZONE_NORMAL],
		   "node 0's zonelist starts with its Normal zone");
	KT_CHECK(z[0].zone_idx == ZONE_NORMAL, "zone_idx %d", z[0].zone_idx);
	if (kmm_nodes[0].node_zones[ZONE_DMA32].spanned_pages)
		KT_CHECK(z[1].zone == &kmm_nodes[0].node_zones[ZONE_DMA32] &&
				 z[1].zone_idx == ZONE_DMA32,
			 "then its DMA32 zone");
	for (; z->zone; z++)
		n++;
	KT_CHECK(n >= 1 && n <= kmm_nr_node_ids * MAX_NR_ZONES, "%d zonerefs", n);
}

static void test_zone_geometry(void)
{
	struct kmm_zone *zone;

	for_each_zone (zone) {
		uintptr_t base = zone->zone_start_pfn << KMM_PAGE_SHIFT;

		KT_CHECK((base & ((4UL << 20) - 1)) == 0, "zone %s base %#lx not 4 MiB aligned",
			 zone->name, (unsigned long)base);
		KT_CHECK(zone->spanned_pages % 1024 == 0, "zone %s spans %lu pages", zone->name,
			 zone->spanned_pages);
		KT_CHECK(zone->present_pages <= zone->spanned_pages, "present > spanned");
		if (zone->type == ZONE_DMA32)
			KT_CHECK(base + (zone->spanned_pages << KMM_PAGE_SHIFT) <= (1UL << 32),
				 "DMA32 zone ends above 4 GiB");
	}
}

/*
 * With several nodes, each node's Normal range and descriptors (and node 0's
 * DMA32 zone) carry MPOL_PREFERRED for their node, set before their first
 * touch, as the kernel reports it for an address (get_mempolicy) and in
 * numa_maps.  With one node nothing is bound (the policy would change
 * nothing), and os_bind_node() is checked on a mapping of the test's own.
 */
static void check_single_node(void *addr)
{
	unsigned long mask[2] = { 0 };
	int mode = -1;
	void *m;

	KT_CHECK(kt_vmstat("numa_mbind_ranges") == 0, "%lu ranges bound on a machine of one node",
		 kt_vmstat("numa_mbind_ranges"));
	KT_CHECK(!syscall(SYS_get_mempolicy, &mode, mask, 128UL, addr, MPOL_F_ADDR) &&
			 mode == MPOL_DEFAULT,
		 "policy %d on the arena of a machine of one node", mode);
	m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KT_REQUIRE(m != MAP_FAILED, "mmap");
	KT_CHECK(os_bind_node(m, 1 << 16, 0) == 0, "os_bind_node refused");
	mode = -1;
	mask[0] = 0;
	KT_CHECK(!syscall(SYS_get_mempolicy, &mode, mask, 128UL, m, MPOL_F_ADDR) &&
			 mode == MPOL_PREFERRED && mask[0] == 1,
		 "os_bind_node(0): policy %d, mask %#lx", mode, mask[0]);
	munmap(m, 1 << 16);
}

static void test_mbind(void)
{
	unsigned long mask[2] = { 0 };
	int mode = -1, ranges = 0;
	char line[512], want[64];
	struct kmm_page *page;
	void *addr;
	FILE *f;

	KT_REQUIRE(kmm_init() == 0, "init");
	page = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
	KT_REQUIRE(page, "a page");
	addr = kmm_page_address(page);
	if (syscall(SYS_get_mempolicy, &mode, mask, 128UL, addr, MPOL_F_ADDR)) {
		/* A seccomp filter (containers) forbids the NUMA calls: mbind too. */
		KT_CHECK(errno == EPERM || errno == ENOSYS, "get_mempolicy: %s", strerror(errno));
		KT_CHECK(kt_vmstat("numa_mbind_ranges") == 0, "%lu ranges bound, yet no NUMA calls",
			 kt_vmstat("numa_mbind_ranges"));
		printf("skipped: the NUMA system calls are forbidden here\n");
		kmm_free_pages(page, 0);
		return;
	}
	if (kmm_nr_online_nodes == 1) {
		check_single_node(addr);
		kmm_free_pages(page, 0);
		return;
	}
	KT_CHECK(mode == MPOL_PREFERRED, "policy %d on a page of node %d", mode,
		 kmm_page_to_nid(page));
	KT_CHECK(mask[0] == 1UL << kmm_page_to_nid(page), "node mask %#lx", mask[0]);
	/* One Normal range and its descriptors per node, node 0's DMA32 and its descriptors. */
	KT_CHECK(kt_vmstat("numa_mbind_ranges") ==
			 2UL * (unsigned long)kmm_nr_online_nodes + (kmm_arena.dma32_base ? 2 : 0),
		 "%lu ranges bound", kt_vmstat("numa_mbind_ranges"));
	snprintf(want, sizeof(want), "%lx prefer:%d", (unsigned long)kmm_arena.normal_base,
		 kmm_page_to_nid(page));
	f = fopen("/proc/self/numa_maps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long start = strtoul(line, NULL, 16);

		ranges += start >= kmm_arena.normal_base && start < kmm_arena.normal_end &&
			  strstr(line, " prefer:") != NULL;
	}
	if (f)
		fclose(f);
	KT_CHECK(!f || ranges >= 1, "no arena mapping in numa_maps says prefer (%s)", want);
	kmm_free_pages(page, 0);
}

KT_MAIN(KT_TEST(test_topology), KT_TEST(test_zonelist_order), KT_TEST(test_zone_geometry),
	KT_TEST(test_mbind))
