//! Every form of fn `#[coroutine]` accepts: methods, generics, patterns, visibilities, kept
//! attributes, paths to the attribute, trait methods, Send-ness, and `coroutines! { … }` blocks.

use coroutine_runtime::{Return, coroutines, moment, yield_};
use coroutine_tests::{DropCounter, after, assert_send, poll_once};
use futures::executor::block_on;
use std::cell::Cell;
use std::fmt::Display;
use std::future::{Future, ready};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Methods.

struct Counter {
    count: u32,
    log: Vec<String>,
}

impl Counter {
    #[coroutine_runtime::coroutine]
    fn get(&self) -> u32 {
        yield_!(moment);
        self.count
    }

    #[coroutine_runtime::coroutine]
    fn add(&mut self, n: u32) -> u32 {
        self.count += yield_!(ready(n));
        self.log.push(format!("added {n}"));
        self.count
    }

    #[coroutine_runtime::coroutine]
    fn into_log(self) -> Vec<String> {
        yield_!(moment);
        self.log
    }

    #[coroutine_runtime::coroutine]
    fn new_after_yield(count: u32) -> Self {
        let count = yield_!(ready(count));
        Self {
            count,
            log: Vec::new(),
        }
    }
}

#[test]
fn methods_take_ref_self_mut_self_and_self() {
    let mut counter = block_on(Counter::new_after_yield(1));
    assert_eq!(block_on(counter.get()), 1);
    assert_eq!(block_on(counter.add(2)), 3);
    assert_eq!(block_on(counter.add(4)), 7);
    assert_eq!(block_on(counter.get()), 7);
    assert_eq!(block_on(counter.into_log()), ["added 2", "added 4"]);
}

#[test]
fn a_ref_self_method_starts_at_the_call_and_borrows_until_it_finishes() {
    let counter = Counter {
        count: 5,
        log: Vec::new(),
    };
    let mut running = counter.get();
    // Suspended at its `yield_!(moment)`: the first poll goes through the executor once (the
    // runner's fairness), the second lets it finish.
    assert_eq!(poll_once(&mut running), Poll::Pending);
    assert_eq!(poll_once(&mut running), Poll::Ready(5));
}

// ---------------------------------------------------------------------------------------------
// Generics: type and lifetime parameters, where-clauses, `impl Trait` arguments.

#[coroutine_runtime::coroutine]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    yield_!(moment);
    if a.len() >= b.len() { a } else { b }
}

#[coroutine_runtime::coroutine]
fn sum_all<T, I>(items: I) -> T
where
    I: IntoIterator<Item = T>,
    T: std::iter::Sum<T> + Copy,
{
    let items: Vec<T> = items.into_iter().collect();
    yield_!(moment);
    items.iter().copied().sum()
}

#[coroutine_runtime::coroutine]
fn describe(value: impl Display, wait: impl Future<Output = u8>) -> String {
    let waited = yield_!(wait);
    format!("{value} after {waited}")
}

#[coroutine_runtime::coroutine]
fn first_item<T: Clone + Send + 'static>(items: &[T]) -> Option<T> {
    yield_!(moment);
    items.first().cloned()
}

#[test]
fn generic_fns_with_lifetimes_where_clauses_and_impl_trait_arguments() {
    let owned = String::from("longer");
    assert_eq!(block_on(longest(&owned, "short")), "longer");
    assert_eq!(block_on(sum_all(vec![1_u64, 2, 3])), 6);
    assert!((block_on(sum_all([0.5_f64, 0.25])) - 0.75).abs() < f64::EPSILON);
    assert_eq!(block_on(describe(7, async { 3 })), "7 after 3");
    assert_eq!(block_on(first_item(&["a", "b"])), Some("a"));
    assert_eq!(block_on(first_item::<u8>(&[])), None);
}

// ---------------------------------------------------------------------------------------------
// Pattern arguments.

struct Point {
    x: i32,
    y: i32,
}

#[coroutine_runtime::coroutine]
fn patterns((a, b): (i32, i32), Point { x, y }: Point, mut total: i32, _: u8) -> i32 {
    total += yield_!(ready(a * b));
    total += x - y;
    total
}

