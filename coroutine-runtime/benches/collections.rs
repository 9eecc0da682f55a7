//! W3 and W4: a coroutine yielding a `Vec` or a `HashMap` of futures, beside
//! `futures::future::join_all` over the same children. See `BENCHMARKS.md` at the root of the
//! repository.
//!
//! * Ready children: every child is complete when the collection is yielded.
//! * Pending children: every child is a hand-made future that stores its waker; after the
//!   children have registered, the bench completes them one at a time in a shuffled (fixed)
//!   order and polls the waiting future after each wake, as an executor would. Polling every
//!   child on every wake-up would make this quadratic.
//!
//! The children are made outside the timed part; the timed part is the yield (or the
//! `join_all`) and the wakes. Run with `cargo bench -p coroutine-runtime --bench collections`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[path = "support/cpu_time.rs"]
mod cpu_clock;

use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures::future::join_all;

use coroutine_runtime::yield_;
use cpu_clock::ThreadCpuTime;

/// The sizes of W3, to show the cost per element as the collection grows.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// The size of W4.
const MAP_SIZE: usize = 10_000;

// ---- the children ------------------------------------------------------------------------------

/// What a [`Manual`] child and the bench share.
#[derive(Default)]
struct Slot {
    /// The child's output, once the bench has completed it.
    value: Cell<Option<u64>>,
    /// The waker the child was last polled with.
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    /// Completes the child with `value` and wakes it.
    fn complete(&self, value: u64) {
        self.value.set(Some(value));
        let waker = self.waker.borrow_mut().take();
        waker.expect("the child was polled").wake();
    }
}

/// A child that is pending until the bench completes it: it stores its waker, so the bench
/// decides the order of the wakes (no timers, no threads).
struct Manual(Rc<Slot>);

impl Future for Manual {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if let Some(value) = self.0.value.take() {
            return Poll::Ready(value);
        }
        let mut waker = self.0.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// `n` pending children, their slots, and the order the bench completes them in.
struct Pending {
    /// The children, in input order.
    children: Vec<Manual>,
    /// Their slots, in input order.
    slots: Vec<Rc<Slot>>,
    /// A shuffled (fixed) permutation of `0..n`.
    order: Vec<usize>,
}

impl Pending {
    fn new(n: usize) -> Self {
        let slots: Vec<Rc<Slot>> = (0..n).map(|_| Rc::new(Slot::default())).collect();
        let children = slots.iter().map(|slot| Manual(Rc::clone(slot))).collect();
        Pending {
            children,
            slots,
            order: shuffled(n),
        }
    }
}

/// `0..n` shuffled by Fisher-Yates with a fixed xorshift seed, so every run wakes in the same
/// order.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bound = u64::try_from(i + 1).expect("a usize fits in a u64");
        order.swap(
            i,
            usize::try_from(state % bound).expect("less than a usize"),
        );
    }
    order
}

/// The value child `i` completes with.
fn value(i: usize) -> u64 {
    u64::try_from(i).expect("a usize fits in a u64")
}

/// Polls `future` once with a waker that does nothing.
fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `future` to completion; it must not wait on anything.
fn now<F: Future>(future: F) -> F::Output {
    match poll(pin!(future)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("ready children finish in one poll"),
    }
}

/// Polls `future` until its children have registered their wakers, then completes them one at a
/// time in `order`, polling `future` after each.
fn wake_one_by_one<F: Future>(future: F, slots: &[Rc<Slot>], order: &[usize]) -> F::Output {
    let mut future = pin!(future);
    assert!(poll(future.as_mut()).is_pending());
    for &i in order {
        slots[i].complete(value(i));
        if let Poll::Ready(output) = poll(future.as_mut()) {
            return output;
        }
    }
    panic!("the last wake finishes the wait")
}

// ---- W3 ----------------------------------------------------------------------------------------

/// Yields a `Vec` of ready children.
#[coroutine_runtime::coroutine]
fn yield_ready_vec(children: Vec<Ready<u64>>) -> Vec<u64> {
    yield_!(children)
}

/// Yields a `Vec` of pending children.
#[coroutine_runtime::coroutine]
fn yield_pending_vec(children: Vec<Manual>) -> Vec<u64> {
    yield_!(children)
}

/// Baseline: `join_all` over the same children.
async fn join_all_vec<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    join_all(children).await
}

/// How criterion batches inputs of `n` children.
fn batch_size(n: usize) -> BatchSize {
    if n >= 10_000 {
        BatchSize::PerIteration
    } else {
        BatchSize::SmallInput
    }
}

