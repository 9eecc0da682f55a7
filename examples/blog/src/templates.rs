//! The page templates: the files under `templates/`, compiled into the binary.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

/// Every template, by name.
const TEMPLATES: [(&str, &str); 7] = [
    ("base.html", include_str!("../templates/base.html")),
    (
        "post_list.html",
        include_str!("../templates/post_list.html"),
    ),
    ("index.html", include_str!("../templates/index.html")),
    ("post.html", include_str!("../templates/post.html")),
    ("category.html", include_str!("../templates/category.html")),
    ("new.html", include_str!("../templates/new.html")),
    ("error.html", include_str!("../templates/error.html")),
];

/// The parsed templates, shared by every request.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Every page is HTML: escape every value printed, whatever the template's name.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // Block tags leave no blank lines behind them.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in TEMPLATES {
        // A syntax error is a bug in this crate; the unit test below catches it.
        env.add_template(name, source)
            .unwrap_or_else(|error| panic!("template `{name}` does not parse: {error}"));
    }
    env
});

/// Renders the template `name` with `context`.
pub(crate) fn render(name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
    ENVIRONMENT.get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(ENVIRONMENT.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn values_are_escaped() {
        let html = render(
            "error.html",
            context! { status => "400", message => "<b>&</b>" },
        )
        .unwrap();
        assert!(html.contains("&lt;b&gt;&amp;&lt;&#x2f;b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
    }
}
