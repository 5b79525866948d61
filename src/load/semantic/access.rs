//! Checks of who may call an http server and how it is run: `forge.http.auth`,
//! `forge.http.metrics`, `forge.drain_timeout` and the tools' `scopes`.

use crate::config::{Forge, HttpAuth, Metrics, OAuth, Tool, ToolKind, Transport};
use crate::defaults::internal::{MAX_DRAIN_SECS, MAX_LEEWAY_SECS};
use crate::load::fields::{self, Owner};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::naming::metadata_location;

/// Characters that would break the header, route or document a URL is written into.
const UNSAFE_IN_URL: &str = "\"\\{}*<>`^|";

/// Checks auth, metrics, the drain and the scopes of every tool.
pub fn check(sections: &Sections, reporter: &mut Reporter<'_>) {
    let forge = sections.forge.as_ref();
    if let Some(drain) = forge.and_then(|f| f.drain_timeout)
        && drain.0.as_secs() > MAX_DRAIN_SECS
    {
        reporter
            .error(
                &Pointer::section("forge").key("drain_timeout"),
                Target::Value,
                format!("`{drain}` is longer than an hour"),
            )
            .help("a stopping server waits at most `1h` for its calls")
            .emit();
    }
    let access = forge.and_then(|f| f.http.as_ref());
    if let Some(Metrics::Listen(listen)) = access.and_then(|a| a.metrics.as_ref()) {
        check_metrics_bind(forge, &listen.bind, reporter);
    }
    let auth = access.and_then(|a| a.auth.as_ref());
    if let Some(auth) = auth {
        check_auth(auth, reporter);
        check_tokens_stay(sections, auth, reporter);
    }
    let oauth = auth.is_some_and(|a| a.oauth.is_some())
        && forge.is_some_and(|f| f.transport == Some(Transport::Http));
    check_scopes(sections, oauth, reporter);
}

fn check_metrics_bind(forge: Option<&Forge>, bind: &str, reporter: &mut Reporter<'_>) {
    let at = Pointer::section("forge")
        .key("http")
        .key("metrics")
        .key("bind");
    let Ok(address) = bind.parse::<std::net::SocketAddr>() else {
        reporter
            .error(
                &at,
                Target::Value,
                format!("`{bind}` is not an IP address and port"),
            )
            .help("write e.g. `127.0.0.1:9464`, or `0.0.0.0:9464` for every interface")
            .emit();
        return;
    };
    let main = forge
        .and_then(|f| f.bind.as_deref())
        .unwrap_or(crate::defaults::BIND)
        .parse::<std::net::SocketAddr>();
    if main.is_ok_and(|main| main.port() == address.port() && address.port() != 0) {
        reporter
            .error(
                &at,
                Target::Value,
                format!("`{bind}` is the port the server itself listens on"),
            )
            .help("pick another port, or write `metrics: true` to serve `/metrics` beside `/mcp`")
            .emit();
    }
}

fn check_auth(auth: &HttpAuth, reporter: &mut Reporter<'_>) {
    match (&auth.bearer, &auth.oauth) {
        (Some(_), Some(_)) => {
            reporter
                .error(&Pointer::section("forge").key("http").key("auth").key("oauth"), Target::Key, "`auth` takes one of `bearer` and `oauth`, not both")
                .related(&Pointer::section("forge").key("http").key("auth").key("bearer"), Target::Key, "`bearer` is here")
                .help("keep `oauth` for tokens from an authorization server, or `bearer` for fixed tokens")
                .emit();
        }
        (None, None) => {
            reporter
                .error(&Pointer::section("forge").key("http").key("auth"), Target::Value, "`auth` says neither how tokens are checked")
                .help("add `bearer: {env: [MCP_TOKEN]}` or `oauth: {issuer, audience, jwks_url}`, or remove `auth`")
                .emit();
        }
        _ => {}
    }
    if let Some(bearer) = &auth.bearer {
        for (index, name) in bearer.env.iter().enumerate() {
            if !is_env_name(name) {
                reporter
                    .error(&Pointer::section("forge").key("http").key("auth").key("bearer").key("env").index(index), Target::Value, format!("`{name}` is not an environment variable name"))
                    .help("name the variable that holds the token, e.g. `MCP_TOKEN`; the token itself never goes in forge.yaml")
                    .emit();
            }
        }
    }
    if let Some(oauth) = &auth.oauth {
        check_oauth(oauth, reporter);
    }
}