fn yield_vec(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("W3_yield_vec_ready");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        group.throughput(Throughput::Elements(value(n)));
        let make = || (0..value(n)).map(ready).collect::<Vec<_>>();
        group.bench_function(BenchmarkId::new("coroutine", n), |b| {
            b.iter_batched(
                make,
                |children| {
                    let values = now(yield_ready_vec(children));
                    assert_eq!(values.len(), n);
                    values
                },
                batch_size(n),
            );
        });
        group.bench_function(BenchmarkId::new("join_all", n), |b| {
            b.iter_batched(
                make,
                |children| {
                    let values = now(join_all_vec(children));
                    assert_eq!(values.len(), n);
                    values
                },
                batch_size(n),
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("W3_yield_vec_pending");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        group.throughput(Throughput::Elements(value(n)));
        group.bench_function(BenchmarkId::new("coroutine", n), |b| {
            b.iter_batched(
                || Pending::new(n),
                |p| {
                    let values = wake_one_by_one(yield_pending_vec(p.children), &p.slots, &p.order);
                    assert_eq!(values[n - 1], value(n - 1));
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
        group.bench_function(BenchmarkId::new("join_all", n), |b| {
            b.iter_batched(
                || Pending::new(n),
                |p| {
                    let values = wake_one_by_one(join_all_vec(p.children), &p.slots, &p.order);
                    assert_eq!(values[n - 1], value(n - 1));
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
    }
    group.finish();

    // The same at the two ends of the range with the children woken in input order: the cost
    // per element that the algorithm has, without the cache misses of a random order.
    let mut group = c.benchmark_group("W3_yield_vec_pending_in_order");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    for n in [SIZES[0], SIZES[3]] {
        group.throughput(Throughput::Elements(value(n)));
        let in_order = move || {
            let mut p = Pending::new(n);
            p.order.sort_unstable();
            p
        };
        group.bench_function(BenchmarkId::new("coroutine", n), |b| {
            b.iter_batched(
                in_order,
                |p| {
                    let values = wake_one_by_one(yield_pending_vec(p.children), &p.slots, &p.order);
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
        group.bench_function(BenchmarkId::new("join_all", n), |b| {
            b.iter_batched(
                in_order,
                |p| {
                    let values = wake_one_by_one(join_all_vec(p.children), &p.slots, &p.order);
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
    }
    group.finish();
}

// ---- W4 ----------------------------------------------------------------------------------------

/// Yields a `HashMap` of ready children.
#[coroutine_runtime::coroutine]
fn yield_ready_map(children: HashMap<u64, Ready<u64>>) -> HashMap<u64, u64> {
    yield_!(children)
}

/// Yields a `HashMap` of pending children.
#[coroutine_runtime::coroutine]
fn yield_pending_map(children: HashMap<u64, Manual>) -> HashMap<u64, u64> {
    yield_!(children)
}

/// Baseline: `join_all` over the children, then the keys and outputs collected into a map.
async fn join_all_map<F: Future>(children: HashMap<u64, F>) -> HashMap<u64, F::Output> {
    let (keys, children): (Vec<u64>, Vec<F>) = children.into_iter().unzip();
    let values = join_all(children).await;
    keys.into_iter().zip(values).collect()
}

fn yield_map(c: &mut Criterion<ThreadCpuTime>) {
    let n = MAP_SIZE;
    let mut group = c.benchmark_group("W4_yield_hash_map_x10k");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    let ready_map = || {
        (0..value(n))
            .map(|i| (i, ready(i)))
            .collect::<HashMap<_, _>>()
    };
    let pending_map = || {
        let p = Pending::new(n);
        let map = p.children.into_iter().enumerate();
        let map = map
            .map(|(i, child)| (value(i), child))
            .collect::<HashMap<_, _>>();
        (map, p.slots, p.order)
    };
    group.bench_function("ready/coroutine", |b| {
        b.iter_batched(
            ready_map,
            |children| now(yield_ready_map(children)),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("ready/join_all", |b| {
        b.iter_batched(
            ready_map,
            |children| now(join_all_map(children)),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("pending/coroutine", |b| {
        b.iter_batched(
            pending_map,
            |(children, slots, order)| {
                let map = wake_one_by_one(yield_pending_map(children), &slots, &order);
                (black_box(map), slots)
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("pending/join_all", |b| {
        b.iter_batched(
            pending_map,
            |(children, slots, order)| {
                let map = wake_one_by_one(join_all_map(children), &slots, &order);
                (black_box(map), slots)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = yield_vec, yield_map
}
criterion_main!(benches);
