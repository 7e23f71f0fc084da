// SPDX-License-Identifier: MIT
/*
 * release_test.c - free memory goes back to the system (run with
 * KMM_DECAY_MS=100): kmm_reclaim() releases every free block of 2 MiB and
 * up at once; without it, blocks free for a whole decay period go on a later
 * free.  Released memory reads zero when handed out again and is counted
 * back; a block in use is never released (patterns checked while another
 * thread reclaims).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kmm/slab.h>

#include "../kt_kmm.h"
#include "page/internal.h"

#define MiB (1UL << 20)
#define ORDER_4M 10
#define NR 24 /* 96 MiB */

/* A counter of node 0's Normal zone in zoneinfo ("nr_released", "pages_released"). */
static unsigned long zone_counter(const char *name)
{
	static char buf[16384];
	char *p;
	unsigned long v = ~0UL;

	kt_dump("zoneinfo", buf, sizeof(buf));
	p = strstr(buf, "zone   Normal");
	if (p && (p = strstr(p, name)))
		sscanf(p + strlen(name), "%lu", &v);
	return v;
}

static struct kmm_page *blocks[NR];

/* KMM_PURGE=free: MADV_FREE takes pages lazily and may leave their bytes. */
static bool lazy(void)
{
	const char *p = getenv("KMM_PURGE");

	return p && !strcmp(p, "free");
}

static void fill_blocks(int byte)
{
	for (int i = 0; i < NR; i++) {
		blocks[i] = kmm_alloc_pages(KMM_GFP_KERNEL, ORDER_4M);
		if (!blocks[i]) {
			fprintf(stderr, "order-10 allocation %d failed\n", i);
			exit(2);
		}
		memset(kmm_page_address(blocks[i]), byte, 4 * MiB);
	}
}

static void free_blocks(void)
{
	for (int i = 0; i < NR; i++)
		kmm_free_pages(blocks[i], ORDER_4M);
}

/* meminfo, vmstat and pagetypeinfo agree with zoneinfo on what is released. */
static void check_views(void)
{
	static char buf[16384];
	unsigned long released = zone_counter("nr_released"), kb = 0, blocks = 0, rows = 0;
	char *p;

	KT_CHECK(kt_vmstat("nr_released_pages") == released,
		 "vmstat nr_released_pages %lu, zoneinfo %lu", kt_vmstat("nr_released_pages"),
		 released);
	kt_dump("meminfo", buf, sizeof(buf));
	p = strstr(buf, "Released:");
	KT_CHECK(p && sscanf(p, "Released: %lu kB", &kb) == 1 && kb == released * 4,
		 "meminfo Released %lu kB, zoneinfo %lu pages", kb, released);
	KT_CHECK(strstr(buf, "Slab:") && strstr(buf, "VmallocTotal:"), "meminfo lines:\n%s", buf);
	KT_CHECK(kt_dump("pagetypeinfo", buf, sizeof(buf)) == 0, "pagetypeinfo failed");
	p = strstr(buf, "zone   Normal, type     Released");
	for (unsigned int o = 0; p && o < 11; o++) {
		unsigned long n = 0;
		int used = 0;

		if (o == 0)
			p += strlen("zone   Normal, type     Released");
		if (sscanf(p, "%lu%n", &n, &used) != 1)
			break;
		rows += n << o;
		p += used;
	}
	KT_CHECK(rows == released, "pagetypeinfo's Released blocks hold %lu pages, zoneinfo %lu",
		 rows, released);
	p = strstr(buf, "Node 0, zone   Normal");
	KT_CHECK(p && sscanf(p, "Node 0, zone   Normal %*u %lu", &blocks) == 1 &&
			 blocks == released / 512,
		 "pagetypeinfo's number of Released blocks %lu, want %lu", blocks, released / 512);
}

