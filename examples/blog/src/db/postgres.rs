//! The PostgreSQL backend: tokio-postgres, an asynchronous driver, with a deadpool pool.
//!
//! Every function here is `async`: [`Db`](super::Db) hands the handlers the driver's futures,
//! which they yield directly.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls, Row};

use super::{
    Category, DbError, ErrorKind, Event, Inserted, NEW_CATEGORY, NEW_POST, NewPost, Position, Post,
};
use crate::seed::SAMPLE_POSTS;

/// The most connections one process keeps open.
const MAX_CONNECTIONS: usize = 16;

/// How long a query waits for a connection, or for one to be made, before it fails: a stopped
/// server gives a 500 page in this time, not a hung request.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);

/// The channel `NOTIFY` wakes the event feed's tails on.
pub(crate) const CHANNEL: &str = "blog_events";

/// The tables, created on first start. Dates and slugs sort byte by byte (`"C"`), as SQLite's
/// do; category names are unique in any letter case, as SQLite's `NOCASE` makes them.
const SCHEMA: &str = r#"
    CREATE TABLE IF NOT EXISTS categories (
        id   BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS categories_by_name ON categories (lower(name));
    CREATE TABLE IF NOT EXISTS posts (
        id          BIGSERIAL PRIMARY KEY,
        slug        TEXT COLLATE "C" NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        body        TEXT NOT NULL,
        category_id BIGINT NOT NULL REFERENCES categories (id),
        pub_date    TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX IF NOT EXISTS posts_by_date ON posts (pub_date, id);
    CREATE INDEX IF NOT EXISTS posts_by_category ON posts (category_id, pub_date, id);
    CREATE TABLE IF NOT EXISTS events (
        id   BIGSERIAL PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL
    );
"#;

/// The advisory lock that serialises schema creation and event writes across processes.
const LOCK: i64 = 0x0b10_6f33;

/// The columns every post query selects, in the order [`post_from_row`] reads them.
const POST_COLUMNS: &str = "posts.id, posts.slug, posts.title, posts.body, categories.name, \
                            posts.pub_date FROM posts JOIN categories ON categories.id = posts.category_id";

/// A PostgreSQL database, through a pool of connections.
#[derive(Clone)]
pub(super) struct PgDb {
    /// The connections.
    pool: Pool,
    /// Where the database is, for connections outside the pool (the feed's).
    config: Config,
    /// The address as given, without its password, for messages.
    address: String,
}

impl PgDb {
    /// Connects to the database at `address` (`postgres://…`), creating the tables and the
    /// sample posts if it has none.
    pub(super) async fn connect(address: &str) -> Result<PgDb, DbError> {
        let config: Config = address.parse()?;
        let mut config = config;
        config.connect_timeout(CONNECTION_TIMEOUT);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(MAX_CONNECTIONS)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECTION_TIMEOUT))
            .create_timeout(Some(CONNECTION_TIMEOUT))
            .recycle_timeout(Some(CONNECTION_TIMEOUT))
            .build()
            .map_err(|error| DbError(ErrorKind::Config(error.to_string())))?;
        let db = PgDb {
            pool,
            config,
            address: redact(address),
        };
        let mut client = db.client(false).await?;
        create(&mut client).await?;
        Ok(db)
    }

    /// A pooled connection; with `fail`, a real PostgreSQL error instead, as a broken database
    /// would give.
    pub(super) async fn client(&self, fail: bool) -> Result<Object, DbError> {
        let client = self.pool.get().await?;
        if fail {
            client
                .batch_execute("SELECT * FROM injected_failure")
                .await?;
        }
        Ok(client)
    }

    /// Where the database is.
    pub(super) fn config(&self) -> Config {
        self.config.clone()
    }

    /// The address, without its password.
    pub(super) fn address(&self) -> &str {
        &self.address
    }
}

/// `address` with any password replaced by `***`.
fn redact(address: &str) -> String {
    let Some((scheme, rest)) = address.split_once("://") else {
        return address.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => address.to_owned(),
    }
}

/// Creates the tables and the sample posts, once, however many processes start together.
async fn create(client: &mut Object) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    tx.batch_execute(SCHEMA).await?;
    let count: i64 = tx
        .query_one("SELECT COUNT(*) FROM posts", &[])
        .await?
        .get(0);
    if count == 0 {
        for sample in SAMPLE_POSTS {
            tx.execute(
                "INSERT INTO categories (name) VALUES ($1) ON CONFLICT (lower(name)) DO NOTHING",
                &[&sample.category],
            )
            .await?;
            tx.execute(
                "INSERT INTO posts (slug, title, body, category_id, pub_date) \
                 SELECT $1, $2, $3, id, $5 FROM categories WHERE lower(name) = lower($4)",
                &[
                    &sample.slug,
                    &sample.title,
                    &sample.body,
                    &sample.category,
                    &sample.pub_date,
                ],
            )
            .await?;
        }
    }
    tx.commit().await
}

/// Reads a post from a row selected with [`POST_COLUMNS`].
fn post_from_row(row: &Row) -> Post {
    Post {
        id: row.get(0),
        slug: row.get(1),
        title: row.get(2),
        body: row.get(3),
        category: row.get(4),
        pub_date: row.get(5),
    }
}

