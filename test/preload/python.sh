#!/bin/bash
# python3 (Debian's /usr/bin/python3) runs alloc_heavy.py: dicts, lists, sets,
# string building, many small objects, big sorts, json dumps/loads, delete and
# re-create, big ints, threads.  PYTHONMALLOC=malloc sends every object
# through malloc (no pymalloc arenas in between); PYTHONHASHSEED=0 fixes
# string hashing.  Output must match glibc's.
# Usage: test/preload/python.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need python3 /usr/bin/python3

cp "$PL_DIR/alloc_heavy.py" "$TMP/alloc_heavy.py"

workload() {
	PYTHONHASHSEED=0 PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 \
		/usr/bin/python3 -s -B "$TMP/alloc_heavy.py" 1
}

pl_compare workload
