//! W1s (100,000 yields that suspend once each, on `futures::executor::block_on`) with a
//! task-tree tool on, each case in the same criterion group:
//!
//! * `async_fn`: the baseline, no tool;
//! * `coroutine_introspect`: a coroutine with the runtime's `introspect` feature (no annotation);
//! * `await_tree`: the baseline's loop with `.instrument_await("yield")` on each await, in a
//!   registered root, as await-tree's README does;
//! * `async_backtrace`: the baseline's loop with `#[async_backtrace::framed]` on the fn, as
//!   async-backtrace's docs do (it shows the fn, not the await line).

use std::hint::black_box;
use std::time::Duration;

#[path = "../../../coroutine-runtime/benches/support/cpu_time.rs"]
mod cpu_clock;
#[path = "../../../coroutine-runtime/benches/support/yield_workloads.rs"]
#[allow(dead_code, reason = "the other workloads are for the runtime's own benches")]
mod workloads;

use await_tree::InstrumentAwait;
use cpu_clock::ThreadCpuTime;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use futures::executor::block_on;
use workloads::{YieldNow, suspend_loop, suspend_loop_async};

const SUSPENDING_YIELDS: u64 = 100_000;

async fn suspend_loop_await_tree(n: u64) {
    for _ in 0..n {
        YieldNow::default().instrument_await("yield").await;
    }
}

#[async_backtrace::framed]
async fn suspend_loop_async_backtrace(n: u64) {
    for _ in 0..n {
        YieldNow::default().await;
    }
}

fn w1s(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("W1s_tools_x100k");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("async_fn", |b| {
        b.iter(|| block_on(suspend_loop_async(black_box(SUSPENDING_YIELDS))));
    });
    group.bench_function("coroutine_introspect", |b| {
        b.iter(|| block_on(suspend_loop(black_box(SUSPENDING_YIELDS))));
    });
    let registry = await_tree::Registry::new(await_tree::Config::default());
    group.bench_function("await_tree", |b| {
        b.iter(|| {
            let root = registry.register((), "w1s");
            block_on(root.instrument(suspend_loop_await_tree(black_box(SUSPENDING_YIELDS))));
        });
    });
    group.bench_function("async_backtrace", |b| {
        b.iter(|| block_on(suspend_loop_async_backtrace(black_box(SUSPENDING_YIELDS))));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = w1s
}
criterion_main!(benches);
