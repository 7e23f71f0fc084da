// SPDX-License-Identifier: MIT
/*
 * numa_test.c - the multi-node paths, on made-up nodes (KMM_FAKE_NUMA=N; meson
 * runs it with 2 and 4).  KT_NUMA_TEST picks the group:
 *   basic       topology as documented, pinned threads get their node's
 *               memory, remote frees go back to the owning node, numastat
 *               counts exactly what was allocated;
 *   fallback    (KMM_ARENA_LIMIT) a node that cannot grow takes free memory
 *               from the others, nearest first, and numastat counts misses;
 *   interleave  (KMM_NUMA=interleave) pages round-robin over the nodes;
 *   preferred   (KMM_NUMA=1) everything from node 1, wherever the thread runs.
 */
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#include "../../src/numa/mmzone.h"
#include "../../src/slab/slab.h"
#include "../kt_kmm.h"

enum { HIT, MISS, FOREIGN, IL_HIT, LOCAL, OTHER, NR_ROWS };

struct numastat {
	unsigned long v[NR_ROWS][KMM_MAX_NUMNODES];
};

static int nr_nodes; /* KMM_FAKE_NUMA */
static int nr_cpus;  /* CPUs this process may run on, numbered 0..nr_cpus-1 */

/* The documented split: blocks of CPUs, or CPU c on node c with fewer CPUs than nodes. */
static int expected_node(int cpu)
{
	int ncpu = kmm_nr_cpu_ids;

	return ncpu >= nr_nodes ? cpu * nr_nodes / ncpu : cpu;
}

static int expected_distance(int i, int j)
{
	int steps = i > j ? i - j : j - i;

	return 10 + 10 * (steps < nr_nodes - steps ? steps : nr_nodes - steps);
}

/*
 * Parse the numastat view; its header must name nodes 0..nr_nodes-1 in order.
 * Threads call it too: it reports with KT_CHECK (never KT_REQUIRE's longjmp).
 */
static void read_numastat(struct numastat *s)
{
	static const char *const rows[NR_ROWS] = { "numa_hit",	     "numa_miss",  "numa_foreign",
						   "interleave_hit", "local_node", "other_node" };
	char buf[8192], *line, *save = NULL;
	int row = -1, bad = 0;

	memset(s, 0, sizeof(*s));
	KT_CHECK(kt_dump("numastat", buf, sizeof(buf)) == 0, "kmm_dump(numastat)");
	for (line = strtok_r(buf, "\n", &save); line && !bad;
	     line = strtok_r(NULL, "\n", &save), row++) {
		char *p = line;

		if (row < 0) {
			for (int n = 0; n < nr_nodes && !bad; n++) {
				char want[16];

				snprintf(want, sizeof(want), "node%d", n);
				p = strstr(p, want);
				bad = !p;
				KT_CHECK(p, "header \"%s\" lacks %s", line, want);
				p = p ? p + strlen(want) : line;
			}
			continue;
		}
		bad = row >= NR_ROWS || strncmp(line, rows[row], strlen(rows[row]));
		KT_CHECK(!bad, "row %d is \"%s\"", row, line);
		p = line + strlen(rows[row < NR_ROWS ? row : 0]);
		for (int n = 0; n < nr_nodes && !bad; n++)
			s->v[row][n] = strtoul(p, &p, 10);
	}
	KT_CHECK(bad || row == NR_ROWS, "%d rows", row);
}

/* after - before, row by row. */
static void numastat_delta(const struct numastat *before, const struct numastat *after,
			   struct numastat *d)
{
	for (int r = 0; r < NR_ROWS; r++)
		for (int n = 0; n < nr_nodes; n++)
			d->v[r][n] = after->v[r][n] - before->v[r][n];
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	KT_REQUIRE(sched_setaffinity(0, sizeof(set), &set) == 0, "pin to CPU %d: %s", cpu,
		   strerror(errno));
}

static void run_on(int cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	pthread_t t;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	KT_REQUIRE(pthread_create(&t, &attr, fn, arg) == 0, "thread on CPU %d", cpu);
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
}

static long sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode, void *addr,
			      unsigned long flags)
{
	return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}