static void test_reclaim_releases_and_reuse_reads_zero(void)
{
	long before, after;
	unsigned long nonzero = 0;

	fill_blocks(0x5c);
	/* Before the free: a trim of the zone's top may give some back at once. */
	before = kt_rss_kb();
	free_blocks();
	kmm_reclaim();
	after = kt_rss_kb();
	KT_CHECK(lazy() || before - after > 80 * 1024,
		 "RSS %ld -> %ld kB: 96 MiB of free blocks stayed", before, after);
	KT_CHECK(zone_counter("nr_released") >= NR * 1024,
		 "zoneinfo counts %lu released pages, want at least %d",
		 zone_counter("nr_released"), NR * 1024);
	check_views();
	/* Handed out again: counted back, and the old contents are gone. */
	fill_blocks(0);
	for (int i = 0; i < NR; i++) {
		unsigned char *p = kmm_page_address(blocks[i]);

		for (size_t off = 0; off < 4 * MiB; off += 4096)
			nonzero += p[off] != 0;
	}
	KT_CHECK(lazy() || nonzero == 0, "%lu pages of reused blocks kept their old bytes",
		 nonzero);
	KT_CHECK(zone_counter("nr_released") < NR * 1024,
		 "released pages handed out were not counted back (%lu)",
		 zone_counter("nr_released"));
	free_blocks();
	/* Where the API promises zero, released or not. */
	kmm_reclaim();
	nonzero = 0;
	for (int i = 0; i < NR; i++) {
		unsigned char *p;

		blocks[i] = kmm_alloc_pages(KMM_GFP_ZERO, ORDER_4M);
		KT_REQUIRE(blocks[i], "allocation failed");
		p = kmm_page_address(blocks[i]);
		for (size_t off = 0; off < 4 * MiB; off += 512)
			nonzero += p[off] != 0;
	}
	KT_CHECK(nonzero == 0, "%lu bytes of KMM_GFP_ZERO blocks are not zero", nonzero);
	free_blocks();
}

static void test_decay_on_free(void)
{
	long before, after;
	unsigned long released = zone_counter("pages_released");
	struct kmm_page *page;

	kmm_reclaim();
	fill_blocks(0x33);
	free_blocks();
	before = kt_rss_kb();
	/* Two periods: the first free marks the blocks, the second releases them. */
	for (int i = 0; i < 3; i++) {
		usleep(150 * 1000);
		page = kmm_alloc_pages(KMM_GFP_KERNEL, 9);
		kmm_free_pages(page, 9);
	}
	after = kt_rss_kb();
	KT_CHECK(zone_counter("pages_released") > released + 16 * 1024,
		 "decay released %lu pages, want most of %d",
		 zone_counter("pages_released") - released, NR * 1024);
	KT_CHECK(lazy() || before - after > 48 * 1024, "RSS %ld -> %ld kB after the decay delay",
		 before, after);
}

/* min/low/high in zoneinfo follow the kernel's formulas for the zone's size. */
static void test_watermarks_kernel_formula(void)
{
	unsigned long present = zone_counter("present "), min = zone_counter("min "),
		      low = zone_counter("low "), high = zone_counter("high ");
	unsigned long kb = present * 4, r = 0, want_min, tmp;

	while ((r + 1) * (r + 1) <= kb * 16)
		r++;
	want_min = (r < 128 ? 128 : r > 262144 ? 262144 : r) / 4;
	tmp = want_min / 4 > present * 10 / 10000 ? want_min / 4 : present * 10 / 10000;
	KT_CHECK(present > 0 && present != ~0UL, "no present pages in zoneinfo");
	KT_CHECK(min == want_min, "min %lu, the kernel's formula gives %lu for %lu pages", min,
		 want_min, present);
	KT_CHECK(low == want_min + tmp && high == want_min + 2 * tmp,
		 "low %lu high %lu, want %lu %lu", low, high, want_min + tmp, want_min + 2 * tmp);
}

static volatile int stop;
static volatile unsigned long reclaims;

