//! The `tornado.gen` toolkit: `multi`, `try_multi`, `WaitIterator`, `with_timeout`, `sleep` and
//! `moment`, on futures' executor and on tokio.

use coroutine_runtime::*;
use coroutine_tests::{DropCounter, DropToken, Forever, InFlight, later, on_both, poll_once};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::future::ready;
use std::task::Poll;
use std::time::{Duration, Instant};

#[coroutine_runtime::coroutine]
fn both_ways() -> (Vec<u32>, Vec<u32>, BTreeMap<char, u32>) {
    let yielded = yield_!(vec![later(20, 1), later(0, 2)]);
    let called = yield_!(multi(vec![later(20, 1), later(0, 2)]));
    let map = yield_!(multi(BTreeMap::from([
        ('b', later(0, 2)),
        ('a', later(10, 1))
    ])));
    (yielded, called, map)
}

#[test]
fn multi_is_the_same_as_yielding_the_collection() {
    on_both(|| async {
        let (yielded, called, map) = both_ways().await;
        assert_eq!(yielded, [1, 2]);
        assert_eq!(called, yielded);
        assert_eq!(map.into_iter().collect::<Vec<_>>(), [('a', 1), ('b', 2)]);
    });
}

/// Gives `Ok(value)` or `Err(error)` after `millis`, holding `token` until then.
async fn outcome(
    token: DropToken,
    millis: u64,
    result: Result<u32, &'static str>,
) -> Result<u32, &'static str> {
    later(millis, ()).await;
    drop(token);
    result
}

#[test]
fn try_multi_collects_every_ok_in_shape() {
    on_both(|| async {
        let counter = DropCounter::new();
        let values = try_multi(vec![
            outcome(counter.token(), 30, Ok(1)),
            outcome(counter.token(), 0, Ok(2)),
            outcome(counter.token(), 15, Ok(3)),
        ])
        .await;
        assert_eq!(values, Ok(vec![1, 2, 3]));
        let map = try_multi(HashMap::from([
            ("x", outcome(counter.token(), 10, Ok(10))),
            ("y", outcome(counter.token(), 0, Ok(20))),
        ]))
        .await
        .expect("no child failed");
        assert_eq!((map["x"], map["y"]), (10, 20));
    });
}

#[coroutine_runtime::coroutine]
fn fails_fast(counter: &DropCounter) -> (Result<Vec<u32>, &'static str>, Duration, usize) {
    let forever_token = counter.token();
    let children: Vec<futures::future::BoxFuture<'static, Result<u32, &'static str>>> = vec![
        Box::pin(outcome(counter.token(), 10_000, Ok(1))),
        Box::pin(outcome(counter.token(), 50, Err("failed"))),
        Box::pin(async move {
            Forever(forever_token).await;
            Ok(0)
        }),
        Box::pin(outcome(counter.token(), 10_000, Err("too late"))),
    ];
    let start = Instant::now();
    let result = yield_!(try_multi(children));
    // Read at once: the other children must already be gone.
    (result, start.elapsed(), counter.dropped())
}

#[test]
fn try_multi_fails_fast_and_drops_the_other_children() {
    on_both(|| async {
        let counter = DropCounter::new();
        let (result, elapsed, dropped) = fails_fast(&counter).await;
        assert_eq!(result, Err("failed"));
        assert!(
            elapsed < Duration::from_secs(2),
            "try_multi should resolve at the first error (~50 ms), took {elapsed:?}"
        );
        assert_eq!(
            dropped, 4,
            "every child was dropped when try_multi resolved"
        );
    });
}

#[test]
fn try_multi_gives_the_first_error_in_time_not_by_position() {
    on_both(|| async {
        let counter = DropCounter::new();
        let result = try_multi([
            outcome(counter.token(), 300, Err("first by position")),
            outcome(counter.token(), 20, Err("first in time")),
        ])
        .await;
        assert_eq!(result, Err("first in time"));
    });
}

