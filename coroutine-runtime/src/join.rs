//! The join engine shared by every collection yield, [`multi`](crate::multi),
//! [`try_multi`](crate::try_multi) and [`WaitIterator`](crate::WaitIterator).
//!
//! It waits on any number of children and costs time linear in their number, however they are
//! woken:
//!
//! * **First pass:** every child is polled once, in input order, with the parent's own waker. A
//!   child that is ready at once costs its box and nothing else: no waker is made for it.
//! * **Second pass** (the next poll, if any child is still pending): each pending child gets a
//!   waker of its own, which knows the child's index, and is polled with it, in input order.
//!   Polling it again right away in the first pass would run it twice in a row, which would let
//!   [`moment`](crate::moment) and a coroutine waiting on it run two steps where Tornado runs one.
//! * **Later passes:** a child's waker pushes its index onto a shared ready queue (once, until the
//!   child is polled again) and wakes the parent; the parent drains the queue, sorts the indices
//!   so that children are polled in input order, and polls only those children. The two queue
//!   buffers are swapped, not reallocated, so a pass allocates nothing.
//!
//! `futures::future::join_all` polls every child on every wake below 31 children and switches
//! to `FuturesOrdered` above; this engine needs no switch and keeps Tornado's input-order passes.
//!
//! Children are boxed because pinning them in a shared buffer would take `unsafe` code, which
//! this crate forbids.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Waits on a collection of children of type `F`, keeping one `T` per finished child.
pub(crate) struct Join<F: Future, T> {
    /// One slot per child, in input order.
    slots: Vec<Slot<F, T>>,
    /// How many slots are [`State::Running`].
    pending: usize,
    /// Which pass comes next.
    stage: Stage,
    /// The ready queue shared with the children's wakers; made at the second pass.
    queue: Option<Arc<Queue>>,
    /// The indices drained from the queue in the current pass (a buffer kept between passes).
    drained: Vec<usize>,
}

/// One child of a [`Join`].
struct Slot<F, T> {
    /// The child; `None` once it has finished. A finished child is dropped in place, but its box
    /// is kept until the join is dropped: freeing many boxes in the random order children finish
    /// in would cost the allocator a cache miss each, freeing them in order does not.
    child: Pin<Box<Option<F>>>,
    /// The child's own waker, once the second pass has made it (kept to the end for the same
    /// reason as the box).
    waker: Option<Waker>,
    /// Where the child stands.
    state: State<T>,
}

/// Where a [`Slot`]'s child stands.
enum State<T> {
    /// Still running.
    Running,
    /// Finished; the value waits to be collected.
    Done(T),
    /// Finished and handed out (or dropped by a short circuit).
    Empty,
}

impl<F, T> Slot<F, T> {
    /// A slot for a child that has not been polled yet.
    fn new(child: F) -> Self {
        Slot {
            child: Box::pin(Some(child)),
            waker: None,
            state: State::Running,
        }
    }
}

/// The passes of a [`Join`]; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not polled yet: poll every child with the parent's waker.
    First,
    /// Polled once: give every pending child its own waker and poll it.
    Second,
    /// Every pending child has its own waker: poll the ones in the ready queue.
    Woken,
    /// Short-circuited: every child has been dropped.
    Stopped,
}

/// The ready queue, shared by a [`Join`] and its children's wakers.
struct Queue {
    /// `queued[i]` is set while child `i` is in the queue, so that repeated wakes push it once.
    queued: Box<[AtomicBool]>,
    /// The indices of the woken children, and the parent's waker.
    state: Mutex<QueueState>,
}

/// What [`Queue::state`] guards.
struct QueueState {
    /// Indices of the children woken since the last drain, in the order they were woken.
    ready: Vec<usize>,
    /// The parent's waker; taken by the wake that makes `ready` non-empty.
    parent: Option<Waker>,
}

impl Queue {
    /// Locks the state; a panic in another thread while it held the lock leaves the state valid.
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The waker of child `index`.
struct ChildWaker {
    /// The queue to push `index` onto.
    queue: Arc<Queue>,
    /// The child's index in the [`Join`].
    index: usize,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queue.queued[self.index].swap(true, Ordering::AcqRel) {
            return; // already queued and not yet polled
        }
        let parent = {
            let mut state = self.queue.lock();
            state.ready.push(self.index);
            // Only the first wake since the last drain needs to wake the parent.
            if state.ready.len() == 1 {
                state.parent.take()
            } else {
                None
            }
        };
        // Woken outside the lock: the parent's waker may poll the parent on this thread.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl<F: Future, T> Join<F, T> {
    /// A join over `children`, none polled yet.
    pub(crate) fn new(children: impl IntoIterator<Item = F>) -> Self {
        let children = children.into_iter();
        let mut slots = Vec::with_capacity(children.size_hint().0);
        slots.extend(children.map(Slot::new));
        Self::from_slots(slots)
    }

