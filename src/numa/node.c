// SPDX-License-Identifier: MIT
/*
 * node.c - NUMA topology and zonelists (the kernel's initmem_init() and
 * build_all_zonelists()).
 *
 * The topology is read once from sysfs with open/read (libnuma would malloc):
 * the online nodes, each node's CPUs and its distance row.  Without sysfs the
 * machine is one node holding every CPU.  Nothing here changes after
 * kmm_init(), so it is read without locks.
 *
 * KMM_FAKE_NUMA=N replaces what sysfs says with N made-up nodes, so that the
 * multi-node paths run on a one-node machine (the kernel's numa=fake, which
 * needs a boot option): nodes 0..N-1, CPU c on node c * N / ncpus (blocks of
 * neighbouring CPUs, as sockets are) or, with fewer CPUs than nodes, on node
 * c (the others are memory-only nodes), and nodes on a ring: the distance
 * from i to j is 10 plus 10 per step the shorter way round, so every node has
 * a nearest and a farthest neighbour and the zonelists differ per node.  The
 * arenas of fake nodes are not bound with mbind (they are all node 0's).
 */
#include <sched.h>

#include "../lib/config.h"
#include "../lib/printk.h"
#include "../lib/rseq.h"
#include "mmzone.h"
#include "os.h"

struct kmm_node kmm_nodes[KMM_MAX_NUMNODES];
int kmm_nr_node_ids = 1;
int kmm_nr_cpu_ids = 1;
int kmm_nr_online_nodes = 1;
bool kmm_numa_fake;
uint8_t kmm_cpu_node_map[KMM_MAX_CPUS];

/*
 * One past the highest node ever set online: the loops over nodes stop
 * there.  Reading a node's flag faults its page in, if only as the zero
 * page: 54 faults of every program's start-up were the 64 nodes' flags.
 */
static int node_ids_marked = 1;

static void set_cpu_node(void *arg, int cpu)
{
	if (cpu < KMM_MAX_CPUS)
		kmm_cpu_node_map[cpu] = (uint8_t)(uintptr_t)arg;
}

static void count_cpu(void *arg, int cpu)
{
	int *max = arg;

	if (cpu + 1 > *max)
		*max = cpu + 1;
}

/*
 * The distance row of @nid: "10 21 ..." in node order.  With one node online
 * there is nothing to read: the local distance is 10, as sysfs would say.
 */
static void read_distances(int nid)
{
	char path[96], buf[512];
	const char *s = buf;
	int to = 0;

	for (int i = 0; i < KMM_MAX_NUMNODES; i++)
		kmm_nodes[nid].distance[i] = i == nid ? 10 : 20;
	if (kmm_nr_online_nodes == 1)
		return;
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

/*
 * Set a node online or not, writing only a change: kmm_nodes[] is 200 KiB
 * of bss, and a page never written is never resident (a program on one node
 * touches one node's pages).
 */
static void set_online(int nid, bool online)
{
	if (kmm_nodes[nid].online != online)
		kmm_nodes[nid].online = online;
	if (online)
		node_ids_marked = MAX(node_ids_marked, nid + 1);
}

static void mark_node_online(void *arg, int nid)
{
	(void)arg;
	if (nid < KMM_MAX_NUMNODES)
		set_online(nid, true);
}

/* KMM_FAKE_NUMA: @n nodes on a ring, the CPUs split among them (see above). */
static void fake_topology(int n)
{
	kmm_numa_fake = true;
	for (int i = 0; i < MAX(n, node_ids_marked); i++)
		set_online(i, i < n);
	for (int i = 0; i < n; i++)
		kmm_nodes[i].node_id = i;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int steps = i > j ? i - j : j - i;

			kmm_nodes[i].distance[j] = (unsigned char)(10 + 10 * MIN(steps, n - steps));
		}
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		kmm_cpu_node_map[cpu] =
			(uint8_t)(kmm_nr_cpu_ids >= n ? cpu * n / kmm_nr_cpu_ids : cpu);
	kmm_nr_node_ids = n;
	kmm_nr_online_nodes = n;
}

/**
 * numa_init() - discover CPUs and nodes (the kernel's initmem_init()).
 * Return: 0 (a machine without sysfs is taken as one node).
 */
__init int numa_init(void)
{
	char buf[4096], path[96];
	int max_cpu = 0;

	if (os_read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)) > 0)
		os_parse_list(buf, count_cpu, &max_cpu);
	kmm_nr_cpu_ids = MAX(1, MIN(max_cpu, KMM_MAX_CPUS));

	/* A kmm_init() retried: what an earlier try set online. */
	for (int i = 0; i < node_ids_marked; i++)
		set_online(i, false);
	kmm_numa_fake = false;
	if (kmm_config.fake_numa) {
		fake_topology((int)MIN(kmm_config.fake_numa, (unsigned long long)KMM_MAX_NUMNODES));
		return 0;
	}
	if (os_read_file("/sys/devices/system/node/online", buf, sizeof(buf)) <= 0 ||
	    os_parse_list(buf, mark_node_online, NULL) <= 0 || !kmm_nodes[0].online) {
		/* No NUMA information (or no node 0): one node with every CPU. */
		for (int i = 0; i < node_ids_marked; i++)
			set_online(i, i == 0);
	}

	kmm_nr_node_ids = 1;
	kmm_nr_online_nodes = 0;
	for (int nid = 0; nid < node_ids_marked; nid++) {
		if (!kmm_nodes[nid].online)
			continue;
		kmm_nodes[nid].node_id = nid;
		kmm_nr_online_nodes++;
		kmm_nr_node_ids = nid + 1;
		kmm_snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", nid);
		if (nid && os_read_file(path, buf, sizeof(buf)) > 0)
			os_parse_list(buf, set_cpu_node, (void *)(uintptr_t)nid);
	}
	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		if (kmm_nodes[nid].online)
			read_distances(nid);
	return 0;
}

bool node_online(int nid)
{
	return nid >= 0 && nid < kmm_nr_node_ids && kmm_nodes[nid].online;
}

int cpu_to_node(int cpu)
{
	return cpu >= 0 && cpu < KMM_MAX_CPUS ? kmm_cpu_node_map[cpu] : 0;
}

int numa_node_id_slow(void)
{
	return cpu_to_node(kmm_current_cpu());
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
__init void build_all_zonelists(void)
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
