//! The pages a reader sees: their content, their links, and the 404 page.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use axum::http::StatusCode;
use common::{SAMPLE_CATEGORIES, SAMPLE_POSTS};

common::on_both_backends! {
    async fn the_index_lists_every_post_newest_first_with_links(site) {
        let page = site.get("/").await.expect(StatusCode::OK);
        let mut previous = 0;
        for (slug, title) in SAMPLE_POSTS.iter().rev() {
            let at = page.position(&format!("<a href=\"/post/{slug}\">{title}</a>"));
            assert!(at > previous, "`{title}` is out of order");
            previous = at;
        }
        // The newest post's date and category are shown beside it.
        page.assert_has("<span class=\"date\">2024-06-17</span>");
        page.assert_has("<a class=\"meta\" href=\"/category/Rust\">Rust</a>");
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        page.assert_has("<a href=\"/new\">Write a post</a>");
    }

    async fn a_post_page_shows_the_post_its_neighbours_and_the_sidebar(site) {
        let page = site
            .get("/post/previous-and-next")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<h2>Previous and next, in parallel</h2>");
        page.assert_has("<span class=\"date\">2024-03-04</span>");
        page.assert_has("<a href=\"/category/Coroutines\">Coroutines</a>");
        // Two paragraphs, split at the blank line.
        page.assert_has("<p>The links at the bottom of a post need two independent queries");
        page.assert_has("<p>Yield both futures together");
        assert_eq!(
            page.rel_link("prev").as_deref(),
            Some("/post/callbacks-considered-tiring")
        );
        page.assert_has("&larr; Callbacks considered tiring</a>");
        assert_eq!(
            page.rel_link("next").as_deref(),
            Some("/post/caching-the-categories")
        );
        page.assert_has("Caching the categories &rarr;</a>");
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
    }

    async fn the_first_post_has_no_previous_link_and_the_last_no_next_link(site) {
        let (first, _) = SAMPLE_POSTS[0];
        let (second, _) = SAMPLE_POSTS[1];
        let page = site
            .get(&format!("/post/{first}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(page.rel_link("prev"), None);
        assert_eq!(page.rel_link("next"), Some(format!("/post/{second}")));

        let (last, _) = SAMPLE_POSTS[11];
        let (before_last, _) = SAMPLE_POSTS[10];
        let page = site
            .get(&format!("/post/{last}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(page.rel_link("prev"), Some(format!("/post/{before_last}")));
        assert_eq!(page.rel_link("next"), None);
    }

    async fn next_and_previous_links_walk_every_post_in_date_order(site) {
        let mut forward = Vec::new();
        let mut at = Some(format!("/post/{}", SAMPLE_POSTS[0].0));
        while let Some(path) = at {
            assert!(
                forward.len() <= SAMPLE_POSTS.len(),
                "the next links loop: {forward:?}"
            );
            at = site
                .get(&path)
                .await
                .expect(StatusCode::OK)
                .rel_link("next");
            forward.push(path);
        }
        let expected: Vec<String> = SAMPLE_POSTS
            .iter()
            .map(|(slug, _)| format!("/post/{slug}"))
            .collect();
        assert_eq!(forward, expected);

        let mut backward = Vec::new();
        let mut at = forward.last().cloned();
        while let Some(path) = at {
            assert!(
                backward.len() <= SAMPLE_POSTS.len(),
                "the previous links loop: {backward:?}"
            );
            at = site
                .get(&path)
                .await
                .expect(StatusCode::OK)
                .rel_link("prev");
            backward.push(path);
        }
        backward.reverse();
        assert_eq!(backward, expected);
    }

    async fn the_previous_and_next_queries_run_at_the_same_time(site) {
        site.get("/new").await.expect(StatusCode::OK); // fills the category cache: one query
        assert_eq!(site.blog.db().max_concurrent_queries(), 1);
        // Slow queries overlap if they are waited for together; run one after the other, they never
        // would, however slow.
        site.blog.db().set_query_delay(Duration::from_millis(300));
        let page = site
            .get("/post/previous-and-next")
            .await
            .expect(StatusCode::OK);
        assert!(page.rel_link("prev").is_some() && page.rel_link("next").is_some());
        assert_eq!(site.blog.db().max_concurrent_queries(), 2);
    }

    async fn a_category_page_lists_its_posts_newest_first_and_no_others(site) {
        let page = site
            .get("/category/Coroutines")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<h2>Posts in Coroutines</h2>");
        let ours = [
            "subroutines-are-coroutines-too",
            "previous-and-next",
            "callbacks-considered-tiring",
            "futures-are-nothing-special",
        ];
        let positions: Vec<usize> = ours
            .iter()
            .map(|slug| page.position(&format!("href=\"/post/{slug}\"")))
            .collect();
        assert!(positions.is_sorted(), "not newest first: {positions:?}");
        for (slug, _) in SAMPLE_POSTS.iter().filter(|(slug, _)| !ours.contains(slug)) {
            page.assert_lacks(&format!("/post/{slug}\""));
        }
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        // Names match in any letter case, and the page shows the name as it was first written.
        let page = site
            .get("/category/coroutines")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<h2>Posts in Coroutines</h2>");
    }

    async fn the_new_post_form_has_every_field_and_posts_to_post(site) {
        let page = site.get("/new").await.expect(StatusCode::OK);
        page.assert_has("<form method=\"post\" action=\"/post\">");
        for field in ["title", "slug", "category"] {
            page.assert_has(&format!("<input id=\"{field}\" name=\"{field}\""));
        }
        page.assert_has("<textarea id=\"body\" name=\"body\"");
        // The existing categories are offered for the category field.
        for name in SAMPLE_CATEGORIES {
            page.assert_has(&format!("<option value=\"{name}\">"));
        }
        page.assert_lacks("class=\"error\"");
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
    }

    async fn an_unknown_slug_category_or_address_is_a_404_page(site) {
        let page = site
            .get("/post/no-such-post")
            .await
            .expect(StatusCode::NOT_FOUND);
        page.assert_has("<h2>404 Not Found</h2>");
        page.assert_has("There is no post at &#x2f;post&#x2f;no-such-post.");
        page.assert_has("<a href=\"/\">Back to all posts</a>");

        let page = site
            .get("/category/Gardening")
            .await
            .expect(StatusCode::NOT_FOUND);
        page.assert_has("There is no category called “Gardening”.");

        let page = site
            .get("/no/such/page")
            .await
            .expect(StatusCode::NOT_FOUND);
        page.assert_has("There is nothing at &#x2f;no&#x2f;such&#x2f;page.");
    }

    async fn every_link_on_every_page_leads_to_a_page(site) {
        let mut seen = BTreeSet::from(["/".to_owned()]);
        let mut queue = VecDeque::from(["/".to_owned()]);
        while let Some(path) = queue.pop_front() {
            let page = site.get(&path).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{path} is linked but answers {}",
                page.status
            );
            for link in page.links() {
                assert!(
                    link.starts_with('/'),
                    "{path} links outside the blog: {link}"
                );
                if seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
        // The index, the form, every post and every category.
        assert_eq!(
            seen.len(),
            2 + SAMPLE_POSTS.len() + SAMPLE_CATEGORIES.len(),
            "{seen:#?}"
        );
    }
}
