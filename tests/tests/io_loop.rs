//! `IoLoop` and `PeriodicCallback`: the single-threaded loop, its callbacks, timers and
//! background coroutines.

use coroutine_runtime::*;
use coroutine_tests::{DropCounter, DropToken, Forever, after, panic_message, panic_message_of};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Sleeps on the current loop's own timer.
fn loop_sleep(delay: Duration) -> impl Future<Output = ()> {
    let (sender, receiver) = futures::channel::oneshot::channel();
    IoLoop::current().call_later(delay, move || {
        let _ = sender.send(());
    });
    async move {
        receiver.await.expect("the timer fired");
    }
}

/// A log shared by callbacks on one loop.
type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, entry: impl Into<String>) {
    log.borrow_mut().push(entry.into());
}

#[coroutine_runtime::coroutine]
fn divide(x: u32, y: u32) -> u32 {
    yield_!(moment);
    x / y
}

#[test]
fn run_sync_returns_the_coroutines_result() {
    assert_eq!(IoLoop::new().run_sync(|| divide(84, 2)), 42);
    assert_eq!(
        IoLoop::current().run_sync(|| async { "async block" }),
        "async block"
    );
}

#[test]
fn run_sync_accepts_closures_capturing_rc_and_borrowing_locals() {
    #[coroutine_runtime::coroutine]
    fn total(values: Rc<Vec<u32>>, extra: &Cell<u32>) -> u32 {
        yield_!(moment);
        extra.set(1);
        values.iter().sum::<u32>()
    }
    let values = Rc::new(vec![1, 2, 3]);
    let extra = Cell::new(0);
    assert_eq!(IoLoop::new().run_sync(|| total(values.clone(), &extra)), 6);
    assert_eq!(extra.get(), 1);
}

#[test]
fn inside_run_sync_current_is_that_loop_and_a_coroutine_can_spawn_onto_it() {
    #[coroutine_runtime::coroutine]
    fn spawner(log: Log) -> bool {
        let background = log.clone();
        IoLoop::current().spawn_callback(move || async move {
            push(&background, "background ran");
        });
        // Give the background coroutine one turn.
        yield_!(moment);
        yield_!(moment);
        push(&log, "spawner done");
        true
    }
    let io_loop = IoLoop::new();
    let log = Log::default();
    let inside = io_loop.run_sync(|| {
        let current = IoLoop::current();
        let log = log.clone();
        async move { current.same_loop(&IoLoop::current()) && spawner(log).await }
    });
    assert!(inside);
    assert_eq!(*log.borrow(), ["background ran", "spawner done"]);
    assert!(
        io_loop
            .run_sync(|| async { IoLoop::current() })
            .same_loop(&io_loop),
        "the coroutine saw another loop"
    );
}

#[test]
fn outside_a_running_loop_current_is_a_per_thread_default() {
    let here = IoLoop::current();
    assert!(here.same_loop(&IoLoop::current()));
    assert!(!here.same_loop(&IoLoop::new()));
    // Another thread has its own default loop; it runs coroutines there.
    let answer = thread::spawn(|| IoLoop::current().run_sync(|| divide(9, 3)))
        .join()
        .unwrap();
    assert_eq!(answer, 3);
}

#[test]
fn run_sync_timeout_fails_with_timeout_error_and_drops_the_coroutine() {
    let drops = DropCounter::new();
    let io_loop = IoLoop::new();
    let token = drops.token();
    let started = Instant::now();
    let result = io_loop.run_sync_timeout(Duration::from_millis(30), move || Forever(token));
    assert_eq!(result.unwrap_err().to_string(), "deadline has elapsed");
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(drops.dropped(), 1, "the timed-out coroutine was dropped");
    // The loop is usable afterwards.
    assert_eq!(io_loop.run_sync(|| divide(4, 2)), 2);
}

#[test]
fn run_sync_timeout_returns_the_result_when_in_time() {
    let io_loop = IoLoop::new();
    let result = io_loop.run_sync_timeout(Duration::from_secs(10), || async {
        loop_sleep(Duration::from_millis(5)).await;
        7
    });
    assert_eq!(result.ok(), Some(7));
}

