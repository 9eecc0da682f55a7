//! W5 and W8: the project's loop and thread pool beside the `futures` executors doing the same
//! work. See `BENCHMARKS.md` at the root of the repository.
//!
//! * W5: two coroutines exchange 100,000 values (each value goes there and back over a pair of
//!   `futures::channel::mpsc` channels), on the `IoLoop` beside the same two `async fn`s on a
//!   bare tokio current-thread runtime with a `LocalSet` (what the `IoLoop` is made of), and on a
//!   `LocalPool`.
//! * W1s on the loop: one coroutine suspends 100,000 times with `yield_!(moment)` in `run_sync`,
//!   beside the same loop of hand-written yields as an `async fn` on the bare runtime.
//! * W8: 10,000 round trips of an empty closure through `ThreadPoolExecutor::submit`, each
//!   awaited before the next, beside `futures::executor::ThreadPool::spawn_with_handle`; both
//!   pools have 4 threads and are made once.
//!
//! Run with `cargo bench -p coroutine-runtime --bench executors`.

use std::hint::black_box;
use std::time::Duration;

#[path = "support/cpu_time.rs"]
mod cpu_clock;
#[path = "support/ping_pong.rs"]
mod ping_pong;
#[path = "support/yield_workloads.rs"]
#[allow(dead_code, reason = "only the suspending loops of W1s are used here")]
mod workloads;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use futures::channel::mpsc::unbounded;
use futures::executor::{LocalPool, ThreadPool, block_on};
use futures::task::{LocalSpawnExt, SpawnExt};

use coroutine_runtime::{IoLoop, ThreadPoolExecutor, yield_};
use cpu_clock::ThreadCpuTime;
use ping_pong::*;
use workloads::{suspend_loop, suspend_loop_async};

/// W5: values exchanged.
const EXCHANGES: u64 = 100_000;
/// W8: round trips.
const ROUND_TRIPS: u64 = 10_000;
/// W8: threads of each pool.
const POOL_THREADS: usize = 4;

/// A group of long iterations: ten flat samples, measured for `seconds`.
fn long_group<'a, M: Measurement>(
    c: &'a mut Criterion<M>,
    name: &str,
    seconds: u64,
) -> BenchmarkGroup<'a, M> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds))
        .sampling_mode(SamplingMode::Flat);
    group
}

// ---- W5 ----------------------------------------------------------------------------------------

/// The sum `ping` returns for `n` values.
fn expected_sum(n: u64) -> u64 {
    n * (n + 1) / 2
}

fn ping_pong(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = long_group(c, "W5_ping_pong_x100k", 4);
    let io_loop = IoLoop::new();
    group.bench_function("coroutines_io_loop", |b| {
        b.iter(|| {
            let (requests, requests_rx) = unbounded();
            let (replies_tx, replies) = unbounded();
            io_loop.spawn_callback(move || echo(requests_rx, replies_tx));
            let sum = io_loop.run_sync(|| ping(black_box(EXCHANGES), requests, replies));
            assert_eq!(sum, expected_sum(EXCHANGES));
        });
    });
    let (runtime, local) = ping_pong::tokio_local_set();
    group.bench_function("async_fns_tokio_local_set", |b| {
        b.iter(|| {
            let (requests, requests_rx) = unbounded();
            let (replies_tx, replies) = unbounded();
            local.spawn_local(echo_async(requests_rx, replies_tx));
            let sum = local.block_on(
                &runtime,
                ping_async(black_box(EXCHANGES), requests, replies),
            );
            assert_eq!(sum, expected_sum(EXCHANGES));
        });
    });
    let mut pool = LocalPool::new();
    group.bench_function("async_fns_local_pool", |b| {
        b.iter(|| {
            let (requests, requests_rx) = unbounded();
            let (replies_tx, replies) = unbounded();
            pool.spawner()
                .spawn_local(echo_async(requests_rx, replies_tx))
                .expect("the pool accepts tasks");
            let sum = pool.run_until(ping_async(black_box(EXCHANGES), requests, replies));
            pool.run(); // lets the echo see its channel close and finish
            assert_eq!(sum, expected_sum(EXCHANGES));
        });
    });
    group.finish();
}

// ---- W8 ----------------------------------------------------------------------------------------

/// Submits `n` empty closures, one after the other.
#[coroutine_runtime::coroutine]
fn submit_loop(pool: &ThreadPoolExecutor, n: u64) {
    for _ in 0..n {
        yield_!(pool.submit(|| ()));
    }
}

/// Baseline: spawns `n` empty futures, one after the other.
async fn spawn_loop(pool: &ThreadPool, n: u64) {
    for _ in 0..n {
        pool.spawn_with_handle(async {})
            .expect("the pool accepts tasks")
            .await;
    }
}

fn submit_round_trip(c: &mut Criterion) {
    let mut group = long_group(c, "W8_submit_round_trip_x10k", 5);
    let executor = ThreadPoolExecutor::new(POOL_THREADS);
    group.bench_function("thread_pool_executor", |b| {
        b.iter(|| block_on(submit_loop(&executor, black_box(ROUND_TRIPS))));
    });
    let pool = ThreadPool::builder()
        .pool_size(POOL_THREADS)
        .create()
        .expect("the pool starts");
    group.bench_function("futures_thread_pool", |b| {
        b.iter(|| block_on(spawn_loop(&pool, black_box(ROUND_TRIPS))));
    });
    group.finish();
}

// ---- W1s on the loop -----------------------------------------------------------------------------

fn suspend_on_the_loop(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = long_group(c, "W1s_loop_x100k", 4);
    let io_loop = IoLoop::new();
    group.bench_function("coroutine_io_loop", |b| {
        b.iter(|| io_loop.run_sync(|| suspend_loop(black_box(EXCHANGES))));
    });
    let (runtime, local) = ping_pong::tokio_local_set();
    group.bench_function("async_fn_tokio_local_set", |b| {
        b.iter(|| local.block_on(&runtime, suspend_loop_async(black_box(EXCHANGES))));
    });
    group.finish();
}

criterion_group! {
    name = single_threaded;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = ping_pong, suspend_on_the_loop
}
// W8's work runs on the pools' threads: wall-clock time.
criterion_group!(multi_threaded, submit_round_trip);
criterion_main!(single_threaded, multi_threaded);
