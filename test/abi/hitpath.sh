#!/bin/sh
# The hit paths' length is a tested artifact (as tcmalloc's golden counts):
# the instructions of malloc(32) and of free() of a slab object, from the
# exported symbol to the first ret, in the built libkmm.so, must not exceed
# the documented counts (bench/results/fastpath.md, which also has the
# command).  Both hit paths are laid out first in their function, the misses
# jumping forward, so "to the first ret" is exactly the hit path.
# Usage: hitpath.sh LIBKMM.so OPTIMIZATION SANITIZE
# Skipped (77) where the count means nothing: not -O2 or -O3, or sanitized.
set -eu
lib=$1 opt=$2 sanitize=$3
MALLOC_MAX=20
FREE_MAX=38

case $opt in 2 | 3) ;; *) echo "skip: -O$opt build, the counts are for -O2 and -O3"; exit 77 ;; esac
[ "$sanitize" = none ] || { echo "skip: sanitizer instrumentation ($sanitize)"; exit 77; }
command -v objdump >/dev/null || { echo "skip: no objdump"; exit 77; }

# count SYMBOL: print the hit path, one instruction a line.
hitpath() {
	addr=$(nm -D --defined-only "$lib" | awk -v s="$1" '$3 == s { print $1; exit }')
	[ -n "$addr" ] || { echo "no symbol $1 in $lib" >&2; exit 1; }
	objdump -d --no-show-raw-insn --start-address="0x$addr" "$lib" |
		awk '/^ *[0-9a-f]+:\t/ { print; if ($2 ~ /^ret/) exit }'
}

status=0
for f in malloc:$MALLOC_MAX free:$FREE_MAX; do
	sym=${f%%:*} max=${f#*:}
	path=$(hitpath "$sym")
	n=$(printf '%s\n' "$path" | wc -l)
	echo "$sym: $n instructions to the first ret (at most $max)"
	# What is counted must be the rseq hit path, not a stub or a call.
	if ! printf '%s\n' "$path" | grep -q '%fs:0x8' || ! printf '%s\n' "$path" | tail -1 | grep -q ret ||
		printf '%s\n' "$path" | grep -qE '\<(call|jmp)\>'; then
		echo "$sym: the counted range is not the rseq hit path:"; printf '%s\n' "$path"
		status=1
	elif [ "$n" -gt "$max" ]; then
		echo "$sym: the hit path grew past $max instructions:"; printf '%s\n' "$path"
		status=1
	fi
done
exit $status