#[test]
fn a_panic_in_the_run_sync_coroutine_reaches_the_caller_and_the_loop_stays_usable() {
    #[coroutine_runtime::coroutine]
    fn fails() -> u32 {
        yield_!(moment);
        panic!("main coroutine failed")
    }
    let io_loop = IoLoop::new();
    let message = panic_message_of(|| io_loop.run_sync(fails));
    assert_eq!(message, "main coroutine failed");
    assert_eq!(io_loop.run_sync(|| divide(6, 2)), 3);
    assert!(
        !IoLoop::current().same_loop(&io_loop),
        "the loop stayed current"
    );
}

#[test]
fn run_sync_inside_the_same_running_loop_is_rejected() {
    let io_loop = IoLoop::new();
    let inner = io_loop.clone();
    let message =
        panic_message_of(|| io_loop.run_sync(|| async move { inner.run_sync(|| async {}) }));
    assert!(message.contains("already running"), "{message}");
    assert_eq!(io_loop.run_sync(|| async { 1 }), 1);
}

#[test]
fn stopping_the_loop_before_the_run_sync_coroutine_completes_panics() {
    let io_loop = IoLoop::new();
    let message = panic_message_of(|| {
        io_loop.run_sync(|| async {
            IoLoop::current().stop();
            loop_sleep(Duration::from_secs(10)).await;
        });
    });
    assert!(
        message.contains("stopped before the coroutine"),
        "{message}"
    );
}

#[test]
fn spawn_callback_runs_a_background_coroutine_to_completion() {
    #[coroutine_runtime::coroutine]
    fn background(log: Log) {
        push(&log, "started");
        yield_!(loop_sleep(Duration::from_millis(5)));
        push(&log, "slept");
        yield_!(after(Duration::from_millis(5), ()));
        push(&log, "finished");
    }
    let io_loop = IoLoop::new();
    let log = Log::default();
    let spawned = log.clone();
    io_loop.spawn_callback(move || background(spawned));
    assert!(
        log.borrow().is_empty(),
        "spawn_callback starts on a later turn"
    );
    io_loop.run_sync(|| loop_sleep(Duration::from_millis(60)));
    assert_eq!(*log.borrow(), ["started", "slept", "finished"]);
}

#[test]
fn a_panicking_background_coroutine_is_reported_and_the_loop_runs_on() {
    #[coroutine_runtime::coroutine]
    fn explodes() {
        yield_!(moment);
        panic!("background failure");
    }
    let io_loop = IoLoop::new();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let sink = reports.clone();
    io_loop.set_panic_handler(move |payload| sink.borrow_mut().push(panic_message(&*payload)));
    let log = Log::default();
    io_loop.spawn_callback(explodes);
    io_loop.add_callback(|| panic!("callback failure"));
    io_loop.call_later(Duration::ZERO, || panic!("timer failure"));
    let survivor = log.clone();
    io_loop.spawn_callback(move || async move {
        loop_sleep(Duration::from_millis(5)).await;
        push(&survivor, "survivor finished");
    });
    let result = io_loop.run_sync(|| async {
        loop_sleep(Duration::from_millis(30)).await;
        "main finished"
    });
    assert_eq!(result, "main finished");
    assert_eq!(*log.borrow(), ["survivor finished"]);
    let mut reports = reports.borrow().clone();
    reports.sort();
    assert_eq!(
        reports,
        ["background failure", "callback failure", "timer failure"]
    );
}

#[test]
fn without_a_handler_a_background_panic_goes_to_stderr_and_the_loop_runs_on() {
    let io_loop = IoLoop::new();
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    io_loop.add_callback(move || {
        flag.set(true);
        panic!("reported on stderr");
    });
    assert_eq!(io_loop.run_sync(|| divide(10, 5)), 2);
    assert!(ran.get(), "the panicking callback never ran");
}

