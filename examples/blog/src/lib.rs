//! The seed article's blog (Motor-Blog), with `#[coroutine]` request handlers.
//!
//! "Refactoring Tornado Coroutines" walks through the request handler of a real blog: find the
//! post for a URL, find the previous and the next post in parallel, and show the category list
//! from a cache that a coroutine subroutine fills. This crate is that blog, on real components:
//!
//! * an HTTP server from axum on tokio, whose handlers are `#[coroutine_runtime::coroutine]` fns;
//! * a database with two backends behind one interface ([`Db`]), created with a dozen sample
//!   posts on first start: an embedded SQLite file (rusqlite, with SQLite compiled in), whose
//!   blocking calls run on a [`ThreadPoolExecutor`](coroutine_runtime::ThreadPoolExecutor), or a
//!   PostgreSQL database through tokio-postgres, an asynchronous driver; the handlers yield the
//!   futures of either;
//! * an event feed in the database that every blog process tails with a background coroutine,
//!   so that several processes on one database keep their category lists fresh (the seed's
//!   last paragraph);
//! * minijinja templates, which escape every value printed.
//!
//! `cargo run -p blog` serves it on <http://127.0.0.1:8888>; see the README beside this crate.
//!
//! # Examples
//!
//! Serve the blog on a free port, from a program of your own:
//!
//! ```no_run
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let blog = blog::Blog::new(blog::Db::open("blog.sqlite")?);
//! let server = blog.bind("127.0.0.1:0").await?;
//! println!("serving on http://{}/", server.local_addr());
//! server.run().await?;
//! # Ok(())
//! # }
//! ```

mod async_handlers;
mod cache;
mod db;
mod debug;
mod feed;
mod form;
mod handlers;
mod seed;
mod serve;
mod templates;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::routing::{get, post};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;

use crate::cache::CategoryCache;
pub use crate::db::{Db, DbError};
pub use crate::serve::{Handlers, Runtime, serve};

/// The blog application: the database, the category cache, and the position of the event
/// feed's tail; what every request handler gets as its state.
///
/// Cloning it is cheap: the clones share all three.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("blog-doc-blog-{}.sqlite", std::process::id()));
/// let blog = blog::Blog::new(blog::Db::open(&path)?);
/// let router: axum::Router = blog.router(); // to serve with `axum::serve`, or to nest
/// # drop((blog, router));
/// # blog::Db::remove_sqlite(&path);
/// # Ok::<(), blog::DbError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Blog {
    /// The database; every query is a future to yield.
    db: Db,
    /// The category list `get_categories` keeps between requests.
    categories: Arc<CategoryCache>,
    /// The id of the last event the feed's tail applied.
    applied: Arc<AtomicI64>,
    /// Dropped with the last clone of the blog: that ends its tail.
    alive: Arc<watch::Sender<()>>,
}

impl Blog {
    /// The blog of the posts in `db`, with an empty category cache.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-new-{}.sqlite", std::process::id()));
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// # drop(blog);
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn new(db: Db) -> Blog {
        Blog {
            db,
            categories: Arc::default(),
            applied: Arc::default(),
            alive: Arc::new(watch::channel(()).0),
        }
    }

    /// The id of the last event of the feed that this process's tail applied; 0 until it
    /// applied one (see [`Server::run`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-applied-{}.sqlite", std::process::id()));
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// assert_eq!(blog.events_applied(), 0);
    /// # drop(blog);
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn events_applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// The blog's database; tests use it to [make a query fail](Db::fail_next_query).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-dbof-{}.sqlite", std::process::id()));
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// blog.db().fail_next_query();
    /// # drop(blog);
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The blog's routes, each served by a `#[coroutine]` handler:
    ///
    /// | route | page |
    /// | --- | --- |
    /// | `GET /` | every post, newest first |
    /// | `GET /post/<slug>` | the post, links to the previous and next posts; 404 if none |
    /// | `GET /category/<name>` | the category's posts; 404 if there is no such category |
    /// | `GET /new` | the form to write a post |
    /// | `POST /post` | stores the post and redirects to it; 400 with the reasons if refused |
    /// | `GET /debug/coroutines` | the suspended coroutines at their yield lines (`?format=json`, `?older_than=5s`); needs the `introspect` feature, else 501 |
    ///
    /// Every page but the error pages shows the category sidebar. A database failure answers
    /// 500, and any other address 404.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-router-{}.sqlite", std::process::id()));
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// let app = axum::Router::new().nest("/blog", blog.router());
    /// # drop((blog, app));
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn router(&self) -> Router {
        self.router_with(Handlers::Coroutines)
    }

