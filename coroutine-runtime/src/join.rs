//! The join engine shared by every collection yield, [`multi`](crate::multi),
//! [`try_multi`](crate::try_multi) and [`WaitIterator`](crate::WaitIterator).
//!
//! It waits on any number of children and costs time linear in their number, however they are
//! woken:
//!
//! * **First pass:** every child is polled once, in input order, with the parent's own waker. A
//!   child that is ready at once costs no waker.
//! * **Second pass** (the next poll, if any child is still pending): each pending child gets a
//!   waker of its own, which knows the child's index, and is polled with it, in input order.
//!   Polling it again right away in the first pass would run it twice in a row, which would let
//!   [`moment`](crate::moment) and a coroutine waiting on it run two steps where Tornado runs one.
//! * **Later passes:** a child's waker sets the child's bit in a shared ready set and wakes the
//!   parent; the parent takes the set and polls only those children, in input order.
//!
//! **Where the children live.** Children sit inline in chunks of [`CHUNK`] slots, one allocation
//! per chunk, pinned as a whole: a chunk is a struct of 32 pin-projected fields, so that a child
//! is reached by its index without `unsafe` code. The last `len % CHUNK` children, too few to fill
//! a chunk, get a box each. A slot holds the child while it runs, its waker beside it, and its
//! output once it has finished, so a pass touches one place per child.
//!
//! **The ready set** is a bitset in levels: a bit per child, a bit per word of children, and so on
//! up to a single word. A wake sets the child's bit, and goes up a level only if the word it set
//! was empty; the wake that makes the top word non-empty wakes the parent. The parent takes each
//! non-empty word with one swap, from the top down, which gives the woken children in input order
//! with no sorting, no lock and no allocation.
//!
//! `futures::future::join_all` polls every child on every wake below 31 children and switches
//! to `FuturesOrdered` above; this engine needs no switch and keeps Tornado's input-order passes.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::task::AtomicWaker;
use pin_project_lite::pin_project;

/// How many children a chunk holds: `2^CHUNK_BITS`.
const CHUNK_BITS: u32 = 5;
/// How many children a chunk holds.
const CHUNK: usize = 1 << CHUNK_BITS;

