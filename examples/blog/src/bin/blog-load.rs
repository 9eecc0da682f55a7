//! `blog-load`, the blog's load test: req/s and p50/p99 latency of the post page, the `#[coroutine]`
//! handlers beside the same handlers written as plain `async fn`s, with wrk as the load
//! generator over loopback:
//!
//! * two blog processes on one PostgreSQL database (each on its `IoLoop`), one wrk per process;
//! * one blog process on SQLite;
//! * both again with `--threads 2` (tokio's multi-thread runtime).
//!
//! ```sh
//! cargo build --release -p blog --bins
//! examples/blog/scripts/with-services.sh target/release/blog-load [SECONDS] [ROUNDS]
//! ```
//!
//! Needs `wrk` (`apt-get install -y wrk`) and `BLOG_TEST_POSTGRES` (set by `with-services.sh`).
//! Each case runs SECONDS (default 5) per round, coroutine and `async fn` runs alternating (in
//! the order A B, B A, A B, …), for ROUNDS rounds (default 3); the table shows each case's median
//! round, and the cost ratio as the median of each round's own ratio, with its range.
//! It is a benchmark, not a test: it asserts nothing, and its figures go in the blog's README.
//! Its database on the PostgreSQL server (`blog_load`) is dropped at the end.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The page under load.
const PAGE: &str = "/post/previous-and-next";
/// Connections per wrk (one wrk per blog process).
const CONNECTIONS: usize = 32;

/// One blog process; killed when dropped.
struct Blog {
    /// The process.
    child: Child,
    /// Its port.
    port: u16,
}

impl Blog {
    /// Starts the `blog` binary beside this one on `db` with `flags`.
    fn start(db: &str, flags: &[&str]) -> Blog {
        let binary = std::env::current_exe()
            .expect("this program's path")
            .with_file_name("blog");
        let mut child = Command::new(&binary)
            .args(["--port", "0", "--db", db])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {}: {error}; build it first: cargo build --release -p blog --bins",
                    binary.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the blog did not say where it listens: {line:?}"));
        Blog { child, port }
    }
}

impl Drop for Blog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
struct Figures {
    /// Requests per second, summed over the processes.
    rps: f64,
    /// Median latency, ms (the worst process's).
    p50: f64,
    /// 99th percentile latency, ms (the worst process's).
    p99: f64,
    /// CPU time (user and system) the blog processes spent per request, µs: steadier than
    /// req/s on a loaded machine, since time spent waiting for a core does not count.
    cpu_us: f64,
}

/// The CPU time (user and system) process `pid` has used so far, in clock ticks; 0 where there
/// is no `/proc`.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let after = &stat[stat.rfind(')').map_or(0, |end| end + 1)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|value| value.parse::<u64>().ok());
    field(11).unwrap_or(0) + field(12).unwrap_or(0)
}

/// Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// Runs one wrk per blog for `seconds`, all at once.
fn load(blogs: &[Blog], seconds: u32) -> Figures {
    let ticks = || -> u64 { blogs.iter().map(|blog| cpu_ticks(blog.child.id())).sum() };
    let ticks_before = ticks();
    let runs: Vec<Child> = blogs
        .iter()
        .map(|blog| {
            Command::new("wrk")
                .args([
                    "-t1",
                    &format!("-c{CONNECTIONS}"),
                    &format!("-d{seconds}s"),
                    "--latency",
                ])
                .arg(format!("http://127.0.0.1:{}{PAGE}", blog.port))
                .stdout(Stdio::piped())
                .spawn()
                .expect("wrk runs (apt-get install -y wrk)")
        })
        .collect();
    let mut figures = Figures {
        rps: 0.0,
        p50: 0.0,
        p99: 0.0,
        cpu_us: 0.0,
    };
    let mut requests = 0.0;
    for run in runs {
        let output = run.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            !text.contains("Non-2xx"),
            "the blog answered errors under load:\n{text}"
        );
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["Requests/sec:", rps] => figures.rps += rps.parse::<f64>().unwrap(),
                [count, "requests", "in", ..] => requests += count.parse::<f64>().unwrap(),
                ["50%", latency] => figures.p50 = figures.p50.max(millis(latency)),
                ["99%", latency] => figures.p99 = figures.p99.max(millis(latency)),
                _ => {}
            }
        }
    }
    let used = u32::try_from(ticks() - ticks_before).unwrap_or(u32::MAX);
    let cpu_seconds = f64::from(used) / TICKS_PER_SECOND;
    figures.cpu_us = cpu_seconds * 1e6 / requests.max(1.0);
    figures
}

