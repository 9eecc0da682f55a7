//! `GET /debug/coroutines`: where the blog's coroutines are suspended, at their `yield_!` lines.
//!
//! With the `introspect` feature (`cargo run -p blog --features introspect`), the page is
//! [`coroutine_runtime::introspect::snapshot`] as an indented tree of text; `?format=json` gives
//! the same tree as JSON, and `?older_than=5s` keeps only the coroutines suspended for longer
//! (and the parents they hang from). Without the feature, it answers 501 and says how to turn
//! it on.

use std::time::Duration;

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The query string of `/debug/coroutines`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DebugQuery {
    /// `text` (the default) or `json`.
    format: Option<String>,
    /// A duration such as `5s`, `250ms` or `2m`: only coroutines suspended for longer.
    older_than: Option<String>,
}

/// `GET /debug/coroutines`.
#[coroutine_runtime::coroutine]
pub(crate) fn coroutines(Query(query): Query<DebugQuery>) -> Response {
    let json = match query.format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return bad_request(&format!("unknown format `{other}`; use `text` or `json`"));
        }
    };
    let older_than = match query.older_than.as_deref().map(parse_duration) {
        None => None,
        Some(Ok(age)) => Some(age),
        Some(Err(reason)) => return bad_request(&reason),
    };
    tree(json, older_than)
}

/// The snapshot, as text or JSON.
#[cfg(feature = "introspect")]
fn tree(json: bool, older_than: Option<Duration>) -> Response {
    let mut snapshot = coroutine_runtime::introspect::snapshot();
    if let Some(age) = older_than {
        snapshot = snapshot.pruned(age);
    }
    if json {
        (
            [(header::CONTENT_TYPE, "application/json")],
            snapshot.to_json(),
        )
            .into_response()
    } else {
        text(StatusCode::OK, snapshot.to_string())
    }
}

/// Without the feature there is nothing to show: say how to get it.
#[cfg(not(feature = "introspect"))]
fn tree(_json: bool, _older_than: Option<Duration>) -> Response {
    text(
        StatusCode::NOT_IMPLEMENTED,
        "this blog was built without coroutine introspection; run it with \
         `cargo run -p blog --features introspect`\n"
            .to_owned(),
    )
}

/// A plain-text answer.
fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A 400 with the reason.
fn bad_request(reason: &str) -> Response {
    text(StatusCode::BAD_REQUEST, format!("{reason}\n"))
}

/// `5s`, `250ms`, `2m`, `1h`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "`older_than={text}` has an unknown unit; use ms, s, m or h"
            ));
        }
    };
    number
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * seconds_per_unit).ok())
        .ok_or_else(|| format!("`older_than={text}` is not a duration such as `5s` or `250ms`"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_parse_with_their_units_and_bad_ones_say_why() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(
            parse_duration("5 days")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("s").unwrap_err().contains("not a duration"));
        for malformed in ["1.2.3s", "99999999999999999999999h"] {
            let error = parse_duration(malformed).unwrap_err();
            assert!(error.contains("not a duration"), "{malformed}: {error}");
        }
    }
}
