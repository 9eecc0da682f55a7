//! A tour of every coroutine pattern of Tornado's guide and of the "Refactoring Tornado
//! Coroutines" article, each printed with what happened and how long it took.
//!
//! Run it with `cargo run --example tour`. Every section runs on the embedded `IoLoop`
//! (Tornado's `IOLoop.current().run_sync(...)`); the same coroutines run unchanged on tokio, smol
//! or `futures::executor`.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use coroutine_runtime::*;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// A real HTTP server and client, both on the loop.

/// How long the server takes to answer `/{name}`: `/slow` 150 ms, `/fast` 50 ms, the rest 100 ms.
fn latency(name: &str) -> Duration {
    match name {
        "slow" => Duration::from_millis(150),
        "fast" => Duration::from_millis(50),
        _ => Duration::from_millis(100),
    }
}

/// The server's handler of `/{name}`: answers after its latency; `/missing` is not found.
async fn delayed(
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<String, StatusCode> {
    if name == "missing" {
        return Err(StatusCode::NOT_FOUND);
    }
    tokio::time::sleep(latency(&name)).await;
    Ok(format!("<body of /{name}>"))
}

/// The server's handler of `/chunks`: a body of three chunks, 100 ms apart.
async fn chunks() -> Body {
    let chunks = futures::stream::unfold(1, |n| async move {
        if n > 3 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((
            Ok::<_, std::convert::Infallible>(format!("chunk {n}")),
            n + 1,
        ))
    });
    Body::from_stream(chunks)
}

/// Starts the server on 127.0.0.1, in the background on the current loop; its base URL.
#[coroutine_runtime::coroutine]
fn start_server() -> std::io::Result<String> {
    let listener = yield_!(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/chunks", axum::routing::get(chunks))
        .route("/{name}", axum::routing::get(delayed));
    IoLoop::current().spawn_callback(move || async move {
        axum::serve(listener, app).await.expect("the tour's server");
    });
    Ok(base)
}

/// Tornado's `AsyncHTTPClient`: hyper-util's HTTP/1 client, with the server's base URL.
struct HttpClient {
    /// The client; it keeps connections open between requests.
    client: Client<HttpConnector, Empty<Bytes>>,
    /// Where the server listens, as `http://127.0.0.1:port`.
    base: String,
}

/// What a fetch returns.
#[derive(Debug, Clone)]
struct Response {
    body: String,
}

impl HttpClient {
    fn new(base: String) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        HttpClient { client, base }
    }

    /// Sends a GET for `path`: the body, not read yet, once the status line and headers are in.
    #[coroutine_runtime::coroutine]
    fn open(&self, path: &str) -> Result<Body, String> {
        let uri = format!("{}{path}", self.base);
        let uri = uri.parse().map_err(|error| format!("{uri}: {error}"))?;
        let response = yield_!(self.client.get(uri)).map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {} for {path}", response.status()));
        }
        Ok(Body::new(response.into_body()))
    }

    /// Fetches `path`: the whole body.
    #[coroutine_runtime::coroutine]
    fn fetch(&self, path: &str) -> Result<Response, String> {
        let body = yield_!(self.open(path))?;
        let bytes = yield_!(body.collect()).map_err(|error| error.to_string())?;
        let body = String::from_utf8_lossy(&bytes.to_bytes()).into_owned();
        Ok(Response { body })
    }
}

/// Reads the next chunk of `body`, and gives the body back with it, so that the read can run
/// while the caller does something else (Tornado's `fetch_next_chunk`).
#[coroutine_runtime::coroutine]
fn next_chunk(mut body: Body) -> (Body, Option<String>) {
    while let Some(frame) = yield_!(body.frame()) {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            let chunk = String::from_utf8_lossy(&data).into_owned();
            return (body, Some(chunk));
        }
    }
    (body, None)
}

/// A stand-in for a Motor cursor: `fetch_next` says whether a document is ready.
struct Cursor {
    docs: Vec<&'static str>,
    current: Option<&'static str>,
}

impl Cursor {
    #[coroutine_runtime::coroutine]
    fn fetch_next(&mut self) -> bool {
        yield_!(sleep(Duration::from_millis(5)));
        self.current = self.docs.pop();
        self.current.is_some()
    }

    fn next_object(&self) -> &'static str {
        self.current.expect("fetch_next said a document is ready")
    }
}

// ---------------------------------------------------------------------------------------------
// The patterns.

#[coroutine_runtime::coroutine]
fn fetch_coroutine(client: &HttpClient, url: &str) -> Result<String, String> {
    let response = yield_!(client.fetch(url))?;
    Ok(response.body)
}