#[coroutine_runtime::coroutine]
fn drops_pattern_parts((kept, _ignored): (coroutine_tests::DropToken, coroutine_tests::DropToken)) {
    yield_!(moment);
    drop(kept);
}

#[test]
fn pattern_arguments_are_destructured_inside_the_coroutine() {
    assert_eq!(
        block_on(patterns((2, 3), Point { x: 10, y: 4 }, 100, 0)),
        100 + 6 + 6
    );
}

#[test]
fn pattern_arguments_live_until_the_coroutine_finishes() {
    let counter = DropCounter::new();
    let mut running = drops_pattern_parts((counter.token(), counter.token()));
    assert_eq!(
        counter.dropped(),
        0,
        "both parts are owned by the suspended coroutine"
    );
    assert_eq!(poll_once(&mut running), Poll::Pending); // the runner's trip (fairness)
    assert_eq!(counter.dropped(), 0);
    assert_eq!(poll_once(&mut running), Poll::Ready(()));
    assert_eq!(counter.dropped(), 2);
}

// ---------------------------------------------------------------------------------------------
// Visibility, doc comments and other attributes.

mod visibility {
    use coroutine_runtime::yield_;

    /// Public, with a doc comment.
    #[coroutine_runtime::coroutine]
    pub fn public() -> u8 {
        yield_!(async { 1 })
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn crate_visible() -> u8 {
        yield_!(async { 2 })
    }

    pub(super) mod inner {
        #[coroutine_runtime::coroutine]
        pub(in crate::visibility) fn restricted() -> u8 {
            3
        }

        #[coroutine_runtime::coroutine]
        pub(super) fn parent_visible() -> u8 {
            restricted().await + 1
        }
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn through_inner() -> u8 {
        yield_!(inner::parent_visible())
    }
}

#[test]
fn every_visibility_is_kept() {
    assert_eq!(block_on(visibility::public()), 1);
    assert_eq!(block_on(visibility::crate_visible()), 2);
    assert_eq!(block_on(visibility::through_inner()), 4);
}

#[deny(non_snake_case, deprecated)]
mod attributes {
    use coroutine_runtime::yield_;

    /// Two definitions of one name, told apart by `cfg`: this compiles only if the macro keeps
    /// the attributes.
    #[coroutine_runtime::coroutine]
    #[cfg(not(test))]
    pub(crate) fn configured() -> &'static str {
        "never compiled"
    }

    #[coroutine_runtime::coroutine]
    #[cfg(test)]
    pub(crate) fn configured() -> &'static str {
        yield_!(async { "compiled" })
    }

    /// `non_snake_case` is denied on this module: the `allow` must be kept.
    #[coroutine_runtime::coroutine]
    #[allow(non_snake_case)]
    #[inline]
    pub(crate) fn ShoutingName() -> u8 {
        yield_!(async { 1 })
    }

    #[coroutine_runtime::coroutine]
    #[cfg_attr(test, allow(deprecated))]
    pub(crate) fn uses_deprecated() -> u8 {
        #[deprecated = "test"]
        fn old() -> u8 {
            2
        }
        old()
    }

    #[coroutine_runtime::coroutine]
    #[must_use = "the name is the point"]
    #[doc = "A doc attribute written out."]
    #[cfg_attr(not(test), deprecated)]
    pub(crate) fn documented() -> &'static str {
        "doc"
    }
}

#[test]
fn doc_comments_and_other_attributes_are_kept() {
    assert_eq!(block_on(attributes::configured()), "compiled");
    assert_eq!(block_on(attributes::ShoutingName()), 1);
    assert_eq!(block_on(attributes::uses_deprecated()), 2);
    assert_eq!(block_on(attributes::documented()), "doc");
}

// ---------------------------------------------------------------------------------------------
// Result types.

#[coroutine_runtime::coroutine]
fn digits(n: u8) -> impl Iterator<Item = u8> {
    let tens = yield_!(ready(n / 10));
    [tens, n % 10].into_iter()
}

#[coroutine_runtime::coroutine]
fn boxed(number: bool) -> Box<dyn Display> {
    // Both returns coerce to the declared `Box<dyn Display>`.
    if number {
        return Box::new(yield_!(ready(42)));
    }
    Box::new("text")
}