/// Every post, newest first.
pub(super) async fn recent_posts(client: Object) -> Result<Vec<Post>, tokio_postgres::Error> {
    let sql = format!("SELECT {POST_COLUMNS} ORDER BY posts.pub_date DESC, posts.id DESC");
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[]).await?;
    Ok(rows.iter().map(post_from_row).collect())
}

/// The post at `slug`, if there is one.
pub(super) async fn find_post(
    client: Object,
    slug: String,
) -> Result<Option<Post>, tokio_postgres::Error> {
    let sql = format!("SELECT {POST_COLUMNS} WHERE posts.slug = $1");
    let statement = client.prepare_cached(&sql).await?;
    let row = client.query_opt(&statement, &[&slug]).await?;
    Ok(row.as_ref().map(post_from_row))
}

/// The post just after (`after`) or just before `at`, if any.
pub(super) async fn neighbour(
    client: Object,
    at: Position,
    after: bool,
) -> Result<Option<Post>, tokio_postgres::Error> {
    let (comparison, order) = if after { (">", "ASC") } else { ("<", "DESC") };
    let sql = format!(
        "SELECT {POST_COLUMNS} WHERE (posts.pub_date, posts.id) {comparison} ($1, $2) \
         ORDER BY posts.pub_date {order}, posts.id {order} LIMIT 1"
    );
    let statement = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(&statement, &[&at.pub_date, &at.id])
        .await?;
    Ok(row.as_ref().map(post_from_row))
}

/// The category called `name` (in any letter case) and its posts, newest first.
pub(super) async fn category_posts(
    mut client: Object,
    name: String,
) -> Result<Option<(Category, Vec<Post>)>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT id, name FROM categories WHERE lower(name) = lower($1)",
            &[&name],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (id, name): (i64, String) = (row.get(0), row.get(1));
    let sql = format!(
        "SELECT {POST_COLUMNS} WHERE posts.category_id = $1 \
         ORDER BY posts.pub_date DESC, posts.id DESC"
    );
    let posts = tx.query(&sql, &[&id]).await?;
    let posts = posts.iter().map(post_from_row).collect();
    tx.commit().await?;
    Ok(Some((Category { name }, posts)))
}

/// Every category, by name in any letter case.
pub(super) async fn categories(client: Object) -> Result<Vec<Category>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(r#"SELECT name FROM categories ORDER BY lower(name) COLLATE "C", name"#)
        .await?;
    let rows = client.query(&statement, &[]).await?;
    Ok(rows
        .iter()
        .map(|row| Category { name: row.get(0) })
        .collect())
}

/// Stores `post` and its events, creating its category if it is new, in one transaction; the
/// commit wakes every tail with `NOTIFY`.
pub(super) async fn insert_post(
    mut client: Object,
    post: NewPost,
) -> Result<Inserted, tokio_postgres::Error> {
    // Dropping the transaction without committing it rolls everything back.
    let tx = client.transaction().await?;
    let new_category = tx
        .execute(
            "INSERT INTO categories (name) VALUES ($1) ON CONFLICT (lower(name)) DO NOTHING",
            &[&post.category],
        )
        .await?
        == 1;
    let inserted = tx
        .execute(
            "INSERT INTO posts (slug, title, body, category_id, pub_date) \
             SELECT $1, $2, $3, id, \
                    to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') \
             FROM categories WHERE lower(name) = lower($4)",
            &[&post.slug, &post.title, &post.body, &post.category],
        )
        .await;
    match inserted {
        Ok(_) => {}
        Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Ok(Inserted::DuplicateSlug);
        }
        Err(error) => return Err(error),
    }
    // Event ids are taken under a lock held to the commit, so they are committed in id order
    // and a tail reading "after the last id it saw" never skips one.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    let event = "INSERT INTO events (kind, name) VALUES ($1, $2)";
    tx.execute(event, &[&NEW_POST, &post.slug]).await?;
    if new_category {
        tx.execute(event, &[&NEW_CATEGORY, &post.category]).await?;
    }
    tx.batch_execute(&format!("NOTIFY {CHANNEL}")).await?;
    tx.commit().await?;
    Ok(Inserted::Stored { new_category })
}

/// Up to `limit` events after the one with id `after`, oldest first.
pub(super) async fn events_after(
    client: Object,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached("SELECT id, kind, name FROM events WHERE id > $1 ORDER BY id LIMIT $2")
        .await?;
    let rows = client.query(&statement, &[&after, &limit]).await?;
    Ok(rows.iter().map(event_from_row).collect())
}

/// Reads an event from a row of `id, kind, name`.
pub(crate) fn event_from_row(row: &Row) -> Event {
    Event {
        id: row.get(0),
        kind: row.get(1),
        name: row.get(2),
    }
}

/// The newest event's id, 0 when there is none.
pub(super) async fn last_event_id(client: Object) -> Result<i64, tokio_postgres::Error> {
    let statement = client
        .prepare_cached("SELECT COALESCE(MAX(id), 0)::BIGINT FROM events")
        .await?;
    Ok(client.query_one(&statement, &[]).await?.get(0))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            redact("postgres://blog:secret@db:5432/blog"),
            "postgres://blog:***@db:5432/blog"
        );
        assert_eq!(redact("postgres://blog@db/blog"), "postgres://blog@db/blog");
    }
}
