//! Yielding a tuple: waits for every element, whose types may differ.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::MaybeDone;

use crate::{Yieldable, kind};

/// A tuple of 1 to 12 futures that a [`TupleFuture`] waits on together.
///
/// Implemented for tuples of futures of any types; sealed. Its [`Output`](FutureTuple::Output)
/// is the tuple of the futures' outputs.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{FutureTuple, TupleFuture, Yieldable};
///
/// fn both<T: FutureTuple>(tuple: TupleFuture<T>) -> TupleFuture<T> {
///     tuple
/// }
///
/// let waiting = both((async { 1 }, async { "two" }).into_yielded());
/// assert_eq!(futures::executor::block_on(waiting), (1, "two"));
/// ```
pub trait FutureTuple: sealed::Sealed {
    /// The tuple of the outputs, in the same order.
    type Output;
    /// Not public API: the running and finished elements.
    #[doc(hidden)]
    type Slots: Unpin;
    /// Not public API: boxes every element.
    #[doc(hidden)]
    fn into_slots(self) -> Self::Slots;
    /// Not public API: polls every running element in order, and gives the outputs when all
    /// have finished.
    #[doc(hidden)]
    fn poll_slots(slots: &mut Self::Slots, cx: &mut Context<'_>) -> Poll<Self::Output>;
}

/// Keeps [`FutureTuple`] to tuples.
mod sealed {
    /// Implemented by the tuples that implement [`FutureTuple`](super::FutureTuple).
    pub trait Sealed {}
}

/// Future for a yielded tuple: `yield_!((a, b))` waits for `a` and `b` in parallel and
/// evaluates to the tuple of their outputs.
///
/// Each time it is polled, it polls every element still running, in order. Each element is
/// dropped as soon as it finishes; dropping the `TupleFuture` drops the elements still running.
///
/// # Examples
///
/// The seed's `prev_post, next_post = yield [future_0, future_1]`, with futures of two types:
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn neighbours(id: u32) -> (String, u32) {
///     let (prev_post, next_id) = yield_!((async move { format!("post {}", id - 1) }, async move {
///         id + 1
///     }));
///     (prev_post, next_id)
/// }
///
/// let (prev_post, next_id) = futures::executor::block_on(neighbours(5));
/// assert_eq!(prev_post, "post 4");
/// assert_eq!(next_id, 6);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TupleFuture<T: FutureTuple> {
    /// The elements; `None` once the outputs have been handed out.
    slots: Option<T::Slots>,
}

impl<T: FutureTuple> Future for TupleFuture<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let slots = self
            .slots
            .as_mut()
            .expect("`TupleFuture` polled after completion");
        let output = std::task::ready!(T::poll_slots(slots, cx));
        self.slots = None;
        Poll::Ready(output)
    }
}

impl<T: FutureTuple> fmt::Debug for TupleFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TupleFuture")
            .field("finished", &self.slots.is_none())
            .finish_non_exhaustive()
    }
}

/// Implements [`FutureTuple`] and [`Yieldable`] for one tuple arity: `$Y` names an element's
/// type, `$K` its marker, `$i` its position.
macro_rules! tuple {
    ($($Y:ident $K:ident $i:tt),+) => {
        impl<$($Y: Future),+> sealed::Sealed for ($($Y,)+) {}

        impl<$($Y: Future),+> FutureTuple for ($($Y,)+) {
            type Output = ($($Y::Output,)+);
            type Slots = ($(MaybeDone<Pin<Box<$Y>>>,)+);

            fn into_slots(self) -> Self::Slots {
                ($(MaybeDone::Future(Box::pin(self.$i)),)+)
            }

            fn poll_slots(slots: &mut Self::Slots, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut pending = 0;
                $(pending += usize::from(Pin::new(&mut slots.$i).poll(cx).is_pending());)+
                if pending > 0 {
                    #[cfg(feature = "introspect")]
                    crate::introspect::waits_on_collection(pending, [$($i),+].len());
                    return Poll::Pending;
                }
                Poll::Ready(($(
                    Pin::new(&mut slots.$i).take_output().expect("the element has finished"),
                )+))
            }
        }

        /// A tuple of yieldable values is yieldable: it waits for every element in parallel.
        // Without this, every error about a value that cannot be yielded lists the tuple impls.
        #[diagnostic::do_not_recommend]
        impl<$($Y: Yieldable<$K>, $K),+> Yieldable<kind::Tuple<($($K,)+)>> for ($($Y,)+) {
            type Output = ($($Y::Output,)+);
            type Future = TupleFuture<($($Y::Future,)+)>;

            fn into_yielded(self) -> Self::Future {
                TupleFuture {
                    slots: Some(FutureTuple::into_slots(($(self.$i.into_yielded(),)+))),
                }
            }
        }
    };
}

tuple!(A KA 0);
tuple!(A KA 0, B KB 1);
tuple!(A KA 0, B KB 1, C KC 2);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6, H KH 7);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6, H KH 7, I KI 8);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6, H KH 7, I KI 8, J KJ 9);
tuple!(A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6, H KH 7, I KI 8, J KJ 9, L KL 10);
tuple!(
    A KA 0, B KB 1, C KC 2, D KD 3, E KE 4, F KF 5, G KG 6, H KH 7, I KI 8, J KJ 9, L KL 10,
    M KM 11
);
