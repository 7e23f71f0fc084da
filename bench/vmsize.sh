#!/usr/bin/env bash
# Address space (VmSize) and resident memory (VmRSS) of real programs on glibc
# and under LD_PRELOAD=libkmm.so, read from the program's own /proc/PID/status
# just before it exits:
#   python-pass: python3 -c 'pass', plus reading its status
#   python-big:  python3 holding 500,000 bytearrays of 1000 bytes (~520 MiB)
#   sqlite:      the scripts/demo workload (ROWS rows, in memory), then
#                `.system cat /proc/$PPID/status` (VmPeak, VmHWM: the peaks)
# Prints a markdown table; ratios are libkmm / glibc.
# Usage: bench/vmsize.sh [LIBKMM.so] [ROWS]   (default build-release/libkmm.so, 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
kmm=$(readlink -f "${1:-build-release/libkmm.so}")
rows=${2:-100000}
[[ -f $kmm ]] || { echo "no $kmm: build libkmm first (meson setup build-release ...)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/workloads/sqlite_gen.py "$rows" >"$work/workload.sql"
# sqlite3 runs .system through sh, whose parent is sqlite3.
echo '.system cat /proc/$PPID/status' >>"$work/workload.sql"
status='import sys; sys.stdout.write(open("/proc/self/status").read())'

measure() { # measure NAME ENV...: each program's status (and libkmm's meminfo) into NAME.*
	local name=$1
	shift
	env "$@" python3 -c "$status" >"$work/$name.python-pass" 2>&1
	env "$@" python3 -c "x = [bytearray(1000) for _ in range(500000)]; $status" \
		>"$work/$name.python-big" 2>&1
	env "$@" sqlite3 :memory: <"$work/workload.sql" >"$work/$name.sqlite" 2>&1
}

measure glibc
measure libkmm LD_PRELOAD="$kmm"

kb() { awk -v f="$1:" '$1 == f { print $2; exit }' "$2"; } # kb FIELD FILE: KiB
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

echo "| program | field | glibc MiB | libkmm MiB | libkmm / glibc |"
echo "|---|---|---|---|---|"
for prog in python-pass python-big sqlite; do
	fields="VmSize VmRSS"
	[[ $prog == sqlite ]] && fields="VmPeak VmSize VmHWM VmRSS"
	for f in $fields; do
		g=$(kb "$f" "$work/glibc.$prog")
		k=$(kb "$f" "$work/libkmm.$prog")
		printf '| %s | %s | %s | %s | %s |\n' "$prog" "$f" "$(mib "$g")" "$(mib "$k")" \
			"$(ratio "$k" "$g")"
	done
done
