//! Shared helpers: a blog served on a free port with a fresh database (SQLite or PostgreSQL),
//! blog processes, and an HTTP client for them.

#![allow(
    dead_code,
    unused_macros,
    unused_imports,
    reason = "each test file uses a part of the helpers"
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use blog::{Blog, Db};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

/// The sample posts' slugs and titles, oldest first.
pub(crate) const SAMPLE_POSTS: [(&str, &str); 12] = [
    ("hello-motor-blog", "Hello, Motor-Blog"),
    ("futures-are-nothing-special", "Futures are nothing special"),
    ("one-post-one-query", "One post, one query"),
    ("callbacks-considered-tiring", "Callbacks considered tiring"),
    ("previous-and-next", "Previous and next, in parallel"),
    ("caching-the-categories", "Caching the categories"),
    (
        "subroutines-are-coroutines-too",
        "Subroutines are coroutines too",
    ),
    (
        "blocking-calls-in-a-thread-pool",
        "Blocking calls in a thread pool",
    ),
    ("escaping-everything", "Escaping everything"),
    ("errors-become-pages", "Errors become pages"),
    ("returning-values", "Returning values"),
    (
        "one-executor-many-coroutines",
        "One executor, many coroutines",
    ),
];

/// The sample categories, by name.
pub(crate) const SAMPLE_CATEGORIES: [&str; 4] = ["Coroutines", "Databases", "Meta", "Rust"];

/// Numbers the databases of one test binary.
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// What a test that needs PostgreSQL says when it has none.
const NEEDS_POSTGRES: &str = "this test needs PostgreSQL, and BLOG_TEST_POSTGRES is not set; \
    run the tests with a throwaway cluster: `examples/blog/scripts/with-services.sh cargo test \
    -p blog` (it installs PostgreSQL if missing), or set \
    BLOG_TEST_POSTGRES=postgres://USER@HOST:PORT/DB to a server where USER may create databases";

/// Where the blog's data lives in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `BLOG_TEST_POSTGRES`.
    Postgres,
}

/// The PostgreSQL server the tests use; fails the test, saying how to start one, if none is set.
pub(crate) fn postgres_server() -> String {
    std::env::var("BLOG_TEST_POSTGRES").unwrap_or_else(|_| panic!("{NEEDS_POSTGRES}"))
}

/// A fresh, empty database made for one test: deleted when dropped, also when the test fails
/// (the SQLite file, or the PostgreSQL database with its connections cut).
pub(crate) struct Database {
    /// Its address, for `--db` or [`Db::connect`].
    pub(crate) address: String,
    /// The SQLite file; empty for PostgreSQL.
    pub(crate) path: PathBuf,
    /// Its name, for PostgreSQL.
    pub(crate) name: Option<String>,
}

/// A fresh, empty database on `backend`: a file in the target folder, or a database on the
/// server of `BLOG_TEST_POSTGRES`.
pub(crate) async fn fresh_database(backend: Backend) -> Database {
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    match backend {
        Backend::Sqlite => {
            let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("blog-{}-{n}.sqlite", std::process::id()));
            Db::remove_sqlite(&path);
            Database {
                address: format!("sqlite:{}", path.display()),
                path,
                name: None,
            }
        }
        Backend::Postgres => {
            let name = format!("blog_test_{}_{n}", std::process::id());
            let admin = admin().await;
            for statement in [
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ] {
                admin.execute(&statement).await;
            }
            let server = postgres_server();
            let (base, _) = server
                .rsplit_once('/')
                .expect("a `postgres://…/DB` address");
            Database {
                address: format!("{base}/{name}"),
                path: PathBuf::new(),
                name: Some(name),
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some(name) = &self.name else {
            Db::remove_sqlite(&self.path);
            return;
        };
        // `Drop` cannot wait for a future, and the test's runtime may be the one dropping:
        // the statement runs on a runtime of its own, on a thread of its own.
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup")
                .block_on(async { admin().await.execute(&statement).await });
        })
        .join();
        if dropped.is_err() {
            eprintln!("the test database {name} could not be dropped; it is left on the server");
        }
    }
}

/// A connection to the `BLOG_TEST_POSTGRES` server, for what the blog does not do itself.
pub(crate) struct Admin {
    /// The client.
    client: tokio_postgres::Client,
    /// The connection's task.
    connection: JoinHandle<Result<(), tokio_postgres::Error>>,
}

/// Connects to the `BLOG_TEST_POSTGRES` server.
pub(crate) async fn admin() -> Admin {
    let server = postgres_server();
    let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot reach BLOG_TEST_POSTGRES={server}: {error}"));
    Admin {
        client,
        connection: tokio::spawn(connection),
    }
}

