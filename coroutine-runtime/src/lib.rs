//! Tornado's generator-based coroutines, in stable Rust.
//!
//! Put `#[coroutine_runtime::coroutine]` on a fn, wait inside it with `yield_!(future)`, and the
//! yield evaluates to the future's result, as `yield` does under Tornado's `@gen.coroutine`:
//!
//! ```
//! use coroutine_runtime::*;
//! # struct Response { body: Vec<u8> }
//! # struct HttpClient;
//! # impl HttpClient {
//! #     async fn fetch(&self, _url: &str) -> Result<Response, std::io::Error> {
//! #         Ok(Response { body: b"hello".to_vec() })
//! #     }
//! # }
//!
//! #[coroutine_runtime::coroutine]
//! fn fetch_coroutine(client: &HttpClient, url: &str) -> Result<Vec<u8>, std::io::Error> {
//!     let response = yield_!(client.fetch(url))?;
//!     Ok(response.body)
//! }
//!
//! let body = futures::executor::block_on(fetch_coroutine(&HttpClient, "http://example.com"));
//! assert_eq!(body.unwrap(), b"hello");
//! ```
//!
//! # Writing a coroutine
//!
//! * The attribute is written with its path, `#[coroutine_runtime::coroutine]` (or through an
//!   alias: `use coroutine_runtime as co;` then `#[co::coroutine]`). A bare `#[coroutine]` names
//!   rustc's built-in `#[coroutine]` attribute and does not compile, even after
//!   `use coroutine_runtime::*;`; rustc's suggested `#[crate::coroutine]`, the path of a
//!   crate-root import, works too.
//! * `yield_!(value)` may stand anywhere an expression may in the coroutine's own body: in a
//!   `let`, a `match` scrutinee, a `while` or `if` condition, a loop, nested in other expressions
//!   or macros, followed by `?`. It may not stand in a closure, an `async` block or a nested fn
//!   inside the body (the yield would not belong to the coroutine): that is a compile error.
//!   `yield_!` is an ordinary macro: bring it into scope with `use coroutine_runtime::*;` or
//!   `use coroutine_runtime::yield_;` (or call it by its path).
//! * Tornado's bare `yield expr` works too: in the fns of a [`coroutines! { … }`](coroutines!)
//!   block on stable Rust, and in any `#[coroutine]` fn of a crate that enables the nightly
//!   `coroutines` feature (without it, rustc rejects `yield` before any macro sees it).
//! * What can be yielded: any future (or `IntoFuture`), [`moment`], the types that implement
//!   [`IntoYielded`], and `Vec`s, arrays, maps and tuples of these, waited on in parallel (see
//!   [below](#parallel-yields)); see [`Yieldable`].
//! * `return v`, a tail `v`, `return Return(v)` and a tail `Return(v)` all make `v` the result.
//!   The declared return type is the result type: the fn returns
//!   `Runner<impl Future<Output = T>>` (with `lazy`, `impl Future<Output = T>`).
//! * It works on free fns, methods taking `&self`, `&mut self` or `self`, generic fns (type and
//!   lifetime parameters, where-clauses, `impl Trait` arguments), fns with pattern arguments, at
//!   any visibility; doc comments and attributes are kept. It also works on a trait's default
//!   methods and on the methods of a trait's impls (see [below](#coroutines-in-traits)).
//! * A coroutine may call itself recursively, without boxing.
//! * `#[coroutine(crate = path)]` names the runtime when it is re-exported under another path.
//!
//! # What a call does
//!
//! Calling a coroutine **starts it**: the body runs up to its first suspension before the call
//! returns, as Tornado's decorator does, and a body that never suspends has finished when the
//! call returns. The call returns a [`Runner`], which implements `Future<Output = T>`: `.await`
//! it from async code, yield it from another coroutine, drive it with
//! `futures::executor::block_on`, or spawn it on tokio when it is `Send` (it is `Send`, and
//! `Sync`, when the body's state is, as with `async fn`).
//!
//! ```
//! use coroutine_runtime::*;
//! use std::cell::Cell;
//!
//! #[coroutine_runtime::coroutine]
//! fn count(calls: &Cell<u32>) {
//!     calls.set(calls.get() + 1);
//!     yield_!(moment);
//!     calls.set(calls.get() + 1);
//! }
//!
//! let calls = Cell::new(0);
//! let running = count(&calls);
//! assert_eq!(calls.get(), 1); // started by the call, suspended at its first yield
//! futures::executor::block_on(running);
//! assert_eq!(calls.get(), 2);
//! ```
//!
//! `#[coroutine(lazy)]` returns the body's future itself instead: nothing runs until the first
//! poll and nothing is allocated, exactly like an `async fn`. Use it on hot paths; a lazy
//! coroutine that recurses must box the recursive call (`Box::pin(me(n - 1))`).
//!
//! **One difference from Tornado:** a coroutine that is called and then dropped without being
//! awaited is cancelled at its first suspension, as every Rust future is on drop; the returned
//! [`Runner`] is `#[must_use]` to catch that. To run one to completion in the background, hand
//! it to your executor's spawn (or the loop's `spawn_callback`).
//!
//! A panic in the body reaches whoever awaits the coroutine, even a panic raised before the first
//! suspension: the call itself returns normally and the await raises it again, as Tornado stores
//! the exception in the returned Future.
//!
//! # Parallel yields
//!
//! Yield a collection and the coroutine waits for all of its elements at once, as Tornado's
//! Runner does for a list or a dict of futures. Every element runs concurrently:
//!
//! ```
//! use coroutine_runtime::*;
//! use std::collections::HashMap;
//! use std::time::Duration;
//!
//! #[coroutine_runtime::coroutine]
//! fn fetch(url: &'static str) -> usize {
//!     yield_!(sleep(Duration::from_millis(50)));
//!     url.len()
//! }
//!
//! #[coroutine_runtime::coroutine]
//! fn crawl(urls: Vec<&'static str>) -> (Vec<usize>, HashMap<&'static str, usize>, (usize, u8)) {
//!     // `responses = yield [fetch(url) for url in urls]`: 50 ms for all of them, not 50 ms each.
//!     let lengths = yield_!(urls.iter().map(|&url| fetch(url)).collect::<Vec<_>>());
//!     // `yield {url: fetch(url) for url in urls}`
//!     let by_url = yield_!(urls.iter().map(|&url| (url, fetch(url))).collect::<HashMap<_, _>>());
//!     // `a, b = yield [future_a, future_b]`, with futures of different types.
//!     let pair = yield_!((fetch("four"), async { 5_u8 }));
//!     (lengths, by_url, pair)
//! }
//!
//! let (lengths, by_url, pair) = futures::executor::block_on(crawl(vec!["a", "bb", "ccc"]));
//! assert_eq!(lengths, [1, 2, 3]);
//! assert_eq!(by_url["bb"], 2);
//! assert_eq!(pair, (4, 5));
//! ```
//!
//! | yield                                          | evaluates to                       |
//! |------------------------------------------------|------------------------------------|
//! | `Vec<Y>`                                       | `Vec<T>`, in input order            |
//! | `[Y; N]`                                       | `[T; N]`                            |
//! | `HashMap<Key, Y, S>`, `BTreeMap<Key, Y>`       | a map of the same kind, same keys  |
//! | `(Y1, Y2, …)`, 1 to 12 elements of any types   | `(T1, T2, …)`                      |
//!
//! where each `Y` is anything yieldable (a future, [`moment`], an [`IntoYielded`] type, or
//! another collection: `Vec<Vec<F>>` and maps of tuples work) and `T` its output. An empty
//! collection resolves at once. Each element is dropped as soon as it finishes; dropping the
//! coroutine drops the elements still running.
//!
//! Each time the collection is polled, the elements that may have progressed are polled in input
//! order, so coroutines in a collection take turns exactly as in Tornado: two coroutines that
//! each yield [`moment`] between steps interleave (`ababab…`), while coroutines that yield
//! completed futures run to their end one after the other. `yield_!(vec![moment, moment])`
//! suspends once: both moments end on the same trip through the executor, as Tornado's
//! `multi([moment, moment])` does. Waiting costs time linear in the number of elements: a wake-up
//! polls only the elements that were woken.
//!
//! The rest of `tornado.gen`: [`multi`] (the same as yielding the collection, as a function),
//! [`try_multi`] (fails fast on the first error in time, unlike Tornado's `multi`),
//! [`WaitIterator`] (results in the order they finish, also a `Stream`), [`with_timeout`],
//! [`sleep`] and [`moment`]. Their timers run on a thread of their own (the `futures-timer`
//! crate), so they work on any executor: futures', tokio, smol.
//!
//! # Callbacks and blocking functions
//!
//! Code that is not coroutine-shaped still yields (the guide's "Interaction with callbacks" and
//! "Calling blocking functions"):
//!
//! * [`Task::new(|callback| some_function(args, callback))`](Task) calls a callback-style
//!   function at once and completes with the value the callback receives;
//!   [`task!(some_function(args))`](task!) appends the callback argument for you, as
//!   `gen.Task(some_function, args)` does. The callback is an ordinary
//!   `FnOnce(T) + Send + 'static` ([`Callback`]): call it from any thread. It is `FnOnce`, so it
//!   cannot be called twice; if it is dropped without being called, the yield gives
//!   `Err(`[`CallbackDropped`]`)` instead of hanging, so write `yield_!(task)?`. A panic in the
//!   function is raised at the yield.
//! * [`ThreadPoolExecutor::new(4)`](ThreadPoolExecutor) and
//!   `pool.submit(move || blocking_func(args))` run blocking functions on at most 4 threads
//!   (more wait in a queue) and return a [`Submitted`] future of the result. A panic in the
//!   function is raised at the yield, and the pool keeps serving. Dropping the last handle lets
//!   the queued work finish and joins the threads.
//! * [`#[run_on_executor]`](run_on_executor) on a method of a type that holds a
//!   `ThreadPoolExecutor` in a field `executor` (or `#[run_on_executor(executor = field)]`)
//!   runs the body on that pool; the call returns a [`Submitted`] future. The body runs on
//!   another thread, so it gets its own `self`: a clone for `&self` methods (the type must be
//!   `Clone`, cheap with `Arc`s inside), `self` itself for `self` methods. Arguments and result
//!   must be `Send + 'static`. `&mut self`, `async fn` and fns without `self` are compile errors.
//!
//! ```
//! use coroutine_runtime::*;
//!
//! /// A callback-style API.
//! fn lookup(key: u32, callback: impl FnOnce(String) + Send + 'static) {
//!     std::thread::spawn(move || callback(format!("value {key}")));
//! }
//!
//! fn blocking_func(n: u64) -> u64 {
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//!     n * 2
//! }
//!
//! #[derive(Clone)]
//! struct Checksums {
//!     executor: ThreadPoolExecutor,
//! }
//!
//! impl Checksums {
//!     #[run_on_executor]
//!     fn checksum(&self, data: Vec<u8>) -> u64 {
//!         data.iter().map(|&b| u64::from(b)).sum()
//!     }
//! }
//!
//! #[coroutine_runtime::coroutine]
//! fn call_all(service: Checksums) -> Result<(String, u64, u64), CallbackDropped> {
//!     let value = yield_!(task!(lookup(7)))?;
//!     let doubled = yield_!(service.executor.submit(move || blocking_func(21)));
//!     let sum = yield_!(service.checksum(vec![1, 2, 3]));
//!     Ok((value, doubled, sum))
//! }
//!
//! let service = Checksums { executor: ThreadPoolExecutor::new(4) };
//! let results = futures::executor::block_on(call_all(service));
//! assert_eq!(results, Ok(("value 7".to_owned(), 42, 6)));
//! ```
//!
//! # The loop
//!
//! Coroutines run on any executor (tokio, smol, `futures::executor`). A program that has none
//! uses [`IoLoop`], a single-threaded event loop after Tornado's `IOLoop`; what it runs needs no
//! `Send`.
//!
//! Underneath, the loop is a tokio current-thread runtime whose I/O and time drivers wait on the
//! sockets and timers, and a tokio `LocalSet` that runs the loop's callbacks, timers and
//! background coroutines in FIFO order, as Tornado's `IOLoop` wraps asyncio's event loop. So every
//! future built on tokio (`tokio::net`, `tokio::time`, hyper, reqwest, axum, database drivers)
//! works inside what the loop runs; a program that already runs tokio (`#[tokio::main]`) needs no
//! `IoLoop` and `.await`s its coroutines directly.
//!
//! * [`IoLoop::current()`](IoLoop::current) is the loop running on this thread, or the thread's
//!   default loop; [`run_sync(|| coroutine())`](IoLoop::run_sync) runs the loop until the
//!   coroutine completes and returns its result (the guide's "How to call a coroutine" from plain
//!   code), [`run_sync_timeout`](IoLoop::run_sync_timeout) gives up with a [`TimeoutError`].
//! * [`spawn_callback(|| coroutine())`](IoLoop::spawn_callback) runs a coroutine in the
//!   background to completion ("Running in the background");
//!   [`add_callback`](IoLoop::add_callback), [`call_later`](IoLoop::call_later) and
//!   [`add_future`](IoLoop::add_future) schedule plain callbacks; [`start`](IoLoop::start) and
//!   [`stop`](IoLoop::stop) run the loop by hand; other threads reach it through its
//!   [`IoLoopHandle`]. [`PeriodicCallback`] calls a function (or coroutine) every period, never
//!   overlapping.
//! * A background coroutine or callback that panics does not take the loop down: the panic is
//!   reported (stderr, or [`IoLoop::set_panic_handler`]) and the loop runs on. A panic in the
//!   coroutine given to `run_sync` is raised by `run_sync`.
//!
//! ```
//! use coroutine_runtime::*;
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! #[coroutine_runtime::coroutine]
//! fn do_something(ticks: Rc<Cell<u32>>) {
//!     ticks.set(ticks.get() + 1);
//! }
//!
//! /// The guide's `minute_loop`, every 10 ms.
//! #[coroutine_runtime::coroutine]
//! fn minute_loop(ticks: Rc<Cell<u32>>) {
//!     loop {
//!         yield_!(do_something(ticks.clone()));
//!         yield_!(sleep(Duration::from_millis(10)));
//!     }
//! }
//!
//! let ticks = Rc::new(Cell::new(0));
//! let io_loop = IoLoop::current();
//! let background = ticks.clone();
//! io_loop.spawn_callback(move || minute_loop(background));
//! // Meanwhile, the main coroutine waits for three ticks (at most 10 s, on a loaded machine).
//! let waited = io_loop.run_sync_timeout(Duration::from_secs(10), || async {
//!     while ticks.get() < 3 {
//!         sleep(Duration::from_millis(5)).await;
//!     }
//! });
//! assert!(waited.is_ok());
//! ```
//!
//! # Coroutines in traits
//!
//! A trait method without a body cannot carry `#[coroutine]`: declare what the coroutine
//! returns, `fn m(&self) -> impl Future<Output = T>`, and put `#[coroutine]` on each impl's
//! method. The impl's coroutine returns a [`Runner`], a more precise type that the trait accepts;
//! a caller that goes through the trait sees `impl Future<Output = T>`, and the coroutine still
//! starts at the call.
//!
//! ```
//! use coroutine_runtime::*;
//! use std::future::Future;
//!
//! trait Store {
//!     fn load(&self, key: &str) -> impl Future<Output = Option<u32>>;
//! }
//!
//! struct Memory;
//!
//! impl Store for Memory {
//!     #[coroutine_runtime::coroutine]
//!     fn load(&self, key: &str) -> Option<u32> {
//!         yield_!(moment);
//!         key.parse().ok()
//!     }
//! }
//!
//! async fn load_both(store: &impl Store) -> Option<u32> {
//!     Some(store.load("1").await? + store.load("2").await?)
//! }
//!
//! assert_eq!(futures::executor::block_on(load_both(&Memory)), Some(3));
//! ```
//!
//! A trait's default method can be a `#[coroutine]` itself. Declare `impl Future<Output = T> +
//! Send` when generic callers need to spawn the result: each impl's coroutine is then checked to
//! be `Send`.
//!
//! # How it works
//!
//! The macro turns the body into a state machine: every `yield_!(v)` becomes a suspension point
//! that converts `v` with [`Yieldable::into_yielded`] and waits on the result (rustc's own
//! `async` lowering builds the states, so a yield costs what an `.await` costs). The
//! [`Runner`] drives that state machine, like Tornado's `gen.Runner`:
//!
//! ```text
//!   call ──► Runner::start ──► poll body ──► Ready(v) ──► finished: the first poll hands out v
//!                                  │
//!                                  ▼ Pending: the body is suspended at `yield_!(x)`,
//!                                    x converted to a future and polled once
//!   executor polls the Runner ─► poll body ─► resumes at the yield with x's result ("send")
//!        ▲                           │        runs to the next yield
//!        │                           ▼
//!        └──── x's waker fires ◄── Pending     or Ready(v) ──► the Runner's output is v
//! ```
//!
//! A yield of something already complete resumes in the same poll, without a trip through the
//! executor and without growing the stack. A coroutine that is dropped while suspended drops the
//! future it waits on.
//!
//! ```text
//! #[coroutine]                     fn get(db: &Db) -> Runner<impl Future<Output = Post>> {
//! fn get(db: &Db) -> Post {            Runner::start(async move {
//!     let post = yield_!(db.find());       let post = into_yielded(db.find()).await;
//!     Return(post)               ==>       post
//! }                                    })
//!                                  }
//! ```

