//! `cargo run -p blog [-- --port PORT] [--db DATABASE] [--threads N]`: serves the seed article's
//! blog on <http://127.0.0.1:8888>, creating its database with sample posts on first start.
//!
//! A few flags do not need an argument-parsing crate: they are parsed by hand, and the build
//! stays short.

use std::process::ExitCode;

use blog::{Handlers, Runtime};

/// The port served when `--port` is not given.
const DEFAULT_PORT: u16 = 8888;

/// The database used when `--db` is not given: a SQLite file in the current directory.
const DEFAULT_DB: &str = "blog.sqlite";

/// What `--help` prints.
const USAGE: &str = "\
usage: blog [--port PORT] [--db DATABASE] [--threads N] [--handlers coroutine|async-fn]

Serves the blog on http://127.0.0.1:PORT/ (default 8888).

DATABASE is `sqlite:PATH` or a bare PATH for a SQLite file (default ./blog.sqlite), or
`postgres://USER@HOST:PORT/NAME` (or `postgresql://…`) for a PostgreSQL database that several
blog processes can share. Either is created with a dozen sample posts if it has none.

By default the blog runs on one thread with one event loop, as a Tornado process does; run one
process per core on a shared PostgreSQL database to use more. `--threads N` runs it on tokio's
multi-thread runtime with N workers instead. `--handlers async-fn` serves the post page with
plain `async fn` handlers instead of the `#[coroutine]` ones (for the load test).";

/// The command line, parsed.
#[derive(Debug, PartialEq)]
struct Options {
    /// The port to listen on, on 127.0.0.1.
    port: u16,
    /// The database's address.
    db: String,
    /// The runtime.
    runtime: Runtime,
    /// The post page's handlers.
    handlers: Handlers,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    /// Serve the blog.
    Serve(Options),
    /// Print the usage.
    Help,
}

/// Parses the arguments after the program name: `--port PORT`, `--db DATABASE`, `--threads N`,
/// `--handlers KIND` (or `--flag=VALUE`) and `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options {
        port: DEFAULT_PORT,
        db: DEFAULT_DB.to_owned(),
        runtime: Runtime::Loop,
        handlers: Handlers::Coroutines,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(Command::Help);
        }
        if !["--port", "--db", "--threads", "--handlers"].contains(&flag.as_str()) {
            return Err(format!(
                "unknown argument `{flag}`; expected `--port`, `--db`, `--threads` or `--handlers`"
            ));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("`{flag}` needs a value"));
        };
        match flag.as_str() {
            "--port" => {
                options.port = value.parse().map_err(|_| {
                    format!("`--port` must be a number from 0 to 65535, not `{value}`")
                })?;
            }
            "--threads" => match value.parse() {
                Ok(threads) if threads > 0 => options.runtime = Runtime::Threads(threads),
                _ => {
                    return Err(format!(
                        "`--threads` must be a number above 0, not `{value}`"
                    ));
                }
            },
            "--handlers" => {
                options.handlers = Handlers::from_name(&value).ok_or_else(|| {
                    format!("`--handlers` must be `coroutine` or `async-fn`, not `{value}`")
                })?;
            }
            _ => options.db = value,
        }
    }
    Ok(Command::Serve(options))
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match blog::serve(options.runtime, run(&options)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) | Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the database, binds the port and serves until stopped.
async fn run(options: &Options) -> std::io::Result<()> {
    let db = blog::Db::connect(&options.db)
        .await
        .map_err(|error| std::io::Error::other(format!("cannot open `{}`: {error}", options.db)))?;
    let backend = db.backend_name();
    let server = blog::Blog::new(db)
        .bind(("127.0.0.1", options.port))
        .await
        .map_err(|error| {
            std::io::Error::other(format!(
                "cannot listen on 127.0.0.1:{}: {error}",
                options.port
            ))
        })?;
    println!(
        "The blog is at http://{}/ ({backend} database: {}). Press Ctrl-C to stop.",
        server.local_addr(),
        options.db
    );
    server.with_handlers(options.handlers).run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    fn options(port: u16, db: &str, runtime: Runtime, handlers: Handlers) -> Command {
        Command::Serve(Options {
            port,
            db: db.to_owned(),
            runtime,
            handlers,
        })
    }

    #[test]
    fn no_flags_mean_the_defaults() {
        let expected = options(8888, "blog.sqlite", Runtime::Loop, Handlers::Coroutines);
        assert_eq!(args(""), Ok(expected));
    }

    #[test]
    fn flags_take_their_value_after_a_space_or_an_equals_sign() {
        let expected = options(9000, "/tmp/x.db", Runtime::Threads(3), Handlers::AsyncFns);
        assert_eq!(
            args("--port 9000 --db /tmp/x.db --threads 3 --handlers async-fn"),
            Ok(expected)
        );
        let expected = options(
            0,
            "postgres://blog@db/blog",
            Runtime::Loop,
            Handlers::Coroutines,
        );
        assert_eq!(
            args("--db=postgres://blog@db/blog --port=0 --handlers=coroutine"),
            Ok(expected)
        );
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert_eq!(
            args("--port 70000"),
            Err("`--port` must be a number from 0 to 65535, not `70000`".to_owned())
        );
        assert_eq!(args("--db"), Err("`--db` needs a value".to_owned()));
        assert_eq!(
            args("--threads 0"),
            Err("`--threads` must be a number above 0, not `0`".to_owned())
        );
        assert_eq!(
            args("--handlers generators"),
            Err("`--handlers` must be `coroutine` or `async-fn`, not `generators`".to_owned())
        );
        assert_eq!(
            args("--verbose"),
            Err(
                "unknown argument `--verbose`; expected `--port`, `--db`, `--threads` or `--handlers`"
                    .to_owned()
            )
        );
        assert_eq!(args("--help --port x"), Ok(Command::Help));
    }
}
