//! The blog in a real browser: headless Chromium, driven through chromedriver with fantoccini.
//!
//! Needs `CHROMEDRIVER` (and `CHROMIUM`, default `/usr/bin/chromium`), which
//! `examples/blog/scripts/with-services.sh` sets after installing Debian's `chromium` and
//! `chromium-driver`; without them the test fails and says so.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{SAMPLE_CATEGORIES, Site};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free port and opens a session in a fresh headless Chromium.
async fn browser() -> (Driver, Client, tempdir::Dir) {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| {
        panic!(
            "this test needs headless Chromium, and CHROMEDRIVER is not set; run the tests with \
             `examples/blog/scripts/with-services.sh cargo test -p blog` (it installs Debian's \
             chromium and chromium-driver if missing), or set CHROMEDRIVER=/path/to/chromedriver \
             and CHROMIUM=/path/to/chromium"
        )
    });
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {chromedriver}: {error}")),
    );
    let profile = tempdir::Dir::new("blog-chromium-profile");
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-quic", "--disable-component-update", "--disable-sync",
                "--window-size=1000,800",
                format!("--user-data-dir={}", profile.0.display()),
            ],
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object")
    };
    // chromedriver takes a moment to listen.
    let start = Instant::now();
    let client = loop {
        let connecting = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match connecting {
            Ok(client) => break client,
            Err(error) if start.elapsed() > Duration::from_secs(20) => {
                panic!("no WebDriver session from {chromedriver} with {chromium}: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    (driver, client, profile)
}

/// A temporary folder, deleted when dropped.
mod tempdir {
    use std::path::PathBuf;

    /// The folder.
    pub(crate) struct Dir(pub(crate) PathBuf);

    impl Dir {
        /// Creates `/tmp/<prefix>-<pid>-<nanos>`.
        pub(crate) fn new(prefix: &str) -> Dir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let path =
                std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The text of the page's `<h2>`.
async fn heading(client: &Client) -> String {
    client
        .find(Locator::Css("main h2"))
        .await
        .expect("a heading")
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_follows_a_post_and_its_next_link_then_writes_a_post_in_a_new_category() {
    let site = Site::start().await;
    let (_driver, client, _profile) = browser().await;
    let base = format!("http://{}", site.addr);

    client.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "All posts · Motor-Blog");
    client
        .find(Locator::LinkText("Previous and next, in parallel"))
        .await
        .expect("the post is listed on the index")
        .click()
        .await
        .unwrap();
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/post/previous-and-next"
    );
    assert_eq!(heading(&client).await, "Previous and next, in parallel");
    let sidebar = client
        .find_all(Locator::Css("#categories li a"))
        .await
        .unwrap();
    let mut names = Vec::new();
    for link in sidebar {
        names.push(link.text().await.unwrap());
    }
    assert_eq!(names, SAMPLE_CATEGORIES);
    // The screenshot of the post page, kept as the test's artifact.
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("blog-e2e");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("post.png"), &png).unwrap();
    eprintln!("screenshot: {}", artifacts.join("post.png").display());

    client
        .find(Locator::Css("a[rel=next]"))
        .await
        .expect("a next link")
        .click()
        .await
        .unwrap();
    assert_eq!(heading(&client).await, "Caching the categories");

    client
        .find(Locator::LinkText("Write a post"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let form = client.form(Locator::Css("form")).await.unwrap();
    form.set_by_name("title", "Written in Chromium")
        .await
        .unwrap()
        .set_by_name("category", "Browsers")
        .await
        .unwrap()
        .set_by_name("body", "Typed by WebDriver.\n\nSecond paragraph.")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("article h2"))
        .await
        .unwrap();
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/post/written-in-chromium"
    );
    assert_eq!(heading(&client).await, "Written in Chromium");
    let new_category = client
        .find(Locator::Css("#categories a[href='/category/Browsers']"))
        .await
        .expect("the new category is in the sidebar");
    assert_eq!(new_category.text().await.unwrap(), "Browsers");
    new_category.click().await.unwrap();
    assert_eq!(heading(&client).await, "Posts in Browsers");
    client.close().await.unwrap();
}