#[test]
fn add_callback_runs_callbacks_in_fifo_order_on_later_turns() {
    let io_loop = IoLoop::new();
    let log = Log::default();
    for i in 0..5 {
        let log = log.clone();
        io_loop.add_callback(move || {
            push(&log, format!("callback {i}"));
            if i == 0 {
                // Added during a turn: runs after the ones already queued.
                let log = log.clone();
                IoLoop::current().add_callback(move || push(&log, "added by callback 0"));
            }
        });
    }
    let future_log = log.clone();
    io_loop.spawn_callback(move || async move { push(&future_log, "spawned coroutine") });
    assert!(log.borrow().is_empty());
    io_loop.run_sync(|| async {
        for _ in 0..3 {
            yield_now().await;
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "callback 0",
            "callback 1",
            "callback 2",
            "callback 3",
            "callback 4",
            "spawned coroutine",
            "added by callback 0"
        ]
    );
}

/// Lets the loop run one turn.
async fn yield_now() {
    #[coroutine_runtime::coroutine(lazy)]
    fn turn() {
        yield_!(moment);
    }
    turn().await;
}

#[test]
fn call_later_fires_in_deadline_order_and_ties_in_insertion_order() {
    let io_loop = IoLoop::new();
    let log = Log::default();
    for (name, millis) in [("c", 30), ("a", 10), ("b1", 20), ("b2", 20), ("zero", 0)] {
        let log = log.clone();
        io_loop.call_later(Duration::from_millis(millis), move || push(&log, name));
    }
    let started = Instant::now();
    io_loop.run_sync(|| loop_sleep(Duration::from_millis(50)));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(*log.borrow(), ["zero", "a", "b1", "b2", "c"]);
}

#[test]
fn a_cancelled_timer_does_not_fire_and_cancelling_twice_or_late_is_harmless() {
    let io_loop = IoLoop::new();
    let log = Log::default();
    let cancelled = {
        let log = log.clone();
        io_loop.call_later(Duration::from_millis(5), move || push(&log, "cancelled"))
    };
    let removed = {
        let log = log.clone();
        io_loop.call_later(Duration::from_millis(5), move || push(&log, "removed"))
    };
    let fired = {
        let log = log.clone();
        io_loop.call_later(Duration::from_millis(5), move || push(&log, "fired"))
    };
    cancelled.cancel();
    cancelled.cancel();
    io_loop.remove_timeout(&removed);
    io_loop.run_sync(|| loop_sleep(Duration::from_millis(20)));
    fired.cancel();
    io_loop.remove_timeout(&fired);
    assert_eq!(*log.borrow(), ["fired"]);
}

#[test]
fn start_runs_until_stop_and_timers_wake_the_idle_loop() {
    let io_loop = IoLoop::new();
    let stopper = io_loop.clone();
    let started = Instant::now();
    io_loop.call_later(Duration::from_millis(20), move || stopper.stop());
    io_loop.start();
    assert!(started.elapsed() >= Duration::from_millis(20));
}

#[test]
fn add_future_calls_back_on_a_later_turn_even_for_a_complete_future() {
    let io_loop = IoLoop::new();
    let log = Log::default();
    let sink = log.clone();
    io_loop.add_future(std::future::ready(5), move |value| {
        push(&sink, format!("ready {value}"));
    });
    assert!(log.borrow().is_empty());
    let pool = ThreadPoolExecutor::new(1);
    let sink = log.clone();
    io_loop.add_future(pool.submit(|| 6 * 7), move |value| {
        push(&sink, format!("pool {value}"));
    });
    io_loop.run_sync(|| loop_sleep(Duration::from_millis(50)));
    assert_eq!(*log.borrow(), ["ready 5", "pool 42"]);
}

#[test]
fn a_wake_from_another_thread_unparks_the_idle_loop() {
    // Nothing on the loop but a coroutine waiting for a value sent from another thread, later.
    let io_loop = IoLoop::new();
    let (sender, receiver) = futures::channel::oneshot::channel();
    let helper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        sender.send("from another thread").unwrap();
    });
    let started = Instant::now();
    let value = io_loop.run_sync_timeout(Duration::from_secs(10), || receiver);
    assert_eq!(value, Ok(Ok("from another thread")));
    // A liveness bound, not a speed goal: a lost wake-up would sleep until the 10 s deadline.
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the wake-up took {waited:?}"
    );
    helper.join().unwrap();
}

#[test]
fn the_pools_futures_and_tasks_work_inside_the_loop() {
    #[coroutine_runtime::coroutine]
    fn mixed(pool: ThreadPoolExecutor) -> Result<u64, CallbackDropped> {
        let a = yield_!(pool.submit(|| {
            thread::sleep(Duration::from_millis(5));
            40
        }));
        let b = yield_!(Task::new(|callback| {
            thread::spawn(move || callback(2));
        }))?;
        Ok(a + b)
    }
    let pool = ThreadPoolExecutor::new(2);
    assert_eq!(IoLoop::new().run_sync(|| mixed(pool)), Ok(42));
}

