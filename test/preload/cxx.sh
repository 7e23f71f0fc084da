#!/bin/bash
# A C++17 program (containers.cc, built here with g++ -O2 -pthread, without
# preload): vector, string, map, unordered_map, list, deque, set, shared_ptr,
# unique_ptr, over-aligned types (alignas 64/256/4096 through new, new[] and
# make_unique), exceptions (nested, across threads), 4 threads building
# containers and a producer/consumer pair freeing in another thread.  Its
# checksums must match glibc's and no over-aligned object may be misaligned.
# Usage: test/preload/cxx.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need g++ g++
pl_need libc6-dev

mkdir "$TMP/bin"
if ! g++ -std=c++17 -O2 -pthread -Wall -Wextra -o "$TMP/bin/containers" "$PL_DIR/containers.cc" \
	>"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	pl_fail "containers.cc does not build"
fi

workload() {
	"$TMP/bin/containers" 1
}

pl_compare workload
