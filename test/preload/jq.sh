#!/bin/bash
# jq on a generated JSON array (fixed-seed awk): 50k records parsed, filtered,
# rebuilt, grouped, sorted, counted and printed again.  jq's values are a few
# fixed sizes between the kmalloc classes (272 and 392 bytes in jq 1.6), so a
# run of this size gets learned caches below 1 KiB while its values live
# (bench/results/memory.md §21).  The output must match glibc's.
# Usage: test/preload/jq.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need jq jq

# --- the generated data: lib.sh's seeded generator ---
awk -v seed=777 -v n=50000 "$PL_AWK_WORDS"'
BEGIN {
	x = seed
	printf "["
	for (i = 0; i < n; i++) {
		if (i) printf ","
		printf "{\"id\":%d,\"name\":\"%s\",\"group\":%d,\"score\":%d.%03d,\"tags\":[", i, word(3, 12), rnd(40), rnd(1000), rnd(1000)
		t = rnd(5)
		for (j = 0; j < t; j++) printf "%s\"%s\"", (j ? "," : ""), word(2, 6)
		printf "],\"meta\":{\"a\":%d,\"b\":\"%s\"}}", rnd(100000), word(0, 20)
	}
	print "]"
}' >"$TMP/data.json"

workload() {
	jq -c '
		map(select(.id % 5 != 0) | {id, name, group, s: (.score * 2), n: (.tags | length),
			t: (.tags | join("-")), m: .meta.a}) as $r
		| ($r | length),
		  ($r | group_by(.group) | map({g: .[0].group, c: length, s: (map(.s) | add)})),
		  ($r | sort_by(.name, .id) | .[0:3], .[-3:]),
		  ($r | map(.n) | add),
		  ($r | group_by(.t) | map({t: .[0].t, c: length}) | sort_by(-.c, .t) | .[0:5]),
		  ($r | map(.name | ascii_upcase) | unique | length)
	' "$TMP/data.json"
}

pl_compare workload
