//! Several blog processes on one database stay consistent: each tails the event feed, so a new
//! category posted through one process shows in every other's sidebar (the seed's last
//! paragraph).

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Backend, Process, SAMPLE_CATEGORIES, admin, eventually, fresh_database};
use tokio::task::JoinSet;

/// What the issue promises: a new category through one process in the other's sidebar within
/// one second.
const WITHIN: Duration = Duration::from_secs(1);

/// Two processes on one fresh database of `backend`: a post with a new category through A shows
/// in B's sidebar within a second, and a process started later shows it at once.
async fn a_new_category_reaches_every_process(backend: Backend) {
    let database = fresh_database(backend).await;
    let address = &database.address;
    let a = Process::start(address);
    let b = Process::start(address);
    // B caches the sample categories.
    let page = b.get("/").await.expect(StatusCode::OK);
    assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);
    let page = b.get("/new").await.expect(StatusCode::OK);
    assert_eq!(page.sidebar(), SAMPLE_CATEGORIES);

    for (i, category) in ["Distributed", "Event Queues"].into_iter().enumerate() {
        let title = format!("Posted through A, {i}");
        a.publish(&title, category, "Hello from A.").await;
        let took = eventually(
            WITHIN,
            || b.get("/new"),
            |page| page.sidebar().iter().any(|name| name == category),
        )
        .await;
        eprintln!("{backend:?}: `{category}` reached B after {took:?}");
    }
    // A's own sidebar has it too, and a process started now catches up.
    let expected = [
        "Coroutines",
        "Databases",
        "Distributed",
        "Event Queues",
        "Meta",
        "Rust",
    ];
    assert_eq!(a.get("/new").await.sidebar(), expected);
    let c = Process::start(address);
    assert_eq!(c.get("/new").await.sidebar(), expected);
    // The posts themselves are shared: B serves A's post.
    b.get("/post/posted-through-a-0")
        .await
        .expect(StatusCode::OK)
        .assert_has("Hello from A.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_new_category_through_process_a_shows_in_process_b_within_a_second() {
    a_new_category_reaches_every_process(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_new_category_through_process_a_shows_in_process_b_within_a_second() {
    a_new_category_reaches_every_process(Backend::Postgres).await;
}

/// The tail's listening connection of process `b`, by its `application_name`: its backend's
/// pids (none while it is down).
async fn tail_connections(admin: &common::Admin, b: &Process) -> Vec<String> {
    admin
        .column(&format!(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'blog-feed-{}'",
            b.id()
        ))
        .await
}

/// A running process whose tail lost its connection, and could not reconnect for a while,
/// catches up on the events committed meanwhile by another process once it is back: the tail
/// remembers its position and reads after it. The pages are served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_tail_that_lost_its_connection_catches_up_on_what_was_posted_meanwhile() {
    let database = fresh_database(Backend::Postgres).await;
    let name = database.name.as_deref().expect("a PostgreSQL database");
    let (a, b) = (
        Process::start(&database.address),
        Process::start(&database.address),
    );
    let admin = admin().await;
    // Both processes hold pooled connections and B caches the sample categories, so nothing
    // needs a new connection while the database refuses them.
    for process in [&a, &b] {
        let mut pages: JoinSet<_> = (0..4)
            .map(|_| process.get("/post/previous-and-next"))
            .collect();
        while let Some(page) = pages.join_next().await {
            page.expect("the request task").expect(StatusCode::OK);
        }
        assert_eq!(process.get("/new").await.sidebar(), SAMPLE_CATEGORIES);
    }
    let before = eventually_one(&admin, &b).await;

    // Cut B's tail off: its connection is terminated and it cannot make a new one.
    admin
        .execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await;
    admin
        .execute(&format!("SELECT pg_terminate_backend({before})"))
        .await;
    for (i, category) in ["Missed While Down", "Missed Too"].into_iter().enumerate() {
        let title = format!("While the tail was down, {i}");
        a.publish(&title, category, "Missed.").await;
    }
    // A has them; B still serves its cached list (its tail is down: nothing invalidates it).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut expected = vec![
        "Coroutines",
        "Databases",
        "Meta",
        "Missed Too",
        "Missed While Down",
        "Rust",
    ];
    assert_eq!(a.get("/new").await.sidebar(), expected);
    assert_eq!(
        b.get("/new").await.expect(StatusCode::OK).sidebar(),
        SAMPLE_CATEGORIES
    );
    assert!(
        tail_connections(&admin, &b).await.is_empty(),
        "B's tail is down"
    );
    let log = b.log();
    assert!(
        log.contains("blog: event feed:") && log.contains("retrying in"),
        "B's tail logged its failure and its retries:\n{log}"
    );

    // The database takes connections again: B's tail reconnects (within its backoff, at most
    // 2 s) and applies the two events it missed.
    admin
        .execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await;
    let took = eventually(
        Duration::from_secs(4),
        || b.get("/new"),
        |page| page.sidebar() == expected,
    )
    .await;
    eprintln!("B caught up {took:?} after the database took connections again");
    assert_ne!(eventually_one(&admin, &b).await, before, "a new connection");

    // Caught up, and nothing applied twice shows: each post once on the index, each category
    // once in the sidebar; and the tail goes on with the events after those.
    let index = b.get("/").await.expect(StatusCode::OK);
    for i in 0..2 {
        let link = format!("href=\"/post/while-the-tail-was-down-{i}\"");
        assert_eq!(
            index.body.matches(&link).count(),
            1,
            "{link} once on the index"
        );
    }
    a.publish("After", "Caught Up", "Live.").await;
    expected.insert(0, "Caught Up");
    eventually(WITHIN, || b.get("/new"), |page| page.sidebar() == expected).await;
}

/// Waits until process `b`'s tail has exactly one listening connection; its pid.
async fn eventually_one(admin: &common::Admin, b: &Process) -> String {
    let start = std::time::Instant::now();
    loop {
        let pids = tail_connections(admin, b).await;
        if let [pid] = pids.as_slice() {
            return pid.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "B's tail connections: {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `signal` (`STOP` or `CONT`) to process `b`.
fn signal(b: &Process, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), b.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// SQLite has no connection to lose; its analogue is a process whose tail does not run for a
/// while (here: stopped with SIGSTOP). The posts committed meanwhile by another process are in
/// its sidebar once it runs again: the tail reads after the last event it applied, not from the
/// feed's newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_process_stopped_for_a_while_catches_up_on_what_was_posted_meanwhile() {
    let database = fresh_database(Backend::Sqlite).await;
    let (a, b) = (
        Process::start(&database.address),
        Process::start(&database.address),
    );
    assert_eq!(b.get("/new").await.sidebar(), SAMPLE_CATEGORIES);
    signal(&b, "STOP");
    a.publish("While B slept", "Missed While Stopped", "Missed.")
        .await;
    // Longer than a poll: B's tail would have seen the event by now, had it run.
    tokio::time::sleep(Duration::from_millis(400)).await;
    signal(&b, "CONT");
    let expected = [
        "Coroutines",
        "Databases",
        "Meta",
        "Missed While Stopped",
        "Rust",
    ];
    eventually(WITHIN, || b.get("/new"), |page| page.sidebar() == expected).await;
}
