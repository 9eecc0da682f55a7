//! The `#[coroutine]` attribute and its Runner: yields, returns, eager start, panics, drops.

use coroutine_runtime::*;
use coroutine_tests::{
    DropCounter, Forever, after, assert_send_sync, block_on, panic_message_of, poll_once,
};
use futures::channel::oneshot;
use std::cell::{Cell, RefCell};
use std::future::ready;
use std::task::Poll;
use std::time::{Duration, Instant};

#[coroutine_runtime::coroutine]
fn double(x: u32) -> u32 {
    let y = yield_!(ready(x));
    y * 2
}

#[test]
fn yield_evaluates_to_the_future_output() {
    assert_eq!(block_on("`double(21)`", double(21)), 42);
}

#[coroutine_runtime::coroutine]
fn yields_everywhere(log: &RefCell<Vec<String>>) -> u32 {
    // In `let`, nested in an expression, in a `match` scrutinee, `if` and `while` conditions.
    let a = yield_!(ready(1)) + yield_!(ready(2));
    let b = match yield_!(ready(Some(3))) {
        Some(v) if v > 0 => v,
        _ => 100,
    };
    if yield_!(ready(true)) {
        log.borrow_mut().push(format!("if {a} {b}"));
    }
    let mut remaining = 3;
    while yield_!(ready(remaining > 0)) {
        remaining -= 1;
        // Bound first: a `RefCell` borrow must not be held across a yield.
        let line = format!("loop {}", yield_!(ready(remaining)));
        log.borrow_mut().push(line);
    }
    for i in 0..2 {
        yield_!(ready(()));
        log.borrow_mut().push(format!("for {i}"));
    }
    // Inside another macro's arguments.
    let line = format!("macro {}", yield_!(ready(7)));
    log.borrow_mut().push(line);
    let mut v = vec![yield_!(ready(8)), yield_!(ready(9))];
    v.push(yield_!(ready(10)));
    a + b + v.iter().sum::<u32>()
}

#[test]
fn yield_stands_anywhere_an_expression_may() {
    let log = RefCell::new(Vec::new());
    let total = block_on("`yields_everywhere(&log)`", yields_everywhere(&log));
    assert_eq!(total, 1 + 2 + 3 + 8 + 9 + 10);
    assert_eq!(
        *log.borrow(),
        [
            "if 3 3", "loop 2", "loop 1", "loop 0", "for 0", "for 1", "macro 7"
        ]
    );
}

#[derive(Debug, PartialEq)]
struct FetchError(&'static str);

// Stands for a real fetch: an `async fn` that a coroutine yields.
#[allow(clippy::unused_async)]
async fn fetch(ok: bool) -> Result<u32, FetchError> {
    if ok { Ok(5) } else { Err(FetchError("boom")) }
}

#[coroutine_runtime::coroutine]
fn question_mark(ok: bool) -> Result<u32, FetchError> {
    let v = yield_!(fetch(ok))?;
    let parsed: u32 = "3".parse().map_err(|_| FetchError("parse"))?;
    Ok(v + parsed)
}

#[test]
fn question_mark_works_on_yields_and_elsewhere() {
    assert_eq!(
        block_on("`question_mark(true)`", question_mark(true)),
        Ok(8)
    );
    assert_eq!(
        block_on("`question_mark(false)`", question_mark(false)),
        Err(FetchError("boom"))
    );
}

#[coroutine_runtime::coroutine]
fn returns(how: u8) -> u32 {
    yield_!(ready(()));
    match how {
        0 => return 10,
        1 => return Return(11),
        2 => {}
        _ => return Return(yield_!(ready(13))),
    }
    if how == 2 { Return(12) } else { 0 }
}

#[coroutine_runtime::coroutine]
fn tail_value() -> &'static str {
    yield_!(ready(()));
    "tail"
}

#[test]
fn every_way_of_returning_gives_the_value() {
    let results: Vec<u32> = (0..4)
        .map(|how| block_on("`returns(how)`", returns(how)))
        .collect();
    assert_eq!(results, [10, 11, 12, 13]);
    assert_eq!(block_on("`tail_value()`", tail_value()), "tail");
}

