#!/usr/bin/env bash
# The google-benchmark micro set under glibc, jemalloc, mimalloc, tcmalloc and
# libkmm, interleaved, in one session; prints ns per item (or per iteration)
# for each and the ratio to libkmm (above 1: libkmm is faster).
# Usage: bench/micro.sh [BUILD_DIR]   (a build with -Dbench=true; default build-release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
scripts/install-deps bench
if ! grep -q "bench=true\|'bench': true" "$build/meson-info/intro-buildoptions.json" 2>/dev/null; then
	meson configure "$build" -Dbench=true >/dev/null
fi
ninja -C "$build" bench/malloc_bench bench/kmm_api_bench >/dev/null
lib=/usr/lib/x86_64-linux-gnu
declare -A pre=([glibc]="" [jemalloc]="$lib/libjemalloc.so.2" [mimalloc]="$lib/libmimalloc.so.2"
	[tcmalloc]="$lib/libtcmalloc_minimal.so.4" [libkmm]="$(readlink -f "$build/libkmm.so")")
order=(libkmm glibc jemalloc mimalloc tcmalloc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for a in "${order[@]}"; do
	env ${pre[$a]:+LD_PRELOAD=${pre[$a]}} "$build/bench/malloc_bench" --benchmark_min_time=0.2 \
		--benchmark_format=json >"$out/$a.json" 2>/dev/null
done
python3 - "$out" "${order[@]}" <<'PY'
import json, sys
d, names = sys.argv[1], sys.argv[2:]
res = {}
for n in names:
    for b in json.load(open(f"{d}/{n}.json"))["benchmarks"]:
        t = 1e9 / b["items_per_second"] if "items_per_second" in b else b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
        res.setdefault(b["name"], {})[n] = t
print(f"{'benchmark':48s}" + "".join(f"{n:>10s}" for n in names) + "   (ns; ratio = other/libkmm)")
for bench, r in res.items():
    k = r.get("libkmm")
    cells = "".join(f"{r[n]:10.1f}" if n in r else f"{'-':>10s}" for n in names)
    ratios = " ".join(f"{n}={r[n]/k:.2f}" for n in names[1:] if n in r and k)
    print(f"{bench:48s}{cells}   {ratios}")
PY
echo
"$build/bench/kmm_api_bench" --benchmark_min_time=0.2 2>/dev/null | grep -E '^BM_|^Bench|^---'
"$build/bench/page_bench" --benchmark_min_time=0.2 2>/dev/null | grep -E '^(pcp|nopcp|buddy)_pair'