static void *reclaimer(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!stop) {
		kmm_reclaim();
		reclaims = ++n;
		sched_yield(); /* memcheck: or the other thread may not run for a minute */
	}
	return (void *)n;
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_in_use_never_released(void)
{
	struct timespec t0;
	pthread_t t;
	int bad = 0, rounds = kt_under_valgrind() ? 20 : 300;
	void *n;

	stop = 0;
	reclaims = 0;
	KT_REQUIRE(!pthread_create(&t, NULL, reclaimer, NULL), "pthread_create");
	/*
	 * Past @rounds, more rounds until the reclaimer has run a few times
	 * beside them (memcheck runs one thread at a time, and may not have
	 * scheduled it yet), for up to a minute, yielding the CPU each round:
	 * memcheck's scheduler hands its lock back to the thread that let it
	 * go, and beside another memcheck run the reclaimer once waited
	 * through 1,000 rounds (the old bound) without finishing a reclaim.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < rounds || (reclaims < 3 && elapsed_s(&t0) < 60); r++) {
		struct kmm_page *p[4];

		if (r >= rounds)
			sched_yield();

		for (int i = 0; i < 4; i++) {
			p[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 9 + (r + i) % 2);
			KT_REQUIRE(p[i], "allocation failed");
			memset(kmm_page_address(p[i]), r + i + 1, 2 * MiB);
		}
		for (int i = 0; i < 4; i++) {
			unsigned char *q = kmm_page_address(p[i]);

			for (size_t off = 0; off < 2 * MiB; off += 4096)
				bad += q[off] != (unsigned char)(r + i + 1);
			kmm_free_pages(p[i], 9 + (r + i) % 2);
		}
	}
	stop = 1;
	pthread_join(t, &n);
	KT_CHECK(bad == 0, "%d pages of blocks in use lost their contents", bad);
	KT_CHECK((uintptr_t)n > 0, "the reclaimer did not run");
}

/* A row of the pagemap view's table in @buf: its resident and absent kB. */
static bool pagemap_row(const char *buf, const char *name, unsigned long *res, unsigned long *abs)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "\n  %-12s ", name);
	p = strstr(buf, key);
	return p && sscanf(p + strlen(key), "%lu %lu", res, abs) == 2;
}

/*
 * pagemap sorts the zone's pages by holder and residency: a written block
 * is resident, a run's pages never written are not, a freed block stays
 * resident until kmm_reclaim() releases it, and the table adds up to the
 * zone (meminfo's MemTotal).
 */
static void test_pagemap(void)
{
	static char buf[65536];
	unsigned long res, abs, res0, abs0, total_res, total_abs, mem = 0;
	struct kmm_page *blk;
	char *run, *p;

	blk = kmm_alloc_pages(KMM_GFP_KERNEL, 9);
	KT_REQUIRE(blk, "order-9 allocation failed");
	memset(kmm_page_address(blk), 0x6b, 2 * MiB);
	/* A page run of 1 MiB (its buddy block), below a huge page. */
	run = kmm_kmalloc(600 << 10, KMM_GFP_KERNEL);
	KT_REQUIRE(run, "kmalloc(600 KiB) failed");
	run[0] = 1;
	KT_CHECK(kt_dump("pagemap", buf, sizeof(buf)) == 0, "pagemap failed");
	KT_CHECK(pagemap_row(buf, "block", &res, &abs) && res >= 2048,
		 "a written 2 MiB block: %lu kB resident\n%s", res, buf);
	KT_CHECK(pagemap_row(buf, "run", &res, &abs) && res + abs >= 1024 && res >= 4 &&
			 (kt_under_valgrind() || abs >= 512),
		 "a 1 MiB run with one page written: %lu kB resident, %lu absent\n%s", res, abs,
		 buf);
	KT_CHECK(pagemap_row(buf, "total", &total_res, &total_abs), "no total row\n%s", buf);
	p = strstr(buf, "\n    0 ");
	KT_CHECK(p && p[7] && strchr("SRBPVFXUO", p[7]),
		 "no map of section 0 (or not resident)\n%s", buf);
	kt_dump("meminfo", buf, sizeof(buf));
	p = strstr(buf, "MemTotal:");
	KT_CHECK(p && sscanf(p, "MemTotal: %lu", &mem) == 1 && mem == total_res + total_abs,
		 "pagemap counts %lu kB, meminfo's MemTotal %lu", total_res + total_abs, mem);

	kt_dump("pagemap", buf, sizeof(buf));
	KT_CHECK(pagemap_row(buf, "free", &res0, &abs0), "no free row\n%s", buf);
	kmm_free_pages(blk, 9);
	kt_dump("pagemap", buf, sizeof(buf));
	KT_CHECK(pagemap_row(buf, "free", &res, &abs) && res >= res0 + 2048,
		 "the freed block's 2 MiB are free and resident: %lu kB, before %lu\n%s", res, res0,
		 buf);
	kmm_reclaim();
	kt_dump("pagemap", buf, sizeof(buf));
	KT_CHECK(pagemap_row(buf, "released", &res, &abs) && abs + res >= 2048 &&
			 (lazy() || kt_under_valgrind() || abs >= 2048),
		 "released by kmm_reclaim(): %lu kB resident, %lu absent\n%s", res, abs, buf);
	kmm_kfree(run);
}

