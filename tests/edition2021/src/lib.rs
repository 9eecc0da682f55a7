//! Coroutines in an edition-2021 crate (issue 14): the macro's `impl Future` return type must
//! capture the arguments' lifetimes there too, where edition 2021's `impl Trait` would not by
//! itself, and borrows must live across yields.

use coroutine_runtime::{moment, yield_};
use std::cell::RefCell;
use std::future::ready;

/// A store the coroutines below borrow from.
#[derive(Debug, Default)]
pub struct Store {
    /// The stored lines.
    pub lines: RefCell<Vec<String>>,
}

impl Store {
    /// Borrows `self` and `line` across a yield.
    #[coroutine_runtime::coroutine]
    pub fn push(&self, line: &str) -> usize {
        yield_!(moment);
        self.lines.borrow_mut().push(line.to_owned());
        let count = self.lines.borrow().len();
        yield_!(ready(count))
    }
}

/// Borrows two arguments with distinct lifetimes across yields, lazily.
#[coroutine_runtime::coroutine(lazy)]
pub fn longest<'a>(first: &'a str, second: &str) -> usize {
    let held: &'a str = first.trim();
    yield_!(moment);
    held.len().max(yield_!(ready(second.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn borrows_live_across_yields_in_edition_2021() {
        let store = Store::default();
        let text = String::from("one");
        assert_eq!(block_on(store.push(&text)), 1);
        assert_eq!(block_on(store.push("two")), 2);
        assert_eq!(*store.lines.borrow(), ["one", "two"]);
        let second = String::from("three");
        assert_eq!(block_on(longest("ab", &second)), 5);
    }
}
