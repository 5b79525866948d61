//! Checks of the `forge` header, resources and prompts.

use std::collections::HashMap;

use crate::config::{Forge, PromptArguments, Transport};
use crate::holes::{self, is_identifier};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::load::suggest;
use crate::naming;

/// Checks crate name and transport.
pub fn check_forge(sections: &Sections, reporter: &mut Reporter<'_>) {
    let Some(forge) = &sections.forge else { return };
    if let Some(problem) = naming::crate_name_problem(&forge.name) {
        reporter
            .error(
                &Pointer::section("forge").key("name"),
                Target::Value,
                problem.message,
            )
            .help(problem.help)
            .emit();
    }
    match (forge.transport, &forge.bind) {
        (Some(Transport::Http), Some(bind)) if bind.parse::<std::net::SocketAddr>().is_err() => {
            reporter
                .error(
                    &Pointer::section("forge").key("bind"),
                    Target::Value,
                    format!("`{bind}` is not an IP address and port"),
                )
                .help("write e.g. `127.0.0.1:8080`, or `0.0.0.0:8080` to listen on every interface")
                .emit();
        }
        (Some(Transport::Stdio) | None, Some(_)) => {
            reporter
                .warning(
                    &Pointer::section("forge").key("bind"),
                    Target::Key,
                    "`bind` has no effect with the stdio transport",
                )
                .help("add `transport: http` to serve over HTTP, or remove `bind`")
                .emit();
        }
        _ => {}
    }
    check_http_access(forge, reporter);
    if forge.transport == Some(Transport::Http) && forge.stdio.is_some() {
        reporter
            .warning(
                &Pointer::section("forge").key("stdio"),
                Target::Key,
                "`stdio` has no effect with the http transport",
            )
            .help(
                "remove `stdio`, or drop `transport: http` to serve over standard input and output",
            )
            .emit();
    }
}

/// Checks `forge.http`: where it applies, the shape of each host and origin, and a server
/// listening beyond this machine without saying which host names reach it.
fn check_http_access(forge: &Forge, reporter: &mut Reporter<'_>) {
    let http = forge.transport == Some(Transport::Http);
    let Some(access) = &forge.http else {
        let bind = forge
            .bind
            .as_deref()
            .and_then(|b| b.parse::<std::net::SocketAddr>().ok());
        if http && bind.is_some_and(|b| !b.ip().is_loopback()) {
            reporter
                .warning(
                    &Pointer::section("forge").key("bind"),
                    Target::Value,
                    "the server listens beyond this machine, but serves only requests addressed to `localhost`, `127.0.0.1` or `::1` (the `Host` header)",
                )
                .help("list the names clients use, e.g. `http: {allowed_hosts: [mcp.example.com]}` under `forge`")
                .emit();
        }
        return;
    };
    if !http {
        reporter
            .warning(
                &Pointer::section("forge").key("http"),
                Target::Key,
                "`http` has no effect with the stdio transport",
            )
            .help("add `transport: http` to serve over HTTP, or remove `http`")
            .emit();
    }
    if access.allowed_hosts.as_ref().is_some_and(Vec::is_empty) {
        reporter
            .error(&Pointer::section("forge").key("http").key("allowed_hosts"), Target::Value, "no host name is allowed, so every request would be refused")
            .help("list the names clients use, e.g. `[mcp.example.com]`, or remove the key for this machine's names")
            .emit();
    }
    for (index, host) in access.allowed_hosts.iter().flatten().enumerate() {
        if host.trim().is_empty()
            || host.contains("://")
            || host.contains(|c: char| c.is_whitespace() || c.is_control() || "/@?#,".contains(c))
        {
            reporter
                .error(
                    &Pointer::section("forge").key("http").key("allowed_hosts").index(index),
                    Target::Value,
                    format!("`{host}` is not a host name (with an optional `:port`)"),
                )
                .help("write the name as in the `Host` header, e.g. `mcp.example.com` or `mcp.example.com:8443`")
                .emit();
        }
    }
    for (index, origin) in access.allowed_origins.iter().flatten().enumerate() {
        if !is_origin(origin) {
            reporter
                .error(
                    &Pointer::section("forge").key("http").key("allowed_origins").index(index),
                    Target::Value,
                    format!("`{origin}` is not an origin"),
                )
                .help("write `scheme://host`, with `:port` or `:*` for any port, e.g. `https://app.example.com` or `http://localhost:*`; or `null`")
                .emit();
        }
    }
}

