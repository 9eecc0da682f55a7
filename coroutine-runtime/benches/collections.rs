//! W3 and W4: a coroutine yielding a `Vec` or a `HashMap` of futures, beside
//! `futures::future::join_all`, `futures_buffered::join_all`, futures-concurrency's `Join` and
//! `FuturesUnordered` (outputs put back in input order) over the same children. See
//! `BENCHMARKS.md` at the root of the repository.
//!
//! * Ready children: every child is complete when the collection is yielded.
//! * Pending children: every child is a hand-made future that stores its waker; after the
//!   children have registered, the bench completes them one at a time in a shuffled (fixed)
//!   order and polls the waiting future after each wake, as an executor would. Polling every
//!   child on every wake-up would make this quadratic.
//!
//! The children are made outside the timed part; the timed part is the yield (or the
//! `join_all`) and the wakes. Run with `cargo bench -p coroutine-runtime --bench collections`.

use std::collections::HashMap;
use std::future::ready;
use std::hint::black_box;
use std::time::Duration;

#[path = "support/cpu_time.rs"]
mod cpu_clock;
#[path = "support/joins.rs"]
mod joins;

use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

use cpu_clock::ThreadCpuTime;
use joins::{
    Pending, coroutine, coroutine_map, for_each_join, futures_buffered, futures_concurrency,
    futures_unordered, join_all, multi, now, value, via_vec, wake_one_by_one,
};

/// The sizes of W3, to show the cost per element as the collection grows.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// The size of W4.
const MAP_SIZE: usize = 10_000;
/// futures-concurrency's `Join` for `Vec` polls every child on every wake: at 100,000 pending
/// children one iteration would take about 45 s, so it is measured up to this size only.
const QUADRATIC_LIMIT: usize = 10_000;

// ---- W3 ----------------------------------------------------------------------------------------

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
        macro_rules! case {
            ($name:literal, $join:ident) => {
                group.bench_function(BenchmarkId::new($name, n), |b| {
                    b.iter_batched(
                        make,
                        |children| {
                            let values = now($join(children));
                            assert_eq!(values.len(), n);
                            values
                        },
                        batch_size(n),
                    );
                });
            };
        }
        for_each_join!(case);
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
        macro_rules! case {
            ($name:literal, $join:ident) => {
                if $name != "futures_concurrency" || n <= QUADRATIC_LIMIT {
                    group.bench_function(BenchmarkId::new($name, n), |b| {
                        b.iter_batched(
                            || Pending::new(n),
                            |p| {
                                let values = wake_one_by_one($join(p.children), &p.slots, &p.order);
                                assert_eq!(values[n - 1], value(n - 1));
                                (values, p.slots)
                            },
                            batch_size(n),
                        );
                    });
                }
            };
        }
        for_each_join!(case);
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
                    let values = wake_one_by_one(coroutine(p.children), &p.slots, &p.order);
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
        group.bench_function(BenchmarkId::new("join_all", n), |b| {
            b.iter_batched(
                in_order,
                |p| {
                    let values = wake_one_by_one(join_all(p.children), &p.slots, &p.order);
                    (values, p.slots)
                },
                batch_size(n),
            );
        });
    }
    group.finish();
}

// ---- W4 ----------------------------------------------------------------------------------------

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
    // Ours yields the map itself; the others join its values and collect a map again.
    macro_rules! case {
        ("coroutine", $join:ident) => {
            case!(@bench "coroutine", coroutine_map);
        };
        ("multi", $join:ident) => {
            case!(@bench "multi", coroutine_runtime::multi);
        };
        ($name:literal, $join:ident) => {
            case!(@bench $name, (|children| via_vec(children, $join)));
        };
        (@bench $name:literal, $map_join:expr) => {
            group.bench_function(concat!("ready/", $name), |b| {
                b.iter_batched(
                    ready_map,
                    |children| now($map_join(children)),
                    BatchSize::PerIteration,
                );
            });
            group.bench_function(concat!("pending/", $name), |b| {
                b.iter_batched(
                    pending_map,
                    |(children, slots, order)| {
                        let map = wake_one_by_one($map_join(children), &slots, &order);
                        (black_box(map), slots)
                    },
                    BatchSize::PerIteration,
                );
            });
        };
    }
    for_each_join!(case);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = yield_vec, yield_map
}
criterion_main!(benches);
