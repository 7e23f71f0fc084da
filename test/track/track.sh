#!/usr/bin/env bash
# track.sh PROGRAM - KMM_TRACK=1 alloc_traces and free_traces (src/track.c) at
# the exit of track_prog.c: the caller that keeps 5000 blocks heads
# alloc_traces with their count, in the kernel's line format; page runs and
# vmalloc areas have their own headings; the caller that freed 3000 of them
# heads free_traces.  Without KMM_TRACK the views say how to turn them on.
set -u
prog=${1:?usage: track.sh PROGRAM}
case "${LD_PRELOAD:-}" in *vgpreload*) echo "SKIP: under valgrind"; exit 77 ;; esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	if ! "${@:2}"; then
		echo "FAIL: $1"
		fail=1
	fi
}
# The sum of a section's lines from one function (a compiler may unroll its loop).
sum_of() { # sum_of HEADING FUNCTION
	awk -v h="$1" -v f="$2" '/:$/ { in_h = ($0 == h) } in_h && $2 ~ "^" f "\\+" { n += $1 }
		END { print n + 0 }' "$out"
}
# The first trace line (count, then a caller) after the line naming VIEW.
first_line() { grep -A1000 -m1 " $1:\$" "$out" | grep -m1 -E '^ *[0-9]+ '; }

KMM_TRACK=1 KMM_STATS=alloc_traces,free_traces "$prog" 2>"$out" >/dev/null
echo "== KMM_TRACK=1 KMM_STATS=alloc_traces,free_traces $prog: exit $?"
head -40 "$out"
top=$(first_line alloc_traces)
echo "alloc_traces top: $top"
check "make_blocks is not at the top of alloc_traces" \
	grep -Eq '^ *5000 make_blocks\+0x[0-9a-f]+/0x[0-9a-f]+ age=[0-9/]+ pid=[0-9-]+ cpus=[0-9,-]+$' <<<"$top"
check "no kmalloc-112 heading first" bash -c "grep -m1 'alloc_traces:' '$out' | grep -q '^kmalloc-112 alloc_traces:'"
check "no page runs heading" grep -q '^page runs alloc_traces:' "$out"
check "no vmalloc areas heading" grep -q '^vmalloc areas alloc_traces:' "$out"
check "make_big's 2 page runs not listed" test "$(sum_of 'page runs alloc_traces:' make_big)" -eq 2
check "make_big's area not listed" \
	bash -c "grep -A3 '^vmalloc areas alloc_traces:' '$out' | grep -Eq '^ +1 make_big\+'"
check "the kmm_cache's 7 objects not listed under its name" \
	test "$(sum_of 'track_objects alloc_traces:' make_objects)" -eq 7
top=$(first_line free_traces)
echo "free_traces top: $top"
# 3000 freed, less the few addresses main's later mallocs took again.
check "free_blocks is not at the top of free_traces" grep -Eq '^ *(29[0-9][0-9]|3000) free_blocks\+' <<<"$top"

KMM_STATS=alloc_traces "$prog" 2>"$out" >/dev/null
check "without KMM_TRACK: no hint" grep -q 'run with KMM_TRACK=1' "$out"
check "without KMM_TRACK: trace lines" bash -c "! grep -Eq '^ *[0-9]+ [a-z_]+\+0x' '$out'"
exit $fail