#[coroutine_runtime::coroutine]
fn in_finishing_order() -> Vec<(Option<usize>, Option<usize>, char)> {
    let mut wait_iterator =
        WaitIterator::new(vec![later(300, 'a'), later(10, 'b'), later(150, 'c')]);
    let mut seen = Vec::new();
    while !wait_iterator.done() {
        let result = yield_!(wait_iterator.next());
        seen.push((
            wait_iterator.current_index(),
            wait_iterator.current_key().copied(),
            result,
        ));
    }
    seen.push((
        wait_iterator.current_index(),
        wait_iterator.current_key().copied(),
        '-',
    ));
    seen
}

#[test]
fn wait_iterator_hands_out_results_in_finishing_order() {
    on_both(|| async {
        assert_eq!(
            in_finishing_order().await,
            [
                (Some(1), Some(1), 'b'),
                (Some(2), Some(2), 'c'),
                (Some(0), Some(0), 'a'),
                (None, None, '-'),
            ]
        );
    });
}

#[coroutine_runtime::coroutine]
fn keyed() -> Vec<(&'static str, u32, bool)> {
    let mut wait_iterator = WaitIterator::from_map(HashMap::from([
        ("slow", later(300, 3)),
        ("fast", later(0, 1)),
        ("middle", later(150, 2)),
    ]));
    let mut seen = Vec::new();
    let mut indices = Vec::new();
    while !wait_iterator.done() {
        let value = yield_!(wait_iterator.next());
        let key = *wait_iterator
            .current_key()
            .expect("a result was handed out");
        indices.push(
            wait_iterator
                .current_index()
                .expect("a result was handed out"),
        );
        seen.push((key, value, false));
    }
    indices.sort_unstable();
    let done_resets =
        wait_iterator.current_key().is_none() && wait_iterator.current_index().is_none();
    seen.push(("", 0, done_resets && indices == [0, 1, 2]));
    seen
}

#[test]
fn wait_iterator_from_a_map_gives_the_keys() {
    on_both(|| async {
        assert_eq!(
            keyed().await,
            [
                ("fast", 1, false),
                ("middle", 2, false),
                ("slow", 3, false),
                ("", 0, true)
            ]
        );
    });
}

#[test]
fn wait_iterator_is_a_stream_in_the_same_order() {
    on_both(|| async {
        let mut stream = WaitIterator::new(vec![later(300, 'a'), later(0, 'b'), later(150, 'c')]);
        let mut seen = Vec::new();
        while let Some(result) = StreamExt::next(&mut stream).await {
            seen.push((stream.current_index(), result));
        }
        assert_eq!(seen, [(Some(1), 'b'), (Some(2), 'c'), (Some(0), 'a')]);
        assert_eq!(stream.current_index(), None);
        assert!(stream.done());

        let collected: Vec<char> = WaitIterator::new(vec![later(150, 'x'), later(0, 'y')])
            .collect()
            .await;
        assert_eq!(collected, ['y', 'x']);
    });
}

#[test]
fn wait_iterator_results_of_one_pass_come_in_input_order() {
    let mut wait_iterator = WaitIterator::new(vec![ready(1), ready(2), ready(3)]);
    let mut seen = Vec::new();
    while !wait_iterator.done() {
        let Poll::Ready(value) = poll_once(&mut wait_iterator.next()) else {
            panic!("ready futures are handed out at once");
        };
        seen.push((wait_iterator.current_index(), value));
    }
    assert_eq!(seen, [(Some(0), 1), (Some(1), 2), (Some(2), 3)]);
}

#[test]
fn wait_iterator_hands_out_errors_and_goes_on() {
    on_both(|| async {
        let counter = DropCounter::new();
        let mut wait_iterator = WaitIterator::new(vec![
            outcome(counter.token(), 150, Ok(1)),
            outcome(counter.token(), 0, Err("failed")),
        ]);
        assert_eq!(wait_iterator.next().await, Err("failed"));
        assert_eq!(wait_iterator.next().await, Ok(1));
        assert!(wait_iterator.done());
    });
}

#[test]
fn dropping_a_wait_iterator_drops_the_futures_still_running() {
    let counter = DropCounter::new();
    let mut wait_iterator = WaitIterator::new(vec![
        futures::future::Either::Left(ready(())),
        futures::future::Either::Right(Forever(counter.token())),
        futures::future::Either::Right(Forever(counter.token())),
    ]);
    assert_eq!(poll_once(&mut wait_iterator.next()), Poll::Ready(()));
    assert_eq!(counter.dropped(), 0);
    drop(wait_iterator);
    assert_eq!(counter.dropped(), 2);
}