pin_project! {
    /// One child of a [`Join`], where it stands.
    #[project = ChildProj]
    #[project_ref = ChildRef]
    #[project_replace = ChildOwned]
    enum Child<F, T> {
        /// Still running.
        Running { #[pin] future: F },
        /// Finished; the value waits to be collected.
        Done { value: T },
        /// Finished and handed out (or dropped by a short circuit), or never filled.
        Empty,
    }
}

/// Defines [`Chunk`], a struct of one pinned [`Child`] field per slot, and its access by index:
/// a `match` on the index, which the compiler turns into a table of field offsets.
macro_rules! chunk {
    ($($field:ident $index:literal),+) => {
        pin_project! {
            /// [`CHUNK`] children, pinned together.
            struct Chunk<F, T> {
                $(#[pin] $field: Child<F, T>,)+
            }
        }

        impl<F, T> Chunk<F, T> {
            /// Every slot empty.
            fn empty() -> Self {
                Chunk { $($field: Child::Empty,)+ }
            }

            /// Slot `index`, pinned.
            #[inline]
            fn pin_slot(self: Pin<&mut Self>, index: usize) -> Pin<&mut Child<F, T>> {
                let slots = self.project();
                match index {
                    $($index => slots.$field,)+
                    _ => unreachable!("a slot index is below CHUNK"),
                }
            }

            /// Slot `index`, for a chunk that is not pinned yet.
            #[inline]
            fn slot_mut(&mut self, index: usize) -> &mut Child<F, T> {
                match index {
                    $($index => &mut self.$field,)+
                    _ => unreachable!("a slot index is below CHUNK"),
                }
            }

            /// Slot `index`, to look at.
            #[inline]
            fn slot(&self, index: usize) -> &Child<F, T> {
                match index {
                    $($index => &self.$field,)+
                    _ => unreachable!("a slot index is below CHUNK"),
                }
            }
        }
    };
}

chunk!(s0 0, s1 1, s2 2, s3 3, s4 4, s5 5, s6 6, s7 7, s8 8, s9 9, s10 10, s11 11, s12 12, s13 13, s14 14, s15 15, s16 16, s17 17, s18 18, s19 19, s20 20, s21 21, s22 22, s23 23, s24 24, s25 25, s26 26, s27 27, s28 28, s29 29, s30 30, s31 31);

/// Where the children of a [`Join`] live, in input order: full chunks, then a box per child of
/// the last, partial chunk.
struct Store<F, T> {
    /// The full chunks, pinned.
    chunks: Vec<Pin<Box<Chunk<F, T>>>>,
    /// The children after the full chunks.
    tail: Vec<Pin<Box<Child<F, T>>>>,
    /// The chunk being filled by [`Join::push`], not pinned yet: nothing in it has been polled.
    filling: Option<Box<Chunk<F, T>>>,
    /// How many children there are.
    len: usize,
}

impl<F, T> Store<F, T> {
    /// Room for `capacity` children.
    fn with_capacity(capacity: usize) -> Self {
        Store {
            chunks: Vec::with_capacity(capacity / CHUNK),
            tail: Vec::new(),
            filling: None,
            len: 0,
        }
    }

    /// Adds a child at the end; it is not polled until [`Store::seal`] has been called.
    fn push(&mut self, future: F) {
        let at = self.len % CHUNK;
        let chunk = self.filling.get_or_insert_with(|| Box::new(Chunk::empty()));
        *chunk.slot_mut(at) = Child::Running { future };
        self.len += 1;
        if at == CHUNK - 1 {
            let full = self.filling.take().expect("just filled");
            self.chunks.push(Box::into_pin(full));
        }
    }

    /// Puts the children of a partial last chunk in boxes of their own (they have not been
    /// polled, so they may still move), so that no chunk has unused slots.
    fn seal(&mut self) {
        if let Some(mut partial) = self.filling.take() {
            let count = self.len % CHUNK;
            self.tail.reserve_exact(count);
            for at in 0..count {
                let child = std::mem::replace(partial.slot_mut(at), Child::Empty);
                self.tail.push(Box::pin(child));
            }
        }
    }

    /// Child `index`, pinned.
    #[inline]
    fn pin_child(&mut self, index: usize) -> Pin<&mut Child<F, T>> {
        let chunk = index >> CHUNK_BITS;
        let full = self.chunks.len();
        if chunk < full {
            self.chunks[chunk].as_mut().pin_slot(index & (CHUNK - 1))
        } else {
            self.tail[index - full * CHUNK].as_mut()
        }
    }

    /// Child `index`, to look at.
    fn child(&self, index: usize) -> &Child<F, T> {
        if let Some(filling) = &self.filling
            && index >= self.chunks.len() * CHUNK
        {
            return filling.slot(index & (CHUNK - 1));
        }
        match self.chunks.get(index >> CHUNK_BITS) {
            Some(chunk) => chunk.slot(index & (CHUNK - 1)),
            None => &self.tail[index - self.chunks.len() * CHUNK],
        }
    }
}

/// The ready set shared by a [`Join`] and its children's wakers; see the module docs.
struct Shared {
    /// Every level of the bitset, the children's bits first, the single top word last.
    words: Box<[AtomicU64]>,
    /// Where each level starts in `words`; `levels[depth]` is `words.len()`.
    levels: Vec<usize>,
    /// The parent's waker.
    parent: AtomicWaker,
}

impl Shared {
    /// A ready set for `len` children, all clear.
    fn new(len: usize) -> Self {
        let mut levels = vec![0];
        let mut width = len.div_ceil(64).max(1);
        let mut total = width;
        while width > 1 {
            levels.push(total);
            width = width.div_ceil(64);
            total += width;
        }
        levels.push(total);
        Shared {
            words: (0..total).map(|_| AtomicU64::new(0)).collect(),
            levels,
            parent: AtomicWaker::new(),
        }
    }

    /// Clears every mark, and lets the parent's waker go.
    fn clear(&self) {
        for word in &self.words {
            word.store(0, Ordering::Relaxed);
        }
        drop(self.parent.take());
    }

    /// Marks child `index` as woken, and wakes the parent if nothing else was.
    fn mark(&self, index: usize) {
        let mut position = index;
        for level in 0..self.levels.len() - 1 {
            let word = &self.words[self.levels[level] + position / 64];
            // Release: the parent that takes this bit sees what the child did before its wake.
            if word.fetch_or(1 << (position % 64), Ordering::AcqRel) != 0 {
                // The wake that made this word non-empty carries it up (or the child is already
                // marked): nothing more to do.
                return;
            }
            position /= 64;
        }
        self.parent.wake();
    }

    /// Takes the marked children and hands their indices to `each`, in increasing order; stops
    /// at the first `Break`.
    fn drain<B>(&self, each: &mut impl FnMut(usize) -> ControlFlow<B>) -> ControlFlow<B> {
        match self.levels.len() - 2 {
            0 => self.drain_leaves(0, each),
            top => self.drain_word(top, 0, each),
        }
    }

    /// Takes word `position` of `level` (1 or above) and everything marked below it.
    fn drain_word<B>(
        &self,
        level: usize,
        position: usize,
        each: &mut impl FnMut(usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut bits = take(&self.words[self.levels[level] + position]);
        while bits != 0 {
            let below = position * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if level == 1 {
                self.drain_leaves(below, each)?;
            } else {
                self.drain_word(level - 1, below, each)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Takes word `position` of the children's bits and hands each marked child to `each`.
    #[inline]
    fn drain_leaves<B>(
        &self,
        position: usize,
        each: &mut impl FnMut(usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut bits = take(&self.words[position]);
        while bits != 0 {
            each(position * 64 + bits.trailing_zeros() as usize)?;
            bits &= bits - 1;
        }
        ControlFlow::Continue(())
    }
}

/// Takes the bits of `word`, leaving it clear; no write if it is clear already.
#[inline]
fn take(word: &AtomicU64) -> u64 {
    if word.load(Ordering::Relaxed) == 0 {
        0
    } else {
        // Acquire: what the children did before their wakes happens before their polls.
        word.swap(0, Ordering::AcqRel)
    }
}

/// The waker of child `index`.
struct ChildWaker {
    /// The ready set to mark `index` in.
    shared: Arc<Shared>,
    /// The child's index in the [`Join`].
    index: usize,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.shared.mark(self.index);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.mark(self.index);
    }
}

/// The children's wakers of a join: the waker of child `i` marks bit `i` of `shared`.
///
/// Making them costs an allocation per child, so a finished join leaves its set to the next join
/// on the same thread (one set per thread, of at most [`SPARE_LIMIT`] wakers), if no waker of the
/// set is held anywhere else any more: a join that runs where another ran before makes no waker.
struct WakerSet {
    /// The ready set the wakers mark.
    shared: Arc<Shared>,
    /// Each waker, with the `Arc` it was made from (to tell whether a clone is held elsewhere).
    wakers: Vec<(Arc<ChildWaker>, Waker)>,
}

/// The most wakers a thread keeps for the next join: about 70 bytes each, 9 MiB at most.
const SPARE_LIMIT: usize = 1 << 17;

thread_local! {
    /// The waker set left by the last join that finished on this thread.
    static SPARE: RefCell<Option<WakerSet>> = const { RefCell::new(None) };
}

impl WakerSet {
    /// Wakers for `len` children.
    fn new(len: usize) -> Self {
        let shared = Arc::new(Shared::new(len));
        let wakers = (0..len)
            .map(|index| {
                let waker = Arc::new(ChildWaker {
                    shared: Arc::clone(&shared),
                    index,
                });
                (Arc::clone(&waker), Waker::from(waker))
            })
            .collect();
        WakerSet { shared, wakers }
    }

    /// The set this thread keeps, if it has one for `len` children or more.
    fn spare(len: usize) -> Option<Self> {
        SPARE
            .try_with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.as_ref()?.wakers.len() >= len {
                    spare.take()
                } else {
                    None
                }
            })
            .ok()
            .flatten()
    }

    /// The set this thread keeps, or a new one, for `len` children.
    fn for_children(len: usize) -> Self {
        Self::spare(len).unwrap_or_else(|| Self::new(len))
    }

    /// Leaves the set to the next join on this thread, if none of the wakers of the first `used`
    /// children is held elsewhere (a late wake would otherwise reach the next join).
    fn recycle(self, used: usize) {
        let shared_by_others = self.wakers[..used]
            .iter()
            .any(|(waker, _)| Arc::strong_count(waker) != 2);
        if shared_by_others || self.wakers.len() > SPARE_LIMIT {
            return;
        }
        self.shared.clear();
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare
                .as_ref()
                .is_none_or(|kept| kept.wakers.len() < self.wakers.len())
            {
                *spare = Some(self);
            }
        });
    }
}

/// The passes of a [`Join`]; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not polled yet: poll every child with the parent's waker.
    First,
    /// Polled once: give every pending child its own waker and poll it.
    Second,
    /// Every pending child has its own waker: poll the ones in the ready set.
    Woken,
    /// Short-circuited: every child has been dropped.
    Stopped,
}

/// Waits on a collection of children of type `F`, keeping one `T` per finished child.
pub(crate) struct Join<F: Future, T> {
    /// The children and their outputs, in input order.
    store: Store<F, T>,
    /// How many children are still running.
    pending: usize,
    /// Which pass comes next.
    stage: Stage,
    /// The children's wakers; made (or taken from the thread's spare set) at the second pass,
    /// or at the first if the thread has a spare set.
    wakers: Option<WakerSet>,
}

impl<F: Future, T> Drop for Join<F, T> {
    fn drop(&mut self) {
        let len = self.store.len;
        // The children first (in input order), so that the wakers they held are released.
        drop(std::mem::replace(&mut self.store, Store::with_capacity(0)));
        if let Some(wakers) = self.wakers.take() {
            wakers.recycle(len);
        }
    }
}

impl<F: Future, T> Join<F, T> {
    /// A join over `children`, none polled yet.
    pub(crate) fn new(children: impl IntoIterator<Item = F>) -> Self {
        let children = children.into_iter();
        let mut join = Self::with_capacity(children.size_hint().0);
        for child in children {
            join.push(child);
        }
        join
    }

    /// A join with room for `capacity` children, to be added with [`Join::push`].
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Join {
            store: Store::with_capacity(capacity),
            pending: 0,
            stage: Stage::First,
            wakers: None,
        }
    }

    /// Adds a child, before the first poll.
    pub(crate) fn push(&mut self, child: F) {
        debug_assert_eq!(
            self.stage,
            Stage::First,
            "children are added before the first poll"
        );
        self.store.push(child);
        self.pending += 1;
    }

    /// How many children there are, finished or not.
    pub(crate) fn len(&self) -> usize {
        self.store.len
    }

    /// How many children are still running.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// The indices of the children still running, in input order.
    #[allow(
        dead_code,
        reason = "for introspection: which children a yield waits on"
    )]
    pub(crate) fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.store.len)
            .filter(|&index| matches!(self.store.child(index), Child::Running { .. }))
    }

    /// Polls the children that may have progressed, in input order, handing each output to
    /// `settle` with the child's index.
    ///
    /// `settle` returns `Continue(Some(t))` to keep `t` in the child's slot, `Continue(None)` to
    /// keep nothing, or `Break(b)` to stop: every child is dropped at once and the poll returns
    /// `Ready(Err(b))`. The poll returns `Ready(Ok(()))` when no child is running any more.
    pub(crate) fn poll<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut settle: impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> Poll<Result<(), B>> {
        let flow = match self.stage {
            Stage::First => {
                self.store.seal();
                // With a spare waker set, the first pass gives each child its own waker at once
                // and there is no second pass.
                self.wakers = WakerSet::spare(self.store.len);
                if let Some(wakers) = &self.wakers {
                    wakers.shared.parent.register(cx.waker());
                    self.stage = Stage::Woken;
                } else {
                    self.stage = Stage::Second;
                }
                self.first_pass(cx, &mut settle)
            }
            Stage::Second => {
                self.stage = Stage::Woken;
                self.second_pass(cx, &mut settle)
            }
            Stage::Woken => self.woken_pass(cx, &mut settle),
            Stage::Stopped => panic!("a join was polled after it short-circuited"),
        };
        if let ControlFlow::Break(b) = flow {
            self.stop();
            return Poll::Ready(Err(b));
        }
        if self.pending == 0 {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// Polls every child, with its own waker if the join has its wakers, else with the parent's.
    fn first_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let wakers = self.wakers.as_ref();
        for index in 0..self.store.len {
            poll_child(
                &mut self.store,
                &mut self.pending,
                wakers,
                index,
                cx,
                settle,
            )?;
        }
        ControlFlow::Continue(())
    }

    /// Gives every pending child its own waker and polls it with that waker.
    fn second_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let wakers = self.wakers.insert(WakerSet::for_children(self.store.len));
        wakers.shared.parent.register(cx.waker());
        for index in 0..self.store.len {
            poll_child(
                &mut self.store,
                &mut self.pending,
                Some(wakers),
                index,
                cx,
                settle,
            )?;
        }
        ControlFlow::Continue(())
    }

    /// Polls the children in the ready set, in input order.
    fn woken_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let wakers = self.wakers.as_ref().expect("an earlier pass made them");
        // Registered before the set is taken, so that a wake after the take wakes this waker.
        wakers.shared.parent.register(cx.waker());
        let (store, pending) = (&mut self.store, &mut self.pending);
        wakers
            .shared
            .drain(&mut |index| poll_child(store, pending, Some(wakers), index, cx, settle))
    }

    /// Drops every child and every kept value, in input order.
    fn stop(&mut self) {
        self.stage = Stage::Stopped;
        self.pending = 0;
        for index in 0..self.store.len {
            self.store.pin_child(index).set(Child::Empty);
        }
    }

    /// The kept values, in input order, once no child is running.
    ///
    /// # Panics
    ///
    /// If a child is still running, or a child's value was not kept.
    pub(crate) fn into_values(mut self) -> impl ExactSizeIterator<Item = T> {
        assert_eq!(self.pending, 0, "the join has not finished");
        (0..self.store.len).map(move |index| {
            match self.store.pin_child(index).project_replace(Child::Empty) {
                ChildOwned::Done { value } => value,
                ChildOwned::Running { .. } | ChildOwned::Empty => {
                    unreachable!("every child has finished")
                }
            }
        })
    }

    /// Takes the kept values out, in input order, leaving the join empty; for futures that must
    /// hand them out from `poll`.
    pub(crate) fn take_values(&mut self) -> impl ExactSizeIterator<Item = T> {
        std::mem::replace(self, Join::with_capacity(0)).into_values()
    }
}

/// Polls child `index` of `store` if it is running, with its own waker if it has one, and counts
/// it off `pending` if it finishes. (Not a method, so that callers can hold other fields of the
/// join meanwhile.)
#[inline]
fn poll_child<F: Future, T, B>(
    store: &mut Store<F, T>,
    pending: &mut usize,
    wakers: Option<&WakerSet>,
    index: usize,
    cx: &mut Context<'_>,
    settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
) -> ControlFlow<B> {
    let mut child = store.pin_child(index);
    let ChildProj::Running { future } = child.as_mut().project() else {
        return ControlFlow::Continue(()); // a stale wake of a finished child
    };
    let poll = match wakers {
        Some(wakers) => future.poll(&mut Context::from_waker(&wakers.wakers[index].1)),
        None => future.poll(cx),
    };
    if let Poll::Ready(output) = poll {
        // Dropped here, as soon as it has finished, not when the whole join ends.
        child.as_mut().project_replace(Child::Empty);
        *pending -= 1;
        if let Some(value) = settle(index, output)? {
            child.set(Child::Done { value });
        }
    }
    ControlFlow::Continue(())
}

impl<F: Future, T> fmt::Debug for Join<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("children", &self.store.len)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}