#[coroutine_runtime::coroutine]
fn parallel_fetch(client: &HttpClient, url1: &str, url2: &str) -> Result<(String, String), String> {
    let (resp1, resp2) = yield_!((client.fetch(url1), client.fetch(url2)));
    Ok((resp1?.body, resp2?.body))
}

#[coroutine_runtime::coroutine]
fn parallel_fetch_many(client: &HttpClient, urls: &[&str]) -> Vec<Result<Response, String>> {
    yield_!(urls.iter().map(|url| client.fetch(url)).collect::<Vec<_>>())
}

#[coroutine_runtime::coroutine]
fn parallel_fetch_dict<'a>(
    client: &HttpClient,
    urls: &[&'a str],
) -> HashMap<&'a str, Result<Response, String>> {
    yield_!(
        urls.iter()
            .map(|&url| (url, client.fetch(url)))
            .collect::<HashMap<_, _>>()
    )
}

/// The guide's interleaving pattern: read the next chunk of a body while the last one is
/// flushed (a 50 ms stand-in for writing it on).
#[coroutine_runtime::coroutine]
fn interleaving(client: &HttpClient, log: &RefCell<Vec<String>>) -> Result<(), String> {
    let body = yield_!(client.open("/chunks"))?;
    let mut fetch_future = next_chunk(body);
    loop {
        let (body, chunk) = yield_!(fetch_future);
        let Some(chunk) = chunk else { break };
        log.borrow_mut().push(chunk);
        // Start reading the next chunk, then flush while it runs.
        fetch_future = next_chunk(body);
        yield_!(sleep(Duration::from_millis(50)));
    }
    Ok(())
}

#[coroutine_runtime::coroutine]
fn loop_example(cursor: &mut Cursor) -> Vec<&'static str> {
    let mut seen = Vec::new();
    while yield_!(cursor.fetch_next()) {
        seen.push(cursor.next_object());
    }
    seen
}

#[coroutine_runtime::coroutine]
fn wait_as_they_finish(client: &HttpClient) -> Vec<String> {
    let mut order = Vec::new();
    let mut waiter = WaitIterator::new(vec![
        client.fetch("/slow"),
        client.fetch("/medium"),
        client.fetch("/fast"),
    ]);
    while !waiter.done() {
        let response = yield_!(waiter.next());
        let index = waiter.current_index().unwrap_or_default();
        order.push(format!(
            "#{index} {}",
            response.map(|r| r.body).unwrap_or_default()
        ));
    }
    order
}

#[coroutine_runtime::coroutine]
fn fetch_with_timeout(client: &HttpClient, limit: Duration) -> Result<String, TimeoutError> {
    let response = yield_!(with_timeout(limit, client.fetch("/a")))?;
    Ok(response.map(|r| r.body).unwrap_or_default())
}

#[coroutine_runtime::coroutine]
fn fail_fast(client: &HttpClient) -> Result<Vec<Response>, String> {
    // The missing page fails at once; the two 100 ms fetches are dropped without waiting.
    yield_!(try_multi(vec![
        client.fetch("/a"),
        client.fetch("/missing"),
        client.fetch("/b")
    ]))
}

/// The coroutine of Tornado's `test_moment`: append `name` five times, yielding in between.
#[coroutine_runtime::coroutine]
fn appender(log: Rc<RefCell<String>>, name: char, use_moment: bool) {
    for _ in 0..5 {
        log.borrow_mut().push(name);
        if use_moment {
            yield_!(moment);
        } else {
            yield_!(std::future::ready(()));
        }
    }
}

#[coroutine_runtime::coroutine]
fn moment_order(a_moment: bool, b_moment: bool) -> String {
    let log = Rc::new(RefCell::new(String::new()));
    yield_!(vec![
        appender(log.clone(), 'a', a_moment),
        appender(log.clone(), 'b', b_moment),
    ]);
    log.take()
}

// Callbacks: a callback-style function, as Tornado code had before Futures.
fn some_function(key: &'static str, callback: impl FnOnce(String) + Send + 'static) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        callback(format!("value of {key}"));
    });
}

#[coroutine_runtime::coroutine]
fn call_task() -> Result<String, CallbackDropped> {
    // Translated into `some_function("answer", callback)`.
    yield_!(task!(some_function("answer")))
}

