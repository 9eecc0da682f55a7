//! Several blog processes on one database stay consistent: each tails the event feed, so a new
//! category posted through one process shows in every other's sidebar (the seed's last
//! paragraph).

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Backend, Process, SAMPLE_CATEGORIES, eventually, fresh_database};

/// What the issue promises: a new category through one process in the other's sidebar within
/// one second.
const WITHIN: Duration = Duration::from_secs(1);

/// Two processes on one fresh database of `backend`: a post with a new category through A shows
/// in B's sidebar within a second, and a process started later shows it at once.
async fn a_new_category_reaches_every_process(backend: Backend) {
    let (address, path) = fresh_database(backend).await;
    let a = Process::start(&address);
    let b = Process::start(&address);
    // B caches the sample categories.
    let page = b.get("/").await.expect(StatusCode::OK);
    assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
    let page = b.get("/new").await.expect(StatusCode::OK);
    assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);

    for (i, category) in ["Distributed", "Event Queues"].into_iter().enumerate() {
        let title = format!("Posted through A, {i}");
        let fields = [
            ("title", title.as_str()),
            ("category", category),
            ("body", "Hello from A."),
        ];
        a.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
        let took = eventually(
            WITHIN,
            || b.get("/new"),
            |page| page.sidebar().iter().any(|name| name == category),
        )
        .await;
        eprintln!("{backend:?}: `{category}` reached B after {took:?}");
    }
    // A's own sidebar has it too, and a process started now catches up.
    let expected = [
        "Coroutines",
        "Databases",
        "Distributed",
        "Event Queues",
        "Meta",
        "Rust",
    ];
    assert_eq!(a.get("/new").await.sidebar(), expected);
    let c = Process::start(&address);
    assert_eq!(c.get("/new").await.sidebar(), expected);
    // The posts themselves are shared: B serves A's post.
    b.get("/post/posted-through-a-0")
        .await
        .expect(StatusCode::OK)
        .assert_has("Hello from A.");
    drop((a, b, c));
    if let Some(path) = path {
        common::remove_db(&path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_new_category_through_process_a_shows_in_process_b_within_a_second() {
    a_new_category_reaches_every_process(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_new_category_through_process_a_shows_in_process_b_within_a_second() {
    a_new_category_reaches_every_process(Backend::Postgres).await;
}