static void test_topology(void)
{
	struct numastat s;
	struct kmm_page *page;
	int mode = -1;
	unsigned long mask[2] = { 0 };

	KT_CHECK(kmm_numa_nr_node_ids() == nr_nodes, "%d node ids", kmm_numa_nr_node_ids());
	for (int n = 0; n < nr_nodes; n++) {
		const struct kmm_zoneref *z = kmm_nodes[n].zonelist.zonerefs;
		int last = 0;

		KT_CHECK(kmm_node_online(n), "node %d offline", n);
		for (int m = 0; m < nr_nodes; m++)
			KT_CHECK(kmm_nodes[n].distance[m] == expected_distance(n, m),
				 "distance %d->%d is %d", n, m, kmm_nodes[n].distance[m]);
		/* Own zones first, then by distance, ties by node id. */
		KT_CHECK(z[0].zone->node == n, "node %d's zonelist starts on node %d", n,
			 z[0].zone->node);
		for (; z->zone; z++) {
			int d = expected_distance(n, z->zone->node);

			KT_CHECK(d >= last, "node %d's zonelist: node %d (distance %d) after %d", n,
				 z->zone->node, d, last);
			last = d;
		}
	}
	KT_CHECK(!kmm_node_online(nr_nodes), "node %d online", nr_nodes);
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		KT_CHECK(kmm_cpu_to_node(cpu) == expected_node(cpu), "CPU %d on node %d", cpu,
			 kmm_cpu_to_node(cpu));
	read_numastat(&s);
	/* Fake nodes are all this machine's node 0: no mbind, the default policy. */
	KT_CHECK(kt_vmstat("numa_nodes") == (unsigned long)nr_nodes, "numa_nodes %lu",
		 kt_vmstat("numa_nodes"));
	KT_CHECK(kt_vmstat("numa_mbind_ranges") == 0, "%lu ranges bound",
		 kt_vmstat("numa_mbind_ranges"));
	page = kmm_alloc_pages_node(nr_nodes - 1, KMM_GFP_KERNEL, 0);
	KT_REQUIRE(page, "a page of node %d", nr_nodes - 1);
	if (sys_get_mempolicy(&mode, mask, 128, kmm_page_address(page), MPOL_F_ADDR) == 0)
		KT_CHECK(mode == MPOL_DEFAULT, "policy %d on a fake node's page", mode);
	kmm_free_pages(page, 0);
}

/* What a thread pinned to one CPU allocated, and from which nodes. */
struct pinned {
	int cpu, node;
	int wrong_pages, wrong_objs, wrong_cache, wrong_vmalloc, stitched;
	unsigned long hit, local;
};

#define PIN_PAGES 64
#define PIN_OBJS 2000

static void *pinned_thread(void *arg)
{
	struct pinned *r = arg;
	struct kmm_page *pages[PIN_PAGES];
	static void *objs[PIN_OBJS];
	struct kmm_cache *cache = kmm_cache_create("numa_test", 200, 0, 0, NULL);
	struct numastat before, after;
	struct kmm_page *blocks[4];
	void *v, *c[64];

	r->node = kmm_numa_node_id();
	read_numastat(&before);
	for (int i = 0; i < PIN_PAGES; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		r->wrong_pages += !pages[i] || kmm_page_to_nid(pages[i]) != r->node;
	}
	read_numastat(&after);
	r->hit = after.v[HIT][r->node] - before.v[HIT][r->node];
	r->local = after.v[LOCAL][r->node] - before.v[LOCAL][r->node];
	for (int i = 0; i < PIN_OBJS; i++) {
		objs[i] = kmm_kmalloc(16 + (size_t)(i % 64) * 16, KMM_GFP_KERNEL);
		r->wrong_objs += !objs[i] || kmm_addr_to_nid(objs[i]) != r->node;
	}
	for (int i = 0; i < 64; i++) {
		c[i] = cache ? kmm_cache_alloc(cache, KMM_GFP_KERNEL) : NULL;
		r->wrong_cache += !c[i] || kmm_addr_to_nid(c[i]) != r->node;
	}
	/*
	 * vmalloc stitches free blocks of this node (never another's) before it
	 * maps fresh memory: give the node some, then take 2 MiB (it moves
	 * whole 2 MiB units only).
	 */
	for (int i = 0; i < 4; i++)
		blocks[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 9);
	for (int i = 0; i < 4; i++)
		kmm_free_pages(blocks[i], 9);
	v = kmm_vmalloc(2 << 20);
	for (size_t off = 0; v && off < (2 << 20); off += KMM_PAGE_SIZE) {
		struct kmm_page *p = kmm_vmalloc_to_page((char *)v + off);

		r->stitched += p != NULL;
		r->wrong_vmalloc += p && kmm_page_to_nid(p) != r->node;
	}
	r->wrong_vmalloc += !v;
	kmm_vfree(v);
	for (int i = 0; i < 64; i++)
		kmm_cache_free(cache, c[i]);
	kmm_cache_destroy(cache);
	for (int i = 0; i < PIN_OBJS; i++)
		kmm_kfree(objs[i]);
	for (int i = 0; i < PIN_PAGES; i++)
		kmm_free_pages(pages[i], 0);
	return NULL;
}

