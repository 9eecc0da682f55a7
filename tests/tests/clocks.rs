//! `sleep`, `with_timeout` and `PeriodicCallback` follow the clock of the tokio runtime they run
//! in (the `IoLoop` included), so a paused clock makes hour-long waits instant; outside tokio
//! they run on a timer thread.

use coroutine_runtime::*;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

/// A liveness bound for the paused tests: far above what they take, far below an hour.
const WALL_LIMIT: Duration = Duration::from_secs(30);

/// A `TimeoutError` (it has no public constructor).
fn timed_out() -> TimeoutError {
    futures::executor::block_on(with_timeout(Duration::ZERO, std::future::pending::<()>()))
        .unwrap_err()
}

#[coroutine_runtime::coroutine]
fn an_hour_of_waiting() -> Result<(), TimeoutError> {
    yield_!(sleep(HOUR));
    let never = std::future::pending::<()>();
    yield_!(with_timeout(HOUR, never))
}

#[tokio::test(start_paused = true)]
async fn an_hour_long_sleep_is_instant_under_a_paused_tokio_test() {
    let expected = std::thread::spawn(timed_out).join().unwrap();
    let wall = Instant::now();
    let clock = tokio::time::Instant::now();
    assert_eq!(an_hour_of_waiting().await, Err(expected));
    assert!(
        clock.elapsed() >= 2 * HOUR,
        "tokio's clock moved {:?}",
        clock.elapsed()
    );
    assert!(
        wall.elapsed() < WALL_LIMIT,
        "the wall clock moved {:?}",
        wall.elapsed()
    );
}

#[test]
fn a_paused_clock_applies_on_the_io_loop_to_sleep_with_timeout_and_periodic_callbacks() {
    let io_loop = IoLoop::new();
    let wall = Instant::now();
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let periodic = PeriodicCallback::new(
        move || counter.set(counter.get() + 1),
        Duration::from_secs(600),
    );
    // Made outside the loop: its `block_on` would wait forever on the loop's own timer.
    let expected = Err(timed_out());
    let clock = io_loop.run_sync(|| async {
        tokio::time::pause();
        let clock = tokio::time::Instant::now();
        periodic.start();
        assert_eq!(an_hour_of_waiting().await, expected);
        periodic.stop();
        clock.elapsed()
    });
    assert!(clock >= 2 * HOUR, "the loop's clock moved {clock:?}");
    // One call every 10 minutes for two hours; the last may fall on the edge.
    assert!((11..=12).contains(&calls.get()), "{} calls", calls.get());
    assert!(
        wall.elapsed() < WALL_LIMIT,
        "the wall clock moved {:?}",
        wall.elapsed()
    );
}

#[test]
fn sleep_and_with_timeout_work_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let wall = Instant::now();
    let result = runtime.block_on(async {
        tokio::spawn(async {
            sleep(Duration::from_millis(20)).await;
            with_timeout(Duration::from_millis(10), std::future::pending::<()>()).await
        })
        .await
        .unwrap()
    });
    assert_eq!(result, Err(timed_out()));
    assert!(wall.elapsed() >= Duration::from_millis(30));
}

#[test]
fn outside_tokio_sleep_and_with_timeout_use_a_timer_thread() {
    #[coroutine_runtime::coroutine]
    fn nap() -> Result<u32, TimeoutError> {
        yield_!(sleep(Duration::from_millis(10)));
        yield_!(with_timeout(
            Duration::from_millis(10),
            sleep(Duration::from_secs(10))
        ))?;
        Ok(1)
    }
    let wall = Instant::now();
    assert_eq!(futures::executor::block_on(nap()), Err(timed_out()));
    assert!(wall.elapsed() >= Duration::from_millis(20));
    assert_eq!(smol::block_on(nap()), Err(timed_out()));
    assert!(format!("{:?}", sleep(Duration::from_secs(1))).contains("timer thread"));
}
