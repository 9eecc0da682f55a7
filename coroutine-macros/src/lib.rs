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

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::coroutine(args.into(), item.into()).into()
}

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro_attribute]
pub fn run_on_executor(args: TokenStream, item: TokenStream) -> TokenStream {
    run_on_executor::run_on_executor(args.into(), item.into()).into()
}

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro]
pub fn coroutines(input: TokenStream) -> TokenStream {
    expand::coroutines(input.into()).into()
}