#[test]
fn the_handle_adds_callbacks_from_other_threads_in_order_on_the_loop_thread() {
    let io_loop = IoLoop::new();
    let handle = io_loop.handle();
    let loop_thread = thread::current().id();
    let (sender, receiver) = mpsc::channel();
    let sender_thread = thread::spawn(move || {
        for i in 0..5 {
            let sender = sender.clone();
            handle.add_callback(move || {
                sender.send((i, thread::current().id())).unwrap();
            });
        }
        handle.spawn_callback(|| async {
            // Made on the loop thread: `Rc` is fine.
            let rc = Rc::new(());
            yield_now().await;
            drop(rc);
            IoLoop::current().stop();
        });
    });
    io_loop.start();
    sender_thread.join().unwrap();
    let calls: Vec<_> = receiver.try_iter().collect();
    assert_eq!(
        calls.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert!(calls.iter().all(|(_, thread)| *thread == loop_thread));
}

#[test]
fn the_handle_is_send_and_sync_and_the_loop_runs_non_send_work() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<IoLoopHandle>();
    // The loop itself stays on its thread (`IoLoop` holds `Rc`s); what crosses is the handle.
    let io_loop = IoLoop::new();
    let handle = io_loop.handle();
    // Non-`Send` work: a coroutine holding an `Rc` across its yields, on the loop's thread.
    let steps = Rc::new(Cell::new(0));
    let counter = Rc::clone(&steps);
    io_loop.spawn_callback(move || async move {
        for _ in 0..3 {
            yield_now().await;
            counter.set(counter.get() + 1);
        }
    });
    let joined = thread::spawn(move || {
        // Sent from another thread; made on the loop's thread, where it may hold an `Rc`.
        handle.spawn_callback(|| async {
            let local = Rc::new(Cell::new(0));
            for _ in 0..5 {
                yield_now().await;
                local.set(local.get() + 1);
            }
            assert_eq!(local.get(), 5);
            IoLoop::current().stop();
        });
    });
    io_loop.start();
    joined.join().unwrap();
    assert_eq!(
        steps.get(),
        3,
        "the loop did not run the non-`Send` coroutine"
    );
}

#[test]
fn the_handle_stops_the_loop_from_another_thread() {
    let io_loop = IoLoop::new();
    let handle = io_loop.handle();
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stopped);
    let started = Instant::now();
    let other_thread = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        flag.store(true, Ordering::SeqCst);
        handle.stop();
    });
    io_loop.start();
    // `start` returned because of the other thread's `stop`, not before it, and promptly (a
    // liveness bound: a lost wake-up would never return).
    assert!(stopped.load(Ordering::SeqCst), "start returned before stop");
    assert!(started.elapsed() >= Duration::from_millis(10));
    assert!(started.elapsed() < Duration::from_secs(5));
    other_thread.join().unwrap();
    // The stop was consumed: the loop runs again until the next one.
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    io_loop.add_callback(move || {
        flag.set(true);
        IoLoop::current().stop();
    });
    io_loop.start();
    assert!(ran.get());
}

#[test]
fn closing_the_loop_drops_its_tasks_and_what_is_added_later() {
    let drops = DropCounter::new();
    let io_loop = IoLoop::new();
    let token = drops.token();
    io_loop.spawn_callback(move || Forever(token));
    io_loop.run_sync(|| async {}); // the background task is now pending
    assert_eq!(drops.dropped(), 0);
    io_loop.close();
    assert_eq!(drops.dropped(), 1);
    let token: DropToken = drops.token();
    io_loop.spawn_callback(move || Forever(token));
    assert_eq!(drops.dropped(), 2);
    // `run_sync` still runs its own coroutine on a closed loop.
    assert_eq!(io_loop.run_sync(|| divide(8, 4)), 2);
}