static void test_pinned_threads(void)
{
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		struct pinned r = { .cpu = cpu };

		run_on(cpu, pinned_thread, &r);
		KT_CHECK(r.node == expected_node(cpu), "CPU %d reports node %d", cpu, r.node);
		KT_CHECK(!r.wrong_pages, "CPU %d: %d pages not of node %d", cpu, r.wrong_pages,
			 r.node);
		KT_CHECK(!r.wrong_objs, "CPU %d: %d kmalloc objects not of node %d", cpu,
			 r.wrong_objs, r.node);
		KT_CHECK(!r.wrong_cache, "CPU %d: %d cache objects not of node %d", cpu,
			 r.wrong_cache, r.node);
		KT_CHECK(!r.wrong_vmalloc, "CPU %d: %d vmalloc pages not of node %d", cpu,
			 r.wrong_vmalloc, r.node);
		KT_CHECK(r.stitched == 512 || !kt_vmstat("vmalloc_stitching"),
			 "CPU %d: %d of 512 vmalloc pages from the node's free blocks", cpu,
			 r.stitched);
		/* Pages from the per-CPU cache or the buddy: local hits, one per page. */
		KT_CHECK(r.hit == PIN_PAGES && r.local == PIN_PAGES,
			 "CPU %d: numa_hit +%lu, local_node +%lu for %d pages", cpu, r.hit, r.local,
			 PIN_PAGES);
	}
}

/*
 * Every node, CPUs or not, through the _node calls: pages, kmalloc objects,
 * cache objects and vmalloc pages all come from the node asked for.
 */
static void test_explicit_node(void)
{
	struct kmm_cache *cache = kmm_cache_create("numa_node_test", 96, 0, 0, NULL);

	KT_REQUIRE(cache, "cache");
	for (int n = 0; n < nr_nodes; n++) {
		struct kmm_page *pages[8], *blocks[2];
		void *objs[300], *cobjs[100], *v;
		int wrong = 0, stitched = 0;

		for (int i = 0; i < 8; i++) {
			pages[i] = kmm_alloc_pages_node(n, KMM_GFP_KERNEL, (unsigned int)i % 4);
			wrong += !pages[i] || kmm_page_to_nid(pages[i]) != n;
		}
		for (int i = 0; i < 300; i++) {
			objs[i] = kmm_kmalloc_node(8 + (size_t)i * 24, KMM_GFP_KERNEL, n);
			wrong += !objs[i] || kmm_addr_to_nid(objs[i]) != n;
		}
		for (int i = 0; i < 100; i++) {
			cobjs[i] = kmm_cache_alloc_node(cache, KMM_GFP_KERNEL, n);
			wrong += !cobjs[i] || kmm_addr_to_nid(cobjs[i]) != n;
		}
		for (int i = 0; i < 2; i++)
			blocks[i] = kmm_alloc_pages_node(n, KMM_GFP_KERNEL | KMM_GFP_THISNODE, 9);
		for (int i = 0; i < 2; i++)
			kmm_free_pages(blocks[i], 9);
		v = kmm_vmalloc_node(2 << 20, n);
		KT_REQUIRE(v, "vmalloc on node %d", n);
		for (size_t off = 0; off < (2 << 20); off += KMM_PAGE_SIZE) {
			struct kmm_page *p = kmm_vmalloc_to_page((char *)v + off);

			stitched += p != NULL;
			wrong += p && kmm_page_to_nid(p) != n;
		}
		KT_CHECK(wrong == 0, "node %d: %d allocations from another node", n, wrong);
		KT_CHECK(stitched == 512 || !kt_vmstat("vmalloc_stitching"),
			 "node %d: %d of 512 vmalloc pages from its free blocks", n, stitched);
		kmm_vfree(v);
		for (int i = 0; i < 100; i++)
			kmm_cache_free(cache, cobjs[i]);
		for (int i = 0; i < 300; i++)
			kmm_kfree(objs[i]);
		for (int i = 0; i < 8; i++)
			kmm_free_pages(pages[i], (unsigned int)i % 4);
	}
	kmm_cache_destroy(cache);
}

