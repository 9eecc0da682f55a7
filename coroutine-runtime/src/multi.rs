//! [`multi`]: wait for a collection of yieldables in parallel, and the collections that can be
//! yielded: `Vec`, arrays, `HashMap` and `BTreeMap`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::join::Join;
use crate::{Yieldable, kind};

/// A collection whose elements are yieldable and can be waited on together: `Vec<Y>`, `[Y; N]`,
/// `HashMap<Key, Y, S>` and `BTreeMap<Key, Y>`, where `Y` is yieldable with the marker `K`.
///
/// It is what [`multi`] and [`try_multi`](crate::try_multi) accept, and what makes these
/// collections [`Yieldable`]. It is sealed: the four collections above are all there is.
///
/// # Examples
///
/// A function generic over every such collection of futures of `u32`:
///
/// ```
/// use coroutine_runtime::{Children, multi};
/// use std::collections::HashMap;
///
/// async fn total<C, K>(children: C) -> C::Collected<u32>
/// where
///     C: Children<K>,
///     C::Future: std::future::Future<Output = u32>,
/// {
///     multi(children).await
/// }
///
/// let map = HashMap::from([("a", std::future::ready(1)), ("b", std::future::ready(2))]);
/// let results = futures::executor::block_on(total(map));
/// assert_eq!(results["b"], 2);
/// ```
pub trait Children<K>: sealed::Sealed {
    /// The future each element is converted to.
    type Future: Future;
    /// The same collection holding a `T` per element, under the same index or key: `Vec<T>`,
    /// `[T; N]`, `HashMap<Key, T, S>` or `BTreeMap<Key, T>`.
    type Collected<T>;
    /// Not public API: what is kept aside to rebuild the collection (its keys, its hasher).
    #[doc(hidden)]
    type Shape;
    /// Not public API: how many elements there are.
    #[doc(hidden)]
    fn count(&self) -> usize;
    /// Not public API: converts every element and hands it to `push`, in the collection's order.
    #[doc(hidden)]
    fn split(self, push: impl FnMut(Self::Future)) -> Self::Shape;
    /// Not public API: puts one value per element back in the collection's shape.
    #[doc(hidden)]
    fn rebuild<T>(shape: Self::Shape, values: impl Iterator<Item = T>) -> Self::Collected<T>;
}

/// Keeps [`Children`] to the collections of this crate.
mod sealed {
    /// Implemented by the collections that implement [`Children`](super::Children).
    pub trait Sealed {}
}

/// Takes `children` apart into a join and the shape to rebuild them in.
pub(crate) fn split<C: Children<K>, K, T>(children: C) -> (Join<C::Future, T>, C::Shape) {
    let mut join = Join::with_capacity(children.count());
    let shape = children.split(|child| join.push(child));
    (join, shape)
}

/// Waits for every element of a collection, in parallel, and gives their outputs in the same
/// shape: Tornado's `gen.multi`.
///
/// `multi(children)` is exactly what `yield_!(children)` waits on, as a function: a `Vec` gives
/// a `Vec` of outputs in input order, an array an array, a `HashMap` or `BTreeMap` a map with the
/// same keys. The elements may be any [`Yieldable`] values, collections included. Every element
/// runs at once; an empty collection resolves at once.
///
/// Each time the executor polls it, the elements that may have progressed are polled in input
/// order (in a map, its iteration order), so coroutines in a collection take turns as they do in
/// Tornado. The cost is linear in the number of elements: a wake-up polls only the elements that
/// were woken.
///
/// Tuples, whose elements may have different types, are yielded directly: `yield_!((a, b))`.
///
/// # Cancellation
///
/// Each element is dropped as soon as it finishes; dropping the `Multi` drops the elements still
/// running, in input order.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::collections::HashMap;
///
/// #[coroutine_runtime::coroutine]
/// fn fetch(url: &'static str) -> usize {
///     yield_!(moment);
///     url.len()
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn fetch_all() -> (Vec<usize>, HashMap<&'static str, usize>) {
///     let urls = ["a", "bb", "ccc"];
///     let lengths = yield_!(multi(urls.into_iter().map(fetch).collect::<Vec<_>>()));
///     let by_url = yield_!(multi(HashMap::from(urls.map(|url| (url, fetch(url))))));
///     (lengths, by_url)
/// }
///
/// let (lengths, by_url) = futures::executor::block_on(fetch_all());
/// assert_eq!(lengths, [1, 2, 3]);
/// assert_eq!(by_url["ccc"], 3);
/// ```
pub fn multi<C: Children<K>, K>(children: C) -> Multi<C, K> {
    let (join, shape) = split(children);
    Multi {
        join,
        shape: Some(shape),
        _kind: PhantomData,
    }
}

/// Future for [`multi`], and for a yielded `Vec`, array, `HashMap` or `BTreeMap`.
#[must_use = "futures do nothing unless polled"]
pub struct Multi<C: Children<K>, K> {
    /// The running elements and the finished elements' outputs.
    join: Join<C::Future, <C::Future as Future>::Output>,
    /// The keys and hasher to rebuild the collection with; `None` once it has been handed out.
    shape: Option<C::Shape>,
    /// `C` and `K` only select the types above.
    _kind: PhantomData<fn() -> (C, K)>,
}

// The elements are boxed and the rest is never pinned in place.
impl<C: Children<K>, K> Unpin for Multi<C, K> {}

impl<C: Children<K>, K> Future for Multi<C, K> {
    type Output = C::Collected<<C::Future as Future>::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(this.shape.is_some(), "`Multi` polled after completion");
        let finished = this.join.poll(cx, |_, output| {
            ControlFlow::<std::convert::Infallible, _>::Continue(Some(output))
        });
        #[cfg(feature = "introspect")]
        if finished.is_pending() {
            crate::introspect::waits_on_collection(this.join.pending(), this.join.len());
        }
        match finished {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(never)) => match never {},
            Poll::Ready(Ok(())) => {
                let shape = this.shape.take().expect("checked above");
                Poll::Ready(C::rebuild(shape, this.join.take_values()))
            }
        }
    }
}

