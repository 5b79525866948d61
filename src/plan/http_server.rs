//! The http transport's address and access rules, with their defaults (`forge.bind`,
//! `forge.http`).

use std::net::SocketAddr;

use super::HttpLimits;
use crate::config::{Forge, Metrics};

/// Address the http transport listens on when `bind` is not written.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// `Host` names served when `forge.http.allowed_hosts` is not written: this machine's.
pub const DEFAULT_ALLOWED_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Browser origins served when `forge.http.allowed_origins` is not written: pages of this
/// machine, on any port.
pub const DEFAULT_ALLOWED_ORIGINS: [&str; 3] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// Bytes of the largest request body, unless `forge.http.max_body_bytes` says otherwise
/// (rmcp's own limit).
pub const DEFAULT_MAX_BODY_BYTES: u32 = 4 * 1024 * 1024;

/// Clock skew tolerated on a JWT's `exp` and `nbf` unless `oauth.leeway` says otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// The largest `oauth.leeway`: more would keep expired tokens alive.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// Where `/metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsPlan {
    /// Not at all.
    Off,
    /// On the server's own address.
    Shared,
    /// On an address of its own, with `/healthz` and `/readyz`.
    Own(SocketAddr),
}

/// How callers prove who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAuthPlan {
    /// One of the tokens held by these environment variables.
    Bearer {
        /// Names of the variables.
        env: Vec<String>,
    },
    /// A JWT from an OAuth 2.1 authorization server.
    OAuth(OAuthPlan),
}

/// The resolved OAuth 2.1 resource server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthPlan {
    /// The `iss` tokens carry.
    pub issuer: String,
    /// The `aud` tokens carry.
    pub audience: String,
    /// The authorization server's keys.
    pub jwks_url: String,
    /// This server's URL, as announced in the protected resource metadata.
    pub resource: String,
    /// Where the protected resource metadata of `resource` is (RFC 9728, section 3.1).
    pub metadata_url: String,
    /// The metadata document's path on this server.
    pub metadata_path: String,
    /// Clock skew tolerated, in seconds.
    pub leeway_secs: u64,
}

/// Where RFC 9728 puts the metadata of `resource`: `/.well-known/oauth-protected-resource`
/// inserted between its origin and its path. `None` when `resource` is not an http(s) URL
/// (the loader reports it).
pub fn metadata_location(resource: &str) -> Option<(String, String)> {
    let (scheme, rest) = resource.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    if authority.is_empty() {
        return None;
    }
    let path = format!(
        "/.well-known/oauth-protected-resource{}",
        path.trim_end_matches('/')
    );
    Some((format!("{scheme}://{authority}{path}"), path))
}

/// The resolved address and access rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerPlan {
    /// Where the server listens (`PFORGE_BIND` overrides it at run time).
    pub bind: SocketAddr,
    /// `Host` names (with an optional port) requests may carry.
    pub allowed_hosts: Vec<String>,
    /// `Origin`s requests may carry; requests without one are served.
    pub allowed_origins: Vec<String>,
    /// Bytes of the largest request body.
    pub max_body_bytes: u32,
    /// No sessions: each POST answered on its own, as plain JSON.
    pub stateless: bool,
    /// Where `/metrics` is served.
    pub metrics: MetricsPlan,
    /// Who may call, when not anyone.
    pub auth: Option<ServerAuthPlan>,
    /// Timeouts and caps on connections, sessions and calls.
    pub limits: HttpLimits,
}

impl HttpServerPlan {
    /// The rules `forge` sets, defaults elsewhere. A `bind` that does not parse was reported
    /// by the loader; the default stands in for it.
    pub fn of(forge: &Forge) -> Self {
        let access = forge.http.clone().unwrap_or_default();
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        let limits = HttpLimits::of(&access);
        Self {
            bind: forge
                .bind
                .as_deref()
                .unwrap_or(DEFAULT_BIND)
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            allowed_hosts: access
                .allowed_hosts
                .unwrap_or_else(|| owned(&DEFAULT_ALLOWED_HOSTS)),
            allowed_origins: access
                .allowed_origins
                .unwrap_or_else(|| owned(&DEFAULT_ALLOWED_ORIGINS)),
            max_body_bytes: access.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            stateless: access.stateless.unwrap_or(false),
            metrics: match &access.metrics {
                None | Some(Metrics::Enabled(true)) => MetricsPlan::Shared,
                Some(Metrics::Enabled(false)) => MetricsPlan::Off,
                Some(Metrics::Listen(listen)) => listen
                    .bind
                    .parse()
                    .map_or(MetricsPlan::Shared, MetricsPlan::Own),
            },
            auth: access.auth.as_ref().and_then(auth),
            limits,
        }
    }
}

/// The one way of `auth` the loader let through (it reports both or neither).
fn auth(auth: &crate::config::HttpAuth) -> Option<ServerAuthPlan> {
    if let Some(bearer) = &auth.bearer {
        return Some(ServerAuthPlan::Bearer {
            env: bearer.env.clone(),
        });
    }
    let oauth = auth.oauth.as_ref()?;
    let resource = oauth
        .resource
        .clone()
        .unwrap_or_else(|| oauth.audience.clone());
    let (metadata_url, metadata_path) = metadata_location(&resource).unwrap_or_else(|| {
        let path = "/.well-known/oauth-protected-resource".to_owned();
        (path.clone(), path)
    });
    Some(ServerAuthPlan::OAuth(OAuthPlan {
        issuer: oauth.issuer.clone(),
        audience: oauth.audience.clone(),
        jwks_url: oauth.jwks_url.clone(),
        resource,
        metadata_url,
        metadata_path,
        // The loader refuses a leeway above `MAX_LEEWAY_SECS`.
        leeway_secs: oauth.leeway.map_or(DEFAULT_LEEWAY_SECS, |l| l.0.as_secs()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_goes_between_origin_and_path() {
        assert_eq!(
            metadata_location("https://mcp.example.com/mcp/"),
            Some((
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into(),
                "/.well-known/oauth-protected-resource/mcp".into()
            ))
        );
        assert_eq!(
            metadata_location("http://127.0.0.1:8080").map(|l| l.1),
            Some("/.well-known/oauth-protected-resource".into())
        );
        assert_eq!(metadata_location("urn:mcp"), None);
        assert_eq!(metadata_location("https:///x"), None);
    }

    #[test]
    fn the_schema_documents_the_body_limit() {
        let schema = crate::schema::forge_schema();
        let text = serde_json::to_string(&schema).unwrap_or_default();
        assert!(text.contains(&format!("\"default\":{DEFAULT_MAX_BODY_BYTES}")));
        for host in DEFAULT_ALLOWED_HOSTS {
            assert!(text.contains(&format!("`{host}`")), "{host}");
        }
        for origin in DEFAULT_ALLOWED_ORIGINS {
            assert!(text.contains(&format!("`{origin}`")), "{origin}");
        }
    }
}