/* Remote frees: thread A's memory, freed by thread B on another node. */
#define REMOTE_OBJS 3000
#define REMOTE_PAGES 100

static void *remote_objs[REMOTE_OBJS];
static struct kmm_page *remote_pages[REMOTE_PAGES];

static void *alloc_objs(void *arg)
{
	int *wrong = arg;

	*wrong = 0;
	for (int i = 0; i < REMOTE_OBJS; i++) {
		remote_objs[i] = kmm_kmalloc(64, KMM_GFP_KERNEL);
		*wrong += !remote_objs[i] || kmm_addr_to_nid(remote_objs[i]) != kmm_numa_node_id();
	}
	for (int i = 0; i < REMOTE_PAGES; i++) {
		remote_pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		*wrong +=
			!remote_pages[i] || kmm_page_to_nid(remote_pages[i]) != kmm_numa_node_id();
	}
	return NULL;
}

static void *free_all(void *arg)
{
	(void)arg;
	for (int i = 0; i < REMOTE_OBJS; i++)
		kmm_kfree(remote_objs[i]);
	for (int i = 0; i < REMOTE_PAGES; i++)
		kmm_free_pages(remote_pages[i], 0);
	return NULL;
}

/* Allocate again on this thread's node: count what is another node's, or A's old memory. */
struct realloc_result {
	int foreign, reused;
};

static int was_freed(const void *p)
{
	for (int i = 0; i < REMOTE_OBJS; i++)
		if (remote_objs[i] == p)
			return 1;
	return 0;
}

static void *alloc_again(void *arg)
{
	struct realloc_result *r = arg;
	static void *again[REMOTE_OBJS];
	struct kmm_page *pages[REMOTE_PAGES];

	r->foreign = r->reused = 0;
	for (int i = 0; i < REMOTE_OBJS; i++) {
		again[i] = kmm_kmalloc(64, KMM_GFP_KERNEL);
		r->foreign += kmm_addr_to_nid(again[i]) != kmm_numa_node_id();
		r->reused += was_freed(again[i]);
	}
	for (int i = 0; i < REMOTE_PAGES; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		r->foreign += kmm_page_to_nid(pages[i]) != kmm_numa_node_id();
	}
	for (int i = 0; i < REMOTE_OBJS; i++)
		kmm_kfree(again[i]);
	for (int i = 0; i < REMOTE_PAGES; i++)
		kmm_free_pages(pages[i], 0);
	return NULL;
}

/* Objects of another node than @cpu's in @cpu's stack of @cache. */
static int stack_foreign(struct kmm_cache *cache, int cpu)
{
	const struct percpu_stack *c = &cache->cpu[cpu].stack;
	int n = 0;

	for (uint32_t i = 0; i < c->count; i++)
		n += kmm_addr_to_nid(c->slot[i]) != expected_node(cpu);
	return n;
}

static void test_remote_free(void)
{
	int a = 0, b = -1, wrong;
	unsigned long remote_before, remote_after;
	struct realloc_result on_b, on_a;

	for (int cpu = 1; cpu < nr_cpus && b < 0; cpu++)
		if (expected_node(cpu) != expected_node(a))
			b = cpu;
	if (b < 0) {
		printf("skipped: no two CPUs on different nodes\n");
		return;
	}
	run_on(a, alloc_objs, &wrong);
	KT_REQUIRE(wrong == 0, "%d of A's allocations not on A's node", wrong);
	remote_before = kt_vmstat("slab_remote_free");
	run_on(b, free_all, NULL);
	remote_after = kt_vmstat("slab_remote_free");
	KT_CHECK(remote_after - remote_before == REMOTE_OBJS,
		 "%lu of %d remote object frees went to their slab", remote_after - remote_before,
		 REMOTE_OBJS);
	/* B's stack of kmalloc-64 holds B's node's objects only. */
	KT_CHECK(stack_foreign(kmalloc_slab(64), b) == 0, "%d of A's objects in CPU %d's stack",
		 stack_foreign(kmalloc_slab(64), b), b);
	/* B's next allocations are B's node's: A's memory did not stay in B's caches. */
	run_on(b, alloc_again, &on_b);
	KT_CHECK(on_b.foreign == 0, "B got %d objects or pages of another node", on_b.foreign);
	KT_CHECK(on_b.reused == 0, "B got %d of A's freed objects", on_b.reused);
	run_on(a, alloc_again, &on_a);
	KT_CHECK(on_a.foreign == 0, "A got %d objects or pages of another node", on_a.foreign);
}

