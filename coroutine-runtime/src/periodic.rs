//! [`PeriodicCallback`]: calls a function on the loop every period, Tornado's
//! `PeriodicCallback`.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, IntoFuture, Ready};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use futures::FutureExt;

use crate::io_loop::{IoLoop, Timeout};

/// What the function of a [`PeriodicCallback`] may return: `()`, or a future of `()` that the
/// loop runs to completion before the next call (as Tornado awaits a coroutine returned by the
/// callback).
///
/// `K` is a marker that inference fills in: `()` for `()`, [`kind::Future`](crate::kind::Future)
/// for futures. You name this trait only in functions generic over callbacks.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{CallbackReturn, PeriodicCallback};
/// use std::time::Duration;
///
/// fn every_second<F, R, K>(f: F) -> PeriodicCallback
/// where
///     F: FnMut() -> R + 'static,
///     R: CallbackReturn<K>,
///     R::Future: 'static,
/// {
///     PeriodicCallback::new(f, Duration::from_secs(1))
/// }
///
/// let plain = every_second(|| println!("tick")); // returns ()
/// let coroutine = every_second(|| async { println!("tock") }); // returns a future
/// ```
#[diagnostic::on_unimplemented(
    message = "a periodic callback must return `()` or a future of `()`, not `{Self}`",
    label = "returns `{Self}`",
    note = "end the callback's last expression with `;` to discard its value; a callback that \
            always panics needs a return type: `|| -> () {{ … }}`"
)]
pub trait CallbackReturn<K> {
    /// The future the loop runs after the callback returns.
    type Future: Future<Output = ()>;
    /// Converts the callback's return value into the future to run.
    fn into_callback_future(self) -> Self::Future;
}

impl CallbackReturn<()> for () {
    type Future = Ready<()>;

    fn into_callback_future(self) -> Ready<()> {
        std::future::ready(())
    }
}

impl<F: IntoFuture<Output = ()>> CallbackReturn<crate::kind::Future> for F {
    type Future = F::IntoFuture;

    fn into_callback_future(self) -> F::IntoFuture {
        self.into_future()
    }
}

/// The callback, with its return value made a boxed future.
type Callback = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()>>>>;

