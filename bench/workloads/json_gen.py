"""json: writes the JSON document that bench/run gives jq.

An array of ROWS records, each an object of a number, a string, an array
of 0-4 strings and a float, as a log or API dump is: jq parses it into one
value per node (its objects are a few fixed sizes, 272 and 392 bytes, and
its strings and numbers 16-32 bytes), filters and rebuilds the records and
sorts them.  Deterministic (a fixed seed), so bench/run compares the
output with a glibc run.

usage: python3 json_gen.py [ROWS=200000] > workload.json
"""
import json
import random
import sys


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    rng = random.Random(1)
    data = [{"id": i, "name": "n%d" % ((i * 7919) % rows), "tags": ["t%d" % (i % 7)] * (i % 5),
             "v": round(rng.random(), 6)} for i in range(rows)]
    json.dump(data, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