#[coroutine_runtime::coroutine]
fn steps(log: &RefCell<Vec<&'static str>>) {
    log.borrow_mut().push("before");
    yield_!(moment);
    log.borrow_mut().push("after");
}

#[test]
fn a_call_runs_the_body_up_to_its_first_suspension() {
    let log = RefCell::new(Vec::new());
    let running = steps(&log);
    assert_eq!(*log.borrow(), ["before"]);
    block_on("`running`", running);
    assert_eq!(*log.borrow(), ["before", "after"]);
}

#[coroutine_runtime::coroutine]
fn never_suspends(calls: &Cell<u32>) -> u32 {
    calls.set(calls.get() + 1);
    yield_!(ready(1)) + yield_!(ready(2))
}

#[test]
fn a_body_that_never_suspends_has_finished_when_the_call_returns() {
    let calls = Cell::new(0);
    let mut finished = never_suspends(&calls);
    assert_eq!(calls.get(), 1);
    assert_eq!(poll_once(&mut finished), Poll::Ready(3));
}

#[coroutine_runtime::coroutine(lazy)]
fn lazy_steps(log: &RefCell<Vec<&'static str>>) -> u8 {
    log.borrow_mut().push("ran");
    yield_!(moment);
    1
}

#[test]
fn a_lazy_coroutine_starts_on_first_poll() {
    let log = RefCell::new(Vec::new());
    let running = lazy_steps(&log);
    assert!(log.borrow().is_empty());
    assert_eq!(block_on("`running`", running), 1);
    assert_eq!(*log.borrow(), ["ran"]);
}

#[coroutine_runtime::coroutine]
fn fetch_next_chunk(
    log: &RefCell<Vec<&'static str>>,
    requested: oneshot::Sender<()>,
    reply: oneshot::Receiver<u32>,
) -> u32 {
    log.borrow_mut().push("fetch sent its request");
    requested
        .send(())
        .expect("the caller waits for the request");
    let chunk = yield_!(reply).expect("the caller replies");
    log.borrow_mut().push("fetch got its reply");
    chunk
}

#[coroutine_runtime::coroutine]
fn interleaved(log: &RefCell<Vec<&'static str>>) -> u32 {
    // The seed's interleaving pattern: start a fetch, do other work, then wait for it.
    let (requested, request_seen) = oneshot::channel();
    let (reply, replied) = oneshot::channel();
    let fetch_future = fetch_next_chunk(log, requested, replied);
    // The other work waits on the fetch's request: it finishes only if the fetch is already
    // under way while the caller works, not when it is yielded at the end.
    yield_!(request_seen).expect("the fetch has started");
    log.borrow_mut().push("flushed");
    reply.send(1).expect("the fetch waits for its reply");
    yield_!(fetch_future)
}

#[test]
fn interleaving_overlaps_a_saved_future_with_other_work() {
    let log = RefCell::new(Vec::new());
    assert_eq!(block_on("the interleaved coroutine", interleaved(&log)), 1);
    assert_eq!(
        *log.borrow(),
        ["fetch sent its request", "flushed", "fetch got its reply"]
    );
}

#[coroutine_runtime::coroutine]
fn sub_started(log: &RefCell<Vec<&'static str>>) -> u32 {
    log.borrow_mut().push("sub started");
    yield_!(after(Duration::from_millis(150), ()));
    log.borrow_mut().push("sub finished");
    2
}

#[coroutine_runtime::coroutine]
fn caller_of_started(log: &RefCell<Vec<&'static str>>) -> u32 {
    let sub = sub_started(log);
    log.borrow_mut().push("caller goes on");
    yield_!(after(Duration::from_millis(150), ()));
    yield_!(sub) + 1
}

#[test]
fn a_coroutine_called_from_a_coroutine_starts_before_it_is_yielded() {
    let log = RefCell::new(Vec::new());
    let start = Instant::now();
    assert_eq!(
        block_on("`caller_of_started(&log)`", caller_of_started(&log)),
        3
    );
    assert!(start.elapsed() < Duration::from_millis(290));
    assert_eq!(
        *log.borrow(),
        ["sub started", "caller goes on", "sub finished"]
    );
}

#[coroutine_runtime::coroutine]
fn factorial(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    let rest = yield_!(factorial(n - 1));
    n.wrapping_mul(rest)
}

