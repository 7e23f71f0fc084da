// SPDX-License-Identifier: MIT
/*
 * page_bench.cc - the page allocator, through its public API.
 *
 * - order-0 alloc+free pair and a burst of 64 allocations then 64 frees,
 *   with the per-CPU page cache ("pcp") and without it ("nopcp", the locked
 *   buddy: what KMM_PCP=0 gives), on 1 and 2 threads;
 * - the same pair at order 9 (never cached: always the locked buddy);
 * - yardsticks in the same binary: a plain thread-local array push+pop of the
 *   same pointers (the floor for any per-CPU cache), and glibc's malloc/free.
 *
 * Targets are ratios within one run (this machine's speed drifts): the pcp
 * pair within 2x of the thread-local array; the pcp at least 5x faster than
 * the locked buddy at 2 threads.  bench/page_ratios.py computes them from
 * --benchmark_format=json.  Zones are warmed first: no section growth and no
 * first-touch fault is timed.
 */
#include <benchmark/benchmark.h>
#include <cstdlib>

#include <kmm/kmm.h>

#include "bench_shim.h"

static void warm(unsigned int order)
{
	void *p[256];

	for (auto &q : p)
		q = kmm_get_free_pages(KMM_GFP_KERNEL, order);
	for (auto &q : p)
		kmm_free_pages_va(q, order);
}

static void pcp_on(const benchmark::State &)
{
	bench_set_pcp(1);
	warm(0);
}

static void pcp_off(const benchmark::State &)
{
	bench_set_pcp(0);
	warm(0);
}

static void BM_pages_pair(benchmark::State &state)
{
	const unsigned int order = (unsigned int)state.range(0);

	for (auto _ : state) {
		struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, order);

		benchmark::DoNotOptimize(page);
		kmm_free_pages(page, order);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetLabel(bench_pcp_mode());
}
BENCHMARK(BM_pages_pair)
	->Name("pcp_pair")
	->Arg(0)
	->Setup(pcp_on)
	->Threads(1)
	->Threads(2)
	->UseRealTime();
BENCHMARK(BM_pages_pair)
	->Name("nopcp_pair")
	->Arg(0)
	->Setup(pcp_off)
	->Threads(1)
	->Threads(2)
	->UseRealTime();
BENCHMARK(BM_pages_pair)
	->Name("buddy_pair")
	->Arg(9)
	->Setup(pcp_on)
	->Threads(1)
	->Threads(2)
	->UseRealTime();

static void BM_pages_burst64(benchmark::State &state)
{
	struct kmm_page *pages[64];

	for (auto _ : state) {
		for (auto &p : pages)
			p = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		benchmark::DoNotOptimize(pages);
		for (auto &p : pages)
			kmm_free_pages(p, 0);
	}
	state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_pages_burst64)
	->Name("pcp_burst64")
	->Setup(pcp_on)
	->Threads(1)
	->Threads(2)
	->UseRealTime();
BENCHMARK(BM_pages_burst64)
	->Name("nopcp_burst64")
	->Setup(pcp_off)
	->Threads(1)
	->Threads(2)
	->UseRealTime();

/* The floor: a thread-local stack of the same pointers, push then pop. */
static void BM_tls_array_pair(benchmark::State &state)
{
	static thread_local void *stack[512];
	static thread_local unsigned int top;
	void *item = &state;

	for (auto _ : state) {
		stack[top++] = item;
		benchmark::DoNotOptimize(stack);
		item = stack[--top];
		benchmark::DoNotOptimize(item);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_tls_array_pair)->Name("tls_array_pair")->Threads(1)->Threads(2)->UseRealTime();

static void BM_glibc_pair(benchmark::State &state)
{
	const size_t size = (size_t)4096 << state.range(0);

	for (auto _ : state) {
		void *p = malloc(size);

		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_glibc_pair)
	->Name("glibc_malloc_pair")
	->Arg(0)
	->Arg(9)
	->Threads(1)
	->Threads(2)
	->UseRealTime();

BENCHMARK_MAIN();
