//! Procedural macros of [`coroutine-runtime`](https://docs.rs/coroutine-runtime).
//!
//! Do not depend on this crate directly: `coroutine-runtime` re-exports every macro, and the code
//! they generate names paths inside that crate. The user manual lives there: every macro's
//! documentation, with examples that run as doc tests, is on its re-export in
//! `coroutine-runtime`, which is why the code blocks here are all `text`.
//!
//! Each macro runs on a stack of its own (`on_big_stack`): syn parses, visits, prints and
//! drops a body recursively, and a body nested a few hundred levels deep (blocks, parentheses, a
//! long `a + 1 + 1 …` chain) would otherwise overflow the stack of rustc's thread and crash the
//! compiler, where the same `async fn` compiles.

mod args;
mod expand;
mod fallback;
#[cfg(test)]
mod fuzz;
mod run_on_executor;
#[cfg(test)]
mod timing;
mod valid;
mod yields;

use proc_macro::TokenStream;

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    on_big_stack(|| expand::coroutine(args.into(), item.into()).into())
}

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro_attribute]
pub fn run_on_executor(args: TokenStream, item: TokenStream) -> TokenStream {
    on_big_stack(|| run_on_executor::run_on_executor(args.into(), item.into()).into())
}

/// Implemented in `coroutine-macros`; documented, with examples, where `coroutine-runtime`
/// re-exports it.
#[proc_macro]
pub fn coroutines(input: TokenStream) -> TokenStream {
    on_big_stack(|| expand::coroutines(input.into()).into())
}

/// The size of the stack the macros run on: enough for bodies nested thousands of levels deep
/// by a debug build of the macro. Only the pages a body needs are ever touched.
const STACK_SIZE: usize = 256 << 20;

/// Runs `work` on a fresh stack of [`STACK_SIZE`] bytes, on the same thread (rustc's proc-macro
/// bridge lives in the thread's state, so another thread could not use the token streams).
fn on_big_stack<T>(work: impl FnOnce() -> T) -> T {
    stacker::grow(STACK_SIZE, work)
}
