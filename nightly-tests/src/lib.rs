//! Bare `yield expr` inside `#[coroutine_runtime::coroutine]`, with the nightly `coroutines`
//! feature that lets rustc parse `yield` in the attribute's input.
//!
//! Run by `tests/tests/nightly.rs` in the main workspace with `RUSTC_BOOTSTRAP=1`, so a stable
//! toolchain is enough.

#![feature(coroutines)]

use std::future::ready;

/// `yield` in a `let`, nested in an expression.
#[coroutine_runtime::coroutine]
pub fn add(a: u32, b: u32) -> u32 {
    let a = yield ready(a);
    a + (yield ready(b))
}

/// `yield` in a `while` condition: the seed's looping pattern.
#[coroutine_runtime::coroutine]
pub fn count_down(from: u32) -> Vec<u32> {
    let mut left = from;
    let mut seen = Vec::new();
    while yield ready(left > 0) {
        left -= 1;
        seen.push(left);
    }
    seen
}

/// `yield` followed by `?`, and `Return`.
///
/// # Errors
///
/// When `text` is not a number.
#[coroutine_runtime::coroutine]
pub fn parse(text: &'static str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = (yield ready(text.parse::<u32>()))?;
    coroutine_runtime::Return(Ok(n + 1))
}

/// `yield` of `moment`, in a method; the call starts the coroutine.
pub struct Steps(pub std::cell::Cell<u32>);

impl Steps {
    /// Counts one step, yields, counts another.
    #[coroutine_runtime::coroutine]
    pub fn run(&self) {
        self.0.set(self.0.get() + 1);
        yield coroutine_runtime::moment;
        self.0.set(self.0.get() + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn bare_yield_in_let_and_nested() {
        assert_eq!(block_on(add(2, 3)), 5);
    }

    #[test]
    fn bare_yield_in_a_while_condition() {
        assert_eq!(block_on(count_down(3)), [2, 1, 0]);
    }

    #[test]
    fn bare_yield_followed_by_question_mark() {
        assert_eq!(block_on(parse("41")), Ok(42));
        assert!(block_on(parse("x")).is_err());
    }

    #[test]
    fn bare_yield_suspends_after_the_eager_start() {
        let steps = Steps(std::cell::Cell::new(0));
        let running = steps.run();
        assert_eq!(steps.0.get(), 1);
        block_on(running);
        assert_eq!(steps.0.get(), 2);
    }
}
