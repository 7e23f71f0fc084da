// SPDX-License-Identifier: MIT
/*
 * page_api.c - the public page API: zeroing, DMA32, address/descriptor
 * conversions, orders out of range, and the buddyinfo/zoneinfo views.
 */
#include "../kt_kmm.h"
#include "page/internal.h"
#include "page/pcp.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

static int all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_init_is_idempotent(void)
{
	KT_CHECK(kmm_init() == 0, "kmm_init: %s", strerror(errno));
	KT_CHECK(kmm_init() == 0, "second kmm_init: %s", strerror(errno));
	KT_CHECK(sizeof(struct kmm_page) <= 64, "struct kmm_page is %zu bytes",
		 sizeof(struct kmm_page));
}

/* A recycled page (LIFO: the same one comes back) must still read as zero. */
static void test_zeroed_pages_recycled(void)
{
	for (unsigned int order = 0; order <= 4; order++) {
		size_t size = KMM_PAGE_SIZE << order;
		char *p = kmm_get_free_pages(KMM_GFP_KERNEL, order), *q;

		KT_REQUIRE(p, "order %u", order);
		memset(p, 0xa5, size);
		kmm_free_pages_va(p, order);
		q = kmm_get_free_pages(KMM_GFP_ZERO, order);
		KT_REQUIRE(q, "zeroed order %u", order);
		KT_CHECK(q == p, "expected the warm block back (LIFO): %p vs %p", (void *)q,
			 (void *)p);
		KT_CHECK(all_zero(q, size), "zeroed block of order %u has data", order);
		kmm_free_pages_va(q, order);
	}
	char *z = kmm_get_zeroed_page(KMM_GFP_KERNEL);

	KT_REQUIRE(z, "kmm_get_zeroed_page");
	KT_CHECK(all_zero(z, KMM_PAGE_SIZE), "kmm_get_zeroed_page has data");
	kmm_free_page_va(z);
}

static void test_dma32_below_4g(void)
{
	void *blocks[16];

	for (unsigned int i = 0; i < 16; i++) {
		unsigned int order = i % (KMM_MAX_PAGE_ORDER + 1);

		blocks[i] = kmm_get_free_pages(KMM_GFP_DMA32, order);
		KT_REQUIRE(blocks[i], "DMA32 order %u: %s", order, strerror(errno));
		KT_CHECK((uintptr_t)blocks[i] + (KMM_PAGE_SIZE << order) <= (1ULL << 32),
			 "DMA32 block %p of order %u ends above 4 GiB", blocks[i], order);
	}
	for (unsigned int i = 0; i < 16; i++)
		kmm_free_pages_va(blocks[i], i % (KMM_MAX_PAGE_ORDER + 1));
	/* Normal requests are not placed below 4 GiB while Normal has room. */
	void *n = kmm_get_free_page(KMM_GFP_KERNEL);

	KT_CHECK((uintptr_t)n >= (1ULL << 32), "Normal page %p below 4 GiB", n);
	kmm_free_page_va(n);
}

static void test_order_out_of_range(void)
{
	errno = 0;
	KT_CHECK(kmm_alloc_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER + 1) == NULL, "order 11");
	KT_CHECK(errno == ENOMEM, "errno %d", errno);
	errno = 0;
	KT_CHECK(kmm_get_free_pages(KMM_GFP_KERNEL, 64) == NULL, "order 64");
	KT_CHECK(errno == ENOMEM, "errno %d", errno);
	KT_CHECK(kmm_alloc_pages(KMM_GFP_KERNEL, ~0u) == NULL, "order ~0");
}

static void test_conversions(void)
{
	struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, 3);
	char *addr, stack_var = 0;

	KT_REQUIRE(page, "order 3");
	addr = kmm_page_address(page);
	for (int i = 0; i < 8; i++) {
		KT_CHECK(kmm_virt_to_page(addr + i * KMM_PAGE_SIZE) ==
				 (struct kmm_page *)((char *)page + i * sizeof(struct kmm_page)),
			 "page %d of the block", i);
		KT_CHECK(kmm_virt_to_page(addr + i * KMM_PAGE_SIZE + 123) ==
				 kmm_virt_to_page(addr + i * KMM_PAGE_SIZE),
			 "interior byte of page %d", i);
	}
	KT_CHECK(kmm_virt_to_page(&stack_var) == NULL, "a stack address has a descriptor");
	KT_CHECK(kmm_virt_to_page(test_conversions) == NULL, "a code address has a descriptor");
	KT_CHECK(kmm_virt_to_page(NULL) == NULL, "NULL has a descriptor");
	kmm_free_pages(page, 3);
	kmm_free_pages(NULL, 0); /* no-ops, as the kernel's */
	kmm_free_pages_va(NULL, 0);
}

