//! A tour of every coroutine pattern of Tornado's guide and of the "Refactoring Tornado
//! Coroutines" article, each printed with what happened and how long it took.
//!
//! Run it with `cargo run --example tour`.

use coroutine_runtime::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A stand-in for Tornado's `AsyncHTTPClient`: every fetch takes `latency`.
struct HttpClient {
    latency: Duration,
}

/// What a fetch returns.
#[derive(Debug, Clone)]
struct Response {
    body: String,
}

impl HttpClient {
    /// Fetches `url`; the future completes after the client's latency.
    #[coroutine_runtime::coroutine]
    fn fetch(&self, url: &str) -> Result<Response, String> {
        if url.is_empty() {
            return Err("empty url".to_string());
        }
        yield_!(sleep(self.latency));
        Ok(Response {
            body: format!("<body of {url}>"),
        })
    }
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

#[coroutine_runtime::coroutine]
fn interleaving(client: &HttpClient, log: &RefCell<Vec<String>>) {
    let mut chunks = vec!["/chunk/3", "/chunk/2", "/chunk/1"];
    let mut fetch_future = client.fetch(chunks.pop().unwrap_or_default());
    loop {
        let chunk = yield_!(fetch_future);
        let Ok(chunk) = chunk else { break };
        log.borrow_mut().push(chunk.body);
        let Some(next) = chunks.pop() else { break };
        // Start the next fetch, then flush while it runs.
        fetch_future = client.fetch(next);
        yield_!(sleep(Duration::from_millis(50)));
    }
}

#[coroutine_runtime::coroutine]
fn loop_example(cursor: &mut Cursor) -> Vec<&'static str> {
    let mut seen = Vec::new();
    while yield_!(cursor.fetch_next()) {
        seen.push(cursor.next_object());
    }
    seen
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

/// Runs `what`, printing its name, result and time.
fn show<T: std::fmt::Debug>(name: &str, what: impl std::future::Future<Output = T>) -> Duration {
    let start = Instant::now();
    let result = futures::executor::block_on(what);
    let elapsed = start.elapsed();
    println!("{name:<44} {:>6.1} ms  {result:?}", elapsed.as_secs_f64() * 1e3);
    elapsed
}

fn main() {
    let client = HttpClient {
        latency: Duration::from_millis(100),
    };
    println!("Each fetch takes 100 ms.\n");

    show("yield one fetch", fetch_coroutine(&client, "/a"));
    show("yield a failing fetch, `?` passes the error", fetch_coroutine(&client, ""));
    show("two fetches in parallel (tuple)", parallel_fetch(&client, "/a", "/b"));
    let urls = ["/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/9", "/10"];
    let elapsed = show("ten fetches in parallel (Vec)", async {
        parallel_fetch_many(&client, &urls).await.len()
    });
    println!("{:<44} (ten sequential fetches would take ~1000 ms; this took {:.0} ms)", "", elapsed.as_secs_f64() * 1e3);
    show("ten fetches in parallel (HashMap)", async {
        let mut keys: Vec<_> = parallel_fetch_dict(&client, &urls).await.into_keys().collect();
        keys.sort_unstable();
        keys
    });

    let log = RefCell::new(Vec::new());
    show("interleaving: fetch the next chunk while flushing", interleaving(&client, &log));
    println!("{:<44} chunks: {:?}", "", log.borrow());

    let mut cursor = Cursor {
        docs: vec!["doc 3", "doc 2", "doc 1"],
        current: None,
    };
    show("looping: while yield_!(cursor.fetch_next())", loop_example(&mut cursor));

    let queries = RefCell::new(0);
    show("subroutine get_categories (cold cache)", get_categories(&queries));
    show("subroutine get_categories (warm cache)", get_categories(&queries));
    println!("{:<44} database queries: {}", "", queries.borrow());
}
