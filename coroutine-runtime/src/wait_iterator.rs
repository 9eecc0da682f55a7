//! [`WaitIterator`]: the results of several futures, in the order they finish.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;

use crate::Yieldable;
use crate::join::Join;

/// Hands out the outputs of several futures in the order they finish: Tornado's
/// `gen.WaitIterator`.
///
/// Build it from a `Vec` (or any iterator) of yieldable values with [`WaitIterator::new`], or
/// from a map (any iterator of key-value pairs) with [`WaitIterator::from_map`]. Then, as in
/// Tornado, loop while [`done`](WaitIterator::done) is false and yield
/// [`next`](WaitIterator::next); after each result, [`current_index`](WaitIterator::current_index)
/// and [`current_key`](WaitIterator::current_key) tell which future it came from.
///
/// Every future runs at once, and each is dropped as soon as it finishes. When several finish in
/// the same pass, they come out in input order. A failure is just an output here: a future of
/// `Result` hands out its `Err` like any other output, and the others keep running.
///
/// It is also a [`Stream`] of the same outputs in the same order, keeping `current_index` and
/// `current_key` in step. Its inherent `next` shadows `StreamExt::next`: call
/// `StreamExt::next(&mut iterator)` to get an `Option`, or use any other stream adapter.
///
/// # Cancellation
///
/// Dropping the `WaitIterator` drops the futures still running.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::time::Duration;
///
/// #[coroutine_runtime::coroutine]
/// fn fetch(millis: u64) -> u64 {
///     yield_!(sleep(Duration::from_millis(millis)));
///     millis
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn first_come_first_served() -> Vec<(usize, u64)> {
///     let mut wait_iterator = WaitIterator::new(vec![fetch(60), fetch(10), fetch(30)]);
///     let mut seen = Vec::new();
///     while !wait_iterator.done() {
///         let result = yield_!(wait_iterator.next());
///         seen.push((wait_iterator.current_index().unwrap(), result));
///     }
///     assert_eq!(wait_iterator.current_index(), None);
///     seen
/// }
///
/// let seen = futures::executor::block_on(first_come_first_served());
/// assert_eq!(seen, [(1, 10), (2, 30), (0, 60)]);
/// ```
pub struct WaitIterator<F: Future, Key = usize> {
    /// The futures still running.
    join: Join<F, Infallible>,
    /// The key of each future, by index.
    keys: Vec<Key>,
    /// Outputs that have come in but not been handed out yet, with their indices, oldest first.
    finished: VecDeque<(usize, F::Output)>,
    /// The index of the future whose output was handed out last.
    current: Option<usize>,
}

impl<F: Future> WaitIterator<F, usize> {
    /// Starts waiting on `futures`, any iterator of [`Yieldable`] values (usually a `Vec`); each
    /// one's key is its index.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    ///
    /// let mut wait_iterator = WaitIterator::new(vec![async { 'a' }]);
    /// let first = futures::executor::block_on(wait_iterator.next());
    /// assert_eq!((first, wait_iterator.current_key()), ('a', Some(&0)));
    /// ```
    pub fn new<Y, K>(futures: impl IntoIterator<Item = Y>) -> Self
    where
        Y: Yieldable<K, Future = F>,
    {
        let join = Join::new(futures.into_iter().map(Yieldable::into_yielded));
        let keys = (0..join.len()).collect();
        Self::start(join, keys)
    }
}

impl<F: Future, Key> WaitIterator<F, Key> {
    /// Starts waiting on the values of `map`, any iterator of `(key, yieldable)` pairs (usually a
    /// `HashMap` or `BTreeMap`); [`current_key`](WaitIterator::current_key) gives the key of each
    /// result, and [`current_index`](WaitIterator::current_index) its position in the map's
    /// iteration order.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    /// use std::collections::BTreeMap;
    ///
    /// let map = BTreeMap::from([("first", std::future::ready(1)), ("second", std::future::ready(2))]);
    /// let mut wait_iterator = WaitIterator::from_map(map);
    /// let value = futures::executor::block_on(wait_iterator.next());
    /// assert_eq!((wait_iterator.current_key(), value), (Some(&"first"), 1));
    /// ```
    pub fn from_map<Y, K>(map: impl IntoIterator<Item = (Key, Y)>) -> Self
    where
        Y: Yieldable<K, Future = F>,
    {
        let map = map.into_iter();
        let mut keys = Vec::with_capacity(map.size_hint().0);
        let join = Join::new(map.map(|(key, future)| {
            keys.push(key);
            future.into_yielded()
        }));
        Self::start(join, keys)
    }

    /// A wait iterator over `join`, whose futures have these `keys`.
    fn start(join: Join<F, Infallible>, keys: Vec<Key>) -> Self {
        WaitIterator {
            join,
            keys,
            finished: VecDeque::new(),
            current: None,
        }
    }

    /// Whether every output has been handed out. When it returns `true`,
    /// [`current_index`](WaitIterator::current_index) and
    /// [`current_key`](WaitIterator::current_key) are reset to `None`, as in Tornado.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    ///
    /// let mut wait_iterator = WaitIterator::new(vec![async { 1 }]);
    /// assert!(!wait_iterator.done());
    /// futures::executor::block_on(wait_iterator.next());
    /// assert_eq!(wait_iterator.current_index(), Some(0));
    /// assert!(wait_iterator.done());
    /// assert_eq!(wait_iterator.current_index(), None);
    /// ```
    pub fn done(&mut self) -> bool {
        if self.remaining() > 0 {
            return false;
        }
        self.current = None;
        true
    }

    /// Waits for the next output to come in: the future to yield in the loop.
    ///
    /// # Panics
    ///
    /// The returned future panics if every output has already been handed out (check
    /// [`done`](WaitIterator::done) first).
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    ///
    /// let mut wait_iterator = WaitIterator::new(vec![std::future::ready(1), std::future::ready(2)]);
    /// futures::executor::block_on(async {
    ///     assert_eq!(wait_iterator.next().await, 1);
    ///     assert_eq!(wait_iterator.next().await, 2);
    /// });
    /// ```
    #[allow(
        clippy::should_implement_trait,
        reason = "Tornado's name; it returns a future"
    )]
    pub fn next(&mut self) -> WaitNext<'_, F, Key> {
        WaitNext { iterator: self }
    }

    /// The index of the future whose output was handed out last (its position in the input, or
    /// in the map's iteration order); `None` before the first output and after
    /// [`done`](WaitIterator::done) has returned `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    /// use futures::channel::oneshot;
    ///
    /// let (_first_sender, first) = oneshot::channel::<u8>();
    /// let (second_sender, second) = oneshot::channel();
    /// let mut wait_iterator = WaitIterator::new(vec![first, second]);
    /// assert_eq!(wait_iterator.current_index(), None);
    /// second_sender.send(2).unwrap();
    /// assert_eq!(futures::executor::block_on(wait_iterator.next()), Ok(2));
    /// assert_eq!(wait_iterator.current_index(), Some(1));
    /// ```
    #[must_use]
    pub fn current_index(&self) -> Option<usize> {
        self.current
    }

    /// The key of the future whose output was handed out last (its index, for a wait iterator
    /// made by [`new`](WaitIterator::new)); `None` before the first output and after
    /// [`done`](WaitIterator::done) has returned `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::WaitIterator;
    /// use std::collections::HashMap;
    ///
    /// let mut wait_iterator = WaitIterator::from_map(HashMap::from([("only", async { 1 })]));
    /// futures::executor::block_on(wait_iterator.next());
    /// assert_eq!(wait_iterator.current_key(), Some(&"only"));
    /// ```
    #[must_use]
    pub fn current_key(&self) -> Option<&Key> {
        self.current.map(|index| &self.keys[index])
    }

    /// How many outputs have not been handed out yet.
    fn remaining(&self) -> usize {
        self.join.pending() + self.finished.len()
    }

    /// Hands out the next output, or `None` if all have been.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if self.finished.is_empty() && self.join.pending() > 0 {
            let finished = &mut self.finished;
            let _ = self.join.poll(cx, |index, output| {
                finished.push_back((index, output));
                ControlFlow::<Infallible, _>::Continue(None)
            });
        }
        match self.finished.pop_front() {
            Some((index, output)) => {
                self.current = Some(index);
                Poll::Ready(Some(output))
            }
            None if self.join.pending() == 0 => {
                self.current = None;
                Poll::Ready(None)
            }
            None => {
                #[cfg(feature = "introspect")]
                crate::introspect::waits_on_collection(self.join.pending(), self.join.len());
                Poll::Pending
            }
        }
    }
}

