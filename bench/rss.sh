#!/usr/bin/env bash
# Peak and final RSS of a program that grows to 2 GiB and shrinks to 100 MiB,
# twice, then idles 2 s with a trickle of small allocations
# (bench/rss_bench.c), under libkmm, glibc, jemalloc, mimalloc and tcmalloc
# in the same run, interleaved, median of REPS (default 3).
# Writes bench/results/rss.md.
# Usage: bench/rss.sh [LIBKMM.so]   (default build-release/libkmm.so)
set -euo pipefail
cd "$(dirname "$0")/.."
kmm=$(readlink -f "${1:-build-release/libkmm.so}")
reps=${REPS:-3}
bin=build-bench/rss_bench
mkdir -p build-bench bench/results
gcc -O2 -fno-builtin -o "$bin" bench/rss_bench.c

# libkmm-bg: the same library with its background reclaim thread (KMM_BACKGROUND=1);
# libkmm-keep: with no release at all (KMM_DECAY_MS=0), the cost of releasing.
. bench/peers.sh
peers "$kmm" libkmm-bg=KMM_BACKGROUND=1 libkmm-keep=KMM_DECAY_MS=0

declare -A res=()
for rep in $(seq "$reps"); do
	for a in "${order[@]}"; do
		res[$a]+="$(run "$a" "$bin")"$'\n'
	done
done
out=bench/results/rss.md
{
	echo "# Memory given back: libkmm against its peers ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
	echo
	echo "\`bench/rss.sh\`: grow to 2 GiB of mixed blocks and shrink to 100 MiB, twice, then idle"
	echo "2 s with a trickle of small allocations. Median of $reps interleaved runs; ratios are"
	echo "peer / libkmm (above 1: libkmm holds less, or works faster)."
	echo
	echo "| allocator | peak RSS MiB | after shrink MiB | after idle MiB | work ms | after idle / kmm | work / kmm |"
	echo "|---|---|---|---|---|---|---|"
} >"$out"
declare -A pk=() sh=() fi=() wk=()
for a in "${order[@]}"; do
	pk[$a]=$(field peak_rss_kb <<<"${res[$a]}" | median)
	sh[$a]=$(field shrunk_rss_kb <<<"${res[$a]}" | median)
	fi[$a]=$(field final_rss_kb <<<"${res[$a]}" | median)
	wk[$a]=$(field work_ms <<<"${res[$a]}" | median)
done
for a in "${order[@]}"; do
	printf '| %s | %.0f | %.0f | %.0f | %s | %.2f | %.2f |\n' "$a" \
		"$(bc -l <<<"${pk[$a]} / 1024")" "$(bc -l <<<"${sh[$a]} / 1024")" \
		"$(bc -l <<<"${fi[$a]} / 1024")" "${wk[$a]}" \
		"$(bc -l <<<"${fi[$a]} / ${fi[libkmm]}")" "$(bc -l <<<"${wk[$a]} / ${wk[libkmm]}")" >>"$out"
done
cat "$out"
