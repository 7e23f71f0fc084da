#!/bin/bash
# startup_rss.sh LIBKMM PROG [SANITIZE] - what libkmm adds to a small program's anonymous
# memory: PROG (startup_prog.c) allocates and frees a few blocks and prints
# its RssAnon; run on glibc's malloc and under LD_PRELOAD=LIBKMM, best of 3
# each, the difference must stay within BOUND_KIB.
#
# What libkmm's start-up makes resident (bench/results/memory.md §8): the
# first section's descriptors (16 KiB), the start-up caches' heads (20 KiB),
# the stacks and slabs of the classes the program uses, the pcp lists it
# uses, and the pages of libkmm's data and tables it writes.  The per-CPU
# stacks of every cache and the pcp lists of every CPU, written at start-up
# until 2026-11-30, made it about 340 KiB on 2 CPUs (more with more CPUs);
# 132-152 KiB since the bss was packed (2026-12-01).
set -u
lib=$1 prog=$2 sanitize=${3:-none}
BOUND_KIB=${BOUND_KIB:-200}

# A sanitizer's instrumentation adds data that the loader writes (UBSan's
# type descriptors: about 100 KiB in libkmm.so), which is not libkmm's.
if [ "$sanitize" != none ]; then
	echo "SKIP: built with -Db_sanitize=$sanitize"
	exit 77
fi

best() {
	local min=
	for _ in 1 2 3; do
		local v
		v=$("$@") || { echo "FAIL: $* exited $?" >&2; exit 1; }
		if [ -z "$min" ] || [ "$v" -lt "$min" ]; then min=$v; fi
	done
	echo "$min"
}

glibc=$(best env -u LD_PRELOAD "$prog")
kmm=$(best env LD_PRELOAD="$lib" "$prog")
extra=$((kmm - glibc))
echo "RssAnon: glibc $glibc KiB, libkmm $kmm KiB: $extra KiB more (bound $BOUND_KIB)"
if [ "$extra" -gt "$BOUND_KIB" ]; then
	echo "FAIL: libkmm adds $extra KiB of anonymous memory to a small program" >&2
	exit 1
fi
echo PASS