#[test]
fn the_minute_loop_pattern_runs_in_the_background_every_period() {
    // The guide's `minute_loop`, with a short period, on the crate's `sleep`.
    #[coroutine_runtime::coroutine]
    fn do_something(log: Log) {
        push(&log, "tick");
    }

    #[coroutine_runtime::coroutine]
    fn minute_loop(log: Log) {
        loop {
            yield_!(do_something(log.clone()));
            yield_!(sleep(Duration::from_millis(10)));
        }
    }

    let io_loop = IoLoop::new();
    let log = Log::default();
    let background = log.clone();
    io_loop.spawn_callback(move || minute_loop(background));
    io_loop.run_sync(|| loop_sleep(Duration::from_millis(105)));
    // Ticks at 0, 10, …, 100 ms at best; each sleep is at least 10 ms, so at most 11.
    let ticks = log.borrow().len();
    assert!((3..=11).contains(&ticks), "{ticks} ticks in 105 ms");
    io_loop.close();
}

#[test]
fn periodic_callback_calls_every_period_between_start_and_stop() {
    let io_loop = IoLoop::new();
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let periodic = PeriodicCallback::new(
        move || counter.set(counter.get() + 1),
        Duration::from_millis(10),
    );
    assert!(!periodic.is_running());
    io_loop.run_sync(|| async {
        periodic.start();
        periodic.start(); // already running: no second schedule
        loop_sleep(Duration::from_millis(55)).await;
        periodic.stop();
        assert!(!periodic.is_running());
        let at_stop = calls.get();
        loop_sleep(Duration::from_millis(30)).await;
        assert_eq!(calls.get(), at_stop, "called after stop");
    });
    // Calls at 10, 20, … 50 ms at best (5); a slow machine may run fewer.
    let count = calls.get();
    assert!((1..=5).contains(&count), "{count} calls in 55 ms");
}

#[test]
fn periodic_callback_awaits_a_returned_coroutine_before_the_next_call() {
    #[coroutine_runtime::coroutine]
    fn slow_call(state: Rc<(Cell<u32>, Cell<u32>, Cell<bool>)>) {
        let (starts, finishes, busy) = &*state;
        assert!(!busy.get(), "calls overlapped");
        busy.set(true);
        starts.set(starts.get() + 1);
        // Longer than the period.
        yield_!(loop_sleep(Duration::from_millis(15)));
        finishes.set(finishes.get() + 1);
        busy.set(false);
    }
    let io_loop = IoLoop::new();
    let reports = Rc::new(Cell::new(0));
    let sink = reports.clone();
    io_loop.set_panic_handler(move |_| sink.set(sink.get() + 1));
    let state = Rc::new((Cell::new(0), Cell::new(0), Cell::new(false)));
    let shared = state.clone();
    let periodic =
        PeriodicCallback::new(move || slow_call(shared.clone()), Duration::from_millis(5));
    io_loop.run_sync(|| async {
        periodic.start();
        loop_sleep(Duration::from_millis(80)).await;
        periodic.stop();
        loop_sleep(Duration::from_millis(30)).await;
    });
    let (starts, finishes, _) = &*state;
    assert_eq!(reports.get(), 0, "a call saw another in progress");
    assert!(starts.get() >= 2, "only {} calls", starts.get());
    // Each call takes 15 ms and none overlap: at most 80 / 15 of them started.
    assert!(starts.get() <= 6, "{} calls in 80 ms", starts.get());
    assert_eq!(
        starts.get(),
        finishes.get(),
        "stop let the last call finish"
    );
}

#[test]
fn a_panicking_periodic_callback_is_reported_and_the_schedule_goes_on() {
    let io_loop = IoLoop::new();
    let reports = Rc::new(Cell::new(0));
    let sink = reports.clone();
    io_loop.set_panic_handler(move |_| sink.set(sink.get() + 1));
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let periodic = PeriodicCallback::new(
        move || -> () {
            counter.set(counter.get() + 1);
            panic!("periodic failure {}", counter.get());
        },
        Duration::from_millis(5),
    );
    io_loop.run_sync(|| async {
        periodic.start();
        while calls.get() < 3 {
            loop_sleep(Duration::from_millis(5)).await;
        }
    });
    assert!(calls.get() >= 3);
    assert_eq!(reports.get(), calls.get());
}

#[test]
fn dropping_a_periodic_callback_stops_it() {
    let io_loop = IoLoop::new();
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    io_loop.run_sync(|| async {
        let periodic = PeriodicCallback::new(
            move || counter.set(counter.get() + 1),
            Duration::from_millis(5),
        );
        periodic.start();
        drop(periodic);
        loop_sleep(Duration::from_millis(30)).await;
    });
    assert_eq!(calls.get(), 0);
}

