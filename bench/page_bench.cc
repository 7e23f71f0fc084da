// SPDX-License-Identifier: MIT
/*
 * page_bench.cc - the page allocator's alloc+free pair through the locked
 * buddy, at order 0 and order 9, on 1 and 2 threads; glibc's malloc/free of
 * the same sizes in the same binary as a yardstick (ratios, not absolutes:
 * this machine's speed drifts).  The zone is warmed before timing, so no
 * section growth or first-touch fault is measured.
 */
#include <benchmark/benchmark.h>
#include <cstdlib>

#include <kmm/kmm.h>

static void warm(unsigned int order)
{
	void *p[64];

	for (auto &q : p)
		q = kmm_get_free_pages(KMM_GFP_KERNEL, order);
	for (auto &q : p)
		kmm_free_pages_va(q, order);
}

static void BM_kmm_pages_pair(benchmark::State &state)
{
	const unsigned int order = (unsigned int)state.range(0);

	if (state.thread_index() == 0)
		warm(order);
	for (auto _ : state) {
		struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, order);

		benchmark::DoNotOptimize(page);
		kmm_free_pages(page, order);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_kmm_pages_pair)->Arg(0)->Arg(9)->Threads(1)->Threads(2)->UseRealTime();

/* A burst: 64 allocations, then 64 frees (the pcp issue's second shape). */
static void BM_kmm_pages_burst64(benchmark::State &state)
{
	const unsigned int order = (unsigned int)state.range(0);
	struct kmm_page *pages[64];

	if (state.thread_index() == 0)
		warm(order);
	for (auto _ : state) {
		for (auto &p : pages)
			p = kmm_alloc_pages(KMM_GFP_KERNEL, order);
		benchmark::DoNotOptimize(pages);
		for (auto &p : pages)
			kmm_free_pages(p, order);
	}
	state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_kmm_pages_burst64)->Arg(0)->Threads(1)->Threads(2)->UseRealTime();

static void BM_glibc_malloc_pair(benchmark::State &state)
{
	const size_t size = (size_t)4096 << state.range(0);

	for (auto _ : state) {
		void *p = malloc(size);

		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_glibc_malloc_pair)->Arg(0)->Arg(9)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
