//! The request handlers: every one is a `#[coroutine]`, as the seed's `PostHandler.get` is a
//! `@gen.coroutine`.
//!
//! Each database call returns a future, and the handler yields it: on SQLite the future of the
//! blocking call submitted to the database's
//! [`ThreadPoolExecutor`](coroutine_runtime::ThreadPoolExecutor), on PostgreSQL the asynchronous
//! driver's own. The handlers are the same for both. Their futures are `Send`, as axum requires,
//! because nothing that is not `Send` (such as a `MutexGuard`) lives across a yield.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use coroutine_runtime::yield_;
use minijinja::context;

use crate::Blog;
use crate::db::{Category, DbError, Inserted, Post};
use crate::form::{FormErrors, MAX_BODY, MAX_CATEGORY, MAX_SLUG, MAX_TITLE, PostForm};
use crate::templates;

/// What the 500 page says; the details go to the server's log, not to the reader.
const DATABASE_FAILED: &str =
    "The blog's database failed, so this page cannot be shown right now. Please try again.";

/// What the 503 page says: another writer holds SQLite's lock.
const DATABASE_BUSY: &str = "The blog's database is busy with another writer, so this cannot be done right now. \
     Please try again in a moment.";

/// What the form says when the database failed while storing a post.
const POST_NOT_STORED: &str =
    "The blog's database failed, so the post was not stored. Your text is kept below: try again.";

/// What the form says when another writer held the database's lock.
const POST_NOT_STORED_BUSY: &str = "The blog's database is busy with another writer, so the post \
     was not stored. Your text is kept below: try again in a moment.";

/// Why a page cannot be shown; rendered as an error page.
#[derive(Debug)]
pub(crate) enum PageError {
    /// 404: nothing at this address; the message says what was looked for.
    NotFound(String),
    /// 500: a query failed.
    Database(DbError),
    /// 500: a template failed to render.
    Template(minijinja::Error),
}

impl From<DbError> for PageError {
    fn from(error: DbError) -> Self {
        PageError::Database(error)
    }
}

impl From<minijinja::Error> for PageError {
    fn from(error: minijinja::Error) -> Self {
        PageError::Template(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::NotFound(message) => (StatusCode::NOT_FOUND, message),
            PageError::Database(error) if error.is_busy() => {
                eprintln!("blog: {error}");
                (StatusCode::SERVICE_UNAVAILABLE, DATABASE_BUSY.to_owned())
            }
            PageError::Database(error) => {
                eprintln!("blog: {error}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    DATABASE_FAILED.to_owned(),
                )
            }
            PageError::Template(error) => {
                eprintln!("blog: template error: {error:#}");
                let message = "This page could not be rendered. Please try again.".to_owned();
                (StatusCode::INTERNAL_SERVER_ERROR, message)
            }
        };
        let context = context! { status => status.to_string(), message };
        match templates::render("error.html", context) {
            Ok(html) => (status, Html(html)).into_response(),
            // The error page itself failed: say it in plain text.
            Err(_) => (status, message).into_response(),
        }
    }
}

/// What a handler answers: a page, or an error page.
pub(crate) type PageResult = Result<Response, PageError>;

/// Renders the template `name` as a page with `status`.
fn page(status: StatusCode, name: &str, context: impl serde::Serialize) -> PageResult {
    Ok((status, Html(templates::render(name, context)?)).into_response())
}

/// The category list, from the cache, or from the database when the cache is empty: the seed's
/// `get_categories`, a coroutine subroutine that every handler yields.
///
/// ```python
/// @gen.coroutine
/// def get_categories(db):
///     global categories
///     if not categories:
///         categories = yield db.categories.find().sort('name').to_list(10)
///     raise gen.Return(categories)
/// ```
#[coroutine_runtime::coroutine]
pub(crate) fn get_categories(blog: &Blog) -> Result<Arc<[Category]>, DbError> {
    let generation = match blog.categories.get() {
        Ok(categories) => return Ok(categories),
        Err(generation) => generation,
    };
    let categories: Arc<[Category]> = yield_!(blog.db.categories())?.into();
    blog.categories.fill(generation, Arc::clone(&categories));
    Ok(categories)
}

/// `GET /`: every post, newest first.
#[coroutine_runtime::coroutine]
pub(crate) fn index(State(blog): State<Blog>) -> PageResult {
    // The subroutine and the query run in parallel: a coroutine's future yields like any other.
    let (categories, posts) = yield_!((get_categories(&blog), blog.db.recent_posts()));
    let (categories, posts) = (categories?, posts?);
    page(
        StatusCode::OK,
        "index.html",
        context! { posts, categories => &*categories },
    )
}

