// SPDX-License-Identifier: MIT
/*
 * kmm_api_bench.cc - libkmm's kernel-style APIs, linked with libkmm.so:
 * kmm_alloc_pages / kmm_free_pages (orders 0, 3, 9) and kmm_cache_alloc /
 * kmm_cache_free, beside malloc/free of the same sizes in the same binary.
 */
#include <benchmark/benchmark.h>
#include <cstdlib>

#include <kmm/kmm.h>
#include <kmm/slab.h>

static void BM_alloc_pages(benchmark::State &state)
{
	const unsigned int order = (unsigned int)state.range(0);

	for (auto _ : state) {
		struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, order);

		benchmark::DoNotOptimize(page);
		kmm_free_pages(page, order);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_alloc_pages)->Arg(0)->Arg(3)->Arg(9)->Threads(1)->Threads(2)->UseRealTime();

static void BM_cache_alloc(benchmark::State &state)
{
	static struct kmm_cache *cache = kmm_cache_create("bench_obj", 200, 0, 0, nullptr);

	for (auto _ : state) {
		void *obj = kmm_cache_alloc(cache, KMM_GFP_KERNEL);

		benchmark::DoNotOptimize(obj);
		kmm_cache_free(cache, obj);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_cache_alloc)->Threads(1)->Threads(2)->UseRealTime();

static void BM_malloc_same_size(benchmark::State &state)
{
	for (auto _ : state) {
		void *obj = malloc(200);

		benchmark::DoNotOptimize(obj);
		free(obj);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_malloc_same_size)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
