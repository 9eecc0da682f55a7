//! `cargo run -p blog [-- --port PORT] [--db PATH]`: serves the seed article's blog on
//! <http://127.0.0.1:8888>, creating its database with sample posts on first start.
//!
//! Two flags do not need an argument-parsing crate: they are parsed by hand, and the build stays
//! short.

use std::path::PathBuf;
use std::process::ExitCode;

/// The port served when `--port` is not given.
const DEFAULT_PORT: u16 = 8888;

/// The database file used when `--db` is not given, in the current directory.
const DEFAULT_DB: &str = "blog.sqlite";

/// What `--help` prints.
const USAGE: &str = "\
usage: blog [--port PORT] [--db PATH]

Serves the blog on http://127.0.0.1:PORT/ (default 8888). PATH is its SQLite database
(default ./blog.sqlite), created with a dozen sample posts if it does not exist.";

/// The command line, parsed.
#[derive(Debug, PartialEq)]
struct Options {
    /// The port to listen on, on 127.0.0.1.
    port: u16,
    /// The database file.
    db: PathBuf,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    /// Serve the blog.
    Serve(Options),
    /// Print the usage.
    Help,
}

/// Parses the arguments after the program name: `--port PORT`, `--db PATH` (or `--port=PORT`,
/// `--db=PATH`) and `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options {
        port: DEFAULT_PORT,
        db: PathBuf::from(DEFAULT_DB),
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
        if flag != "--port" && flag != "--db" {
            return Err(format!(
                "unknown argument `{flag}`; expected `--port` or `--db`"
            ));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("`{flag}` needs a value"));
        };
        if flag == "--port" {
            options.port = value
                .parse()
                .map_err(|_| format!("`--port` must be a number from 0 to 65535, not `{value}`"))?;
        } else {
            options.db = PathBuf::from(value);
        }
    }
    Ok(Command::Serve(options))
}

#[tokio::main]
async fn main() -> ExitCode {
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
    let db = match blog::Db::open(&options.db) {
        Ok(db) => db,
        Err(error) => {
            eprintln!("error: cannot open `{}`: {error}", options.db.display());
            return ExitCode::FAILURE;
        }
    };
    let server = match blog::Blog::new(db).bind(("127.0.0.1", options.port)).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!(
                "error: cannot listen on 127.0.0.1:{}: {error}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    println!(
        "The blog is at http://{}/ (database: {}). Press Ctrl-C to stop.",
        server.local_addr(),
        options.db.display()
    );
    if let Err(error) = server.run().await {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn no_flags_mean_the_defaults() {
        let expected = Options {
            port: 8888,
            db: PathBuf::from("blog.sqlite"),
        };
        assert_eq!(args(""), Ok(Command::Serve(expected)));
    }

    #[test]
    fn flags_take_their_value_after_a_space_or_an_equals_sign() {
        let expected = Options {
            port: 9000,
            db: PathBuf::from("/tmp/x.db"),
        };
        assert_eq!(
            args("--port 9000 --db /tmp/x.db"),
            Ok(Command::Serve(expected))
        );
        let expected = Options {
            port: 0,
            db: PathBuf::from("y.db"),
        };
        assert_eq!(args("--db=y.db --port=0"), Ok(Command::Serve(expected)));
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert_eq!(
            args("--port 70000"),
            Err("`--port` must be a number from 0 to 65535, not `70000`".to_owned())
        );
        assert_eq!(args("--db"), Err("`--db` needs a value".to_owned()));
        assert_eq!(
            args("--verbose"),
            Err("unknown argument `--verbose`; expected `--port` or `--db`".to_owned())
        );
        assert_eq!(args("--help --port x"), Ok(Command::Help));
    }
}
