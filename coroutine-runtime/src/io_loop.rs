//! [`IoLoop`]: a single-threaded event loop that runs coroutines, callbacks and timers, the
//! analog of Tornado's `IOLoop`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::TimeoutError;

/// The id the waker of `run_sync`'s own coroutine puts in the queue; spawned tasks count from 1.
const MAIN_TASK: u64 = 0;

/// A single-threaded event loop: runs coroutines to completion, callbacks in FIFO order and
/// timers at their deadlines, on the thread that calls [`run_sync`](Self::run_sync) or
/// [`start`](Self::start). Tornado's `IOLoop`, and the embedded default for programs that bring no
/// executor of their own.
///
/// The loop is single-threaded, so what it runs needs no `Send`: coroutines may hold `Rc`s and
/// `RefCell`s. Any future works inside it, whoever wakes it: futures of other timer crates,
/// channels, [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) results. Other threads reach the
/// loop through its [`IoLoopHandle`] (as Tornado's `add_callback` is its only thread-safe method).
///
/// `IoLoop` is a cheap handle (`Clone` shares the loop) and is neither `Send` nor `Sync`.
/// [`IoLoop::current`] is the loop running on this thread, or the thread's default loop.
///
/// # Panics in the background
///
/// A callback or background coroutine that panics does not take the loop down: the loop drops
/// it, reports the panic (to stderr, or to the handler set with
/// [`set_panic_handler`](Self::set_panic_handler)) and runs on. A panic in the coroutine given
/// to `run_sync` is different: it is raised again by `run_sync`, to its caller.
///
/// # Examples
///
/// The guide's "how to call a coroutine" from plain code, and "running in the background":
///
/// ```
/// use coroutine_runtime::*;
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// #[coroutine_runtime::coroutine]
/// fn divide(x: u32, y: u32) -> u32 {
///     yield_!(moment);
///     x / y
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn count(calls: Rc<Cell<u32>>) {
///     calls.set(calls.get() + 1);
/// }
///
/// let calls = Rc::new(Cell::new(0));
/// let io_loop = IoLoop::current();
/// let background = calls.clone();
/// io_loop.spawn_callback(move || count(background));
/// assert_eq!(io_loop.run_sync(|| divide(6, 3)), 2);
/// assert_eq!(calls.get(), 1);
/// ```
#[derive(Clone)]
pub struct IoLoop {
    /// The loop's state, shared by the clones.
    inner: Rc<Inner>,
}

/// The state of a loop.
struct Inner {
    /// What other threads and wakers touch: the run queue and the stop flag.
    shared: Arc<Shared>,
    /// What only the loop's thread touches. Never borrowed while user code runs.
    local: RefCell<Local>,
    /// Whether `run_sync` or `start` is running the loop; they do not nest on one loop.
    running: Cell<bool>,
    /// Where panics of callbacks and background coroutines are reported; `None` means stderr.
    panic_handler: RefCell<Option<Rc<PanicHandler>>>,
}

/// The type of a loop's panic handler.
type PanicHandler = dyn Fn(Box<dyn Any + Send>);

/// The loop-thread-only part of the state.
struct Local {
    /// Background coroutines and callbacks not finished yet, by task id. A task being polled is
    /// taken out and put back if it is still pending.
    tasks: HashMap<u64, Spawned, BuildHasherDefault<IdHasher>>,
    /// The id of the next task. Ids are never reused, so a stale waker never wakes a new task.
    next_task: u64,
    /// Timer deadlines with their ids, earliest first (ids break ties in creation order).
    /// Invariant: every timer in `timer_callbacks` is here; cancelled ones stay until popped.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// The callbacks of the timers that have not fired nor been cancelled.
    timer_callbacks: HashMap<u64, Box<dyn FnOnce()>>,
    /// The id of the next timer.
    next_timer: u64,
    /// Set by `close`: everything added afterwards is dropped at once.
    closed: bool,
}

/// Hashes a task id to itself: ids are distinct counters and need no mixing, and `SipHash` on
/// every poll of a task (a remove and an insert) costs as much as polling a small coroutine.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` ids are hashed; this is for completeness.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }
}

