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
/// The clock starts when `sleep` is called, not when the future is first polled.
/// `sleep(Duration::ZERO)` suspends exactly once, as [`moment`] does (and as Tornado's
/// `gen.sleep(0)` does).
///
/// Called inside a tokio runtime (the [`IoLoop`](crate::IoLoop) included), it uses tokio's timer,
/// so it follows that runtime's clock: `tokio::time::pause()` and
/// `#[tokio::test(start_paused = true)]` make an hour-long sleep instant. The runtime needs its
/// time driver then (`enable_time` or `enable_all`, as `#[tokio::main]` has), and a thread that
/// blocks inside the runtime (`futures::executor::block_on` there) stops its timers too. Elsewhere
/// (`futures::executor`, smol) the timer runs on a thread of its own (the `futures-timer`
/// crate), so it works on any executor.
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
        Inner::Timer(Timer::after(duration))
    };
    Sleep {
        inner,
        #[cfg(feature = "introspect")]
        deadline: crate::introspect::deadline(duration),
    }
}

/// A timer on the clock of the tokio runtime it was made in, or on `futures-timer`'s thread
/// outside one. Shared by [`sleep`] and [`with_timeout`](crate::with_timeout).
pub(crate) enum Timer {
    /// Made inside a tokio runtime.
    Tokio(Pin<Box<tokio::time::Sleep>>),
    /// Made outside any tokio runtime.
    Thread(Delay),
}

impl Timer {
    /// A timer that fires `duration` from now.
    pub(crate) fn after(duration: Duration) -> Timer {
        if tokio::runtime::Handle::try_current().is_ok() {
            Timer::Tokio(Box::pin(tokio::time::sleep(duration)))
        } else {
            Timer::Thread(Delay::new(duration))
        }
    }

    /// Polls the timer.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Timer::Tokio(sleep) => sleep.as_mut().poll(cx),
            Timer::Thread(delay) => Pin::new(delay).poll(cx),
        }
    }

    /// Which clock it follows, for `Debug`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Timer::Tokio(_) => "tokio timer",
            Timer::Thread(_) => "timer thread",
        }
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
    /// A timer.
    Timer(Timer),
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let poll = match &mut self.inner {
            Inner::Moment(once) => Pin::new(once).poll(cx),
            Inner::Timer(timer) => timer.poll(cx),
        };
        #[cfg(feature = "introspect")]
        if poll.is_pending() {
            crate::introspect::waits_on(crate::introspect::WaitsOn::Sleep(self.deadline));
        }
        poll
    }
}

// The deadline kept for `introspect` is not shown.
#[cfg_attr(feature = "introspect", allow(clippy::missing_fields_in_debug))]
impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Moment(_) => "moment",
            Inner::Timer(timer) => timer.kind(),
        };
        f.debug_struct("Sleep").field("kind", &kind).finish()
    }
}
