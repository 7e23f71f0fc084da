#!/usr/bin/env bash
# malloc+free pair cost for 16, 64, 256, 1024 and 8192 bytes: libkmm, glibc and
# jemalloc in the same run, interleaved, median of 5; then callgrind's exact
# instruction count per pair (two runs with different N, difference / N).
# Usage: bench/malloc_pairs.sh [LIBKMM.so]   (default build-release/libkmm.so)
# Note: valgrind cannot run rseq critical sections (glibc's registration fails
# under it), so callgrind counts libkmm's locked fallback path, not its rseq path.
set -euo pipefail
cd "$(dirname "$0")/.."
kmm=$(readlink -f "${1:-build-release/libkmm.so}")
je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
bin=build-bench/malloc_pair
mkdir -p build-bench
gcc -O2 -fno-builtin -o "$bin" bench/malloc_pair.c

declare -A pre=([glibc]="" [jemalloc]="$je" [libkmm]="$kmm")
order=(libkmm glibc jemalloc)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-6s' size; for a in "${order[@]}"; do printf ' %12s' "$a ns"; done
printf ' %12s %12s\n' "glibc/kmm" "jemalloc/kmm"
for size in 16 64 256 1024 8192; do
	declare -A runs=()
	for rep in 1 2 3 4 5; do
		for a in "${order[@]}"; do
			runs[$a]+="$(env ${pre[$a]:+LD_PRELOAD=${pre[$a]}} "$bin" "$size" 5000000) "
		done
	done
	printf '%-6s' "$size"
	declare -A med=()
	for a in "${order[@]}"; do
		med[$a]=$(tr ' ' '\n' <<<"${runs[$a]}" | grep . | median)
		printf ' %12s' "${med[$a]}"
	done
	printf ' %12.2f %12.2f\n' "$(bc -l <<<"${med[glibc]} / ${med[libkmm]}")" \
		"$(bc -l <<<"${med[jemalloc]} / ${med[libkmm]}")"
done

echo
echo "instructions per malloc+free pair (callgrind; libkmm runs its locked fallback here)"
ir() {
	local out
	out=$(mktemp)
	env ${2:+LD_PRELOAD=$2} valgrind --tool=callgrind --callgrind-out-file="$out" \
		--soname-synonyms=somalloc=nothing-to-replace "$bin" "$1" "$3" >/dev/null 2>&1
	callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
	rm -f "$out"
}
printf '%-6s' size; for a in "${order[@]}"; do printf ' %12s' "$a"; done; echo
for size in 16 64 256 1024 8192; do
	printf '%-6s' "$size"
	for a in "${order[@]}"; do
		x=$(ir "$size" "${pre[$a]}" 100000)
		y=$(ir "$size" "${pre[$a]}" 200000)
		printf ' %12d' $(((y - x) / 100000))
	done
	echo
done