/// A background task of the loop.
struct Spawned {
    /// The coroutine (or callback wrapped in a future).
    future: Pin<Box<dyn Future<Output = ()>>>,
    /// Its waker's state.
    wake: Arc<TaskWaker>,
    /// Its waker, made once.
    waker: Waker,
}

/// The thread-safe part of a loop.
struct Shared {
    /// The run queue and flags; see [`Queue`].
    queue: Mutex<Queue>,
    /// Signalled when the queue gets work or `stop` is called; the idle loop waits on it.
    wake: Condvar,
}

/// The mutable part of [`Shared`], under its mutex.
struct Queue {
    /// What runs next, in FIFO order. Invariant: a task id is queued at most once at a time
    /// (its waker's `scheduled` flag guards it).
    runnables: VecDeque<Runnable>,
    /// Set by `stop`; cleared by the run that sees it.
    stop: bool,
    /// Set when the loop is closed or gone: callbacks sent from other threads are dropped.
    closed: bool,
    /// Whether the loop's thread waits on [`Shared::wake`]. Only then do `push` and `stop`
    /// signal the condvar: a signal is a system call, and a running loop sees the queue anyway.
    idle: bool,
}

/// An entry of the run queue.
enum Runnable {
    /// Poll the task with this id (or `run_sync`'s coroutine, [`MAIN_TASK`]).
    Task(u64),
    /// Run a callback sent from another thread.
    Remote(Box<dyn FnOnce() + Send>),
}

/// The waker of one task: queues the task's id.
struct TaskWaker {
    /// The task to poll.
    id: u64,
    /// Whether the id is in the queue already; cleared just before the task is polled.
    scheduled: AtomicBool,
    /// The queue.
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            self.shared.push(Runnable::Task(self.id));
        }
    }
}

impl Shared {
    /// Locks the queue, also after a panic elsewhere poisoned the mutex: no code panics while
    /// holding it.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `runnable` and wakes the loop; drops a callback if the loop is closed (a task id is
    /// always queued: `run_sync`'s own coroutine runs on a closed loop too, and the ids of
    /// dropped tasks are skipped).
    fn push(&self, runnable: Runnable) {
        let mut queue = self.lock();
        if queue.closed && matches!(runnable, Runnable::Remote(_)) {
            drop(queue);
            drop(runnable);
            return;
        }
        queue.runnables.push_back(runnable);
        let idle = queue.idle;
        drop(queue);
        if idle {
            self.wake.notify_one();
        }
    }

    /// Asks the running loop to return after its current iteration.
    fn stop(&self) {
        let mut queue = self.lock();
        queue.stop = true;
        let idle = queue.idle;
        drop(queue);
        if idle {
            self.wake.notify_one();
        }
    }
}

/// How a run of the loop ended.
enum Exit {
    /// `run_sync`'s coroutine finished.
    Finished,
    /// `run_sync`'s deadline passed first.
    TimedOut,
    /// `stop` was called.
    Stopped,
}

thread_local! {
    /// The loops running on this thread, innermost last.
    static RUNNING: RefCell<Vec<IoLoop>> = const { RefCell::new(Vec::new()) };
    /// This thread's default loop, made on first use.
    static DEFAULT: IoLoop = IoLoop::new();
}

/// Marks a loop as running on this thread until dropped.
struct Entered<'a> {
    /// The loop.
    io_loop: &'a IoLoop,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        RUNNING.with(|running| running.borrow_mut().pop());
        self.io_loop.inner.running.set(false);
    }
}