static void test_buddyinfo_format(void)
{
	char buf[8192];
	unsigned long before[KMM_NR_PAGE_ORDERS], after[KMM_NR_PAGE_ORDERS];
	void *p;

	KT_REQUIRE(kt_dump("buddyinfo", buf, sizeof(buf)) == 0, "kmm_dump buddyinfo");
	/* The kernel's line: "Node 0, zone   Normal " then 11 fields "%6lu ". */
	KT_CHECK(strstr(buf, "Node 0, zone   Normal ") != NULL, "%s", buf);
	for (char *line = buf; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		KT_CHECK(len == 22 + 7 * KMM_NR_PAGE_ORDERS, "line of %zu chars: %.*s", len,
			 (int)len, line);
		line += len + (nl ? 1 : 0);
	}
	/* An order-4 allocation (above the per-CPU caches) shows in the counts. */
	kmm_drain_all_pages();
	KT_REQUIRE(kt_buddyinfo("Normal", before) == 0, "parse");
	p = kmm_get_free_pages(KMM_GFP_KERNEL, 4);
	KT_REQUIRE(kt_buddyinfo("Normal", after) == 0, "parse");
	unsigned long fb = 0, fa = 0;

	for (int o = 0; o < KMM_NR_PAGE_ORDERS; o++) {
		fb += before[o] << o;
		fa += after[o] << o;
	}
	KT_CHECK(fa == fb - 16 || fa == fb - 16 + 512, "free pages %lu -> %lu", fb, fa);
	kmm_free_pages_va(p, 4);
}

static void test_zoneinfo_format(void)
{
	char buf[16384];
	unsigned long free_pages = 0, nr_free = 0, present = 0;
	char *normal;

	KT_REQUIRE(kt_dump("zoneinfo", buf, sizeof(buf)) == 0, "kmm_dump zoneinfo");
	normal = strstr(buf, "Node 0, zone   Normal\n");
	KT_REQUIRE(normal, "no Normal zone:\n%s", buf);
	KT_CHECK(sscanf(strstr(normal, "  pages free     "), "  pages free %lu", &free_pages) == 1,
		 "pages free");
	KT_CHECK(strstr(normal, "\n        min      ") && strstr(normal, "\n        high     "),
		 "watermarks");
	KT_CHECK(sscanf(strstr(normal, "        present  "), " present %lu", &present) == 1,
		 "present");
	KT_CHECK(sscanf(strstr(normal, "      nr_free_pages "), " nr_free_pages %lu", &nr_free) ==
			 1,
		 "nr_free_pages");
	KT_CHECK(free_pages == nr_free && free_pages <= present && present % 512 == 0,
		 "free %lu nr_free %lu present %lu", free_pages, nr_free, present);
	KT_CHECK(strstr(normal, "\n  start_pfn:           ") != NULL, "start_pfn");
	KT_CHECK(strstr(buf, "Node 0, zone    DMA32\n") != NULL, "DMA32 zone:\n%s", buf);
}

static void test_unknown_view(void)
{
	errno = 0;
	KT_CHECK(kmm_dump(1, "no-such-view") == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	KT_CHECK(kmm_dump(1, NULL) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	KT_CHECK(kmm_dump(-1, "buddyinfo") == -1 && errno == EBADF, "errno %d", errno);
}

/* VmFlags of the mapping that holds @addr contain " hg" (MADV_HUGEPAGE)? -1: no mapping. */
static int vma_has_hugepage(uintptr_t addr)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in_vma = 0, found = -1;
	unsigned long lo, hi;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, ' ') > strchr(line, '-'))
			in_vma = addr >= lo && addr < hi;
		else if (in_vma && !strncmp(line, "VmFlags:", 8))
			found = strstr(line, " hg") != NULL;
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * Transparent huge pages with KMM_THP=1 (numa/arena.c): nothing below
 * KMM_THP_THRESHOLD (default 16 MiB) of a zone; from it, the sections of runs
 * of 2 MiB and more, while sections carved into smaller blocks stay 4 KiB
 * pages; from four times it, every section and the rest of the reservation.
 * In a child, from the zone as it is at the start: the zone never shrinks,
 * and the tests after this one want it small.  The child switches the
 * policy on as KMM_THP=1 does (kmm_init() has run): by default libkmm asks
 * for no huge pages.
 */