#[test]
fn with_timeout_gives_the_output_in_time() {
    on_both(|| async {
        let result = with_timeout(Duration::from_secs(5), later(20, "done")).await;
        assert_eq!(result, Ok("done"));
        // A ready future wins even against a zero timeout.
        assert_eq!(with_timeout(Duration::ZERO, ready(1)).await, Ok(1));
    });
}

#[coroutine_runtime::coroutine]
fn times_out(counter: &DropCounter) -> (Result<(), TimeoutError>, Duration, usize) {
    let start = Instant::now();
    let result = yield_!(with_timeout(
        Duration::from_millis(80),
        Forever(counter.token())
    ));
    (result, start.elapsed(), counter.dropped())
}

#[test]
fn with_timeout_past_the_deadline_gives_an_error_and_drops_the_future() {
    on_both(|| async {
        let counter = DropCounter::new();
        let (result, elapsed, dropped) = times_out(&counter).await;
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "deadline has elapsed");
        let _: &dyn std::error::Error = &error;
        assert!(
            elapsed >= Duration::from_millis(80) && elapsed < Duration::from_secs(2),
            "the timeout was 80 ms, took {elapsed:?}"
        );
        assert_eq!(
            dropped, 1,
            "the timed-out future was dropped when the timeout fired"
        );
    });
}

#[test]
fn with_timeout_takes_any_yieldable() {
    on_both(|| async {
        let result = with_timeout(Duration::from_secs(5), vec![later(10, 1), later(0, 2)]).await;
        assert_eq!(result, Ok(vec![1, 2]));
    });
}

#[test]
fn sleep_waits_at_least_its_duration() {
    on_both(|| async {
        let start = Instant::now();
        sleep(Duration::from_millis(100)).await;
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(100) && elapsed < Duration::from_secs(2),
            "slept 100 ms, took {elapsed:?}"
        );
    });
}

#[test]
fn sleep_starts_its_clock_at_the_call() {
    let mut nap = sleep(Duration::from_millis(50));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(poll_once(&mut nap), Poll::Ready(()));
}

#[test]
fn sleep_zero_suspends_exactly_once() {
    let mut nap = sleep(Duration::ZERO);
    assert_eq!(poll_once(&mut nap), Poll::Pending);
    assert_eq!(poll_once(&mut nap), Poll::Ready(()));
}

#[test]
fn ten_sleeps_in_a_vec_overlap() {
    on_both(|| async {
        let in_flight = InFlight::default();
        // Each sleep is made when its child is first polled, so a join that waited for the
        // children one after another would never have two sleeping at once.
        let sleeps =
            (0..10).map(|_| in_flight.track(async { sleep(Duration::from_millis(100)).await }));
        multi(sleeps.collect::<Vec<_>>()).await;
        assert_eq!(
            in_flight.most(),
            10,
            "all ten sleeps were in flight together"
        );
    });
}

#[coroutine_runtime::coroutine]
fn two_moments() -> usize {
    let both = yield_!(vec![moment, moment]);
    both.len()
}

#[test]
fn moments_in_a_vec_suspend_once_together() {
    let mut running = two_moments();
    assert!(!running.is_finished(), "the yield suspended the coroutine");
    // One trip through the executor and both moments are over, as with Tornado's
    // `multi([moment, moment])`. (The first poll of a coroutine suspended since its call is that
    // trip: the runner wakes the task instead of resuming the body, its fairness.)
    assert_eq!(poll_once(&mut running), Poll::Pending);
    assert_eq!(poll_once(&mut running), Poll::Ready(2));
}

#[test]
fn timers_work_in_a_spawned_tokio_task() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime
        .block_on(coroutine_tests::deadline(
            coroutine_tests::LIMIT,
            "the future on tokio",
            async {
                tokio::spawn(with_timeout(
                    Duration::from_secs(5),
                    multi(vec![
                        sleep(Duration::from_millis(30)),
                        sleep(Duration::ZERO),
                    ]),
                ))
                .await
            },
        ))
        .expect("the task finished");
    assert_eq!(result, Ok(vec![(), ()]));
}
