#!/usr/bin/env bash
# Exact instructions per page alloc+free pair (callgrind), orders 0 and 9.
# Usage: bench/page_callgrind.sh [BUILD_DIR]   (default: build)
# KMM_PCP=0: this counts the locked buddy path (the per-CPU cache is off).
set -euo pipefail
build=${1:-build}
bin=$build/bench/page_pairs
total() {
	local out
	out=$(mktemp)
	KMM_PCP=0 valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
	callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
	rm -f "$out"
}
for order in 0 9; do
	a=$(total $order 10000)
	b=$(total $order 20000)
	echo "order $order: $(( (b - a) / 10000 )) instructions per alloc+free pair (callgrind)"
done
