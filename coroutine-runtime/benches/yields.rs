//! W1, W1s and W2: what one yield and one sub-coroutine call cost, beside the same work written
//! by hand with `async fn`. See `BENCHMARKS.md` at the root of the repository.
//!
//! Each criterion group holds a case and its baseline, measured in the same run, so every result
//! reads as a ratio. Run with `cargo bench -p coroutine-runtime --bench yields`.

use std::hint::black_box;
use std::time::Duration;

#[path = "support/cpu_time.rs"]
mod cpu_clock;
#[path = "support/yield_workloads.rs"]
mod workloads;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use futures::executor::block_on;

use cpu_clock::ThreadCpuTime;
use workloads::*;

/// W1: completed futures yielded in one loop.
const READY_YIELDS: u64 = 1_000_000;
/// W1s: yields that suspend once each.
const SUSPENDING_YIELDS: u64 = 100_000;
/// W2: sub-coroutine calls in one loop.
const CALLS: u64 = 200_000;

// ---- W1: a yield of a completed future -------------------------------------------------------

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
