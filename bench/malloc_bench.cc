// SPDX-License-Identifier: MIT
/*
 * malloc_bench.cc - micro-benchmarks of the allocation API, allocator-neutral:
 * the binary calls malloc/free and is run once per allocator with LD_PRELOAD
 * (bench/micro.sh: glibc, jemalloc, mimalloc, tcmalloc, libkmm in one session,
 * ratios to libkmm).  Shapes: a malloc+free pair per size (16 B .. 1 MiB), a
 * batch of N allocations then N frees, frees on another thread than the one
 * that allocated, a buffer grown by realloc from 16 B to 64 MiB, calloc, and
 * aligned_alloc with large alignments.  Memory is warmed first where it can be.
 */
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

static void BM_pair(benchmark::State &state)
{
	const size_t size = (size_t)state.range(0);

	for (auto _ : state) {
		void *p = malloc(size);

		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pair)->RangeMultiplier(4)->Range(16, 1 << 20);
BENCHMARK(BM_pair)->Arg(48)->Arg(96)->Arg(200)->Arg(3000)->Threads(2)->UseRealTime();

static void BM_batch(benchmark::State &state)
{
	const size_t size = (size_t)state.range(0);
	const int n = (int)state.range(1);
	std::vector<void *> p((size_t)n);

	for (auto _ : state) {
		for (int i = 0; i < n; i++)
			p[(size_t)i] = malloc(size);
		benchmark::DoNotOptimize(p.data());
		for (int i = 0; i < n; i++)
			free(p[(size_t)i]);
	}
	state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_batch)
	->Args({ 32, 1000 })
	->Args({ 256, 1000 })
	->Args({ 4096, 256 })
	->Args({ 64, 100000 });

/* Allocate here, free on another thread: every free is remote. */
static void BM_remote_free(benchmark::State &state)
{
	const size_t size = (size_t)state.range(0);
	const int n = 4096;
	std::vector<void *> p(n);

	for (auto _ : state) {
		for (int i = 0; i < n; i++)
			p[(size_t)i] = malloc(size);
		std::thread t([&] {
			for (int i = 0; i < n; i++)
				free(p[(size_t)i]);
		});
		t.join();
	}
	state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_remote_free)->Arg(64)->Arg(1024)->UseRealTime();

static void BM_realloc_growth(benchmark::State &state)
{
	const size_t max = (size_t)state.range(0);

	for (auto _ : state) {
		char *p = nullptr;

		for (size_t size = 16; size <= max; size += size / 8 + 16) {
			p = (char *)realloc(p, size);
			p[size - 1] = 1;
		}
		benchmark::DoNotOptimize(p);
		free(p);
	}
}
BENCHMARK(BM_realloc_growth)->Arg(1 << 16)->Arg(64 << 20)->Unit(benchmark::kMicrosecond);

static void BM_calloc(benchmark::State &state)
{
	const size_t size = (size_t)state.range(0);

	for (auto _ : state) {
		void *p = calloc(1, size);

		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetBytesProcessed(state.iterations() * (int64_t)size);
}
BENCHMARK(BM_calloc)->Arg(64)->Arg(4096)->Arg(256 << 10);

static void BM_aligned(benchmark::State &state)
{
	const size_t align = (size_t)state.range(0);

	for (auto _ : state) {
		void *p = aligned_alloc(align, 1000);

		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_aligned)->Arg(64)->Arg(4096)->Arg(65536)->Arg(1 << 20);

BENCHMARK_MAIN();
