//! Shared helpers of the integration tests.

use std::future::Future;
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

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}
