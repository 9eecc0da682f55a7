//! Error types shared by the combinators and the loop.

use std::fmt;

/// The error of a wait that ran past its deadline.
///
/// Returned by `with_timeout` when the deadline passes before the future completes, and by
/// `IoLoop::run_sync_timeout` when the coroutine does not finish in time. The future that timed
/// out has been dropped (cancelled) by then.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::TimeoutError;
///
/// fn describe(result: Result<u32, TimeoutError>) -> String {
///     match result {
///         Ok(v) => format!("got {v}"),
///         Err(e) => e.to_string(),
///     }
/// }
/// assert_eq!(describe(Ok(1)), "got 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeoutError(pub(crate) ());

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for TimeoutError {}