// The futures live in heap chunks of the join, pinned there; the rest is never pinned in place.
impl<F: Future, Key> Unpin for WaitIterator<F, Key> {}

impl<F: Future, Key> Stream for WaitIterator<F, Key> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.poll_output(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

impl<F: Future, Key> FusedStream for WaitIterator<F, Key> {
    fn is_terminated(&self) -> bool {
        self.remaining() == 0
    }
}

impl<F: Future, Key: fmt::Debug> fmt::Debug for WaitIterator<F, Key> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitIterator")
            .field("remaining", &self.remaining())
            .field("current_key", &self.current_key())
            .finish_non_exhaustive()
    }
}

/// Future for [`WaitIterator::next`].
#[must_use = "futures do nothing unless polled"]
pub struct WaitNext<'a, F: Future, Key> {
    /// The iterator to take the next output from.
    iterator: &'a mut WaitIterator<F, Key>,
}

impl<F: Future, Key> Future for WaitNext<'_, F, Key> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.iterator.poll_output(cx) {
            Poll::Ready(Some(output)) => Poll::Ready(output),
            Poll::Ready(None) => panic!(
                "`WaitIterator::next` was awaited after every output was handed out; \
                 check `done()` first"
            ),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future, Key: fmt::Debug> fmt::Debug for WaitNext<'_, F, Key> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitNext")
            .field("iterator", &self.iterator)
            .finish()
    }
}
