//! The code the macros generate is lint-clean under strict settings: this file denies every
//! warning and clippy's pedantic group and forbids `unsafe`, and holds coroutines of every kind
//! (`cargo clippy -p coroutine-tests --all-targets -- -D warnings` checks the clippy part).
//!
//! It also shadows `core`, `std` and `coroutine_runtime` with local modules next to coroutines:
//! the generated code names only absolute paths, so it does not see them.

#![deny(warnings, clippy::pedantic)]
#![forbid(unsafe_code)]

use coroutine_runtime::{Return, coroutines, moment, yield_};
use futures::executor::block_on;
use std::future::ready;

/// A public coroutine with a doc comment.
///
/// # Errors
///
/// When `text` is not a number.
#[coroutine_runtime::coroutine]
pub fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    let text = yield_!(ready(text));
    let n: u32 = text.parse()?;
    Ok(n)
}

/// Returns with `Return`, early and in tail position.
#[coroutine_runtime::coroutine]
pub fn with_return(early: bool) -> u32 {
    if early {
        return Return(yield_!(ready(1)));
    }
    Return(2)
}

/// Lazy, generic, with a where-clause.
#[coroutine_runtime::coroutine(lazy)]
pub fn lazy_sum<T>(items: Vec<T>) -> T
where
    T: std::iter::Sum<T> + Copy,
{
    yield_!(moment);
    items.iter().copied().sum()
}

/// Never yields, takes a pattern argument and returns `()`.
#[coroutine_runtime::coroutine]
pub fn unit((a, b): (u8, u8)) {
    let _ = a + b;
}

/// A type with coroutine methods.
#[derive(Debug, Default)]
pub struct Account {
    balance: u64,
}

impl Account {
    /// `&self`.
    #[coroutine_runtime::coroutine]
    pub fn balance(&self) -> u64 {
        yield_!(moment);
        self.balance
    }

    /// `&mut self`, with `?`.
    ///
    /// # Errors
    ///
    /// When the deposit overflows.
    #[coroutine_runtime::coroutine]
    pub fn deposit(&mut self, amount: u64) -> Result<u64, &'static str> {
        let amount = yield_!(ready(amount));
        self.balance = self.balance.checked_add(amount).ok_or("overflow")?;
        Ok(self.balance)
    }

    /// `self`, returning `Self`-typed data.
    #[coroutine_runtime::coroutine]
    pub fn reset(self) -> Self {
        yield_!(moment);
        Self::default()
    }
}

coroutines! {
    /// A bare-yield coroutine, under the same lints.
    pub fn bare(n: u32) -> u32 {
        let doubled = yield ready(n * 2);
        doubled + 1
    }
}

/// Local modules named like the crates the generated code uses.
mod shadowing {
    #![allow(dead_code)]

    mod core {}
    mod std {}
    mod coroutine_runtime {}
    mod __private {}
    struct Runner;
    struct Return;
    trait Future {}
    fn declared() {}
    fn yielded() {}

    #[::coroutine_runtime::coroutine]
    pub(super) fn shadowed(n: u32) -> u32 {
        let m = ::coroutine_runtime::yield_!(::core::future::ready(n));
        ::coroutine_runtime::Return(m + 1)
    }

    #[::coroutine_runtime::coroutine(lazy)]
    pub(super) fn shadowed_lazy((a, b): (u32, u32)) -> u32 {
        ::coroutine_runtime::yield_!(::coroutine_runtime::moment);
        a + b
    }
}

#[test]
fn strictly_linted_coroutines_work() {
    assert_eq!(block_on(parse("12")), Ok(12));
    assert!(block_on(parse("x")).is_err());
    assert_eq!(block_on(with_return(true)), 1);
    assert_eq!(block_on(with_return(false)), 2);
    assert_eq!(block_on(lazy_sum(vec![1, 2, 3])), 6);
    block_on(unit((1, 2)));
    let mut account = Account::default();
    assert_eq!(block_on(account.deposit(5)), Ok(5));
    assert_eq!(block_on(account.balance()), 5);
    assert_eq!(block_on(account.reset()).balance, 0);
    assert_eq!(block_on(bare(4)), 9);
}

#[test]
fn generated_paths_are_absolute() {
    assert_eq!(block_on(shadowing::shadowed(1)), 2);
    assert_eq!(block_on(shadowing::shadowed_lazy((2, 3))), 5);
}

/// Bodies of one expression, which the expansion must not wrap in braces that
/// `unused_braces` would flag.
mod single_expressions {
    use coroutine_runtime::{moment, yield_};
    use std::future::ready;

    #[coroutine_runtime::coroutine]
    pub(super) fn literal() -> u32 {
        5
    }

    #[coroutine_runtime::coroutine]
    pub(super) fn argument(x: u32) -> u32 {
        x
    }

    #[coroutine_runtime::coroutine]
    pub(super) fn matched(x: Option<u32>) -> u32 {
        match x {
            Some(n) if n > 1 => n,
            _ => 1,
        }
    }

    #[coroutine_runtime::coroutine]
    pub(super) fn yielded(x: u32) -> u32 {
        yield_!(ready(x))
    }

    #[coroutine_runtime::coroutine(lazy)]
    pub(super) fn lazy_literal() -> u32 {
        5
    }

    #[coroutine_runtime::coroutine(lazy)]
    pub(super) fn lazy_yielded() {
        yield_!(moment);
    }

    #[coroutine_runtime::coroutine(lazy)]
    pub(super) fn lazy_yield_value(x: u32) -> u32 {
        yield_!(ready(x))
    }

    #[coroutine_runtime::coroutine]
    pub(super) fn empty() {}

    /// Disabled arguments leave nothing behind.
    #[coroutine_runtime::coroutine]
    pub(super) fn configured(#[cfg(any())] unused: u32, #[cfg(any())] (a, b): (u8, u8)) -> u32 {
        7
    }
}

#[test]
fn single_expression_bodies_work() {
    use single_expressions::*;
    assert_eq!(block_on(literal()), 5);
    assert_eq!(block_on(argument(6)), 6);
    assert_eq!(block_on(matched(Some(2))), 2);
    assert_eq!(block_on(yielded(3)), 3);
    assert_eq!(block_on(lazy_literal()), 5);
    block_on(lazy_yielded());
    assert_eq!(block_on(lazy_yield_value(4)), 4);
    block_on(empty());
    assert_eq!(block_on(configured()), 7);
}