impl Default for IoLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl IoLoop {
    /// A new loop, not running.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// assert_eq!(io_loop.run_sync(|| async { 1 + 1 }), 2);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        IoLoop {
            inner: Rc::new(Inner {
                shared: Arc::new(Shared {
                    queue: Mutex::new(Queue {
                        runnables: VecDeque::new(),
                        stop: false,
                        closed: false,
                        idle: false,
                    }),
                    wake: Condvar::new(),
                }),
                local: RefCell::new(Local {
                    tasks: HashMap::default(),
                    next_task: MAIN_TASK + 1,
                    timers: BinaryHeap::new(),
                    timer_callbacks: HashMap::new(),
                    next_timer: 0,
                    closed: false,
                }),
                running: Cell::new(false),
                panic_handler: RefCell::new(None),
            }),
        }
    }

    /// The loop running on this thread (inside [`run_sync`](Self::run_sync) or
    /// [`start`](Self::start), and so inside every coroutine and callback it runs), or else this
    /// thread's default loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// assert!(!IoLoop::current().same_loop(&io_loop));
    /// let inside = io_loop.run_sync(|| async { IoLoop::current() });
    /// assert!(inside.same_loop(&io_loop));
    /// assert!(IoLoop::current().same_loop(&IoLoop::current())); // the thread's default
    /// ```
    #[must_use]
    pub fn current() -> IoLoop {
        RUNNING
            .with(|running| running.borrow().last().cloned())
            .unwrap_or_else(|| DEFAULT.with(IoLoop::clone))
    }

    /// Whether `self` and `other` are handles of the same loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// assert!(io_loop.same_loop(&io_loop.clone()));
    /// assert!(!io_loop.same_loop(&IoLoop::new()));
    /// ```
    #[must_use]
    pub fn same_loop(&self, other: &IoLoop) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// A handle that other threads can use to add callbacks to this loop and stop it.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// let handle = io_loop.handle();
    /// std::thread::spawn(move || handle.stop());
    /// io_loop.start(); // returns once the other thread stops it
    /// ```
    #[must_use]
    pub fn handle(&self) -> IoLoopHandle {
        IoLoopHandle {
            shared: Arc::clone(&self.inner.shared),
        }
    }

    /// Runs the loop until the coroutine that `function` returns completes, and returns its
    /// result: Tornado's `IOLoop.run_sync`, the way to call a coroutine from plain code.
    ///
    /// `function` is called inside the running loop, so [`IoLoop::current`] is this loop there
    /// and in everything the coroutine calls. Neither `function` nor the coroutine needs `Send`
    /// or `'static`: they may borrow the caller's locals and hold `Rc`s. Background tasks that
    /// are still pending when it returns stay on the loop and go on at its next run.
    ///
    /// # Panics
    ///
    /// A panic in the coroutine (or in `function`) is raised again here. Panics if the loop is
    /// already running (inside one of its own coroutines, for instance), or if [`stop`](Self::stop)
    /// is called before the coroutine completes ("the loop was stopped before the coroutine
    /// completed"; the coroutine is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::*;
    /// use std::rc::Rc;
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn total(values: Rc<Vec<u32>>) -> u32 {
    ///     yield_!(moment);
    ///     values.iter().sum()
    /// }
    ///
    /// let values = Rc::new(vec![1, 2, 3]); // not `Send`: the loop is single-threaded
    /// assert_eq!(IoLoop::current().run_sync(|| total(values)), 6);
    /// ```
    pub fn run_sync<F, Fut>(&self, function: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: IntoFuture,
    {
        match self.run_main(function, None) {
            Ok(output) => output,
            Err(TimeoutError(())) => unreachable!("no deadline was set"),
        }
    }

    /// [`run_sync`](Self::run_sync) with a time limit: the coroutine's result, or a
    /// [`TimeoutError`] if it has not completed after `timeout` (Tornado's
    /// `run_sync(func, timeout=…)`).
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the time is up; the coroutine has been dropped (cancelled) by then.
    ///
    /// # Panics
    ///
    /// As [`run_sync`](Self::run_sync).
    ///
    /// # Cancellation
    ///
    /// On timeout the coroutine is dropped, and with it whatever it was waiting on. Background
    /// tasks it spawned stay on the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let timeout = Duration::from_millis(20);
    /// let never = io_loop.run_sync_timeout(timeout, || std::future::pending::<()>());
    /// assert_eq!(never.unwrap_err().to_string(), "deadline has elapsed");
    /// ```
    pub fn run_sync_timeout<F, Fut>(
        &self,
        timeout: Duration,
        function: F,
    ) -> Result<Fut::Output, TimeoutError>
    where
        F: FnOnce() -> Fut,
        Fut: IntoFuture,
    {
        // A timeout too large to represent is no timeout.
        self.run_main(function, Instant::now().checked_add(timeout))
    }

    /// Runs the loop until [`stop`](Self::stop) is called: Tornado's `IOLoop.start`.
    ///
    /// If `stop` was called while the loop was not running, `start` runs one iteration (the
    /// callbacks already queued, the timers already due) and returns.
    ///
    /// # Panics
    ///
    /// If the loop is already running. A panic of the panic handler (see
    /// [`set_panic_handler`](Self::set_panic_handler)) is raised here.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let stopper = io_loop.clone();
    /// io_loop.call_later(Duration::from_millis(10), move || stopper.stop());
    /// io_loop.start();
    /// ```
    pub fn start(&self) {
        let _entered = self.enter();
        let exit = self.run(None, None);
        debug_assert!(matches!(exit, Exit::Stopped));
    }

    /// Makes the running loop return after its current iteration (from `start`; `run_sync`
    /// panics then, as its coroutine did not complete). Other threads use
    /// [`IoLoopHandle::stop`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// let stopper = io_loop.clone();
    /// io_loop.add_callback(move || stopper.stop());
    /// io_loop.start();
    /// ```
    pub fn stop(&self) {
        self.inner.shared.stop();
    }

    /// Runs `callback` on the next iteration of the loop: Tornado's `add_callback`. Callbacks
    /// run in the order they were added.
    ///
    /// To run a coroutine, use [`spawn_callback`](Self::spawn_callback). From other threads, use
    /// [`IoLoopHandle::add_callback`].
    ///
    /// # Panics
    ///
    /// A panic in the callback is reported (see [`set_panic_handler`](Self::set_panic_handler))
    /// and does not stop the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let io_loop = IoLoop::new();
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// for i in 0..3 {
    ///     let log = log.clone();
    ///     io_loop.add_callback(move || log.borrow_mut().push(i));
    /// }
    /// io_loop.run_sync(|| async {}); // the callbacks, queued first, run first
    /// assert_eq!(*log.borrow(), [0, 1, 2]);
    /// ```
    pub fn add_callback<F>(&self, callback: F)
    where
        F: FnOnce() + 'static,
    {
        self.spawn(async move { callback() });
    }

    /// Runs the coroutine that `function` returns in the background, to completion, starting on
    /// the next iteration of the loop: Tornado's `spawn_callback`, the guide's way of running a
    /// coroutine "fire and forget".
    ///
    /// `function` is called on the loop's thread, so neither it nor the coroutine needs `Send`.
    /// From other threads, use [`IoLoopHandle::spawn_callback`].
    ///
    /// # Panics
    ///
    /// A panic in the coroutine is reported (see [`set_panic_handler`](Self::set_panic_handler))
    /// and does not stop the loop.
    ///
    /// # Cancellation
    ///
    /// The coroutine is dropped if the loop is closed or dropped before it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::*;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn bump(counter: Rc<Cell<u32>>) {
    ///     yield_!(moment);
    ///     counter.set(counter.get() + 1);
    /// }
    ///
    /// let io_loop = IoLoop::new();
    /// let counter = Rc::new(Cell::new(0));
    /// let background = counter.clone();
    /// io_loop.spawn_callback(move || bump(background));
    /// io_loop.run_sync(|| async {}); // the background coroutine, queued first, runs first
    /// assert_eq!(counter.get(), 1);
    /// ```
    pub fn spawn_callback<F, Fut>(&self, function: F)
    where
        F: FnOnce() -> Fut + 'static,
        Fut: IntoFuture<Output = ()>,
    {
        self.spawn(async move { function().await });
    }

    /// Runs `callback` with the output of `future` once it completes, on a later iteration of
    /// the loop (even if the future is already complete): Tornado's `add_future`.
    ///
    /// # Panics
    ///
    /// A panic in the future or the callback is reported (see
    /// [`set_panic_handler`](Self::set_panic_handler)); the callback is not called if the future
    /// panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::{IoLoop, ThreadPoolExecutor};
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let io_loop = IoLoop::new();
    /// let pool = ThreadPoolExecutor::new(1);
    /// let seen = Rc::new(Cell::new(0));
    /// let sink = seen.clone();
    /// io_loop.add_future(pool.submit(|| 6 * 7), move |answer| sink.set(answer));
    /// let stopper = io_loop.clone();
    /// io_loop.add_future(pool.submit(|| ()), move |()| stopper.stop());
    /// io_loop.start();
    /// assert_eq!(seen.get(), 42);
    /// ```
    pub fn add_future<Fut, F>(&self, future: Fut, callback: F)
    where
        Fut: IntoFuture + 'static,
        F: FnOnce(Fut::Output) + 'static,
    {
        self.spawn(async move { callback(future.await) });
    }

    /// Runs `callback` after `delay`, on the loop: Tornado's `call_later`. Timers with the same
    /// deadline fire in the order they were added.
    ///
    /// Dropping the returned [`Timeout`] does not cancel the timer; call
    /// [`Timeout::cancel`] or [`remove_timeout`](Self::remove_timeout).
    ///
    /// # Panics
    ///
    /// A panic in the callback is reported (see [`set_panic_handler`](Self::set_panic_handler))
    /// and does not stop the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::{Duration, Instant};
    ///
    /// let io_loop = IoLoop::new();
    /// let started = Instant::now();
    /// let stopper = io_loop.clone();
    /// io_loop.call_later(Duration::from_millis(20), move || stopper.stop());
    /// io_loop.start();
    /// assert!(started.elapsed() >= Duration::from_millis(20));
    /// ```
    pub fn call_later<F>(&self, delay: Duration, callback: F) -> Timeout
    where
        F: FnOnce() + 'static,
    {
        let now = Instant::now();
        // A delay too large to represent never fires; a far deadline does the same.
        let deadline = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 60 * 60));
        self.call_at(deadline, callback)
    }

    /// Runs `callback` at `deadline`: Tornado's `call_at`. A deadline that has already passed
    /// fires as soon as the loop reaches its timers, in this iteration or the next.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::{Duration, Instant};
    ///
    /// let io_loop = IoLoop::new();
    /// let stopper = io_loop.clone();
    /// io_loop.call_at(Instant::now() + Duration::from_millis(5), move || stopper.stop());
    /// io_loop.start();
    /// ```
    pub fn call_at<F>(&self, deadline: Instant, callback: F) -> Timeout
    where
        F: FnOnce() + 'static,
    {
        let mut local = self.inner.local.borrow_mut();
        let id = local.next_timer;
        local.next_timer += 1;
        if !local.closed {
            local.timers.push(Reverse((deadline, id)));
            local.timer_callbacks.insert(id, Box::new(callback));
        }
        Timeout {
            id,
            io_loop: Rc::downgrade(&self.inner),
        }
    }

    /// Cancels a timer: Tornado's `remove_timeout`. Harmless if it has fired or was cancelled
    /// already.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let timeout = io_loop.call_later(Duration::ZERO, || panic!("cancelled"));
    /// io_loop.remove_timeout(&timeout);
    /// io_loop.run_sync(|| async {});
    /// ```
    pub fn remove_timeout(&self, timeout: &Timeout) {
        let callback = self
            .inner
            .local
            .borrow_mut()
            .timer_callbacks
            .remove(&timeout.id);
        // Dropped here, after the borrow: its captures' drops may use the loop.
        drop(callback);
    }

    /// Sets what the loop does with the panic of a callback or background coroutine (the
    /// default prints a line to stderr, after Rust's panic hook has printed the message).
    ///
    /// The handler gets the panic payload: downcast it to `&str` or `String` for the message,
    /// or pass it to [`std::panic::resume_unwind`] to make such panics fatal (the loop's
    /// `start` or `run_sync` then panics with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let io_loop = IoLoop::new();
    /// let reports = Rc::new(RefCell::new(Vec::new()));
    /// let sink = reports.clone();
    /// io_loop.set_panic_handler(move |payload| {
    ///     let message = payload.downcast_ref::<&str>().copied().unwrap_or("?");
    ///     sink.borrow_mut().push(message.to_owned());
    /// });
    /// io_loop.add_callback(|| panic!("boom"));
    /// io_loop.run_sync(|| async {});
    /// assert_eq!(*reports.borrow(), ["boom"]);
    /// ```
    pub fn set_panic_handler<F>(&self, handler: F)
    where
        F: Fn(Box<dyn Any + Send>) + 'static,
    {
        *self.inner.panic_handler.borrow_mut() = Some(Rc::new(handler));
    }

    /// Drops every pending background task, callback and timer, and makes the loop drop
    /// whatever is added later: Tornado's `IOLoop.close`.
    ///
    /// Background coroutines that hold a handle of their own loop keep it alive (a reference
    /// cycle); closing the loop breaks such cycles.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// io_loop.spawn_callback(|| std::future::pending::<()>());
    /// io_loop.close();
    /// io_loop.add_callback(|| panic!("never runs"));
    /// io_loop.run_sync(|| async {});
    /// ```
    pub fn close(&self) {
        let (tasks, timers) = {
            let mut local = self.inner.local.borrow_mut();
            local.closed = true;
            local.timers.clear();
            (
                std::mem::take(&mut local.tasks),
                std::mem::take(&mut local.timer_callbacks),
            )
        };
        let runnables = {
            let mut queue = self.inner.shared.lock();
            queue.closed = true;
            std::mem::take(&mut queue.runnables)
        };
        // Dropped after the borrows: their drops may use the loop.
        drop((tasks, timers, runnables));
    }

    /// Queues `future` as a background task.
    fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        let mut local = self.inner.local.borrow_mut();
        if local.closed {
            drop(local);
            drop(future);
            return;
        }
        let id = local.next_task;
        local.next_task += 1;
        let wake = Arc::new(TaskWaker {
            id,
            scheduled: AtomicBool::new(true),
            shared: Arc::clone(&self.inner.shared),
        });
        let waker = Waker::from(Arc::clone(&wake));
        local.tasks.insert(
            id,
            Spawned {
                future: Box::pin(future),
                wake,
                waker,
            },
        );
        drop(local);
        self.inner.shared.push(Runnable::Task(id));
    }

    /// Reports the panic of a callback or background coroutine to the handler, or stderr.
    pub(crate) fn report_panic(&self, payload: Box<dyn Any + Send>) {
        let handler = self.inner.panic_handler.borrow().clone();
        if let Some(handler) = handler {
            handler(payload);
            return;
        }
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a non-string payload");
        eprintln!(
            "error: a callback or background coroutine on the `IoLoop` panicked: {message}; \
             the loop runs on"
        );
    }

    /// Marks the loop as running on this thread, and makes it [`IoLoop::current`].
    fn enter(&self) -> Entered<'_> {
        assert!(
            !self.inner.running.replace(true),
            "this `IoLoop` is already running; yield the coroutine instead of running the loop \
             again, or use another loop"
        );
        RUNNING.with(|running| running.borrow_mut().push(self.clone()));
        Entered { io_loop: self }
    }

    /// `run_sync` and `run_sync_timeout`.
    fn run_main<F, Fut>(
        &self,
        function: F,
        deadline: Option<Instant>,
    ) -> Result<Fut::Output, TimeoutError>
    where
        F: FnOnce() -> Fut,
        Fut: IntoFuture,
    {
        let _entered = self.enter();
        let future = function().into_future();
        let mut output = None;
        let exit = {
            let main = pin!(async {
                output = Some(future.await);
            });
            // On timeout or stop, `main` is dropped here, while the loop is still current.
            self.run(Some(main), deadline)
        };
        match exit {
            Exit::Finished => Ok(output.expect("the coroutine finished")),
            Exit::TimedOut => Err(TimeoutError(())),
            Exit::Stopped => {
                panic!("the loop was stopped before the coroutine passed to `run_sync` completed")
            }
        }
    }

    /// The loop itself: runs queued tasks and callbacks, fires due timers, and waits for more,
    /// until `main` finishes, `deadline` passes, or `stop` is called.
    fn run(
        &self,
        mut main: Option<Pin<&mut dyn Future<Output = ()>>>,
        deadline: Option<Instant>,
    ) -> Exit {
        let shared = &self.inner.shared;
        let main_wake = Arc::new(TaskWaker {
            id: MAIN_TASK,
            scheduled: AtomicBool::new(true),
            shared: Arc::clone(shared),
        });
        let main_waker = Waker::from(Arc::clone(&main_wake));
        if main.is_some() {
            shared.push(Runnable::Task(MAIN_TASK));
        }
        loop {
            // What is queued now runs in this iteration; what these queue runs in the next.
            let queued = shared.lock().runnables.len();
            for _ in 0..queued {
                let Some(runnable) = shared.lock().runnables.pop_front() else {
                    break;
                };
                match runnable {
                    Runnable::Task(MAIN_TASK) => {
                        let Some(main) = main.as_mut() else { continue };
                        main_wake.scheduled.store(false, Ordering::SeqCst);
                        // A panic here is `run_sync`'s to raise: no catch.
                        let poll = main.as_mut().poll(&mut Context::from_waker(&main_waker));
                        if poll.is_ready() {
                            return Exit::Finished;
                        }
                    }
                    Runnable::Task(id) => self.poll_task(id),
                    Runnable::Remote(callback) => self.guarded(callback),
                }
            }
            // Reading the clock costs as much as polling a small task: only when there are timers.
            if !self.inner.local.borrow().timers.is_empty() {
                let now = Instant::now();
                while let Some(callback) = self.due_timer(now) {
                    self.guarded(callback);
                }
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Exit::TimedOut;
            }
            let wake_at = match (self.next_timer(), deadline) {
                (Some(timer), Some(deadline)) => Some(timer.min(deadline)),
                (timer, deadline) => timer.or(deadline),
            };
            let mut queue = shared.lock();
            loop {
                if std::mem::take(&mut queue.stop) {
                    return Exit::Stopped;
                }
                if !queue.runnables.is_empty() {
                    break;
                }
                let timeout = match wake_at {
                    None => None,
                    Some(wake_at) => {
                        let now = Instant::now();
                        if now >= wake_at {
                            break;
                        }
                        Some(wake_at - now)
                    }
                };
                queue.idle = true;
                queue = match timeout {
                    None => shared
                        .wake
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner),
                    Some(timeout) => {
                        shared
                            .wake
                            .wait_timeout(queue, timeout)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                };
                queue.idle = false;
            }
        }
    }

    /// Polls the background task `id`, if it still exists; reports its panic.
    fn poll_task(&self, id: u64) {
        // Taken out while it runs: it may use the loop (spawn, add timers, close it).
        let Some(mut task) = self.inner.local.borrow_mut().tasks.remove(&id) else {
            return;
        };
        task.wake.scheduled.store(false, Ordering::SeqCst);
        let mut cx = Context::from_waker(&task.waker);
        match panic::catch_unwind(AssertUnwindSafe(|| task.future.as_mut().poll(&mut cx))) {
            Ok(Poll::Pending) => {
                let mut local = self.inner.local.borrow_mut();
                if !local.closed {
                    local.tasks.insert(id, task);
                    return;
                }
                drop(local);
                drop(task);
            }
            Ok(Poll::Ready(())) => drop(task),
            Err(payload) => {
                // The future's state is dropped too; a panic in that drop is reported as well.
                if let Err(second) = panic::catch_unwind(AssertUnwindSafe(|| drop(task))) {
                    self.report_panic(second);
                }
                self.report_panic(payload);
            }
        }
    }

    /// Runs `callback`, reporting its panic.
    fn guarded(&self, callback: impl FnOnce()) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(callback)) {
            self.report_panic(payload);
        }
    }

    /// The callback of the earliest timer due at `now`, taken out of the loop.
    fn due_timer(&self, now: Instant) -> Option<Box<dyn FnOnce()>> {
        let mut local = self.inner.local.borrow_mut();
        while let Some(&Reverse((when, id))) = local.timers.peek() {
            if when > now {
                return None;
            }
            local.timers.pop();
            if let Some(callback) = local.timer_callbacks.remove(&id) {
                return Some(callback);
            }
        }
        None
    }

    /// The deadline of the earliest timer not cancelled.
    fn next_timer(&self) -> Option<Instant> {
        let mut local = self.inner.local.borrow_mut();
        while let Some(&Reverse((when, id))) = local.timers.peek() {
            if local.timer_callbacks.contains_key(&id) {
                return Some(when);
            }
            local.timers.pop();
        }
        None
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Handles on other threads may outlive the loop: make their pushes no-ops, and drop
        // what they queued.
        let runnables = {
            let mut queue = self.shared.lock();
            queue.closed = true;
            std::mem::take(&mut queue.runnables)
        };
        drop(runnables);
    }
}

