//! How the blog's process runs: its runtime, chosen in this one place.
//!
//! Tornado runs one `IOLoop` per process and scales by running one process per core, all on
//! one database; the blog does the same by default ([`Runtime::Loop`]: one thread, one loop).
//! [`Runtime::Threads`] runs it on tokio's multi-thread runtime instead, for comparison.

use std::future::Future;

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
    /// One thread running one event loop, as a Tornado process does (the default).
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
    let runtime = match runtime {
        Runtime::Loop => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Runtime::Threads(threads) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()?,
    };
    Ok(runtime.block_on(main))
}

/// Starts `function`'s future in the background on the running runtime, as Tornado's
/// `IOLoop.current().spawn_callback(function)`.
pub(crate) fn spawn_callback<F, Fut>(function: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(function());
}
