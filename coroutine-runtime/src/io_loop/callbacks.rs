//! What runs on the loop: callbacks, background coroutines, callbacks on futures, and the
//! thread-safe [`IoLoopHandle`].

use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::JoinHandle;

use super::{IoLoop, Shared};

impl IoLoop {
    /// Runs `callback` on the next iteration of the loop: Tornado's `add_callback`. Callbacks
    /// run in the order they were added.
    ///
    /// To run a coroutine, use [`spawn_callback`](Self::spawn_callback). From other threads, use
    /// [`IoLoopHandle::add_callback`]. A callback that needs the loop should call
    /// [`IoLoop::current`] rather than capture a clone (see
    /// [Reference cycles](IoLoop#reference-cycles)).
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
    /// The coroutine is dropped if the loop is closed or dropped before it completes. A
    /// coroutine that holds a clone of its own loop keeps the loop alive until it completes
    /// (see [Reference cycles](IoLoop#reference-cycles)).
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
    /// io_loop.add_future(pool.submit(|| ()), |()| IoLoop::current().stop());
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

    /// Queues `future` as a task of the loop (dropping it if the loop is closed). Its panics are
    /// reported, and it stops at its next poll once the loop is closed.
    pub(super) fn spawn(
        &self,
        future: impl Future<Output = ()> + 'static,
    ) -> Option<JoinHandle<()>> {
        if self.inner.closed.get() {
            drop(future);
            return None;
        }
        let task = Guarded {
            closed: Rc::clone(&self.inner.closed),
            future: Some(future),
        };
        Some(self.tasks().spawn_local(task))
    }
}

pin_project! {
    /// A task of the loop: reports its panic (and a panic in the drop that follows), and ends
    /// early once its loop is closed.
    struct Guarded<F> {
        // The loop's `closed` flag.
        closed: Rc<Cell<bool>>,
        // The task's future; `None` once it has finished.
        #[pin]
        future: Option<F>,
    }
}

impl<F: Future<Output = ()>> Future for Guarded<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if this.closed.get() {
            this.future.set(None);
            return Poll::Ready(());
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => {
                this.future.set(None);
                Poll::Ready(())
            }
            Err(payload) => {
                // The future's state is dropped now; a panic in that drop is reported as well.
                let io_loop = IoLoop::current();
                if let Err(second) = panic::catch_unwind(AssertUnwindSafe(|| this.future.set(None)))
                {
                    io_loop.report_panic(second);
                }
                io_loop.report_panic(payload);
                Poll::Ready(())
            }
        }
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
    /// The handle of the loop whose shared state this is.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        IoLoopHandle { shared }
    }

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
        // Fails once the loop is closed or gone: the callback is dropped with the error.
        if self
            .shared
            .sender
            .unbounded_send(Box::new(callback))
            .is_ok()
        {
            self.shared.signal();
        }
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
