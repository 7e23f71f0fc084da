"""Allocation-heavy Python workload for test/preload/python.sh.

Prints one deterministic line per section (sizes and checksums only, never an
address or anything timing-dependent), so a run on glibc's malloc and a run on
an LD_PRELOADed malloc must print exactly the same.  Run it with
PYTHONHASHSEED=0 and PYTHONMALLOC=malloc (every object through malloc).
"""

import array
import collections
import gc
import hashlib
import heapq
import json
import random
import re
import sys
import threading
import zlib

SCALE = int(sys.argv[1]) if len(sys.argv) > 1 else 1


def digest(obj):
    """A short checksum of a value's repr (deterministic for our values)."""
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def report(name, *vals):
    print(name + ": " + " ".join(str(v) for v in vals), flush=True)


def words(rng, n, lo=1, hi=12):
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(lo, hi))) for _ in range(n)]


def sec_dicts(rng):
    d = {}
    keys = words(rng, 60000 * SCALE, 3, 14)
    for i, k in enumerate(keys):
        d[k] = d.get(k, 0) + i
    for k in keys[::2]:
        d.pop(k, None)
    for i, k in enumerate(keys[::3]):
        d[k + "#" + str(i)] = [i] * (i % 7)
    nested = {i: {str(j): (j, str(j) * (j % 5)) for j in range(i % 40)} for i in range(4000)}
    merged = {**nested[39], **{k: v for k, v in list(nested.items())[:100]}}
    od = collections.OrderedDict((str(i), i) for i in range(20000))
    for i in range(0, 20000, 3):
        od.move_to_end(str(i))
    for i in range(0, 20000, 5):
        del od[str(i)]
    report("dicts", len(d), digest(sorted(d.items())), len(merged),
           sum(len(v) for v in nested.values()), digest(list(od.items())[:500]), len(od))


