//! Procedural macros of [`coroutine-runtime`](https://docs.rs/coroutine-runtime).
//!
//! Do not depend on this crate directly: `coroutine-runtime` re-exports every macro, and the code
//! they generate names paths inside that crate. The user manual lives there.

mod args;
mod expand;
mod fallback;
mod run_on_executor;
mod valid;
mod yields;

use proc_macro::TokenStream;

/// Turns a fn whose body waits with `yield_!(…)` into a Tornado-style coroutine.
///
/// See the `coroutine-runtime` crate documentation for the full manual.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::coroutine(args.into(), item.into()).into()
}

/// Runs a method's body on the thread pool in a field of `self`; the call returns a future of
/// the result.
///
/// See the `coroutine-runtime` crate documentation for the full manual.
#[proc_macro_attribute]
pub fn run_on_executor(args: TokenStream, item: TokenStream) -> TokenStream {
    run_on_executor::run_on_executor(args.into(), item.into()).into()
}

/// Declares coroutine fns whose bodies wait with a bare `yield expr`, on stable Rust.
///
/// See the `coroutine-runtime` crate documentation for the full manual.
#[proc_macro]
pub fn coroutines(input: TokenStream) -> TokenStream {
    expand::coroutines(input.into()).into()
}
