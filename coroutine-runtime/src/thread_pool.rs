//! [`ThreadPoolExecutor`]: runs blocking functions on a bounded set of threads, and hands back a
//! future of each result ([`Submitted`]).

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread::{self, JoinHandle};

use futures::channel::oneshot;
use futures::future::FusedFuture;

/// The name of every worker thread is this prefix, the pool's number and the worker's number:
/// `coroutine-pool-3-1`.
const THREAD_NAME_PREFIX: &str = "coroutine-pool";

thread_local! {
    /// The number of the pool whose worker this thread is; 0 on any other thread.
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

/// Numbers the pools, so that their threads' names tell them apart.
static NEXT_POOL_ID: AtomicUsize = AtomicUsize::new(1);

/// A job as the workers see it: runs the user's function and sends its result (or panic).
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Runs blocking functions on at most `n` threads, and returns a future of each result: the
/// `concurrent.futures.ThreadPoolExecutor` that Tornado's guide uses to call blocking functions.
///
/// [`submit`](Self::submit) queues a function and returns a [`Submitted`] future; a coroutine
/// yields it and resumes with the function's result, while the loop (or executor) runs other
/// coroutines. At most `n` functions run at once; the others wait in the queue, in submission
/// order. Threads are started on demand, up to `n`, and each is named
/// `coroutine-pool-<pool>-<worker>`.
///
/// The executor is a cheap handle: clones share the same pool, so a struct can hold one (which is
/// what [`#[run_on_executor]`](crate::run_on_executor) expects). It is `Send` and `Sync`.
///
/// # Panics
///
/// A panic in a submitted function is caught on the worker thread (which goes on serving the
/// queue) and raised again where its [`Submitted`] future is polled, as Tornado re-raises the
/// function's exception at the `yield`. Rust's panic hook still prints the message when the
/// panic happens, on the worker thread.
///
/// # Shutdown
///
/// When the last clone is dropped, the queued functions still run: the drop waits for the queue
/// to drain and joins the worker threads. A drop that happens on one of the pool's own threads
/// (a job that held the last clone) does not wait for that thread, so it cannot deadlock; that
/// thread finishes its job, helps drain the queue, and exits on its own. A function that never
/// returns makes the drop wait forever.
///
/// # Deadlocks
///
/// A job that blocks until another job of its own pool finishes waits forever if every worker is
/// busy with such jobs: the other job stays queued behind them, as in Python. With a pool of one
/// thread this is certain, and it is caught: polling a [`Submitted`] future of a one-thread pool
/// from that pool's own worker, while the job is not done, panics with a message saying so,
/// instead of hanging. (A job that polls such a future without blocking on it gets the same
/// panic.) Larger pools are not checked; give them more workers than jobs that wait on the pool.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// fn blocking_func(n: u64) -> u64 {
///     std::thread::sleep(std::time::Duration::from_millis(10));
///     n * 2
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn call_blocking(pool: &ThreadPoolExecutor) -> u64 {
///     yield_!(pool.submit(move || blocking_func(21)))
/// }
///
/// let thread_pool = ThreadPoolExecutor::new(4);
/// assert_eq!(futures::executor::block_on(call_blocking(&thread_pool)), 42);
/// ```
#[derive(Clone)]
pub struct ThreadPoolExecutor {
    /// The pool; shut down when the last clone goes.
    owner: Arc<Owner>,
}

/// The user-facing side of a pool: its drop shuts the pool down.
struct Owner {
    /// What the workers share with the submitters.
    shared: Arc<Shared>,
}

/// The state the workers and the submitters share.
struct Shared {
    /// The queue and the bookkeeping; see [`State`].
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool shuts down; idle workers wait on it.
    work: Condvar,
    /// The most threads this pool starts. Invariant: at least 1.
    max_workers: usize,
    /// This pool's number, for the threads' names.
    id: usize,
}

/// The mutable part of [`Shared`], under its mutex.
struct State {
    /// Jobs not yet taken by a worker, oldest first.
    queue: VecDeque<Job>,
    /// Worker threads started and not yet exited. Invariant: `threads <= max_workers`, and it is
    /// incremented before a thread is started, so concurrent submitters never start too many.
    threads: usize,
    /// Workers waiting on [`Shared::work`]. Invariant: `idle <= threads`; a worker counts itself
    /// in before it waits and out when it wakes, so a spurious wake-up cannot skew it.
    idle: usize,
    /// How many threads were ever started, to number the next one.
    started: usize,
    /// Set once, when the last [`ThreadPoolExecutor`] is dropped: workers exit when the queue is
    /// empty.
    shutdown: bool,
    /// The join handles of the started threads, for the shutdown.
    handles: Vec<JoinHandle<()>>,
}

impl Shared {
    /// Locks the state, also after a panic elsewhere poisoned the mutex: no code panics while
    /// holding it, and its invariants hold between statements.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What a worker thread runs: take jobs until the pool shuts down with an empty queue.
    fn work(self: &Arc<Self>) {
        WORKER_OF.set(self.id);
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // Each job catches its own panic (see `submit`); this is a second net, so that
                // nothing can kill the worker and leave the queue unserved.
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
                state = self.lock();
            } else if state.shutdown {
                state.threads -= 1;
                return;
            } else {
                state.idle += 1;
                state = self
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.idle -= 1;
            }
        }
    }
}

