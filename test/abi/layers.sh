#!/bin/sh
# The layers call only downward (docs/DESIGN.md, "Layers"): every #include in
# src/ and LD_PRELOAD/ is checked against the matrix below.  A file may include
# the headers of its own unit and of the layers under it, never one above it:
#
#   boundary   LD_PRELOAD/, src/api.c      anything
#   start-up   src/init.[ch]               the layers, reclaim (kswapd_init),
#                                          stats (its thread), track (fork)
#   views      src/dump.[ch]               the layers, track (its views),
#                                          reclaim (its counters)
#   stats      src/stats.[ch]              the layers, the views
#   reclaim    src/reclaim.[ch]            the layers
#   track      src/track.[ch]              the layers
#   malloc     src/malloc/    5            vmalloc and below
#   vmalloc    src/vmalloc/   4            slab and below
#   slab       src/slab/      3            page and below
#   page       src/page/      2            numa and below
#   numa       src/numa/      1            lib
#   lib        src/lib/       0            nothing
#
# The public headers count as the layer they describe: <kmm/gfp.h> and
# <kmm/numa.h> numa, <kmm/page.h> page, <kmm/slab.h> slab, <kmm/vmalloc.h>
# vmalloc, <kmm/mempool.h> malloc, <kmm/kmm.h> and <kmm/linux.h> the top.
# Usage: layers.sh SOURCE_ROOT
set -eu
root=$1
cd "$root"
files=$(find src LD_PRELOAD -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) | sort)
[ -n "$files" ] || { echo "no sources under $root"; exit 1; }
fail=0
# One line per include: file, then the included name as written.
grep -H '^#include' $files | sed -E 's/:#include[[:space:]]*/ /' | awk '
function unit(path) {
	if (path ~ /^LD_PRELOAD\// || path == "src/api.c") return "boundary"
	if (path ~ /^src\/init\.[ch]$/) return "startup"
	if (path ~ /^src\/dump\.[ch]$/) return "views"
	if (path ~ /^src\/reclaim\.[ch]$/) return "reclaim"
	if (path ~ /^src\/stats\.[ch]$/) return "stats"
	if (path ~ /^src\/track\.[ch]$/) return "track"
	if (path ~ /^src\/malloc\//) return 5
	if (path ~ /^src\/vmalloc\//) return 4
	if (path ~ /^src\/slab\//) return 3
	if (path ~ /^src\/page\//) return 2
	if (path ~ /^src\/numa\//) return 1
	if (path ~ /^src\/lib\//) return 0
	return "unknown"
}
function public(name) {
	if (name == "kmm/gfp.h" || name == "kmm/numa.h") return 1
	if (name == "kmm/page.h") return 2
	if (name == "kmm/slab.h") return 3
	if (name == "kmm/vmalloc.h") return 4
	if (name == "kmm/mempool.h") return 5
	return "top"
}
# "dir/../x/y.h" -> "x/y.h"
function normalize(p,    n, i, k, part, out) {
	n = split(p, part, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (part[i] == "." || part[i] == "") continue
		if (part[i] == "..") { if (k > 0) k--; continue }
		out[++k] = part[i]
	}
	p = out[1]
	for (i = 2; i <= k; i++) p = p "/" out[i]
	return p
}
function allowed(from, to) {
	if (from == "boundary" || from == to) return 1
	if (to ~ /^[0-9]$/) return from !~ /^[0-9]$/ || to + 0 <= from + 0
	if (to == "top") return from !~ /^[0-9]$/
	if (from == "startup" && (to == "reclaim" || to == "stats" || to == "track")) return 1
	if (from == "views" && to == "track") return 1
	if (from == "views" && to == "reclaim") return 1
	if (from == "stats" && to == "views") return 1
	return 0
}
{
	file = $1; name = $2
	from = unit(file)
	if (name ~ /^</) {
		gsub(/[<>]/, "", name)
		if (name !~ /^kmm\//) next
		to = public(name)
	} else {
		gsub(/"/, "", name)
		dir = file; sub(/\/[^\/]*$/, "", dir)
		target = normalize(dir "/" name)
		to = unit(target)
		if (to == "unknown") { print file ": includes " name ", outside the layers"; bad++; next }
	}
	if (from == "unknown") { print file ": not in any layer"; bad++; next }
	if (!allowed(from, to)) { print file " (" from "): includes " name " (" to ")"; bad++ }
	n++
}
END {
	if (bad) { print bad " include(s) reach up or sideways"; exit 1 }
	if (n < 50) { print "only " n " includes seen: the check reads nothing"; exit 1 }
	print n " includes, all downward"
}' || fail=1

# The exported API is the top: no file below the boundary calls an exported
# function that another file defines (its own, as a helper, is its business).
grep -H -E '^__export .*[a-z0-9_]+\(' $files |
	sed -E 's/^([^:]*):.*[ *]([a-z_][a-z0-9_]*)\(.*/\1 \2/' >/tmp/layers.$$ || true
below=$(for f in $files; do
	case $f in LD_PRELOAD/* | src/api.c) ;; *) printf '%s\n' "$f" ;; esac
done)
# One awk over every file below the boundary: the code without its comments
# and string literals, each kmm_*( name in it looked up in the exports.
# shellcheck disable=SC2086
[ -s /tmp/layers.$$ ] || { echo "no __export definitions found: the check reads nothing"; fail=1; }
ups=$(awk '
FILENAME == ARGV[1] { def[$2] = $1; next }
FNR == 1 { incomment = 0 }
{
	line = $0; out = ""
	gsub(/"([^"\\]|\\.)*"/, "\"\"", line)
	while (line != "") {
		if (incomment) {
			i = index(line, "*/"); if (!i) { line = ""; break }
			line = substr(line, i + 2); incomment = 0
		} else {
			i = index(line, "/*"); j = index(line, "//")
			if (j && (!i || j < i)) { out = out substr(line, 1, j - 1); break }
			if (!i) { out = out line; break }
			out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1
		}
	}
	if (out ~ /^__export /) next
	while (match(out, /kmm_[a-z0-9_]+\(/)) {
		name = substr(out, RSTART, RLENGTH - 1)
		before = RSTART > 1 ? substr(out, RSTART - 1, 1) : ""
		out = substr(out, RSTART + RLENGTH)
		if (before ~ /[A-Za-z0-9_]/) continue # __kmm_x( is not kmm_x(
		if ((name in def) && def[name] != FILENAME)
			printf "%s:%d: calls %s, exported by %s\n", FILENAME, FNR, name, def[name]
	}
}
' /tmp/layers.$$ $below)
rm -f /tmp/layers.$$
if [ -n "$ups" ]; then
	printf '%s\n' "$ups"; echo "calls into the exported API from below it"; fail=1
else
	echo "no call from below into the exported API"
fi
exit $fail