fn check_oauth(oauth: &OAuth, reporter: &mut Reporter<'_>) {
    let at = Pointer::section("forge")
        .key("http")
        .key("auth")
        .key("oauth");
    if !is_secure_url(&oauth.jwks_url) {
        reporter
            .error(&at.key("jwks_url"), Target::Value, format!("`{}` is not an https URL", oauth.jwks_url))
            .help("keys must come over https (plain http only from this machine, e.g. `http://127.0.0.1:9000/jwks.json`)")
            .emit();
    }
    if !is_secure_url(&oauth.issuer) || oauth.issuer.contains(|c: char| UNSAFE_IN_URL.contains(c)) {
        reporter
            .error(&at.key("issuer"), Target::Value, format!("`{}` is not the https URL of an authorization server", oauth.issuer))
            .help("write the `iss` your authorization server puts in its tokens, e.g. `https://auth.example.com/`")
            .emit();
    }
    if oauth.audience.trim().is_empty() {
        reporter
            .error(&at.key("audience"), Target::Value, "the audience is empty")
            .help("write the `aud` your authorization server puts in tokens for this server")
            .emit();
    }
    let (resource, key) = match &oauth.resource {
        Some(resource) => (resource, "resource"),
        None => (&oauth.audience, "audience"),
    };
    let path = resource
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]));
    let pattern = path.is_some_and(|p| p.split('/').any(|part| part.starts_with([':', '*'])));
    if let Some(bad) = resource
        .chars()
        .find(|c| UNSAFE_IN_URL.contains(*c) || !c.is_ascii_graphic())
        .map(|c| format!("`{c}`"))
        .or_else(|| pattern.then(|| "a path segment starting with `:` or `*`".to_owned()))
    {
        reporter
            .error(&at.key(key), Target::Value, format!("`{resource}` holds {bad}, which cannot stand in this server's URL"))
            .help("write the URL clients use, e.g. `https://mcp.example.com/mcp`, percent-encoding anything unusual")
            .emit();
    } else if metadata_location(resource).is_none() {
        reporter
            .error(&at.key(key), Target::Value, format!("`{resource}` is not an http(s) URL, so clients cannot find this server's metadata"))
            .help("write `resource: https://mcp.example.com/mcp`, the URL clients use")
            .emit();
    }
    if let Some(leeway) = oauth.leeway
        && leeway.0.as_secs() > MAX_LEEWAY_SECS
    {
        reporter
            .error(
                &at.key("leeway"),
                Target::Value,
                format!("`{leeway}` would accept tokens long after they expire"),
            )
            .help("allow at most `5m` of clock skew")
            .emit();
    }
}

fn check_scopes(sections: &Sections, oauth: bool, reporter: &mut Reporter<'_>) {
    check_pipeline_scopes(sections, reporter);
    for (index, tool) in &sections.tools {
        let Some(scopes) = &tool.common.scopes else {
            continue;
        };
        let at = Pointer::tool(index).key("scopes");
        if !oauth && !scopes.is_empty() {
            reporter
                .warning(&at, Target::Key, "scopes are checked only when callers present OAuth tokens, so anyone who may call the server may call this tool")
                .help("add `transport: http` and `http: {auth: {oauth: ...}}` under `forge`, or remove `scopes`")
                .emit();
        }
        for (position, scope) in scopes.iter().enumerate() {
            if !is_scope(scope) {
                reporter
                    .error(&at.index(position), Target::Value, format!("`{scope}` is not an OAuth scope"))
                    .help("a scope is one word of printable characters without spaces, quotes or backslashes, e.g. `users:read`")
                    .emit();
            }
        }
    }
}