impl ThreadPoolExecutor {
    /// A pool that runs at most `max_workers` functions at once.
    ///
    /// No thread is started until a function is submitted.
    ///
    /// # Panics
    ///
    /// If `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::ThreadPoolExecutor;
    ///
    /// let thread_pool = ThreadPoolExecutor::new(4);
    /// assert_eq!(thread_pool.max_workers(), 4);
    /// ```
    #[must_use]
    pub fn new(max_workers: usize) -> Self {
        assert!(
            max_workers > 0,
            "a `ThreadPoolExecutor` needs at least one worker; `max_workers` was 0"
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                started: 0,
                shutdown: false,
                handles: Vec::new(),
            }),
            work: Condvar::new(),
            max_workers,
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
        });
        ThreadPoolExecutor {
            owner: Arc::new(Owner { shared }),
        }
    }

    /// The most functions this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::ThreadPoolExecutor;
    ///
    /// assert_eq!(ThreadPoolExecutor::new(2).max_workers(), 2);
    /// ```
    #[must_use]
    pub fn max_workers(&self) -> usize {
        self.owner.shared.max_workers
    }

    /// Queues `function` to run on one of the pool's threads, and returns the future of its
    /// result.
    ///
    /// The function starts as soon as a worker is free, whether or not the future is polled.
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to start the pool's first thread. A panic in
    /// `function` is raised where the returned future is polled, not here.
    ///
    /// # Cancellation
    ///
    /// Dropping the returned future before a worker takes the job skips the function: the worker
    /// sees that nobody waits for the result and drops the job unrun. Once started, the function
    /// runs to its end and its result is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::ThreadPoolExecutor;
    ///
    /// let thread_pool = ThreadPoolExecutor::new(1);
    /// let length = thread_pool.submit(|| "blocking".len());
    /// assert_eq!(futures::executor::block_on(length), 8);
    /// ```
    pub fn submit<F, T>(&self, function: F) -> Submitted<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let job: Job = Box::new(move || {
            if sender.is_canceled() {
                // The `Submitted` future was dropped before the job started.
                return;
            }
            let result = panic::catch_unwind(AssertUnwindSafe(function));
            // The future may have been dropped meanwhile: then nobody wants the result.
            let _ = sender.send(result);
        });
        let shared = &self.owner.shared;
        shared.enqueue(job);
        Submitted {
            receiver: Some(receiver),
            sole_worker_of: if shared.max_workers == 1 {
                shared.id
            } else {
                0
            },
        }
    }
}

impl Shared {
    /// Queues `job` and wakes an idle worker, or starts a thread if none is idle and the pool may
    /// grow.
    fn enqueue(self: &Arc<Self>, job: Job) {
        let mut state = self.lock();
        state.queue.push_back(job);
        // Idle workers take the queued jobs one each; start a thread only for the excess.
        if state.queue.len() <= state.idle || state.threads >= self.max_workers {
            drop(state);
            self.work.notify_one();
            return;
        }
        state.threads += 1;
        state.started += 1;
        let name = format!("{THREAD_NAME_PREFIX}-{}-{}", self.id, state.started);
        drop(state);
        let shared = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name(name)
            .spawn(move || shared.work());
        let mut state = self.lock();
        match spawned {
            Ok(handle) => state.handles.push(handle),
            Err(error) => {
                state.threads -= 1;
                // Running threads will drain the queue; with none, the job would wait forever.
                if state.threads == 0 {
                    state.queue.pop_back();
                    drop(state);
                    panic!("cannot start a `ThreadPoolExecutor` thread: {error}");
                }
            }
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let handles = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            std::mem::take(&mut state.handles)
        };
        self.shared.work.notify_all();
        let me = thread::current().id();
        for handle in handles {
            // Dropped from inside one of our own jobs: joining this thread would wait forever.
            if handle.thread().id() != me {
                // A worker never panics (jobs are caught), so the join cannot fail.
                let _ = handle.join();
            }
        }
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.owner.shared.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.owner.shared.max_workers)
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}

/// Future for [`ThreadPoolExecutor::submit`].
///
/// # Panics
///
/// Polling it raises again a panic of the submitted function.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::{Submitted, ThreadPoolExecutor};
///
/// let thread_pool = ThreadPoolExecutor::new(1);
/// let sum: Submitted<u32> = thread_pool.submit(|| 1 + 1);
/// assert_eq!(futures::executor::block_on(sum), 2);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Submitted<T> {
    /// Where the worker sends the result; `None` once it has been handed out.
    receiver: Option<oneshot::Receiver<thread::Result<T>>>,
    /// The number of its pool if that pool has one thread, else 0: waiting on it from that
    /// thread is a certain deadlock.
    sole_worker_of: usize,
}

impl<T> Future for Submitted<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let receiver = self
            .receiver
            .as_mut()
            .expect("`Submitted` polled after completion");
        let poll = Pin::new(receiver).poll(cx);
        if poll.is_pending() {
            // The job is queued behind the one running on this thread, the pool's only worker.
            assert!(
                self.sole_worker_of == 0 || WORKER_OF.get() != self.sole_worker_of,
                "a job of a one-thread `ThreadPoolExecutor` waits on another job of the same \
                 pool, which cannot start before it returns: a deadlock; give the pool more \
                 workers, or call the function directly"
            );
            #[cfg(feature = "introspect")]
            crate::introspect::waits_on(crate::introspect::WaitsOn::PoolJob);
        }
        let result = std::task::ready!(poll);
        self.receiver = None;
        match result {
            Ok(Ok(value)) => Poll::Ready(value),
            Ok(Err(payload)) => panic::resume_unwind(payload),
            // Only a failure to start any thread drops a queued job unrun (see `enqueue`).
            Err(oneshot::Canceled) => {
                panic!("the `ThreadPoolExecutor` dropped the job without running it")
            }
        }
    }
}

impl<T> FusedFuture for Submitted<T> {
    fn is_terminated(&self) -> bool {
        self.receiver.is_none()
    }
}

impl<T> fmt::Debug for Submitted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submitted")
            .field("finished", &self.receiver.is_none())
            .finish_non_exhaustive()
    }
}
