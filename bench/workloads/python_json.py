"""pyjson: python3's json module on one large document, for bench/run.

A dict of SCALE string keys, each holding a short list of ints, is dumped
with json.dumps() and loaded back with json.loads(), twice.  Little of it
reaches malloc directly (the keys, lists and ints are pymalloc's), but what
does is large and moves: the encoder collects its output in a list of
chunks that realloc grows from 64 KiB to 800 KiB, joins every 100,000
chunks into a string of a few hundred KiB, starts the list again, and
joins those strings into the result at the end (about 16 MB for 300k
keys); the decoder's dict is resized to a table of several MiB.  libkmm
lost this pattern to glibc (bench/results/memory.md §22).  Prints a
checksum of the output, the same under every allocator.

usage: python3 python_json.py [SCALE=300000]
"""
import json
import sys
import zlib

from bench_idle import bench_idle


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    d = {str(i): [i, i * 7 % 1000, i % 13, -i, i * i % 97] for i in range(scale)}
    crc = 0
    for _ in range(2):
        s = json.dumps(d)
        back = json.loads(s)
        if back != d:
            print("WRONG: JSON round trip differs", file=sys.stderr)
            sys.exit(1)
        crc = zlib.crc32(s.encode(), crc)
        del s, back
    print("pyjson scale=%d crc=%08x" % (scale, crc))


main()
bench_idle()