/// How far away a call is put when its time cannot be represented (a period such as
/// `Duration::MAX`): a century, so it never comes, as with [`IoLoop::call_later`].
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The time on the clock of the tokio runtime this thread is in (the loop's, which a test may
/// pause), or the system's outside one.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// `from + delay`, or [`NEVER`] from `from` if that overflows `Instant`.
fn later_by(from: Instant, delay: Duration) -> Instant {
    from.checked_add(delay).unwrap_or_else(|| from + NEVER)
}

/// Calls a function on the loop every `period`, from [`start`](Self::start) until
/// [`stop`](Self::stop): Tornado's `PeriodicCallback`.
///
/// The function may return `()` or a future of `()` (a coroutine): a future is run to
/// completion before the next call is scheduled, so calls never overlap. Calls stay on the
/// grid of `start + k × period`; a call that overruns skips the slots it missed rather than
/// firing late ones in a burst.
///
/// It runs on the loop that is [`IoLoop::current`] when `start` is called, and only while that
/// loop runs. **Dropping the `PeriodicCallback` stops it.**
///
/// # Panics
///
/// A panic in the function (or its future) is reported by the loop (see
/// [`IoLoop::set_panic_handler`]) and the schedule goes on.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{IoLoop, PeriodicCallback};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let io_loop = IoLoop::new();
/// let calls = Rc::new(Cell::new(0));
/// let counter = calls.clone();
/// let stopper = io_loop.clone();
/// let periodic = PeriodicCallback::new(
///     move || {
///         counter.set(counter.get() + 1);
///         if counter.get() == 3 {
///             stopper.stop();
///         }
///     },
///     Duration::from_millis(5),
/// );
/// io_loop.run_sync(|| async { periodic.start() }); // starts it on `io_loop`
/// io_loop.start();
/// assert_eq!(calls.get(), 3);
/// ```
#[must_use = "a `PeriodicCallback` does nothing until started, and stops when dropped"]
pub struct PeriodicCallback {
    /// The state, which the loop's timers reach through weak references.
    inner: Rc<Periodic>,
}

/// The state of a [`PeriodicCallback`].
struct Periodic {
    /// The user's function. Borrowed only while it is called.
    callback: RefCell<Callback>,
    /// The schedule. Never borrowed while user code runs.
    state: RefCell<State>,
}

/// The schedule of a [`PeriodicCallback`].
struct State {
    /// The time between calls. Invariant: not zero.
    period: Duration,
    /// Between `start` and `stop`.
    running: bool,
    /// Incremented by each `start` and `stop`: a timer or a call from an earlier run carries an
    /// older generation and is ignored.
    generation: u64,
    /// When the next call is due.
    next: Instant,
    /// The timer of the next call, while one is scheduled.
    timeout: Option<Timeout>,
    /// The loop it runs on, from `start`.
    io_loop: Option<IoLoop>,
}

impl PeriodicCallback {
    /// A periodic callback that will call `callback` every `period` once started.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// # Examples
    ///
    /// A coroutine as the callback: each call completes before the next starts.
    ///
    /// ```
    /// use coroutine_runtime::*;
    /// use std::time::Duration;
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn poll_for_news() {
    ///     yield_!(moment);
    /// }
    ///
    /// let periodic = PeriodicCallback::new(poll_for_news, Duration::from_secs(60));
    /// assert!(!periodic.is_running());
    /// ```
    pub fn new<F, R, K>(mut callback: F, period: Duration) -> Self
    where
        F: FnMut() -> R + 'static,
        R: CallbackReturn<K>,
        R::Future: 'static,
    {
        assert!(
            !period.is_zero(),
            "a `PeriodicCallback` needs a positive period; it was zero"
        );
        let callback: Callback = Box::new(move || Box::pin(callback().into_callback_future()));
        PeriodicCallback {
            inner: Rc::new(Periodic {
                callback: RefCell::new(callback),
                state: RefCell::new(State {
                    period,
                    running: false,
                    generation: 0,
                    next: Instant::now(),
                    timeout: None,
                    io_loop: None,
                }),
            }),
        }
    }

    /// Starts calling the function on [`IoLoop::current`], the first time one period from now.
    /// Does nothing if it is running already.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::{IoLoop, PeriodicCallback};
    /// use std::time::Duration;
    ///
    /// let periodic = PeriodicCallback::new(|| IoLoop::current().stop(), Duration::from_millis(1));
    /// periodic.start(); // on this thread's default loop
    /// IoLoop::current().start();
    /// assert!(periodic.is_running());
    /// ```
    pub fn start(&self) {
        let mut state = self.inner.state.borrow_mut();
        if state.running {
            return;
        }
        state.running = true;
        state.generation += 1;
        state.io_loop = Some(IoLoop::current());
        state.next = later_by(now(), state.period);
        drop(state);
        Periodic::schedule(&self.inner);
    }

    /// Stops the calls. A call in progress (a future the function returned) runs to its end,
    /// but no further call is made.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::{IoLoop, PeriodicCallback};
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let calls = Rc::new(Cell::new(0));
    /// let counter = calls.clone();
    /// let periodic =
    ///     PeriodicCallback::new(move || counter.set(counter.get() + 1), Duration::from_millis(1));
    /// periodic.start();
    /// periodic.stop();
    /// assert!(!periodic.is_running());
    /// let io_loop = IoLoop::current();
    /// io_loop.run_sync(|| async { std::thread::sleep(Duration::from_millis(5)) });
    /// io_loop.run_sync(|| async {});
    /// assert_eq!(calls.get(), 0);
    /// ```
    pub fn stop(&self) {
        let timeout = {
            let mut state = self.inner.state.borrow_mut();
            state.running = false;
            state.generation += 1;
            state.timeout.take()
        };
        if let Some(timeout) = timeout {
            timeout.cancel();
        }
    }

    /// Whether it is started and not stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::PeriodicCallback;
    /// use std::time::Duration;
    ///
    /// let periodic = PeriodicCallback::new(|| {}, Duration::from_secs(1));
    /// periodic.start();
    /// assert!(periodic.is_running());
    /// periodic.stop();
    /// assert!(!periodic.is_running());
    /// ```
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.inner.state.borrow().running
    }
}

impl Periodic {
    /// Sets the timer of the next call, at `state.next`.
    fn schedule(this: &Rc<Self>) {
        let (io_loop, next, generation) = {
            let state = this.state.borrow();
            let io_loop = state.io_loop.clone().expect("started");
            (io_loop, state.next, state.generation)
        };
        let weak = Rc::downgrade(this);
        let timeout = io_loop.call_at(next, move || Periodic::fire(&weak, generation));
        this.state.borrow_mut().timeout = Some(timeout);
    }

    /// The timer fired: call the function, then schedule the next call once its future is done.
    fn fire(weak: &Weak<Self>, generation: u64) {
        let Some(this) = weak.upgrade() else { return };
        let io_loop = {
            let mut state = this.state.borrow_mut();
            if !state.running || state.generation != generation {
                return;
            }
            state.timeout = None;
            state.io_loop.clone().expect("started")
        };
        let call = panic::catch_unwind(AssertUnwindSafe(|| (this.callback.borrow_mut())()));
        match call {
            Err(payload) => {
                io_loop.report_panic(payload);
                Periodic::finished(&this, generation);
            }
            Ok(future) => {
                let weak = weak.clone();
                let reporter = io_loop.clone();
                io_loop.spawn_callback(move || async move {
                    if let Err(payload) = AssertUnwindSafe(future).catch_unwind().await {
                        reporter.report_panic(payload);
                    }
                    if let Some(this) = weak.upgrade() {
                        Periodic::finished(&this, generation);
                    }
                });
            }
        }
    }

    /// A call has finished: schedule the next one on the grid, skipping missed slots.
    fn finished(this: &Rc<Self>, generation: u64) {
        {
            let mut state = this.state.borrow_mut();
            if !state.running || state.generation != generation {
                return;
            }
            let now = now();
            if state.next <= now {
                let period = state.period.as_nanos();
                let missed = (now - state.next).as_nanos() / period + 1;
                let skip = u32::try_from(missed).unwrap_or(u32::MAX);
                let step = state.period.saturating_mul(skip);
                state.next = later_by(state.next, step);
            }
        }
        Periodic::schedule(this);
    }
}

impl Drop for PeriodicCallback {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.borrow();
        f.debug_struct("PeriodicCallback")
            .field("period", &state.period)
            .field("running", &state.running)
            .finish_non_exhaustive()
    }
}