static void *exact_counts(void *arg)
{
	struct numastat before, after, d;
	struct kmm_page *pages[100], *big[10], *far[50];
	int me = kmm_numa_node_id(), other = (me + 1) % nr_nodes;
	int *failed = arg;

	*failed = 0;
	read_numastat(&before);
	for (int i = 0; i < 100; i++)
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
	for (int i = 0; i < 10; i++)
		big[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 3);
	for (int i = 0; i < 50; i++)
		far[i] = kmm_alloc_pages_node(other, KMM_GFP_KERNEL, 0);
	read_numastat(&after);
	numastat_delta(&before, &after, &d);
	for (int n = 0; n < nr_nodes; n++) {
		unsigned long hit = n == me ? 180 : n == other ? 50 : 0;

		if (d.v[HIT][n] != hit || d.v[LOCAL][n] != (n == me ? hit : 0) ||
		    d.v[OTHER][n] != (n == other ? hit : 0) || d.v[MISS][n] || d.v[FOREIGN][n] ||
		    d.v[IL_HIT][n]) {
			fprintf(stderr,
				"node %d: hit +%lu (want %lu) local +%lu other +%lu miss +%lu "
				"foreign +%lu interleave +%lu\n",
				n, d.v[HIT][n], hit, d.v[LOCAL][n], d.v[OTHER][n], d.v[MISS][n],
				d.v[FOREIGN][n], d.v[IL_HIT][n]);
			(*failed)++;
		}
	}
	for (int i = 0; i < 100; i++)
		kmm_free_pages(pages[i], 0);
	for (int i = 0; i < 10; i++)
		kmm_free_pages(big[i], 3);
	for (int i = 0; i < 50; i++)
		kmm_free_pages(far[i], 0);
	return NULL;
}

static void test_numastat_exact(void)
{
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int failed = -1;

		run_on(cpu, exact_counts, &failed);
		KT_CHECK(failed == 0, "CPU %d: %d nodes counted wrong", cpu, failed);
	}
}

/*
 * Fallback: every other node gets FALLBACK_BLOCKS free 2 MiB blocks, then node
 * 0 allocates until the arena limit stops it.  Its zone cannot grow any more;
 * the zonelist then hands out the other nodes' free blocks, nearest first.
 */
#define FALLBACK_BLOCKS 4
#define BLOCK_ORDER 9
#define MAX_BLOCKS 64

