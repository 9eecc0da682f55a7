//! The children of W3, W4 and W6j and the joins they are measured with, shared by the criterion
//! bench `collections.rs` and the allocation count in `memory.rs`, so both measure the same code.
//!
//! Pending children are a hand-made future that stores its waker: the bench completes them one at
//! a time in a shuffled (fixed) order and polls the waiting future after each wake, as an
//! executor would. No timers, no threads.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use coroutine_runtime::yield_;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use futures_concurrency::future::Join as _;

// ---- the children ------------------------------------------------------------------------------

/// What a [`Manual`] child and the bench share.
#[derive(Default)]
pub(crate) struct Slot {
    /// The child's output, once the bench has completed it.
    value: Cell<Option<u64>>,
    /// The waker the child was last polled with.
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    /// Completes the child with `value` and wakes it.
    fn complete(&self, value: u64) {
        self.value.set(Some(value));
        let waker = self.waker.borrow_mut().take();
        waker.expect("the child was polled").wake();
    }
}

/// A child that is pending until the bench completes it: it stores its waker, so the bench
/// decides the order of the wakes.
pub(crate) struct Manual(Rc<Slot>);

impl Future for Manual {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if let Some(value) = self.0.value.take() {
            return Poll::Ready(value);
        }
        let mut waker = self.0.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// `n` pending children, their slots, and the order the bench completes them in.
pub(crate) struct Pending {
    /// The children, in input order.
    pub(crate) children: Vec<Manual>,
    /// Their slots, in input order.
    pub(crate) slots: Vec<Rc<Slot>>,
    /// A shuffled (fixed) permutation of `0..n`.
    pub(crate) order: Vec<usize>,
}

impl Pending {
    pub(crate) fn new(n: usize) -> Self {
        let slots: Vec<Rc<Slot>> = (0..n).map(|_| Rc::new(Slot::default())).collect();
        let children = slots.iter().map(|slot| Manual(Rc::clone(slot))).collect();
        Pending {
            children,
            slots,
            order: shuffled(n),
        }
    }
}

/// `0..n` shuffled by Fisher-Yates with a fixed xorshift seed, so every run wakes in the same
/// order.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bound = u64::try_from(i + 1).expect("a usize fits in a u64");
        order.swap(
            i,
            usize::try_from(state % bound).expect("less than a usize"),
        );
    }
    order
}

/// The value child `i` completes with.
pub(crate) fn value(i: usize) -> u64 {
    u64::try_from(i).expect("a usize fits in a u64")
}

/// Polls `future` once with a waker that does nothing.
fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `future` to completion; it must not wait on anything.
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    match poll(pin!(future)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("ready children finish in one poll"),
    }
}

/// The waker of [`wake_one_by_one`]: it notes that the future asked to be polled.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Polls `future` until its children have registered their wakers, then completes them one at a
/// time in `order`; as an executor would, it polls `future` again whenever it has been woken
/// (some joins poll a bounded number of children per poll and wake themselves for the rest).
pub(crate) fn wake_one_by_one<F: Future>(
    future: F,
    slots: &[Rc<Slot>],
    order: &[usize],
) -> F::Output {
    let mut future = pin!(future);
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    let mut run = |future: Pin<&mut F>| -> Poll<F::Output> {
        let mut future = future;
        loop {
            flag.0.store(false, Ordering::Relaxed);
            let poll = future.as_mut().poll(&mut cx);
            if poll.is_ready() || !flag.0.load(Ordering::Relaxed) {
                return poll;
            }
        }
    };
    assert!(run(future.as_mut()).is_pending());
    for &i in order {
        slots[i].complete(value(i));
        if flag.0.load(Ordering::Relaxed)
            && let Poll::Ready(output) = run(future.as_mut())
        {
            return output;
        }
    }
    panic!("the last wake finishes the wait")
}

// ---- the joins ---------------------------------------------------------------------------------

/// Ours: a coroutine yielding the `Vec`.
#[coroutine_runtime::coroutine]
pub(crate) fn coroutine<F: Future + 'static>(children: Vec<F>) -> Vec<F::Output> {
    yield_!(children)
}

/// Ours without the coroutine: `multi`, the same join engine, awaited in an `async fn`.
pub(crate) async fn multi<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    coroutine_runtime::multi(children).await
}

/// `futures::future::join_all`.
pub(crate) async fn join_all<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    futures::future::join_all(children).await
}

/// `futures_buffered::join_all`.
pub(crate) async fn futures_buffered<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    futures_buffered::join_all(children).await
}

/// futures-concurrency's `Join` for `Vec`.
pub(crate) async fn futures_concurrency<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    children.join().await
}

/// `FuturesUnordered`, with each output put back at its child's index.
pub(crate) async fn futures_unordered<F: Future>(children: Vec<F>) -> Vec<F::Output> {
    let n = children.len();
    let mut running: FuturesUnordered<_> = children
        .into_iter()
        .enumerate()
        .map(|(i, child)| async move { (i, child.await) })
        .collect();
    let mut outputs: Vec<Option<F::Output>> = Vec::with_capacity(n);
    outputs.resize_with(n, || None);
    while let Some((i, output)) = running.next().await {
        outputs[i] = Some(output);
    }
    let mut values = Vec::with_capacity(n);
    values.extend(
        outputs
            .into_iter()
            .map(|o| o.expect("every child finished")),
    );
    values
}

/// Ours: a coroutine yielding the `HashMap`.
#[coroutine_runtime::coroutine]
pub(crate) fn coroutine_map<F: Future + 'static>(
    children: HashMap<u64, F>,
) -> HashMap<u64, F::Output> {
    yield_!(children)
}

/// A competitor's join over the values of a map, then the keys and outputs collected into a map.
pub(crate) async fn via_vec<F, J>(
    children: HashMap<u64, F>,
    join: fn(Vec<F>) -> J,
) -> HashMap<u64, F::Output>
where
    F: Future,
    J: Future<Output = Vec<F::Output>>,
{
    let (keys, children): (Vec<u64>, Vec<F>) = children.into_iter().unzip();
    let values = join(children).await;
    keys.into_iter().zip(values).collect()
}

/// Calls `$case!(name, join_fn)` for every join measured: ours first, then the competitors.
macro_rules! for_each_join {
    ($case:ident) => {
        $case!("coroutine", coroutine);
        $case!("multi", multi);
        $case!("join_all", join_all);
        $case!("futures_buffered", futures_buffered);
        $case!("futures_concurrency", futures_concurrency);
        $case!("futures_unordered", futures_unordered);
    };
}
pub(crate) use for_each_join;
