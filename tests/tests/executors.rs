//! The same coroutines on every executor: the `IoLoop`, tokio (current-thread and multi-thread),
//! smol and `futures::executor`, with no `IoLoop` involved except in its own test.

use coroutine_runtime::*;
use coroutine_tests::{assert_send, block_on, panic_message_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

/// A callback-style API that calls back from another thread.
fn add_later(a: u64, b: u64, callback: impl FnOnce(u64) + Send + 'static) {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(2));
        callback(a + b);
    });
}

#[derive(Clone)]
struct Service {
    executor: ThreadPoolExecutor,
}

impl Service {
    #[run_on_executor]
    fn square(&self, n: u64) -> u64 {
        thread::sleep(Duration::from_millis(2));
        n * n
    }
}

#[coroutine_runtime::coroutine]
fn double(n: u64) -> u64 {
    yield_!(moment);
    n * 2
}

/// Every kind of wait the crate offers, in one coroutine: a pool job, a `#[run_on_executor]`
/// method, a callback task, `sleep`, another timer crate's future, `moment`, a sub-coroutine and
/// a parallel yield.
#[coroutine_runtime::coroutine]
fn workload(service: Service) -> Result<u64, CallbackDropped> {
    let a = yield_!(service.executor.submit(|| 1u64));
    let b = yield_!(service.square(3));
    let c = yield_!(task!(add_later(a, b)))?;
    yield_!(sleep(Duration::from_millis(2)));
    yield_!(futures_timer::Delay::new(Duration::from_millis(2)));
    yield_!(moment);
    let d = yield_!(double(c));
    let parallel: Vec<u64> = yield_!(vec![double(1), double(2), double(3)]);
    Ok(d + parallel.iter().sum::<u64>())
}

/// What `workload` returns: (1 + 9) * 2 + (2 + 4 + 6).
const EXPECTED: u64 = 32;

fn service() -> Service {
    Service {
        executor: ThreadPoolExecutor::new(2),
    }
}

/// The guide's background loop, stopping after `ticks` so the test can wait for it.
#[coroutine_runtime::coroutine]
fn ticker(count: Arc<AtomicU32>, ticks: u32) {
    while count.load(Ordering::SeqCst) < ticks {
        count.fetch_add(1, Ordering::SeqCst);
        yield_!(sleep(Duration::from_millis(2)));
    }
}

#[test]
fn on_the_io_loop() {
    let io_loop = IoLoop::new();
    let count = Arc::new(AtomicU32::new(0));
    let background = count.clone();
    io_loop.spawn_callback(move || ticker(background, 3));
    assert_eq!(io_loop.run_sync(|| workload(service())), Ok(EXPECTED));
    io_loop.run_sync(|| async {
        while count.load(Ordering::SeqCst) < 3 {
            sleep(Duration::from_millis(2)).await;
        }
    });
}

#[test]
fn on_tokio_current_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = Arc::new(AtomicU32::new(0));
    let result = runtime.block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on tokio",
        async {
            let background = tokio::spawn(ticker(count.clone(), 3));
            let result = workload(service()).await;
            background.await.unwrap();
            result
        },
    ));
    assert_eq!(result, Ok(EXPECTED));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn on_tokio_multi_thread_spawned_across_workers() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on tokio",
        async {
            let handles: Vec<_> = (0..4)
                .map(|_| tokio::spawn(assert_send(workload(service()))))
                .collect();
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.unwrap());
            }
            results
        },
    ));
    assert_eq!(results, vec![Ok(EXPECTED); 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaited_from_tokio_async_code() {
    assert_eq!(workload(service()).await, Ok(EXPECTED));
}

#[test]
fn on_smol_block_on() {
    assert_eq!(
        smol::block_on(coroutine_tests::deadline(
            coroutine_tests::LIMIT,
            "the future on smol",
            workload(service())
        )),
        Ok(EXPECTED)
    );
}

#[test]
fn on_smol_executors() {
    let executor = smol::Executor::new();
    let count = Arc::new(AtomicU32::new(0));
    let result = smol::block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on smol",
        executor.run(async {
            let background = executor.spawn(ticker(count.clone(), 3));
            let spawned = executor.spawn(workload(service()));
            let result = spawned.await;
            background.await;
            result
        }),
    ));
    assert_eq!(result, Ok(EXPECTED));
    assert_eq!(count.load(Ordering::SeqCst), 3);

    let local = smol::LocalExecutor::new();
    let result = smol::block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on smol",
        local.run(local.spawn(workload(service()))),
    ));
    assert_eq!(result, Ok(EXPECTED));
}

#[test]
fn on_futures_executor() {
    assert_eq!(
        block_on("`workload(service())`", workload(service())),
        Ok(EXPECTED)
    );

    let mut pool = futures::executor::LocalPool::new();
    let count = Arc::new(AtomicU32::new(0));
    futures::task::LocalSpawnExt::spawn_local(&pool.spawner(), ticker(count.clone(), 3)).unwrap();
    let result = pool.run_until(workload(service()));
    pool.run();
    assert_eq!(result, Ok(EXPECTED));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn a_panic_in_a_pool_job_reaches_the_awaiting_task_on_every_executor() {
    #[coroutine_runtime::coroutine]
    fn fails(pool: ThreadPoolExecutor) -> u32 {
        yield_!(pool.submit(|| -> u32 { panic!("job failed") }))
    }
    let pool = ThreadPoolExecutor::new(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let joined = runtime.block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on tokio",
        async { tokio::spawn(fails(pool.clone())).await },
    ));
    assert!(joined.unwrap_err().is_panic());
    let message = panic_message_of(|| {
        smol::block_on(coroutine_tests::deadline(
            coroutine_tests::LIMIT,
            "the future on smol",
            fails(pool.clone()),
        ))
    });
    assert_eq!(message, "job failed");
    assert_eq!(
        smol::block_on(coroutine_tests::deadline(
            coroutine_tests::LIMIT,
            "the future on smol",
            pool.submit(|| 5)
        )),
        5
    );
}
