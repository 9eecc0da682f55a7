//! Soak and fault tests: many coroutines, jobs and callbacks, with cancellation, panics and early
//! drops at random points; every count must come out exact and nothing may hang.
//!
//! They run at a fiftieth of their full size by default, which CI can afford. `SOAK_FULL=1` runs
//! the full sizes (one million coroutines, 100,000 pool jobs, ...); `SOAK_DIVISOR=n` picks
//! another fraction (`bench/valgrind.sh` runs them small under valgrind). See TESTING.md.

use coroutine_runtime::*;
use coroutine_tests::{
    DropCounter, DropToken, LIMIT, Rng, block_on, panic_message, panic_message_of, poll_once,
    soak_size, within,
};
use futures::channel::oneshot;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// The message of every panic these tests cause on purpose; the panic hook keeps quiet about it.
const PLANNED: &str = "soak: a planned panic";

/// The start of the message of `run_sync` when the loop is stopped from another thread.
const STOPPED: &str = "the loop was stopped before";

/// Installs, once, a panic hook that prints every panic but the planned and expected ones.
fn quiet_planned_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = panic_message(info.payload());
            if message != PLANNED && !message.starts_with(STOPPED) {
                default(info);
            }
        }));
    });
}

/// Prints the size of a soak test and the process's memory after it (Linux only): its resident
/// set now and at its peak. Shown with `--nocapture`; run one test per process for its own peak.
fn report(test: &str, size: usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .map_or("?", |line| line[name.len()..].trim())
            .to_owned()
    };
    println!(
        "soak {test}: size {size}, RSS after {}, peak RSS {}",
        field("VmRSS:"),
        field("VmHWM:")
    );
}

/// A child that is pending on its first `steps` polls (waking itself each time) and ready on the
/// next one, holding a drop token all along.
struct Steps {
    left: usize,
    _token: DropToken,
}

