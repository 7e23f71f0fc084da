#!/usr/bin/env bash
# man.sh SRC: the man pages (libkmm(3), kmm(7), kmm-run(1)) render without a warning (groff -ww, and man -l at
# 80 columns), and they keep up with the code: libkmm(3) names every function
# of include/kmm/*.h, kmm(7) every setting of the README's table and every view
# kmm_dump() knows.  Exit 77 (skip) without groff or man.
set -euo pipefail
src=$(cd "$1" && pwd)
command -v groff >/dev/null && command -v man >/dev/null ||
	{ echo "skip: groff or man missing"; exit 77; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for page in man/libkmm.3 man/kmm.7 man/kmm-run.1; do
	out=$(groff -t -man -Tutf8 -ww -z "$src/$page" 2>&1) || bad "groff exits non-zero on $page"
	[[ -z $out ]] || bad "groff warns on $page: $out"
	out=$(MANWIDTH=80 man -l "$src/$page" 2>&1 >/dev/null) || bad "man -l fails on $page"
	[[ -z $out ]] || bad "man -l warns on $page: $out"
	lines=$(MANWIDTH=80 man -l "$src/$page" 2>/dev/null | wc -l)
	[[ $lines -gt 30 ]] || bad "$page renders to $lines lines only"
done

# Every public function (not the static inline helpers' callers alone) in libkmm(3).
funcs=$(grep -hoE '\bkmm_[a-z0-9_]+\(' "$src"/include/kmm/{kmm,gfp,page,slab,vmalloc,mempool,numa}.h |
	tr -d '(' | sort -u)
for f in $funcs; do
	grep -q "$f" "$src/man/libkmm.3" || bad "libkmm.3 does not mention $f()"
done

# Every setting of the README's table in kmm(7).
vars=$(sed -n '/^## Settings/,/^## /p' "$src/README.md" | grep -oE '^\| `KMM_[A-Z0-9_]+`' |
	tr -d '|` ')
[[ -n $vars ]] || bad "no settings table found in README.md"
for v in $vars; do
	grep -q "^$v" "$src/man/kmm.7" || bad "kmm.7's table lacks $v (README.md has it)"
done
# ... and no setting the README does not have.
for v in $(grep -oE '^KMM_[A-Z0-9_]+' "$src/man/kmm.7" | sort -u); do
	grep -qw "$v" <<<"$vars" || bad "kmm.7's table has $v, README.md's does not"
done

# Every view kmm_dump() documents, in kmm(7).
views=$(sed -n '/kmm_dump() - /,/Return:/p' "$src/include/kmm/kmm.h" | grep -oE '"[a-z]+"' | tr -d '"')
[[ -n $views ]] || bad "no views found in kmm.h's kmm_dump() comment"
for v in $views; do
	grep -q "^\.B $v\$" "$src/man/kmm.7" || bad "kmm.7 does not describe the $v view"
done

[[ $fail -eq 0 ]] && echo "ok: man pages render cleanly and cover $(wc -w <<<"$funcs") functions, $(wc -w <<<"$vars") settings, $(wc -w <<<"$views") views"
exit $fail
