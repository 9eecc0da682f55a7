//! The SQLite backend: an embedded file, reached with blocking rusqlite calls.
//!
//! Every function here blocks its thread, so [`Db`](super::Db) runs them on its
//! [`ThreadPoolExecutor`](coroutine_runtime::ThreadPoolExecutor) and hands the handlers the
//! future `pool.submit` returns.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use super::{Category, DbError, Event, Inserted, NEW_CATEGORY, NEW_POST, NewPost, Position, Post};
use crate::seed::SAMPLE_POSTS;

/// How many idle connections the database keeps open for the next queries.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// How long a query waits for another connection's write lock before it fails (and the page
/// answers 503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

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
    CREATE TABLE IF NOT EXISTS events (
        id   INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        name TEXT NOT NULL
    );
";

/// The columns every post query selects, in the order [`post_from_row`] reads them.
const POST_COLUMNS: &str = "posts.id, posts.slug, posts.title, posts.body, categories.name, \
                            posts.pub_date FROM posts JOIN categories ON categories.id = posts.category_id";

/// A SQLite file, with a few connections kept open for reuse.
#[derive(Clone)]
pub(super) struct SqliteDb {
    /// What the clones share.
    inner: Arc<Inner>,
}

/// The state the clones of a [`SqliteDb`] share.
struct Inner {
    /// The database file.
    path: PathBuf,
    /// Open connections that no query is using; at most [`MAX_IDLE_CONNECTIONS`].
    idle: Mutex<Vec<Connection>>,
}

impl SqliteDb {
    /// Opens the file at `path`, creating it, its tables and the sample posts if it has none.
    pub(super) fn open(path: &Path) -> Result<SqliteDb, DbError> {
        let mut conn = connect(path)?;
        conn.execute_batch(SCHEMA)?;
        seed(&mut conn)?;
        Ok(SqliteDb {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `query` on an idle connection (or a new one), then keeps the connection for the next
    /// query. With `fail`, a real SQLite error comes first, as a broken database would give.
    pub(super) fn with_connection<T>(
        &self,
        fail: bool,
        query: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let idle = self.idle().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => connect(&self.inner.path)?,
        };
        let result = if fail {
            // "no such table", through the same path as any other error.
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
    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads a post from a row selected with [`POST_COLUMNS`].
fn post_from_row(row: &Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: row.get(0)?,
        slug: row.get(1)?,
        title: row.get(2)?,
        body: row.get(3)?,
        category: row.get(4)?,
        pub_date: row.get(5)?,
    })
}

/// Every post, newest first.
pub(super) fn recent_posts(conn: &mut Connection) -> rusqlite::Result<Vec<Post>> {
    let sql = format!("SELECT {POST_COLUMNS} ORDER BY posts.pub_date DESC, posts.id DESC");
    conn.prepare(&sql)?.query_map([], post_from_row)?.collect()
}

/// The post at `slug`, if there is one.
pub(super) fn find_post(conn: &mut Connection, slug: &str) -> rusqlite::Result<Option<Post>> {
    let sql = format!("SELECT {POST_COLUMNS} WHERE posts.slug = ?1");
    conn.prepare(&sql)?
        .query_row([slug], post_from_row)
        .optional()
}

/// The post just after (`after`) or just before `at`, if any.
pub(super) fn neighbour(
    conn: &mut Connection,
    at: &Position,
    after: bool,
) -> rusqlite::Result<Option<Post>> {
    let (comparison, order) = if after { (">", "ASC") } else { ("<", "DESC") };
    let sql = format!(
        "SELECT {POST_COLUMNS} WHERE (posts.pub_date, posts.id) {comparison} (?1, ?2) \
         ORDER BY posts.pub_date {order}, posts.id {order} LIMIT 1"
    );
    conn.prepare(&sql)?
        .query_row(params![at.pub_date, at.id], post_from_row)
        .optional()
}

/// The category called `name` (in any letter case) and its posts, newest first.
pub(super) fn category_posts(
    conn: &mut Connection,
    name: &str,
) -> rusqlite::Result<Option<(Category, Vec<Post>)>> {
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
        .query_map([&category.name], post_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((category, posts)))
}

/// Every category, by name.
pub(super) fn categories(conn: &mut Connection) -> rusqlite::Result<Vec<Category>> {
    conn.prepare("SELECT name FROM categories ORDER BY name")?
        .query_map([], |row| Ok(Category { name: row.get(0)? }))?
        .collect()
}

/// Stores `post` and its events, creating its category if it is new, in one transaction.
pub(super) fn insert_post(conn: &mut Connection, post: &NewPost) -> rusqlite::Result<Inserted> {
    // Dropping the transaction without committing it rolls everything back. `IMMEDIATE` takes
    // the write lock first, so a locked database fails here, before anything is read.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(error, _))
            if error.code == ErrorCode::ConstraintViolation =>
        {
            return Ok(Inserted::DuplicateSlug);
        }
        Err(error) => return Err(error),
    }
    let event = "INSERT INTO events (kind, name) VALUES (?1, ?2)";
    tx.execute(event, [NEW_POST, &post.slug])?;
    if new_category {
        tx.execute(event, [NEW_CATEGORY, &post.category])?;
    }
    tx.commit()?;
    Ok(Inserted::Stored { new_category })
}

/// Up to `limit` events after the one with id `after`, oldest first.
pub(super) fn events_after(
    conn: &mut Connection,
    after: i64,
    limit: i64,
) -> rusqlite::Result<Vec<Event>> {
    conn.prepare("SELECT id, kind, name FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?
        .query_map([after, limit], |row| {
            Ok(Event {
                id: row.get(0)?,
                kind: row.get(1)?,
                name: row.get(2)?,
            })
        })?
        .collect()
}

/// The newest event's id, 0 when there is none.
pub(super) fn last_event_id(conn: &mut Connection) -> rusqlite::Result<i64> {
    conn.prepare("SELECT COALESCE(MAX(id), 0) FROM events")?
        .query_row([], |row| row.get(0))
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
