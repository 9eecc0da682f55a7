//! Writing a post: storing it, the category cache, and every reason a form is refused.

mod common;

use axum::http::StatusCode;
use common::{SAMPLE_CATEGORIES, SAMPLE_POSTS};

/// A valid form, with `changes` applied.
fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("title", "Tornado on Rust"),
        ("slug", ""),
        ("category", "Coroutines"),
        ("body", "First paragraph.\r\n\r\nSecond paragraph."),
    ];
    for (name, value) in changes {
        fields
            .iter_mut()
            .find(|(field, _)| field == name)
            .unwrap()
            .1 = value;
    }
    fields
}

common::on_both_backends! {
    async fn a_valid_post_is_stored_shown_and_linked_as_the_newest(site) {
        let page = site
            .post_form("/post", &form(&[]))
            .await
            .expect(StatusCode::SEE_OTHER);
        // The slug is made from the title.
        assert_eq!(page.location.as_deref(), Some("/post/tornado-on-rust"));

        let page = site
            .get("/post/tornado-on-rust")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<h2>Tornado on Rust</h2>");
        page.assert_has("<p>First paragraph.</p>");
        page.assert_has("<p>Second paragraph.</p>");
        let (newest_before, _) = SAMPLE_POSTS[11];
        assert_eq!(
            page.rel_link("prev"),
            Some(format!("/post/{newest_before}"))
        );
        assert_eq!(page.rel_link("next"), None);

        let page = site
            .get(&format!("/post/{newest_before}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            page.rel_link("next").as_deref(),
            Some("/post/tornado-on-rust")
        );

        let page = site.get("/").await.expect(StatusCode::OK);
        assert!(
            page.position("/post/tornado-on-rust\"")
                < page.position(&format!("/post/{newest_before}\""))
        );
        let page = site
            .get("/category/Coroutines")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<a href=\"/post/tornado-on-rust\">Tornado on Rust</a>");
    }

    async fn the_category_list_is_cached_between_pages(site) {
        site.get("/new").await.expect(StatusCode::OK); // fills the cache
        // `/new` reads nothing but the categories: with the cache filled it makes no query, so the
        // armed failure waits for the next page that does.
        site.blog.db().fail_next_query();
        let page = site.get("/new").await.expect(StatusCode::OK);
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        site.get("/")
            .await
            .expect(StatusCode::INTERNAL_SERVER_ERROR);
    }

    async fn a_post_with_a_new_category_shows_it_in_the_sidebar_on_the_next_page(site) {
        let page = site.get("/").await.expect(StatusCode::OK); // fills the cache
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);

        let fields = form(&[("category", "Async Rust")]);
        site.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);

        let page = site
            .get("/post/tornado-on-rust")
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            page.sidebar(),
            ["Async Rust", "Coroutines", "Databases", "Meta", "Rust"]
        );
        page.assert_has("<li><a href=\"/category/Async%20Rust\">Async Rust</a></li>");
        let page = site
            .get("/category/Async%20Rust")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<h2>Posts in Async Rust</h2>");
        page.assert_has("<a href=\"/post/tornado-on-rust\">Tornado on Rust</a>");
    }

    async fn a_post_in_an_existing_category_keeps_the_cache(site) {
        site.get("/new").await.expect(StatusCode::OK); // fills the cache
        // The same category in another letter case is not a new one.
        let fields = form(&[("category", "coroutines")]);
        site.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
        site.blog.db().fail_next_query();
        let page = site.get("/new").await.expect(StatusCode::OK); // from the cache: no query
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        site.get("/")
            .await
            .expect(StatusCode::INTERNAL_SERVER_ERROR);
        let page = site
            .get("/post/tornado-on-rust")
            .await
            .expect(StatusCode::OK);
        page.assert_has("<a href=\"/category/Coroutines\">Coroutines</a>");
    }

    async fn an_empty_title_is_refused_with_the_reason_beside_it_and_the_values_kept(site) {
        let fields = form(&[
            ("title", "   "),
            ("slug", "kept-slug"),
            ("body", "Kept <text>"),
        ]);
        let page = site
            .post_form("/post", &fields)
            .await
            .expect(StatusCode::BAD_REQUEST);
        page.assert_has("<p class=\"error\" id=\"title-error\">the title is empty; it is required</p>");
        page.assert_has("value=\"kept-slug\"");
        page.assert_has("value=\"Coroutines\"");
        page.assert_has(">Kept &lt;text&gt;</textarea>");
        page.assert_lacks("id=\"slug-error\"");
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        site.get("/post/kept-slug")
            .await
            .expect(StatusCode::NOT_FOUND);
    }

    async fn over_long_fields_are_refused_one_by_one(site) {
        let cases = [
            (
                "title",
                "t".repeat(121),
                "the title is 121 characters long; the limit is 120",
            ),
            (
                "slug",
                "s".repeat(81),
                "the slug is 81 characters long; the limit is 80",
            ),
            (
                "category",
                "c".repeat(41),
                "the category is 41 characters long; the limit is 40",
            ),
            (
                "body",
                "b".repeat(20_001),
                "the body is 20001 characters long; the limit is 20000",
            ),
        ];
        for (field, value, reason) in &cases {
            let page = site.post_form("/post", &form(&[(field, value)])).await;
            let page = page.expect(StatusCode::BAD_REQUEST);
            page.assert_has(&format!(
                "<p class=\"error\" id=\"{field}-error\">{reason}</p>"
            ));
            // Only that field is refused, and what was typed is kept, too long as it is.
            assert_eq!(page.body.matches("class=\"error\"").count(), 1, "{field}");
            page.assert_has(value);
        }
        // Nothing was stored.
        let page = site.get("/").await.expect(StatusCode::OK);
        assert_eq!(
            page.body.matches("href=\"/post/").count(),
            SAMPLE_POSTS.len()
        );
    }

    async fn a_slug_that_exists_is_refused(site) {
        let (taken, title) = SAMPLE_POSTS[4];
        let page = site.post_form("/post", &form(&[("slug", taken)])).await;
        let page = page.expect(StatusCode::BAD_REQUEST);
        page.assert_has(&format!(
            "<p class=\"error\" id=\"slug-error\">a post with the slug `{taken}` already exists; \
             choose another</p>"
        ));
        page.assert_has("value=\"Tornado on Rust\"");
        // The existing post is untouched.
        let page = site
            .get(&format!("/post/{taken}"))
            .await
            .expect(StatusCode::OK);
        page.assert_has(&format!("<h2>{title}</h2>"));
    }

    async fn a_refused_post_stores_nothing_not_even_its_new_category(site) {
        site.get("/").await.expect(StatusCode::OK); // fills the cache
        let fields = form(&[("slug", SAMPLE_POSTS[0].0), ("category", "Gardening")]);
        site.post_form("/post", &fields)
            .await
            .expect(StatusCode::BAD_REQUEST);
        // The category was inserted in the same transaction as the post, and rolled back with it.
        site.get("/category/Gardening")
            .await
            .expect(StatusCode::NOT_FOUND);
        let page = site.get("/").await.expect(StatusCode::OK);
        assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
        // A later post can create it.
        let fields = form(&[("category", "Gardening")]);
        site.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
        site.get("/category/Gardening").await.expect(StatusCode::OK);
    }

    async fn malformed_slugs_and_missing_fields_are_refused(site) {
        // The field sent, its value, the field refused and the reason.
        let cases = [
            (
                "slug",
                "Not A Slug",
                "slug",
                "the slug can only contain lowercase letters, digits and single hyphens between them",
            ),
            (
                "title",
                "?!",
                "slug",
                "the slug is empty; write one, or a title with letters or digits",
            ),
            (
                "category",
                "",
                "category",
                "the category is empty; it is required",
            ),
            (
                "category",
                "a/b",
                "category",
                "the category cannot contain `&#x2f;` or control characters",
            ),
            ("body", "\r\n ", "body", "the body is empty; it is required"),
        ];
        for (sent, value, field, reason) in cases {
            let page = site.post_form("/post", &form(&[(sent, value)])).await;
            let page = page.expect(StatusCode::BAD_REQUEST);
            page.assert_has(&format!(
                "<p class=\"error\" id=\"{field}-error\">{reason}</p>"
            ));
        }
        // A form with no fields at all reports every required one.
        let page = site
            .post_form("/post", &[])
            .await
            .expect(StatusCode::BAD_REQUEST);
        for field in ["title", "category", "body"] {
            page.assert_has(&format!("id=\"{field}-error\">the {field} is empty"));
        }
    }

    async fn html_and_sql_in_a_post_are_stored_and_shown_as_text(site) {
        let fields = form(&[
            ("title", "<script>alert('x')</script>"),
            ("slug", "tricky"),
            ("category", "'; DROP TABLE posts; --"),
            ("body", "Robert'); DROP TABLE posts; -- <b>bold</b>"),
        ]);
        site.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
        let page = site.get("/post/tricky").await.expect(StatusCode::OK);
        page.assert_lacks("<script>");
        page.assert_lacks("<b>bold</b>");
        page.assert_has("<h2>&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt;</h2>");
        page.assert_has("<p>Robert&#x27;); DROP TABLE posts; -- &lt;b&gt;bold&lt;&#x2f;b&gt;</p>");
        // The category's link is URL-encoded, and leads to it.
        page.assert_has("href=\"/category/%27%3B%20DROP%20TABLE%20posts%3B%20--\"");
        site.get("/category/%27%3B%20DROP%20TABLE%20posts%3B%20--")
            .await
            .expect(StatusCode::OK);
        // Every table is still there.
        let page = site.get("/").await.expect(StatusCode::OK);
        assert_eq!(
            page.body.matches("href=\"/post/").count(),
            SAMPLE_POSTS.len() + 1
        );
    }

    async fn nul_characters_are_refused_and_nothing_is_stored(site) {
        for field in ["title", "category", "body"] {
            let value = format!("before\0after {field}");
            let fields = form(&[(field, value.as_str())]);
            let page = site.post_form("/post", &fields).await;
            let page = page.expect(StatusCode::BAD_REQUEST);
            page.assert_has(&format!(
                "<p class=\"error\" id=\"{field}-error\">the {field} contains a NUL character; \
                 remove it</p>"
            ));
        }
        site.get("/post/tornado-on-rust")
            .await
            .expect(StatusCode::NOT_FOUND);
        let page = site.get("/").await.expect(StatusCode::OK);
        assert_eq!(page.body.matches("href=\"/post/").count(), SAMPLE_POSTS.len());
    }
}
