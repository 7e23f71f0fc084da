// SPDX-License-Identifier: MIT
/*
 * kmm_api_bench.cc - libkmm's slab API, linked with libkmm.so:
 * kmm_cache_alloc / kmm_cache_free beside malloc/free of the same size in the
 * same binary.  The page API (kmm_alloc_pages) is page_bench.cc's.
 */
#include <benchmark/benchmark.h>
#include <cstdlib>

#include <kmm/kmm.h>
#include <kmm/slab.h>

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
