//! The post page's handler and its subroutine written as plain `async fn`s with `.await`: the
//! same code as [`handlers`](crate::handlers) without the coroutine macro, for the load test's
//! side-by-side figures (`--handlers async-fn`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::Blog;
use crate::db::{Category, DbError};
use crate::handlers::{PageError, PageResult, render_post};

/// [`get_categories`](crate::handlers::get_categories) as an `async fn`.
async fn get_categories(blog: &Blog) -> Result<Arc<[Category]>, DbError> {
    let generation = match blog.categories.get() {
        Ok(categories) => return Ok(categories),
        Err(generation) => generation,
    };
    let categories: Arc<[Category]> = blog.db.categories().await?.into();
    blog.categories.fill(generation, Arc::clone(&categories));
    Ok(categories)
}

/// [`show_post`](crate::handlers::show_post) as an `async fn`.
pub(crate) async fn show_post(State(blog): State<Blog>, Path(slug): Path<String>) -> PageResult {
    let categories = get_categories(&blog).await?;
    let Some(post) = blog.db.find_post(&slug).await? else {
        return Err(PageError::NotFound(format!(
            "There is no post at /post/{slug}."
        )));
    };
    let at = post.position();
    // Both queries together, as the coroutine's tuple yield runs them.
    let (prev_post, next_post) = tokio::join!(blog.db.previous_post(&at), blog.db.next_post(&at));
    render_post(
        StatusCode::OK,
        &post,
        prev_post?.as_ref(),
        next_post?.as_ref(),
        &categories,
    )
}
