//! Deeply nested bodies (issue 14): 500 nested blocks, 500 nested parentheses and a 5,000-term
//! `a + 1 + 1 …` chain, written by `build.rs`. The macro once overflowed its stack on them and
//! crashed rustc; now they compile, as the same `async fn`s do, and run.

// The nesting is the point of the test.
#![allow(unused_braces, unused_parens, clippy::double_parens)]

use coroutine_runtime::yield_;
use futures::executor::block_on;
use std::future::ready;

include!(concat!(env!("OUT_DIR"), "/deep_nesting.rs"));

#[test]
fn deeply_nested_bodies_compile_and_run() {
    assert_eq!(block_on(nested_blocks()), 1);
    assert_eq!(block_on(nested_parens()), 2);
    assert_eq!(block_on(long_chain()), 4_999);
}
