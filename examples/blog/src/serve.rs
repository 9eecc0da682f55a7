//! How the blog's process runs: its runtime, chosen in this one place.
//!
//! Tornado runs one `IOLoop` per process and scales by running one process per core, all on
//! one database; the blog does the same by default ([`Runtime::Loop`]: the [`IoLoop`], one
//! thread). [`Runtime::Threads`] runs it on tokio's multi-thread runtime instead, for
//! comparison.

use std::cell::Cell;
use std::future::Future;

use coroutine_runtime::IoLoop;

thread_local! {
    /// Whether this thread runs the blog's `IoLoop`, where background coroutines go to
    /// `IoLoop::current().spawn_callback`.
    static ON_THE_LOOP: Cell<bool> = const { Cell::new(false) };
}

/// Which runtime serves the blog.
///
/// # Examples
///
/// ```
/// let runtime = blog::Runtime::Threads(4); // `--threads 4`
/// assert_ne!(runtime, blog::Runtime::Loop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runtime {
    /// The [`IoLoop`] (a tokio current-thread runtime): one thread, one event loop, as a
    /// Tornado process (the default).
    #[default]
    Loop,
    /// tokio's multi-thread runtime with this many worker threads.
    Threads(usize),
}

/// Which handlers serve the post page: the `#[coroutine]` handlers, or the same handlers
/// written as plain `async fn`s (the load test compares the two).
///
/// # Examples
///
/// ```
/// assert_eq!(blog::Handlers::default(), blog::Handlers::Coroutines);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handlers {
    /// `#[coroutine_runtime::coroutine]` fns with `yield_!` (the default).
    #[default]
    Coroutines,
    /// The same code as `async fn`s with `.await`.
    AsyncFns,
}

impl Handlers {
    /// The handlers named `coroutine` or `async-fn`, as the command lines spell them.
    ///
    /// # Examples
    ///
    /// ```
    /// use blog::Handlers;
    ///
    /// assert_eq!(Handlers::from_name("async-fn"), Some(Handlers::AsyncFns));
    /// assert_eq!(Handlers::from_name("threads"), None);
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Handlers> {
        match name {
            "coroutine" => Some(Handlers::Coroutines),
            "async-fn" => Some(Handlers::AsyncFns),
            _ => None,
        }
    }
}

/// Runs `main` to completion on `runtime`; the blog's processes start here.
///
/// # Errors
///
/// Returns the error when the runtime cannot be started.
///
/// # Examples
///
/// ```
/// let answer = blog::serve(blog::Runtime::Threads(2), async { 6 * 7 })?;
/// assert_eq!(answer, 42);
/// let answer = blog::serve(blog::Runtime::Loop, async { 6 * 7 })?;
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve<T>(runtime: Runtime, main: impl Future<Output = T>) -> std::io::Result<T> {
    match runtime {
        Runtime::Loop => {
            // `IOLoop.current().run_sync(main)`, on a loop of its own.
            let io_loop = IoLoop::new();
            let was = ON_THE_LOOP.replace(true);
            let output = io_loop.run_sync(|| main);
            ON_THE_LOOP.set(was);
            Ok(output)
        }
        Runtime::Threads(threads) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()?;
            Ok(runtime.block_on(main))
        }
    }
}

/// Starts `function`'s future in the background, as Tornado's
/// `IOLoop.current().spawn_callback(function)`: on the [`IoLoop`] when the blog runs on it, else
/// with `tokio::spawn` on the tokio runtime it runs on (`--threads`, or a test's).
pub(crate) fn spawn_callback<F, Fut>(function: F)
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if ON_THE_LOOP.get() {
        IoLoop::current().spawn_callback(function);
    } else {
        tokio::spawn(function());
    }
}