#[test]
#[should_panic(expected = "needs a positive period")]
fn a_periodic_callback_with_a_zero_period_is_rejected() {
    let _ = PeriodicCallback::new(|| {}, Duration::ZERO);
}

#[test]
fn a_periodic_callback_with_a_period_too_long_to_represent_never_fires() {
    let io_loop = IoLoop::new();
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let periodic = PeriodicCallback::new(move || counter.set(counter.get() + 1), Duration::MAX);
    io_loop.run_sync(|| async {
        periodic.start();
        loop_sleep(Duration::from_millis(10)).await;
    });
    assert!(periodic.is_running());
    assert_eq!(calls.get(), 0);
}

// ---- Tokio underneath ---------------------------------------------------------------------------

#[test]
fn tokio_timers_tasks_and_local_tasks_work_inside_run_sync() {
    #[coroutine_runtime::coroutine]
    fn mixed() -> (u32, u32) {
        let started = tokio::time::Instant::now();
        yield_!(tokio::time::sleep(Duration::from_millis(10)));
        assert!(started.elapsed() >= Duration::from_millis(10));
        let sent = yield_!(tokio::spawn(async { 40 })).expect("tokio::spawn");
        let shared = Rc::new(Cell::new(2)); // not `Send`: a local task
        let local = tokio::task::spawn_local(async move { shared.get() });
        (sent, yield_!(local).expect("spawn_local"))
    }
    assert_eq!(IoLoop::new().run_sync(mixed), (40, 2));
}

#[test]
fn a_tokio_tcp_listener_and_client_talk_over_loopback_inside_run_sync() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers each line-less message with its upper case, on one connection.
    #[coroutine_runtime::coroutine]
    fn serve_once(listener: tokio::net::TcpListener) {
        let (mut socket, _) = yield_!(listener.accept()).expect("accept");
        let mut buffer = vec![0; 64];
        let read = yield_!(socket.read(&mut buffer)).expect("read");
        let answer = buffer[..read].to_ascii_uppercase();
        yield_!(socket.write_all(&answer)).expect("write");
    }

    #[coroutine_runtime::coroutine]
    fn client() -> String {
        let listener = yield_!(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let address = listener.local_addr().expect("address");
        IoLoop::current().spawn_callback(move || serve_once(listener));
        let mut stream = yield_!(tokio::net::TcpStream::connect(address)).expect("connect");
        yield_!(stream.write_all(b"over loopback")).expect("write");
        let mut answer = String::new();
        yield_!(stream.read_to_string(&mut answer)).expect("read");
        answer
    }

    let io_loop = IoLoop::new();
    let answer = io_loop.run_sync_timeout(Duration::from_secs(10), client);
    assert_eq!(answer.as_deref(), Ok("OVER LOOPBACK"));
}

#[test]
fn an_axum_server_and_a_hyper_client_run_on_the_loop() {
    use axum::body::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    async fn slow_hello() -> &'static str {
        tokio::time::sleep(Duration::from_millis(100)).await;
        "hello from axum"
    }

    #[coroutine_runtime::coroutine]
    fn fetch(url: String) -> String {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let uri = url.parse().expect("a valid URL");
        let response = yield_!(client.get(uri)).expect("the request");
        assert!(response.status().is_success());
        let body = yield_!(response.into_body().collect()).expect("the body");
        String::from_utf8(body.to_bytes().to_vec()).expect("UTF-8")
    }

    #[coroutine_runtime::coroutine]
    fn main() -> (Vec<String>, Duration) {
        let listener = yield_!(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let app = axum::Router::new().route("/", axum::routing::get(slow_hello));
        IoLoop::current().spawn_callback(move || async move {
            axum::serve(listener, app).await.expect("the server");
        });
        let started = Instant::now();
        let bodies = yield_!((0..5).map(|_| fetch(url.clone())).collect::<Vec<_>>());
        (bodies, started.elapsed())
    }

    let io_loop = IoLoop::new();
    let (bodies, elapsed) = io_loop
        .run_sync_timeout(Duration::from_secs(20), main)
        .expect("in time");
    assert_eq!(bodies, vec!["hello from axum"; 5]);
    // Five 100 ms answers took less than two of them in a row: the server's handlers and the
    // client's requests overlapped on one thread.
    assert!(elapsed < Duration::from_millis(200), "{elapsed:?}");
    io_loop.close();
}

