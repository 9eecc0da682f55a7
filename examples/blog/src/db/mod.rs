//! The blog's database: one interface, two backends.
//!
//! Every query is a method of [`Db`] that returns a future ([`Query`]) for a handler to yield,
//! whichever backend answers it:
//!
//! * **SQLite** (the default, embedded): rusqlite's calls block, so each runs on a
//!   [`ThreadPoolExecutor`] and the future is the one `pool.submit` returns, the seed guide's
//!   "Calling blocking functions" pattern;
//! * **PostgreSQL**: tokio-postgres is asynchronous, so the future is the driver's own, on a
//!   connection from a deadpool pool, as the seed's handlers yield Motor's futures.
//!
//! The handlers are the same code for both: `yield_!(blog.db.find_post(&slug))?`.

mod postgres;
mod sqlite;

pub(crate) use postgres::CHANNEL;

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coroutine_runtime::ThreadPoolExecutor;
use serde::Serialize;

/// How many SQLite queries run at once, each on its own pool thread.
const DATABASE_THREADS: usize = 4;

/// A database call in flight: yield it (or `.await` it) for its result.
pub(crate) type Query<T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 'static>>;

/// The kind of event that tells every process to drop its category list.
pub(crate) const NEW_CATEGORY: &str = "new-category";
/// The kind of event written for every stored post.
pub(crate) const NEW_POST: &str = "new-post";

/// The blog's database: a SQLite file, or a PostgreSQL database shared by several processes.
///
/// Cloning it is cheap and the clones share the connections. [`Db::open`] and [`Db::connect`]
/// create the tables and a dozen sample posts on first start.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("blog-doc-db-{}.sqlite", std::process::id()));
/// let db = blog::Db::open(&path)?;
/// let blog = blog::Blog::new(db);
/// # drop(blog);
/// # blog::Db::remove_sqlite(&path);
/// # Ok::<(), blog::DbError>(())
/// ```
#[derive(Clone)]
pub struct Db {
    /// Where the data lives.
    backend: Backend,
    /// The test hooks, shared by the clones.
    hooks: Arc<Hooks>,
}

/// The two places the data can live.
#[derive(Clone)]
enum Backend {
    /// A SQLite file, and the threads its blocking calls run on.
    Sqlite(sqlite::SqliteDb, ThreadPoolExecutor),
    /// A PostgreSQL database, through a pool of asynchronous connections.
    Postgres(Arc<postgres::PgDb>),
}

/// The test hooks: injected failures, a delay, and a count of concurrent queries.
#[derive(Default)]
struct Hooks {
    /// Set by [`Db::fail_query_after`]: 0 when no query is to fail, else the failing query's
    /// number among the next ones, counting from 1.
    fail_countdown: AtomicUsize,
    /// Set by [`Db::set_query_delay`]: how long each query waits before it runs.
    delay: Mutex<Duration>,
    /// How many queries are running now.
    running: AtomicUsize,
    /// The most queries that ran at once; see [`Db::max_concurrent_queries`].
    max_running: AtomicUsize,
}

impl Hooks {
    /// Whether the query being started now is the one [`Db::fail_query_after`] asked to fail.
    fn take_failure(&self) -> bool {
        self.fail_countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            == Ok(1)
    }

    /// The delay set by [`Db::set_query_delay`].
    fn delay(&self) -> Duration {
        *self.delay.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a query as running until the guard is dropped.
    fn enter(&self) -> Running<'_> {
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(running, Ordering::SeqCst);
        Running(self)
    }
}

/// A query counted as running; see [`Hooks::enter`].
struct Running<'a>(&'a Hooks);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A failed database operation: the backend's error, or an address that names no database.
///
/// # Examples
///
/// ```
/// // A directory is not a database.
/// let error = blog::Db::open(std::env::temp_dir()).err().unwrap();
/// assert!(error.to_string().starts_with("database error: "));
/// ```
#[derive(Debug)]
pub struct DbError(ErrorKind);

