//! [`IoLoop`]: Tornado's `IOLoop`, a single-threaded event loop over a tokio current-thread
//! runtime and a [`LocalSet`].
//!
//! The files follow the guide's chapters: this one is the loop (making, running, stopping and
//! closing it), [`callbacks`] what runs on it (callbacks, background coroutines, the thread-safe
//! [`IoLoopHandle`]), and [`timers`] what runs later ([`IoLoop::call_later`], [`Timeout`]).

mod callbacks;
mod timers;

pub use callbacks::IoLoopHandle;
pub use timers::Timeout;

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::task::AtomicWaker;
use tokio::runtime::Runtime;
use tokio::task::LocalSet;

use crate::{IntoYielded, TimeoutError, moment};

/// A single-threaded event loop: runs coroutines to completion, callbacks in FIFO order and
/// timers at their deadlines, on the thread that calls [`run_sync`](Self::run_sync) or
/// [`start`](Self::start). Tornado's `IOLoop`, and the embedded default for programs that bring no
/// executor of their own.
///
/// Underneath is a tokio current-thread runtime with its I/O and time drivers, and a tokio
/// [`LocalSet`] for the loop's tasks, as Tornado's `IOLoop` is a thin layer over asyncio's event
/// loop. So every future built on tokio works inside what the loop runs (`tokio::net`,
/// `tokio::time`, hyper, reqwest, axum's server, database drivers), and so do futures that other
/// threads wake (channels, [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) results, other timer
/// crates). The loop is single-threaded, so what it runs needs no `Send`: coroutines may hold
/// `Rc`s and `RefCell`s. Other threads reach the loop through its [`IoLoopHandle`] (as Tornado's
/// `add_callback` is its only thread-safe method).
///
/// `IoLoop` is a cheap handle (`Clone` shares the loop) and is neither `Send` nor `Sync`.
/// [`IoLoop::current`] is the loop running on this thread, or the thread's default loop.
///
/// # Inside a tokio runtime
///
/// Tokio runtimes do not nest, so a program that already runs one (`#[tokio::main]`,
/// `#[tokio::test]`) does not need the loop and cannot run it: coroutines are futures, so `.await`
/// them there, and run background coroutines with `tokio::spawn` (or `tokio::task::spawn_local`
/// in a `LocalSet` for those that are not `Send`). There, [`run_sync`](Self::run_sync),
/// [`start`](Self::start) and [`IoLoop::current`] panic with a message that says so, rather
/// than queue work on a loop that never runs. Likewise one `IoLoop` cannot run inside another.
///
/// # Panics in the background
///
/// A callback or background coroutine that panics does not take the loop down: the loop drops
/// it, reports the panic (to stderr, or to the handler set with
/// [`set_panic_handler`](Self::set_panic_handler)) and runs on. A panic in the coroutine given
/// to `run_sync` is different: it is raised again by `run_sync`, to its caller.
///
/// # Reference cycles
///
/// The loop owns what it has to run, so a callback, timer or background coroutine that holds a
/// clone of its own loop keeps the loop alive: dropping every other handle then frees nothing
/// (as an `Rc` cycle never is). Call [`IoLoop::current`] inside the callback instead of
/// capturing a clone, or cancel the timer, or [`close`](Self::close) the loop, which drops
/// everything it holds.
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
///
/// Tokio's own futures, here a TCP listener and a client on the loopback interface:
///
/// ```
/// use coroutine_runtime::*;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// #[coroutine_runtime::coroutine]
/// fn echo_once() -> std::io::Result<String> {
///     let listener = yield_!(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
///     let address = listener.local_addr()?;
///     IoLoop::current().spawn_callback(move || async move {
///         let (mut socket, _) = listener.accept().await.unwrap();
///         let mut buffer = [0; 5];
///         socket.read_exact(&mut buffer).await.unwrap();
///         socket.write_all(&buffer).await.unwrap();
///     });
///     let mut client = yield_!(tokio::net::TcpStream::connect(address))?;
///     yield_!(client.write_all(b"hello"))?;
///     let mut answer = String::new();
///     yield_!(client.read_to_string(&mut answer))?;
///     Ok(answer)
/// }
///
/// assert_eq!(IoLoop::new().run_sync(echo_once).unwrap(), "hello");
/// ```
#[derive(Clone)]
pub struct IoLoop {
    /// The loop's state, shared by the clones.
    inner: Rc<Inner>,
}

