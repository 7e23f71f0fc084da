#!/usr/bin/env bash
# Large blocks: realloc growth of one buffer from 1 MiB to 1 GiB (by doubling
# and by 1 MiB steps) and a loop that allocates, touches and frees 1-64 MiB
# blocks, under libkmm, glibc, jemalloc, mimalloc and tcmalloc in the same run,
# interleaved, median of REPS (default 5).  Writes bench/results/vmalloc.md.
# Usage: bench/vmalloc.sh [LIBKMM.so]   (default build-release/libkmm.so)
set -euo pipefail
cd "$(dirname "$0")/.."
kmm=$(readlink -f "${1:-build-release/libkmm.so}")
reps=${REPS:-5}
bin=build-bench/vmalloc_bench
mkdir -p build-bench bench/results
gcc -O2 -fno-builtin -o "$bin" bench/vmalloc_bench.c

# libkmm-thp: the same library with KMM_THP=1 (MADV_HUGEPAGE), to show what
# transparent huge pages change on this machine (they are faster once the
# kernel has free huge pages; with defrag=madvise the first touches may
# compact memory first, and on a virtual machine whose free memory goes back
# to the host they are slower to fault: bench/results/memory.md §24).
. bench/peers.sh
peers "$kmm" libkmm-thp=KMM_THP=1

out=bench/results/vmalloc.md
{
	echo "# Large blocks: libkmm against its peers ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
	echo
	echo "\`bench/vmalloc.sh\`, median of $reps interleaved runs. Ratios are peer / libkmm:"
	echo "above 1 means libkmm is faster (time) or smaller (RSS)."
	echo
} >"$out"
for mode in double step loop; do
	declare -A res=()
	for rep in $(seq "$reps"); do
		for a in "${order[@]}"; do
			res[$a]+="$(run "$a" "$bin" "$mode" 200)"$'\n'
		done
	done
	{
		echo "## $mode"
		echo
		echo "| allocator | total ms | realloc ms | peak RSS MiB | AnonHugePages MiB | total / kmm | realloc / kmm | RSS / kmm |"
		echo "|---|---|---|---|---|---|---|---|"
	} >>"$out"
	declare -A tot=() rea=() rss=() hug=()
	for a in "${order[@]}"; do
		tot[$a]=$(field total_us <<<"${res[$a]}" | median)
		rea[$a]=$(field realloc_us <<<"${res[$a]}" | median)
		rss[$a]=$(field peak_rss_kb <<<"${res[$a]}" | median)
		hug[$a]=$(field anonhuge_kb <<<"${res[$a]}" | median)
	done
	for a in "${order[@]}"; do
		printf '| %s | %.1f | %.2f | %.0f | %.0f | %.2f | %s | %.2f |\n' "$a" \
			"$(bc -l <<<"${tot[$a]} / 1000")" "$(bc -l <<<"${rea[$a]} / 1000")" \
			"$(bc -l <<<"${rss[$a]} / 1024")" "$(bc -l <<<"${hug[$a]} / 1024")" \
			"$(bc -l <<<"${tot[$a]} / ${tot[libkmm]}")" \
			"$([ "${rea[libkmm]}" -gt 0 ] && printf '%.1f' "$(bc -l <<<"${rea[$a]} / ${rea[libkmm]}")" || echo -)" \
			"$(bc -l <<<"${rss[$a]} / ${rss[libkmm]}")" >>"$out"
	done
	echo >>"$out"
done
cat "$out"