#[coroutine_runtime::coroutine]
fn returned_either_way(early: bool) -> Result<u8, String> {
    if early {
        return Return(Err(yield_!(ready(String::from("early")))));
    }
    Return(Ok(1))
}

#[test]
fn a_result_type_may_mention_impl_trait() {
    assert_eq!(block_on(digits(42)).collect::<Vec<_>>(), [4, 2]);
}

#[test]
fn returns_coerce_to_the_declared_type() {
    assert_eq!(block_on(boxed(true)).to_string(), "42");
    assert_eq!(block_on(boxed(false)).to_string(), "text");
    assert_eq!(block_on(returned_either_way(true)), Err("early".into()));
    assert_eq!(block_on(returned_either_way(false)), Ok(1));
}

// ---------------------------------------------------------------------------------------------
// Paths to the attribute.

mod through_an_alias {
    use coroutine_runtime as co;
    use coroutine_runtime::yield_;

    #[co::coroutine]
    pub(crate) fn aliased() -> u8 {
        yield_!(async { 5 })
    }

    #[co::coroutine(lazy)]
    pub(crate) fn aliased_lazy() -> u8 {
        co::yield_!(async { 6 })
    }
}

/// A crate that re-exports the runtime, as a framework built on it would.
mod framework {
    pub(crate) use coroutine_runtime as runtime;
}

mod through_a_reexport {
    use crate::framework::runtime::yield_;

    #[crate::framework::runtime::coroutine(crate = crate::framework::runtime)]
    pub(crate) fn reexported() -> u8 {
        yield_!(async { 7 })
    }

    #[crate::framework::runtime::coroutine(lazy, crate = crate::framework::runtime)]
    pub(crate) fn reexported_lazy() -> u8 {
        yield_!(async { 8 })
    }
}

#[test]
fn the_attribute_works_through_an_alias_and_a_reexport() {
    assert_eq!(block_on(through_an_alias::aliased()), 5);
    assert_eq!(block_on(through_an_alias::aliased_lazy()), 6);
    assert_eq!(block_on(through_a_reexport::reexported()), 7);
    assert_eq!(block_on(through_a_reexport::reexported_lazy()), 8);
}

// ---------------------------------------------------------------------------------------------
// A trait whose method is implemented by a coroutine.

trait Store {
    fn load(&self, key: &str) -> impl Future<Output = Option<u32>>;

    /// A default method can be a coroutine too.
    #[coroutine_runtime::coroutine]
    fn load_or_zero(&self, key: &str) -> u32 {
        yield_!(self.load(key)).unwrap_or(0)
    }
}

struct MemoryStore {
    loads: Cell<u32>,
}

impl Store for MemoryStore {
    #[coroutine_runtime::coroutine]
    fn load(&self, key: &str) -> Option<u32> {
        self.loads.set(self.loads.get() + 1);
        yield_!(moment);
        key.parse().ok()
    }
}

async fn load_through_the_trait(store: &impl Store, key: &str) -> Option<u32> {
    store.load(key).await
}

#[test]
fn a_trait_method_can_be_implemented_by_a_coroutine() {
    let store = MemoryStore {
        loads: Cell::new(0),
    };
    assert_eq!(block_on(load_through_the_trait(&store, "12")), Some(12));
    assert_eq!(block_on(store.load_or_zero("x")), 0);
    // The impl's coroutine starts at the call, also through the trait.
    let started = store.load("3");
    assert_eq!(store.loads.get(), 3);
    assert_eq!(block_on(started), Some(3));
}

// ---------------------------------------------------------------------------------------------
// Send-ness follows the body.

#[coroutine_runtime::coroutine]
fn send_body(n: u64) -> u64 {
    let a = yield_!(after(Duration::from_millis(5), n));
    let b = yield_!(tokio::task::yield_now());
    let _: () = b;
    a * 2
}

#[coroutine_runtime::coroutine]
fn rc_body(shared: Rc<Cell<u32>>) -> u32 {
    // Holds an `Rc` across a yield: not `Send` (a ui-test proves it cannot be spawned), yet it
    // runs on a single thread.
    yield_!(moment);
    shared.set(shared.get() + 1);
    shared.get()
}

