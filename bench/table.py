"""Prints the table of BENCHMARKS.md from the results of one `bench/run.sh` run.

Usage: python3 bench/table.py RESULTS_DIR CRITERION_DIR

RESULTS_DIR holds what bench/run.sh saved: cargo-bench.txt (for W6), compile-time.txt (W7)
and tornado.txt; CRITERION_DIR is criterion's output (target/criterion), whose
`*/new/estimates.json` give the medians.
"""

import json
import re
import sys
from pathlib import Path


def criterion_medians(root):
    """Median time in ns of every criterion benchmark, by its full id."""
    medians = {}
    for bench in Path(root).glob("**/new/benchmark.json"):
        full_id = json.loads(bench.read_text())["full_id"]
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        medians[full_id] = estimates["median"]["point_estimate"]
    return medians


def tornado_times(text):
    """Tornado's median times in ns, and its bytes per coroutine, by case name."""
    times = {}
    for name, value in re.findall(r"^(\S+)/tornado\s+([\d.]+) ms", text, re.M):
        times[name] = float(value) * 1e6
    memory = re.search(r"^W6_memory/tornado\s+([\d.]+) bytes", text, re.M)
    return times, float(memory.group(1)) if memory else None


def duration(ns):
    if ns is None:
        return "n/a"
    for unit, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= size:
            return f"{ns / size:.3g} {unit}"
    return f"{ns:.3g} ns"


def verdict(ok):
    return "" if ok is None else (" ✓" if ok else " ✗")


def main(results_dir, criterion_dir):
    results = Path(results_dir)
    medians = criterion_medians(criterion_dir)
    tornado_text = (results / "tornado.txt").read_text() if (results / "tornado.txt").exists() else ""
    tornado, tornado_bytes = tornado_times(tornado_text)

    rows = []

    def row(case, group, ours, baseline, target, tornado_case=None, tornado_target=None):
        o = medians.get(f"{group}/{ours}")
        b = medians.get(f"{group}/{baseline}")
        ratio = o / b if o and b else None
        ok = None if ratio is None or target is None else ratio <= target
        t = tornado.get(tornado_case) if tornado_case else None
        t_ratio = t / o if t and o else None
        t_ok = None if t_ratio is None or tornado_target is None else t_ratio >= tornado_target
        rows.append(
            (
                case,
                duration(o),
                f"{duration(b)} ({baseline})",
                "n/a" if ratio is None else f"{ratio:.2f}×" + verdict(ok)
                + (f" (≤ {target})" if target else ""),
                duration(t) if tornado_case else "",
                "" if t_ratio is None else f"{t_ratio:,.0f}×" + verdict(t_ok)
                + (f" (≥ {tornado_target})" if tornado_target else ""),
            )
        )

    w1, w1s, w2 = "W1_ready_yield_x1M", "W1s_suspending_yield_x100k", "W2_sub_coroutine_call_x200k"
    row("W1 1M ready yields, default", w1, "coroutine", "async_fn", 1.10, w1, 100)
    row("W1 1M ready yields, lazy", w1, "coroutine_lazy", "async_fn", 1.10, w1, 100)
    row("W1s 100k suspending yields, block_on", w1s, "coroutine_block_on", "async_fn_block_on", 1.20, w1s, 100)
    row("W1s 100k suspending yields, LocalPool", w1s, "coroutine_local_pool", "async_fn_local_pool", 1.20, w1s, 100)
    row("W2 200k sub-coroutine calls, lazy", w2, "coroutine_lazy", "async_fn", 1.10, w2, 100)
    row("W2 200k sub-coroutine calls, default", w2, "coroutine", "boxed_async_fn", 1.50, w2, 100)
    for kind, target in (("ready", 0.50), ("pending", 0.80)):
        for n in (100, 1000, 10000, 100000):
            group = f"W3_yield_vec_{kind}"
            row(f"W3 Vec of {n:,} {kind}", group, f"coroutine/{n}", f"join_all/{n}",
                target if n == 10000 else None, f"{group}/{n}", 10 if n == 10000 else None)
    for n in (100, 100000):
        row(f"W3 Vec of {n:,} pending, woken in input order", "W3_yield_vec_pending_in_order",
            f"coroutine/{n}", f"join_all/{n}", None)
    w4 = "W4_yield_hash_map_x10k"
    row("W4 HashMap of 10,000 ready", w4, "ready/coroutine", "ready/join_all", 0.60, f"{w4}/ready", 10)
    row("W4 HashMap of 10,000 pending", w4, "pending/coroutine", "pending/join_all", 0.60, f"{w4}/pending", 10)
    w5 = "W5_ping_pong_x100k"
    row("W5 100k exchanges, IoLoop vs LocalPool", w5, "coroutines_io_loop", "async_fns_local_pool", 1.20, w5)
    w8 = "W8_submit_round_trip_x10k"
    row("W8 10k submit round trips", w8, "thread_pool_executor", "futures_thread_pool", 1.20, w8)

    print("| Case | Ours | Baseline | Ratio (target) | Tornado | Tornado ÷ ours (target) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")

    # W3 scaling: cost per element at 100,000 over the cost per element at 100.
    print()
    for group in ("W3_yield_vec_ready", "W3_yield_vec_pending", "W3_yield_vec_pending_in_order"):
        for name in ("coroutine", "join_all"):
            small, large = medians.get(f"{group}/{name}/100"), medians.get(f"{group}/{name}/100000")
            if small and large:
                growth = (large / 100000) / (small / 100)
                print(f"- {group} {name}: {small / 100:.0f} ns per element at 100, "
                      f"{large / 100000:.0f} ns at 100,000: ×{growth:.2f}"
                      + (verdict(growth <= 1.5) + " (≤ 1.5)" if name == "coroutine" else ""))

    # W6 and W7 print their own figures.
    bench_text = (results / "cargo-bench.txt").read_text() if (results / "cargo-bench.txt").exists() else ""
    memory = dict(re.findall(r"^W6_memory/(\S+)\s+([\d.]+) bytes", bench_text, re.M))
    if memory:
        print()
        ours, base = float(memory["coroutine"]), float(memory["boxed_async_fn"])
        print(f"- W6 bytes per suspended coroutine: default {ours:.0f}, lazy (boxed) "
              f"{float(memory['coroutine_lazy_boxed']):.0f}, default boxed again "
              f"{float(memory['coroutine_boxed']):.0f}; boxed async fn {base:.0f}: "
              f"{ours - base:+.0f} bytes" + verdict(ours - base <= 16) + " (≤ +16); Tornado "
              + (f"{tornado_bytes:.0f} bytes" if tornado_bytes else "n/a"))
    compile_path = results / "compile-time.txt"
    if compile_path.exists():
        for shape, cpu, wall in re.findall(
            r"^W7 (\w+) ratio coroutine / async_fn: cpu ([\d.]+), wall ([\d.]+)",
            compile_path.read_text(), re.M):
            print(f"- W7 compile time, {shape} fns: coroutine / async fn = {cpu}× CPU"
                  + verdict(float(cpu) <= 1.5) + f" (≤ 1.5), {wall}× wall")


if __name__ == "__main__":
    main(*sys.argv[1:3])
