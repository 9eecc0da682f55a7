//! `ThreadPoolExecutor` and `#[run_on_executor]`: blocking functions as yieldable futures.

use coroutine_runtime::*;
use coroutine_tests::{DropCounter, block_on, panic_message_of};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

fn blocking_func(n: u64) -> u64 {
    thread::sleep(Duration::from_millis(5));
    n * 2
}

#[coroutine_runtime::coroutine]
fn call_blocking(pool: ThreadPoolExecutor, n: u64) -> u64 {
    yield_!(pool.submit(move || blocking_func(n)))
}

#[test]
fn submit_yields_the_functions_result() {
    let pool = ThreadPoolExecutor::new(4);
    assert_eq!(
        block_on("`call_blocking(pool, 21)`", call_blocking(pool, 21)),
        42
    );
}

#[test]
fn the_function_runs_on_a_named_pool_thread() {
    let pool = ThreadPoolExecutor::new(1);
    let name = block_on(
        "`pool.submit(|| thread::current().name().map(str::to_owned))`",
        pool.submit(|| thread::current().name().map(str::to_owned)),
    );
    let name = name.expect("pool threads are named");
    assert!(name.starts_with("coroutine-pool-"), "{name}");
    assert_ne!(thread::current().name(), Some(name.as_str()));
}

/// Counts the jobs running at once, and remembers the most.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Concurrency {
    fn job(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(20));
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn at_most_n_functions_run_at_once_and_the_rest_queue() {
    let pool = ThreadPoolExecutor::new(3);
    let concurrency = Arc::new(Concurrency::default());
    let jobs: Vec<_> = (0..12)
        .map(|i| {
            let concurrency = concurrency.clone();
            pool.submit(move || {
                concurrency.job();
                i
            })
        })
        .collect();
    let results: Vec<u32> = block_on(
        "`futures::future::join_all(jobs)`",
        futures::future::join_all(jobs),
    );
    assert_eq!(results, (0..12).collect::<Vec<_>>());
    // Twelve 20 ms jobs on three workers: they overlap (more than one at once), never beyond 3.
    let most = concurrency.most.load(Ordering::SeqCst);
    assert!(most <= 3, "{most} jobs ran at once on a pool of 3");
    assert!(most >= 2, "jobs never overlapped: at most {most} at once");
}

#[test]
fn n_blocking_functions_that_wait_for_each_other_all_run() {
    // Four jobs that each wait until all four have started: they deadlock unless four run at once.
    let pool = ThreadPoolExecutor::new(4);
    let barrier = Arc::new(Barrier::new(4));
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            let barrier = barrier.clone();
            pool.submit(move || {
                barrier.wait();
                i
            })
        })
        .collect();
    let results = block_on(
        "`futures::future::join_all(jobs)`",
        futures::future::join_all(jobs),
    );
    assert_eq!(results, [0, 1, 2, 3]);
}

#[test]
fn a_panicking_function_surfaces_at_the_yield_and_the_pool_keeps_serving() {
    #[coroutine_runtime::coroutine]
    fn fails(pool: ThreadPoolExecutor) -> u32 {
        yield_!(pool.submit(|| -> u32 { panic!("blocking call failed") }))
    }
    let pool = ThreadPoolExecutor::new(1);
    let message = panic_message_of(|| block_on("`fails(pool.clone())`", fails(pool.clone())));
    assert_eq!(message, "blocking call failed");
    // The single worker survived.
    for n in 0..3 {
        assert_eq!(
            block_on(
                "`call_blocking(pool.clone(), n)`",
                call_blocking(pool.clone(), n)
            ),
            n * 2
        );
    }
}

