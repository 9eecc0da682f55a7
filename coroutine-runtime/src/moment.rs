//! [`moment`]: let other tasks run once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::IntoYielded;

/// The type of [`moment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Moment;

/// A value that, yielded, lets other tasks run once: Tornado's `gen.moment`.
///
/// `yield_!(moment)` suspends the coroutine exactly once, waking it at once, so every other task
/// the executor has ready runs before it resumes. It can be yielded any number of times and put
/// in collections.
///
/// In a collection, every `moment` ends on the same trip through the executor:
/// `yield_!(vec![moment, moment])` suspends once, not twice, as Tornado's
/// `multi([moment, moment])` does. Coroutines yielded together that each yield `moment` between
/// steps take turns, one step each per trip.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn polite() -> usize {
///     yield_!(moment);
///     let both = yield_!(vec![moment, moment]);
///     both.len()
/// }
///
/// let coroutine = polite();
/// assert_eq!(futures::executor::block_on(coroutine), 2);
/// ```
#[allow(non_upper_case_globals)]
pub const moment: Moment = Moment;

impl IntoYielded for Moment {
    type Output = ();
    type Future = MomentFuture;

    #[inline]
    fn into_yielded(self) -> MomentFuture {
        MomentFuture { yielded: false }
    }
}

/// Future for [`moment`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct MomentFuture {
    /// Whether it has already suspended once.
    yielded: bool,
}

impl Future for MomentFuture {
    type Output = ();

    // Inlined across crates: a yield of `moment` then costs what a hand-written future's does.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
