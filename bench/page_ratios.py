#!/usr/bin/env python3
"""Ratios for the page allocator's targets, from page_bench's JSON output.

Usage: build/bench/page_bench --benchmark_format=json > r.json; bench/page_ratios.py r.json
Per item time = real time per iteration / items per iteration.
"""
import json
import sys


def main():
    data = json.load(open(sys.argv[1]))
    ns = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        per_item = 1e9 / b["items_per_second"]
        ns[b["name"]] = per_item
    for name in sorted(ns):
        print(f"{name:55s} {ns[name]:8.2f} ns/item")

    def get(prefix, threads):
        for k, v in ns.items():
            if k.startswith(prefix) and k.endswith(f"threads:{threads}"):
                return v
        return None

    print()
    for t in (1, 2):
        pcp, tls, nopcp = get("pcp_pair/0", t), get("tls_array_pair", t), get("nopcp_pair/0", t)
        b_pcp, b_nopcp = get("pcp_burst64", t), get("nopcp_burst64", t)
        print(f"threads {t}: pcp pair / thread-local array = {pcp / tls:5.2f}   (target <= 2)")
        print(f"threads {t}: locked buddy pair / pcp pair  = {nopcp / pcp:5.2f}   (target >= 5 at 2 threads)")
        print(f"threads {t}: locked buddy burst / pcp burst = {b_nopcp / b_pcp:5.2f}")


main()
