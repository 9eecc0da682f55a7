//! Every misuse of the macros is a compile error that points at the user's token.
//!
//! Run `TRYBUILD=overwrite cargo test -p coroutine-ui-tests` to accept new `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