/* Pages of [@p, @p + @bytes) resident (mincore), or -1. */
static long resident_pages(void *p, size_t bytes)
{
	static unsigned char vec[1024];
	size_t n = bytes / 4096;
	long res = 0;

	if (n > sizeof(vec) || mincore(p, bytes, vec))
		return -1;
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	return res;
}

/*
 * A freed page run of 128 KiB or more goes back to the system at once, as
 * glibc unmaps a chunk it had mmapped; a smaller one stays.  A program that
 * frees runs and faults the released pages in again, run after run, stops
 * that: the threshold rises past the run's size, and its runs stay.
 */
static void test_freed_runs_released(void)
{
	bool check = !lazy() && !kt_under_valgrind();
	unsigned long rel;
	struct kmm_page *run;
	void *p;
	int i;

	run = alloc_pages_exact(KMM_GFP_KERNEL, 64, 0);
	KT_REQUIRE(run, "a run of 256 KiB");
	p = kmm_page_address(run);
	memset(p, 0x5a, 64 * 4096);
	rel = zone_counter("pages_released");
	free_pages_exact(run);
	KT_CHECK(zone_counter("pages_released") >= rel + 64,
		 "a freed run of 256 KiB: %lu pages released",
		 zone_counter("pages_released") - rel);
	KT_CHECK(!check || resident_pages(p, 64 * 4096) == 0,
		 "a freed run of 256 KiB: %ld pages still resident", resident_pages(p, 64 * 4096));

	run = alloc_pages_exact(KMM_GFP_KERNEL, 16, 0);
	KT_REQUIRE(run, "a run of 64 KiB");
	p = kmm_page_address(run);
	memset(p, 0x5a, 16 * 4096);
	free_pages_exact(run);
	KT_CHECK(!check || resident_pages(p, 16 * 4096) == 16,
		 "a freed run of 64 KiB: %ld of 16 pages resident", resident_pages(p, 16 * 4096));

	/* 1 MiB runs, written whole, freed, again and again. */
	for (i = 0; i < 64; i++) {
		run = alloc_pages_exact(KMM_GFP_KERNEL, 256, 0);
		KT_REQUIRE(run, "a run of 1 MiB");
		p = kmm_page_address(run);
		memset(p, 0x5a, MiB);
		rel = zone_counter("pages_released");
		free_pages_exact(run);
		if (zone_counter("pages_released") < rel + 256)
			break;
	}
	KT_CHECK(i < 64, "64 runs of 1 MiB freed and faulted in again, each released");
	KT_CHECK(!check || resident_pages(p, MiB) == 256,
		 "the run kept once the threshold rose: %ld of 256 pages resident",
		 resident_pages(p, MiB));
	printf("releases stopped after %d runs of 1 MiB\n", i);
}

/*
 * The same rule for a run that grows in place (realloc's growth over the free
 * pages after it, grow_pages_exact()): the pages it grows over were released
 * by the last free, so each cycle faults them in again, and that counts as
 * reuse too.  python3's json.dumps() grows its list of chunks from 64 KiB to
 * 800 KiB by realloc, frees it and starts again for every 100,000 chunks:
 * when only the block taken at the start of a cycle counted, its pages were
 * released and faulted in again every time (a dict of 100k keys: 7.7-11k
 * page faults in json.dumps() against glibc's 5.1k, and twice its time).
 */
