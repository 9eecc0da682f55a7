//! [`IoLoop::set_stuck_threshold`]: the loop reports the coroutines suspended for too long.
//!
//! Built on the loop's public API only (a `call_later` chain), so it does not depend on how the
//! loop runs its timers.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use super::{Node, snapshot};
use crate::IoLoop;

thread_local! {
    /// Bumped by each `set_stuck_threshold` on this thread: older checks stop.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

impl IoLoop {
    /// Calls `callback` with each coroutine that has been suspended at the same yield for longer
    /// than `threshold`, once per coroutine: Tornado's old `set_blocking_log_threshold`, for
    /// coroutines that wait too long rather than for callbacks that block. Needs the
    /// `introspect` feature.
    ///
    /// The loop takes a [`snapshot`](crate::introspect::snapshot) every quarter of `threshold`
    /// (at most every second, at least every millisecond) while it runs, so a coroutine is
    /// reported between `threshold` and `threshold` plus that period after it suspended. The
    /// snapshot covers every thread, not only this loop's. A coroutine that is reported, resumes
    /// and gets stuck again at another yield is reported again. A second call replaces the first,
    /// for every loop of the thread; `Duration::MAX` stops the checks.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::*;
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn slow_query() {
    ///     yield_!(sleep(Duration::from_millis(80)));
    /// }
    ///
    /// let io_loop = IoLoop::new();
    /// let stuck = Rc::new(RefCell::new(Vec::new()));
    /// let seen = stuck.clone();
    /// io_loop.set_stuck_threshold(Duration::from_millis(20), move |node| {
    ///     seen.borrow_mut().push(node.name().to_owned());
    /// });
    /// io_loop.run_sync(slow_query);
    /// let stuck = stuck.borrow();
    /// assert_eq!(stuck.iter().filter(|name| name.ends_with("::slow_query")).count(), 1);
    /// ```
    pub fn set_stuck_threshold<F>(&self, threshold: Duration, callback: F)
    where
        F: FnMut(&Node) + 'static,
    {
        let generation = GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        if threshold == Duration::MAX {
            return;
        }
        let period = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_secs(1));
        let check = Rc::new(Check {
            threshold,
            period,
            generation,
            reported: RefCell::new(HashSet::new()),
            callback: RefCell::new(Box::new(callback)),
        });
        check.schedule(self);
    }
}

/// What `set_stuck_threshold` calls.
type StuckCallback = Box<dyn FnMut(&Node)>;

/// One `set_stuck_threshold`'s state, shared by its chain of timers.
struct Check {
    threshold: Duration,
    period: Duration,
    generation: u64,
    /// The ids of the coroutines already reported and still stuck.
    reported: RefCell<HashSet<u64>>,
    callback: RefCell<StuckCallback>,
}

impl Check {
    fn schedule(self: Rc<Self>, io_loop: &IoLoop) {
        let next = io_loop.clone();
        io_loop.call_later(self.period, move || {
            if GENERATION.with(Cell::get) != self.generation {
                return;
            }
            self.run();
            self.schedule(&next);
        });
    }

    fn run(&self) {
        let tree = snapshot();
        let stuck = tree.older_than(self.threshold);
        let ids: HashSet<u64> = stuck.iter().map(|node| node.id).collect();
        let mut reported = self.reported.borrow_mut();
        reported.retain(|id| ids.contains(id));
        let fresh: Vec<&Node> = stuck
            .into_iter()
            .filter(|node| reported.insert(node.id))
            .collect();
        drop(reported);
        let mut callback = self.callback.borrow_mut();
        for node in fresh {
            callback(node);
        }
    }
}
