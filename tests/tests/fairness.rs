//! Yields are fair, as Tornado's are: a sub-coroutine whose first suspension wakes itself
//! (`moment`, `sleep(Duration::ZERO)`, `tokio::task::yield_now()`) lets every other ready task
//! run before its caller resumes, on every executor.

use coroutine_runtime::*;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Ticks a spinning coroutine may take before the other task must have run (it needs one).
const PATIENCE: u32 = 100;

#[derive(Clone, Copy, Debug)]
enum Tick {
    Moment,
    SleepZero,
    TokioYieldNow,
}

const TICKS: [Tick; 3] = [Tick::Moment, Tick::SleepZero, Tick::TokioYieldNow];

#[coroutine_runtime::coroutine]
fn tick_moment() {
    yield_!(moment);
}

#[coroutine_runtime::coroutine]
fn tick_sleep_zero() {
    yield_!(sleep(Duration::ZERO));
}

#[coroutine_runtime::coroutine]
fn tick_tokio_yield_now() {
    yield_!(tokio::task::yield_now());
}

/// `loop { yield_!(tick()) }` until `ran` is set by another task; how many ticks that took.
#[coroutine_runtime::coroutine]
fn spin(kind: Tick, ran: Rc<Cell<bool>>) -> u32 {
    let mut ticks = 0;
    while !ran.get() {
        match kind {
            Tick::Moment => yield_!(tick_moment()),
            Tick::SleepZero => yield_!(tick_sleep_zero()),
            Tick::TokioYieldNow => yield_!(tick_tokio_yield_now()),
        }
        ticks += 1;
        assert!(
            ticks < PATIENCE,
            "{kind:?}: the other task never ran in {PATIENCE} ticks"
        );
    }
    ticks
}

#[test]
fn on_the_io_loop_a_spinning_coroutine_lets_a_callback_run() {
    for kind in TICKS {
        let ran = Rc::new(Cell::new(false));
        let ticks = IoLoop::new().run_sync(|| {
            let flag = ran.clone();
            IoLoop::current().add_callback(move || flag.set(true));
            spin(kind, ran.clone())
        });
        assert_eq!(ticks, 1, "{kind:?}");
    }
}

#[test]
fn on_a_local_pool_a_spinning_coroutine_lets_another_task_run() {
    // `tokio::task::yield_now` outside tokio wakes at once, as `moment` does.
    for kind in TICKS {
        let mut pool = LocalPool::new();
        let ran = Rc::new(Cell::new(false));
        let spinning = pool
            .spawner()
            .spawn_local_with_handle(spin(kind, ran.clone()))
            .unwrap();
        let flag = ran.clone();
        pool.spawner()
            .spawn_local(async move { flag.set(true) })
            .unwrap();
        assert_eq!(pool.run_until(spinning), 1, "{kind:?}");
    }
}

#[test]
fn on_tokio_a_spinning_coroutine_lets_another_task_run() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for kind in TICKS {
        let ran = Rc::new(Cell::new(false));
        let local = tokio::task::LocalSet::new();
        let ticks = local.block_on(&runtime, async {
            let spinning = tokio::task::spawn_local(spin(kind, ran.clone()));
            let flag = ran.clone();
            tokio::task::spawn_local(async move { flag.set(true) });
            spinning.await.unwrap()
        });
        assert!(ticks >= 1, "{kind:?}");
    }
    // On a multi-thread runtime: a `Send` spinner and a task on the same worker.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let ticks = runtime.block_on(async {
        tokio::spawn(async {
            let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = ran.clone();
            tokio::spawn(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
            let mut ticks = 0;
            while !ran.load(std::sync::atomic::Ordering::SeqCst) {
                tick_moment().await;
                ticks += 1;
                assert!(ticks < PATIENCE, "the other task never ran");
            }
            ticks
        })
        .await
        .unwrap()
    });
    assert!(ticks >= 1);
}