fn blocking_func(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[coroutine_runtime::coroutine]
fn call_blocking(pool: &ThreadPoolExecutor, jobs: u64) -> u64 {
    let results = yield_!(
        (0..jobs)
            .map(|_| pool.submit(|| blocking_func(100)))
            .collect::<Vec<_>>()
    );
    results.iter().sum()
}

/// A type that holds a thread pool, for `#[run_on_executor]`.
#[derive(Clone)]
struct Hasher {
    executor: ThreadPoolExecutor,
}

impl Hasher {
    /// Runs on `self.executor`; the call returns a yieldable future.
    #[run_on_executor]
    fn checksum(&self, data: Vec<u8>) -> u64 {
        std::thread::sleep(Duration::from_millis(50));
        data.iter().map(|&b| u64::from(b)).sum()
    }
}

#[coroutine_runtime::coroutine]
fn checksums(hasher: &Hasher) -> (u64, u64) {
    yield_!((
        hasher.checksum(vec![1, 2, 3]),
        hasher.checksum(vec![10, 20])
    ))
}

#[coroutine_runtime::coroutine]
fn do_something(ticks: Rc<RefCell<Vec<u128>>>, start: Instant) {
    ticks.borrow_mut().push(start.elapsed().as_millis());
    yield_!(sleep(Duration::from_millis(5)));
}

/// Tornado's `minute_loop`, with a 30 ms "minute".
#[coroutine_runtime::coroutine]
fn minute_loop(ticks: Rc<RefCell<Vec<u128>>>, start: Instant) {
    loop {
        yield_!(do_something(ticks.clone(), start));
        yield_!(sleep(Duration::from_millis(30)));
    }
}

/// Tornado's `minute_loop2`: start the clock first, so the period is exact.
#[coroutine_runtime::coroutine]
fn minute_loop2(ticks: Rc<RefCell<Vec<u128>>>, start: Instant) {
    loop {
        let next = sleep(Duration::from_millis(30)); // Start the clock.
        yield_!(do_something(ticks.clone(), start)); // Run while the clock is ticking.
        yield_!(next); // Wait for the timer to run out.
    }
}

thread_local! {
    static CATEGORIES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

#[coroutine_runtime::coroutine]
fn query_categories(queries: &RefCell<u32>) -> Vec<String> {
    *queries.borrow_mut() += 1;
    yield_!(sleep(Duration::from_millis(20)));
    vec!["python".into(), "rust".into(), "tornado".into()]
}

#[coroutine_runtime::coroutine]
fn get_categories(queries: &RefCell<u32>) -> Vec<String> {
    if let Some(cached) = CATEGORIES.with_borrow(Clone::clone) {
        return Return(cached);
    }
    let categories = yield_!(query_categories(queries));
    CATEGORIES.set(Some(categories.clone()));
    Return(categories)
}

// ---------------------------------------------------------------------------------------------

/// Runs `what` on the loop, printing its name, result and time.
fn show<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    name: &str,
    what: impl FnOnce() -> F,
) -> Duration {
    let start = Instant::now();
    let result = IoLoop::current().run_sync(what);
    let elapsed = start.elapsed();
    println!("  {name:<50} {:>6.1} ms  {result:?}", ms(elapsed));
    elapsed
}

fn main() {
    // The server runs in the background on this thread's loop, between the sections' runs.
    let base = IoLoop::current()
        .run_sync(start_server)
        .expect("the tour's server starts");
    let client = HttpClient::new(base);
    println!(
        "A server on {} answers each fetch after 100 ms.",
        client.base
    );

    yielding(&client);
    parallelism(&client);
    interleaving_section(&client);
    looping();
    subroutines();
    callbacks();
    blocking();
    running_in_background();
    where_is_it_stuck(&client);
}

fn yielding(client: &HttpClient) {
    section("Yielding futures");
    show("yield one fetch", || fetch_coroutine(client, "/a"));
    show("yield a failing fetch, `?` passes the error", || {
        fetch_coroutine(client, "/missing")
    });
}

fn parallelism(client: &HttpClient) {
    section("Parallelism");
    show("two fetches in parallel (tuple)", || {
        parallel_fetch(client, "/a", "/b")
    });
    let urls = ["/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/9", "/10"];
    let elapsed = show("ten fetches in parallel (Vec)", || async {
        parallel_fetch_many(client, &urls).await.len()
    });
    note(&format!(
        "ten sequential fetches take ~1000 ms; in parallel: {:.0} ms{}",
        ms(elapsed),
        if elapsed < Duration::from_millis(150) {
            " (< 150 ms)"
        } else {
            ""
        }
    ));
    show("ten fetches in parallel (HashMap)", || async {
        let mut keys: Vec<_> = parallel_fetch_dict(client, &urls)
            .await
            .into_keys()
            .collect();
        keys.sort_unstable();
        keys
    });
    show("as they finish (WaitIterator: 150/100/50 ms)", || {
        wait_as_they_finish(client)
    });
    show("with_timeout 50 ms on a 100 ms fetch", || {
        fetch_with_timeout(client, Duration::from_millis(50))
    });
    show("with_timeout 500 ms on a 100 ms fetch", || {
        fetch_with_timeout(client, Duration::from_millis(500))
    });
    show("try_multi fails fast on the first error", || {
        fail_fast(client)
    });
    show("test_moment: both yield done futures", || {
        moment_order(false, false)
    });
    show("test_moment: both yield moment", || {
        moment_order(true, true)
    });
    show("test_moment: a yields moment, b done futures", || {
        moment_order(true, false)
    });
}

fn interleaving_section(client: &HttpClient) {
    section("Interleaving");
    let log = RefCell::new(Vec::new());
    let elapsed = show("read the next chunk while flushing (3 x 100 ms)", || {
        interleaving(client, &log)
    });
    note(&format!("chunks {:?}", log.borrow()));
    note(&format!(
        "each 50 ms flush runs while the next chunk is read: {:.0} ms, not 3 x 150 ms",
        ms(elapsed)
    ));
}

fn looping() {
    section("Looping");
    let mut cursor = Cursor {
        docs: vec!["doc 3", "doc 2", "doc 1"],
        current: None,
    };
    show("while yield_!(cursor.fetch_next())", || {
        loop_example(&mut cursor)
    });
}

fn subroutines() {
    section("Subroutines and caching");
    let queries = RefCell::new(0);
    show("get_categories (cold cache)", || get_categories(&queries));
    show("get_categories (warm cache)", || get_categories(&queries));
    note(&format!("database queries: {}", queries.borrow()));
}

fn callbacks() {
    section("Interaction with callbacks");
    show("yield_!(task!(some_function(\"answer\")))", call_task);
}

fn blocking() {
    section("Calling blocking functions");
    let pool = ThreadPoolExecutor::new(4);
    show("4 blocking 100 ms calls on a pool of 4", || {
        call_blocking(&pool, 4)
    });
    show("8 blocking 100 ms calls on a pool of 4", || {
        call_blocking(&pool, 8)
    });
    let hasher = Hasher {
        executor: pool.clone(),
    };
    show("two #[run_on_executor] calls (50 ms each)", || {
        checksums(&hasher)
    });
}

fn running_in_background() {
    section("Running in the background");
    background("minute_loop: period 30 ms + work 5 ms", minute_loop);
    background("minute_loop2: exact 30 ms period", minute_loop2);
    let io_loop = IoLoop::new();
    let calls = Rc::new(RefCell::new(0));
    let counter = calls.clone();
    let periodic = PeriodicCallback::new(
        move || *counter.borrow_mut() += 1,
        Duration::from_millis(20),
    );
    let periodic_elapsed = io_loop.run_sync(|| {
        periodic.start();
        let start = Instant::now();
        async move {
            sleep(Duration::from_millis(110)).await;
            start.elapsed()
        }
    });
    periodic.stop();
    println!(
        "  {:<50} {:>6.1} ms  {} calls",
        "PeriodicCallback every 20 ms",
        ms(periodic_elapsed),
        calls.borrow()
    );
}

/// Spawns `looper` in the background on a fresh loop for 170 ms, then shows when it ticked.
fn background<F>(name: &str, looper: fn(Rc<RefCell<Vec<u128>>>, Instant) -> F)
where
    F: std::future::Future<Output = ()> + 'static,
{
    let ticks = Rc::new(RefCell::new(Vec::new()));
    let io_loop = IoLoop::new();
    let start = Instant::now();
    let recorder = ticks.clone();
    io_loop.spawn_callback(move || looper(recorder, start));
    io_loop.run_sync(|| sleep(Duration::from_millis(170)));
    println!("  {name:<50} ticks at {:?} ms", ticks.borrow());
}

/// Issue 11's tree, photographed mid-flight: every suspended coroutine at its `yield_!` line.
fn where_is_it_stuck(client: &HttpClient) {
    section("Where is it stuck? (the `introspect` feature)");
    #[cfg(feature = "introspect")]
    {
        let tree = Rc::new(RefCell::new(String::new()));
        let photo = Rc::clone(&tree);
        IoLoop::current().call_later(Duration::from_millis(75), move || {
            *photo.borrow_mut() = coroutine_runtime::introspect::snapshot().to_string();
        });
        show("/slow and /fast in a tuple, the tree at 75 ms", || {
            parallel_fetch(client, "/slow", "/fast")
        });
        for line in tree.borrow().lines() {
            note(line);
        }
    }
    #[cfg(not(feature = "introspect"))]
    {
        let _ = client;
        note("run `cargo run --example tour --features introspect` to see the tree mid-flight");
    }
}

fn section(title: &str) {
    println!("\n{title}");
}

fn note(text: &str) {
    println!("{:<52}           {text}", "");
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