static void thp_from_threshold(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	uintptr_t base = zone->zone_start_pfn << KMM_PAGE_SHIFT;
	unsigned long threshold = kmm_arena.thp_from_pages << KMM_PAGE_SHIFT;
	unsigned long all = kmm_arena.thp_all_pages << KMM_PAGE_SHIFT;
	unsigned long block = (1UL << KMM_MAX_PAGE_ORDER) << KMM_PAGE_SHIFT;
	unsigned int n = 0, nsmall = 0;
	void *blocks[64], *small[160];
	uintptr_t fresh = 0;

	KT_REQUIRE(all == 4 * threshold && (all + (8UL << 20)) / block <= 64,
		   "threshold %lu MiB, all from %lu MiB", threshold >> 20, all >> 20);
	/* Runs of 4 MiB until 16 MiB past the threshold. */
	bool past[64];

	KT_REQUIRE(zone->present_pages < kmm_arena.thp_from_pages,
		   "the zone holds %lu MiB already: this test must run first",
		   zone->present_pages >> (20 - KMM_PAGE_SHIFT));
	while ((zone->present_pages << KMM_PAGE_SHIFT) < threshold + (16UL << 20)) {
		KT_REQUIRE((blocks[n] = kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER)),
			   "alloc");
		past[n++] = zone->present_pages >= kmm_arena.thp_from_pages;
	}
	KT_REQUIRE(!past[0] && past[n - 1], "%u blocks", n);
	for (unsigned int i = 0; i < n; i++)
		KT_CHECK(vma_has_hugepage((uintptr_t)blocks[i]) == past[i],
			 "a 4 MiB run at %lu MiB, handed out with the zone %s the threshold (%lu "
			 "MiB): advised %d",
			 (unsigned long)((uintptr_t)blocks[i] - base) >> 20,
			 past[i] ? "past" : "below", threshold >> 20,
			 vma_has_hugepage((uintptr_t)blocks[i]));

	/* 1 MiB blocks until one comes from a section the zone had not yet. */
	unsigned long top = zone->present_pages << KMM_PAGE_SHIFT;

	while (!fresh && nsmall < 160) {
		KT_REQUIRE((small[nsmall] = kmm_get_free_pages(KMM_GFP_KERNEL, SECTION_ORDER - 1)),
			   "alloc");
		if ((uintptr_t)small[nsmall] >= base + top)
			fresh = (uintptr_t)small[nsmall];
		nsmall++;
	}
	KT_REQUIRE(fresh && fresh - base < all, "no 1 MiB block from a new section below %lu MiB",
		   all >> 20);
	KT_CHECK(vma_has_hugepage(fresh) == 0,
		 "a section of 1 MiB blocks at %lu MiB is advised (below %lu MiB)",
		 (unsigned long)(fresh - base) >> 20, all >> 20);

	/* Past four times the threshold, the whole zone. */
	while ((zone->present_pages << KMM_PAGE_SHIFT) < all + (8UL << 20))
		KT_REQUIRE((blocks[n++] = kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER)),
			   "alloc");
	KT_CHECK(vma_has_hugepage(base + all + (4UL << 20)) == 1, "%lu MiB is not advised",
		 (all >> 20) + 4);
	KT_CHECK(vma_has_hugepage(base + (zone->reserved_pages << KMM_PAGE_SHIFT) - 1) == 1,
		 "the end of what the zone holds is not advised");
	for (unsigned int i = 0; i < n; i++)
		kmm_free_pages_va(blocks[i], KMM_MAX_PAGE_ORDER);
	for (unsigned int i = 0; i < nsmall; i++)
		kmm_free_pages_va(small[i], SECTION_ORDER - 1);
}

