//! [`sleep`]: wait for a while without blocking the thread.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_timer::Delay;

use crate::{IntoYielded, MomentFuture, moment};

/// A future that completes after `duration`: Tornado's `gen.sleep`.
///
/// The clock starts when `sleep` is called, not when the future is first polled. The timer runs
/// on its own thread (the `futures-timer` crate), so it works on any executor.
/// `sleep(Duration::ZERO)` suspends exactly once, as [`moment`] does (and as Tornado's
/// `gen.sleep(0)` does).
///
/// # Cancellation
///
/// Dropping the `Sleep` cancels the timer.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::time::{Duration, Instant};
///
/// #[coroutine_runtime::coroutine]
/// fn nap() -> Duration {
///     let start = Instant::now();
///     yield_!(sleep(Duration::from_millis(20)));
///     start.elapsed()
/// }
///
/// assert!(futures::executor::block_on(nap()) >= Duration::from_millis(20));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let inner = if duration.is_zero() {
        Inner::Moment(moment.into_yielded())
    } else {
        Inner::Delay(Delay::new(duration))
    };
    Sleep {
        inner,
        #[cfg(feature = "introspect")]
        deadline: crate::introspect::deadline(duration),
    }
}

/// Future for [`sleep`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    /// What it waits on.
    inner: Inner,
    /// When it ends, for `introspect`.
    #[cfg(feature = "introspect")]
    deadline: u64,
}

/// What a [`Sleep`] waits on.
enum Inner {
    /// A zero duration: suspend once.
    Moment(MomentFuture),
    /// A timer on `futures-timer`'s thread.
    Delay(Delay),
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let poll = match &mut self.inner {
            Inner::Moment(once) => Pin::new(once).poll(cx),
            Inner::Delay(delay) => Pin::new(delay).poll(cx),
        };
        #[cfg(feature = "introspect")]
        if poll.is_pending() {
            crate::introspect::waits_on(crate::introspect::WaitsOn::Sleep(self.deadline));
        }
        poll
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            Inner::Moment(_) => "moment",
            Inner::Delay(_) => "timer",
        };
        f.debug_struct("Sleep").field("kind", &kind).finish()
    }
}