def sec_lists(rng):
    lists = [[rng.randint(0, 1000) for _ in range(rng.randint(0, 60))] for _ in range(20000 * SCALE)]
    total = 0
    for lst in lists:
        lst.append(len(lst))
        lst.extend(lst[:3])
        if len(lst) > 10:
            del lst[2:7]
            lst.insert(1, -1)
            lst.pop()
        total += sum(lst)
    flat = [x for lst in lists for x in lst if x % 3]
    flat[::7] = [0] * len(flat[::7])
    grown = []
    for i in range(200000):
        grown.append(i)
    while len(grown) > 1000:
        grown = grown[: len(grown) // 2] + grown[-10:]
    dq = collections.deque()
    for i in range(100000):
        dq.append(i)
        if i % 3 == 0:
            dq.appendleft(dq.pop())
        if i % 5 == 0:
            dq.popleft()
    report("lists", total, len(flat), digest(flat[:2000]), len(grown), sum(grown), len(dq), sum(dq))


def sec_sets(rng):
    a = {rng.randint(0, 200000) for _ in range(80000 * SCALE)}
    b = {rng.randint(0, 200000) for _ in range(80000 * SCALE)}
    s = set(words(rng, 30000, 2, 6))
    t = set(words(rng, 30000, 2, 6))
    fs = frozenset(x for x in a if x % 11 == 0)
    sets_of_sets = {frozenset(range(i, i + i % 17)) for i in range(5000)}
    report("sets", len(a | b), len(a & b), len(a - b), len(a ^ b), sum(a & b),
           len(s | t), len(s & t), digest(sorted(s - t)[:500]), len(fs), len(sets_of_sets))


def sec_strings(rng):
    parts = []
    for i in range(50000 * SCALE):
        parts.append("%d:%s;" % (i, "x" * (i % 23)))
    big = "".join(parts)
    acc = ""
    for i in range(20000):
        acc += str(i)
        if len(acc) > 5000:
            acc = acc[len(acc) // 3:]
    ba = bytearray()
    for i in range(100000):
        ba += bytes([i & 0xFF]) * (i % 9)
        if i % 1000 == 999:
            del ba[: len(ba) // 2]
    repl = big.replace("x", "yz").replace(";", "\n")
    lines = repl.split("\n")
    upper = [ln.upper() for ln in lines[::10]]
    fmt = ["{:>8}|{:<6}|{:^10.3f}".format(i, str(i)[::-1], i / 7) for i in range(30000)]
    enc = big.encode("utf-8")
    uni = "".join(chr(0x100 + (i % 500)) for i in range(50000))
    report("strings", len(big), zlib.crc32(enc), len(acc), zlib.crc32(bytes(ba)), len(ba),
           len(lines), digest(upper[:300]), zlib.crc32("".join(fmt).encode()),
           zlib.crc32(uni.encode("utf-8")), len(zlib.compress(enc, 6)))


class Node:
    def __init__(self, key, nxt):
        self.key = key
        self.next = nxt
        self.payload = [key] * (key % 4)


class Slot:
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c


Point = collections.namedtuple("Point", "x y z")


def sec_objects(rng):
    head = None
    for i in range(150000 * SCALE):
        head = Node(i, head)
    n, s = 0, 0
    node = head
    while node is not None:
        n += 1
        s += node.key + len(node.payload)
        node = node.next
    slots = [Slot(i, str(i), (i, i)) for i in range(150000)]
    pts = [Point(i, -i, i * i) for i in range(100000)]
    tuples = [(i, (i, (i,))) for i in range(100000)]
    cyc = []
    for i in range(20000):
        a, b = {}, {}
        a["b"], b["a"] = b, a  # reference cycles: only the collector frees them
        cyc.append(a)
    del cyc
    collected = gc.collect() >= 0
    del head, node
    gc.collect()
    s2 = sum(sl.a + len(sl.b) + sl.c[1] for sl in slots) + sum(p.z for p in pts) + sum(t[1][1][0] for t in tuples)
    report("objects", n, s, s2, collected)


def sec_sort(rng):
    nums = [rng.randint(-10**9, 10**9) for _ in range(300000 * SCALE)]
    floats = [rng.random() for _ in range(150000)]
    strs = words(rng, 100000, 1, 10)
    nums.sort()
    floats.sort(reverse=True)
    by_len = sorted(strs, key=lambda w: (len(w), w))
    recs = sorted(((w, i % 97, -i) for i, w in enumerate(strs)), key=lambda r: (r[1], r[0]))
    heap = []
    for x in nums[::3]:
        heapq.heappush(heap, -x)
    top = [heapq.heappop(heap) for _ in range(1000)]
    ok = all(nums[i] <= nums[i + 1] for i in range(len(nums) - 1))
    report("sort", ok, digest(nums[::1000]), digest(floats[::1000]), digest(by_len[::500]),
           digest(recs[::500]), digest(top))


def sec_json(rng):
    doc = {
        "users": [
            {
                "id": i,
                "name": "user%d" % i,
                "tags": words(rng, i % 8, 2, 7),
                "score": round(rng.random() * 1000, 3),
                "active": i % 3 == 0,
                "meta": {"k%d" % j: [j, str(j), None] for j in range(i % 6)},
            }
            for i in range(20000 * SCALE)
        ],
        "title": "\u00e9t\u00e9 \u2603 " * 100,
    }
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    pretty = json.dumps(back, indent=2, sort_keys=True)
    again = json.loads(pretty)
    report("json", len(text), zlib.crc32(text.encode()), len(pretty), back == doc, again == doc,
           sum(len(u["tags"]) for u in again["users"]))


def sec_recreate(rng):
    sums = []
    for rnd in range(6):
        store = {}
        for i in range(40000):
            key = (rnd, i % 5000, str(i % 777))
            store.setdefault(key, []).append(bytes(i % 200))
        big = [bytearray(rng.randint(1, 70000)) for _ in range(200)]
        sums.append((len(store), sum(len(v) for v in store.values()), sum(len(b) for b in big)))
        del store, big
    cnt = collections.Counter()
    text = " ".join(words(rng, 80000, 1, 5))
    for w in re.findall(r"[a-m]+", text):
        cnt[w] += 1
    subs = re.sub(r"([aeiou])([^aeiou ]+)", r"<\2\1>", text)
    arr = array.array("d", (i * 0.5 for i in range(200000)))
    arr.extend(arr[:1000])
    report("recreate", digest(sums), len(cnt), digest(cnt.most_common(20)),
           zlib.crc32(subs.encode()), len(arr), sum(arr))


def sec_bigint(rng):
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    f = 1
    for i in range(2, 4000):
        f *= i
    p = pow(3, 60000) - pow(7, 20000)
    q, r = divmod(p, f // 10**50 + 1)
    report("bigint", len(str(f)), zlib.crc32(str(p).encode()), q.bit_length(), r % 1000003)


def sec_threads(rng):
    results = [None] * 4

    def work(idx):
        local = random.Random(1000 + idx)
        d = {}
        lst = []
        for i in range(40000):
            k = local.randint(0, 5000)
            d[k] = d.get(k, "") + chr(97 + i % 26)
            lst.append((k, str(i)))
            if len(lst) > 3000:
                lst = lst[1500:]
        results[idx] = (len(d), zlib.crc32("".join(d[k] for k in sorted(d)).encode()), len(lst))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("threads", *results)


def sec_large(rng):
    """Blocks beyond 4 MiB: buffers grown by realloc (page runs, then vmalloc
    areas moved and grown without copying), freed and made again, threads
    doing the same at once."""
    out = []
    chunk = bytes(range(256)) * 4096  # 1 MiB
    for rnd in range(3 * SCALE):
        ba = bytearray()
        for i in range(30 + 20 * rnd):
            ba += chunk
            ba[-1] = i & 0xFF
        out.append(hashlib.sha256(ba).hexdigest()[:16])
        del ba[5 * 2**20 :]
        out.append(hashlib.sha256(ba).hexdigest()[:16])
        big = list(range(2_000_000 + rnd))
        out.append(sum(big[::997]))
        del big
        s = b"y" * (20 * 2**20 + rng.randint(1, 4096))
        out.append(len(s) + s.count(b"y"))
    results = [None] * 2

    def work(idx):
        bufs = [bytearray(rng_t.randint(5, 40) * 2**20) for rng_t in [random.Random(idx)] * 8]
        for k, b in enumerate(bufs):
            b[-1] = k
        results[idx] = sum(len(b) + b[-1] for b in bufs)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("large", *out, *results)


def main():
    rng = random.Random(20240601)
    for sec in (sec_dicts, sec_lists, sec_sets, sec_strings, sec_objects, sec_sort, sec_json,
                sec_recreate, sec_bigint, sec_threads, sec_large):
        sec(rng)
    print("done", flush=True)


if __name__ == "__main__":
    main()
