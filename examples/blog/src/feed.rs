//! The event feed, and the background coroutine that tails it: the seed's capped collection
//! that "all the Tornado servers are always tailing".
//!
//! Every stored post writes its events in its own transaction (`new-post`, and `new-category`
//! when its category is new). Each blog process tails the feed from where it started and drops
//! its category list on each `new-category` event, so a category created through one process
//! shows in every process's sidebar.
//!
//! * **PostgreSQL**: the commit sends `NOTIFY blog_events`; the tail `LISTEN`s on a connection
//!   of its own and sleeps until a notification comes (no polling).
//! * **SQLite**: there is no notification, so the tail looks for new events every
//!   [`SQLITE_POLL_INTERVAL`] (200 ms).
//!
//! The tail remembers the id of the last event it applied and reads "after it", so after a lost
//! connection it catches up on what it missed; applying an event twice only drops the list
//! twice. When the database fails, the tail logs it and retries with a backoff from
//! [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`], while the pages go on being served.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use coroutine_runtime::{sleep, yield_};
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};

use crate::cache::CategoryCache;
use crate::db::{Db, DbError, Event, NEW_CATEGORY};

/// How often a tail on SQLite looks for new events.
pub(crate) const SQLITE_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The first wait after the database failed.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two tries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How many events one read takes.
const BATCH: i64 = 100;

/// PostgreSQL: the tail's own connection, `LISTEN`ing.
struct Listener {
    /// Keeps the connection open: dropping the client closes it.
    _client: tokio_postgres::Client,
    /// A message for each notification; closed when the connection is lost.
    receiver: mpsc::UnboundedReceiver<()>,
}

/// A tailable cursor over the event feed: `while yield_!(feed.fetch_next()) { feed.next_object() }`,
/// as the seed tails its capped collection with Motor's cursor.
pub(crate) struct Feed {
    /// Where the events are.
    db: Db,
    /// The id of the last event read; the next read starts after it.
    position: i64,
    /// Events read and not yet handed out.
    buffer: VecDeque<Event>,
    /// The wait before the next try after a failure.
    backoff: Duration,
    /// PostgreSQL: the notifications of the listening connection; `None` until it is made, and
    /// after it was lost.
    notifications: Option<Listener>,
    /// Ends the tail when the blog that started it is gone (its sender is dropped).
    stop: watch::Receiver<()>,
}

impl Feed {
    /// A cursor over the events after the one with id `position`; it ends when `stop`'s sender
    /// is dropped.
    pub(crate) fn new(db: Db, position: i64, stop: watch::Receiver<()>) -> Feed {
        Feed {
            db,
            position,
            buffer: VecDeque::new(),
            backoff: FIRST_BACKOFF,
            notifications: None,
            stop,
        }
    }

    /// Waits until there is an event to take with [`next_object`](Self::next_object): `true`;
    /// or until the blog is gone: `false`. Database failures are logged and retried.
    pub(crate) async fn fetch_next(&mut self) -> bool {
        loop {
            if !self.buffer.is_empty() {
                return true;
            }
            if self.stop.has_changed().is_err() {
                return false;
            }
            let listening = self.db.postgres_config().is_none() || self.notifications.is_some();
            let read = if listening {
                self.db.events_after(self.position, BATCH).await
            } else {
                self.listen().await.map(|()| Vec::new())
            };
            match read {
                Ok(events) if events.is_empty() => {
                    self.backoff = FIRST_BACKOFF;
                    if listening && !self.wait_for_news().await {
                        return false;
                    }
                }
                Ok(events) => {
                    self.backoff = FIRST_BACKOFF;
                    // The read is "after `position`", ordered: the position only moves forward.
                    self.position = events.last().map_or(self.position, |event| event.id);
                    self.buffer.extend(events);
                }
                Err(error) => {
                    eprintln!(
                        "blog: event feed: {error}; retrying in {} ms",
                        self.backoff.as_millis()
                    );
                    let backoff = self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    if !self.pause(backoff).await {
                        return false;
                    }
                }
            }
        }
    }

    /// The next event; call it after [`fetch_next`](Self::fetch_next) resolved to `true`.
    pub(crate) fn next_object(&mut self) -> Event {
        self.buffer
            .pop_front()
            .expect("`next_object` is called after `fetch_next` resolved to `true`")
    }

