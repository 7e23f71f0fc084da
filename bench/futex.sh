#!/usr/bin/env bash
# bench/futex.sh: how often a workload's threads sleep on a futex and yield
# under each allocator (perf's syscall tracepoints), with its times, so that
# an allocator's sleeping shows apart from the workload's own waiting.
#
# usage: bench/futex.sh WORKLOAD REPS ALLOC=LIB... -- ARGS
#   e.g. bench/futex.sh prodcons64 8 glibc= mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 \
#        libkmm=build-rel/libkmm.so -- 2 2000000 16 1024
# Prints per allocator the medians of wall, user and system time and of the
# futex and sched_yield calls; then the same over the runs whose yields are
# within 1.5x the fewest of all runs ("quiet": the threads were not starved
# by other load on the machine, which makes every allocator's run spin in
# sched_yield).  Needs perf and run from the repository root after bench/run
# has built the workloads.
set -euo pipefail

bin=$(cd "$(dirname "$0")/.." && pwd)/build-bench
work=$1 reps=$2
shift 2
allocs=()
while [[ $# -gt 0 && $1 != -- ]]; do
	allocs+=("$1")
	shift
done
[[ ${1:-} == -- ]] && shift
out=$(mktemp)
trap 'rm -f "$out" "$out.perf"' EXIT
for ((r = 0; r < reps; r++)); do
	for a in "${allocs[@]}"; do
		name=${a%%=*} lib=${a#*=}
		t=$( { /usr/bin/time -f "%e %U %S" perf stat -x, -o "$out.perf" \
			-e syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield \
			env LD_PRELOAD="$lib" "$bin/$work" "$@" >/dev/null; } 2>&1 | tail -1)
		fx=$(awk -F, '/futex/ { print $1 }' "$out.perf")
		y=$(awk -F, '/sched_yield/ { print $1 }' "$out.perf")
		echo "$name $t $fx $y" >>"$out"
	done
done
python3 - "$out" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
least = min(int(r[5]) for r in rows)
def show(title, keep):
    print(f"{title}\n\n| allocator | runs | wall s | user s | sys s | futex calls | sched_yield calls |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in names:
        rs = [r for r in rows if r[0] == n and keep(r)]
        if not rs:
            print(f"| {n} | 0 | | | | | |")
            continue
        m = lambda i: statistics.median(float(r[i]) for r in rs)
        print(f"| {n} | {len(rs)} | {m(1):.2f} | {m(2):.2f} | {m(3):.2f} | {m(4):.0f} | {m(5):.0f} |")
    print()
show("All runs (medians)", lambda r: True)
show(f"Quiet runs (sched_yield calls <= 1.5 x {least})", lambda r: int(r[5]) <= 1.5 * least)
EOF
