//! Checks of resources: one way to address each, one source of contents, unique URIs.

use std::collections::HashMap;

use crate::config::Resource;
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;

/// Checks resources: one way to address them, one source of contents, unique URIs.
pub fn check(sections: &Sections, reporter: &mut Reporter<'_>) {
    let mut uris: HashMap<&str, usize> = HashMap::new();
    for (index, resource) in &sections.resources {
        let at = Pointer::resource(index);
        let address = address(resource, &at, reporter);
        let sources = sources(resource, &at, reporter);
        let Some((key, address)) = address else {
            continue;
        };
        if !check_address(resource, (key, address), &at, &sources, reporter) {
            continue;
        }
        if let Some(first) = uris.get(address) {
            reporter
                .error(
                    &at.key(key),
                    Target::Value,
                    format!("a second resource has the URI `{address}`"),
                )
                .related(
                    &Pointer::resource(first).key(key),
                    Target::Value,
                    "first defined here",
                )
                .emit();
        } else {
            uris.insert(address, *index);
        }
    }
}

/// The key and text of the resource's one address, `uri` or `uri_template`.
fn address<'r>(
    resource: &'r Resource,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) -> Option<(&'static str, &'r str)> {
    match (&resource.uri, &resource.uri_template) {
        (Some(_), Some(_)) => {
            reporter
                .error(
                    &at.key("uri_template"),
                    Target::Key,
                    "a resource has either `uri` or `uri_template`, not both",
                )
                .help("use `uri` for one fixed resource and `uri_template` for a family of them")
                .emit();
            None
        }
        (None, None) => {
            reporter
                .error(
                    at,
                    Target::Value,
                    "a resource needs `uri` or `uri_template`",
                )
                .help("add e.g. `uri: file://./README.md`")
                .emit();
            None
        }
        (Some(uri), None) => Some(("uri", uri.as_str())),
        (None, Some(template)) => Some(("uri_template", template.as_str())),
    }
}

/// The keys that give the resource's contents; more than one is an error.
fn sources(resource: &Resource, at: &Pointer, reporter: &mut Reporter<'_>) -> Vec<&'static str> {
    let sources: Vec<&str> = [
        resource.handler.as_ref().map(|_| "handler"),
        resource.content.as_ref().map(|_| "content"),
        resource.path.as_ref().map(|_| "path"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let [first, second, ..] = sources.as_slice() {
        reporter
            .error(
                &at.key(second),
                Target::Key,
                format!("a resource has one source of contents, but `{first}` is given too"),
            )
            .related(&at.key(first), Target::Key, "first source")
            .emit();
    }
    sources
}

/// The address has a scheme, and what it needs to produce contents; `false` when it has no
/// scheme (its uniqueness is then not worth reporting).
fn check_address(
    resource: &Resource,
    (key, address): (&str, &str),
    at: &Pointer,
    sources: &[&str],
    reporter: &mut Reporter<'_>,
) -> bool {
    let key_at = at.key(key);
    if !has_scheme(address) {
        reporter
            .error(&key_at, Target::Value, format!("`{address}` has no scheme"))
            .help("URIs start with a scheme, e.g. `file://`, `docs://` or `config://`")
            .emit();
        return false;
    }
    if key == "uri_template" {
        if resource.handler.is_none() {
            reporter
                .error(
                    &key_at,
                    Target::Key,
                    "a `uri_template` resource needs a `handler` to produce its contents",
                )
                .help("add `handler: handlers::MyResource`, or use a fixed `uri`")
                .emit();
        }
        if address.matches('{').count() != address.matches('}').count() {
            reporter
                .error(
                    &key_at,
                    Target::Value,
                    "unbalanced `{` and `}` in the URI template",
                )
                .emit();
        }
    } else if sources.is_empty() && !address.starts_with("file://") {
        reporter
            .error(at, Target::Value, format!("nothing says what `{address}` contains"))
            .help("add `content`, `path` or `handler`; only `file://` URIs serve their file by themselves")
            .emit();
    }
    true
}

fn has_scheme(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}
