//! Every misuse of the macros is a compile error that points at the user's token; a few forms
//! that need a crate of their own (an `unsafe fn`, rustc's `#[crate::coroutine]` suggestion)
//! compile and run.
//!
//! Run `TRYBUILD=overwrite cargo test -p coroutine-ui-tests` to accept new `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
