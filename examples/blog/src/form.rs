//! The new-post form: what it sends, and the checks it must pass before anything is stored.

use serde::{Deserialize, Serialize};

use crate::db::NewPost;

/// The longest title, in characters.
pub(crate) const MAX_TITLE: usize = 120;
/// The longest slug, in characters.
pub(crate) const MAX_SLUG: usize = 80;
/// The longest category name, in characters.
pub(crate) const MAX_CATEGORY: usize = 40;
/// The longest body, in characters.
pub(crate) const MAX_BODY: usize = 20_000;

/// What the form at `/new` sends to `/post`, as typed; shown again when it is refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PostForm {
    /// The title.
    pub(crate) title: String,
    /// The slug; made from the title when left empty.
    pub(crate) slug: String,
    /// The category's name.
    pub(crate) category: String,
    /// The text.
    pub(crate) body: String,
}

/// Why the form was refused, field by field; shown next to each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct FormErrors {
    /// What is wrong with the title.
    pub(crate) title: Option<String>,
    /// What is wrong with the slug.
    pub(crate) slug: Option<String>,
    /// What is wrong with the category.
    pub(crate) category: Option<String>,
    /// What is wrong with the body.
    pub(crate) body: Option<String>,
}

impl FormErrors {
    /// Whether every field passed.
    pub(crate) fn is_empty(&self) -> bool {
        *self == FormErrors::default()
    }

    /// The refusal of a slug that another post already has.
    pub(crate) fn duplicate_slug(slug: &str) -> FormErrors {
        FormErrors {
            slug: Some(format!(
                "a post with the slug `{slug}` already exists; choose another"
            )),
            ..FormErrors::default()
        }
    }
}

impl PostForm {
    /// Checks every field; the post to store, or every reason it cannot be stored.
    pub(crate) fn validate(&self) -> Result<NewPost, FormErrors> {
        let title = self.title.trim();
        let category = self.category.trim();
        let body = self.body.trim();
        let slug = match self.slug.trim() {
            "" => slugify(title),
            given => given.to_owned(),
        };
        let title_error = required("title", title, MAX_TITLE);
        // A slug made from a refused title is not refused again.
        let derived = self.slug.trim().is_empty();
        let errors = FormErrors {
            slug: if derived && title_error.is_some() {
                None
            } else {
                check_slug(&slug)
            },
            title: title_error,
            category: required("category", category, MAX_CATEGORY).or_else(|| {
                // A `/` would split the category's address, `/category/<name>`, in two.
                category
                    .contains(|c: char| c == '/' || c.is_control())
                    .then(|| "the category cannot contain `/` or control characters".to_owned())
            }),
            body: required("body", body, MAX_BODY),
        };
        let mut errors = errors;
        // No database stores a NUL in text (PostgreSQL refuses it): refuse it on every backend.
        for (field, value, error) in [
            ("title", &self.title, &mut errors.title),
            ("slug", &self.slug, &mut errors.slug),
            ("category", &self.category, &mut errors.category),
            ("body", &self.body, &mut errors.body),
        ] {
            if value.contains('\0') {
                *error = Some(format!("the {field} contains a NUL character; remove it"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewPost {
            slug,
            title: title.to_owned(),
            body: body.replace("\r\n", "\n"),
            category: category.to_owned(),
        })
    }
}

/// The reason a required field of at most `max` characters is refused, if it is.
fn required(field: &str, value: &str, max: usize) -> Option<String> {
    let length = value.chars().count();
    if length == 0 {
        Some(format!("the {field} is empty; it is required"))
    } else if length > max {
        Some(format!(
            "the {field} is {length} characters long; the limit is {max}"
        ))
    } else {
        None
    }
}

/// The reason a slug is refused, if it is.
fn check_slug(slug: &str) -> Option<String> {
    let length = slug.chars().count();
    if slug.is_empty() {
        Some("the slug is empty; write one, or a title with letters or digits".to_owned())
    } else if length > MAX_SLUG {
        Some(format!(
            "the slug is {length} characters long; the limit is {MAX_SLUG}"
        ))
    } else if !slug.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) {
        Some(
            "the slug can only contain lowercase letters, digits and single hyphens between them"
                .to_owned(),
        )
    } else {
        None
    }
}

/// A slug made from a title: lowercase ASCII letters and digits, words joined by hyphens.
pub(crate) fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(title: &str, slug: &str, category: &str, body: &str) -> PostForm {
        PostForm {
            title: title.into(),
            slug: slug.into(),
            category: category.into(),
            body: body.into(),
        }
    }

    #[test]
    fn slugify_keeps_letters_and_digits_joined_by_hyphens() {
        assert_eq!(slugify("  Hello, World! 2024 "), "hello-world-2024");
        assert_eq!(slugify("Ünïcode only"), "n-code-only");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn a_valid_form_becomes_a_trimmed_post_with_a_derived_slug() {
        let post = form(" A title ", "", " Rust ", " line\r\nline ")
            .validate()
            .unwrap();
        assert_eq!(post.slug, "a-title");
        assert_eq!(post.title, "A title");
        assert_eq!(post.category, "Rust");
        assert_eq!(post.body, "line\nline");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = form(" ", "Bad Slug", "", "").validate().unwrap_err();
        assert!(errors.title.unwrap().contains("empty"));
        assert!(errors.slug.unwrap().contains("lowercase"));
        assert!(errors.category.unwrap().contains("empty"));
        assert!(errors.body.unwrap().contains("empty"));
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let title = "é".repeat(MAX_TITLE);
        assert!(form(&title, "ok", "c", "b").validate().is_ok());
        let title = "é".repeat(MAX_TITLE + 1);
        let errors = form(&title, "ok", "c", "b").validate().unwrap_err();
        assert_eq!(
            errors.title.unwrap(),
            format!(
                "the title is {} characters long; the limit is {MAX_TITLE}",
                MAX_TITLE + 1
            )
        );
    }

    #[test]
    fn slugs_need_words_between_hyphens() {
        for bad in ["-a", "a-", "a--b", "a_b", "A"] {
            assert!(check_slug(bad).is_some(), "{bad}");
        }
        assert!(check_slug("a-b-2").is_none());
    }
}
