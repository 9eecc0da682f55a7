//! The workload of W5 (two coroutines exchanging values), shared by the criterion bench
//! `executors.rs` and the callgrind counter `bench/callgrind`, so both measure the same code.

use coroutine_runtime::yield_;
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender};

/// Sends `n` values to the echo and sums what comes back.
#[coroutine_runtime::coroutine]
pub(crate) fn ping(
    n: u64,
    requests: UnboundedSender<u64>,
    mut replies: UnboundedReceiver<u64>,
) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        requests.unbounded_send(i).expect("the echo is running");
        sum = sum.wrapping_add(yield_!(replies.next()).expect("the echo replies"));
    }
    sum
}

/// Sends every value back, plus one.
#[coroutine_runtime::coroutine]
pub(crate) fn echo(mut requests: UnboundedReceiver<u64>, replies: UnboundedSender<u64>) {
    while let Some(value) = yield_!(requests.next()) {
        replies.unbounded_send(value + 1).expect("ping is waiting");
    }
}

/// Baseline of [`ping`].
pub(crate) async fn ping_async(
    n: u64,
    requests: UnboundedSender<u64>,
    mut replies: UnboundedReceiver<u64>,
) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        requests.unbounded_send(i).expect("the echo is running");
        sum = sum.wrapping_add(replies.next().await.expect("the echo replies"));
    }
    sum
}

/// Baseline of [`echo`].
pub(crate) async fn echo_async(
    mut requests: UnboundedReceiver<u64>,
    replies: UnboundedSender<u64>,
) {
    while let Some(value) = requests.next().await {
        replies.unbounded_send(value + 1).expect("ping is waiting");
    }
}

/// What the `IoLoop` is made of, bare: a tokio current-thread runtime with its I/O and time
/// drivers, and a `LocalSet`.
pub(crate) fn tokio_local_set() -> (tokio::runtime::Runtime, tokio::task::LocalSet) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    (runtime, tokio::task::LocalSet::new())
}
