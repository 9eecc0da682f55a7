//! The workloads of W1, W1s and W2, shared by the criterion bench `yields.rs` and the callgrind
//! counter `bench/callgrind`, so both measure the same code.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use coroutine_runtime::{moment, yield_};
use futures::executor::LocalPool;
use futures::future;
use futures::task::LocalSpawnExt;

/// Yields `n` completed futures; the default (eager) coroutine.
#[coroutine_runtime::coroutine]
pub(crate) fn ready_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

/// Yields `n` completed futures; the lazy coroutine.
#[coroutine_runtime::coroutine(lazy)]
pub(crate) fn ready_loop_lazy(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

/// Baseline: the same loop as an `async fn`.
pub(crate) async fn ready_loop_async(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(future::ready(black_box(i)).await);
    }
    sum
}

/// Baseline's suspension: `Pending` once after waking itself (the same code as `moment`'s).
#[derive(Debug, Default)]
pub(crate) struct YieldNow {
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
pub(crate) fn suspend_loop(n: u64) {
    for _ in 0..n {
        yield_!(moment);
    }
}

/// Baseline: suspends `n` times with a hand-written future.
pub(crate) async fn suspend_loop_async(n: u64) {
    for _ in 0..n {
        YieldNow::default().await;
    }
}

/// Runs `task` as a task of a fresh `LocalPool`, to completion.
pub(crate) fn run_on_local_pool(task: impl Future<Output = ()> + 'static) {
    let mut pool = LocalPool::new();
    pool.spawner()
        .spawn_local(task)
        .expect("a fresh pool accepts tasks");
    pool.run();
}

/// The lazy sub-coroutine.
#[coroutine_runtime::coroutine(lazy)]
pub(crate) fn add_one_lazy(x: u64) -> u64 {
    x + 1
}

/// The default (eager) sub-coroutine: it has finished when the call returns.
#[coroutine_runtime::coroutine]
pub(crate) fn add_one(x: u64) -> u64 {
    x + 1
}

/// Baseline sub-call.
#[allow(clippy::unused_async)] // returning without suspending is the point of W2
pub(crate) async fn add_one_async(x: u64) -> u64 {
    x + 1
}

/// Calls the lazy sub-coroutine `n` times.
#[coroutine_runtime::coroutine]
pub(crate) fn call_lazy_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one_lazy(black_box(i))));
    }
    sum
}

/// Calls the eager sub-coroutine `n` times.
#[coroutine_runtime::coroutine]
pub(crate) fn call_eager_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one(black_box(i))));
    }
    sum
}

/// Baseline: awaits a plain `async fn` `n` times.
pub(crate) async fn call_async_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(add_one_async(black_box(i)).await);
    }
    sum
}

/// Baseline: awaits a boxed `async fn` `n` times (one allocation per call, as the eager start).
pub(crate) async fn call_boxed_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(Box::pin(add_one_async(black_box(i))).await);
    }
    sum
}
