#!/usr/bin/env bash
# bench/peakview.sh: libkmm's views (meminfo, pagemap, slabinfo, zoneinfo,
# vmstat) and smaps_rollup at a program's peak RSS, as bench/results/memory.md
# reads them.  Builds the shim bench/peakview.c, runs COMMAND with it and
# libkmm preloaded, and prints the views taken at the highest RSS it sampled
# (every 32nd malloc, calloc or free; PEAKVIEW_EVERY=N to change;
# PEAKVIEW_VIEWS=0: smaps only, without mapping the views' code).
#
# usage: bench/peakview.sh [-l LIBKMM.so] [-o DIR] [-s] COMMAND [ARGS...]
#   -l: the library (default build-release/libkmm.so); -l none: glibc's
#       malloc, for the smaps of the same program to set beside libkmm's
#   -s: all of /proc/self/smaps instead of smaps_rollup
#   -o: keep the views there (DIR/peak, and DIR/trace: call number and RSS
#       at each new maximum); by default a temporary directory
#   e.g. bench/peakview.sh python3 -c pass | less
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$root/build-release/libkmm.so
out=
smaps=0
while getopts l:o:s opt; do
	case $opt in
	l) [[ $OPTARG == none ]] && lib= || lib=$(readlink -f "$OPTARG") ;;
	o) out=$OPTARG ;;
	s) smaps=1 ;;
	*) sed -n '2,15p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || { sed -n '2,15p' "$0" >&2; exit 2; }
[[ -z $lib || -f $lib ]] || { echo "peakview: no $lib (build it: meson setup build-release -Dbuildtype=release && ninja -C build-release)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -shared -fPIC -Wall -Wextra -o "$tmp/peakview.so" "$root/bench/peakview.c" -ldl
dir=${out:-$tmp}
mkdir -p "$dir"
rm -f "$dir/peak" "$dir/trace"
status=0
PEAKVIEW_DIR=$dir PEAKVIEW_SMAPS=$smaps LD_PRELOAD="$tmp/peakview.so${lib:+:$lib}" "$@" >/dev/null ||
	status=$?
if [[ ! -s $dir/peak ]]; then
	echo "peakview: no sample taken (the program made fewer than PEAKVIEW_EVERY calls?)" >&2
	exit 1
fi
cat "$dir/peak"
exit "$status"
