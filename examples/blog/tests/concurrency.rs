//! Many requests at once: every one answered, and answered with its own page.

mod common;

use axum::http::StatusCode;
use common::{SAMPLE_CATEGORIES, SAMPLE_POSTS};
use tokio::task::JoinSet;

common::on_both_backends! {
    async fn two_hundred_concurrent_requests_are_all_answered_correctly(site) {
        let mut requests = JoinSet::new();
        for i in 0..200 {
            let n = i % SAMPLE_POSTS.len();
            let (slug, title) = SAMPLE_POSTS[n];
            let page = match i % 4 {
                0 => site.get("/"),
                1 => site.get(&format!("/category/{}", SAMPLE_CATEGORIES[(i / 4) % 4])),
                _ => site.get(&format!("/post/{slug}")),
            };
            requests.spawn(async move { (i, n, slug, title, page.await) });
        }
        let mut answered = 0;
        while let Some(result) = requests.join_next().await {
            let (i, n, slug, title, page) = result.expect("the request task does not panic");
            let page = page.expect(StatusCode::OK);
            assert_eq!(page.sidebar(), SAMPLE_CATEGORIES, "request {i}");
            match i % 4 {
                0 => assert_eq!(
                    page.body.matches("href=\"/post/").count(),
                    SAMPLE_POSTS.len()
                ),
                1 => page.assert_has(&format!(
                    "<h2>Posts in {}</h2>",
                    SAMPLE_CATEGORIES[(i / 4) % 4]
                )),
                _ => {
                    page.assert_has(&format!("<h2>{title}</h2>"));
                    let prev = n
                        .checked_sub(1)
                        .map(|p| format!("/post/{}", SAMPLE_POSTS[p].0));
                    let next = SAMPLE_POSTS.get(n + 1).map(|(s, _)| format!("/post/{s}"));
                    assert_eq!(page.rel_link("prev"), prev, "request {i} for {slug}");
                    assert_eq!(page.rel_link("next"), next, "request {i} for {slug}");
                }
            }
            answered += 1;
        }
        assert_eq!(answered, 200);
    }

    async fn concurrent_posts_are_all_stored_and_every_new_category_is_listed(site) {
        site.get("/").await.expect(StatusCode::OK); // fills the category cache
        let mut requests = JoinSet::new();
        for i in 0..20 {
            let title = format!("Concurrent post {i}");
            let category = format!("Topic {}", i % 5);
            let fields = [
                ("title", title.as_str()),
                ("category", &category),
                ("body", "Text."),
            ];
            let posted = site.post_form("/post", &fields);
            // Pages read while the posts are being stored.
            let read = site.get("/");
            requests.spawn(async move { (i, posted.await, read.await) });
        }
        while let Some(result) = requests.join_next().await {
            let (i, posted, read) = result.expect("the request task does not panic");
            let posted = posted.expect(StatusCode::SEE_OTHER);
            assert_eq!(posted.location, Some(format!("/post/concurrent-post-{i}")));
            read.expect(StatusCode::OK);
        }
        let page = site.get("/").await.expect(StatusCode::OK);
        assert_eq!(
            page.body.matches("href=\"/post/").count(),
            SAMPLE_POSTS.len() + 20
        );
        let mut expected: Vec<String> = SAMPLE_CATEGORIES
            .iter()
            .map(|&name| name.to_owned())
            .collect();
        expected.extend((0..5).map(|i| format!("Topic {i}")));
        expected.sort();
        assert_eq!(page.sidebar(), expected);
    }
}
