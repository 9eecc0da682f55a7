//! [`try_multi`]: wait for a collection of fallible yieldables, failing fast.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::TryFuture;

use crate::Children;
use crate::join::Join;
use crate::multi::split;

/// Waits for a collection of yieldables whose outputs are `Result`s, and stops at the first
/// error: `Ok` with every value in the collection's shape, or the first `Err` to arrive.
///
/// It takes what [`multi`](crate::multi) takes (a `Vec`, array, `HashMap` or `BTreeMap`) and
/// gives `Result<Vec<T>, E>`, `Result<[T; N], E>`, `Result<HashMap<Key, T, S>, E>` or
/// `Result<BTreeMap<Key, T>, E>`.
///
/// **This deliberately differs from Tornado's `multi`,** which waits for every child even after
/// one has failed, then raises the error of the first failed child *by position* (and logs the
/// others). `try_multi` fails fast, like `futures::future::try_join_all`: it resolves as soon as
/// any child fails, with the error that came first *in time*, and cancels the rest. To wait for
/// every child and look at each outcome, yield the collection itself (or use
/// [`multi`](crate::multi)): it gives the `Result` of every child.
///
/// # Errors
///
/// The first `Err` a child produces, in the order they finish (children that finish in the same
/// pass are taken in input order).
///
/// # Cancellation
///
/// When a child fails, every other child still running is dropped at once, before `try_multi`
/// resolves, and so are the values already collected. Dropping the `TryMulti` drops the children
/// still running.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn parse(text: &'static str) -> Result<u32, std::num::ParseIntError> {
///     yield_!(moment);
///     text.parse()
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn sum(texts: Vec<&'static str>) -> Result<u32, std::num::ParseIntError> {
///     let numbers = yield_!(try_multi(texts.into_iter().map(parse).collect::<Vec<_>>()))?;
///     Ok(numbers.iter().sum())
/// }
///
/// assert_eq!(futures::executor::block_on(sum(vec!["1", "2", "3"])), Ok(6));
/// assert!(futures::executor::block_on(sum(vec!["1", "two", "3"])).is_err());
/// ```
pub fn try_multi<C, K>(children: C) -> TryMulti<C, K>
where
    C: Children<K>,
    C::Future: TryFuture,
{
    let (join, shape) = split(children);
    TryMulti {
        join,
        shape: Some(shape),
        _kind: PhantomData,
    }
}

/// Future for [`try_multi`].
#[must_use = "futures do nothing unless polled"]
pub struct TryMulti<C, K>
where
    C: Children<K>,
    C::Future: TryFuture,
{
    /// The running children and the finished children's values.
    join: Join<C::Future, <C::Future as TryFuture>::Ok>,
    /// The keys and hasher to rebuild the collection with; `None` once it has resolved.
    shape: Option<C::Shape>,
    /// `C` and `K` only select the types above.
    _kind: PhantomData<fn() -> (C, K)>,
}

// The children are boxed and the rest is never pinned in place.
impl<C, K> Unpin for TryMulti<C, K>
where
    C: Children<K>,
    C::Future: TryFuture,
{
}

impl<C, K, T, E> Future for TryMulti<C, K>
where
    C: Children<K>,
    C::Future: Future<Output = Result<T, E>> + TryFuture<Ok = T, Error = E>,
{
    type Output = Result<C::Collected<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(this.shape.is_some(), "`TryMulti` polled after completion");
        let finished = this.join.poll(cx, |_, output| match output {
            Ok(value) => ControlFlow::Continue(Some(value)),
            Err(error) => ControlFlow::Break(error),
        });
        #[cfg(feature = "introspect")]
        if finished.is_pending() {
            crate::introspect::waits_on_collection(this.join.pending(), this.join.len());
        }
        match finished {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => {
                this.shape = None;
                Poll::Ready(Err(error))
            }
            Poll::Ready(Ok(())) => {
                let shape = this.shape.take().expect("checked above");
                Poll::Ready(Ok(C::rebuild(shape, this.join.take_values())))
            }
        }
    }
}

impl<C, K> fmt::Debug for TryMulti<C, K>
where
    C: Children<K>,
    C::Future: TryFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryMulti")
            .field("children", &self.join.len())
            .field("pending", &self.join.pending())
            .finish_non_exhaustive()
    }
}
