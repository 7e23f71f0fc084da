#!/usr/bin/env bash
# The hit paths side by side: ns per malloc+free pair for libkmm and its peers
# (glibc, jemalloc, mimalloc, tcmalloc from /usr/lib/x86_64-linux-gnu), in one
# run, interleaved (allocator by allocator within each repetition), median
# of REPS; then the hit paths' instruction counts (test/abi/hitpath.sh).
#   pair 32:       bench/malloc_pair.c, one block of 32 bytes (the counted path)
#   mixed 16-2048: bench/malloc_mixed.c, 64 blocks in flight, 16 B to 2 KiB
# Usage: bench/fastpath.sh [LIBKMM.so [BEFORE.so]]   (default build-rel/libkmm.so;
#        BEFORE.so, another libkmm build, is added as the column "before")
# Build: meson setup build-rel -Dbuildtype=release -Ddebug_level=0 -Dtests=false -Dbench=false
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/peers.sh
kmm=$(readlink -f "${1:-build-rel/libkmm.so}")
reps=${REPS:-7}
peers "$kmm"
if [ -n "${2:-}" ]; then
	pre[before]=$(readlink -f "$2")
	order=(libkmm before "${order[@]:1}")
fi
mkdir -p build-bench
gcc -O2 -fno-builtin -o build-bench/malloc_pair bench/malloc_pair.c
gcc -O2 -fno-builtin -o build-bench/malloc_mixed bench/malloc_mixed.c

bench() { # NAME ARGS...: one line of the table
	local name=$1 a rep
	shift
	declare -A runs=()
	for rep in $(seq "$reps"); do
		for a in "${order[@]}"; do
			runs[$a]+="$(run "$a" "$@") "
		done
	done
	printf '%-14s' "$name"
	declare -A med=()
	for a in "${order[@]}"; do
		med[$a]=$(tr ' ' '\n' <<<"${runs[$a]}" | grep . | median)
		printf ' %9s' "${med[$a]}"
	done
	for a in "${order[@]:1}"; do
		printf ' %s=%.2f' "$a" "$(bc -l <<<"${med[$a]} / ${med[libkmm]}")"
	done
	echo
}

printf '%-14s' "ns per pair"
for a in "${order[@]}"; do printf ' %9s' "$a"; done
echo "   (ratio = other / libkmm)"
bench "pair 32" build-bench/malloc_pair 32 5000000
bench "mixed 16-2048" build-bench/malloc_mixed 5000000
echo
test/abi/hitpath.sh "$kmm" 2 none || true