static void test_thp_from_threshold(void)
{
	int status = 0;
	pid_t pid = fork();

	KT_REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		KT_CHECK(!kmm_arena.thp || getenv("KMM_THP"),
			 "libkmm asks for huge pages without KMM_THP=1");
		kmm_arena.thp = true;
		kmm_arena.small_pages = kmm_arena.thp_all_pages;
		if (!setjmp(kt_abort_test))
			thp_from_threshold();
		fflush(stdout);
		_exit(kt_failures ? 1 : 0);
	}
	KT_REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	KT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "the child's checks failed (status %#x): above", status);
}

/*
 * A run of 3 MiB (kmalloc's whole MiBs past 2 MiB) where the zone has a free
 * 2 MiB block with 1 MiB free after it but no free 4 MiB block: it takes
 * those pages (alloc_run_fit()), without growing the zone.
 */
static void test_exact_run_fits_free_pages(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	struct kmm_page *held[256], *a, *c, *run;
	unsigned int n = 0;
	unsigned long present;

	/* No free 4 MiB block left in the zone (none of it is touched). */
	while (n < 256 && (held[n] = __alloc_pages(__GFP_NOGROW, KMM_MAX_PAGE_ORDER, 0)))
		n++;
	KT_REQUIRE(n < 256, "more than 1 GiB of free 4 MiB blocks");
	/* A fresh 4 MiB run; its last MiB taken by another block, the rest freed. */
	a = alloc_pages_exact(KMM_GFP_KERNEL, MAX_ORDER_NR_PAGES, 0);
	KT_REQUIRE(a, "alloc_pages_exact(1024)");
	shrink_pages_exact(a, 768);
	/* The growth may have brought more than that block. */
	while (n < 256 && (held[n] = __alloc_pages(__GFP_NOGROW, KMM_MAX_PAGE_ORDER, 0)))
		n++;
	KT_REQUIRE(n < 256, "more than 1 GiB of free 4 MiB blocks");
	c = __alloc_pages(KMM_GFP_KERNEL, SECTION_ORDER - 1, 0);
	KT_REQUIRE(c, "alloc order %d", SECTION_ORDER - 1);
	if (c != a + 768) {
		printf("skipped: the 1 MiB block is not the run's freed tail\n");
	} else {
		free_pages_exact(a);
		present = zone->present_pages;
		run = alloc_pages_exact(KMM_GFP_KERNEL, 768, 0);
		KT_CHECK(run == a, "the 3 MiB run is at %p, not in the free 3 MiB at %p",
			 run ? page_to_virt(run) : NULL, page_to_virt(a));
		KT_CHECK(zone->present_pages == present, "the zone grew from %lu to %lu pages",
			 present, zone->present_pages);
		if (run) {
			KT_CHECK(run->flags == PG_exact && (unsigned long)run->private == 768,
				 "flags %#x, private %lu", run->flags, (unsigned long)run->private);
			memset(page_to_virt(run), 0x5a, 768UL << KMM_PAGE_SHIFT);
			free_pages_exact(run);
		}
		KT_CHECK(buddy_check_zone(zone) == 0, "buddy_check_zone");
		a = NULL;
	}
	if (a)
		free_pages_exact(a);
	__free_pages(c, SECTION_ORDER - 1);
	while (n)
		__free_pages(held[--n], KMM_MAX_PAGE_ORDER);
}

/* Keep @p (of @order) on the list @held, linked through its first words. */
static void *hold_block(void *held, struct kmm_page *p, unsigned int order)
{
	void **v = page_to_virt(p);

	v[0] = held;
	v[1] = (void *)(uintptr_t)order;
	return v;
}

/* Hold every free block of order 4 and up, without growing the zone. */
static void *hold_free_blocks(void *held)
{
	for (int o = KMM_MAX_PAGE_ORDER; o >= 4; o--) {
		struct kmm_page *p;

		while ((p = __alloc_pages(__GFP_NOGROW, (unsigned int)o, 0)))
			held = hold_block(held, p, (unsigned int)o);
	}
	return held;
}

/*
 * The buddy reuses pages a program touched before pages it never did: a
 * request splits a larger warm block (freed, below the zone's frontier)
 * before it takes a smaller cold one (never handed out), which would add to
 * the program's RSS while freed memory waits.  Every free block of order 4
 * and up is held first, so that the zone has only the blocks made here.
 */
