//! [`with_timeout`]: give up on a future after a while.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::sleep::Timer;
use crate::{TimeoutError, Yieldable};

/// Waits for `future` (any [`Yieldable`] value) for at most `timeout`: Tornado's
/// `gen.with_timeout`.
///
/// Resolves to `Ok` with the output if it comes in time, or to `Err(TimeoutError)` once `timeout`
/// has passed. The clock starts when `with_timeout` is called. Its timer is [`sleep`](crate::sleep)'s:
/// tokio's inside a tokio runtime (so a paused clock applies), a timer thread elsewhere.
///
/// # Errors
///
/// [`TimeoutError`] if `timeout` passes before the future completes. The future is polled before
/// the timer, so a future that is ready wins even against a zero timeout.
///
/// # Cancellation
///
/// On timeout the future is dropped at once, before `with_timeout` resolves; this differs from
/// Tornado, whose timed-out future keeps running (Python cannot cancel it). Dropping the
/// `WithTimeout` drops the future and the timer.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::time::Duration;
///
/// #[coroutine_runtime::coroutine]
/// fn slow() -> u32 {
///     yield_!(sleep(Duration::from_secs(10)));
///     1
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn impatient() -> Result<u32, TimeoutError> {
///     let quick = yield_!(with_timeout(Duration::from_secs(10), async { 2 }))?;
///     assert_eq!(quick, 2);
///     yield_!(with_timeout(Duration::from_millis(10), slow()))
/// }
///
/// let error = futures::executor::block_on(impatient()).unwrap_err();
/// assert_eq!(error.to_string(), "deadline has elapsed");
/// ```
pub fn with_timeout<Y: Yieldable<K>, K>(timeout: Duration, future: Y) -> WithTimeout<Y::Future> {
    WithTimeout {
        future: Some(future.into_yielded()),
        timer: Timer::after(timeout),
        deadline: deadline(timeout),
    }
}

/// When a [`WithTimeout`] gives up, for `introspect`.
#[cfg(feature = "introspect")]
type Deadline = u64;
#[cfg(not(feature = "introspect"))]
type Deadline = ();

#[cfg(feature = "introspect")]
fn deadline(timeout: Duration) -> Deadline {
    crate::introspect::deadline(timeout)
}

#[cfg(not(feature = "introspect"))]
fn deadline(_: Duration) -> Deadline {}

pin_project! {
    /// Future for [`with_timeout`].
    #[must_use = "futures do nothing unless polled"]
    pub struct WithTimeout<F> {
        #[pin]
        // The future waited on; `None` once it has finished or timed out.
        future: Option<F>,
        // Fires at the deadline.
        timer: Timer,
        // The deadline, for `introspect` (nothing without it).
        deadline: Deadline,
    }
}

impl<F: Future> Future for WithTimeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("`WithTimeout` polled after completion");
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Ok(output));
        }
        if this.timer.poll(cx).is_ready() {
            this.future.set(None);
            return Poll::Ready(Err(TimeoutError(())));
        }
        #[cfg(feature = "introspect")]
        crate::introspect::waits_on(crate::introspect::WaitsOn::Timeout(*this.deadline));
        Poll::Pending
    }
}

impl<F> fmt::Debug for WithTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithTimeout")
            .field("finished", &self.future.is_none())
            .finish_non_exhaustive()
    }
}