#[coroutine_runtime::coroutine]
fn depth(n: u32) -> u32 {
    if n == 0 {
        yield_!(moment);
        return 0;
    }
    yield_!(depth(n - 1)) + 1
}

#[test]
fn a_coroutine_can_recurse_a_thousand_deep() {
    assert_eq!(
        block_on("`factorial(20)`", factorial(20)),
        2_432_902_008_176_640_000
    );
    assert_eq!(block_on("`depth(1000)`", depth(1000)), 1000);
}

#[coroutine_runtime::coroutine]
fn many_ready_yields(n: u32) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum += u64::from(yield_!(ready(i)));
    }
    sum
}

#[test]
fn a_million_ready_yields_fit_a_small_stack() {
    let total = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            block_on(
                "`many_ready_yields(1_000_000)`",
                many_ready_yields(1_000_000),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(total, 499_999_500_000);
}

#[coroutine_runtime::coroutine]
fn panics_before_suspending(panic: bool) -> u32 {
    assert!(!panic, "early failure");
    yield_!(ready(1))
}

#[coroutine_runtime::coroutine]
fn panics_after_suspending() -> u32 {
    yield_!(moment);
    panic!("late failure");
}

#[test]
fn a_panic_before_the_first_suspension_surfaces_at_the_await() {
    // The call returns normally...
    let running = panics_before_suspending(true);
    // ...and the await raises the panic.
    let message = panic_message_of(|| block_on("`running`", running));
    assert_eq!(message, "early failure");
    assert_eq!(
        block_on(
            "`panics_before_suspending(false)`",
            panics_before_suspending(false)
        ),
        1
    );
}

#[test]
fn a_panic_after_a_suspension_surfaces_at_the_await() {
    let running = panics_after_suspending();
    let message = panic_message_of(|| block_on("`running`", running));
    assert_eq!(message, "late failure");
}

#[coroutine_runtime::coroutine]
fn waits_forever(token: coroutine_tests::DropToken, guard: coroutine_tests::DropToken) {
    let _guard = guard;
    yield_!(Forever(token));
}

#[test]
fn dropping_a_suspended_coroutine_drops_what_it_waits_on() {
    let counter = DropCounter::new();
    let running = waits_forever(counter.token(), counter.token());
    assert_eq!(counter.dropped(), 0);
    drop(running);
    assert_eq!(counter.dropped(), 2);
}

#[coroutine_runtime::coroutine]
fn unused_argument(_token: coroutine_tests::DropToken) {
    yield_!(moment);
}

#[test]
fn arguments_live_as_long_as_the_coroutine() {
    let counter = DropCounter::new();
    let running = unused_argument(counter.token());
    assert_eq!(counter.dropped(), 0, "the future owns its arguments");
    block_on("`running`", running);
    assert_eq!(counter.dropped(), 1);
}

#[test]
fn coroutines_run_on_tokio() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on tokio",
        async {
            let handle = tokio::spawn(many_ready_yields(1000));
            let slept = tokio::spawn(sleeps_on_tokio());
            (handle.await.unwrap(), slept.await.unwrap())
        },
    ));
    assert_eq!(result, (499_500, 5));
}

#[coroutine_runtime::coroutine]
fn sleeps_on_tokio() -> u32 {
    yield_!(tokio::time::sleep(Duration::from_millis(10)));
    5
}

#[tokio::test(flavor = "current_thread")]
async fn coroutines_are_awaited_from_async_code() {
    assert_eq!(double(4).await, 8);
    assert_eq!(sleeps_on_tokio().await, 5);
}

/// Holds a started sub-coroutine across a yield.
#[coroutine_runtime::coroutine]
fn holds_a_runner(x: u32) -> u32 {
    let started = double(x);
    yield_!(moment);
    yield_!(started)
}

#[test]
fn a_coroutine_is_send_and_sync_when_its_body_is_as_an_async_fn_is() {
    let running = assert_send_sync(holds_a_runner(4));
    assert_eq!(block_on("`running`", running), 8);
    // Also once the body has panicked during the call and keeps the panic for the await.
    let panicked = assert_send_sync(panics_before_suspending(true));
    assert!(panicked.is_finished());
}
