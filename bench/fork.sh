#!/usr/bin/env bash
# fork() latency of a process with a large touched heap and 100 object caches
# (bench/fork_bench.c), under libkmm, glibc and the other allocators present,
# in the same run, interleaved, median of REPS (default 5) runs of FORKS forks.
# Two heaps: 1 GiB (the target: libkmm at most 1.5x glibc's latency) and
# 16 MiB (where the fork handlers' own cost shows).  Writes
# bench/results/fork.md.
# Usage: bench/fork.sh [LIBKMM.so]   (default build-release/libkmm.so)
set -euo pipefail
cd "$(dirname "$0")/.."
kmm=$(readlink -f "${1:-build-release/libkmm.so}")
reps=${REPS:-5}
forks=${FORKS:-40}
bin=build-bench/fork_bench
mkdir -p build-bench bench/results
gcc -O2 -fno-builtin -pthread -o "$bin" bench/fork_bench.c -ldl

# libkmm-thp: KMM_THP=1, the heap past 16 MiB in transparent huge pages
# (fork() copies one entry per 2 MiB instead of 512); by default libkmm's
# heap is in 4 KiB pages, as glibc's is.
. bench/peers.sh
peers "$kmm" libkmm-thp=KMM_THP=1

out=bench/results/fork.md
{
	echo "# fork() latency: libkmm against glibc and its peers ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
	echo
	echo "\`bench/fork.sh\` (REPS=$reps, FORKS=$forks): median over $reps interleaved runs of"
	echo "each run's median of $forks forks.  \`fork us\`: fork() in the parent until it returns"
	echo "(prepare handlers, the kernel's copy, parent handlers); \`+wait us\`: until waitpid()"
	echo "has the child, which exits at once.  Ratios are allocator / glibc: below 1 is faster."
	echo "Under libkmm the 100 size classes are 100 kmm_cache_create() caches."
	echo
} >"$out"
for heap in 1024 16; do
	declare -A res=()
	for rep in $(seq "$reps"); do
		for a in "${order[@]}"; do
			res[$a]+="$(run "$a" "$bin" "$heap" 100 "$forks")"$'\n'
		done
	done
	{
		echo "## $heap MiB heap, 100 classes"
		echo
		echo "| allocator | fork us | +wait us | peak RSS MiB | mappings | fork / glibc | +wait / glibc |"
		echo "|---|---|---|---|---|---|---|"
	} >>"$out"
	declare -A fk=() wt=() rss=() maps=()
	for a in "${order[@]}"; do
		fk[$a]=$(field fork_us <<<"${res[$a]}" | median)
		wt[$a]=$(field wait_us <<<"${res[$a]}" | median)
		rss[$a]=$(field rss_mb <<<"${res[$a]}" | median)
		maps[$a]=$(field maps <<<"${res[$a]}" | median)
	done
	for a in "${order[@]}"; do
		printf '| %s | %d | %d | %d | %d | %.2f | %.2f |\n' "$a" "${fk[$a]}" "${wt[$a]}" \
			"${rss[$a]}" "${maps[$a]}" "$(bc -l <<<"${fk[$a]} / ${fk[glibc]}")" \
			"$(bc -l <<<"${wt[$a]} / ${wt[glibc]}")" >>"$out"
	done
	echo >>"$out"
done
cat "$out"