/// A pipeline runs its steps' tools without the scope check of a client's call, so it needs
/// every scope they need.
fn check_pipeline_scopes(sections: &Sections, reporter: &mut Reporter<'_>) {
    let scopes_of: std::collections::HashMap<&str, &[String]> = sections
        .tools
        .iter()
        .map(|(_, t)| {
            (
                t.common.name.as_str(),
                t.common.scopes.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    for (index, tool) in &sections.tools {
        let ToolKind::Pipeline(pipeline) = &tool.kind else {
            continue;
        };
        let own = tool.common.scopes.as_deref().unwrap_or_default();
        let mut missing: Vec<&str> = Vec::new();
        for step in &pipeline.steps {
            for scope in scopes_of
                .get(step.tool.as_str())
                .copied()
                .unwrap_or_default()
            {
                if !own.contains(scope) && !missing.contains(&scope.as_str()) {
                    missing.push(scope);
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        let (at, target) = match tool.common.scopes {
            Some(_) => (Pointer::tool(index).key("scopes"), Target::Value),
            None => (Pointer::tool(index).key("name"), Target::Value),
        };
        let all: Vec<&str> = own
            .iter()
            .map(String::as_str)
            .chain(missing.iter().copied())
            .collect();
        reporter
            .error(&at, target, format!("pipeline `{}` runs steps that need the scopes `{}`, which it does not ask for, so a caller without them could run those tools through it", tool.common.name, missing.join(" ")))
            .help(format!("give the pipeline `scopes: [{}]`", all.join(", ")))
            .emit();
    }
}

/// A POSIX-style variable name.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// RFC 6749's `scope-token`: printable ASCII without space, `"` and `\`.
fn is_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// An https URL, or an http one to this machine.
fn is_secure_url(url: &str) -> bool {
    if url.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    match scheme {
        "https" => !host.is_empty(),
        "http" => matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    }
}

/// The variables holding the server's own bearer tokens never leave it: commands do not
/// inherit them, and forge.yaml may not hand them to a command or send them to an upstream
/// (token passthrough) through `${VAR}` either, from a tool or from any of its fallbacks.
fn check_tokens_stay(sections: &Sections, auth: &HttpAuth, reporter: &mut Reporter<'_>) {
    let Some(tokens) = auth.bearer.as_ref().map(|b| &b.env) else {
        return;
    };
    for (index, tool) in &sections.tools {
        for (pointer, text, receiver) in outgoing_texts(tool, &Pointer::tool(index)) {
            let refs = crate::holes::env_refs(text).unwrap_or_default();
            for found in refs.iter().filter(|r| tokens.contains(&r.name)) {
                reporter
                    .error(
                        &pointer,
                        Target::Text(&format!("${{{}", found.name)),
                        format!("`{}` holds a bearer token of this server; {receiver} may not receive it", found.name),
                    )
                    .help("give it a credential of its own, in another variable")
                    .emit();
            }
        }
    }
}

/// Every string the tool at `at` hands to a command or sends to an upstream, with its pointer
/// and who receives it: its own command's or request's strings, its credentials, then its
/// http fallbacks' strings.
fn outgoing_texts<'a>(tool: &'a Tool, at: &Pointer) -> Vec<(Pointer, &'a str, &'static str)> {
    let fields = fields::of_tool(tool, at);
    let receiver = |owner: Owner| match (owner, &tool.kind) {
        (Owner::Kind, ToolKind::Cli(_)) => "a command",
        _ => "an upstream",
    };
    let mut texts: Vec<(Pointer, &str, &str)> = fields
        .iter()
        .filter(|field| field.owner == Owner::Kind)
        .map(|field| (field.pointer.clone(), field.text, receiver(field.owner)))
        .collect();
    if let ToolKind::Http(http) = &tool.kind {
        let auth = auth_texts(http.auth.as_ref(), at);
        texts.extend(auth.into_iter().map(|(p, text)| (p, text, "an upstream")));
    }
    texts.extend(
        fields
            .into_iter()
            .filter(|field| field.owner != Owner::Kind)
            .map(|field| (field.pointer, field.text, receiver(field.owner))),
    );
    texts
}

/// The strings of an http tool's credentials, with their pointers.
fn auth_texts<'a>(auth: Option<&'a crate::config::Auth>, at: &Pointer) -> Vec<(Pointer, &'a str)> {
    use crate::config::Auth;
    let fields: Vec<(&str, &String)> = match auth {
        None => Vec::new(),
        Some(Auth::Bearer(b)) => vec![("token", &b.token)],
        Some(Auth::Basic(b)) => vec![("username", &b.username), ("password", &b.password)],
        Some(Auth::ApiKey(k)) => vec![("key", &k.key)],
    };
    fields
        .into_iter()
        .map(|(key, value)| (at.key("auth").key(key), value.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_must_be_secure_but_for_this_machine() {
        assert!(is_secure_url("https://auth.example.com/jwks"));
        assert!(is_secure_url("http://127.0.0.1:9000/jwks.json"));
        assert!(is_secure_url("http://[::1]:9000/jwks.json"));
        assert!(!is_secure_url("http://auth.example.com/jwks"));
        assert!(!is_secure_url("https:///jwks"));
        assert!(!is_secure_url("auth.example.com"));
    }

    #[test]
    fn scopes_and_variables_have_their_grammar() {
        assert!(is_scope("users:read"));
        assert!(!is_scope("two words"));
        assert!(!is_scope("say\"hi\""));
        assert!(is_env_name("MCP_TOKEN_2"));
        assert!(!is_env_name("2TOKEN"));
        assert!(!is_env_name("MCP-TOKEN"));
    }
}