    /// A join with room for `capacity` children, to be added with [`Join::push`].
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self::from_slots(Vec::with_capacity(capacity))
    }

    /// Adds a child, before the first poll.
    pub(crate) fn push(&mut self, child: F) {
        debug_assert_eq!(
            self.stage,
            Stage::First,
            "children are added before the first poll"
        );
        self.slots.push(Slot::new(child));
        self.pending += 1;
    }

    /// A join over slots that are all pending.
    fn from_slots(slots: Vec<Slot<F, T>>) -> Self {
        Join {
            pending: slots.len(),
            slots,
            stage: Stage::First,
            queue: None,
            drained: Vec::new(),
        }
    }

    /// How many children there are, finished or not.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// How many children are still running.
    pub(crate) fn pending(&self) -> usize {
        self.pending
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
                self.stage = Stage::Second;
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

    /// Polls every child with the parent's waker.
    fn first_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        for index in 0..self.slots.len() {
            Self::poll_slot(&mut self.slots, &mut self.pending, index, cx, settle)?;
        }
        ControlFlow::Continue(())
    }

    /// Gives every pending child its own waker and polls it with that waker.
    fn second_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let queue = Arc::new(Queue {
            queued: (0..self.slots.len())
                .map(|_| AtomicBool::new(false))
                .collect(),
            state: Mutex::new(QueueState {
                ready: Vec::new(),
                parent: Some(cx.waker().clone()),
            }),
        });
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            if matches!(slot.state, State::Running) {
                slot.waker = Some(Waker::from(Arc::new(ChildWaker {
                    queue: queue.clone(),
                    index,
                })));
                Self::poll_slot(&mut self.slots, &mut self.pending, index, cx, settle)?;
            }
        }
        self.queue = Some(queue);
        ControlFlow::Continue(())
    }

    /// Polls the children in the ready queue, in input order.
    fn woken_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let queue = self
            .queue
            .as_deref()
            .expect("the second pass made the queue");
        self.drained.clear();
        {
            let mut state = queue.lock();
            if !state
                .parent
                .as_ref()
                .is_some_and(|parent| parent.will_wake(cx.waker()))
            {
                state.parent = Some(cx.waker().clone());
            }
            std::mem::swap(&mut state.ready, &mut self.drained);
        }
        self.drained.sort_unstable();
        for k in 0..self.drained.len() {
            let index = self.drained[k];
            // Cleared before the poll, so a wake during the poll queues the child again. The
            // swap (not a store) acquires what the waker that set the flag had published.
            queue.queued[index].swap(false, Ordering::AcqRel);
            Self::poll_slot(&mut self.slots, &mut self.pending, index, cx, settle)?;
        }
        ControlFlow::Continue(())
    }

    /// Polls child `index` of `slots` if it is running, with its own waker if it has one, and
    /// counts it off `pending` if it finishes. (Not a method, so that callers can hold other
    /// fields of the join meanwhile.)
    #[inline]
    fn poll_slot<B>(
        slots: &mut [Slot<F, T>],
        pending: &mut usize,
        index: usize,
        cx: &mut Context<'_>,
        settle: &mut impl FnMut(usize, F::Output) -> ControlFlow<B, Option<T>>,
    ) -> ControlFlow<B> {
        let slot = &mut slots[index];
        if !matches!(slot.state, State::Running) {
            return ControlFlow::Continue(()); // a stale wake of a finished child
        }
        let child = slot
            .child
            .as_mut()
            .as_pin_mut()
            .expect("a running child is in its box");
        let poll = match &slot.waker {
            Some(waker) => child.poll(&mut Context::from_waker(waker)),
            None => child.poll(cx),
        };
        if let Poll::Ready(output) = poll {
            // Dropped here, as soon as it has finished, not when the whole join ends.
            slot.child.set(None);
            slot.state = State::Empty;
            *pending -= 1;
            if let Some(value) = settle(index, output)? {
                slot.state = State::Done(value);
            }
        }
        ControlFlow::Continue(())
    }

    /// Drops every child and every kept value, in input order.
    fn stop(&mut self) {
        self.stage = Stage::Stopped;
        self.pending = 0;
        for slot in &mut self.slots {
            slot.child.set(None);
            slot.state = State::Empty;
        }
    }

    /// The kept values, in input order, once no child is running.
    ///
    /// # Panics
    ///
    /// If a child is still running, or a child's value was not kept.
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        assert_eq!(self.pending, 0, "the join has not finished");
        self.slots.into_iter().map(|slot| match slot.state {
            State::Done(value) => value,
            State::Running | State::Empty => unreachable!("every child has finished"),
        })
    }

    /// Takes the kept values out, in input order, leaving the join empty; for futures that must
    /// hand them out from `poll`.
    pub(crate) fn take_values(&mut self) -> impl Iterator<Item = T> {
        std::mem::replace(self, Join::from_slots(Vec::new())).into_values()
    }
}

impl<F: Future, T> fmt::Debug for Join<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("children", &self.slots.len())
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}
