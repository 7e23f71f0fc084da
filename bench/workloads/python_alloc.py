"""python: an allocation-heavy Python program for bench/run.

CPython allocates small objects from its own pools but takes every object
over 512 bytes, every list and dict resize and its pool arenas from
malloc, so the allocator under it matters.  This script builds and drops
dicts, lists, strings, tuples and class instances in bulk, and prints a
checksum that depends only on SCALE (no str hashes, no set order), which
bench/run compares with a glibc run.

usage: python3 python_alloc.py [SCALE=100000]
"""
import json
import sys
import zlib

from bench_idle import bench_idle


class Record:
    def __init__(self, key, value, tags):
        self.key = key
        self.value = value
        self.tags = tags


def lcg(seed):
    """A deterministic stream of 31-bit numbers."""
    x = seed
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        yield x


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rnd = lcg(12345)
    crc = 0

    # 1. A dict of strings to lists, grown and then mostly dropped.
    table = {}
    for i in range(scale):
        key = "key-%d-%d" % (i, next(rnd) % 1000)
        table.setdefault(key, []).append(next(rnd) % 100000)
    for i, key in enumerate(list(table)):
        if i % 4:
            del table[key]
    crc = zlib.crc32(repr(sorted(table.items())[:1000]).encode(), crc)

    # 2. Strings: build, join, split, replace.
    words = ["w%x" % (next(rnd) % 65536) for _ in range(scale)]
    text = " ".join(words)
    parts = text.split(" ")
    text2 = "-".join(p.upper() for p in parts if len(p) > 3)
    crc = zlib.crc32(text2.replace("W", "v").encode(), crc)
    del words, text, parts, text2

    # 3. Objects with attribute dicts, sorted by a key.
    recs = [Record(i, next(rnd), [next(rnd) % 10 for _ in range(i % 8)])
            for i in range(scale)]
    recs.sort(key=lambda r: (r.value % 1000, r.key))
    crc = zlib.crc32(repr([(r.key, sum(r.tags)) for r in recs[::97]]).encode(), crc)
    del recs

    # 4. Nested JSON-like documents, dumped and loaded back.
    docs = []
    for i in range(scale // 10):
        docs.append({"id": i, "name": "doc%d" % i,
                     "items": [{"n": j, "v": next(rnd) % 1000} for j in range(i % 12)],
                     "meta": {"a": [i] * (i % 5), "b": str(i) * (i % 7)}})
    blob = json.dumps(docs)
    back = json.loads(blob)
    if back != docs:
        print("WRONG: JSON round trip differs", file=sys.stderr)
        sys.exit(1)
    crc = zlib.crc32(blob.encode(), crc)
    del docs, back, blob

    # 5. Many short-lived tuples and lists in a loop (a counting dict).
    counts = {}
    for i in range(scale * 2):
        t = (next(rnd) % 512, i % 7)
        counts[t] = counts.get(t, 0) + len([t] * (i % 4))
    crc = zlib.crc32(repr(sorted(counts.items())).encode(), crc)

    print("python scale=%d crc=%08x" % (scale, crc))


main()
bench_idle()
