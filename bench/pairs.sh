#!/usr/bin/env bash
# bench/pairs.sh: interleaved A/B runs of one command under two allocators,
# for a loaded machine: each pair runs A then B back to back, so drift falls
# on both alike.  Prints each pair's CPU time (user + sys) and wall time and
# the median of the ratios B / A (below 1: B is faster).
#
# usage: bench/pairs.sh A.so B.so PAIRS COMMAND [ARGS...]
#   A.so, B.so: libraries to LD_PRELOAD ("" or "glibc" for none)
#   e.g. bench/pairs.sh build-rel/libkmm.so \
#        /usr/lib/x86_64-linux-gnu/libmimalloc.so.2 7 build-bench/simple 400
set -euo pipefail

[[ $# -ge 4 ]] || { sed -n '2,10p' "$0" >&2; exit 2; }
a=$1 b=$2 n=$3
shift 3
[[ $a == glibc ]] && a=
[[ $b == glibc ]] && b=

run() {
	{ /usr/bin/time -f '%e %U %S' env ${1:+LD_PRELOAD=$1} "${@:2}" >/dev/null; } 2>&1 | tail -n 1
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 0; i < n; i++)); do
	echo "$(run "$a" "$@") $(run "$b" "$@")" >>"$out"
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
cpu = [((r[4] + r[5]) / max(r[1] + r[2], 1e-3), r[1] + r[2], r[4] + r[5]) for r in rows]
wall = [r[3] / max(r[0], 1e-3) for r in rows]
for (ratio, ca, cb), w in zip(cpu, wall):
    print(f"cpu A {ca:.2f} s  B {cb:.2f} s  B/A {ratio:.2f}   wall B/A {w:.2f}")
print(f"median B/A: cpu {statistics.median(r[0] for r in cpu):.2f}, "
      f"wall {statistics.median(wall):.2f} ({len(rows)} pairs)")
PY
