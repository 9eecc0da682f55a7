//! Shared helpers of the integration tests.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Counts how many values were dropped; hand out [`DropCounter::token`]s and read
/// [`DropCounter::dropped`].
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A new counter at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A value that increments the counter when dropped.
    #[must_use]
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    /// How many tokens were dropped so far.
    #[must_use]
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its [`DropCounter`] when dropped.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that never completes and counts its drop.
#[derive(Debug)]
pub struct Forever(pub DropToken);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// A future that completes with `value` after `delay`, on a helper thread (so it works on any
/// executor).
pub fn after<T: Send + 'static>(delay: Duration, value: T) -> impl Future<Output = T> + Send {
    let (sender, receiver) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = sender.send(value);
    });
    async move { receiver.await.expect("timer thread gone") }
}

/// [`after`] in milliseconds: completes with `value` after `millis` ms, on a helper thread.
pub fn later<T: Send + 'static>(millis: u64, value: T) -> impl Future<Output = T> + Send {
    after(Duration::from_millis(millis), value)
}

/// Runs `test` on futures' executor, then again on a tokio current-thread runtime (timers
/// enabled), so that one test covers both.
pub fn on_both<F: Future<Output = ()>>(test: impl Fn() -> F) {
    futures::executor::block_on(test());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(test());
}

/// The message a panic payload carries (a `&str` or a `String`), or `""` for any other payload.
///
/// Pass the payload itself, `&*payload` for a `Box<dyn Any + Send>`: a `&Box` would coerce to
/// `&dyn Any` as the box, and never downcast.
#[must_use]
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `function`, which must panic, and gives the message of its panic.
///
/// # Panics
///
/// If `function` returns instead of panicking.
#[track_caller]
pub fn panic_message_of<T>(function: impl FnOnce() -> T) -> String {
    match panic::catch_unwind(AssertUnwindSafe(function)) {
        Ok(_) => panic!("expected a panic, but the function returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Checks at compile time that `value` is `Send` and `Sync`, and gives it back.
pub fn assert_send_sync<T: Send + Sync>(value: T) -> T {
    value
}

/// Checks at compile time that `value` is `Send`, and gives it back.
pub fn assert_send<T: Send>(value: T) -> T {
    value
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}
