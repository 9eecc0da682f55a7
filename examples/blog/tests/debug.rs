//! `GET /debug/coroutines`: a stalled database call shows the handler's coroutine at its
//! `yield_!` line in handlers.rs. Needs the `introspect` feature:
//! `cargo test -p blog --features introspect --test debug` (`.ci/run` runs it).

mod common;

use axum::http::StatusCode;
use common::Site;

/// Line and column (1-based) of the first `yield_!` in the body of `handlers.rs`'s `fn name`.
fn yield_site(name: &str) -> (usize, usize) {
    let source = include_str!("../src/handlers.rs");
    let start = source
        .find(&format!("fn {name}("))
        .expect("the handler is in handlers.rs");
    let line = source[..start].lines().count()
        + source[start..]
            .lines()
            .position(|line| line.contains("yield_!("))
            .expect("the handler yields");
    let text = source.lines().nth(line - 1).unwrap();
    (line, text.find("yield_!(").unwrap() + 1)
}

#[cfg(feature = "introspect")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_query_shows_the_handler_at_its_yield_line() {
    use std::time::{Duration, Instant};

    let site = Site::start().await;
    site.blog.db().set_query_delay(Duration::from_secs(3));
    let stalled = tokio::spawn(site.get("/post/hello-motor-blog"));

    // show_post waits at its first yield on its sub-coroutine, which waits on the query at
    // its own yield. (A sub-coroutine shows under its caller from the caller's first poll of
    // it on, one scheduling round after the call: hence the retries.)
    let (line, column) = yield_site("show_post");
    let at = format!("handlers.rs:{line}:{column}");
    let (line, column) = yield_site("get_categories");
    let child = format!("handlers.rs:{line}:{column}");
    let chained = |tree: &str| {
        let mut lines = tree.lines().skip_while(|l| !l.contains("show_post"));
        lines.next().is_some_and(|l| l.contains(&at))
            && lines.next().is_some_and(|l| {
                l.starts_with(' ') && l.contains("get_categories") && l.contains(&child)
            })
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let tree = loop {
        let page = site.get("/debug/coroutines").await.expect(StatusCode::OK);
        if chained(&page.body) || Instant::now() > deadline {
            break page.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        chained(&tree),
        "show_post is not at {at} with get_categories at {child} under it:\n{tree}"
    );

    let json = site
        .get("/debug/coroutines?format=json")
        .await
        .expect(StatusCode::OK);
    assert!(json.body.starts_with(r#"{"roots":["#), "{}", json.body);
    assert!(
        json.body.contains(r#""name":"blog::handlers::show_post""#),
        "{}",
        json.body
    );
    // Nothing has been suspended for an hour; half a second later the handler has.
    let none = site
        .get("/debug/coroutines?older_than=1h")
        .await
        .expect(StatusCode::OK);
    assert!(!none.body.contains("show_post"), "{}", none.body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let old = site
        .get("/debug/coroutines?older_than=300ms")
        .await
        .expect(StatusCode::OK);
    assert!(old.body.contains(&at), "{}", old.body);

    site.blog.db().set_query_delay(Duration::ZERO);
    stalled.await.unwrap().expect(StatusCode::OK);
    let after = site.get("/debug/coroutines").await.expect(StatusCode::OK);
    assert!(!after.body.contains("show_post"), "{}", after.body);
}

#[cfg(not(feature = "introspect"))]
#[tokio::test]
async fn without_the_feature_the_page_says_how_to_turn_it_on() {
    let site = Site::start().await;
    let page = site
        .get("/debug/coroutines")
        .await
        .expect(StatusCode::NOT_IMPLEMENTED);
    page.assert_has("--features introspect");
    assert!(yield_site("show_post").0 > 1);
}

#[tokio::test]
async fn bad_parameters_get_a_400_with_the_reason() {
    let site = Site::start().await;
    site.get("/debug/coroutines?format=xml")
        .await
        .expect(StatusCode::BAD_REQUEST)
        .assert_has("unknown format `xml`");
    site.get("/debug/coroutines?older_than=soon")
        .await
        .expect(StatusCode::BAD_REQUEST)
        .assert_has("`older_than=soon` has an unknown unit");
    site.get("/debug/coroutines?older_than=1.2.3s")
        .await
        .expect(StatusCode::BAD_REQUEST)
        .assert_has("is not a duration");
}