/// `GET /post/<slug>`: the post, links to the previous and next posts, and the sidebar; the
/// seed's `PostHandler.get`.
#[coroutine_runtime::coroutine]
pub(crate) fn show_post(State(blog): State<Blog>, Path(slug): Path<String>) -> PageResult {
    let categories = yield_!(get_categories(&blog))?;
    let Some(post) = yield_!(blog.db.find_post(&slug))? else {
        return Err(PageError::NotFound(format!(
            "There is no post at /post/{slug}."
        )));
    };
    // Two queries in parallel, as the seed's `prev_post, next_post = yield [future_0, future_1]`.
    let at = post.position();
    let (prev_post, next_post) = yield_!((blog.db.previous_post(&at), blog.db.next_post(&at)));
    render_post(
        StatusCode::OK,
        &post,
        prev_post?.as_ref(),
        next_post?.as_ref(),
        &categories,
    )
}

/// The post page: `post`, its paragraphs, links to its neighbours, and the sidebar.
pub(crate) fn render_post(
    status: StatusCode,
    post: &Post,
    prev_post: Option<&Post>,
    next_post: Option<&Post>,
    categories: &[Category],
) -> PageResult {
    let paragraphs: Vec<&str> = post
        .body
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    page(
        status,
        "post.html",
        context! { post, paragraphs, prev_post, next_post, categories },
    )
}

/// `GET /category/<name>`: the category's posts, newest first.
#[coroutine_runtime::coroutine]
pub(crate) fn category(State(blog): State<Blog>, Path(name): Path<String>) -> PageResult {
    let (categories, found) = yield_!((get_categories(&blog), blog.db.category_posts(&name)));
    let (categories, found) = (categories?, found?);
    let Some((category, posts)) = found else {
        return Err(PageError::NotFound(format!(
            "There is no category called “{name}”."
        )));
    };
    page(
        StatusCode::OK,
        "category.html",
        context! { category, posts, categories => &*categories },
    )
}

/// `GET /new`: the form to write a post.
#[coroutine_runtime::coroutine]
pub(crate) fn new_post(State(blog): State<Blog>) -> PageResult {
    yield_!(form_page(
        &blog,
        StatusCode::OK,
        PostForm::default(),
        FormErrors::default(),
        None
    ))
}

/// `POST /post`: stores the form's post and shows it, or shows the form again with the reasons
/// it was refused (400) or with a note that the database failed (500), keeping what was typed.
#[coroutine_runtime::coroutine]
pub(crate) fn create_post(State(blog): State<Blog>, Form(form): Form<PostForm>) -> PageResult {
    let new_post = match form.validate() {
        Ok(new_post) => new_post,
        Err(errors) => {
            return yield_!(form_page(
                &blog,
                StatusCode::BAD_REQUEST,
                form,
                errors,
                None
            ));
        }
    };
    let slug = new_post.slug.clone();
    match yield_!(blog.db.insert_post(new_post)) {
        Ok(Inserted::Stored { new_category }) => {
            if new_category {
                // The seed's note: "I invalidate the cache whenever a post with a new category
                // is added."
                blog.categories.invalidate();
            }
            Ok(Redirect::to(&format!("/post/{slug}")).into_response())
        }
        Ok(Inserted::DuplicateSlug) => {
            let errors = FormErrors::duplicate_slug(&slug);
            yield_!(form_page(
                &blog,
                StatusCode::BAD_REQUEST,
                form,
                errors,
                None
            ))
        }
        Err(error) => {
            eprintln!("blog: {error}");
            let (status, failure) = if error.is_busy() {
                (StatusCode::SERVICE_UNAVAILABLE, POST_NOT_STORED_BUSY)
            } else {
                (StatusCode::INTERNAL_SERVER_ERROR, POST_NOT_STORED)
            };
            yield_!(form_page(
                &blog,
                status,
                form,
                FormErrors::default(),
                Some(failure)
            ))
        }
    }
}

/// The form page with `form`'s values, `errors` next to the fields and `failure` above them.
#[coroutine_runtime::coroutine]
fn form_page(
    blog: &Blog,
    status: StatusCode,
    form: PostForm,
    errors: FormErrors,
    failure: Option<&'static str>,
) -> PageResult {
    // Without the sidebar if the database fails: the form and its values are what matter here.
    let categories = yield_!(get_categories(blog)).ok();
    let limits = context! {
        title => MAX_TITLE,
        slug => MAX_SLUG,
        category => MAX_CATEGORY,
        body => MAX_BODY,
    };
    let categories = categories.as_deref();
    page(
        status,
        "new.html",
        context! { form, errors, failure, limits, categories },
    )
}

/// Any other address: the 404 page.
#[coroutine_runtime::coroutine]
pub(crate) fn not_found(uri: Uri) -> PageError {
    PageError::NotFound(format!("There is nothing at {}.", uri.path()))
}