impl Future for Steps {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.left == 0 {
            return Poll::Ready(1);
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[coroutine_runtime::coroutine]
fn stepper(token: DropToken, steps: usize, stuck: bool, finished: Arc<AtomicUsize>) {
    for _ in 0..steps {
        yield_!(moment);
    }
    if stuck {
        yield_!(std::future::pending::<()>());
    }
    finished.fetch_add(1, Ordering::Relaxed);
    drop(token);
}

#[test]
fn a_million_coroutines_on_tokio_with_random_cancellation() {
    let n = soak_size(1_000_000, 1_000);
    let tokens = DropCounter::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    let (stuck, aborted, completed, cancelled) = runtime.block_on(async {
        let mut rng = Rng::new(1);
        let mut handles = Vec::with_capacity(n);
        let mut stuck = 0;
        for _ in 0..n {
            // One in ten waits forever and must be cancelled; one in ten others is cancelled
            // wherever it is.
            let is_stuck = rng.below(10) == 0;
            stuck += usize::from(is_stuck);
            let running = stepper(tokens.token(), rng.below(4), is_stuck, finished.clone());
            handles.push((is_stuck || rng.below(10) == 0, tokio::spawn(running)));
        }
        let mut aborted = 0;
        for (abort, handle) in &handles {
            if *abort {
                handle.abort();
                aborted += 1;
            }
        }
        let (mut completed, mut cancelled) = (0, 0);
        for (_, handle) in handles {
            match coroutine_tests::deadline(LIMIT * 3, "a soak task", handle).await {
                Ok(()) => completed += 1,
                Err(error) if error.is_cancelled() => cancelled += 1,
                Err(error) => panic!("a soak task failed: {error}"),
            }
        }
        (stuck, aborted, completed, cancelled)
    });
    drop(runtime);
    assert_eq!(completed + cancelled, n);
    assert!(cancelled >= stuck, "every stuck coroutine was cancelled");
    assert!(
        cancelled <= aborted,
        "only aborted coroutines were cancelled"
    );
    // A coroutine runs up to its first yield when called, so one with no step before its end
    // has finished even if its task is cancelled before its first poll.
    let finished = finished.load(Ordering::Relaxed);
    assert!(completed <= finished && finished <= completed + cancelled - stuck);
    assert_eq!(tokens.dropped(), n, "every coroutine's token was dropped");
    report("coroutines on tokio", n);
}

#[test]
fn a_vec_join_dropped_at_every_stage_drops_every_child_once() {
    let n = soak_size(10_000, 1_000);
    // Child `i` needs `i % 5` pending polls: after `k` polls of the join, the children with
    // `i % 5 < k` have finished, and each was dropped when it finished.
    for stage in 0..=6 {
        let tokens = DropCounter::new();
        let children: Vec<_> = (0..n)
            .map(|i| Steps {
                left: i % 5,
                _token: tokens.token(),
            })
            .collect();
        let mut join = multi(children);
        for poll in 1..=stage {
            let finished_now = (0..n).filter(|i| i % 5 < poll).count();
            let outcome = poll_once(&mut join);
            assert_eq!(
                tokens.dropped(),
                finished_now,
                "after poll {poll}, the finished children and only they are dropped"
            );
            assert_eq!(outcome.is_ready(), poll == 5, "ready on the fifth poll");
            if let Poll::Ready(values) = outcome {
                assert_eq!(values, vec![1; n]);
                break;
            }
        }
        drop(join);
        assert_eq!(tokens.dropped(), n, "dropped after {stage} polls");
    }
    report("vec join dropped at every stage", n);
}

#[test]
fn a_panic_in_one_child_of_a_thousand_drops_every_child() {
    quiet_planned_panics();
    let tokens = DropCounter::new();
    let children = |tokens: &DropCounter| -> Vec<Pin<Box<dyn Future<Output = usize> + Send>>> {
        (0..1000)
            .map(|i| {
                let steps = Steps {
                    left: i % 3,
                    _token: tokens.token(),
                };
                Box::pin(async move {
                    let value = steps.await;
                    assert!(i != 500, "{PLANNED}");
                    value
                }) as Pin<Box<dyn Future<Output = usize> + Send>>
            })
            .collect()
    };
    // On futures' executor: the panic reaches the caller, every child is dropped.
    let message = panic_message_of(|| block_on("the join of 1,000", multi(children(&tokens))));
    assert_eq!(message, PLANNED);
    assert_eq!(tokens.dropped(), 1000);
    // On tokio: the task ends as panicked, every child is dropped.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    let tokens = DropCounter::new();
    let task = runtime.spawn(multi(children(&tokens)));
    let error = runtime
        .block_on(task)
        .expect_err("the task panicked with its child");
    assert_eq!(panic_message(&*error.into_panic()), PLANNED);
    assert_eq!(tokens.dropped(), 1000);
    report("panic in one child", 1000);
}

#[test]
fn a_hundred_thousand_pool_jobs_with_panics_and_early_drops() {
    quiet_planned_panics();
    let n = soak_size(100_000, 2_000);
    let tokens = DropCounter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPoolExecutor::new(4);
    let mut rng = Rng::new(2);
    let mut kept = Vec::new();
    let mut dropped_early = 0;
    for i in 0..n {
        let token = tokens.token();
        let ran = ran.clone();
        let panics = rng.below(100) == 0;
        let job = pool.submit(move || {
            let _token = token;
            ran.fetch_add(1, Ordering::Relaxed);
            assert!(!panics, "{PLANNED}");
            i * 2
        });
        // One in ten is dropped at once, before or while a worker runs it.
        if rng.below(10) == 0 {
            drop(job);
            dropped_early += 1;
        } else {
            kept.push((i, panics, job));
        }
    }
    let mut panicked = 0;
    for (i, panics, job) in kept {
        match panic::catch_unwind(AssertUnwindSafe(|| block_on("a pool job", job))) {
            Ok(value) => {
                assert!(!panics, "job {i} should have panicked");
                assert_eq!(value, i * 2);
            }
            Err(payload) => {
                assert!(panics, "job {i} panicked unexpectedly");
                assert_eq!(panic_message(&*payload), PLANNED);
                panicked += 1;
            }
        }
    }
    assert!(panicked > 0, "some jobs panicked");
    // The pool drains its queue and joins its threads when dropped.
    within(LIMIT, "the pool's shutdown", move || drop(pool));
    let ran = ran.load(Ordering::Relaxed);
    assert!(ran >= n - dropped_early, "every kept job ran");
    assert!(ran <= n, "no job ran twice");
    assert_eq!(tokens.dropped(), n, "every job was dropped, run or not");
    report("pool jobs", n);
}

#[test]
fn eight_threads_flood_an_io_loop_while_it_is_stopped_and_closed() {
    quiet_planned_panics();
    let per_thread = soak_size(100_000, 1_000);
    let io_loop = IoLoop::new();
    let tokens = DropCounter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let ran_after_close = Arc::new(AtomicUsize::new(0));
    let flooders: Vec<_> = (0..8)
        .map(|t| {
            let handle = io_loop.handle();
            let (tokens, ran) = (tokens.clone(), ran.clone());
            let (closed, ran_after_close) = (closed.clone(), ran_after_close.clone());
            thread::spawn(move || {
                for i in 0..per_thread {
                    let token = tokens.token();
                    let (ran, closed) = (ran.clone(), closed.clone());
                    let ran_after_close = ran_after_close.clone();
                    handle.add_callback(move || {
                        let _token = token;
                        ran.fetch_add(1, Ordering::Relaxed);
                        if closed.load(Ordering::SeqCst) {
                            ran_after_close.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                    // Now and then, stop the loop from this thread.
                    if (i + t) % 997 == 0 {
                        handle.stop();
                    }
                }
            })
        })
        .collect();
    // Run the loop in short bursts while the threads flood it, until a good part of the flood
    // has run; a stop from a thread may end a burst early, which `run_sync` reports by panicking.
    let start = std::time::Instant::now();
    while ran.load(Ordering::Relaxed) < 4 * per_thread {
        assert!(
            start.elapsed() < LIMIT,
            "timed out waiting for the callbacks to run"
        );
        let burst = panic::catch_unwind(AssertUnwindSafe(|| {
            io_loop.run_sync(|| async {
                for _ in 0..10 {
                    yield_now().await;
                }
            });
        }));
        if let Err(payload) = burst {
            let message = panic_message(&*payload);
            assert!(message.starts_with(STOPPED), "run_sync panicked: {message}");
        }
    }
    let ran_before_close = ran.load(Ordering::Relaxed);
    assert!(ran_before_close > 0, "some callbacks ran");
    io_loop.close();
    closed.store(true, Ordering::SeqCst);
    for flooder in flooders {
        flooder.join().expect("a flooding thread");
    }
    // A closed loop runs no callback, and drops what it is given.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| io_loop.run_sync(|| async {})));
    assert_eq!(ran_after_close.load(Ordering::Relaxed), 0);
    drop(io_loop);
    assert!(ran.load(Ordering::Relaxed) <= 8 * per_thread);
    assert_eq!(
        tokens.dropped(),
        8 * per_thread,
        "every callback was dropped, run or not"
    );
    report("io loop flood", 8 * per_thread);
}

/// Lets other tasks run once, on any executor.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

#[test]
fn a_wait_iterator_over_a_hundred_thousand_futures_finishing_in_random_order() {
    let n = soak_size(100_000, 2_000);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel()).unzip();
    let mut senders: Vec<Option<oneshot::Sender<usize>>> = senders.into_iter().map(Some).collect();
    let order = Rng::new(3).shuffled(n);
    let sending = thread::spawn(move || {
        for (k, &i) in order.iter().enumerate() {
            let sender = senders[i].take().expect("each sender once");
            sender.send(i).expect("the wait iterator waits");
            if k % 1000 == 0 {
                thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let mut wait_iterator = WaitIterator::new(receivers);
    let mut seen = vec![false; n];
    block_on("the wait iterator", async {
        while !wait_iterator.done() {
            let value = wait_iterator.next().await.expect("every future is sent to");
            let index = wait_iterator
                .current_index()
                .expect("an output has an index");
            assert_eq!(value, index, "the output comes with its own index");
            assert!(!seen[index], "index {index} handed out twice");
            seen[index] = true;
        }
    });
    sending.join().expect("the sending thread");
    assert!(seen.iter().all(|&seen| seen), "every future was handed out");
    report("wait iterator", n);
}