#![forbid(unsafe_code)]

mod error;
#[cfg(feature = "introspect")]
pub mod introspect;
mod io_loop;

/// The README's code blocks, compiled and run by `cargo test --doc` so that they stay true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
mod join;
mod moment;
mod multi;
mod periodic;
mod ret;
mod runner;
mod sleep;
mod task;
mod thread_pool;
mod try_multi;
mod tuple;
mod wait_iterator;
mod with_timeout;
mod yielded;

/// Turns a fn whose body waits with `yield_!(…)` into a coroutine: Tornado's `@gen.coroutine`.
///
/// Write it with its path, `#[coroutine_runtime::coroutine]`, or through an alias of the crate.
/// Calling the fn starts the coroutine and returns a [`Runner`] of its result; see
/// [Writing a coroutine](crate#writing-a-coroutine) and [What a call does](crate#what-a-call-does).
///
/// * `#[coroutine(lazy)]`: start on the first poll instead of at the call; the fn returns
///   `impl Future<Output = T>` and allocates nothing, like an `async fn`.
/// * `#[coroutine(crate = path)]`: where the runtime is, for a crate that re-exports it.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn divide(x: u32, y: u32) -> u32 {
///     yield_!(moment);
///     x / y
/// }
///
/// #[coroutine_runtime::coroutine(lazy)]
/// fn halve_twelve() -> u32 {
///     yield_!(divide(12, 2))
/// }
///
/// assert_eq!(IoLoop::current().run_sync(halve_twelve), 6);
/// ```
///
/// A yield that does not belong to the coroutine's own body is a compile error:
///
/// ```compile_fail
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn misplaced() {
///     let later = || yield_!(moment);
/// }
/// ```
pub use coroutine_macros::coroutine;
/// Declares coroutine fns whose bodies wait with Tornado's bare `yield expr`, on stable Rust.
///
/// Every fn in the block, and every method of an `impl` block in it, becomes a coroutine, as
/// if it carried `#[coroutine_runtime::coroutine]`; put `#[coroutine(lazy)]` or
/// `#[coroutine(crate = path)]` on one of them for its arguments. Other items are kept as they
/// are. `yield_!(…)` works there too.
///
/// `yield` binds like `return`: `yield a + 1` waits for `a + 1`, so put a yield that stands
/// inside a larger expression in parentheses, `a + (yield b)`.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::future::ready;
///
/// coroutines! {
///     fn add(a: u32, b: u32) -> u32 {
///         let a = yield ready(a);
///         a + (yield ready(b))
///     }
///
///     fn count_down(from: u32) -> u32 {
///         let mut left = from;
///         while yield ready(left > 0) {
///             yield moment;
///             left -= 1;
///         }
///         left
///     }
/// }
///
/// assert_eq!(futures::executor::block_on(add(2, 3)), 5);
/// assert_eq!(futures::executor::block_on(count_down(3)), 0);
/// ```
pub use coroutine_macros::coroutines;
/// Runs a method's body on the [`ThreadPoolExecutor`] in a field of `self`, and makes the call
/// return a [`Submitted`] future of the result: Tornado's `run_on_executor`.
///
/// The pool is the field `executor`, or the one named by `#[run_on_executor(executor = field)]`;
/// `#[run_on_executor(crate = path)]` names the runtime for a crate that re-exports it. The body
/// runs on another thread, so it gets its own `self`: a clone for a `&self` method (the type
/// must be `Clone`), `self` itself for a `self` method. Arguments and result must be
/// `Send + 'static`. See [Callbacks and blocking functions](crate#callbacks-and-blocking-functions).
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[derive(Clone)]
/// struct Files {
///     pool: ThreadPoolExecutor,
/// }
///
/// impl Files {
///     #[run_on_executor(executor = pool)]
///     fn size(&self, text: String) -> usize {
///         text.len() // stands for a blocking call, such as reading a file
///     }
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn total(files: Files) -> usize {
///     let (a, b) = yield_!((files.size("ab".into()), files.size("cde".into())));
///     a + b
/// }
///
/// let files = Files { pool: ThreadPoolExecutor::new(2) };
/// assert_eq!(futures::executor::block_on(total(files)), 5);
/// ```
///
/// A `&mut self` method cannot run on another thread:
///
/// ```compile_fail
/// use coroutine_runtime::*;
///
/// #[derive(Clone)]
/// struct Counter {
///     executor: ThreadPoolExecutor,
///     count: u32,
/// }
///
/// impl Counter {
///     #[run_on_executor]
///     fn bump(&mut self) -> u32 {
///         self.count += 1;
///         self.count
///     }
/// }
/// ```
pub use coroutine_macros::run_on_executor;
pub use error::TimeoutError;
pub use io_loop::{IoLoop, IoLoopHandle, Timeout};
pub use moment::{Moment, MomentFuture, moment};
pub use multi::{Children, Multi, multi};
pub use periodic::{CallbackReturn, PeriodicCallback};
pub use ret::Return;
pub use runner::Runner;
pub use sleep::{Sleep, sleep};
pub use task::{Callback, CallbackDropped, Task};
pub use thread_pool::{Submitted, ThreadPoolExecutor};
pub use try_multi::{TryMulti, try_multi};
pub use tuple::{FutureTuple, TupleFuture};
pub use wait_iterator::{WaitIterator, WaitNext};
pub use with_timeout::{WithTimeout, with_timeout};
pub use yielded::{IntoYielded, Yieldable, kind};

/// Waits for a value inside a `#[coroutine]` fn: Tornado's `yield`.
///
/// `yield_!(value)` evaluates to the output of the yielded future (or of the collection of
/// futures). The `#[coroutine]` attribute rewrites it; anywhere else it is a compile error.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn add() -> u32 {
///     let a = yield_!(async { 1 });
///     a + yield_!(std::future::ready(2))
/// }
///
/// assert_eq!(futures::executor::block_on(add()), 3);
/// ```
///
/// Outside a coroutine it does not compile:
///
/// ```compile_fail
/// use coroutine_runtime::*;
/// async fn not_a_coroutine() {
///     yield_!(async { 1 });
/// }
/// ```
#[cfg(not(feature = "introspect"))]
#[macro_export]
macro_rules! yield_ {
    // The arms below with a `@__coroutine_…` marker are what `#[coroutine]` rewrites a yield
    // into. It keeps the user's `yield_!` path (so the import that brought it in counts as used)
    // and only adds the marker.
    // The trait's method rather than a helper fn generic over the value: one function less per
    // yielded type in the user's crate (W7, issue 12).
    (@__coroutine_yield $value:expr) => {
        $crate::Yieldable::into_yielded($value).await
    };
    // A yield in a closure, `async` block or nested fn: reported by the macro, and replaced by a
    // value of the right type so that the rest of the code type-checks as it will once fixed.
    (@__coroutine_misplaced $value:expr) => {
        $crate::__private::misplaced($value)
    };
    // A yield in a constant (a `const` block, a generic argument): reported by the macro, and
    // replaced by a `const fn` call of any type.
    (@__coroutine_constant) => {
        $crate::__private::constant()
    };
    // The same in an array length, which rustc evaluates even beside an error.
    (@__coroutine_length) => {
        0
    };
    // A yield without a (parsable) value: reported by the macro.
    (@__coroutine_malformed $($tokens:tt)*) => {
        ()
    };
    // Anywhere else. The user may have written a bare `#[coroutine]`, which is rustc's built-in
    // attribute: this is the first error they read, so it says what to write instead.
    ($($value:tt)*) => {
        ::core::compile_error!(
            "`yield_!` can only be used in the body of a `#[coroutine_runtime::coroutine]` fn; \
             write `#[coroutine_runtime::coroutine]` on the enclosing fn (a bare `#[coroutine]` \
             is rustc's own attribute), or use `.await` in an `async fn`"
        )
    };
}

/// Waits for a value inside a `#[coroutine]` fn: Tornado's `yield`.
///
/// `yield_!(value)` evaluates to the output of the yielded future (or of the collection of
/// futures). The `#[coroutine]` attribute rewrites it; anywhere else it is a compile error. With
/// the `introspect` feature (this definition), the yield also records where it waits, for
/// [`introspect::snapshot`](crate::introspect::snapshot).
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// #[coroutine_runtime::coroutine]
/// fn add() -> u32 {
///     let a = yield_!(async { 1 });
///     a + yield_!(std::future::ready(2))
/// }
///
/// assert_eq!(futures::executor::block_on(add()), 3);
/// ```
// The same macro as without the feature but for the `@__coroutine_yield` arm; two definitions
// so that, without the feature, a yield expands (and reports errors) exactly as it always has.
#[cfg(feature = "introspect")]
#[macro_export]
macro_rules! yield_ {
    // The arms below with a `@__coroutine_…` marker are what `#[coroutine]` rewrites a yield
    // into. It keeps the user's `yield_!` path (so the import that brought it in counts as used)
    // and only adds the marker.
    (@__coroutine_yield $value:expr) => {
        $crate::__yield_site!($value)
    };
    // A yield in a closure, `async` block or nested fn: reported by the macro, and replaced by a
    // value of the right type so that the rest of the code type-checks as it will once fixed.
    (@__coroutine_misplaced $value:expr) => {
        $crate::__private::misplaced($value)
    };
    // A yield in a constant (a `const` block, a generic argument): reported by the macro, and
    // replaced by a `const fn` call of any type.
    (@__coroutine_constant) => {
        $crate::__private::constant()
    };
    // The same in an array length, which rustc evaluates even beside an error.
    (@__coroutine_length) => {
        0
    };
    // A yield without a (parsable) value: reported by the macro.
    (@__coroutine_malformed $($tokens:tt)*) => {
        ()
    };
    // Anywhere else. The user may have written a bare `#[coroutine]`, which is rustc's built-in
    // attribute: this is the first error they read, so it says what to write instead.
    ($($value:tt)*) => {
        ::core::compile_error!(
            "`yield_!` can only be used in the body of a `#[coroutine_runtime::coroutine]` fn; \
             write `#[coroutine_runtime::coroutine]` on the enclosing fn (a bare `#[coroutine]` \
             is rustc's own attribute), or use `.await` in an `async fn`"
        )
    };
}

/// Not public API: the code of one yield, `Yieldable::into_yielded(value).await`; with the
/// `introspect` feature the yielded future is also wrapped to record the yield's site while it
/// waits (see [`introspect`](crate::introspect)). Two definitions, so that the feature decides in
/// this crate, not in the user's.
#[cfg(not(feature = "introspect"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __yield_site {
    ($value:expr) => {
        $crate::Yieldable::into_yielded($value).await
    };
}

/// Not public API: see the other definition.
#[cfg(feature = "introspect")]
#[doc(hidden)]
#[macro_export]
macro_rules! __yield_site {
    ($value:expr) => {
        // The site's type name is the coroutine fn's path plus `::{{closure}}::…`.
        $crate::__private::yielded_at($value, $crate::__site!(__CoroutineSite)).await
    };
}

/// Not public API: a value of a new type `$name` whose [`SiteOf`](crate::introspect::SiteOf)
/// gives the file, line and column of the macro call that the user wrote (`line!` and `column!`
/// in a macro name the first call), with the type's name, which holds the enclosing fn's path.
#[cfg(feature = "introspect")]
#[doc(hidden)]
#[macro_export]
macro_rules! __site {
    ($name:ident) => {{
        struct $name;
        impl $crate::__private::SiteOf for $name {
            #[inline]
            fn site() -> &'static $crate::__private::Site {
                static SITE: $crate::__private::Site = $crate::__private::Site::new(
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    ::core::any::type_name::<$name>,
                );
                &SITE
            }
        }
        $name
    }};
}

