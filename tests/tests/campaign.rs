//! Regression tests from the abuse campaign against the macro (issue 14): the defects it found,
//! each shown fixed, and the odd forms it tried that worked, kept so they keep working.

use coroutine_runtime::{Return, moment, yield_};
use futures::executor::block_on;
use std::cell::RefCell;
use std::fmt::Display;
use std::future::{Future, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

// ---------------------------------------------------------------------------------------------
// `#[cfg]` on arguments.

#[coroutine_runtime::coroutine]
fn with_disabled_argument(#[cfg(any())] metrics: &str, request: u32) -> u32 {
    yield_!(moment);
    request + 1
}

#[coroutine_runtime::coroutine(lazy)]
fn with_disabled_pattern(#[cfg(any())] (a, b): (u32, u32), request: u32) -> u32 {
    yield_!(moment);
    request * 2
}

#[coroutine_runtime::coroutine]
fn with_enabled_arguments(
    #[cfg(not(any()))] extra: u32,
    #[cfg(not(any()))] (a, b): (u32, u32),
) -> u32 {
    yield_!(moment);
    extra + a + b
}

#[test]
fn cfg_disabled_arguments_are_left_out() {
    assert_eq!(block_on(with_disabled_argument(1)), 2);
    assert_eq!(block_on(with_disabled_pattern(4)), 8);
    assert_eq!(block_on(with_enabled_arguments(1, (2, 3))), 6);
}

// ---------------------------------------------------------------------------------------------
// Drop order of arguments: the same as an `async fn`'s.

/// Records its name in a shared log when dropped.
struct Noisy(&'static str, Rc<RefCell<Vec<&'static str>>>);

impl Noisy {
    fn rename(&mut self, name: &'static str) {
        self.0 = name;
    }
}

impl Drop for Noisy {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

/// Holds a `Noisy` by value, for a `self` receiver.
struct Holder(Noisy);

impl Holder {
    #[coroutine_runtime::coroutine(lazy)]
    fn coroutine(self, a: Noisy, (b, c): (Noisy, Noisy), _: Noisy, mut e: Noisy) {
        e.rename("e");
        yield_!(PendingOnce(false));
        let _ = (&self.0, &a, &b, &c);
    }

    async fn async_fn(self, a: Noisy, (b, c): (Noisy, Noisy), _: Noisy, mut e: Noisy) {
        e.rename("e");
        PendingOnce(false).await;
        let _ = (&self.0, &a, &b, &c);
    }
}

/// Pending on its first poll (waking itself), ready on the second.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The arguments of the drop-order tests' methods.
type Arguments = (Noisy, Noisy, (Noisy, Noisy), Noisy, Noisy);

/// The order in which the arguments of one call were dropped, when `run` has run the future
/// that `call` made of them (or dropped it).
fn drop_log<F>(run: impl FnOnce(F), call: impl FnOnce(Arguments) -> F) -> Vec<&'static str> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let noisy = |name| Noisy(name, log.clone());
    run(call((
        noisy("self"),
        noisy("a"),
        (noisy("b"), noisy("c")),
        noisy("_"),
        noisy("d"),
    )));
    log.take()
}

/// Polls `future` once, expecting it to suspend, and drops it.
fn suspended<F: Future<Output = ()>>(future: F) {
    let mut future = Box::pin(future);
    assert!(coroutine_tests::poll_once(&mut future).is_pending());
}

#[test]
fn arguments_drop_in_reverse_order_like_an_async_fn() {
    let coroutine = |(s, a, bc, w, e): Arguments| Holder(s).coroutine(a, bc, w, e);
    let async_fn = |(s, a, bc, w, e): Arguments| Holder(s).async_fn(a, bc, w, e);
    let expected = drop_log(block_on, async_fn);
    assert_eq!(expected.first(), Some(&"e"), "{expected:?}");
    assert_eq!(drop_log(block_on, coroutine), expected);
    // Dropped while suspended.
    assert_eq!(
        drop_log(suspended, coroutine),
        drop_log(suspended, async_fn)
    );
}

// ---------------------------------------------------------------------------------------------
// `-> !`, as an `async fn` may say.

#[coroutine_runtime::coroutine]
fn forever(ticks: Rc<RefCell<u32>>) -> ! {
    loop {
        yield_!(moment);
        *ticks.borrow_mut() += 1;
    }
}

#[coroutine_runtime::coroutine(lazy)]
fn fails(message: &str) -> ! {
    yield_!(moment);
    panic!("{message}")
}

#[test]
fn a_coroutine_may_never_return() {
    let ticks = Rc::new(RefCell::new(0));
    let mut running = forever(ticks.clone());
    for _ in 0..3 {
        assert!(coroutine_tests::poll_once(&mut running).is_pending());
    }
    drop(running);
    // One tick per resumption: the call ran it to its first yield, and the first poll is the
    // runner's trip through the executor (its fairness), so three polls resume it twice.
    assert_eq!(*ticks.borrow(), 2);
    let panicked = std::panic::catch_unwind(|| block_on(fails("stop")));
    assert_eq!(
        panicked.unwrap_err().downcast_ref::<String>().unwrap(),
        "stop"
    );
}

// ---------------------------------------------------------------------------------------------
// Forms the campaign tried that worked: kept as regression tests.

#[coroutine_runtime::coroutine]
fn yields_in_guards_and_let_else(value: Option<u32>) -> u32 {
    let Some(n) = yield_!(ready(value)) else {
        return 0;
    };
    match n {
        small if yield_!(ready(small < 10)) => small,
        large if yield_!(ready(large < 100)) => large * 2,
        _ => 1000,
    }
}

#[test]
fn yields_in_match_guards_and_let_else() {
    assert_eq!(block_on(yields_in_guards_and_let_else(None)), 0);
    assert_eq!(block_on(yields_in_guards_and_let_else(Some(3))), 3);
    assert_eq!(block_on(yields_in_guards_and_let_else(Some(30))), 60);
    assert_eq!(block_on(yields_in_guards_and_let_else(Some(300))), 1000);
}

#[coroutine_runtime::coroutine]
fn yields_in_format_and_assert(a: u32) -> String {
    assert!(yield_!(ready(a > 0)), "{} is zero", yield_!(ready(a)));
    assert_eq!(yield_!(ready(a)), a, "{}", yield_!(ready("unequal")));
    format!("{}-{x}", yield_!(ready(a)), x = yield_!(ready(a + 1)))
}

#[test]
fn yields_in_format_and_assert_arguments() {
    assert_eq!(block_on(yields_in_format_and_assert(4)), "4-5");
    let failed = std::panic::catch_unwind(|| block_on(yields_in_format_and_assert(0)));
    assert_eq!(
        failed.unwrap_err().downcast_ref::<String>().unwrap(),
        "0 is zero"
    );
}

#[coroutine_runtime::coroutine]
fn displayable(n: u32) -> impl Display {
    let n = yield_!(ready(n));
    format!("#{n}")
}

#[test]
fn a_coroutine_may_return_impl_trait() {
    assert_eq!(block_on(displayable(7)).to_string(), "#7");
}

/// A type with coroutine methods on smart-pointer receivers.
struct Node(u32);

impl Node {
    #[coroutine_runtime::coroutine]
    fn boxed(self: Box<Self>) -> u32 {
        yield_!(moment);
        self.0
    }

    #[coroutine_runtime::coroutine]
    fn shared(self: Arc<Self>) -> u32 {
        yield_!(moment);
        self.0 * 2
    }

    #[coroutine_runtime::coroutine]
    fn pinned(mut self: Pin<&mut Self>) -> u32 {
        yield_!(moment);
        self.0 += 1;
        self.0
    }
}

#[test]
fn methods_take_box_arc_and_pin_receivers() {
    assert_eq!(block_on(Box::new(Node(1)).boxed()), 1);
    let node = Arc::new(Node(2));
    assert_eq!(block_on(node.clone().shared()), 4);
    assert_eq!(
        Arc::strong_count(&node),
        1,
        "the coroutine dropped its `Arc`"
    );
    let mut node = Node(3);
    assert_eq!(block_on(Pin::new(&mut node).pinned()), 4);
    assert_eq!(node.0, 4);
}

/// A trait whose default method is a coroutine.
trait Greeter {
    fn name(&self) -> String;

    #[coroutine_runtime::coroutine]
    fn greet(&self) -> String {
        let name = yield_!(ready(self.name()));
        format!("hello {name}")
    }
}

impl Greeter for Node {
    fn name(&self) -> String {
        format!("node {}", self.0)
    }
}

#[test]
fn a_trait_default_method_may_be_a_coroutine() {
    assert_eq!(block_on(Node(5).greet()), "hello node 5");
}

#[coroutine_runtime::coroutine]
fn sum_array<const N: usize>(items: [u32; N]) -> u32 {
    yield_!(moment);
    items.iter().sum::<u32>() + u32::try_from(N).unwrap()
}

#[coroutine_runtime::coroutine]
fn apply<F>(f: F, text: String) -> usize
where
    F: for<'a> Fn(&'a str) -> &'a str,
{
    let text = yield_!(ready(text));
    f(&text).len()
}

#[test]
fn const_generics_and_higher_ranked_bounds() {
    assert_eq!(block_on(sum_array([1, 2, 3])), 9);
    assert_eq!(block_on(apply(str::trim, "  ab ".to_owned())), 2);
}

#[coroutine_runtime::coroutine]
fn early_return(flag: bool) -> u32 {
    if flag {
        return Return(yield_!(ready(1)));
    }
    2
}

#[test]
fn return_wrapper_still_works_beside_plain_values() {
    assert_eq!(block_on(early_return(true)), 1);
    assert_eq!(block_on(early_return(false)), 2);
}