static void test_grown_runs_count_reuse(void)
{
	unsigned long rel, released = 0;
	int cycles = 0, grown = 0, last = -1;

	for (cycles = 0; cycles < 64; cycles++) {
		struct kmm_page *run = alloc_pages_exact(KMM_GFP_KERNEL, 32, 0);
		unsigned long n = 32;
		char *p;

		KT_REQUIRE(run, "a run of 128 KiB");
		p = kmm_page_address(run);
		memset(p, 0x5a, 32 * 4096);
		/*
		 * realloc's steps of 1/8, as a Python list's: 32 -> 512 pages,
		 * past the threshold test_freed_runs_released() left (257)
		 */
		while (n < 512) {
			unsigned long next = MIN(n + n / 8 + 1, 512UL);

			if (!grow_pages_exact(run, next))
				break;
			memset(p + n * 4096, 0x5a, (next - n) * 4096);
			n = next;
		}
		grown += n == 512;
		rel = zone_counter("pages_released");
		free_pages_exact(run);
		if (zone_counter("pages_released") > rel) {
			released += zone_counter("pages_released") - rel;
			last = cycles;
		}
	}
	KT_CHECK(grown >= 48, "only %d of 64 runs grew in place to 2 MiB", grown);
	KT_CHECK(last < 16,
		 "runs grown in place over released pages still released at cycle %d "
		 "(%lu pages in all)",
		 last, released);
	KT_CHECK(released > 0,
		 "no grown run was released: the test did not start below the threshold");
	printf("grown runs: %d of 64 grew to 2 MiB; the last released at cycle %d\n", grown, last);
}

/*
 * What the raised threshold keeps is bounded: free pages left resident by
 * kept runs stay within an eighth of what libkmm holds (4 MiB in a smaller
 * heap).  Past that, a freed run of 1 MiB or more gives back the free blocks
 * of 1 MiB and up that were already free at the previous such free, not the
 * run just freed, which the program may take back at once.  python3's json
 * freed 4 MiB blocks and took 3.8 MB runs elsewhere: 10.8 MiB of free pages
 * resident at the peak of a 25 MiB zone.  Runs here after the test above:
 * the threshold is past 1 MiB, so each run is kept.
 */
#define KEPT_RUNS 48

static void test_kept_runs_bounded(void)
{
	static struct kmm_page *runs[KEPT_RUNS];
	unsigned long present, budget, resident, rel;
	bool check = !lazy() && !kt_under_valgrind();
	char *last;

	usleep(300 * 1000); /* sweeps give back at most 10 pages per ms run */
	for (int i = 0; i < KEPT_RUNS; i++) {
		runs[i] = alloc_pages_exact(KMM_GFP_KERNEL, 256, 0);
		KT_REQUIRE(runs[i], "run %d of 1 MiB", i);
		memset(kmm_page_address(runs[i]), 0x3c, MiB);
	}
	rel = zone_counter("pages_released");
	for (int i = 0; i < KEPT_RUNS; i++)
		free_pages_exact(runs[i]);
	last = kmm_page_address(runs[KEPT_RUNS - 1]);
	present = kt_vmstat("nr_present_pages");
	budget = MAX(present / 8, 1024UL);
	resident = kt_vmstat("nr_free_pages") - kt_vmstat("nr_released_pages");
	printf("kept runs: %d MiB freed, %lu pages released, %lu free pages resident "
	       "(budget %lu of %lu present)\n",
	       KEPT_RUNS, zone_counter("pages_released") - rel, resident, budget, present);
	if (lazy()) /* MADV_FREE: nothing swept, the kernel takes it when it needs */
		return;
	KT_CHECK(resident <= budget + 512,
		 "%lu free pages left resident by kept runs, past the budget of %lu", resident,
		 budget);
	KT_CHECK(zone_counter("pages_released") - rel >= KEPT_RUNS * 256UL - budget - 512,
		 "only %lu pages released of %d MiB of runs freed",
		 zone_counter("pages_released") - rel, KEPT_RUNS);
	KT_CHECK(!check || resident_pages(last, MiB) == 256,
		 "the run freed last was swept: %ld of 256 pages resident",
		 resident_pages(last, MiB));
}

/* The per-CPU lists' "high:" in node 0's Normal zone, summed over the CPUs. */
static unsigned long pcp_high_sum(void)
{
	static char buf[16384];
	unsigned long sum = 0, v;
	char *p;

	kt_dump("zoneinfo", buf, sizeof(buf));
	p = strstr(buf, "zone   Normal");
	while (p && (p = strstr(p, "high:"))) {
		p += strlen("high:");
		if (sscanf(p, "%lu", &v) == 1)
			sum += v;
	}
	return sum;
}

