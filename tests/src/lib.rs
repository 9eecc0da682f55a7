//! Shared helpers of the integration tests.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use futures::future::{self, Either};

/// How long a test may wait for something that should happen at once before it is declared
/// hung: long enough for a loaded CI machine, short enough to fail well inside CI's limit.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Counts how many values were dropped; hand out [`DropCounter::token`]s and read
/// [`DropCounter::dropped`].
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A new counter at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A value that increments the counter when dropped.
    #[must_use]
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    /// How many tokens were dropped so far.
    #[must_use]
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its [`DropCounter`] when dropped.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts the futures that have started (been polled) and not yet finished, and the most that
/// were ever in flight at once: `most() == n` shows `n` futures waited together, `1` that they
/// waited one after another.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    /// `(now, most)`.
    counts: Arc<std::sync::Mutex<(usize, usize)>>,
}

impl InFlight {
    /// Wraps `future` lazily: it counts as in flight from its first poll until it finishes.
    pub fn track<F: Future>(&self, future: F) -> impl Future<Output = F::Output> + use<F> {
        let counts = self.counts.clone();
        async move {
            {
                let mut counts = counts.lock().expect("no panic while counting");
                counts.0 += 1;
                counts.1 = counts.1.max(counts.0);
            }
            let output = future.await;
            counts.lock().expect("no panic while counting").0 -= 1;
            output
        }
    }

    /// The most futures that were in flight at once.
    #[must_use]
    pub fn most(&self) -> usize {
        self.counts.lock().expect("no panic while counting").1
    }
}

/// A small deterministic random number generator (xorshift64), so that the shuffled orders of
/// the tests are the same on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is replaced by a fixed non-zero one).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x2545_f491_4f6c_dd1d
        } else {
            seed
        })
    }

    /// A number below `bound` (which must not be 0).
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % bound as u64).expect("below a usize bound")
    }

    /// `0..n` in a shuffled order.
    pub fn shuffled(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, self.below(i + 1));
        }
        order
    }
}

/// The size of a soak test: `full` when the environment sets `SOAK_FULL=1`, else `full` divided
/// by `SOAK_DIVISOR` (default 50, so CI can afford it; `bench/valgrind.sh` sets more), but never
/// below `least`.
#[must_use]
pub fn soak_size(full: usize, least: usize) -> usize {
    if std::env::var_os("SOAK_FULL").is_some_and(|value| value == "1") {
        return full;
    }
    let divisor = std::env::var("SOAK_DIVISOR")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&divisor| divisor > 0)
        .unwrap_or(50);
    (full / divisor).max(least)
}

/// A future that never completes and counts its drop.
#[derive(Debug)]
pub struct Forever(pub DropToken);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// A future that completes with `value` after `delay`, on a helper thread (so it works on any
/// executor).
pub fn after<T: Send + 'static>(delay: Duration, value: T) -> impl Future<Output = T> + Send {
    let (sender, receiver) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = sender.send(value);
    });
    async move { receiver.await.expect("timer thread gone") }
}

/// [`after`] in milliseconds: completes with `value` after `millis` ms, on a helper thread.
pub fn later<T: Send + 'static>(millis: u64, value: T) -> impl Future<Output = T> + Send {
    after(Duration::from_millis(millis), value)
}

/// Runs `test` on futures' executor, then again on a tokio current-thread runtime (timers
/// enabled), so that one test covers both. Each run fails if it takes longer than [`LIMIT`],
/// naming the caller.
#[track_caller]
pub fn on_both<F: Future<Output = ()>>(test: impl Fn() -> F) {
    let caller = Location::caller();
    futures::executor::block_on(deadline(
        LIMIT,
        &format!("the test future of `on_both` at {caller}, on futures' executor"),
        test(),
    ));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(deadline(
            LIMIT,
            &format!("the test future of `on_both` at {caller}, on tokio"),
            test(),
        ));
}

/// Waits for `future`, but panics if it has not finished after `limit`, with a message naming
/// `what` was awaited: a lost wake-up then fails the test instead of hanging it.
///
/// The deadline is a timer on its own thread, so it works on any executor, and a future that
/// never wakes its task still loses the race.
pub async fn deadline<F: Future>(limit: Duration, what: &str, future: F) -> F::Output {
    let timer = futures_timer::Delay::new(limit);
    match future::select(pin!(future), timer).await {
        Either::Left((output, _)) => output,
        Either::Right(((), _)) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// `futures::executor::block_on(future)` with a deadline of [`LIMIT`]: panics naming the caller
/// and `what` if the future has not finished by then.
#[track_caller]
pub fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    let what = format!("{what} (at {})", Location::caller());
    futures::executor::block_on(deadline(LIMIT, &what, future))
}

/// Runs `body` on a thread of its own and gives its result, or panics naming `what` if it has
/// not returned after `limit` (the hung thread is left behind). A panic in `body` is raised
/// again here.
///
/// For blocking code that no future deadline can interrupt: a pool job that never runs, a
/// `run_sync` that never returns.
#[track_caller]
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let caller = Location::caller();
    let (sender, receiver) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(format!("within {caller}"))
        .spawn(move || {
            let _ = sender.send(body());
        })
        .expect("a thread for the body");
    match receiver.recv_timeout(limit) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => {
            panic!("timed out after {limit:?} waiting for {what} (at {caller})")
        }
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body returned without sending its value"),
        },
    }
}

/// The message a panic payload carries (a `&str` or a `String`), or `""` for any other payload.
///
/// Pass the payload itself, `&*payload` for a `Box<dyn Any + Send>`: a `&Box` would coerce to
/// `&dyn Any` as the box, and never downcast.
#[must_use]
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `function`, which must panic, and gives the message of its panic.
///
/// # Panics
///
/// If `function` returns instead of panicking.
#[track_caller]
pub fn panic_message_of<T>(function: impl FnOnce() -> T) -> String {
    match panic::catch_unwind(AssertUnwindSafe(function)) {
        Ok(_) => panic!("expected a panic, but the function returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Checks at compile time that `value` is `Send` and `Sync`, and gives it back.
pub fn assert_send_sync<T: Send + Sync>(value: T) -> T {
    value
}

/// Checks at compile time that `value` is `Send`, and gives it back.
pub fn assert_send<T: Send>(value: T) -> T {
    value
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}
