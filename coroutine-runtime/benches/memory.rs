//! W6: the memory a suspended coroutine holds, beside a boxed `async fn` doing the same wait.
//! See `BENCHMARKS.md` at the root of the repository.
//!
//! 100,000 of each wait on their own never-ready future; a counting global allocator gives the
//! bytes they hold, container included, divided by their number. It prints bytes, not times.
//!
//! W6j: what a join allocates per child, ours beside the other joins of W3 (the same children and
//! the same wakes as `collections.rs`): allocation calls and bytes from the start of the join to
//! its result, result included, divided by the number of children.
//!
//! Run with `cargo bench -p coroutine-runtime --bench memory`.

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Waker};

#[path = "support/joins.rs"]
#[allow(dead_code, reason = "the map joins are for `collections.rs`")]
mod joins;

use coroutine_runtime::yield_;
use futures::future::{Pending, pending};
use joins::{
    Pending as PendingChildren, coroutine, for_each_join, futures_buffered, futures_concurrency,
    futures_unordered, join_all, multi, now, wake_one_by_one,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// How many of each are kept suspended at once.
const COUNT: usize = 100_000;

/// Waits on `future`; the default (eager) coroutine, suspended when the call returns.
#[coroutine_runtime::coroutine]
fn wait(future: Pending<u64>) -> u64 {
    yield_!(future)
}

/// Waits on `future`; the lazy coroutine.
#[coroutine_runtime::coroutine(lazy)]
fn wait_lazy(future: Pending<u64>) -> u64 {
    yield_!(future)
}

/// Baseline: the same wait as an `async fn`.
async fn wait_async(future: Pending<u64>) -> u64 {
    future.await
}

/// Polls `future` once and checks that it is suspended.
fn suspend<F: Future + ?Sized>(future: Pin<&mut F>) {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.poll(&mut cx).is_pending(), "the wait never ends");
}

/// Heap bytes and allocations that `make` leaves behind, per item.
fn per_item<T>(make: impl FnOnce() -> Vec<T>) -> (f64, f64) {
    let region = Region::new(GLOBAL);
    let items = make();
    let change = region.change();
    assert_eq!(items.len(), COUNT);
    black_box(&items);
    let bytes = (change.bytes_allocated - change.bytes_deallocated)
        .checked_add_signed(change.bytes_reallocated)
        .expect("the items hold what was allocated for them");
    let allocations = change.allocations - change.deallocations;
    drop(items);
    (per_count(bytes), per_count(allocations))
}

/// `total / COUNT`.
#[allow(clippy::cast_precision_loss)] // the totals here are far below 2^52
fn per_count(total: usize) -> f64 {
    total as f64 / COUNT as f64
}

/// How many children each join of W6j waits on.
const JOIN_SIZE: usize = 10_000;

/// Allocation calls and bytes allocated while `join` runs, per child of W6j.
fn per_child<T>(join: impl FnOnce() -> T) -> (f64, f64) {
    let region = Region::new(GLOBAL);
    let result = black_box(join());
    let change = region.change();
    drop(result);
    #[allow(clippy::cast_precision_loss)] // far below 2^52
    let per = |total: usize| total as f64 / JOIN_SIZE as f64;
    (
        per(change.allocations + change.reallocations),
        per(change
            .bytes_allocated
            .saturating_add_signed(change.bytes_reallocated)),
    )
}

/// W6j: allocations per child of each join, ready and pending children.
fn join_allocations() {
    println!(
        "W6j allocations per child of a join of {JOIN_SIZE} children (allocation calls and bytes \
         allocated from the start of the join to its result, result included); `first` is the \
         first join of the thread, `again` the same join run right after it"
    );
    let n = JOIN_SIZE;
    let ready = move || {
        (0..joins::value(n))
            .map(std::future::ready)
            .collect::<Vec<_>>()
    };
    macro_rules! case {
        ($name:literal, $join:ident) => {
            // A new thread each, so that `first` is the first join of its thread.
            std::thread::spawn(move || {
                let mut row = format!("W6j_allocations/{:<20}", $name);
                for run in ["first", "again"] {
                    let children = ready();
                    let (calls, bytes) = per_child(|| now($join(children)));
                    row += &format!(" ready/{run} {calls:.2} ({bytes:.0} B)");
                }
                for run in ["first", "again"] {
                    let p = PendingChildren::new(n);
                    let (children, slots, order) = (p.children, p.slots, p.order);
                    let (calls, bytes) =
                        per_child(|| wake_one_by_one($join(children), &slots, &order));
                    row += &format!(" pending/{run} {calls:.2} ({bytes:.0} B)");
                }
                println!("{row}");
            })
            .join()
            .expect("the join runs");
        };
    }
    for_each_join!(case);
}

fn main() {
    let coroutine = per_item(|| {
        // `collect` from an exact-size iterator allocates exactly `COUNT` slots.
        (0..COUNT).map(|_| wait(pending())).collect::<Vec<_>>()
    });
    let boxed_coroutine = per_item(|| {
        (0..COUNT)
            .map(|_| Box::pin(wait(pending())))
            .collect::<Vec<_>>()
    });
    let lazy = per_item(|| {
        (0..COUNT)
            .map(|_| {
                let mut future = Box::pin(wait_lazy(pending()));
                suspend(future.as_mut());
                future
            })
            .collect::<Vec<_>>()
    });
    let baseline = per_item(|| {
        (0..COUNT)
            .map(|_| {
                let mut future = Box::pin(wait_async(pending()));
                suspend(future.as_mut());
                future
            })
            .collect::<Vec<_>>()
    });

    let body = std::mem::size_of_val(&wait_lazy(pending()));
    let runner = std::mem::size_of_val(&wait(pending()));
    println!(
        "W6 memory per suspended coroutine: {COUNT} of each, waiting on their own pending \
         future; heap bytes per item from a counting allocator, container included"
    );
    let rows = [
        ("coroutine", coroutine),
        ("coroutine_boxed", boxed_coroutine),
        ("coroutine_lazy_boxed", lazy),
        ("boxed_async_fn", baseline),
    ];
    for (name, (bytes, allocations)) in rows {
        println!("W6_memory/{name:<24} {bytes:>8.1} bytes  {allocations:.2} allocations");
    }
    println!(
        "W6 difference coroutine - boxed_async_fn: {:+.1} bytes (target: at most +16); \
         body future {body} bytes, Runner handle {runner} bytes",
        coroutine.0 - baseline.0
    );
    join_allocations();
}