impl<C: Children<K>, K> fmt::Debug for Multi<C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multi")
            .field("children", &self.join.len())
            .field("pending", &self.join.pending())
            .finish_non_exhaustive()
    }
}

/// A `Vec`, array, `HashMap` or `BTreeMap` of yieldable values is yieldable: it waits for every
/// element in parallel, as [`multi`] does.
impl<C: Children<K>, K> Yieldable<kind::Collection<K>> for C {
    type Output = C::Collected<<C::Future as Future>::Output>;
    type Future = Multi<C, K>;

    fn into_yielded(self) -> Multi<C, K> {
        multi(self)
    }
}

impl<Y> sealed::Sealed for Vec<Y> {}

impl<Y: Yieldable<K>, K> Children<K> for Vec<Y> {
    type Future = Y::Future;
    type Collected<T> = Vec<T>;
    type Shape = ();

    fn count(&self) -> usize {
        self.len()
    }

    fn split(self, mut push: impl FnMut(Y::Future)) {
        for child in self {
            push(child.into_yielded());
        }
    }

    fn rebuild<T>((): (), values: impl Iterator<Item = T>) -> Vec<T> {
        // Not `collect`: from the engine's own buffer, `collect` would reuse that buffer in
        // place, and the result would keep its capacity (several times its length) for as long
        // as the caller keeps it.
        let mut vec = Vec::with_capacity(values.size_hint().0);
        vec.extend(values);
        vec
    }
}

impl<Y, const N: usize> sealed::Sealed for [Y; N] {}

impl<Y: Yieldable<K>, K, const N: usize> Children<K> for [Y; N] {
    type Future = Y::Future;
    type Collected<T> = [T; N];
    type Shape = ();

    fn count(&self) -> usize {
        N
    }

    fn split(self, mut push: impl FnMut(Y::Future)) {
        for child in self {
            push(child.into_yielded());
        }
    }

    fn rebuild<T>((): (), mut values: impl Iterator<Item = T>) -> [T; N] {
        std::array::from_fn(|_| values.next().expect("one value per element"))
    }
}

impl<Key, Y, S> sealed::Sealed for HashMap<Key, Y, S> {}

impl<Key, Y, S, K> Children<K> for HashMap<Key, Y, S>
where
    Key: Eq + Hash,
    Y: Yieldable<K>,
    S: BuildHasher + Clone,
{
    type Future = Y::Future;
    type Collected<T> = HashMap<Key, T, S>;
    type Shape = (Vec<Key>, S);

    fn count(&self) -> usize {
        self.len()
    }

    fn split(self, mut push: impl FnMut(Y::Future)) -> (Vec<Key>, S) {
        let hasher = self.hasher().clone();
        let mut keys = Vec::with_capacity(self.len());
        for (key, child) in self {
            keys.push(key);
            push(child.into_yielded());
        }
        (keys, hasher)
    }

    fn rebuild<T>(
        (keys, hasher): (Vec<Key>, S),
        values: impl Iterator<Item = T>,
    ) -> HashMap<Key, T, S> {
        let mut map = HashMap::with_capacity_and_hasher(keys.len(), hasher);
        map.extend(keys.into_iter().zip(values));
        map
    }
}

impl<Key, Y> sealed::Sealed for BTreeMap<Key, Y> {}

impl<Key: Ord, Y: Yieldable<K>, K> Children<K> for BTreeMap<Key, Y> {
    type Future = Y::Future;
    type Collected<T> = BTreeMap<Key, T>;
    type Shape = Vec<Key>;

    fn count(&self) -> usize {
        self.len()
    }

    fn split(self, mut push: impl FnMut(Y::Future)) -> Vec<Key> {
        let mut keys = Vec::with_capacity(self.len());
        for (key, child) in self {
            keys.push(key);
            push(child.into_yielded());
        }
        keys
    }

    fn rebuild<T>(keys: Vec<Key>, values: impl Iterator<Item = T>) -> BTreeMap<Key, T> {
        // The keys come in order, so this builds the tree in one sweep.
        keys.into_iter().zip(values).collect()
    }
}
