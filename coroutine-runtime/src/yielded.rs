//! What a coroutine can yield, and how a yielded value becomes a future: the analog of
//! Tornado's `convert_yielded`.

use std::future::{Future, IntoFuture};

/// Marker types that tell [`Yieldable`]'s implementations apart.
///
/// Rust's coherence rules forbid one trait from being implemented both for every future and for
/// `Vec`, so [`Yieldable`] carries a marker parameter, one per family. Inference picks it: you
/// never name these types unless you write a function generic over yieldables.
pub mod kind {
    use std::marker::PhantomData;

    /// The marker of futures (anything that implements `IntoFuture`).
    #[derive(Debug)]
    pub struct Future(());

    /// The marker of types that implement [`IntoYielded`](crate::IntoYielded).
    #[derive(Debug)]
    pub struct Custom(());

    /// The marker of a collection whose elements have the marker `K`.
    #[derive(Debug)]
    pub struct Collection<K>(PhantomData<K>);

    /// The marker of a tuple whose elements have the markers in `K`.
    #[derive(Debug)]
    pub struct Tuple<K>(PhantomData<K>);
}

/// A value a coroutine can wait on with `yield_!`.
///
/// Implemented for every future (and every `IntoFuture`), for the types that implement
/// [`IntoYielded`], for `Vec`s, arrays, `HashMap`s and `BTreeMap`s of yieldable values (see
/// [`Children`](crate::Children)), and for tuples of 1 to 12 yieldable values of any types; a
/// collection or tuple is waited on in parallel. `K` is a marker from [`kind`] that inference
/// fills in.
///
/// # Examples
///
/// A function generic over anything yieldable:
///
/// ```
/// use coroutine_runtime::{Yieldable, yield_};
///
/// #[coroutine_runtime::coroutine]
/// fn wait_for<Y: Yieldable<K>, K>(y: Y) -> Y::Output {
///     yield_!(y)
/// }
///
/// assert_eq!(futures::executor::block_on(wait_for(async { 7 })), 7);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be yielded from a coroutine",
    label = "not yieldable",
    note = "a coroutine can yield: a future (anything that implements `Future` or `IntoFuture`), \
            `moment`, or a `Vec`, `HashMap`, `BTreeMap`, array or tuple of yieldable values; \
            implement `IntoYielded` to make your own type yieldable"
)]
pub trait Yieldable<K> {
    /// What the yield evaluates to.
    type Output;
    /// The future that is waited on.
    type Future: Future<Output = Self::Output>;
    /// Converts the value into the future to wait on.
    fn into_yielded(self) -> Self::Future;
}

impl<F: IntoFuture> Yieldable<kind::Future> for F {
    type Output = F::Output;
    type Future = F::IntoFuture;

    fn into_yielded(self) -> F::IntoFuture {
        self.into_future()
    }
}

/// Makes your own type yieldable: the analog of registering a converter with Tornado's
/// `convert_yielded.register`.
///
/// Implement it for a type that is not a future itself but stands for one, and
/// `yield_!(value)` waits on the future it converts to, alone or inside a `Vec`, map or tuple.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{IntoYielded, yield_};
/// use std::future::{Ready, ready};
///
/// /// A row id that the (imaginary) database resolves to a name.
/// struct UserId(u32);
///
/// impl IntoYielded for UserId {
///     type Output = String;
///     type Future = Ready<String>;
///     fn into_yielded(self) -> Ready<String> {
///         ready(format!("user {}", self.0))
///     }
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn greet() -> String {
///     let name = yield_!(UserId(7));
///     format!("hello, {name}")
/// }
///
/// assert_eq!(futures::executor::block_on(greet()), "hello, user 7");
/// ```
pub trait IntoYielded {
    /// What the yield evaluates to.
    type Output;
    /// The future that is waited on.
    type Future: Future<Output = Self::Output>;
    /// Converts the value into the future to wait on.
    fn into_yielded(self) -> Self::Future;
}

impl<T: IntoYielded> Yieldable<kind::Custom> for T {
    type Output = T::Output;
    type Future = T::Future;

    fn into_yielded(self) -> T::Future {
        IntoYielded::into_yielded(self)
    }
}