/// `scheme://host[:port|:*]` with an http(s) scheme and nothing after the authority, or `null`.
fn is_origin(origin: &str) -> bool {
    if origin == "null" {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(|c: char| c.is_whitespace() || c.is_control() || "/@?#,".contains(c))
}

/// Checks resources: one way to address them, one source of contents, unique URIs.
pub fn check_resources(sections: &Sections, reporter: &mut Reporter<'_>) {
    let mut uris: HashMap<&str, usize> = HashMap::new();
    for (index, resource) in &sections.resources {
        let at = Pointer::resource(index);
        let address = match (&resource.uri, &resource.uri_template) {
            (Some(_), Some(_)) => {
                reporter
                    .error(
                        &at.key("uri_template"),
                        Target::Key,
                        "a resource has either `uri` or `uri_template`, not both",
                    )
                    .help(
                        "use `uri` for one fixed resource and `uri_template` for a family of them",
                    )
                    .emit();
                None
            }
            (None, None) => {
                reporter
                    .error(
                        &at,
                        Target::Value,
                        "a resource needs `uri` or `uri_template`",
                    )
                    .help("add e.g. `uri: file://./README.md`")
                    .emit();
                None
            }
            (Some(uri), None) => Some(("uri", uri.as_str())),
            (None, Some(template)) => Some(("uri_template", template.as_str())),
        };
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
        let Some((key, address)) = address else {
            continue;
        };
        let key_at = at.key(key);
        if !has_scheme(address) {
            reporter
                .error(&key_at, Target::Value, format!("`{address}` has no scheme"))
                .help("URIs start with a scheme, e.g. `file://`, `docs://` or `config://`")
                .emit();
            continue;
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
                .error(&at, Target::Value, format!("nothing says what `{address}` contains"))
                .help("add `content`, `path` or `handler`; only `file://` URIs serve their file by themselves")
                .emit();
        }
        if let Some(first) = uris.get(address) {
            reporter
                .error(
                    &key_at,
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

/// Checks prompts: unique names and arguments, template placeholders declared.
pub fn check_prompts(sections: &Sections, reporter: &mut Reporter<'_>) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (index, prompt) in &sections.prompts {
        let at = Pointer::prompt(index);
        if let Some(first) = names.get(prompt.name.as_str()) {
            reporter
                .error(
                    &at.key("name"),
                    Target::Value,
                    format!("a second prompt is named `{}`", prompt.name),
                )
                .related(
                    &Pointer::prompt(first).key("name"),
                    Target::Value,
                    "first defined here",
                )
                .emit();
        } else {
            names.insert(&prompt.name, *index);
        }

        let mut declared: Vec<(String, Pointer)> = Vec::new();
        match &prompt.arguments {
            Some(PromptArguments::List(list)) => {
                for (i, argument) in list.iter().enumerate() {
                    let arg_at = at.key("arguments").index(i).key("name");
                    if let Some((_, first)) = declared.iter().find(|(n, _)| *n == argument.name) {
                        reporter
                            .error(
                                &arg_at,
                                Target::Value,
                                format!("a second argument is named `{}`", argument.name),
                            )
                            .related(first, Target::Value, "first defined here")
                            .emit();
                    }
                    declared.push((argument.name.clone(), arg_at));
                }
            }
            Some(PromptArguments::Map(map)) => {
                declared.extend(map.keys().map(|k| (k.clone(), at.key("arguments").key(k))));
            }
            None => {}
        }
        for (name, arg_at) in &declared {
            if !is_identifier(name) {
                reporter
                    .error(arg_at, Target::Key, format!("`{name}` is not a valid argument name"))
                    .help("argument names start with a letter or `_` and hold only letters, digits and `_`")
                    .emit();
            }
        }

        let Some(text) = &prompt.template else {
            continue;
        };
        let template_at = at.key("template");
        let placeholders = match holes::placeholders(text) {
            Ok(found) => found,
            Err(error) => {
                reporter
                    .error(
                        &template_at,
                        Target::Text(&text[error.range.clone()]),
                        error.message,
                    )
                    .emit();
                continue;
            }
        };
        if prompt.arguments.is_none() {
            continue;
        }
        let known: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
        for placeholder in &placeholders {
            if !known.contains(&placeholder.name.as_str()) {
                let written = &text[placeholder.range.clone()];
                let help = suggest::closest(&placeholder.name, known.iter().copied())
                    .map(|k| format!("did you mean `{{{{{k}}}}}`?"))
                    .unwrap_or_else(|| {
                        format!("add `{}` to the prompt's `arguments`", placeholder.name)
                    });
                reporter
                    .error(
                        &template_at,
                        Target::Text(written),
                        format!("`{written}` is not an argument of prompt `{}`", prompt.name),
                    )
                    .help(help)
                    .emit();
            }
        }
        for (name, arg_at) in &declared {
            if !placeholders.iter().any(|p| p.name == *name) {
                reporter
                    .warning(
                        arg_at,
                        Target::Value,
                        format!("argument `{name}` is not used in the template"),
                    )
                    .help(format!(
                        "write `{{{{{name}}}}}` where the argument belongs, or remove it"
                    ))
                    .emit();
            }
        }
    }
}
