#!/usr/bin/env bash
# memcheck.sh PROGRAM - memcheck sees the blocks of a program linked with
# libkmm (the client requests of src/lib/memcheck.h).  PROGRAM is
# memcheck_prog.c.  valgrind runs with --soname-synonyms=somalloc=NOTHING, so
# it replaces no malloc but glibc's and the program's calls reach libkmm.
#   bugs:  the 100-byte leak is "definitely lost", with leak_100 in its stack;
#          the read of a freed block is an "Invalid read" in read_freed.
#   clean: no error at all (libkmm's own accesses to its memory are clean),
#          nothing definitely lost.
# Exit 77 (skip) without valgrind.
set -u
prog=${1:?usage: memcheck.sh PROGRAM}
command -v valgrind >/dev/null || { echo "SKIP: no valgrind"; exit 77; }
case "${LD_PRELOAD:-}" in *vgpreload*) echo "SKIP: already under valgrind"; exit 77 ;; esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	if ! "${@:2}"; then
		echo "FAIL: $1"
		fail=1
	fi
}

run() {
	valgrind --soname-synonyms=somalloc=NOTHING --leak-check=full --num-callers=30 \
		"$prog" "$1" >"$out" 2>&1
	echo "== valgrind $prog $1: exit $?"
	grep -E 'ERROR SUMMARY|definitely lost|Invalid|uninitialised|memcheck_prog' "$out"
}

run bugs
if grep -q 'unhandled dwarf2' "$out"; then
	# valgrind 3.19 cannot read clang 14's DWARF 5 (built with -gdwarf-4 it can).
	echo "SKIP: valgrind cannot read this build's debug information"
	exit 77
fi
check "the 100-byte leak is not definitely lost" \
	grep -Eq '100 bytes in 1 blocks are definitely lost' "$out"
after() { grep -A"$1" -e "$2" "$out" | grep -q -e "$3"; } # after LINES PATTERN WANTED
check "the lost block's stack does not name leak_100" \
	after 8 '100 bytes in 1 blocks are definitely lost' leak_100
check "the read of a freed block is not an invalid read" grep -q 'Invalid read of size 1' "$out"
check "the invalid read's stack does not name read_freed" \
	after 3 'Invalid read of size 1' read_freed
# memcheck names the oldest freed block at that address: libkmm reuses memory
# at once, so on another CPU it can be a larger block freed earlier, whose
# size memcheck writes with thousands separators (300,000).
check "the address is not described as inside a freed block" \
	after 3 'Invalid read of size 1' "bytes inside a block of size [0-9,]* free'd"
check "bugs: 2 errors expected" grep -q 'ERROR SUMMARY: 2 errors from 2 contexts' "$out"

run clean
check "clean: errors reported" grep -q 'ERROR SUMMARY: 0 errors' "$out"
check "clean: something is definitely lost" \
	bash -c "! grep -q 'definitely lost: [1-9]' '$out'"
if [[ $fail -ne 0 ]]; then
	echo "---- last valgrind output"
	cat "$out"
fi
exit $fail
