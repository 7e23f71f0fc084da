// SPDX-License-Identifier: MIT
/*
 * node.c - NUMA topology and zonelists (the kernel's initmem_init() and
 * build_all_zonelists()).
 *
 * The topology is read once from sysfs with open/read (libnuma would malloc):
 * the online nodes, each node's CPUs and its distance row.  Without sysfs the
 * machine is one node holding every CPU.  Nothing here changes after
 * kmm_init(), so it is read without locks.
 */
#include <sched.h>

#include "../lib/printk.h"
#include "mmzone.h"
#include "os.h"

struct kmm_node kmm_nodes[KMM_MAX_NUMNODES];
int kmm_nr_node_ids = 1;
int kmm_nr_cpu_ids = 1;
int kmm_nr_online_nodes = 1;
static uint8_t cpu_node_map[KMM_MAX_CPUS];

static void mark_node_online(void *arg, int nid)
{
	(void)arg;
	if (nid < KMM_MAX_NUMNODES)
		kmm_nodes[nid].online = true;
}

static void set_cpu_node(void *arg, int cpu)
{
	if (cpu < KMM_MAX_CPUS)
		cpu_node_map[cpu] = (uint8_t)(uintptr_t)arg;
}

static void count_cpu(void *arg, int cpu)
{
	int *max = arg;

	if (cpu + 1 > *max)
		*max = cpu + 1;
}

/* The distance row of @nid: "10 21 ..." in node order. */
static void read_distances(int nid)
{
	char path[96], buf[512];
	const char *s = buf;
	int to = 0;

	for (int i = 0; i < KMM_MAX_NUMNODES; i++)
		kmm_nodes[nid].distance[i] = i == nid ? 10 : 20;
	kmm_snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", nid);
	if (os_read_file(path, buf, sizeof(buf)) <= 0)
		return;
	while (*s && to < KMM_MAX_NUMNODES) {
		unsigned int d = 0;

		while (*s == ' ')
			s++;
		if (*s < '0' || *s > '9')
			break;
		while (*s >= '0' && *s <= '9')
			d = d * 10 + (unsigned int)(*s++ - '0');
		kmm_nodes[nid].distance[to++] = (unsigned char)MIN(d, 255u);
	}
}

/**
 * numa_init() - discover CPUs and nodes (the kernel's initmem_init()).
 * Return: 0 (a machine without sysfs is taken as one node).
 */
int numa_init(void)
{
	char buf[4096], path[96];
	int max_cpu = 0;

	if (os_read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)) > 0)
		os_parse_list(buf, count_cpu, &max_cpu);
	kmm_nr_cpu_ids = MAX(1, MIN(max_cpu, KMM_MAX_CPUS));

	for (int i = 0; i < KMM_MAX_NUMNODES; i++) {
		kmm_nodes[i].node_id = i;
		kmm_nodes[i].online = false;
	}
	if (os_read_file("/sys/devices/system/node/online", buf, sizeof(buf)) <= 0 ||
	    os_parse_list(buf, mark_node_online, NULL) <= 0 || !kmm_nodes[0].online) {
		/* No NUMA information (or no node 0): one node with every CPU. */
		for (int i = 0; i < KMM_MAX_NUMNODES; i++)
			kmm_nodes[i].online = i == 0;
	}

	kmm_nr_node_ids = 1;
	kmm_nr_online_nodes = 0;
	for (int nid = 0; nid < KMM_MAX_NUMNODES; nid++) {
		if (!kmm_nodes[nid].online)
			continue;
		kmm_nr_online_nodes++;
		kmm_nr_node_ids = nid + 1;
		read_distances(nid);
		kmm_snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", nid);
		if (nid && os_read_file(path, buf, sizeof(buf)) > 0)
			os_parse_list(buf, set_cpu_node, (void *)(uintptr_t)nid);
	}
	return 0;
}

bool node_online(int nid)
{
	return nid >= 0 && nid < kmm_nr_node_ids && kmm_nodes[nid].online;
}

int cpu_to_node(int cpu)
{
	return cpu >= 0 && cpu < KMM_MAX_CPUS ? cpu_node_map[cpu] : 0;
}

int numa_node_id_slow(void)
{
	return cpu_to_node(sched_getcpu());
}

static void add_node_zones(struct kmm_zonelist *zl, int *n, int nid)
{
	/* Highest zone first, as the kernel's build_zonerefs_node(). */
	for (int zt = MAX_NR_ZONES - 1; zt >= 0; zt--) {
		struct kmm_zone *zone = &kmm_nodes[nid].node_zones[zt];

		if (!zone->spanned_pages)
			continue;
		zl->zonerefs[*n].zone = zone;
		zl->zonerefs[*n].zone_idx = zt;
		(*n)++;
	}
}

/**
 * build_all_zonelists() - for every node, its own zones first, then the other
 * nodes' zones by increasing distance (ties by node id), as the kernel's
 * build_zonelists() with node ordering.
 */
void build_all_zonelists(void)
{
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		struct kmm_node *node = &kmm_nodes[nid];
		bool used[KMM_MAX_NUMNODES] = { false };
		int n = 0;

		if (!node->online)
			continue;
		for (;;) {
			int best = -1;

			for (int other = 0; other < kmm_nr_node_ids; other++) {
				if (used[other] || !kmm_nodes[other].online)
					continue;
				if (best < 0 || node->distance[other] < node->distance[best])
					best = other;
			}
			if (best < 0)
				break;
			used[best] = true;
			add_node_zones(&node->zonelist, &n, best);
		}
		node->zonelist.zonerefs[n].zone = NULL;
		node->zonelist.zonerefs[n].zone_idx = 0;
	}
}
