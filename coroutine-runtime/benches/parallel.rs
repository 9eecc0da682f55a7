//! Waiting on a collection: `multi` (what `yield_!(vec)` waits on) beside
//! `futures::future::join_all` over the same children.
//!
//! * `parallel_ready_x10k`: 10,000 children that are ready at once.
//! * `parallel_pending_random/N`: N pending children, woken one at a time in a scrambled order,
//!   the join polled after each wake (what an executor does). A join that polls every child on
//!   every wake-up is quadratic here; per-element time should stay about flat as N grows.
//!
//! Run with `cargo bench -p coroutine-runtime --bench parallel`.

use std::future::{Future, ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::channel::oneshot;

use coroutine_runtime::multi;

/// Children in the ready case.
const READY_CHILDREN: u64 = 10_000;

/// Polls `join` once with a waker that does nothing.
fn poll<F: Future>(join: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    join.poll(&mut Context::from_waker(Waker::noop()))
}

fn ready_children(c: &mut Criterion) {
    let mut group = c.benchmark_group("parallel_ready_x10k");
    group.throughput(Throughput::Elements(READY_CHILDREN));
    group.bench_function("multi", |b| {
        b.iter(|| {
            let join = pin!(multi((0..READY_CHILDREN).map(ready).collect::<Vec<_>>()));
            let Poll::Ready(values) = poll(join) else {
                unreachable!()
            };
            black_box(values)
        });
    });
    group.bench_function("join_all", |b| {
        b.iter(|| {
            let children = (0..READY_CHILDREN).map(ready).collect::<Vec<_>>();
            let join = pin!(futures::future::join_all(children));
            let Poll::Ready(values) = poll(join) else {
                unreachable!()
            };
            black_box(values)
        });
    });
    group.finish();
}

/// `0..n` in a scrambled but fixed order (xorshift).
fn scrambled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bound = u64::try_from(i + 1).expect("fits");
        order.swap(i, usize::try_from(state % bound).expect("fits"));
    }
    order
}

/// N channels: the senders (to wake the children) and the receivers (the children).
type Channels = (
    Vec<Option<oneshot::Sender<usize>>>,
    Vec<oneshot::Receiver<usize>>,
);

fn channels(n: usize) -> Channels {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel()).unzip();
    (senders.into_iter().map(Some).collect(), receivers)
}

/// Wakes the children of `join` one at a time in `order`, polling it after each wake.
fn wake_in_order<F: Future>(
    join: F,
    senders: &mut [Option<oneshot::Sender<usize>>],
    order: &[usize],
) -> F::Output {
    let mut join = pin!(join);
    assert!(poll(join.as_mut()).is_pending());
    for &i in order {
        senders[i]
            .take()
            .expect("sent once")
            .send(i)
            .expect("the child is waiting");
        if let Poll::Ready(output) = poll(join.as_mut()) {
            return output;
        }
    }
    unreachable!("the last wake finishes the join")
}

fn pending_children_woken_at_random(c: &mut Criterion) {
    let mut group = c.benchmark_group("parallel_pending_random");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for n in [1_000, 10_000, 100_000] {
        let order = scrambled(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("multi", n), &n, |b, &n| {
            b.iter_batched(
                || channels(n),
                |(mut senders, receivers)| {
                    black_box(wake_in_order(multi(receivers), &mut senders, &order))
                },
                BatchSize::PerIteration,
            );
        });
        group.bench_with_input(BenchmarkId::new("join_all", n), &n, |b, &n| {
            b.iter_batched(
                || channels(n),
                |(mut senders, receivers)| {
                    black_box(wake_in_order(
                        futures::future::join_all(receivers),
                        &mut senders,
                        &order,
                    ))
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, ready_children, pending_children_woken_at_random);
criterion_main!(benches);