/// wrk's `1.23ms`, `456.00us` or `1.02s`, in milliseconds.
fn millis(text: &str) -> f64 {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let value: f64 = text[..split].parse().unwrap();
    match &text[split..] {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        unit => panic!("unknown unit {unit}"),
    }
}

/// The ratio `ratio(coroutine round, async fn round)` of each round, and their median, as
/// `median (lowest–highest)`.
fn paired(results: &[Vec<Figures>; 2], ratio: impl Fn(&Figures, &Figures) -> f64) -> String {
    let mut ratios: Vec<f64> = results[0]
        .iter()
        .zip(&results[1])
        .map(|(coroutine, async_fn)| ratio(coroutine, async_fn))
        .collect();
    ratios.sort_by(f64::total_cmp);
    format!(
        "{:.2} ({:.2}–{:.2})",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    )
}

/// The median round, by req/s.
fn median(mut rounds: Vec<Figures>) -> Figures {
    rounds.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    rounds[rounds.len() / 2]
}

/// The `BLOG_TEST_POSTGRES` server.
fn postgres_server() -> String {
    std::env::var("BLOG_TEST_POSTGRES").expect(
        "BLOG_TEST_POSTGRES is not set; run this inside examples/blog/scripts/with-services.sh",
    )
}

/// Runs `statements` on the `BLOG_TEST_POSTGRES` server.
fn administer(statements: &[&str]) {
    let server = postgres_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL server answers");
        tokio::spawn(connection);
        for statement in statements {
            client
                .batch_execute(statement)
                .await
                .unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
    });
}

/// A fresh PostgreSQL database for the load test on the `BLOG_TEST_POSTGRES` server.
fn fresh_postgres() -> String {
    administer(&[
        "DROP DATABASE IF EXISTS blog_load",
        "CREATE DATABASE blog_load",
    ]);
    let server = postgres_server();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/blog_load")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u32 = args.next().map_or(5, |s| s.parse().expect("SECONDS"));
    let rounds: usize = args.next().map_or(3, |s| s.parse().expect("ROUNDS"));
    let postgres = fresh_postgres();
    let sqlite = std::env::temp_dir().join(format!("blog-load-{}.sqlite", std::process::id()));
    let sqlite_address = format!("sqlite:{}", sqlite.display());
    let cases: [(&str, &str, usize, &[&str]); 4] = [
        ("PostgreSQL, 2 processes, IoLoop", &postgres, 2, &[]),
        ("SQLite, 1 process, IoLoop", &sqlite_address, 1, &[]),
        (
            "PostgreSQL, 2 processes, --threads 2",
            &postgres,
            2,
            &["--threads", "2"],
        ),
        (
            "SQLite, 1 process, --threads 2",
            &sqlite_address,
            1,
            &["--threads", "2"],
        ),
    ];
    println!(
        "post page {PAGE}, wrk -t1 -c{CONNECTIONS} per process, {seconds} s x {rounds} rounds (median)\n"
    );
    println!("| case | handlers | req/s | p50 ms | p99 ms | CPU µs/request |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (name, db, processes, flags) in cases {
        let mut results = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            // A B, B A, A B, …: a load that drifts during a round weighs on both kinds alike.
            let mut order = [(0, "coroutine"), (1, "async-fn")];
            if round % 2 == 1 {
                order.reverse();
            }
            for (i, handlers) in order {
                let mut all_flags = flags.to_vec();
                all_flags.extend(["--handlers", handlers]);
                let blogs: Vec<Blog> = (0..processes)
                    .map(|_| Blog::start(db, &all_flags))
                    .collect();
                // Warm up: the caches, the pools and the prepared statements.
                load(&blogs, 1);
                results[i].push(load(&blogs, seconds));
            }
        }
        let [coroutine, async_fn] = [median(results[0].clone()), median(results[1].clone())];
        for (handlers, figures) in [("`#[coroutine]`", coroutine), ("`async fn`", async_fn)] {
            println!(
                "| {name} | {handlers} | {:.0} | {:.2} | {:.2} | {:.0} |",
                figures.rps, figures.p50, figures.p99, figures.cpu_us
            );
        }
        // Each round's two runs are neighbours in time, under about the same load: their
        // ratio is steadier than the ratio of the medians.
        let by_rps = paired(&results, |coroutine, async_fn| async_fn.rps / coroutine.rps);
        let by_cpu = paired(&results, |coroutine, async_fn| {
            coroutine.cpu_us / async_fn.cpu_us
        });
        println!(
            "| {name} | cost ratio, coroutine ÷ async fn | by req/s: {by_rps} | | | by CPU/request: {by_cpu} |"
        );
    }
    blog::Db::remove_sqlite(&sqlite);
    administer(&["DROP DATABASE blog_load WITH (FORCE)"]);
}