static void test_free_warm_block_first(void)
{
	size_t section = KMM_PAGE_SIZE << SECTION_ORDER;
	struct kmm_page *h, *x, *y;
	void *held;

	/* A section from growth; the rest of that growth held too. */
	drain_all_pages(); /* blocks cached per CPU merge first */
	held = hold_free_blocks(NULL);
	h = __alloc_pages(KMM_GFP_KERNEL, SECTION_ORDER, 0);
	KT_REQUIRE(h, "a section");
	held = hold_free_blocks(held);
	/* A block of order 4 from the next growth: its split leaves cold halves. */
	x = __alloc_pages(KMM_GFP_KERNEL, 4, 0);
	KT_REQUIRE(x, "a block of order 4");
	KT_CHECK((char *)page_to_virt(x) >= (char *)page_to_virt(h) + section,
		 "the growth at %p is below the section at %p", page_to_virt(x), page_to_virt(h));
	memset(page_to_virt(h), 0x5a, section);
	__free_pages(h, SECTION_ORDER);
	/* Free: the warm section, and the cold halves of x's split. */
	y = __alloc_pages(__GFP_NOGROW, 4, 0);
	KT_CHECK(y == h, "order 4 came from %p, not from the freed section at %p",
		 y ? page_to_virt(y) : NULL, page_to_virt(h));
	KT_CHECK(buddy_check_zone(page_zone(x)) == 0, "buddy_check_zone");
	if (y)
		__free_pages(y, 4);
	__free_pages(x, 4);
	while (held) {
		void **v = held;

		held = v[0];
		__free_pages(kmm_virt_to_page(v), (unsigned int)(uintptr_t)v[1]);
	}
}

/*
 * A single-threaded program that the scheduler moves: its first page refill
 * on a CPU gives back the pages cached on the CPU of its last one
 * (pcp_follow_thread()), instead of leaving them there, resident.
 */
static void test_pcp_follows_thread(void)
{
	cpu_set_t old, one;
	void *p[40];
	struct kmm_zone *zone;
	unsigned long left;

	if (pcp_mode == PCP_OFF || sched_getaffinity(0, sizeof(old), &old) || !CPU_ISSET(0, &old) ||
	    !CPU_ISSET(1, &old) || kmm_nr_cpu_ids < 2)
		return; /* needs CPUs 0 and 1 */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	KT_REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0, "pin to CPU 0");
	for (int i = 0; i < 40; i++) {
		p[i] = kmm_get_free_pages(KMM_GFP_KERNEL, 0);
		KT_REQUIRE(p[i], "page %d", i);
	}
	zone = page_zone(kmm_virt_to_page(p[0]));
	for (int i = 0; i < 40; i++)
		kmm_free_pages_va(p[i], 0);
	KT_CHECK(pcp_count(zone, 0) > 0, "no page cached on CPU 0");
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	KT_REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0, "pin to CPU 1");
	drain_zone_pages(zone, 1); /* so that the next allocation refills */
	p[0] = kmm_get_free_pages(KMM_GFP_KERNEL, 0);
	left = pcp_count(zone, 0);
	kmm_free_pages_va(p[0], 0);
	sched_setaffinity(0, sizeof(old), &old);
	KT_CHECK(left == 0, "%lu pages still cached on CPU 0 after a refill on CPU 1", left);
}

/*
 * The per-CPU page lists scale with the zone's pages in service, as the
 * kernel's zone_pcp_update(): a zone of a few MiB keeps a few dozen pages on
 * a CPU, and once it holds 512 MiB a CPU keeps hundreds, moving batches of
 * 31 or more.  Before, batch and high came from the zone's whole span, 63
 * and 252 from the first page on: a program of 4 MiB kept up to 1.4 MiB of
 * free pages cached.
 */
#define PCP_TEST_PAGES 1024
#define PCP_TEST_GROWN (512UL << 20)