impl Admin {
    /// Runs `statement`; fails the test if it fails.
    pub(crate) async fn execute(&self, statement: &str) {
        self.client
            .batch_execute(statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }

    /// The first column of the rows of `query`, as text.
    pub(crate) async fn column(&self, query: &str) -> Vec<String> {
        self.client
            .simple_query(query)
            .await
            .unwrap_or_else(|error| panic!("{query}: {error}"))
            .iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// An HTTP client for one blog server.
pub(crate) struct Http {
    /// Where the server listens.
    pub(crate) addr: SocketAddr,
    /// The client; keeps connections open between requests.
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A blog served on 127.0.0.1 with a port picked by the system, on a fresh database; stops and
/// deletes the database when dropped.
pub(crate) struct Site {
    /// The HTTP client for it.
    http: Http,
    /// The application, for the database's test hook.
    pub(crate) blog: Blog,
    /// The server's task.
    server: JoinHandle<std::io::Result<()>>,
    /// The database (its file, for SQLite), deleted after the server stopped (fields drop in
    /// order).
    pub(crate) database: Database,
}

impl Deref for Site {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

/// An answer from the blog.
#[derive(Debug)]
pub(crate) struct Page {
    /// The status code.
    pub(crate) status: StatusCode,
    /// The `Location` header, for redirects.
    pub(crate) location: Option<String>,
    /// The body, as text.
    pub(crate) body: String,
}

impl Site {
    /// Creates a SQLite database with the sample posts and serves it on a free port.
    pub(crate) async fn start() -> Site {
        Site::start_on(Backend::Sqlite).await
    }

    /// Creates a database on `backend` with the sample posts and serves it on a free port.
    pub(crate) async fn start_on(backend: Backend) -> Site {
        let database = fresh_database(backend).await;
        Site::serve(database).await
    }

    /// Serves `database` on a free port.
    pub(crate) async fn serve(database: Database) -> Site {
        let address = &database.address;
        let db = Db::connect(address)
            .await
            .unwrap_or_else(|error| panic!("the test database {address} opens: {error}"));
        let blog = Blog::new(db);
        let server = blog
            .clone()
            .bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let http = Http::new(server.local_addr());
        let server = tokio::spawn(server.run());
        Site {
            http,
            blog,
            server,
            database,
        }
    }
}

/// A blog process (the `blog` binary) serving a database on a free port; killed when dropped.
pub(crate) struct Process {
    /// The HTTP client for it.
    http: Http,
    /// The process.
    child: Child,
    /// What it wrote to stderr so far (also copied to the test's stderr).
    log: Arc<Mutex<String>>,
}

impl Deref for Process {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Process {
    /// Starts `blog --port 0 --db address` and waits until it listens.
    pub(crate) fn start(address: &str) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blog"))
            .args(["--port", "0", "--db", address])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the blog binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("a piped stderr");
        let keep = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut log = keep.lock().unwrap_or_else(PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("a piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the blog prints its address");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("the blog did not say where it listens: {line:?}"));
        Process {
            http: Http::new(addr),
            child,
            log,
        }
    }

    /// Its process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks `get()` until `done` holds for its answer, for up to `limit`; how long it took.
pub(crate) async fn eventually<F, Fut>(
    limit: Duration,
    mut get: F,
    done: impl Fn(&Page) -> bool,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Page>,
{
    let start = Instant::now();
    loop {
        let page = get().await;
        if done(&page) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "not within {limit:?}; the last page was {}:\n{}",
            page.status,
            page.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Http {
    /// Another client for the same server, to move into a task.
    pub(crate) fn http_clone(&self) -> Http {
        Http::new(self.addr)
    }

    /// A client for the server at `addr`.
    pub(crate) fn new(addr: SocketAddr) -> Http {
        Http {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> impl Future<Output = Page> + Send + 'static {
        self.send(Method::GET, path, None)
    }

    /// `POST path` with `fields` as an `application/x-www-form-urlencoded` body.
    pub(crate) fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> impl Future<Output = Page> + Send + 'static {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(Method::POST, path, Some(body))
    }

    /// Submits the new-post form and checks the redirect that acknowledges the post.
    pub(crate) async fn publish(&self, title: &str, category: &str, body: &str) {
        let fields = [("title", title), ("category", category), ("body", body)];
        self.post_form("/post", &fields)
            .await
            .expect(StatusCode::SEE_OTHER);
    }

    /// Sends one request and reads the whole answer.
    fn send(
        &self,
        method: Method,
        path: &str,
        form: Option<String>,
    ) -> impl Future<Output = Page> + Send + 'static {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        if form.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .expect("a valid request");
        let client = self.client.clone();
        let what = format!("{} {path}", request.method());
        async move {
            let response = client
                .request(request)
                .await
                .unwrap_or_else(|error| panic!("{what}: no answer: {error}"));
            let status = response.status();
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|value| value.to_str().expect("an ASCII location").to_owned());
            let body = response
                .into_body()
                .collect()
                .await
                .expect("a whole body")
                .to_bytes();
            let body = String::from_utf8(body.to_vec()).expect("a UTF-8 body");
            Page {
                status,
                location,
                body,
            }
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Page {
    /// Asserts the status, showing the body if it differs.
    #[track_caller]
    pub(crate) fn expect(self, status: StatusCode) -> Page {
        assert_eq!(
            self.status, status,
            "unexpected status; the page was:\n{}",
            self.body
        );
        self
    }

    /// Whether the body contains `text`.
    pub(crate) fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// Asserts that the body contains `text`.
    #[track_caller]
    pub(crate) fn assert_has(&self, text: &str) {
        assert!(
            self.has(text),
            "`{text}` is not on the page:\n{}",
            self.body
        );
    }

    /// Asserts that the body does not contain `text`.
    #[track_caller]
    pub(crate) fn assert_lacks(&self, text: &str) {
        assert!(
            !self.has(text),
            "`{text}` should not be on the page:\n{}",
            self.body
        );
    }

    /// Where `text` first stands in the body.
    #[track_caller]
    pub(crate) fn position(&self, text: &str) -> usize {
        self.body
            .find(text)
            .unwrap_or_else(|| panic!("`{text}` is not on the page:\n{}", self.body))
    }

    /// Every `href` on the page, in order.
    pub(crate) fn links(&self) -> Vec<String> {
        self.body
            .split("href=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').expect("a closed attribute")].to_owned())
            .collect()
    }

    /// The target of the link with `rel="<rel>"`, if the page has one.
    pub(crate) fn rel_link(&self, rel: &str) -> Option<String> {
        let start = self.body.find(&format!("rel=\"{rel}\" href=\""))? + rel.len() + 13;
        let rest = &self.body[start..];
        Some(rest[..rest.find('"')?].to_owned())
    }

    /// The category names in the sidebar, in order.
    pub(crate) fn sidebar(&self) -> Vec<String> {
        let Some(start) = self.body.find("id=\"categories\"") else {
            return Vec::new();
        };
        let sidebar = &self.body[start..start + self.body[start..].find("</nav>").unwrap()];
        sidebar
            .split("<li><a href=\"/category/")
            .skip(1)
            .map(|item| {
                let name = &item[item.find('>').unwrap() + 1..];
                name[..name.find('<').unwrap()].to_owned()
            })
            .collect()
    }
}

/// Defines each test twice, in a module per backend (`sqlite::name`, `postgres::name`), with
/// `site` serving a fresh database on that backend: the same pages, the same assertions.
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* async fn $name:ident($site:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $site = common::Site::start_on(common::Backend::Sqlite).await;
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $site = common::Site::start_on(common::Backend::Postgres).await;
                    $body
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// A PostgreSQL cluster of the test's own (`scripts/pg-cluster.sh`), to stop and start
/// mid-run; stopped and deleted when dropped.
pub(crate) struct Cluster {
    /// Its folder.
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Cluster {
    /// Creates and starts a cluster on a free port. Needs what `BLOG_TEST_POSTGRES` needs.
    pub(crate) fn start() -> Cluster {
        let _ = postgres_server();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("blog-cluster-{}-{port}", std::process::id()));
        let cluster = Cluster { dir, port };
        cluster.run("start");
        cluster
    }

    /// The address of its `postgres` database.
    pub(crate) fn address(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: the connections are cut).
    pub(crate) fn stop(&self) {
        self.run("stop");
    }

    /// Starts the server again.
    pub(crate) fn restart(&self) {
        self.run("start");
    }

    /// Runs `pg-cluster.sh command`.
    fn run(&self, command: &str) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster.sh");
        let port = self.port.to_string();
        let status = Command::new("bash")
            .arg(script)
            .arg(command)
            .arg(&self.dir)
            .arg(&port)
            .status()
            .expect("bash runs");
        assert!(status.success(), "pg-cluster.sh {command} failed");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.run("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