#[test]
fn dropping_the_pool_lets_queued_work_finish_and_joins_its_threads() {
    let pool = ThreadPoolExecutor::new(2);
    let finished = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = mpsc::channel();
    for _ in 0..6 {
        let finished = finished.clone();
        let sender = sender.clone();
        // The futures are kept, so the jobs are not skipped.
        sender
            .send(pool.submit(move || {
                thread::sleep(Duration::from_millis(10));
                finished.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
    }
    drop(pool);
    // The drop waited for the queue to drain.
    assert_eq!(finished.load(Ordering::SeqCst), 6);
    drop(sender);
    for job in receiver {
        block_on("`job`", job);
    }
}

#[test]
fn dropping_the_last_handle_inside_a_job_does_not_deadlock() {
    let pool = ThreadPoolExecutor::new(2);
    let other = pool.submit(|| thread::sleep(Duration::from_millis(20)));
    let last = pool.clone();
    drop(pool);
    // The job owns the last handle: the pool shuts down from one of its own threads.
    let (sender, receiver) = mpsc::channel();
    let job = last.clone().submit(move || {
        drop(last);
        sender.send("dropped inside").unwrap();
    });
    // `last` moved into the job; only the job's clone and the queue remain.
    assert_eq!(
        receiver.recv_timeout(Duration::from_secs(10)),
        Ok("dropped inside")
    );
    block_on("the test body", async {
        job.await;
        other.await;
    });
}

#[test]
fn dropping_the_future_before_the_job_starts_skips_the_job() {
    let pool = ThreadPoolExecutor::new(1);
    let (release, blocked) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    // Occupy the only worker until released.
    let busy = pool.submit(move || {
        started_tx.send(()).unwrap();
        blocked.recv().unwrap();
    });
    started_rx
        .recv_timeout(coroutine_tests::LIMIT)
        .expect("timed out waiting for the busy job to start");
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let drops = DropCounter::new();
    let token = drops.token();
    let skipped = pool.submit(move || {
        let _token = token;
        counter.fetch_add(1, Ordering::SeqCst);
    });
    drop(skipped);
    release.send(()).unwrap();
    block_on("`busy`", busy);
    // A job after it, on the same single worker, proves the skipped one was taken off the queue.
    block_on("`pool.submit(|| ())`", pool.submit(|| ()));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(drops.dropped(), 1, "the skipped job's closure was dropped");
}

#[test]
fn the_pool_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<ThreadPoolExecutor>();
    let pool = ThreadPoolExecutor::new(2);
    let clone = pool.clone();
    let from_thread = thread::spawn(move || block_on("`clone.submit(|| 5)`", clone.submit(|| 5)))
        .join()
        .unwrap();
    assert_eq!(from_thread, 5);
    assert_eq!(block_on("`pool.submit(|| 6)`", pool.submit(|| 6)), 6);
}

#[test]
#[should_panic(expected = "needs at least one worker")]
fn a_pool_of_zero_workers_is_rejected() {
    let _ = ThreadPoolExecutor::new(0);
}

/// A service that holds its pool in a field named `executor`, as Tornado's decorator expects.
#[derive(Clone)]
struct Hasher {
    executor: ThreadPoolExecutor,
    salt: u64,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Hasher {
    #[run_on_executor]
    fn hash(&self, data: Vec<u8>) -> u64 {
        self.calls
            .lock()
            .unwrap()
            .push(format!("hash on {:?}", thread::current().name()));
        data.iter().map(|&b| u64::from(b)).sum::<u64>() + self.salt
    }

    /// `self` by value, a `?` in the body, and `self` in a closure and a macro.
    #[run_on_executor]
    fn parse(self, text: String) -> Result<u64, std::num::ParseIntError> {
        let n: u64 = text.parse()?;
        let add = |x: u64| x + self.salt;
        assert!(self.salt < 100, "salt {} too large", self.salt);
        Ok(add(n))
    }

    #[run_on_executor]
    fn fail(&self) -> u64 {
        panic!("failed with salt {}", self.salt)
    }

    #[coroutine_runtime::coroutine]
    fn hash_both(&self) -> u64 {
        let a = yield_!(self.hash(vec![1, 2]));
        let b = yield_!(self.hash(vec![3]));
        a + b
    }
}

/// A pool in a field with another name.
#[derive(Clone)]
struct Custom {
    pool: Arc<ThreadPoolExecutor>,
}

impl Custom {
    #[run_on_executor(executor = pool)]
    fn thread_name(&self) -> Option<String> {
        thread::current().name().map(str::to_owned)
    }
}

/// The runtime under another path, and a `self::` module path in the body.
mod renamed {
    pub(crate) use coroutine_runtime as runtime;

    pub(crate) fn offset() -> u32 {
        100
    }

    #[derive(Clone)]
    pub(crate) struct Offsets {
        pub(crate) executor: runtime::ThreadPoolExecutor,
    }

    impl Offsets {
        #[runtime::run_on_executor(crate = crate::renamed::runtime)]
        pub(crate) fn add(&self, n: u32) -> u32 {
            n + self::offset()
        }
    }
}

#[test]
fn run_on_executor_accepts_a_crate_path_and_leaves_self_module_paths_alone() {
    let offsets = renamed::Offsets {
        executor: ThreadPoolExecutor::new(1),
    };
    assert_eq!(block_on("`offsets.add(1)`", offsets.add(1)), 101);
}

fn hasher() -> Hasher {
    Hasher {
        executor: ThreadPoolExecutor::new(2),
        salt: 10,
        calls: Arc::default(),
    }
}

#[test]
fn run_on_executor_runs_the_body_on_the_pool_and_returns_a_yieldable_future() {
    let hasher = hasher();
    let future: Submitted<u64> = hasher.hash(vec![1, 2, 3]);
    assert_eq!(block_on("`future`", future), 16);
    assert_eq!(
        block_on("`hasher.hash_both()`", hasher.hash_both()),
        13 + 13
    );
    let calls = hasher.calls.lock().unwrap();
    assert_eq!(calls.len(), 3);
    assert!(
        calls.iter().all(|c| c.contains("coroutine-pool-")),
        "{calls:?}"
    );
}

#[test]
fn run_on_executor_takes_self_by_value_and_keeps_question_mark_and_macros() {
    let hasher = hasher();
    assert_eq!(
        block_on("the parse job", hasher.clone().parse("32".to_owned())),
        Ok(42)
    );
    assert!(block_on("the parse job", hasher.parse("x".to_owned())).is_err());
}

#[test]
fn run_on_executor_reraises_a_panic_of_the_body_at_the_yield() {
    let hasher = hasher();
    let message = panic_message_of(|| block_on("`hasher.fail()`", hasher.fail()));
    assert_eq!(message, "failed with salt 10");
    assert_eq!(block_on("`hasher.hash(vec![])`", hasher.hash(vec![])), 10);
}

#[test]
fn run_on_executor_reads_the_field_named_by_its_argument() {
    let custom = Custom {
        pool: Arc::new(ThreadPoolExecutor::new(1)),
    };
    let name = block_on("`custom.thread_name()`", custom.thread_name()).unwrap();
    assert!(name.starts_with("coroutine-pool-"), "{name}");
}

#[test]
fn a_job_blocking_on_its_own_one_thread_pool_fails_instead_of_hanging() {
    let pool = ThreadPoolExecutor::new(1);
    let inner = pool.clone();
    // The inner job is queued behind the outer one, on the pool's only thread.
    let outer = pool.submit(move || futures::executor::block_on(inner.submit(|| 1)));
    let message = panic_message_of(|| block_on("the outer job", outer));
    assert!(
        message.contains("a job of a one-thread `ThreadPoolExecutor` waits on another job"),
        "{message}"
    );
    // The pool goes on serving.
    assert_eq!(block_on("a job after the deadlock", pool.submit(|| 2)), 2);
}

#[test]
fn a_job_may_block_on_its_own_pool_when_another_thread_is_free() {
    let pool = ThreadPoolExecutor::new(2);
    let inner = pool.clone();
    let outer = pool.submit(move || futures::executor::block_on(inner.submit(|| 1)) + 1);
    assert_eq!(block_on("the outer job", outer), 2);
}

#[test]
fn a_one_thread_pool_job_may_wait_on_another_pools_job() {
    let pool = ThreadPoolExecutor::new(1);
    let other = ThreadPoolExecutor::new(1);
    let outer = pool.submit(move || futures::executor::block_on(other.submit(|| 1)) + 1);
    assert_eq!(block_on("the outer job", outer), 2);
}