/// What failed.
#[derive(Debug)]
enum ErrorKind {
    /// SQLite's error.
    Sqlite(rusqlite::Error),
    /// PostgreSQL's error, from the driver.
    Postgres(tokio_postgres::Error),
    /// No connection could be had from the pool.
    Pool(deadpool_postgres::PoolError),
    /// The pool could not be built.
    Config(String),
}

impl DbError {
    /// Whether another writer holds the database's lock (SQLite's "database is locked"): the
    /// request may succeed when retried, so it is answered 503.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(&self.0, ErrorKind::Sqlite(rusqlite::Error::SqliteFailure(error, _))
            if matches!(error.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ErrorKind::Sqlite(error) => write!(f, "database error: {error}"),
            ErrorKind::Postgres(error) => write!(f, "database error: {}", postgres_message(error)),
            ErrorKind::Pool(error) => write!(f, "database error: no connection: {error}"),
            ErrorKind::Config(error) => write!(f, "database error: {error}"),
        }
    }
}

/// What went wrong in a PostgreSQL error, with the server's or the cause's message: the driver's
/// own `Display` says only `db error` for an error from the server.
pub(crate) fn postgres_message(error: &tokio_postgres::Error) -> String {
    if let Some(server) = error.as_db_error() {
        return format!("{error}: {}", server.message());
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            ErrorKind::Sqlite(error) => Some(error),
            ErrorKind::Postgres(error) => Some(error),
            ErrorKind::Pool(error) => Some(error),
            ErrorKind::Config(_) => None,
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        DbError(ErrorKind::Sqlite(error))
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        DbError(ErrorKind::Postgres(error))
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        DbError(ErrorKind::Pool(error))
    }
}

/// One blog post, as the templates show it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Post {
    /// The row id; breaks ties between posts published at the same instant.
    pub(crate) id: i64,
    /// The post's address: `/post/<slug>`.
    pub(crate) slug: String,
    /// The title.
    pub(crate) title: String,
    /// The text, paragraphs separated by blank lines.
    pub(crate) body: String,
    /// The category's name.
    pub(crate) category: String,
    /// When it was published, UTC, `YYYY-MM-DD HH:MM:SS.SSS` (so text order is time order).
    pub(crate) pub_date: String,
}

impl Post {
    /// Where the post stands in publication order: its date, then its id.
    pub(crate) fn position(&self) -> Position {
        Position {
            pub_date: self.pub_date.clone(),
            id: self.id,
        }
    }
}

/// A place in publication order, for finding the posts before and after it.
#[derive(Debug, Clone)]
pub(crate) struct Position {
    /// The publication date.
    pub_date: String,
    /// The row id, for posts published at the same instant.
    id: i64,
}

/// A category, as the sidebar lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Category {
    /// Its name, as first written.
    pub(crate) name: String,
}

/// A post to add, already validated.
#[derive(Debug, Clone)]
pub(crate) struct NewPost {
    /// The slug; unique among posts.
    pub(crate) slug: String,
    /// The title.
    pub(crate) title: String,
    /// The text.
    pub(crate) body: String,
    /// The category's name; the category is created when it is new.
    pub(crate) category: String,
}

/// What [`Db::insert_post`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The post is stored; `new_category` tells whether its category was created with it.
    Stored {
        /// Whether the post's category did not exist before.
        new_category: bool,
    },
    /// Another post has this slug; nothing was stored.
    DuplicateSlug,
}

/// An entry of the event feed: what changed, in the order it was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// Its place in the feed; larger is later.
    pub(crate) id: i64,
    /// `"new-post"` or `"new-category"`.
    pub(crate) kind: String,
    /// The post's slug or the category's name.
    pub(crate) name: String,
}