/// Not public API: what `#[coroutine]` puts around a coroutine's body (the `async move` block).
/// Without the `introspect` feature, the body itself; with it (the other definition), the body
/// in a [`Body`](crate::introspect::Body) that shows the coroutine while it is suspended.
#[cfg(not(feature = "introspect"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __coroutine_body {
    ($($body:tt)*) => {
        $($body)*
    };
}

/// Not public API: see the other definition.
#[cfg(feature = "introspect")]
#[doc(hidden)]
#[macro_export]
macro_rules! __coroutine_body {
    ($($body:tt)*) => {
        // The site's type name is the coroutine fn's path plus `::__CoroutineFn`.
        $crate::__private::Body::new($($body)*, $crate::__site!(__CoroutineFn))
    };
}

/// Not public API: what the macros' expansions call.
#[doc(hidden)]
pub mod __private {
    pub use crate::runner::Runner;

    /// The future a yielded tuple's element waits on (a whole yield calls the trait itself).
    #[inline]
    pub fn yielded<K, Y: crate::Yieldable<K>>(value: Y) -> Y::Future {
        value.into_yielded()
    }

    #[cfg(feature = "introspect")]
    pub use crate::introspect::{Body, Site, SiteOf, yielded_at};

    /// The value of `Return(v)` in a coroutine's `return` or tail position.
    #[inline]
    pub fn unwrap_return<T>(value: crate::Return<T>) -> T {
        value.0
    }

    /// Stands in for a misplaced yield beside the macro's error, with the type the yield would
    /// have, so the rest of the body reports no second error.
    pub fn misplaced<K, Y: crate::Yieldable<K>>(_value: Y) -> Y::Output {
        unreachable!("a misplaced yield is a compile error")
    }

    /// Stands in for a misplaced yield in a constant beside the macro's error.
    #[must_use]
    pub const fn constant<T>() -> T {
        panic!("a yield in a constant is a compile error")
    }

    /// The type of a fn pointer's output, which names `!` on stable Rust.
    pub trait FnOutput {
        /// The output type.
        type Output;
    }

    impl<T> FnOutput for fn() -> T {
        type Output = T;
    }

    /// `!`, the output of a coroutine declared `-> !`: stable Rust accepts `!` as a return type
    /// but not as `Future<Output = !>`, so the macro names it this way.
    pub type Never = <fn() -> ! as FnOutput>::Output;

    /// Never called: `if false { return declared::<T>(); }` at the top of a coroutine's body
    /// fixes the body's output type to the declared `T` before any user `return`, so a wrong
    /// return value is reported at the value.
    #[must_use]
    pub fn declared<T>() -> T {
        unreachable!("only named in dead code")
    }
}
