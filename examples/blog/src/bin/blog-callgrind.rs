//! `blog-callgrind`, the load test's noise-free figure: one process serves the blog on a free
//! port and, in the same process, a client asks it for the post page N times over loopback, one
//! request after the other on one kept-alive connection. Run under callgrind, it counts the
//! instructions the whole process spends (server, handlers, database client, HTTP client); run
//! with N and with 0 requests, the difference divided by N is the instructions per request, the
//! same on every run however loaded the machine is.
//!
//! ```sh
//! examples/blog/scripts/callgrind.sh            # SQLite; PostgreSQL too when BLOG_TEST_POSTGRES is set
//! blog-callgrind coroutine|async-fn N [loop|threads] [DATABASE]
//! ```
//!
//! Every run first sends [`WARM_UP`] requests (caches, pools, prepared statements, the
//! thread pool's threads), then N. DATABASE defaults to a fresh SQLite file, deleted at the
//! end. A PostgreSQL server runs in processes of its own, so only the blog's side of the
//! queries is counted. It asserts that every answer is the post page.

use std::process::ExitCode;
use std::time::Duration;

use blog::{Blog, Db, Handlers, Runtime};
use tokio::net::TcpStream;

/// The page asked for.
const PAGE: &str = "/post/previous-and-next";
/// A line of the page's body, to check that the answer is the post.
const TITLE: &str = "Previous and next, in parallel";
/// Requests sent before the counted ones, in every run.
const WARM_UP: usize = 20;

const USAGE: &str = "usage: blog-callgrind coroutine|async-fn N [loop|threads] [DATABASE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((handlers, requests, runtime)) = parse(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let served = if let Some(database) = args.get(3) {
        blog::serve(runtime, run(handlers, requests, database))
    } else {
        let scratch =
            std::env::temp_dir().join(format!("blog-callgrind-{}.sqlite", std::process::id()));
        let database = format!("sqlite:{}", scratch.display());
        let served = blog::serve(runtime, run(handlers, requests, &database));
        Db::remove_sqlite(&scratch);
        served
    };
    match served {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) | Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The handlers, the number of requests and the runtime named by the first three arguments.
fn parse(args: &[String]) -> Option<(Handlers, usize, Runtime)> {
    let handlers = Handlers::from_name(args.first()?)?;
    let requests = args.get(1)?.parse().ok()?;
    let runtime = match args.get(2).map(String::as_str) {
        None | Some("loop") => Runtime::Loop,
        Some("threads") => Runtime::Threads(2),
        Some(_) => return None,
    };
    Some((handlers, requests, runtime))
}

/// Serves the blog on `database` and asks it for the post page `WARM_UP + requests` times.
async fn run(handlers: Handlers, requests: usize, database: &str) -> std::io::Result<()> {
    let db = Db::connect(database).await.map_err(std::io::Error::other)?;
    let server = Blog::new(db).bind("127.0.0.1:0").await?;
    let address = server.local_addr();
    let server = server.with_handlers(handlers).run();
    let client = async {
        let connection = TcpStream::connect(address).await?;
        connection.set_nodelay(true)?;
        let request = format!("GET {PAGE} HTTP/1.1\r\nHost: {address}\r\n\r\n");
        let mut buffer = Vec::with_capacity(64 * 1024);
        for _ in 0..WARM_UP + requests {
            write_all(&connection, request.as_bytes()).await?;
            read_answer(&connection, &mut buffer).await?;
        }
        Ok(())
    };
    tokio::select! {
        stopped = server => stopped.and(Err(std::io::Error::other("the server stopped"))),
        asked = client => {
            // Let the server's side of the connection see it close.
            tokio::time::sleep(Duration::from_millis(1)).await;
            asked
        }
    }
}

/// Writes all of `bytes`.
async fn write_all(connection: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        connection.writable().await?;
        match connection.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Reads one answer (headers with a `content-length`, then the body) into `buffer`, and checks
/// that it is the post page.
async fn read_answer(connection: &TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<()> {
    buffer.clear();
    let mut whole = None;
    loop {
        if whole.is_none() {
            whole = answer_length(buffer)?;
        }
        if whole.is_some_and(|length| buffer.len() >= length) {
            break;
        }
        connection.readable().await?;
        let start = buffer.len();
        buffer.resize(start + 16 * 1024, 0);
        match connection.try_read(&mut buffer[start..]) {
            Ok(0) => return Err(std::io::Error::other("the server closed the connection")),
            Ok(read) => buffer.truncate(start + read),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => buffer.truncate(start),
            Err(error) => return Err(error),
        }
    }
    let text = String::from_utf8_lossy(buffer);
    if !text.starts_with("HTTP/1.1 200") || !text.contains(TITLE) {
        return Err(std::io::Error::other(format!("not the post page: {text}")));
    }
    Ok(())
}

/// The length of the whole answer once its headers are in `buffer`.
fn answer_length(buffer: &[u8]) -> std::io::Result<Option<usize>> {
    let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Ok(None);
    };
    let headers = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .ok_or_else(|| std::io::Error::other(format!("no content-length in {headers}")))?;
    Ok(Some(end + 4 + length))
}