impl fmt::Debug for IoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.inner.local.try_borrow();
        let mut debug = f.debug_struct("IoLoop");
        debug.field("running", &self.inner.running.get());
        if let Ok(local) = local {
            debug
                .field("tasks", &local.tasks.len())
                .field("timers", &local.timer_callbacks.len())
                .field("closed", &local.closed);
        }
        debug.finish_non_exhaustive()
    }
}

/// A thread-safe handle of an [`IoLoop`]: adds callbacks to it and stops it from any thread.
///
/// This is how other threads talk to the loop (Tornado's `add_callback` is its only thread-safe
/// method). The callbacks run on the loop's thread, where [`IoLoop::current`] is the loop.
/// Everything sent after the loop is closed or dropped is dropped.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::IoLoop;
/// use std::cell::Cell;
///
/// let io_loop = IoLoop::new();
/// let handle = io_loop.handle();
/// let worker = std::thread::spawn(move || {
///     handle.add_callback(|| IoLoop::current().stop());
/// });
/// io_loop.start();
/// worker.join().unwrap();
/// ```
#[derive(Clone)]
pub struct IoLoopHandle {
    /// The loop's thread-safe state.
    shared: Arc<Shared>,
}

impl IoLoopHandle {
    /// Runs `callback` on the loop's thread, on its next iteration; callbacks run in the order
    /// they were added.
    ///
    /// # Panics
    ///
    /// A panic in the callback is reported on the loop (see [`IoLoop::set_panic_handler`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::sync::mpsc;
    ///
    /// let io_loop = IoLoop::new();
    /// let handle = io_loop.handle();
    /// let (sender, receiver) = mpsc::channel();
    /// std::thread::spawn(move || {
    ///     handle.add_callback(move || {
    ///         sender.send(std::thread::current().id()).unwrap();
    ///         IoLoop::current().stop();
    ///     });
    /// });
    /// io_loop.start();
    /// assert_eq!(receiver.recv().unwrap(), std::thread::current().id());
    /// ```
    pub fn add_callback<F>(&self, callback: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.push(Runnable::Remote(Box::new(callback)));
    }

