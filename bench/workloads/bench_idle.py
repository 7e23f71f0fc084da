"""The idle phase of bench/run for the Python workloads (python_alloc.py,
python_json.py), as bench_idle() in common.h is for the C ones."""
import gc
import os
import sys
import time


def bench_idle():
    """The idle phase of bench/run (see bench_idle() in common.h): with
    BENCH_IDLE_MS and BENCH_IDLE_FILE set, collect the garbage, sleep, and
    write the time slept and VmRSS to the file."""
    ms, out = os.environ.get("BENCH_IDLE_MS"), os.environ.get("BENCH_IDLE_FILE")
    if not ms or not out or int(ms) <= 0:
        return
    gc.collect()
    sys.stdout.flush()
    t0 = time.monotonic()
    time.sleep(int(ms) / 1000)
    slept = int((time.monotonic() - t0) * 1000)
    rss = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS:")]
    with open(out, "w") as f:
        f.write("idle_ms=%d rss_kib=%s\n" % (slept, rss[0] if rss else -1))
