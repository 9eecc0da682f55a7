//! [`Task`] and [`task!`](crate::task!): a callback-taking function as a future, the analog of
//! Tornado's `gen.Task`.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::oneshot;
use futures::future::FusedFuture;

use crate::runner::Caught;

/// The callback a [`Task`] hands to the function it wraps: call it once with the result.
///
/// It is an ordinary boxed `FnOnce(T) + Send + 'static`, so it can be passed to any function
/// that takes such a callback (generic `impl FnOnce(T)` parameters accept it too), moved to
/// another thread and called there.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::Callback;
///
/// fn compute(x: u32, callback: Callback<u32>) {
///     callback(x * 2);
/// }
///
/// let task = coroutine_runtime::Task::new(|callback| compute(21, callback));
/// assert_eq!(futures::executor::block_on(task), Ok(42));
/// ```
pub type Callback<T> = Box<dyn FnOnce(T) + Send + 'static>;

/// A future of the value a callback is called with: Tornado's `gen.Task`.
///
/// `Task::new(|callback| some_function(args, callback))` calls the function **at once**, inside
/// `new` (as `gen.Task` does), with a [`Callback`]; the task completes when the callback is
/// called, with `Ok(value)`. Yield it from a coroutine, `.await` it, or use the
/// [`task!`](crate::task!) macro, which adds the callback argument for you.
///
/// The callback may be called from any thread, now or later. It is `FnOnce`, so calling it twice
/// is impossible by construction. A function that needs to pass several values calls it with a
/// tuple; one that passes none calls it with `()`.
///
/// # Errors
///
/// If the callback is dropped without being called (the function forgot it, or the thread that
/// held it ended), the task does not hang: it completes with `Err(`[`CallbackDropped`]`)`, so a
/// coroutine writes `yield_!(task)?` or matches on the result.
///
/// # Panics
///
/// A panic in the wrapped function, while `new` runs it, does not escape `new`: it is kept and
/// raised again where the task is polled (the coroutine's `yield_!`), as Tornado throws the
/// function's exception into the generator at the `yield`. A panic in whatever code later calls
/// the callback happens in that code, not here; the callback, dropped by the unwinding, makes the
/// task complete with `Err(CallbackDropped)`.
///
/// # Cancellation
///
/// Dropping the task does not stop the work the function started; calling the callback later is
/// harmless (the value is dropped).
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// /// A callback-style API: calls `callback` with the sum, from another thread.
/// fn add_later(a: u32, b: u32, callback: impl FnOnce(u32) + Send + 'static) {
///     std::thread::spawn(move || callback(a + b));
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn call_task() -> Result<u32, CallbackDropped> {
///     let sum = yield_!(Task::new(|callback| add_later(1, 2, callback)))?;
///     let same = yield_!(task!(add_later(sum, 3)))?;
///     Ok(same)
/// }
///
/// assert_eq!(futures::executor::block_on(call_task()), Ok(6));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Task<T> {
    /// Where the callback's value arrives; `None` once the output has been handed out.
    receiver: Option<oneshot::Receiver<T>>,
    /// A panic of the wrapped function, raised again at the first poll.
    panic: Option<Caught>,
}

impl<T: Send + 'static> Task<T> {
    /// Calls `function` with a [`Callback`] right now, and returns the future of the value the
    /// callback will be called with.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::Task;
    ///
    /// let task = Task::new(|callback| callback("called"));
    /// assert_eq!(futures::executor::block_on(task), Ok("called"));
    /// ```
    ///
    /// A forgotten callback is an error, not a hang:
    ///
    /// ```
    /// use coroutine_runtime::{CallbackDropped, Task};
    ///
    /// let task = Task::<u32>::new(|callback| drop(callback));
    /// assert_eq!(futures::executor::block_on(task), Err(CallbackDropped::new()));
    /// ```
    pub fn new<F>(function: F) -> Self
    where
        F: FnOnce(Callback<T>),
    {
        let (sender, receiver) = oneshot::channel();
        let callback: Callback<T> = Box::new(move |value| {
            // The task may have been dropped: then nobody wants the value.
            let _ = sender.send(value);
        });
        let panic = Caught::catch(|| function(callback)).err();
        Task {
            receiver: Some(receiver),
            panic,
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, CallbackDropped>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(caught) = self.panic.take() {
            self.receiver = None;
            caught.resume();
        }
        let receiver = self
            .receiver
            .as_mut()
            .expect("`Task` polled after completion");
        let poll = Pin::new(receiver).poll(cx);
        #[cfg(feature = "introspect")]
        if poll.is_pending() {
            crate::introspect::waits_on(crate::introspect::WaitsOn::Callback);
        }
        let result = std::task::ready!(poll);
        self.receiver = None;
        Poll::Ready(result.map_err(|oneshot::Canceled| CallbackDropped(())))
    }
}

impl<T> FusedFuture for Task<T> {
    fn is_terminated(&self) -> bool {
        self.receiver.is_none()
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("finished", &self.receiver.is_none())
            .field("panicked", &self.panic.is_some())
            .finish()
    }
}

/// The error of a [`Task`] whose callback was dropped without being called.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{CallbackDropped, Task};
///
/// let task = Task::<()>::new(|_forgotten| {});
/// let error = futures::executor::block_on(task).unwrap_err();
/// assert_eq!(error.to_string(), "the callback was dropped without being called");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CallbackDropped(());

impl CallbackDropped {
    /// The error value, for comparisons in tests.
    ///
    /// # Examples
    ///
    /// A task whose callback is dropped unused fails with exactly this value:
    ///
    /// ```
    /// use coroutine_runtime::{CallbackDropped, Task};
    ///
    /// let dropped = Task::<u8>::new(drop);
    /// assert_eq!(futures::executor::block_on(dropped), Err(CallbackDropped::new()));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        CallbackDropped(())
    }
}

impl fmt::Display for CallbackDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the callback was dropped without being called")
    }
}

impl Error for CallbackDropped {}

/// Calls a callback-taking function with a new callback as its last argument, and returns the
/// [`Task`] that completes with the value the callback receives: Tornado's
/// `gen.Task(some_function, other_args)`.
///
/// `task!(some_function(a, b))` is `Task::new(|callback| { some_function(a, b, callback); })`.
/// The call may be a path (`module::function(..)`, `Type::function(..)`) or a method call
/// (`client.fetch(..)`). Whatever the function returns is discarded.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// fn lookup(key: &str, callback: impl FnOnce(Option<u32>) + Send + 'static) {
///     callback(if key == "answer" { Some(42) } else { None });
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn call_task() -> Result<Option<u32>, CallbackDropped> {
///     // Translated into `lookup("answer", callback)`.
///     yield_!(task!(lookup("answer")))
/// }
///
/// assert_eq!(futures::executor::block_on(call_task()), Ok(Some(42)));
/// ```
#[macro_export]
macro_rules! task {
    // The last token tree is the argument list: append the callback.
    (@call [$($callee:tt)+] ( $($arg:expr),* $(,)? )) => {
        $crate::Task::new(|callback| {
            $($callee)+ ( $($arg,)* callback );
        })
    };
    (@call [$($callee:tt)*] $next:tt $($rest:tt)+) => {
        $crate::task!(@call [$($callee)* $next] $($rest)+)
    };
    (@call [$($callee:tt)*] $($rest:tt)?) => {
        ::core::compile_error!(
            "`task!` expects a call without its callback argument, \
             as in `task!(some_function(args))`"
        )
    };
    ($($call:tt)+) => {
        $crate::task!(@call [] $($call)+)
    };
}
