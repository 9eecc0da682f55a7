//! What runs later: [`IoLoop::call_later`], [`IoLoop::call_at`] and their [`Timeout`]s, on
//! tokio's timer.

use std::fmt;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

use super::{Inner, IoLoop};

/// How far away a deadline is put when it cannot be represented: a century, so it never comes.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A timer that has not fired nor been cancelled.
pub(super) struct Timer {
    /// What it calls.
    callback: Box<dyn FnOnce()>,
    /// Its task, which sleeps until the deadline.
    task: AbortHandle,
}

impl IoLoop {
    /// Runs `callback` after `delay`, on the loop: Tornado's `call_later`. Timers with the same
    /// deadline fire in the order they were added.
    ///
    /// Dropping the returned [`Timeout`] does not cancel the timer; call
    /// [`Timeout::cancel`] or [`remove_timeout`](Self::remove_timeout). A callback that needs
    /// the loop should call [`IoLoop::current`] rather than capture a clone: a pending timer
    /// that holds its own loop keeps it alive (see [Reference cycles](IoLoop#reference-cycles)).
    ///
    /// # Panics
    ///
    /// A panic in the callback is reported (see [`set_panic_handler`](Self::set_panic_handler))
    /// and does not stop the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::{Duration, Instant};
    ///
    /// let io_loop = IoLoop::new();
    /// let started = Instant::now();
    /// io_loop.call_later(Duration::from_millis(20), || IoLoop::current().stop());
    /// io_loop.start();
    /// assert!(started.elapsed() >= Duration::from_millis(20));
    /// ```
    pub fn call_later<F>(&self, delay: Duration, callback: F) -> Timeout
    where
        F: FnOnce() + 'static,
    {
        // Tokio's clock, so that a test that pauses the loop's clock pauses its timers too.
        let now = tokio::time::Instant::now().into_std();
        // A delay too large to represent never fires; a far deadline does the same.
        let deadline = now.checked_add(delay).unwrap_or_else(|| now + NEVER);
        self.call_at(deadline, callback)
    }

    /// Runs `callback` at `deadline`: Tornado's `call_at`. A deadline that has already passed
    /// fires on the loop's next iteration.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::{Duration, Instant};
    ///
    /// let io_loop = IoLoop::new();
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// io_loop.call_at(deadline, || IoLoop::current().stop());
    /// io_loop.start();
    /// assert!(Instant::now() >= deadline);
    /// ```
    pub fn call_at<F>(&self, deadline: Instant, callback: F) -> Timeout
    where
        F: FnOnce() + 'static,
    {
        let id = self.inner.next_timer.get();
        self.inner.next_timer.set(id + 1);
        let task = self.spawn(async move {
            // Made on the first poll, inside the running loop, where tokio's timer is.
            tokio::time::sleep_until(deadline.into()).await;
            let io_loop = IoLoop::current();
            let timer = io_loop.inner.timers.borrow_mut().remove(&id);
            if let Some(timer) = timer {
                (timer.callback)();
            }
        });
        if let Some(task) = task {
            let timer = Timer {
                callback: Box::new(callback),
                task: task.abort_handle(),
            };
            self.inner.timers.borrow_mut().insert(id, timer);
        }
        Timeout {
            id,
            io_loop: Rc::downgrade(&self.inner),
        }
    }

    /// Cancels a timer: Tornado's `remove_timeout`. Harmless if it has fired or was cancelled
    /// already. The callback is dropped at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let fired = Rc::new(Cell::new(false));
    /// let flag = fired.clone();
    /// let timeout = io_loop.call_later(Duration::ZERO, move || flag.set(true));
    /// io_loop.remove_timeout(&timeout);
    /// io_loop.run_sync(|| tokio::time::sleep(Duration::from_millis(5)));
    /// assert!(!fired.get());
    /// ```
    pub fn remove_timeout(&self, timeout: &Timeout) {
        let timer = self.inner.timers.borrow_mut().remove(&timeout.id);
        // Dropped here, after the borrow: its captures' drops may use the loop.
        if let Some(timer) = timer {
            timer.task.abort();
            drop(timer.callback);
        }
    }
}

/// A timer of an [`IoLoop`], returned by [`IoLoop::call_later`] and [`IoLoop::call_at`].
///
/// Dropping it does not cancel the timer.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::IoLoop;
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let io_loop = IoLoop::new();
/// let fired = Rc::new(Cell::new(false));
/// let flag = fired.clone();
/// let timeout = io_loop.call_later(Duration::from_millis(5), move || flag.set(true));
/// timeout.cancel();
/// io_loop.run_sync(|| tokio::time::sleep(Duration::from_millis(20)));
/// assert!(!fired.get());
/// ```
pub struct Timeout {
    /// The timer's id in its loop.
    id: u64,
    /// The loop; the timer is gone if the loop is.
    io_loop: Weak<Inner>,
}

impl Timeout {
    /// Cancels the timer, like [`IoLoop::remove_timeout`]. Harmless if it has fired or was
    /// cancelled already.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let fired = Rc::new(Cell::new(0));
    /// let counter = fired.clone();
    /// let timeout = io_loop.call_later(Duration::ZERO, move || counter.set(counter.get() + 1));
    /// io_loop.run_sync(|| tokio::time::sleep(Duration::from_millis(5)));
    /// timeout.cancel(); // already fired: nothing happens
    /// assert_eq!(fired.get(), 1);
    /// ```
    pub fn cancel(&self) {
        if let Some(inner) = self.io_loop.upgrade() {
            IoLoop { inner }.remove_timeout(self);
        }
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("id", &self.id)
            .field("loop_alive", &(self.io_loop.strong_count() > 0))
            .finish()
    }
}
