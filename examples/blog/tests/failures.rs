//! Database failures: a 500 page with a short message, and the server goes on serving.

mod common;

use axum::http::StatusCode;
use common::{SAMPLE_CATEGORIES, Site};

common::on_both_backends! {
    async fn a_failed_query_is_a_500_page_and_the_next_request_succeeds(site) {
        // The form still shows when the category list cannot be read, without the sidebar.
        site.blog.db().fail_next_query();
        let page = site.get("/new").await.expect(StatusCode::OK);
        page.assert_has("<form method=\"post\" action=\"/post\">");
        assert!(page.sidebar().is_empty());
        for path in ["/", "/post/previous-and-next", "/category/Meta"] {
            site.blog.db().fail_next_query();
            let page = site
                .get(path)
                .await
                .expect(StatusCode::INTERNAL_SERVER_ERROR);
            page.assert_has("<h2>500 Internal Server Error</h2>");
            page.assert_has("The blog&#x27;s database failed, so this page cannot be shown right now.");
            // SQLite's message goes to the server's log, not to the reader.
            page.assert_lacks("injected_failure");
            site.get(path).await.expect(StatusCode::OK);
        }
    }

    async fn a_failure_in_one_of_the_parallel_queries_fails_the_page(site) {
        site.get("/new").await.expect(StatusCode::OK); // fills the cache
        // With the categories cached, a post page makes three queries: the post, then the previous
        // and the next post, yielded together. The second query fails: one of the pair.
        site.blog.db().fail_query_after(1);
        let page = site.get("/post/previous-and-next").await;
        page.expect(StatusCode::INTERNAL_SERVER_ERROR);
        let page = site
            .get("/post/previous-and-next")
            .await
            .expect(StatusCode::OK);
        assert!(page.rel_link("prev").is_some() && page.rel_link("next").is_some());
    }

    async fn a_failure_while_storing_a_post_keeps_the_form_and_stores_nothing(site) {
        let fields = [
            ("title", "Kept through a failure"),
            ("slug", ""),
            ("category", "Resilience"),
            ("body", "Not lost."),
        ];
        site.blog.db().fail_next_query();
        let page = site
            .post_form("/post", &fields)
            .await
            .expect(StatusCode::INTERNAL_SERVER_ERROR);
        page.assert_has("id=\"failure\">The blog&#x27;s database failed, so the post was not stored.");
        page.assert_has("value=\"Kept through a failure\"");
        page.assert_has("value=\"Resilience\"");
        page.assert_has(">Not lost.</textarea>");
        site.get("/post/kept-through-a-failure")
            .await
            .expect(StatusCode::NOT_FOUND);
        site.get("/category/Resilience")
            .await
            .expect(StatusCode::NOT_FOUND);

        // Sending it again works.
        let page = site
            .post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
        assert_eq!(
            page.location.as_deref(),
            Some("/post/kept-through-a-failure")
        );
        site.get("/post/kept-through-a-failure")
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_broken_while_serving_answers_500_and_the_server_keeps_serving() {
    let site = Site::start().await;
    site.get("/").await.expect(StatusCode::OK); // fills the category cache
    // Someone drops the posts table behind the server's back.
    let conn = rusqlite::Connection::open(&site.database.path).unwrap();
    conn.execute_batch("DROP TABLE posts").unwrap();

    for path in ["/", "/post/previous-and-next", "/category/Meta"] {
        let page = site
            .get(path)
            .await
            .expect(StatusCode::INTERNAL_SERVER_ERROR);
        page.assert_has("The blog&#x27;s database failed");
    }
    // What needs no post is still served: the form (its categories are cached) and the 404s.
    let page = site.get("/new").await.expect(StatusCode::OK);
    assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
    site.get("/nowhere").await.expect(StatusCode::NOT_FOUND);

    // Repaired, it serves posts again.
    conn.execute_batch(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, \
         title TEXT NOT NULL, body TEXT NOT NULL, category_id INTEGER NOT NULL, \
         pub_date TEXT NOT NULL)",
    )
    .unwrap();
    site.publish("Back again", "Meta", "Repaired.").await;
    let page = site.get("/").await.expect(StatusCode::OK);
    page.assert_has("<a href=\"/post/back-again\">Back again</a>");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_at_start() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("blog-not-a-database-{}.sqlite", std::process::id()));
    std::fs::write(
        &path,
        "this is not a SQLite database, but it is long enough to look like one",
    )
    .unwrap();
    let error = blog::Db::open(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(error.to_string(), "database error: file is not a database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_locked_by_another_writer_answers_503_then_recovers() {
    let site = Site::start().await;
    site.get("/").await.expect(StatusCode::OK);
    // Another program takes the write lock and keeps it.
    let other = rusqlite::Connection::open(&site.database.path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO events (kind, name) VALUES ('other', 'x')")
        .unwrap();
    let fields = [
        ("title", "Waiting for the lock"),
        ("category", "Locks"),
        ("body", "Kept."),
    ];
    let page = site
        .post_form("/post", &fields)
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE);
    page.assert_has(
        "The blog&#x27;s database is busy with another writer, so the post was not stored.",
    );
    page.assert_has("value=\"Waiting for the lock\"");
    // Readers are not blocked by a writer (write-ahead log): the pages are still served.
    site.get("/post/previous-and-next")
        .await
        .expect(StatusCode::OK);

    other.execute_batch("ROLLBACK").unwrap();
    let page = site
        .post_form("/post", &fields)
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/post/waiting-for-the-lock"));
    let page = site.get("/new").await.expect(StatusCode::OK);
    assert!(page.sidebar().iter().any(|name| name == "Locks"));
}
