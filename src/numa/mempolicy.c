// SPDX-License-Identifier: MIT
/*
 * mempolicy.c - the process's memory policy (KMM_NUMA) and the numastat
 * counters (see mempolicy.h).
 */
#include "mempolicy.h"

#include <errno.h>

#include "../lib/config.h"
#include "../lib/printk.h"
#include "os.h"

int kmm_mpol_mode = MPOL_MODE_LOCAL;
int kmm_mpol_node;
bool kmm_numa_remote_free;

unsigned long *numa_events;
long numa_events_stride;

static int online_ids[KMM_MAX_NUMNODES]; /* the online nodes, in order */
static unsigned long interleave_next;

__init int mempolicy_init(void)
{
	unsigned long long opt = kmm_config.numa;
	size_t row = ALIGN_UP((size_t)kmm_nr_node_ids * NR_NUMA_EVENTS * sizeof(unsigned long), 64);
	int n = 0;

	for (int nid = 0; nid < kmm_nr_node_ids; nid++)
		if (node_online(nid))
			online_ids[n++] = nid;

	kmm_mpol_mode = MPOL_MODE_LOCAL;
	if (opt == KMM_NUMA_OPT_INTERLEAVE) {
		kmm_mpol_mode = MPOL_MODE_INTERLEAVE;
	} else if (opt != KMM_NUMA_OPT_LOCAL) {
		if (node_online((int)opt)) {
			kmm_mpol_mode = MPOL_MODE_PREFERRED;
			kmm_mpol_node = (int)opt;
		} else {
			char msg[96];
			size_t len = kmm_snprintf(
				msg, sizeof(msg),
				"libkmm: KMM_NUMA=%llu: no such node, using local\n", opt);

			kmm_write_all(2, msg, len);
		}
	}
	kmm_numa_remote_free = kmm_nr_online_nodes > 1 && kmm_mpol_mode != MPOL_MODE_INTERLEAVE;

	/* One cache-line-aligned row per CPU (no false sharing), and the atomic row. */
	numa_events_stride = (long)row;
	numa_events = os_map_noreserve(row * (size_t)(kmm_nr_cpu_ids + 1));
	return numa_events ? 0 : -ENOMEM;
}

int policy_node_slow(bool *interleaved)
{
	if (kmm_mpol_mode == MPOL_MODE_PREFERRED)
		return kmm_mpol_node;
	*interleaved = true;
	return online_ids[__atomic_fetch_add(&interleave_next, 1, __ATOMIC_RELAXED) %
			  (unsigned long)kmm_nr_online_nodes];
}

void numa_event_add_atomic(unsigned long *counter, unsigned long n)
{
	unsigned long *shared =
		(unsigned long *)((char *)counter + numa_events_stride * (long)kmm_nr_cpu_ids);

	__atomic_fetch_add(shared, n, __ATOMIC_RELAXED);
}

void numa_count_alloc(int preferred, int nid, unsigned long pages, bool interleaved)
{
	bool local = nid == numa_node_id();

	if (likely(nid == preferred)) {
		numa_event_add(nid, local ? NUMA_HIT_LOCAL : NUMA_HIT_OTHER, pages);
		if (interleaved)
			numa_event_add(nid, NUMA_INTERLEAVE_HIT, pages);
	} else {
		numa_event_add(nid, local ? NUMA_MISS_LOCAL : NUMA_MISS_OTHER, pages);
		numa_event_add(preferred, NUMA_FOREIGN, pages);
	}
}

unsigned long numa_event_sum(int nid, enum numa_event ev)
{
	unsigned long sum = 0;

	for (int row = 0; row <= kmm_nr_cpu_ids; row++) {
		const unsigned long *r = (const unsigned long *)((const char *)numa_events +
								 numa_events_stride * row);

		sum += __atomic_load_n(&r[nid * NR_NUMA_EVENTS + ev], __ATOMIC_RELAXED);
	}
	return sum;
}

/*
 * The numastat command's default table, in pages as the per-node
 * /sys/devices/system/node/nodeN/numastat files count them.
 */
void show_numastat(struct kmm_seq *m)
{
	/* Each line is the sum of one or two counters (NR_NUMA_EVENTS: none). */
	static const struct {
		const char *name;
		enum numa_event a, b;
	} lines[] = {
		{ "numa_hit", NUMA_HIT_LOCAL, NUMA_HIT_OTHER },
		{ "numa_miss", NUMA_MISS_LOCAL, NUMA_MISS_OTHER },
		{ "numa_foreign", NUMA_FOREIGN, NR_NUMA_EVENTS },
		{ "interleave_hit", NUMA_INTERLEAVE_HIT, NR_NUMA_EVENTS },
		{ "local_node", NUMA_HIT_LOCAL, NUMA_MISS_LOCAL },
		{ "other_node", NUMA_HIT_OTHER, NUMA_MISS_OTHER },
	};

	kmm_seq_printf(m, "%-16s", "");
	for (int i = 0; i < kmm_nr_online_nodes; i++) {
		char col[16];

		kmm_snprintf(col, sizeof(col), "node%d", online_ids[i]);
		kmm_seq_printf(m, "%16s", col);
	}
	kmm_seq_printf(m, "\n");
	for (unsigned int l = 0; l < ARRAY_SIZE(lines); l++) {
		kmm_seq_printf(m, "%-16s", lines[l].name);
		for (int i = 0; i < kmm_nr_online_nodes; i++) {
			int nid = online_ids[i];
			unsigned long v = numa_event_sum(nid, lines[l].a);

			if (lines[l].b != NR_NUMA_EVENTS)
				v += numa_event_sum(nid, lines[l].b);
			kmm_seq_printf(m, "%16lu", v);
		}
		kmm_seq_printf(m, "\n");
	}
}
