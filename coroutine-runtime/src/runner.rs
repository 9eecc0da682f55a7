//! The [`Runner`]: what drives a coroutine's state machine.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::future::FusedFuture;

/// Drives a coroutine: starts it at once, then resumes it each time what it waits on is ready.
///
/// This is the analog of Tornado's `tornado.gen.Runner`. Every `#[coroutine]` fn (without
/// `lazy`) returns one. [`Runner::start`] runs the body up to its first suspension before it
/// returns, exactly as calling a `@gen.coroutine` function does; after that, polling the runner
/// resumes the body, and its output is the coroutine's result.
///
/// It can wrap any future, which is how you start an `async fn` eagerly (the analog of Tornado's
/// `convert_yielded(native_coroutine())`, used in the guide's interleaving pattern).
///
/// # Panics
///
/// A panic in the body before its first suspension does not escape [`Runner::start`]: it is kept
/// and raised again when the runner is polled, as Tornado keeps the exception in the Future.
///
/// # Fairness
///
/// A body that suspended during `start` is not resumed by the runner's first poll: that poll
/// wakes the task and returns `Pending`, so the task goes once through its executor, as yielding
/// a pending future suspends the caller in Tornado. Without it, a first suspension that wakes
/// itself (`moment`, `sleep(Duration::ZERO)`, `tokio::task::yield_now()`) would be spent inside
/// `start`, where nobody hears the wake-up, and `loop { yield_!(tick()) }` would never let other
/// work run. A body that finishes during `start` costs no trip.
///
/// # Cancellation
///
/// Dropping the runner drops the body, and with it whatever the body was waiting on.
///
/// # Never awaited
///
/// A runner dropped while its body is suspended, before anything ever polled it (Tornado's
/// fire-and-forget habit, which here silently does nothing past the first suspension), is
/// reported as asyncio reports a coroutine that was never awaited: one `tracing` event at the
/// `WARN` level, whose `coroutine` field names the body's type (for a `#[coroutine]` fn, its
/// path). Without a `tracing` subscriber it costs a check of a static.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::Runner;
/// use std::cell::Cell;
///
/// let started = Cell::new(false);
/// let runner = Runner::start(async {
///     started.set(true);
///     21 * 2
/// });
/// assert!(started.get()); // the body ran during `start`
/// assert_eq!(futures::executor::block_on(runner), 42);
/// ```
#[must_use = "a coroutine that is dropped without being awaited is cancelled at its first \
              suspension; `.await` it, yield it, or run it in the background with `spawn_callback`"]
pub struct Runner<F: Future> {
    state: State<F>,
}

/// Where a [`Runner`] stands.
///
/// The order of the variants is measured, not cosmetic: with `Started` first, the two boxed
/// states take the two tag values after `Outcome`'s, and telling `Suspended` apart on every poll
/// is one comparison (`bash bench/callgrind/run.sh`: W1s 60 instructions, 65 with a boxed state
/// first). `Fresh` has the tag value of `first_poll`'s `None`, so `start` stores it as it is.
enum State<F: Future> {
    /// The body has run to its end: what is left to hand out.
    Started(Outcome<F::Output>),
    /// Suspended during `start`, and not polled since (see Fairness on [`Runner`]).
    Fresh(Pin<Box<F>>),
    /// Suspended at a yield; boxed so it could be polled before `start` returned.
    Suspended(Pin<Box<F>>),
}

/// What a finished body left. Generic over the output only, so that its code is compiled once
/// per output type rather than once per coroutine.
enum Outcome<T> {
    /// Finished during `start`; the output waits for the first poll.
    Finished(T),
    /// Panicked during `start`; the payload is raised again at the first poll.
    Panicked(Caught),
    /// The output (or panic) has been handed out.
    Done,
}

impl<T> Outcome<T> {
    /// Hands out the output, or raises the panic again.
    fn take(&mut self) -> T {
        match std::mem::replace(self, Outcome::Done) {
            Outcome::Finished(output) => output,
            Outcome::Panicked(caught) => caught.resume(),
            Outcome::Done => panic!("`Runner` polled after completion"),
        }
    }
}

/// Polls `body` once with a waker that does nothing, catching a panic: `None` if it suspended.
///
/// It takes a trait object so that this code, `catch_unwind` and its closures are compiled once
/// per output type, not once per coroutine: a crate of many coroutines builds markedly faster.
/// The `Context` is made inside the closure, so that only the body's pointer crosses into
/// `catch_unwind`: that frees three registers here and lets LLVM inline this into `start` (W2:
/// 215 instructions with the `Context` outside, 206 with it inside; `bench/callgrind/run.sh`).
fn first_poll<T>(body: Pin<&mut dyn Future<Output = T>>) -> Option<Outcome<T>> {
    match Caught::catch(|| body.poll(&mut Context::from_waker(Waker::noop()))) {
        Ok(Poll::Ready(output)) => Some(Outcome::Finished(output)),
        Ok(Poll::Pending) => None,
        Err(caught) => Some(Outcome::Panicked(caught)),
    }
}

