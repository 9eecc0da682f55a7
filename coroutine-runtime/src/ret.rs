//! [`Return`], Tornado's `gen.Return`.

/// Ends a coroutine with a value: `return Return(v)` is Tornado 2's `raise gen.Return(v)`.
///
/// Inside a `#[coroutine]` fn, `return Return(v)` and a tail `Return(v)` make `v` the result,
/// exactly as `return v` and a tail `v` do. The declared return type stays `T`: `Return` is
/// unwrapped where it stands, so a `Return(v)` whose `v` has the wrong type is a compile error
/// at `v`. Unlike Tornado's exception, it cannot be raised from a helper function: it only
/// means something in a coroutine's own `return` or tail position.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn get_categories() -> Vec<&'static str> {
///     let categories = yield_!(async { vec!["python", "rust"] });
///     return Return(categories);
/// }
///
/// assert_eq!(futures::executor::block_on(get_categories()), ["python", "rust"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Return<T>(pub T);

impl<T> Return<T> {
    /// The value carried.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(coroutine_runtime::Return(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}