/// The state of a loop.
struct Inner {
    /// What other threads touch: the stop flag and the sending end of the callback channel.
    shared: Arc<Shared>,
    /// Callbacks sent by [`IoLoopHandle`]s; run by the loop's control future.
    remote: RefCell<UnboundedReceiver<RemoteCallback>>,
    /// The loop's tasks: background coroutines, callbacks and timers. Made on the first spawn,
    /// and dropped (with every task) by `close`. Shared with a run in progress, which keeps it
    /// alive until it returns. Declared before the runtime, so it is dropped first.
    tasks: RefCell<Option<Rc<LocalSet>>>,
    /// The tokio runtime, made on the first run (making one opens file descriptors).
    runtime: OnceCell<Runtime>,
    /// Set by `close`: everything added afterwards is dropped at once, and tasks still in a
    /// running [`LocalSet`] stop at their next poll. Shared by every task of the loop.
    closed: Rc<Cell<bool>>,
    /// The callbacks of the timers that have not fired nor been cancelled.
    timers: RefCell<HashMap<u64, timers::Timer>>,
    /// The id of the next timer.
    next_timer: Cell<u64>,
    /// Whether `run_sync` or `start` is running the loop; they do not nest.
    running: Cell<bool>,
    /// Where panics of callbacks and background coroutines are reported; `None` means stderr.
    panic_handler: RefCell<Option<Rc<PanicHandler>>>,
    /// A panic of the panic handler, to be raised by `run_sync` or `start`.
    fatal: RefCell<Option<Box<dyn Any + Send>>>,
}

/// The type of a loop's panic handler.
type PanicHandler = dyn Fn(Box<dyn Any + Send>);

/// A callback sent from another thread.
type RemoteCallback = Box<dyn FnOnce() + Send>;

/// The thread-safe part of a loop.
struct Shared {
    /// Where [`IoLoopHandle::add_callback`] sends; fails once the loop is closed or gone.
    sender: UnboundedSender<RemoteCallback>,
    /// Set by `stop`; cleared by the run that sees it.
    stop: AtomicBool,
    /// Set with every wake of [`Shared::waker`]: the control future has something to do (a
    /// callback sent, `stop`, a panic handler's panic). Otherwise it costs one load per poll.
    signalled: AtomicBool,
    /// Wakes the running loop's control future.
    waker: AtomicWaker,
}

impl Shared {
    /// Asks the running loop to return after its current iteration.
    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.signal();
    }

    /// Wakes the running loop's control future to look at the flags and the channel.
    fn signal(&self) {
        self.signalled.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

/// How a run of the loop ended.
enum Exit<T> {
    /// `run_sync`'s coroutine finished (`None` when its deadline passed first).
    Finished(T),
    /// `stop` was called.
    Stopped,
    /// The panic handler panicked: raise it.
    Fatal(Box<dyn Any + Send>),
}

thread_local! {
    /// The loop running on this thread.
    static RUNNING: RefCell<Option<IoLoop>> = const { RefCell::new(None) };
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
        // During thread teardown the slot may be gone already; then there is nothing to clear.
        let _ = RUNNING.try_with(|running| running.borrow_mut().take());
        self.io_loop.inner.running.set(false);
    }
}

