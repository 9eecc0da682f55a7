//! W1, W1s and W2: what one yield and one sub-coroutine call cost, beside the same work written
//! by hand with `async fn`. See `BENCHMARKS.md` at the root of the repository.
//!
//! Each criterion group holds a case and its baseline, measured in the same run, so every result
//! reads as a ratio. Run with `cargo bench -p coroutine-runtime --bench yields`.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

#[path = "support/cpu_time.rs"]
mod cpu_clock;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use futures::executor::{LocalPool, block_on};
use futures::future;
use futures::task::LocalSpawnExt;

use coroutine_runtime::{moment, yield_};
use cpu_clock::ThreadCpuTime;

/// W1: completed futures yielded in one loop.
const READY_YIELDS: u64 = 1_000_000;
/// W1s: yields that suspend once each.
const SUSPENDING_YIELDS: u64 = 100_000;
/// W2: sub-coroutine calls in one loop.
const CALLS: u64 = 200_000;

// ---- W1: a yield of a completed future -------------------------------------------------------

/// Yields `n` completed futures; the default (eager) coroutine.
#[coroutine_runtime::coroutine]
fn ready_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

/// Yields `n` completed futures; the lazy coroutine.
#[coroutine_runtime::coroutine(lazy)]
fn ready_loop_lazy(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

/// Baseline: the same loop as an `async fn`.
async fn ready_loop_async(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(future::ready(black_box(i)).await);
    }
    sum
}

fn ready_yield(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("W1_ready_yield_x1M");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    group.bench_function("coroutine", |b| {
        b.iter(|| block_on(ready_loop(black_box(READY_YIELDS))));
    });
    group.bench_function("coroutine_lazy", |b| {
        b.iter(|| block_on(ready_loop_lazy(black_box(READY_YIELDS))));
    });
    group.bench_function("async_fn", |b| {
        b.iter(|| block_on(ready_loop_async(black_box(READY_YIELDS))));
    });
    group.finish();
}

// ---- W1s: a yield that suspends once -----------------------------------------------------------

/// Baseline's suspension: `Pending` once after waking itself (the same code as `moment`'s).
#[derive(Debug, Default)]
struct YieldNow {
    /// Whether it has returned `Pending` already.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Suspends `n` times with `yield_!(moment)`.
#[coroutine_runtime::coroutine]
fn suspend_loop(n: u64) {
    for _ in 0..n {
        yield_!(moment);
    }
}

/// Baseline: suspends `n` times with a hand-written future.
async fn suspend_loop_async(n: u64) {
    for _ in 0..n {
        YieldNow::default().await;
    }
}

/// Runs `task` as a task of a fresh `LocalPool`, to completion.
fn run_on_local_pool(task: impl Future<Output = ()> + 'static) {
    let mut pool = LocalPool::new();
    pool.spawner()
        .spawn_local(task)
        .expect("a fresh pool accepts tasks");
    pool.run();
}

fn suspending_yield(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("W1s_suspending_yield_x100k");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    group.bench_function("coroutine_block_on", |b| {
        b.iter(|| block_on(suspend_loop(black_box(SUSPENDING_YIELDS))));
    });
    group.bench_function("async_fn_block_on", |b| {
        b.iter(|| block_on(suspend_loop_async(black_box(SUSPENDING_YIELDS))));
    });
    group.bench_function("coroutine_local_pool", |b| {
        b.iter(|| run_on_local_pool(suspend_loop(black_box(SUSPENDING_YIELDS))));
    });
    group.bench_function("async_fn_local_pool", |b| {
        b.iter(|| run_on_local_pool(suspend_loop_async(black_box(SUSPENDING_YIELDS))));
    });
    group.finish();
}

// ---- W2: a call of a sub-coroutine that returns without suspending ----------------------------

/// The lazy sub-coroutine.
#[coroutine_runtime::coroutine(lazy)]
fn add_one_lazy(x: u64) -> u64 {
    x + 1
}

/// The default (eager) sub-coroutine: it has finished when the call returns.
#[coroutine_runtime::coroutine]
fn add_one(x: u64) -> u64 {
    x + 1
}

/// Baseline sub-call.
#[allow(clippy::unused_async)] // returning without suspending is the point of W2
async fn add_one_async(x: u64) -> u64 {
    x + 1
}

/// Calls the lazy sub-coroutine `n` times.
#[coroutine_runtime::coroutine]
fn call_lazy_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one_lazy(black_box(i))));
    }
    sum
}

/// Calls the eager sub-coroutine `n` times.
#[coroutine_runtime::coroutine]
fn call_eager_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one(black_box(i))));
    }
    sum
}

/// Baseline: awaits a plain `async fn` `n` times.
async fn call_async_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(add_one_async(black_box(i)).await);
    }
    sum
}

/// Baseline: awaits a boxed `async fn` `n` times (one allocation per call, as the eager start).
async fn call_boxed_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(Box::pin(add_one_async(black_box(i))).await);
    }
    sum
}

fn sub_coroutine_call(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("W2_sub_coroutine_call_x200k");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    group.bench_function("coroutine_lazy", |b| {
        b.iter(|| block_on(call_lazy_loop(black_box(CALLS))));
    });
    group.bench_function("async_fn", |b| {
        b.iter(|| block_on(call_async_loop(black_box(CALLS))));
    });
    group.bench_function("coroutine", |b| {
        b.iter(|| block_on(call_eager_loop(black_box(CALLS))));
    });
    group.bench_function("boxed_async_fn", |b| {
        b.iter(|| block_on(call_boxed_loop(black_box(CALLS))));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = ready_yield, suspending_yield, sub_coroutine_call
}
criterion_main!(benches);