impl Db {
    /// Opens the SQLite database file at `path`, creating it, its tables and the sample posts if
    /// it has none.
    ///
    /// # Errors
    ///
    /// Returns the error when the file cannot be opened or created, is not a SQLite database, or
    /// the tables cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("blog-doc-open-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// // Opening it again finds the same posts and adds none.
    /// let again = blog::Db::open(&path)?;
    /// # drop((db, again));
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Db, DbError> {
        let db = sqlite::SqliteDb::open(path.as_ref())?;
        Ok(Db::with(Backend::Sqlite(
            db,
            ThreadPoolExecutor::new(DATABASE_THREADS),
        )))
    }

    /// Deletes the SQLite database file at `path` with its write-ahead log (`-wal`) and shared
    /// memory (`-shm`) files; files that are not there are skipped. For scratch databases.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("blog-doc-remove-{}.sqlite", std::process::id()));
    /// drop(blog::Db::open(&path)?);
    /// blog::Db::remove_sqlite(&path);
    /// assert!(!path.exists());
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn remove_sqlite(path: impl AsRef<Path>) {
        let path = path.as_ref().display();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }

    /// Opens the database that `address` names: `postgres://…` or `postgresql://…` for
    /// PostgreSQL, `sqlite:PATH` or a bare path for a SQLite file. Creates the tables and the
    /// sample posts if the database has none.
    ///
    /// PostgreSQL's connections come from a pool and are made on tokio, so this and every
    /// query of a PostgreSQL `Db` run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// Returns the error when the address is malformed, the database cannot be reached, or the
    /// tables cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-connect-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let db = blog::Db::connect(&format!("sqlite:{}", path.display())).await?;
    /// assert_eq!(db.backend_name(), "SQLite");
    /// // An unreachable server is an error, not a hang.
    /// let refused = blog::Db::connect("postgres://nobody@127.0.0.1:1/blog").await;
    /// assert!(refused.err().unwrap().to_string().starts_with("database error: "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn connect(address: &str) -> Result<Db, DbError> {
        if address.starts_with("postgres://") || address.starts_with("postgresql://") {
            let db = postgres::PgDb::connect(address).await?;
            return Ok(Db::with(Backend::Postgres(Arc::new(db))));
        }
        Db::open(address.strip_prefix("sqlite:").unwrap_or(address))
    }

    /// A `Db` on `backend` with no hook set.
    fn with(backend: Backend) -> Db {
        Db {
            backend,
            hooks: Arc::default(),
        }
    }

    /// `"SQLite"` or `"PostgreSQL"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-name-{}.sqlite", std::process::id()));
    /// assert_eq!(blog::Db::open(&path)?.backend_name(), "SQLite");
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(..) => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// Makes the next database query fail with a real error from the backend, as a broken or
    /// unreadable database would: the test hook for the blog's 500 page.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-fail-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let db = blog::Db::open(&path)?;
    /// db.fail_next_query();
    /// let error = db.last_event_id().await.unwrap_err();
    /// assert_eq!(error.to_string(), "database error: no such table: injected_failure");
    /// assert!(db.last_event_id().await.is_ok()); // only the next one fails
    /// # Ok::<(), blog::DbError>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fail_next_query(&self) {
        self.fail_query_after(0);
    }

    /// Lets `successes` database queries through, then makes the next one fail with a real
    /// error from the backend: the test hook for a failure in the middle of a page.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-after-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let db = blog::Db::open(&path)?;
    /// db.fail_query_after(2);
    /// assert!(db.last_event_id().await.is_ok());
    /// assert!(db.last_event_id().await.is_ok());
    /// assert!(db.last_event_id().await.is_err()); // the third query fails
    /// assert!(db.last_event_id().await.is_ok());
    /// # Ok::<(), blog::DbError>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fail_query_after(&self, successes: usize) {
        self.hooks
            .fail_countdown
            .store(successes + 1, Ordering::SeqCst);
    }

    /// Makes every later database query wait for `delay` before it runs, as a slow database
    /// would (a SQLite query sleeps on its pool thread, a PostgreSQL query on a timer): the test
    /// hook that makes concurrent queries overlap visibly.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-delay-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// use std::time::{Duration, Instant};
    /// let db = blog::Db::open(&path)?;
    /// db.set_query_delay(Duration::from_millis(50));
    /// let start = Instant::now();
    /// db.last_event_id().await?;
    /// assert!(start.elapsed() >= Duration::from_millis(50));
    /// // Two queries started together run together: the count sees both at once.
    /// let (a, b) = tokio::join!(db.last_event_id(), db.last_event_id());
    /// assert_eq!((a?, b?), (0, 0));
    /// assert_eq!(db.max_concurrent_queries(), 2);
    /// # Ok::<(), blog::DbError>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_query_delay(&self, delay: Duration) {
        *self
            .hooks
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// The most database queries that have run at the same time since the database was
    /// opened: 2 or more once a page's parallel queries overlapped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-max-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// assert_eq!(db.max_concurrent_queries(), 0); // opening it is not counted
    /// # drop(db);
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn max_concurrent_queries(&self) -> usize {
        self.hooks.max_running.load(Ordering::SeqCst)
    }

    /// The id of the feed's newest event, 0 when it has none: where a new tail starts.
    ///
    /// # Errors
    ///
    /// Returns the database's error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-last-{}.sqlite", std::process::id()));
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let db = blog::Db::open(&path)?;
    /// assert_eq!(db.last_event_id().await?, 0); // the sample posts make no events
    /// # Ok::<(), blog::DbError>(())
    /// # })?;
    /// # blog::Db::remove_sqlite(&path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_event_id(&self) -> impl Future<Output = Result<i64, DbError>> + Send + 'static {
        match &self.backend {
            Backend::Sqlite(db, pool) => self.blocking(db, pool, sqlite::last_event_id),
            Backend::Postgres(db) => self.nonblocking(db, postgres::last_event_id),
        }
    }

    /// Every post, newest first.
    pub(crate) fn recent_posts(&self) -> Query<Vec<Post>> {
        match &self.backend {
            Backend::Sqlite(db, pool) => self.blocking(db, pool, sqlite::recent_posts),
            Backend::Postgres(db) => self.nonblocking(db, postgres::recent_posts),
        }
    }

    /// The post at `slug`, if there is one.
    pub(crate) fn find_post(&self, slug: &str) -> Query<Option<Post>> {
        let slug = slug.to_owned();
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                self.blocking(db, pool, move |conn| sqlite::find_post(conn, &slug))
            }
            Backend::Postgres(db) => {
                self.nonblocking(db, move |client| postgres::find_post(client, slug))
            }
        }
    }

    /// The post published just before `at`, if any: the seed's
    /// `find_one({'pub_date': {'$lt': …}}, sort=[('pub_date', -1)])`.
    pub(crate) fn previous_post(&self, at: &Position) -> Query<Option<Post>> {
        self.neighbour(at, false)
    }

    /// The post published just after `at`, if any: the seed's
    /// `find_one({'pub_date': {'$gt': …}}, sort=[('pub_date', 1)])`.
    pub(crate) fn next_post(&self, at: &Position) -> Query<Option<Post>> {
        self.neighbour(at, true)
    }

    /// The post just after (`after`) or just before `at`.
    fn neighbour(&self, at: &Position, after: bool) -> Query<Option<Post>> {
        let at = at.clone();
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                self.blocking(db, pool, move |conn| sqlite::neighbour(conn, &at, after))
            }
            Backend::Postgres(db) => {
                self.nonblocking(db, move |client| postgres::neighbour(client, at, after))
            }
        }
    }

    /// The category called `name` (in any letter case) and its posts, newest first; `None` when
    /// there is no such category.
    pub(crate) fn category_posts(&self, name: &str) -> Query<Option<(Category, Vec<Post>)>> {
        let name = name.to_owned();
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                self.blocking(db, pool, move |conn| sqlite::category_posts(conn, &name))
            }
            Backend::Postgres(db) => {
                self.nonblocking(db, move |client| postgres::category_posts(client, name))
            }
        }
    }

    /// Every category, by name: the seed's `db.categories.find().sort('name')`.
    pub(crate) fn categories(&self) -> Query<Vec<Category>> {
        match &self.backend {
            Backend::Sqlite(db, pool) => self.blocking(db, pool, sqlite::categories),
            Backend::Postgres(db) => self.nonblocking(db, postgres::categories),
        }
    }

    /// Stores `post`, published now, creating its category if it is new, and writes the events
    /// that tell the other processes (`new-post`, and `new-category` when the category is new);
    /// all in one transaction, so they are stored together or not at all.
    pub(crate) fn insert_post(&self, post: NewPost) -> Query<Inserted> {
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                self.blocking(db, pool, move |conn| sqlite::insert_post(conn, &post))
            }
            Backend::Postgres(db) => {
                self.nonblocking(db, move |client| postgres::insert_post(client, post))
            }
        }
    }

    /// Up to `limit` events after the one with id `after`, oldest first. The feed's query:
    /// the test hooks leave it alone, so a tail polling in the background cannot take a failure
    /// meant for a page.
    pub(crate) fn events_after(&self, after: i64, limit: i64) -> Query<Vec<Event>> {
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                let db = db.clone();
                Box::pin(pool.submit(move || {
                    db.with_connection(false, move |conn| sqlite::events_after(conn, after, limit))
                }))
            }
            Backend::Postgres(db) => {
                let db = db.clone();
                Box::pin(async move {
                    let client = db.client(false).await?;
                    Ok(postgres::events_after(client, after, limit).await?)
                })
            }
        }
    }

    /// [`last_event_id`](Self::last_event_id) for the feed's start, which the test hooks leave
    /// alone.
    pub(crate) fn feed_start(&self) -> Query<i64> {
        match &self.backend {
            Backend::Sqlite(db, pool) => {
                let db = db.clone();
                Box::pin(pool.submit(move || db.with_connection(false, sqlite::last_event_id)))
            }
            Backend::Postgres(db) => {
                let db = db.clone();
                Box::pin(async move {
                    let client = db.client(false).await?;
                    Ok(postgres::last_event_id(client).await?)
                })
            }
        }
    }

    /// The PostgreSQL address, for the feed's own listening connection; `None` for SQLite.
    pub(crate) fn postgres_config(&self) -> Option<tokio_postgres::Config> {
        match &self.backend {
            Backend::Sqlite(..) => None,
            Backend::Postgres(db) => Some(db.config()),
        }
    }

    /// Runs the blocking `query` on a SQLite connection on the pool: the future is the one
    /// `pool.submit` returns.
    fn blocking<T, F>(&self, db: &sqlite::SqliteDb, pool: &ThreadPoolExecutor, query: F) -> Query<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let fail = self.hooks.take_failure();
        let (db, hooks) = (db.clone(), Arc::clone(&self.hooks));
        Box::pin(pool.submit(move || {
            let _running = hooks.enter();
            let delay = hooks.delay();
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            db.with_connection(fail, query)
        }))
    }

    /// Runs the asynchronous `query` on a pooled PostgreSQL connection: the future is the
    /// driver's.
    fn nonblocking<T, F, Fut>(&self, db: &postgres::PgDb, query: F) -> Query<T>
    where
        T: Send + 'static,
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let fail = self.hooks.take_failure();
        let (db, hooks) = (db.clone(), Arc::clone(&self.hooks));
        Box::pin(async move {
            let _running = hooks.enter();
            let delay = hooks.delay();
            if !delay.is_zero() {
                coroutine_runtime::sleep(delay).await;
            }
            let client = db.client(fail).await?;
            Ok(query(client).await?)
        })
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Db");
        match &self.backend {
            Backend::Sqlite(db, _) => debug.field("sqlite", &db.path()),
            Backend::Postgres(db) => debug.field("postgres", &db.address()),
        };
        debug.finish_non_exhaustive()
    }
}
