#!/usr/bin/env bash
# The cost of libkmm's checks on the malloc+free pair benchmark
# (bench/malloc_pair.c): a reference libkmm.so (say, before a change), the
# one under test, and the one under test with KMM_SECURE=1, interleaved in the
# same run, median of 5, for 16, 64, 256, 1024 and 8192 bytes.
# Usage: bench/secure_pairs.sh REF.so NEW.so
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$(readlink -f "$1")
new=$(readlink -f "$2")
bin=build-bench/malloc_pair
mkdir -p build-bench
gcc -O2 -fno-builtin -o "$bin" bench/malloc_pair.c
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-6s %10s %10s %10s %9s %10s\n' size "ref ns" "new ns" "secure ns" new/ref secure/new
for size in 16 64 256 1024 8192; do
	r='' n='' s=''
	for rep in 1 2 3 4 5; do
		r+="$(LD_PRELOAD=$ref "$bin" "$size" 2000000) "
		n+="$(LD_PRELOAD=$new "$bin" "$size" 2000000) "
		s+="$(KMM_SECURE=1 LD_PRELOAD=$new "$bin" "$size" 2000000) "
	done
	r=$(tr ' ' '\n' <<<"$r" | grep . | median)
	n=$(tr ' ' '\n' <<<"$n" | grep . | median)
	s=$(tr ' ' '\n' <<<"$s" | grep . | median)
	printf '%-6s %10s %10s %10s %9.2f %10.2f\n' "$size" "$r" "$n" "$s" \
		"$(bc -l <<<"$n / $r")" "$(bc -l <<<"$s / $n")"
done
