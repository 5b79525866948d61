//! Checks of the `forge` header: the crate name, the transport and who may reach it.

use crate::config::{Forge, HttpAccess, Transport};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
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
        if http {
            warn_unnamed_hosts(forge, reporter);
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
    check_allowed_hosts(access, reporter);
    check_allowed_origins(access, reporter);
}

/// A server bound beyond this machine, without `http`, answers only local host names.
fn warn_unnamed_hosts(forge: &Forge, reporter: &mut Reporter<'_>) {
    let bind = forge
        .bind
        .as_deref()
        .and_then(|b| b.parse::<std::net::SocketAddr>().ok());
    if bind.is_some_and(|b| !b.ip().is_loopback()) {
        reporter
            .warning(
                &Pointer::section("forge").key("bind"),
                Target::Value,
                "the server listens beyond this machine, but serves only requests addressed to `localhost`, `127.0.0.1` or `::1` (the `Host` header)",
            )
            .help("list the names clients use, e.g. `http: {allowed_hosts: [mcp.example.com]}` under `forge`")
            .emit();
    }
}

/// `allowed_hosts` is not empty and holds host names.
fn check_allowed_hosts(access: &HttpAccess, reporter: &mut Reporter<'_>) {
    let at = Pointer::section("forge").key("http").key("allowed_hosts");
    if access.allowed_hosts.as_ref().is_some_and(Vec::is_empty) {
        reporter
            .error(&at, Target::Value, "no host name is allowed, so every request would be refused")
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
                    &at.index(index),
                    Target::Value,
                    format!("`{host}` is not a host name (with an optional `:port`)"),
                )
                .help("write the name as in the `Host` header, e.g. `mcp.example.com` or `mcp.example.com:8443`")
                .emit();
        }
    }
}

/// `allowed_origins` holds origins.
fn check_allowed_origins(access: &HttpAccess, reporter: &mut Reporter<'_>) {
    let at = Pointer::section("forge").key("http").key("allowed_origins");
    for (index, origin) in access.allowed_origins.iter().flatten().enumerate() {
        if !is_origin(origin) {
            reporter
                .error(
                    &at.index(index),
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