    /// PostgreSQL: opens the listening connection and `LISTEN`s, before the next read, so that
    /// no commit between the read and the wait goes unnoticed.
    async fn listen(&mut self) -> Result<(), DbError> {
        let mut config = self
            .db
            .postgres_config()
            .expect("only a PostgreSQL feed listens");
        // Named, so that an administrator (or a test) can tell the tail's connection apart in
        // `pg_stat_activity`.
        config.application_name(listener_name());
        let (client, mut connection) = config.connect(NoTls).await?;
        let (sender, receiver) = mpsc::unbounded_channel();
        // The connection's messages arrive through its own task; the channel closes with it.
        tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => {
                        if sender.send(()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        let error = crate::db::postgres_message(&error);
                        eprintln!("blog: event feed: connection lost: {error}");
                        return;
                    }
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {}", crate::db::CHANNEL))
            .await?;
        self.notifications = Some(Listener {
            _client: client,
            receiver,
        });
        Ok(())
    }

    /// Waits for a notification (PostgreSQL) or for the poll interval (SQLite); `false` when the
    /// blog is gone.
    async fn wait_for_news(&mut self) -> bool {
        let Some(notifications) = &mut self.notifications else {
            return self.pause(SQLITE_POLL_INTERVAL).await;
        };
        tokio::select! {
            news = notifications.receiver.recv() => {
                if news.is_none() {
                    eprintln!("blog: event feed: the listening connection closed; reconnecting");
                    self.notifications = None;
                }
                // Several commits may have notified: one read takes them all.
                while let Some(notifications) = &mut self.notifications {
                    if notifications.receiver.try_recv().is_err() {
                        break;
                    }
                }
                true
            }
            _ = self.stop.changed() => false,
        }
    }

    /// Waits for `duration`; `false` when the blog is gone meanwhile.
    async fn pause(&mut self, duration: Duration) -> bool {
        tokio::select! {
            () = sleep(duration) => true,
            _ = self.stop.changed() => false,
        }
    }
}

/// The `application_name` of the tail's listening connection: `blog-feed-PID`, PID being the
/// blog process's id.
fn listener_name() -> String {
    format!("blog-feed-{}", std::process::id())
}

/// The background coroutine every blog process runs: tails the feed and drops the category
/// list on each `new-category` event; `applied` follows the last event it applied.
///
/// Applying an event is idempotent: a `new-category` event applied twice drops the list twice,
/// and the list is read again from the database, which is the same either way; `applied` only
/// moves forward, even if an older event came again.
#[coroutine_runtime::coroutine]
pub(crate) fn tail(mut feed: Feed, categories: Arc<CategoryCache>, applied: Arc<AtomicI64>) {
    while yield_!(feed.fetch_next()) {
        let event = feed.next_object();
        if event.kind == NEW_CATEGORY {
            categories.invalidate();
        }
        applied.fetch_max(event.id, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Category, NewPost};

    /// A fresh SQLite blog database in the temporary folder; deleted by the caller.
    fn scratch(name: &str) -> (Db, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("blog-feed-{name}-{}.sqlite", std::process::id()));
        Db::remove_sqlite(&path);
        (Db::open(&path).expect("a scratch database opens"), path)
    }

    /// Runs a tail from `position` until `done` holds, then stops it.
    async fn tail_until(
        db: &Db,
        position: i64,
        categories: &Arc<CategoryCache>,
        applied: &Arc<AtomicI64>,
        done: impl Fn() -> bool,
    ) {
        let (stop, receiver) = watch::channel(());
        let feed = Feed::new(db.clone(), position, receiver);
        let running = tokio::spawn(tail(feed, Arc::clone(categories), Arc::clone(applied)));
        let start = std::time::Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the tail did not get there"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(stop);
        running.await.expect("the tail ends when its blog is gone");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_event_delivered_again_changes_nothing_visible() {
        let (db, path) = scratch("again");
        let start = db.feed_start().await.unwrap();
        let post = NewPost {
            slug: "again".to_owned(),
            title: "Again".to_owned(),
            body: "Twice.".to_owned(),
            category: "Redelivery".to_owned(),
        };
        db.insert_post(post).await.unwrap();
        let last = db.feed_start().await.unwrap();
        assert_eq!(last, start + 2, "a `new-post` and a `new-category` event");

        let (categories, applied) = (Arc::new(CategoryCache::default()), Arc::default());
        let fetched: Arc<[Category]> = db.categories().await.unwrap().into();
        categories.fill(categories.get().unwrap_err(), Arc::clone(&fetched));
        tail_until(&db, start, &categories, &applied, || {
            applied.load(Ordering::SeqCst) == last
        })
        .await;
        assert!(
            categories.get().is_err(),
            "the new category dropped the list"
        );
        let refetched: Arc<[Category]> = db.categories().await.unwrap().into();
        categories.fill(categories.get().unwrap_err(), Arc::clone(&refetched));

        // The same two events again, as a tail that re-read from an older position would get:
        // the `new-category` event drops the list again.
        tail_until(&db, start, &categories, &applied, || {
            categories.get().is_err()
        })
        .await;
        assert_eq!(
            applied.load(Ordering::SeqCst),
            last,
            "`applied` stays at the newest event"
        );
        let again: Arc<[Category]> = db.categories().await.unwrap().into();
        assert_eq!(again, refetched, "the list read again is the same list");
        let names: Vec<&str> = again
            .iter()
            .map(|category| category.name.as_str())
            .collect();
        assert_eq!(
            names.iter().filter(|name| **name == "Redelivery").count(),
            1,
            "the category is listed once: {names:?}"
        );
        drop(db);
        Db::remove_sqlite(&path);
    }
}
