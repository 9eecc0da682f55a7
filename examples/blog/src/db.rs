//! The blog's database: an embedded SQLite file, reached with blocking rusqlite calls.
//!
//! Every method here blocks its thread, so the request handlers never call them directly: they
//! hand them to the [`ThreadPoolExecutor`](coroutine_runtime::ThreadPoolExecutor) and yield the
//! future it returns, the seed guide's "Calling blocking functions" pattern.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use serde::Serialize;

use crate::seed::SAMPLE_POSTS;

/// How many idle connections the database keeps open for the next queries.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// How long a query waits for another connection's write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The tables, created on first start.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS categories (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );
    CREATE TABLE IF NOT EXISTS posts (
        id          INTEGER PRIMARY KEY,
        slug        TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        body        TEXT NOT NULL,
        category_id INTEGER NOT NULL REFERENCES categories (id),
        pub_date    TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS posts_by_date ON posts (pub_date, id);
    CREATE INDEX IF NOT EXISTS posts_by_category ON posts (category_id, pub_date, id);
";

/// The columns every post query selects, in the order [`Post::from_row`] reads them.
const POST_COLUMNS: &str = "posts.id, posts.slug, posts.title, posts.body, categories.name, \
                            posts.pub_date FROM posts JOIN categories ON categories.id = posts.category_id";

/// The blog's database: a SQLite file, with a few connections kept open for reuse.
///
/// Cloning it is cheap and the clones share the connections. [`Db::open`] creates the file, its
/// tables and a dozen sample posts on first start.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("blog-doc-db-{}.sqlite", std::process::id()));
/// let db = blog::Db::open(&path)?;
/// let blog = blog::Blog::new(db);
/// # drop(blog);
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok::<(), blog::DbError>(())
/// ```
#[derive(Clone)]
pub struct Db {
    /// What the clones share.
    inner: Arc<Inner>,
}

/// The state the clones of a [`Db`] share.
struct Inner {
    /// The database file.
    path: PathBuf,
    /// Open connections that no query is using; at most [`MAX_IDLE_CONNECTIONS`].
    idle: Mutex<Vec<Connection>>,
    /// Set by [`Db::fail_query_after`]: 0 when no query is to fail, else the failing query's
    /// number among the next ones, counting from 1.
    fail_countdown: AtomicUsize,
    /// Set by [`Db::set_query_delay`]: how long each operation sleeps before it runs.
    delay: Mutex<Duration>,
    /// How many operations are running now.
    running: AtomicUsize,
    /// The most operations that ran at once; see [`Db::max_concurrent_queries`].
    max_running: AtomicUsize,
}

/// A failed database operation: SQLite's error, or an unreadable file.
///
/// # Examples
///
/// ```
/// // A directory is not a database.
/// let error = blog::Db::open(std::env::temp_dir()).err().unwrap();
/// assert!(error.to_string().starts_with("database error: "));
/// ```
#[derive(Debug)]
pub struct DbError(rusqlite::Error);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        DbError(error)
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
    /// Reads a post from a row selected with [`POST_COLUMNS`].
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Post> {
        Ok(Post {
            id: row.get(0)?,
            slug: row.get(1)?,
            title: row.get(2)?,
            body: row.get(3)?,
            category: row.get(4)?,
            pub_date: row.get(5)?,
        })
    }

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

impl Db {
    /// Opens the database file at `path`, creating it, its tables and the sample posts if it has
    /// none.
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
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Db, DbError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = connect(&path)?;
        conn.execute_batch(SCHEMA)?;
        seed(&mut conn)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path,
                idle: Mutex::new(vec![conn]),
                fail_countdown: AtomicUsize::new(0),
                delay: Mutex::new(Duration::ZERO),
                running: AtomicUsize::new(0),
                max_running: AtomicUsize::new(0),
            }),
        })
    }

    /// Makes the next database operation fail with a real SQLite error, as a broken or
    /// unreadable database would: the test hook for the blog's 500 page.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-fail-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// db.fail_next_query(); // the next page that reads the database answers 500
    /// # drop(db);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn fail_next_query(&self) {
        self.fail_query_after(0);
    }

    /// Lets `successes` database operations through, then makes the next one fail with a real
    /// SQLite error: the test hook for a failure in the middle of a page.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-after-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// // A post page, with the categories cached, finds the post and then fails while finding
    /// // the previous or the next one.
    /// db.fail_query_after(1);
    /// # drop(db);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn fail_query_after(&self, successes: usize) {
        self.inner
            .fail_countdown
            .store(successes + 1, Ordering::SeqCst);
    }

    /// Makes every later database operation sleep for `delay` on its thread before it runs, as
    /// a slow database would: the test hook that makes concurrent queries overlap visibly.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-delay-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// db.set_query_delay(std::time::Duration::from_millis(50));
    /// # drop(db);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), blog::DbError>(())
    /// ```
    pub fn set_query_delay(&self, delay: Duration) {
        *self
            .inner
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// The most database operations that have run at the same time since the database was
    /// opened: 2 or more once a page's parallel queries overlapped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("blog-doc-max-{}.sqlite", std::process::id()));
    /// let db = blog::Db::open(&path)?;
    /// assert_eq!(db.max_concurrent_queries(), 0); // opening it is not counted
    /// # drop(db);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), blog::DbError>(())
    /// ```
    #[must_use]
    pub fn max_concurrent_queries(&self) -> usize {
        self.inner.max_running.load(Ordering::SeqCst)
    }

    /// Every post, newest first.
    pub(crate) fn recent_posts(&self) -> Result<Vec<Post>, DbError> {
        self.with_connection(|conn| {
            let sql = format!("SELECT {POST_COLUMNS} ORDER BY posts.pub_date DESC, posts.id DESC");
            conn.prepare(&sql)?.query_map([], Post::from_row)?.collect()
        })
    }

    /// The post at `slug`, if there is one.
    pub(crate) fn post(&self, slug: &str) -> Result<Option<Post>, DbError> {
        self.with_connection(|conn| {
            let sql = format!("SELECT {POST_COLUMNS} WHERE posts.slug = ?1");
            conn.query_row(&sql, [slug], Post::from_row).optional()
        })
    }

    /// The post published just before `at`, if any: the seed's
    /// `find_one({'pub_date': {'$lt': …}}, sort=[('pub_date', -1)])`.
    pub(crate) fn previous_post(&self, at: &Position) -> Result<Option<Post>, DbError> {
        self.with_connection(|conn| {
            let sql = format!(
                "SELECT {POST_COLUMNS} WHERE (posts.pub_date, posts.id) < (?1, ?2) \
                 ORDER BY posts.pub_date DESC, posts.id DESC LIMIT 1"
            );
            conn.query_row(&sql, params![at.pub_date, at.id], Post::from_row)
                .optional()
        })
    }

    /// The post published just after `at`, if any: the seed's
    /// `find_one({'pub_date': {'$gt': …}}, sort=[('pub_date', 1)])`.
    pub(crate) fn next_post(&self, at: &Position) -> Result<Option<Post>, DbError> {
        self.with_connection(|conn| {
            let sql = format!(
                "SELECT {POST_COLUMNS} WHERE (posts.pub_date, posts.id) > (?1, ?2) \
                 ORDER BY posts.pub_date ASC, posts.id ASC LIMIT 1"
            );
            conn.query_row(&sql, params![at.pub_date, at.id], Post::from_row)
                .optional()
        })
    }

    /// The category called `name` (in any letter case) and its posts, newest first; `None` when
    /// there is no such category.
    pub(crate) fn category_posts(
        &self,
        name: &str,
    ) -> Result<Option<(Category, Vec<Post>)>, DbError> {
        self.with_connection(|conn| {
            let tx = conn.transaction()?;
            let category = tx
                .query_row(
                    "SELECT name FROM categories WHERE name = ?1",
                    [name],
                    |row| Ok(Category { name: row.get(0)? }),
                )
                .optional()?;
            let Some(category) = category else {
                return Ok(None);
            };
            let sql = format!(
                "SELECT {POST_COLUMNS} WHERE categories.name = ?1 \
                 ORDER BY posts.pub_date DESC, posts.id DESC"
            );
            let posts = tx
                .prepare(&sql)?
                .query_map([&category.name], Post::from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((category, posts)))
        })
    }

    /// Every category, by name: the seed's `db.categories.find().sort('name')`.
    pub(crate) fn categories(&self) -> Result<Vec<Category>, DbError> {
        self.with_connection(|conn| {
            conn.prepare("SELECT name FROM categories ORDER BY name")?
                .query_map([], |row| Ok(Category { name: row.get(0)? }))?
                .collect()
        })
    }

    /// Stores `post`, published now, creating its category if it is new; in one transaction, so
    /// the post and its category are stored together or not at all.
    pub(crate) fn insert_post(&self, post: &NewPost) -> Result<Inserted, DbError> {
        self.with_connection(|conn| {
            // Dropping the transaction without committing it rolls everything back.
            let tx = conn.transaction()?;
            let new_category = tx.execute(
                "INSERT INTO categories (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
                [&post.category],
            )? == 1;
            let category_id: i64 = tx.query_row(
                "SELECT id FROM categories WHERE name = ?1",
                [&post.category],
                |row| row.get(0),
            )?;
            let inserted = tx.execute(
                "INSERT INTO posts (slug, title, body, category_id, pub_date) \
                 VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                params![post.slug, post.title, post.body, category_id],
            );
            match inserted {
                Ok(_) => {
                    tx.commit()?;
                    Ok(Inserted::Stored { new_category })
                }
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.code == ErrorCode::ConstraintViolation =>
                {
                    Ok(Inserted::DuplicateSlug)
                }
                Err(error) => Err(error),
            }
        })
    }

    /// Runs `query` on an idle connection (or a new one), then keeps the connection for the next
    /// query; counts it while it runs. Fails instead when [`Db::fail_query_after`] asked for it.
    fn with_connection<T>(
        &self,
        query: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let running = self.inner.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.max_running.fetch_max(running, Ordering::SeqCst);
        let result = self.run(query);
        self.inner.running.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// [`with_connection`](Self::with_connection)'s work, between its counts.
    fn run<T>(
        &self,
        query: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let delay = *self
            .inner
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let idle = self.idle().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => connect(&self.inner.path)?,
        };
        let countdown =
            self.inner
                .fail_countdown
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        let result = if countdown == Ok(1) {
            // A real SQLite error ("no such table"), through the same path as any other.
            conn.execute_batch("SELECT * FROM injected_failure")
                .and_then(|()| query(&mut conn))
        } else {
            query(&mut conn)
        };
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(conn);
        }
        Ok(result?)
    }

    /// The idle connections; a panic in another query does not make them unusable.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Opens a connection to the file at `path`, set up for concurrent readers and one writer.
fn connect(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Readers do not wait for a writer in write-ahead-log mode.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// Fills an empty database with the sample posts, all or none.
fn seed(conn: &mut Connection) -> Result<(), DbError> {
    // `IMMEDIATE`: two servers starting on the same file cannot both see it empty.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let count: i64 = tx.query_row("SELECT COUNT(*) FROM posts", [], |row| row.get(0))?;
    if count == 0 {
        for sample in SAMPLE_POSTS {
            tx.execute(
                "INSERT INTO categories (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
                [sample.category],
            )?;
            tx.execute(
                "INSERT INTO posts (slug, title, body, category_id, pub_date) \
                 SELECT ?1, ?2, ?3, id, ?5 FROM categories WHERE name = ?4",
                params![
                    sample.slug,
                    sample.title,
                    sample.body,
                    sample.category,
                    sample.pub_date
                ],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}