#[test]
fn inside_a_users_tokio_runtime_the_loop_refuses_to_run_with_a_clear_message() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let message = panic_message_of(IoLoop::current);
        assert!(message.contains("inside a tokio runtime"), "{message}");
        let io_loop = IoLoop::new();
        let message = panic_message_of(|| io_loop.run_sync(|| async {}));
        assert!(message.contains("tokio runtimes do not nest"), "{message}");
        let message = panic_message_of(|| io_loop.start());
        assert!(message.contains("tokio runtimes do not nest"), "{message}");
        // The coroutines themselves are futures: `.await` them.
        assert_eq!(divide(8, 2).await, 4);
    });
    // On a multi-thread runtime, the same, from a task on a worker thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let message = runtime
        .block_on(async {
            tokio::spawn(async { panic_message_of(|| IoLoop::new().run_sync(|| async {})) }).await
        })
        .unwrap();
    assert!(message.contains("tokio runtimes do not nest"), "{message}");
    // Outside the runtime, the loop runs as usual.
    assert_eq!(IoLoop::new().run_sync(|| divide(8, 2)), 4);
}

#[test]
fn one_loop_cannot_run_inside_another() {
    let outer = IoLoop::new();
    let message = outer.run_sync(|| async {
        let inner = IoLoop::new();
        panic_message_of(|| inner.run_sync(|| async {}))
    });
    assert!(message.contains("inside another `IoLoop`"), "{message}");
}

// ---- Reference cycles (issue 14, item 7) --------------------------------------------------------

#[test]
fn dropping_the_last_handle_frees_pending_timers_tasks_and_callbacks() {
    let drops = DropCounter::new();
    let io_loop = IoLoop::new();
    // The leak-free forms: callbacks that need the loop ask for `IoLoop::current()`.
    let token = drops.token();
    io_loop.call_later(Duration::from_secs(3600), move || {
        drop(token);
        IoLoop::current().stop();
    });
    let token = drops.token();
    io_loop.spawn_callback(move || async move {
        let _token = token;
        IoLoop::current().call_later(Duration::from_secs(3600), || {});
        std::future::pending::<()>().await;
    });
    let token = drops.token();
    io_loop.add_callback(move || drop(token));
    let token = drops.token();
    io_loop.add_callback(move || {
        let _token = token;
        IoLoop::current().add_callback(|| {});
    });
    io_loop.run_sync(|| async {}); // the background coroutine is now pending, with its timer
    assert_eq!(drops.dropped(), 2, "the two callbacks ran");
    drop(io_loop);
    assert_eq!(
        drops.dropped(),
        4,
        "the timer's and the coroutine's captures were freed"
    );
}

#[test]
fn closing_the_loop_breaks_a_cycle_through_a_captured_clone() {
    let drops = DropCounter::new();
    let io_loop = IoLoop::new();
    let token = drops.token();
    let stopper = io_loop.clone(); // the docs' old watchdog: a cycle while the timer is pending
    io_loop.call_later(Duration::from_secs(3600), move || {
        drop(token);
        stopper.stop();
    });
    let token = drops.token();
    let captured = io_loop.clone();
    io_loop.spawn_callback(move || async move {
        let _token = token;
        let _loop = captured;
        std::future::pending::<()>().await;
    });
    io_loop.run_sync(|| async {});
    assert_eq!(drops.dropped(), 0);
    io_loop.close();
    assert_eq!(
        drops.dropped(),
        2,
        "close dropped the timer and the coroutine"
    );
    drop(io_loop);
}

#[test]
fn a_timer_still_fires_after_its_loop_handle_was_cloned_and_dropped() {
    let io_loop = IoLoop::new();
    let fired = Rc::new(Cell::new(false));
    let flag = fired.clone();
    io_loop
        .clone()
        .call_later(Duration::from_millis(5), move || flag.set(true));
    io_loop.run_sync(|| tokio::time::sleep(Duration::from_millis(20)));
    assert!(fired.get());
}