impl Default for IoLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl IoLoop {
    /// A new loop, not running. Its tokio runtime is made when it first runs.
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
        let (sender, receiver) = unbounded();
        IoLoop {
            inner: Rc::new(Inner {
                shared: Arc::new(Shared {
                    sender,
                    stop: AtomicBool::new(false),
                    signalled: AtomicBool::new(false),
                    waker: AtomicWaker::new(),
                }),
                remote: RefCell::new(receiver),
                tasks: RefCell::new(None),
                runtime: OnceCell::new(),
                closed: Rc::new(Cell::new(false)),
                timers: RefCell::new(HashMap::new()),
                next_timer: Cell::new(0),
                running: Cell::new(false),
                panic_handler: RefCell::new(None),
                fatal: RefCell::new(None),
            }),
        }
    }

    /// The loop running on this thread (inside [`run_sync`](Self::run_sync) or
    /// [`start`](Self::start), and so inside every coroutine and callback it runs), or else this
    /// thread's default loop.
    ///
    /// While the thread is being torn down (in the drop of a thread-local value, such as a
    /// background coroutine of the default loop dropped after `main` returns), it is a closed
    /// loop that drops whatever is added to it.
    ///
    /// # Panics
    ///
    /// Inside a tokio runtime that is not an `IoLoop` (`#[tokio::main]`): the default loop could
    /// never run there (see [Inside a tokio runtime](IoLoop#inside-a-tokio-runtime)).
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
        match RUNNING.try_with(|running| running.borrow().clone()) {
            Ok(Some(running)) => running,
            Ok(None) => {
                assert!(
                    tokio::runtime::Handle::try_current().is_err(),
                    "`IoLoop::current()` was called inside a tokio runtime that is not an \
                     `IoLoop` (`#[tokio::main]`?), where the loop could never run; `.await` \
                     coroutines there, and run background ones with `tokio::spawn`"
                );
                DEFAULT
                    .try_with(IoLoop::clone)
                    .unwrap_or_else(|_| IoLoop::torn_down())
            }
            Err(_) => IoLoop::torn_down(),
        }
    }

    /// The loop `current` returns during thread teardown: closed, so what is added is dropped.
    fn torn_down() -> IoLoop {
        let io_loop = IoLoop::new();
        io_loop.inner.closed.set(true);
        io_loop.inner.remote.borrow_mut().close();
        io_loop
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
        IoLoopHandle::new(Arc::clone(&self.inner.shared))
    }

    /// Runs the loop until the coroutine that `function` returns completes, and returns its
    /// result: Tornado's `IOLoop.run_sync`, the way to call a coroutine from plain code.
    ///
    /// `function` is called inside the running loop, so [`IoLoop::current`] is this loop there
    /// and in everything the coroutine calls, and tokio's futures work from its first line on.
    /// Neither `function` nor the coroutine needs `Send` or `'static`: they may borrow the
    /// caller's locals and hold `Rc`s. Background tasks that are still pending when it returns
    /// stay on the loop and go on at its next run.
    ///
    /// # Panics
    ///
    /// A panic in the coroutine (or in `function`) is raised again here. Panics if the loop is
    /// already running (inside one of its own coroutines, for instance), if another loop or
    /// tokio runtime runs on this thread (runtimes do not nest), or if [`stop`](Self::stop) is
    /// called before the coroutine completes ("the loop was stopped before the coroutine
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
    /// callbacks already queued) and returns.
    ///
    /// # Panics
    ///
    /// If the loop is already running, or another loop or tokio runtime runs on this thread. A
    /// panic of the panic handler (see [`set_panic_handler`](Self::set_panic_handler)) is raised
    /// here.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::time::Duration;
    ///
    /// let io_loop = IoLoop::new();
    /// io_loop.call_later(Duration::from_millis(10), || IoLoop::current().stop());
    /// io_loop.start();
    /// ```
    pub fn start(&self) {
        let exit = self.run(|| async {
            // One trip through the tasks first, so a `stop` that came before `start` still lets
            // what is queued run once.
            moment.into_yielded().await;
            std::future::pending::<()>().await;
        });
        match exit {
            Exit::Fatal(payload) => panic::resume_unwind(payload),
            Exit::Stopped => {}
            Exit::Finished(()) => unreachable!("`start` runs until stopped"),
        }
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
    /// io_loop.add_callback(|| IoLoop::current().stop());
    /// io_loop.start();
    /// ```
    pub fn stop(&self) {
        self.inner.shared.stop();
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
    /// Called while the loop runs (from one of its callbacks), the tasks stop at their next
    /// poll and are dropped when the run returns. Background coroutines that hold a handle of
    /// their own loop keep it alive (a reference cycle); closing the loop breaks such cycles.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::IoLoop;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let io_loop = IoLoop::new();
    /// io_loop.spawn_callback(|| std::future::pending::<()>());
    /// io_loop.close();
    /// let ran = Rc::new(Cell::new(false));
    /// let flag = ran.clone();
    /// io_loop.add_callback(move || flag.set(true)); // dropped: the loop is closed
    /// io_loop.run_sync(|| async {});
    /// assert!(!ran.get());
    /// ```
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.remote.borrow_mut().close();
        let tasks = self.inner.tasks.borrow_mut().take();
        let timers = std::mem::take(&mut *self.inner.timers.borrow_mut());
        let mut remote = Vec::new();
        while let Ok(callback) = self.inner.remote.borrow_mut().try_recv() {
            remote.push(callback);
        }
        // Dropped after the borrows: their drops may use the loop.
        drop((tasks, timers, remote));
    }

    /// Reports the panic of a callback or background coroutine to the handler, or stderr. A
    /// panic of the handler is kept for `run_sync` or `start` to raise.
    pub(crate) fn report_panic(&self, payload: Box<dyn Any + Send>) {
        let handler = self.inner.panic_handler.borrow().clone();
        if let Some(handler) = handler {
            if let Err(fatal) = panic::catch_unwind(AssertUnwindSafe(|| handler(payload))) {
                self.inner.fatal.borrow_mut().get_or_insert(fatal);
                self.inner.shared.signal();
            }
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

    /// Runs `callback`, reporting its panic.
    fn guarded(&self, callback: impl FnOnce()) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(callback)) {
            self.report_panic(payload);
        }
    }

    /// Marks the loop as running on this thread, and makes it [`IoLoop::current`].
    fn enter(&self) -> Entered<'_> {
        assert!(
            !self.inner.running.get(),
            "this `IoLoop` is already running; yield the coroutine instead of running the loop \
             again, or use another loop"
        );
        let other_loop = RUNNING.with(|running| running.borrow().is_some());
        assert!(
            !other_loop && tokio::runtime::Handle::try_current().is_err(),
            "an `IoLoop` cannot run inside another `IoLoop` or a tokio runtime (`#[tokio::main]`?) \
             on the same thread: tokio runtimes do not nest; `.await` the coroutine there instead"
        );
        self.inner.running.set(true);
        RUNNING.with(|running| *running.borrow_mut() = Some(self.clone()));
        Entered { io_loop: self }
    }

    /// The tokio runtime, made on first use.
    fn runtime(&self) -> &Runtime {
        self.inner.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the `IoLoop` could not make its tokio runtime")
        })
    }

    /// The set of the loop's tasks, made on first use.
    fn tasks(&self) -> Rc<LocalSet> {
        Rc::clone(
            self.inner
                .tasks
                .borrow_mut()
                .get_or_insert_with(|| Rc::new(LocalSet::new())),
        )
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
        let exit = self.run(|| async {
            // As Tornado's `run_sync` adds its function as a callback: what is queued already
            // runs first.
            moment.into_yielded().await;
            let main = function().into_future();
            match deadline {
                None => Some(main.await),
                Some(deadline) => tokio::time::timeout_at(deadline.into(), main).await.ok(),
            }
        });
        match exit {
            Exit::Finished(Some(output)) => Ok(output),
            Exit::Finished(None) => Err(TimeoutError(())),
            Exit::Fatal(payload) => panic::resume_unwind(payload),
            Exit::Stopped => {
                panic!("the loop was stopped before the coroutine passed to `run_sync` completed")
            }
        }
    }

    /// The loop itself: runs the future that `main` makes, the loop's tasks and the callbacks
    /// of other threads on the tokio runtime, until that future finishes or `stop` is called.
    /// The future is made and dropped inside the run, where the loop is current.
    fn run<T, Fut: Future<Output = T>>(&self, main: impl FnOnce() -> Fut) -> Exit<T> {
        let _entered = self.enter();
        let tasks = self.tasks();
        // A `stop` or a callback that came before the run is seen on its first poll.
        self.inner.shared.signalled.store(true, Ordering::SeqCst);
        tasks.block_on(self.runtime(), async {
            let mut main = pin!(main());
            poll_fn(|cx| {
                if let Poll::Ready(output) = main.as_mut().poll(cx) {
                    return Poll::Ready(Exit::Finished(output));
                }
                self.poll_control(cx)
            })
            .await
        })
    }

    /// Runs the callbacks other threads sent; ready when the loop must return (stopped, or the
    /// panic handler panicked).
    fn poll_control<T>(&self, cx: &mut Context<'_>) -> Poll<Exit<T>> {
        /// Callbacks run per poll, so that a flood from other threads cannot starve the tasks.
        const BATCH: usize = 128;
        let shared = &self.inner.shared;
        if !shared.signalled.load(Ordering::SeqCst) {
            // The waker registered on the last signal is still there: nothing took it since.
            return Poll::Pending;
        }
        // Registered before the flag is cleared, so a signal in between is not lost.
        shared.waker.register(cx.waker());
        let mut budget = BATCH;
        while shared.signalled.swap(false, Ordering::SeqCst) {
            loop {
                if let Some(payload) = self.inner.fatal.borrow_mut().take() {
                    return Poll::Ready(Exit::Fatal(payload));
                }
                if shared.stop.swap(false, Ordering::SeqCst) {
                    return Poll::Ready(Exit::Stopped);
                }
                if budget == 0 {
                    // More next time, after the tasks have had their turn.
                    shared.signalled.store(true, Ordering::SeqCst);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                budget -= 1;
                let next = self.inner.remote.borrow_mut().poll_next_unpin(cx);
                match next {
                    Poll::Ready(Some(callback)) => self.guarded(callback),
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
        }
        Poll::Pending
    }
}

impl fmt::Debug for IoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("IoLoop");
        debug.field("running", &self.inner.running.get());
        if let Ok(timers) = self.inner.timers.try_borrow() {
            debug.field("timers", &timers.len());
        }
        debug
            .field("closed", &self.inner.closed.get())
            .finish_non_exhaustive()
    }
}
