//! Tests written for the mutants that `bench/mutants.sh` found the suite did not catch: the
//! `Debug` output of the runtime's futures, `FusedFuture`, and the states of a `Runner`.
//! (Each test names the mutant it catches; see TESTING.md.)

use coroutine_runtime::*;
use coroutine_tests::{DropCounter, Forever, panic_message_of, poll_once};
use futures::FutureExt;
use futures::future::{FusedFuture, LocalBoxFuture};
use std::future::{pending, ready};
use std::task::Poll;

/// Catches `TupleFuture`'s `Debug` replaced by `Ok(Default::default())` (an empty output).
#[test]
fn a_tuple_future_shows_whether_it_has_finished() {
    let mut both = (ready(1), ready(2)).into_yielded();
    assert_eq!(format!("{both:?}"), "TupleFuture { finished: false, .. }");
    assert_eq!(poll_once(&mut both), Poll::Ready((1, 2)));
    assert_eq!(format!("{both:?}"), "TupleFuture { finished: true, .. }");
}

/// Catches `Runner`'s `Debug` replaced by an empty output, each state named wrongly, and
/// `Runner::is_finished` replaced by `true`.
#[test]
fn a_runner_shows_its_state() {
    let mut suspended = Runner::start(async {
        IntoYielded::into_yielded(moment).await;
        1
    });
    assert_eq!(format!("{suspended:?}"), r#"Runner { state: "Suspended" }"#);
    assert!(!suspended.is_finished(), "suspended at its yield");
    // The first poll is the runner's trip through the executor (its fairness).
    assert_eq!(poll_once(&mut suspended), Poll::Pending);
    assert_eq!(format!("{suspended:?}"), r#"Runner { state: "Suspended" }"#);
    assert_eq!(poll_once(&mut suspended), Poll::Ready(1));
    assert_eq!(format!("{suspended:?}"), r#"Runner { state: "Done" }"#);

    let mut finished = Runner::start(async { 2 });
    assert_eq!(format!("{finished:?}"), r#"Runner { state: "Finished" }"#);
    assert_eq!(poll_once(&mut finished), Poll::Ready(2));
    assert_eq!(format!("{finished:?}"), r#"Runner { state: "Done" }"#);

    let panicked = Runner::start(async { panic!("at the start") });
    assert_eq!(format!("{panicked:?}"), r#"Runner { state: "Panicked" }"#);
    drop(panicked);
}

/// Catches `Runner::is_terminated` replaced by `true` or by `false`.
#[test]
fn a_runner_is_terminated_only_once_it_has_handed_out_its_output() {
    let mut suspended = Runner::start(async {
        IntoYielded::into_yielded(moment).await;
        1
    });
    assert!(!suspended.is_terminated());
    assert_eq!(poll_once(&mut suspended), Poll::Pending); // the runner's trip (fairness)
    assert!(!suspended.is_terminated());
    assert_eq!(poll_once(&mut suspended), Poll::Ready(1));
    assert!(suspended.is_terminated());

    let mut finished = Runner::start(async { 2 });
    assert!(!finished.is_terminated(), "finished, but not handed out");
    assert_eq!(poll_once(&mut finished), Poll::Ready(2));
    assert!(finished.is_terminated());

    let waiting = Runner::start(pending::<()>());
    assert!(!waiting.is_terminated());
}

/// Catches `Runner::is_finished` replaced by `true` or `false` for a panicked body.
#[test]
fn a_runner_that_panicked_at_its_start_counts_as_finished_and_raises_at_its_poll() {
    let mut panicked = Runner::start(async { panic!("at the start") });
    assert!(panicked.is_finished());
    assert!(!panicked.is_terminated());
    let message = panic_message_of(move || poll_once(&mut panicked));
    assert_eq!(message, "at the start");
}

/// Three children, the middle one never finishing.
fn one_stuck() -> Vec<LocalBoxFuture<'static, Result<u8, ()>>> {
    vec![
        ready(Ok(1)).boxed_local(),
        pending().boxed_local(),
        ready(Ok(3)).boxed_local(),
    ]
}

/// Catches the join's `len` and `pending` replaced by 0 or 1, as `multi` and `try_multi` show
/// them.
#[test]
fn multi_and_try_multi_show_how_many_children_are_still_running() {
    let mut waiting = multi(one_stuck());
    assert_eq!(
        format!("{waiting:?}"),
        "Multi { children: 3, pending: 3, .. }"
    );
    assert!(poll_once(&mut waiting).is_pending());
    assert_eq!(
        format!("{waiting:?}"),
        "Multi { children: 3, pending: 1, .. }"
    );

    let mut trying = try_multi(one_stuck());
    assert_eq!(
        format!("{trying:?}"),
        "TryMulti { children: 3, pending: 3, .. }"
    );
    assert!(poll_once(&mut trying).is_pending());
    assert_eq!(
        format!("{trying:?}"),
        "TryMulti { children: 3, pending: 1, .. }"
    );
}

/// Catches the join's short circuit no longer dropping the other children (`Join::stop`
/// replaced by `()`): they must go when `try_multi` fails, not when its future is dropped.
#[test]
fn try_multi_drops_the_other_children_as_it_fails_not_later() {
    let drops = DropCounter::new();
    let children: Vec<LocalBoxFuture<'static, Result<u8, &str>>> = vec![
        Forever(drops.token()).map(|()| Ok(0)).boxed_local(),
        ready(Err("failed")).boxed_local(),
        Forever(drops.token()).map(|()| Ok(0)).boxed_local(),
    ];
    let mut trying = try_multi(children);
    assert_eq!(poll_once(&mut trying), Poll::Ready(Err("failed")));
    assert_eq!(
        drops.dropped(),
        2,
        "the running children went with the failure"
    );
    drop(trying);
    assert_eq!(drops.dropped(), 2);
}