/*
 * The frontier rises past resident free memory: a program frees pages
 * scattered among those it keeps, then asks for blocks they cannot make, and
 * takes pages never written while those it freed stay resident (logicmin's
 * tables over the last pass's list nodes).  The rise gives free blocks back
 * down to the zone's high watermark; the pages kept keep their bytes.  The
 * big blocks are not written: taking them moves the frontier, and ends when
 * it has (free blocks the tests before left below it go first).
 */
#define RISE_PAGES 8192 /* 32 MiB of single pages, every other one freed */
#define RISE_BIG 1024	/* at most 2 GiB of 2 MiB blocks, never written */

/* How many of the freed (odd) pages of @pages are resident. */
static unsigned long odd_resident(struct kmm_page *const *pages)
{
	unsigned long n = 0;

	for (int i = 1; i < RISE_PAGES; i += 2) {
		long r = resident_pages(kmm_page_address(pages[i]), 4096);

		KT_REQUIRE(r >= 0, "mincore failed on page %d", i);
		n += (unsigned long)r;
	}
	return n;
}

static void test_rise_releases_scattered_free(void)
{
	static struct kmm_page *pages[RISE_PAGES], *big[RISE_BIG];
	bool check = !lazy() && !kt_under_valgrind();
	unsigned long rel, high, pcp, before, after, bound;
	int nbig = 0, bad = 0;

	usleep(500 * 1000); /* budget: releases give back 10 pages per ms run */
	for (int i = 0; i < RISE_PAGES; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		KT_REQUIRE(pages[i], "page %d", i);
		memset(kmm_page_address(pages[i]), (i & 0x7f) | 1, 4096);
	}
	for (int i = 1; i < RISE_PAGES; i += 2)
		kmm_free_pages(pages[i], 0);
	before = odd_resident(pages);
	rel = zone_counter("released_on_growth");
	while (!lazy() && nbig < RISE_BIG && zone_counter("released_on_growth") == rel) {
		big[nbig] = kmm_alloc_pages(KMM_GFP_KERNEL, 9);
		KT_REQUIRE(big[nbig], "2 MiB block %d", nbig);
		nbig++;
	}
	after = odd_resident(pages);
	high = zone_counter("high");
	pcp = pcp_high_sum();
	for (int i = 0; i < RISE_PAGES; i += 2) {
		const unsigned char *q = kmm_page_address(pages[i]);

		for (int j = 0; j < 4096; j += 512)
			bad += q[j] != ((i & 0x7f) | 1);
		kmm_free_pages(pages[i], 0);
	}
	for (int b = 0; b < nbig; b++)
		kmm_free_pages(big[b], 9);
	bound = high + pcp + 512;
	printf("rise: %d blocks of 2 MiB taken, %lu pages released on growth; freed pages "
	       "resident %lu before, %lu after (high watermark %lu, per-CPU highs %lu)\n",
	       nbig, zone_counter("released_on_growth") - rel, before, after, high, pcp);
	KT_CHECK(bad == 0, "%d samples of pages in use changed: released while in use?", bad);
	if (lazy()) /* KMM_PURGE=free: no release on a rise */
		return;
	KT_CHECK(nbig < RISE_BIG, "%d blocks of 2 MiB taken and nothing released", nbig);
	if (!check)
		return;
	KT_CHECK(before > bound,
		 "premise: only %lu freed pages resident before the rise (bound %lu)", before,
		 bound);
	KT_CHECK(after <= bound, "%lu freed pages still resident after the rise, bound %lu", after,
		 bound);
}

/* pagemap first: its run must land on pages never written. */
KT_MAIN({ "pagemap", test_pagemap }, { "freed_runs_released", test_freed_runs_released },
	{ "grown_runs_count_reuse", test_grown_runs_count_reuse },
	{ "reclaim_releases_and_reuse_reads_zero", test_reclaim_releases_and_reuse_reads_zero },
	{ "decay_on_free", test_decay_on_free },
	{ "watermarks_kernel_formula", test_watermarks_kernel_formula },
	{ "in_use_never_released", test_in_use_never_released },
	{ "kept_runs_bounded", test_kept_runs_bounded },
	{ "rise_releases_scattered_free", test_rise_releases_scattered_free })