// The runner never pins its fields in place: the body lives in its own `Pin<Box<_>>`, and the
// output is only ever moved out.
impl<F: Future> Unpin for Runner<F> {}

impl<F: Future> Runner<F> {
    /// Starts `future`: polls it once, right now, so its body runs up to its first suspension.
    ///
    /// The first poll sees a waker that does nothing; whatever the body waits on is polled again
    /// with the real waker when the runner itself is first polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::Runner;
    ///
    /// let runner = Runner::start(async { "done" });
    /// assert!(runner.is_finished());
    /// ```
    pub fn start(future: F) -> Self {
        let mut body = Box::pin(future);
        let state = match first_poll(body.as_mut()) {
            None => State::Fresh(body),
            Some(outcome) => State::Started(outcome),
        };
        Runner { state }
    }

    /// Whether the body has run to its end (or panicked) and only waits to hand out its result.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::Runner;
    ///
    /// let waiting = Runner::start(std::future::pending::<()>());
    /// assert!(!waiting.is_finished());
    /// let done = Runner::start(async { 1 });
    /// assert!(done.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            State::Started(Outcome::Finished(_) | Outcome::Panicked(_))
        )
    }
}

impl<F: Future> Future for Runner<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // `get_mut` (the runner is `Unpin`) rather than `DerefMut` through the `Pin`: one function
        // compiled per coroutine instead of three, in a debug build. `if let` rather than `match`:
        // a `match` decodes the three states into an index first, five instructions more.
        let this = self.get_mut();
        if let State::Suspended(body) = &mut this.state {
            let output = std::task::ready!(body.as_mut().poll(cx));
            // Drop the body now, not when the runner is dropped.
            this.state = State::Started(Outcome::Done);
            Poll::Ready(output)
        } else if let State::Started(outcome) = &mut this.state {
            Poll::Ready(outcome.take())
        } else {
            first_trip(this, cx)
        }
    }
}

/// The body's wake-ups during `start` went to a waker nobody hears: the runner's first poll goes
/// through the executor once before resuming it, and the body is `Suspended` from then on. Out of
/// line, to keep the poll of a suspended runner small.
#[cold]
#[inline(never)]
fn first_trip<F: Future>(runner: &mut Runner<F>, cx: &Context<'_>) -> Poll<F::Output> {
    if let State::Fresh(body) = std::mem::replace(&mut runner.state, State::Started(Outcome::Done))
    {
        runner.state = State::Suspended(body);
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

impl<F: Future> Drop for Runner<F> {
    fn drop(&mut self) {
        if let State::Fresh(_) = self.state {
            never_awaited(std::any::type_name::<F>());
        }
    }
}

/// Reports a coroutine dropped before it was ever awaited (see [`Runner`]). Kept out of line:
/// it is never on a fast path.
#[cold]
#[inline(never)]
fn never_awaited(body: &'static str) {
    // With the `introspect` feature the block is inside a `Body`.
    #[cfg(feature = "introspect")]
    let body = crate::introspect::body_name(body);
    // A `#[coroutine]` fn's body is an `async` block inside it: name the fn.
    let coroutine = body.strip_suffix("::{{closure}}").unwrap_or(body);
    tracing::warn!(
        coroutine,
        "coroutine `{coroutine}` was dropped before it was ever awaited, so it stopped at its \
         first suspension; `.await` or yield it, or run it with `spawn_callback`"
    );
}

impl<F: Future> FusedFuture for Runner<F> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Started(Outcome::Done))
    }
}

impl<F: Future> fmt::Debug for Runner<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Suspended(_) | State::Fresh(_) => "Suspended",
            State::Started(Outcome::Finished(_)) => "Finished",
            State::Started(Outcome::Panicked(_)) => "Panicked",
            State::Started(Outcome::Done) => "Done",
        };
        f.debug_struct("Runner").field("state", &state).finish()
    }
}

/// A panic caught now, to be raised again later (by [`Runner`] and [`Task`](crate::Task)).
///
/// A bare payload is `Send` but not `Sync`, which would make every future that keeps one, and
/// every coroutine that holds such a future across a yield, not `Sync` either. Behind a mutex it
/// is `Sync`, so those futures are `Sync` when the rest of their state is, as an `async fn`'s
/// future is. The outer box keeps it one pointer wide.
pub(crate) struct Caught(Box<Mutex<Box<dyn Any + Send>>>);

impl Caught {
    /// Runs `function`, catching its panic.
    pub(crate) fn catch<T>(function: impl FnOnce() -> T) -> Result<T, Caught> {
        panic::catch_unwind(AssertUnwindSafe(function))
            .map_err(|payload| Caught(Box::new(Mutex::new(payload))))
    }

    /// Raises the panic again.
    pub(crate) fn resume(self) -> ! {
        // Nobody ever locks the mutex, so it cannot be poisoned; take the payload either way.
        let payload = self.0.into_inner().unwrap_or_else(PoisonError::into_inner);
        panic::resume_unwind(payload)
    }
}