    /// Runs the coroutine that `function` returns in the background on the loop, like
    /// [`IoLoop::spawn_callback`]. Only `function` crosses threads: the coroutine is made on the
    /// loop's thread and needs no `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::rc::Rc;
    ///
    /// let io_loop = IoLoop::new();
    /// let handle = io_loop.handle();
    /// std::thread::spawn(move || {
    ///     handle.spawn_callback(|| async {
    ///         let local = Rc::new(()); // fine: this runs on the loop's thread
    ///         drop(local);
    ///         IoLoop::current().stop();
    ///     });
    /// });
    /// io_loop.start();
    /// ```
    pub fn spawn_callback<F, Fut>(&self, function: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: IntoFuture<Output = ()> + 'static,
    {
        self.add_callback(move || IoLoop::current().spawn_callback(function));
    }

    /// Makes the loop return after its current iteration, like [`IoLoop::stop`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    ///
    /// let io_loop = IoLoop::new();
    /// let handle = io_loop.handle();
    /// std::thread::spawn(move || handle.stop());
    /// io_loop.start();
    /// ```
    pub fn stop(&self) {
        self.shared.stop();
    }
}

impl fmt::Debug for IoLoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoLoopHandle").finish_non_exhaustive()
    }
}

/// A timer of an [`IoLoop`], returned by [`IoLoop::call_later`] and [`IoLoop::call_at`].
///
/// Dropping it does not cancel the timer.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::IoLoop;
/// use std::time::Duration;
///
/// let io_loop = IoLoop::new();
/// let timeout = io_loop.call_later(Duration::from_millis(5), || panic!("cancelled"));
/// timeout.cancel();
/// io_loop.run_sync(|| async {});
/// ```
pub struct Timeout {
    /// The timer's id in its loop.
    id: u64,
    /// The loop; the timer is gone if the loop is.
    io_loop: Weak<Inner>,
}

impl Timeout {
    /// Cancels the timer, like [`IoLoop::remove_timeout`]. Harmless if it has fired or was
    /// cancelled already.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// let timeout = io_loop.call_later(Duration::ZERO, || {});
    /// io_loop.run_sync(|| async {});
    /// timeout.cancel(); // already fired: nothing happens
    /// ```
    pub fn cancel(&self) {
        if let Some(inner) = self.io_loop.upgrade() {
            IoLoop { inner }.remove_timeout(self);
        }
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("id", &self.id)
            .field("loop_alive", &(self.io_loop.strong_count() > 0))
            .finish()
    }
}