static void test_fallback(void)
{
	struct kmm_page *blocks[MAX_BLOCKS];
	int order_seen[MAX_BLOCKS], nr = 0, from[KMM_MAX_NUMNODES] = { 0 };
	struct numastat before, after, d;

	pin(0);
	KT_REQUIRE(kmm_numa_node_id() == 0, "CPU 0 on node %d", kmm_numa_node_id());
	for (int n = 1; n < nr_nodes; n++) {
		struct kmm_page *b[FALLBACK_BLOCKS];

		for (int i = 0; i < FALLBACK_BLOCKS; i++) {
			b[i] = kmm_alloc_pages_node(n, KMM_GFP_KERNEL | KMM_GFP_THISNODE,
						    BLOCK_ORDER);
			KT_REQUIRE(b[i] && kmm_page_to_nid(b[i]) == n, "block %d on node %d", i, n);
		}
		for (int i = 0; i < FALLBACK_BLOCKS; i++)
			kmm_free_pages(b[i], BLOCK_ORDER);
	}
	/* Pages cached per CPU join the buddy now, not in the middle of the walk. */
	kmm_drain_all_pages();
	read_numastat(&before);
	while (nr < MAX_BLOCKS && (blocks[nr] = kmm_alloc_pages(KMM_GFP_KERNEL, BLOCK_ORDER)))
		order_seen[nr] = kmm_page_to_nid(blocks[nr]), nr++;
	read_numastat(&after);
	numastat_delta(&before, &after, &d);
	KT_REQUIRE(nr < MAX_BLOCKS, "the arena limit never stopped node 0");
	for (int i = 0; i < nr; i++)
		from[order_seen[i]]++;
	KT_CHECK(from[0] > 0, "nothing from node 0 itself");
	/* Node 0 first, then the others in zonelist order (distance, then id). */
	for (int i = 1; i < nr; i++) {
		int a = order_seen[i - 1], b = order_seen[i];
		int da = kmm_nodes[0].distance[a], db = kmm_nodes[0].distance[b];

		KT_CHECK(da < db || (da == db && a <= b), "block %d from node %d after node %d", i,
			 b, a);
	}
	for (int n = 1; n < nr_nodes; n++)
		KT_CHECK(from[n] >= FALLBACK_BLOCKS, "node %d gave %d of its %d free blocks", n,
			 from[n], FALLBACK_BLOCKS);
	/* Misses: counted on the node that gave, foreign on node 0 that wanted. */
	unsigned long missed = 0;

	for (int n = 1; n < nr_nodes; n++) {
		unsigned long pages = (unsigned long)from[n] << BLOCK_ORDER;

		KT_CHECK(d.v[MISS][n] == pages && d.v[OTHER][n] == pages && d.v[HIT][n] == 0,
			 "node %d: miss +%lu other +%lu hit +%lu for %lu pages", n, d.v[MISS][n],
			 d.v[OTHER][n], d.v[HIT][n], pages);
		missed += pages;
	}
	KT_CHECK(d.v[FOREIGN][0] == missed, "node 0 foreign +%lu, %lu missed", d.v[FOREIGN][0],
		 missed);
	KT_CHECK(d.v[HIT][0] == (unsigned long)from[0] << BLOCK_ORDER &&
			 d.v[LOCAL][0] == d.v[HIT][0],
		 "node 0: hit +%lu local +%lu for %d blocks", d.v[HIT][0], d.v[LOCAL][0], from[0]);
	/* THISNODE never falls back. */
	errno = 0;
	KT_CHECK(!kmm_alloc_pages_node(0, KMM_GFP_KERNEL | KMM_GFP_THISNODE, BLOCK_ORDER) &&
			 errno == ENOMEM,
		 "a THISNODE block past the limit");
	for (int i = 0; i < nr; i++)
		kmm_free_pages(blocks[i], BLOCK_ORDER);
}

#define IL_PAGES 400

static void test_interleave(void)
{
	struct kmm_page *pages[IL_PAGES];
	int per_node[KMM_MAX_NUMNODES] = { 0 }, nodes_seen = 0, seen[KMM_MAX_NUMNODES] = { 0 };
	struct numastat before, after, d;
	unsigned long remote_before = kt_vmstat("slab_remote_free");
	void *objs[256];
	int me;

	pin(0);
	me = kmm_numa_node_id();
	read_numastat(&before);
	for (int i = 0; i < IL_PAGES; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		KT_REQUIRE(pages[i], "page %d", i);
		per_node[kmm_page_to_nid(pages[i])]++;
	}
	read_numastat(&after);
	numastat_delta(&before, &after, &d);
	for (int n = 0; n < nr_nodes; n++) {
		unsigned long want = IL_PAGES / nr_nodes;

		KT_CHECK(per_node[n] == IL_PAGES / nr_nodes, "node %d got %d of %d pages", n,
			 per_node[n], IL_PAGES);
		KT_CHECK(d.v[HIT][n] == want && d.v[IL_HIT][n] == want,
			 "node %d: hit +%lu interleave_hit +%lu, want %lu", n, d.v[HIT][n],
			 d.v[IL_HIT][n], want);
		KT_CHECK(d.v[n == me ? LOCAL : OTHER][n] == want, "node %d: local +%lu other +%lu",
			 n, d.v[LOCAL][n], d.v[OTHER][n]);
	}
	for (int i = 0; i < IL_PAGES; i++)
		kmm_free_pages(pages[i], 0);
	/* Objects interleave a slab at a time (4 KiB objects: one slab is 8 of them). */
	for (int i = 0; i < 256; i++) {
		objs[i] = kmm_kmalloc(4096, KMM_GFP_KERNEL);
		KT_REQUIRE(objs[i], "object %d", i);
		seen[kmm_addr_to_nid(objs[i])] = 1;
	}
	for (int n = 0; n < nr_nodes; n++)
		nodes_seen += seen[n];
	KT_CHECK(nodes_seen == nr_nodes, "objects from %d of %d nodes", nodes_seen, nr_nodes);
	for (int i = 0; i < 256; i++)
		kmm_kfree(objs[i]);
	/* Under interleave every node is this thread's: no free is remote. */
	KT_CHECK(kt_vmstat("slab_remote_free") == remote_before, "%lu remote frees",
		 kt_vmstat("slab_remote_free") - remote_before);
}

