#!/usr/bin/env bash
# bench/ab.sh: two libkmm builds (A and B) and the peers on bench/run's
# workloads, interleaved in one run, so that a loaded machine's drift falls on
# both alike.  Prints per workload and allocator the medians of wall time,
# CPU time (user + sys), system time and peak RSS, and the ratios of B to A.
#
# usage: bench/ab.sh A.so B.so [REPS=5] [WORKLOADS=prodcons64,larson-sized,rings,mstress,shortthreads,simple]
#                    [PEERS=glibc,mimalloc,tcmalloc]
# The workloads' quick arguments are bench/run's; run bench/run once first to
# build them into build-bench/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=$(dirname "$here")/build-bench
a=$(realpath "$1")
b=$(realpath "$2")
reps=${3:-5}
IFS=, read -ra works <<<"${4:-prodcons64,larson-sized,rings,mstress,shortthreads,simple}"
IFS=, read -ra peers <<<"${5:-glibc,mimalloc,tcmalloc}"
libdir=/usr/lib/$(gcc -print-multiarch)
declare -A lib=([glibc]="" [mimalloc]=$libdir/libmimalloc.so.2 [jemalloc]=$libdir/libjemalloc.so.2
	[tcmalloc]=$libdir/libtcmalloc_minimal.so.4 [A]=$a [B]=$b)
cthreads=$(nproc)
((cthreads < 2)) && cthreads=2

args() {
	case $1 in
	larson-sized) echo "larson $cthreads 5000 8 200000 1000 2" ;;
	larson) echo "larson 4 1000 50 50000 1024" ;;
	prodcons64) echo "prodcons64 2 2000000 16 1024" ;;
	rings) echo "rings 4 400000 1024 2000" ;;
	mstress) echo "mstress 20 4 50000 2000 1000" ;;
	shortthreads) echo "shortthreads 1000 4 300" ;;
	xmalloc) echo "xmalloc 2 2 40000 100 512" ;;
	simple) echo "simple 400" ;;
	*) echo "bench/ab.sh: unknown workload $1" >&2; exit 2 ;;
	esac
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 0; r < reps; r++)); do
	for w in "${works[@]}"; do
		read -ra cmd <<<"$(args "$w")"
		for al in "${peers[@]}" A B; do
			t=$( { /usr/bin/time -f "%e %U %S %M" env LD_PRELOAD="${lib[$al]}" \
				"$bin/${cmd[0]}" "${cmd[@]:1}" >/dev/null; } 2>&1 | tail -1)
			echo "$w $al $t" >>"$out"
		done
	done
done
python3 - "$out" "${peers[@]}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
allocs = sys.argv[2:] + ["A", "B"]
works = list(dict.fromkeys(r[0] for r in rows))
med = {}
for w in works:
    for a in allocs:
        rs = [r for r in rows if r[0] == w and r[1] == a]
        med[w, a] = (statistics.median(float(r[2]) for r in rs),
                     statistics.median(float(r[3]) + float(r[4]) for r in rs),
                     statistics.median(float(r[4]) for r in rs),
                     statistics.median(int(r[5]) for r in rs) / 1024)
print("| workload | allocator | wall s | cpu s | sys s | peak RSS MiB |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for w in works:
    for a in allocs:
        m = med[w, a]
        print(f"| {w} | {a} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.1f} |")
print()
print("| workload | cpu B/A | sys B/A | RSS B/A | cpu B / best peer | sys B - glibc s | RSS B / glibc |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for w in works:
    A, B = med[w, "A"], med[w, "B"]
    peer = [med[w, p][1] for p in allocs[:-2] if p != "glibc"] or [med[w, allocs[0]][1]]
    g = med.get((w, "glibc"))
    r = lambda x, y: f"{x / y:.2f}" if y else "-"
    print(f"| {w} | {r(B[1], A[1])} | {r(B[2], A[2])} | {r(B[3], A[3])} | {r(B[1], min(peer))} | "
          f"{(B[2] - g[2]) if g else 0:+.2f} | {r(B[3], g[3]) if g else '-'} |")
EOF
