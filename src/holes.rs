//! The two kinds of holes in config strings: `{{param}}` placeholders, filled per call, and
//! `${VAR}` / `${VAR:-default}` environment references, resolved when the server runs.

mod json;
mod template;

pub use json::JsonTemplate;
pub use template::{Part, Template};

use std::ops::Range;

/// A `{{name}}` placeholder found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The name between the braces, trimmed.
    pub name: String,
    /// Byte range of the whole `{{...}}` within the string.
    pub range: Range<usize>,
}

/// A malformed hole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Byte range within the string.
    pub range: Range<usize>,
}

/// Whether `name` can name a parameter or variable.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Finds every `{{name}}` in `text`.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, TemplateError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            return Err(TemplateError {
                message: "`{{` is never closed with `}}`".into(),
                range: open..text.len(),
            });
        };
        let name = text[open + 2..close].trim();
        let range = open..close + 2;
        if !is_identifier(name) {
            return Err(TemplateError {
                message: format!("`{}` is not a valid placeholder", &text[range.clone()]),
                range,
            });
        }
        found.push(Placeholder {
            name: name.to_owned(),
            range,
        });
        from = close + 2;
    }
    Ok(found)
}

/// The parameter a cli argument begins with: its first `{{name}}` when nothing but `${VAR}`s
/// (which may be empty) comes before it. A placeholder inside a `${VAR:-…}` default is part
/// of that reference, as [`Template::split`] reads it.
pub fn leading_param(text: &str) -> Option<String> {
    Template::split(text).leading_param().map(str::to_owned)
}

/// An environment reference found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRef {
    /// Variable name.
    pub name: String,
    /// Text after `:-`, if any.
    pub default: Option<String>,
    /// Byte range of the whole `${...}`.
    pub range: Range<usize>,
}

/// Finds every `${VAR}` / `${VAR:-default}` in `text`.
pub fn env_refs(text: &str) -> Result<Vec<EnvRef>, TemplateError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("${").map(|i| from + i) {
        let Some(close) = text[open + 2..].find('}').map(|i| open + 2 + i) else {
            return Err(TemplateError {
                message: "`${` is never closed with `}`".into(),
                range: open..text.len(),
            });
        };
        let inner = &text[open + 2..close];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default.to_owned())),
            None => (inner, None),
        };
        let range = open..close + 1;
        if !is_identifier(name) {
            return Err(TemplateError {
                message: format!(
                    "`{}` is not a valid environment variable reference",
                    &text[range.clone()]
                ),
                range,
            });
        }
        if default.as_deref().is_some_and(|d| d.contains("{{")) {
            return Err(TemplateError {
                message: format!(
                    "`{}`: a `{{{{placeholder}}}}` inside an environment default is not filled",
                    &text[range.clone()]
                ),
                range,
            });
        }
        found.push(EnvRef {
            name: name.to_owned(),
            default,
            range,
        });
        from = close + 1;
    }
    Ok(found)
}

/// A pipeline step's `condition`: a variable, or `!variable` to negate it, with or without
/// `{{ }}` around the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The variable tested.
    pub variable: String,
    /// Whether the step runs when the variable is *not* truthy.
    pub negated: bool,
}

/// Reads a condition; `None` when what is left is not a variable name.
pub fn condition(text: &str) -> Option<Condition> {
    let trimmed = text.trim();
    let negated = trimmed.starts_with('!');
    let variable = trimmed
        .trim_start_matches('!')
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    is_identifier(variable).then(|| Condition {
        variable: variable.to_owned(),
        negated,
    })
}

/// Where an endpoint's scheme and host end: after `https://host[:port]` (or `http://`), or
/// after a leading `${VAR}` that supplies them. `None` when the endpoint is neither.
pub fn authority_end(endpoint: &str) -> Option<usize> {
    let lower = endpoint.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        let scheme = endpoint.len() - rest.len();
        Some(scheme + rest.find(['/', '?', '#']).unwrap_or(rest.len()))
    } else if endpoint.starts_with("${") {
        endpoint.find('}').map(|i| i + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cli_argument_leads_with_its_first_placeholder_after_env_refs() {
        let lead = |text: &str| leading_param(text);
        assert_eq!(lead("{{ref}}").as_deref(), Some("ref"));
        assert_eq!(lead("{{ ref }}x").as_deref(), Some("ref"));
        assert_eq!(lead("${PREFIX}{{ref}}").as_deref(), Some("ref"));
        assert_eq!(lead("${A}${B:-x}{{ref}}").as_deref(), Some("ref"));
        assert_eq!(lead("--{{ref}}"), None);
        assert_eq!(lead(" {{ref}}"), None);
        assert_eq!(lead("${A} {{ref}}"), None);
        // Inside a default, the placeholder is part of the reference.
        assert_eq!(lead("${A:-{{ref}}}"), None);
        assert_eq!(lead("plain"), None);
    }

    #[test]
    fn finds_placeholders_with_their_ranges() {
        let found = placeholders("/users/{{user_id}}/x?q={{ query }}").unwrap_or_default();
        let names: Vec<_> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["user_id", "query"]);
        assert_eq!(found[0].range, 7..18);
    }

    #[test]
    fn rejects_malformed_placeholders() {
        assert!(placeholders("{{user").is_err());
        assert!(placeholders("{{}}").is_err());
        assert!(placeholders("{{a-b}}").is_err());
        assert_eq!(placeholders("plain text { } }}").map(|p| p.len()), Ok(0));
    }

    #[test]
    fn reads_conditions() {
        let negated = condition(" !{{ ready }} ");
        assert_eq!(
            negated.as_ref().map(|c| (c.variable.as_str(), c.negated)),
            Some(("ready", true))
        );
        assert_eq!(condition("ok").map(|c| c.negated), Some(false));
        assert_eq!(condition("a b"), None);
    }

    #[test]
    fn finds_where_the_host_ends() {
        assert_eq!(authority_end("https://api.x.com/users/{{id}}"), Some(17));
        assert_eq!(authority_end("HTTP://h:80?q=1"), Some(11));
        assert_eq!(authority_end("${BASE}/v1"), Some(7));
        assert_eq!(authority_end("/relative"), None);
    }

    #[test]
    fn finds_environment_references() {
        let found = env_refs("${BASE_URL:-http://localhost:8080}/v1/${X}").unwrap_or_default();
        assert_eq!(found[0].name, "BASE_URL");
        assert_eq!(found[0].default.as_deref(), Some("http://localhost:8080"));
        assert_eq!(found[1].name, "X");
        assert!(env_refs("${1X}").is_err());
        assert!(
            env_refs("${X:-{{id}}}").is_err(),
            "a placeholder in a default"
        );
        assert!(env_refs("${X").is_err());
    }
}
