//! Compile-fail tests of the macros live in `tests/ui`; run them with `cargo test -p coroutine-ui-tests`.
