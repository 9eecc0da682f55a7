"""Tornado's side of the benchmark table in BENCHMARKS.md: the same workloads, on Tornado.

Usage, from the root of the repository:

    pip install -r bench/tornado/requirements.txt
    python3 bench/tornado/bench.py            # every case
    python3 bench/tornado/bench.py W1 W3      # the cases whose name starts with W1 or W3

Each case runs REPEATS times after one warm-up run; the figure is the median time of one run
(the same unit of work as one iteration of the criterion case of the same name), in ms.
W6 prints bytes per suspended coroutine (tracemalloc), like the Rust `memory` bench.
"""

import asyncio
import gc
import random
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import tornado
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.queues import Queue

REPEATS = 5


def done_future(value):
    """A Future that already holds `value` (the analog of `future::ready`)."""
    future = Future()
    future.set_result(value)
    return future


# ---- W1, W1s, W2 -------------------------------------------------------------------------------


@gen.coroutine
def ready_loop(n):
    total = 0
    for i in range(n):
        total += yield done_future(i)
    return total


@gen.coroutine
def suspend_loop(n):
    for _ in range(n):
        yield gen.moment


@gen.coroutine
def add_one(x):
    return x + 1


@gen.coroutine
def call_loop(n):
    total = 0
    for i in range(n):
        total += yield add_one(i)
    return total


# ---- W3, W4 ------------------------------------------------------------------------------------


@gen.coroutine
def wait_all(children):
    result = yield children
    return result


@gen.coroutine
def yield_ready_list(n):
    children = [done_future(i) for i in range(n)]
    start = time.perf_counter()
    result = yield children
    elapsed = time.perf_counter() - start
    assert result == list(range(n))
    return elapsed


@gen.coroutine
def yield_pending_list(n):
    # Set-up, as in the criterion case: the children and the shuffled order of their completion.
    children = [Future() for _ in range(n)]
    order = list(range(n))
    random.Random(7).shuffle(order)
    start = time.perf_counter()
    waiting = wait_all(children)
    for i in order:
        children[i].set_result(i)
    result = yield waiting
    elapsed = time.perf_counter() - start
    assert result == list(range(n))
    return elapsed


@gen.coroutine
def yield_ready_dict(n):
    children = {i: done_future(i) for i in range(n)}
    start = time.perf_counter()
    result = yield children
    elapsed = time.perf_counter() - start
    assert len(result) == n
    return elapsed


@gen.coroutine
def yield_pending_dict(n):
    children = {i: Future() for i in range(n)}
    order = list(range(n))
    random.Random(7).shuffle(order)
    start = time.perf_counter()
    waiting = wait_all(children)
    for i in order:
        children[i].set_result(i)
    result = yield waiting
    elapsed = time.perf_counter() - start
    assert len(result) == n
    return elapsed


# ---- W5, W8 ------------------------------------------------------------------------------------


@gen.coroutine
def ping_pong(n):
    """Two coroutines exchange n values: each value goes there and back."""
    there, back = Queue(maxsize=1), Queue(maxsize=1)

    @gen.coroutine
    def echo():
        for _ in range(n):
            value = yield there.get()
            yield back.put(value + 1)

    echoing = echo()
    total = 0
    for i in range(n):
        yield there.put(i)
        total += yield back.get()
    yield echoing
    return total


EXECUTOR = ThreadPoolExecutor(4)


def nothing():
    pass


@gen.coroutine
def submit_loop(n):
    for _ in range(n):
        yield EXECUTOR.submit(nothing)


# ---- W6 ----------------------------------------------------------------------------------------


@gen.coroutine
def wait_on(future):
    result = yield future
    return result


@gen.coroutine
def memory_per_coroutine(n):
    """Bytes each of n coroutines suspended on its own pending Future holds."""
    futures = [Future() for _ in range(n)]  # what they wait on is not counted, as in Rust
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    coroutines = [wait_on(f) for f in futures]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert not any(c.done() for c in coroutines)
    for f in futures:
        f.set_result(None)
    yield coroutines
    return (after - before) / n


# ---- the harness -------------------------------------------------------------------------------


def timed(make):
    """Milliseconds of one run of the coroutine `make()` on a fresh IOLoop, or the seconds the
    coroutine itself reports (cases whose set-up is not timed)."""
    loop = IOLoop(make_current=False)
    try:
        start = time.perf_counter()
        reported = loop.run_sync(make)
        elapsed = time.perf_counter() - start
    finally:
        loop.close()
    return 1000 * (reported if isinstance(reported, float) else elapsed)


CASES = [
    ("W1_ready_yield_x1M", lambda: ready_loop(1_000_000)),
    ("W1s_suspending_yield_x100k", lambda: suspend_loop(100_000)),
    ("W2_sub_coroutine_call_x200k", lambda: call_loop(200_000)),
    ("W3_yield_vec_ready/100", lambda: yield_ready_list(100)),
    ("W3_yield_vec_ready/1000", lambda: yield_ready_list(1_000)),
    ("W3_yield_vec_ready/10000", lambda: yield_ready_list(10_000)),
    ("W3_yield_vec_ready/100000", lambda: yield_ready_list(100_000)),
    ("W3_yield_vec_pending/100", lambda: yield_pending_list(100)),
    ("W3_yield_vec_pending/1000", lambda: yield_pending_list(1_000)),
    ("W3_yield_vec_pending/10000", lambda: yield_pending_list(10_000)),
    ("W3_yield_vec_pending/100000", lambda: yield_pending_list(100_000)),
    ("W4_yield_hash_map_x10k/ready", lambda: yield_ready_dict(10_000)),
    ("W4_yield_hash_map_x10k/pending", lambda: yield_pending_dict(10_000)),
    ("W5_ping_pong_x100k", lambda: ping_pong(100_000)),
    ("W8_submit_round_trip_x10k", lambda: submit_loop(10_000)),
]


def main(prefixes):
    def selected(name):
        return not prefixes or any(name.startswith(p) for p in prefixes)

    print(
        f"Tornado {tornado.version}, Python {sys.version.split()[0]}, asyncio "
        f"{type(asyncio.get_event_loop_policy()).__name__}; median of {REPEATS} runs"
    )
    for name, make in CASES:
        if not selected(name):
            continue
        timed(make)  # warm-up
        runs = [timed(make) for _ in range(REPEATS)]
        median = statistics.median(runs)
        spread = (max(runs) - min(runs)) / median * 100
        print(f"{name + '/tornado':<44} {median:12.3f} ms  (runs spread {spread:.0f}%)", flush=True)
    if selected("W6_memory"):
        loop = IOLoop(make_current=False)
        per = loop.run_sync(lambda: memory_per_coroutine(100_000))
        loop.close()
        print(f"{'W6_memory/tornado':<44} {per:12.1f} bytes per suspended coroutine")
    EXECUTOR.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