#[test]
fn a_send_coroutine_runs_on_the_tokio_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let results = runtime.block_on(async {
        let handles: Vec<_> = (0..8)
            .map(|n| tokio::spawn(assert_send(send_body(n))))
            .collect();
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await.expect("task"));
        }
        results
    });
    assert_eq!(results, [0, 2, 4, 6, 8, 10, 12, 14]);
}

#[test]
fn a_coroutine_holding_an_rc_runs_on_one_thread() {
    let shared = Rc::new(Cell::new(1));
    assert_eq!(block_on(rc_body(shared.clone())), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let value = local.block_on(&runtime, async {
        tokio::task::spawn_local(rc_body(shared.clone()))
            .await
            .expect("task")
    });
    assert_eq!(value, 3);
}

// ---------------------------------------------------------------------------------------------
// Nested coroutines.

#[coroutine_runtime::coroutine]
fn with_a_nested_coroutine(n: u32) -> u32 {
    // A coroutine declared inside a coroutine's body has yields of its own.
    #[coroutine_runtime::coroutine]
    fn inner(n: u32) -> u32 {
        yield_!(ready(n)) + 1
    }
    let times_ten = |x: u32| x * 10;
    yield_!(inner(n)) + times_ten(n)
}

#[test]
fn a_coroutine_may_declare_a_coroutine_in_its_body() {
    assert_eq!(block_on(with_a_nested_coroutine(2)), 3 + 20);
}

// ---------------------------------------------------------------------------------------------
// `coroutines! { … }`: bare `yield` on stable.

coroutines! {
    fn add_bare(a: u32, b: u32) -> u32 {
        let a = yield ready(a);
        a + (yield ready(b))
    }

    /// Counts down with `yield` in the `while` condition, the seed's looping pattern.
    fn count_down(from: u32, log: &std::cell::RefCell<Vec<u32>>) -> u32 {
        let mut left = from;
        let mut steps = 0;
        while yield ready(left > 0) {
            left -= 1;
            steps += 1;
            log.borrow_mut().push(left);
        }
        steps
    }

    /// Nested yields: the inner one's value is what the outer one waits for. (`yield` binds
    /// like `return`: `yield a + 1` waits for `a + 1`.)
    fn nested(n: u32) -> u32 {
        yield ready((yield ready(n)) + 1)
    }

    #[coroutine(lazy)]
    fn lazy_bare(started: &Cell<bool>) -> u8 {
        started.set(true);
        yield moment;
        9
    }

    fn fallible(ok: bool) -> Result<u8, String> {
        let v = (yield ready(if ok { Ok(3) } else { Err(String::from("failed")) }))?;
        Ok(v + yield_!(ready(1)))
    }

    struct Account {
        balance: u32,
    }

    impl Account {
        fn deposit(&mut self, amount: u32) -> u32 {
            self.balance += yield ready(amount);
            self.balance
        }

        fn balance(&self) -> u32 {
            yield moment;
            self.balance
        }

        const NAME: &'static str = "account";
    }
}

#[test]
fn coroutines_block_fns_yield_bare() {
    assert_eq!(block_on(add_bare(2, 3)), 5);
    assert_eq!(block_on(nested(1)), 2);
    assert_eq!(block_on(fallible(true)), Ok(4));
    assert_eq!(block_on(fallible(false)), Err("failed".into()));
}

#[test]
fn coroutines_block_yield_in_a_while_condition() {
    let log = std::cell::RefCell::new(Vec::new());
    assert_eq!(block_on(count_down(3, &log)), 3);
    assert_eq!(*log.borrow(), [2, 1, 0]);
}

#[test]
fn coroutines_block_lazy_fn_starts_on_first_poll() {
    let started = Cell::new(false);
    let future = lazy_bare(&started);
    assert!(!started.get());
    assert_eq!(block_on(future), 9);
    assert!(started.get());
}

#[test]
fn coroutines_block_impl_methods_are_coroutines() {
    let mut account = Account { balance: 1 };
    assert_eq!(block_on(account.deposit(4)), 5);
    assert_eq!(block_on(account.balance()), 5);
    assert_eq!(Account::NAME, "account");
}