    /// The blog's routes, with the post page served by `handlers`: the `#[coroutine]` handlers,
    /// or the same handlers written as plain `async fn`s, for the load test's comparison.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-with-{}.sqlite", std::process::id()));
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// let app: axum::Router = blog.router_with(blog::Handlers::AsyncFns);
    /// # drop((blog, app));
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn router_with(&self, handlers: Handlers) -> Router {
        let show_post = match handlers {
            Handlers::Coroutines => get(handlers::show_post),
            Handlers::AsyncFns => get(async_handlers::show_post),
        };
        Router::new()
            .route("/", get(handlers::index))
            .route("/post/{slug}", show_post)
            .route("/category/{name}", get(handlers::category))
            .route("/new", get(handlers::new_post))
            .route("/post", post(handlers::create_post))
            .route("/debug/coroutines", get(debug::coroutines))
            .fallback(handlers::not_found)
            .with_state(self.clone())
    }

    /// Binds a listener at `addr` (port 0 picks a free port) for [`Server::run`] to serve the
    /// blog on.
    ///
    /// # Errors
    ///
    /// Returns the error when the address cannot be resolved or bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-bind-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let blog = blog::Blog::new(blog::Db::open(&path)?);
    /// let server = blog.bind("127.0.0.1:0").await?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            router: self.router(),
            blog: self,
        })
    }
}

/// The blog, bound to an address and ready to [`run`](Server::run).
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("blog-doc-server-{}.sqlite", std::process::id()));
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let server = blog::Blog::new(blog::Db::open(&path)?).bind("127.0.0.1:0").await?;
/// let address = server.local_addr();
/// let serving = tokio::spawn(server.run()); // answers on http://{address}/ until aborted
/// serving.abort();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # blog::Db::remove_sqlite(&path);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Server {
    /// Accepts the connections.
    listener: TcpListener,
    /// Where `listener` is bound.
    local_addr: SocketAddr,
    /// The blog's routes.
    router: Router,
    /// The blog, whose tail `run` starts.
    blog: Blog,
}

impl Server {
    /// The address the server listens on, with the port that was picked for port 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-addr-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let server = blog::Blog::new(blog::Db::open(&path)?).bind("127.0.0.1:0").await?;
    /// assert!(server.local_addr().ip().is_loopback());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Uses `handlers` for the post page (see [`Blog::router_with`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-handlers-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let server = blog::Blog::new(blog::Db::open(&path)?).bind("127.0.0.1:0").await?;
    /// let server = server.with_handlers(blog::Handlers::AsyncFns);
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_handlers(mut self, handlers: Handlers) -> Server {
        self.router = self.blog.router_with(handlers);
        self
    }

    /// Starts the event feed's tail in the background, from the feed's newest event, then
    /// serves the blog until the task is dropped or aborted. The tail ends when the last clone
    /// of the blog is dropped.
    ///
    /// # Errors
    ///
    /// Returns the database's error if the feed's position cannot be read at start, and the
    /// listener's error if it stops accepting connections for good.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = blog::Blog::new(blog::Db::open("blog.sqlite")?).bind("127.0.0.1:8888").await?;
    /// server.run().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(self) -> io::Result<()> {
        let Server {
            listener,
            router,
            blog,
            ..
        } = self;
        let position = blog.db.feed_start().await.map_err(io::Error::other)?;
        let feed = feed::Feed::new(blog.db.clone(), position, blog.alive.subscribe());
        let (categories, applied) = (Arc::clone(&blog.categories), Arc::clone(&blog.applied));
        // Events committed before the tail's start may predate the cached list.
        blog.categories.invalidate();
        serve::spawn_callback(move || feed::tail(feed, categories, applied));
        drop(blog);
        axum::serve(listener, router).await
    }
}