static void *preferred_thread(void *arg)
{
	int *wrong = arg;
	struct kmm_page *pages[32];
	void *objs[500];

	*wrong = 0;
	for (int i = 0; i < 32; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, i % 4);
		*wrong += !pages[i] || kmm_page_to_nid(pages[i]) != 1;
	}
	for (int i = 0; i < 500; i++) {
		objs[i] = kmm_kmalloc(32 + (size_t)i * 8, KMM_GFP_KERNEL);
		*wrong += !objs[i] || kmm_addr_to_nid(objs[i]) != 1;
	}
	for (int i = 0; i < 32; i++)
		kmm_free_pages(pages[i], i % 4);
	for (int i = 0; i < 500; i++)
		kmm_kfree(objs[i]);
	return NULL;
}

static void test_preferred(void)
{
	unsigned long remote_before = kt_vmstat("slab_remote_free");
	struct numastat before, after;

	read_numastat(&before);
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int wrong = -1;

		run_on(cpu, preferred_thread, &wrong);
		KT_CHECK(wrong == 0, "CPU %d (node %d): %d allocations not from node 1", cpu,
			 expected_node(cpu), wrong);
	}
	read_numastat(&after);
	KT_CHECK(after.v[HIT][1] > before.v[HIT][1], "no hits on node 1");
	KT_CHECK(after.v[HIT][0] == before.v[HIT][0], "%lu pages from node 0",
		 after.v[HIT][0] - before.v[HIT][0]);
	/* Node 1 is every thread's home: its objects are never remote. */
	KT_CHECK(kt_vmstat("slab_remote_free") == remote_before, "%lu remote frees",
		 kt_vmstat("slab_remote_free") - remote_before);
}

int main(void)
{
	static const struct kt_test basic[] = { KT_TEST(test_topology),
						KT_TEST(test_pinned_threads),
						KT_TEST(test_remote_free),
						KT_TEST(test_numastat_exact) };
	static const struct kt_test fallback[] = { KT_TEST(test_topology), KT_TEST(test_fallback) };
	static const struct kt_test interleave[] = { KT_TEST(test_topology),
						     KT_TEST(test_interleave) };
	static const struct kt_test preferred[] = { KT_TEST(test_topology),
						    KT_TEST(test_preferred) };
	const char *group = getenv("KT_NUMA_TEST"), *fake = getenv("KMM_FAKE_NUMA");
	cpu_set_t set;

	if (!fake || atoi(fake) < 2 || !group) {
		printf("skipped: run with KMM_FAKE_NUMA>=2 and KT_NUMA_TEST\n");
		return 77;
	}
	nr_nodes = atoi(fake);
	if (kmm_init()) {
		perror("kmm_init");
		return 1;
	}
	/* The CPUs this process may use, as long as they are 0, 1, ... */
	sched_getaffinity(0, sizeof(set), &set);
	while (nr_cpus < CPU_SETSIZE && CPU_ISSET(nr_cpus, &set))
		nr_cpus++;
	if (!strcmp(group, "basic"))
		return kt_main(basic, ARRAY_SIZE(basic));
	if (!strcmp(group, "fallback"))
		return kt_main(fallback, ARRAY_SIZE(fallback));
	if (!strcmp(group, "interleave"))
		return kt_main(interleave, ARRAY_SIZE(interleave));
	if (!strcmp(group, "preferred"))
		return kt_main(preferred, ARRAY_SIZE(preferred));
	printf("unknown KT_NUMA_TEST=%s\n", group);
	return 1;
}
