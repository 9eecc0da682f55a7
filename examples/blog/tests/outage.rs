//! PostgreSQL stopped mid-run: the blog answers the friendly 500 page, keeps running, and serves
//! again when the server is back, without a restart; no post acknowledged with a redirect is
//! lost, and the event feed's tail reconnects.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use common::{Cluster, Process, SAMPLE_CATEGORIES, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_stopped_mid_run_gives_500s_then_200s_when_it_is_back() {
    let cluster = Cluster::start();
    let a = Process::start(&cluster.address());
    let b = Process::start(&cluster.address());
    assert_eq!(b.get("/new").await.sidebar(), SAMPLE_CATEGORIES); // B caches the categories

    // Writers post all through the outage; each post acknowledged with a redirect must survive.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (writing, a) = (Arc::clone(&writing), a.http_clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut refused = 0;
            for i in 0.. {
                if !writing.load(Ordering::SeqCst) {
                    break;
                }
                let title = format!("Under load {i}");
                let fields = [
                    ("title", title.as_str()),
                    ("category", "Meta"),
                    ("body", "Kept."),
                ];
                let page = a.post_form("/post", &fields).await;
                match page.status {
                    StatusCode::SEE_OTHER => acknowledged.push(page.location.unwrap()),
                    StatusCode::INTERNAL_SERVER_ERROR => refused += 1,
                    other => panic!("unexpected {other} for a post during the outage"),
                }
            }
            (acknowledged, refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    cluster.stop();
    for process in [&a, &b] {
        let page = process
            .get("/post/previous-and-next")
            .await
            .expect(StatusCode::INTERNAL_SERVER_ERROR);
        page.assert_has("<h2>500 Internal Server Error</h2>");
        page.assert_has("The blog&#x27;s database failed, so this page cannot be shown right now.");
        // The driver's message stays in the log.
        page.assert_lacks("connection");
    }
    // The form needs no query while its categories are cached: B still serves it.
    b.get("/new").await.expect(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.restart();
    for process in [&a, &b] {
        eventually(
            Duration::from_secs(10),
            || process.get("/post/previous-and-next"),
            |page| page.status == StatusCode::OK,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing.store(false, Ordering::SeqCst);
    let (acknowledged, refused) = writer.await.unwrap();
    assert!(refused > 0, "no post was refused: the outage was not seen");
    assert!(!acknowledged.is_empty());
    for location in &acknowledged {
        b.get(location).await.expect(StatusCode::OK);
    }
    eprintln!(
        "{} posts acknowledged and kept, {refused} refused with a 500",
        acknowledged.len()
    );

    // B's tail is back: a new category through A reaches B's sidebar (after its backoff).
    a.publish("After the outage", "Resilience", "Back.").await;
    eventually(
        Duration::from_secs(4),
        || b.get("/new"),
        |page| page.sidebar().iter().any(|name| name == "Resilience"),
    )
    .await;
}