static unsigned long cached_after_churn(struct kmm_zone *zone, int cpu)
{
	static void *p[PCP_TEST_PAGES];

	for (int i = 0; i < PCP_TEST_PAGES; i++)
		KT_REQUIRE((p[i] = kmm_get_free_pages(KMM_GFP_KERNEL, 0)), "page %d", i);
	for (int i = 0; i < PCP_TEST_PAGES; i++)
		kmm_free_pages_va(p[i], 0);
	return pcp_count(zone, cpu);
}

/* The same through the lists of orders 0 to PCP_MAX_ORDER in turn. */
static unsigned long cached_after_churn_orders(struct kmm_zone *zone, int cpu)
{
	static void *p[PCP_TEST_PAGES];

	for (unsigned int o = 0; o <= PCP_MAX_ORDER; o++) {
		int n = PCP_TEST_PAGES >> o;

		for (int i = 0; i < n; i++)
			KT_REQUIRE((p[i] = kmm_get_free_pages(KMM_GFP_KERNEL, o)), "block %d", i);
		for (int i = 0; i < n; i++)
			kmm_free_pages_va(p[i], o);
	}
	return pcp_count(zone, cpu);
}

static void test_pcp_scales_with_zone(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	size_t block = KMM_PAGE_SIZE << KMM_MAX_PAGE_ORDER;
	static void *big[PCP_TEST_GROWN / (KMM_PAGE_SIZE << KMM_MAX_PAGE_ORDER)];
	unsigned long small, grown, present, all;
	unsigned int batch;
	cpu_set_t old, one;
	int cpu, n = 0;

	if (pcp_mode == PCP_OFF || sched_getaffinity(0, sizeof(old), &old))
		return;
	cpu = sched_getcpu();
	KT_REQUIRE(cpu >= 0, "sched_getcpu: %s", strerror(errno));
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	KT_REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0, "pin to CPU %d", cpu);
	small = cached_after_churn(zone, cpu);
	present = zone->present_pages;
	batch = zone->pcp_batch;
	KT_CHECK(present <= (16UL << 20) / KMM_PAGE_SIZE, "the zone already holds %lu pages",
		 present);
	KT_CHECK(small > 0, "no page cached on CPU %d after freeing %d", cpu, PCP_TEST_PAGES);
	KT_CHECK(small <= present / 16, "%lu free pages cached on one CPU of a zone of %lu", small,
		 present);
	KT_CHECK(batch <= 3, "batch %u on a zone of %lu pages", batch, present);
	/* All four orders' lists together stay near high, as the kernel's count. */
	all = cached_after_churn_orders(zone, cpu);
	KT_CHECK(all <= zone->pcp_high + 2 * batch * 15,
		 "%lu pages cached on CPU %d over the four orders, high %u", all, cpu,
		 zone->pcp_high);
	drain_zone_pages(zone, cpu);
	while (zone->present_pages < PCP_TEST_GROWN / KMM_PAGE_SIZE &&
	       n < (int)(sizeof(big) / sizeof(big[0])))
		KT_REQUIRE((big[n++] = kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER)),
			   "block %d of %zu bytes", n, block);
	KT_CHECK(zone->pcp_batch >= 31, "batch %u on a zone of %lu pages", zone->pcp_batch,
		 zone->present_pages);
	KT_CHECK(zone->pcp_high >= 4 * zone->pcp_batch, "high %u below four batches of %u",
		 zone->pcp_high, zone->pcp_batch);
	grown = cached_after_churn(zone, cpu);
	KT_CHECK(grown >= 4 * small, "%lu pages cached on the grown zone, %lu on the small one",
		 grown, small);
	while (n > 0)
		kmm_free_pages_va(big[--n], KMM_MAX_PAGE_ORDER);
	drain_zone_pages(zone, cpu);
	sched_setaffinity(0, sizeof(old), &old);
}

KT_MAIN(KT_TEST(test_init_is_idempotent), KT_TEST(test_thp_from_threshold),
	KT_TEST(test_pcp_scales_with_zone), KT_TEST(test_pcp_follows_thread),
	KT_TEST(test_zeroed_pages_recycled), KT_TEST(test_dma32_below_4g),
	KT_TEST(test_order_out_of_range), KT_TEST(test_conversions), KT_TEST(test_buddyinfo_format),
	KT_TEST(test_zoneinfo_format), KT_TEST(test_unknown_view),
	KT_TEST(test_exact_run_fits_free_pages), KT_TEST(test_free_warm_block_first))
