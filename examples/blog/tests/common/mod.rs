//! Shared helpers: a blog served on a free port with a fresh database, and an HTTP client for it.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A blog served on 127.0.0.1 with a port picked by the system, on a fresh database; stops and
/// deletes the database when dropped.
pub(crate) struct Site {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The application, for the database's test hook.
    pub(crate) blog: Blog,
    /// The database file.
    pub(crate) db_path: PathBuf,
    /// The HTTP client; keeps connections open between requests.
    client: Client<HttpConnector, Full<Bytes>>,
    /// The server's task.
    server: JoinHandle<std::io::Result<()>>,
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
    /// Creates a database with the sample posts and serves it on a free port.
    pub(crate) async fn start() -> Site {
        let db_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "blog-{}-{}.sqlite",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        ));
        remove_db(&db_path);
        let blog = Blog::new(Db::open(&db_path).expect("the test database opens"));
        let server = blog
            .clone()
            .bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = server.local_addr();
        let server = tokio::spawn(server.run());
        let client = Client::builder(TokioExecutor::new()).build_http();
        Site {
            addr,
            blog,
            db_path,
            client,
            server,
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
        remove_db(&self.db_path);
    }
}

/// Deletes a database file and its write-ahead log.
fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
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
