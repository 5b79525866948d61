//! The http transport's address and access rules, with their defaults (`forge.bind`,
//! `forge.http`).

use std::net::SocketAddr;

use super::HttpLimits;
use crate::config::{Forge, HttpAuth, MetricsFacts, OAuthFacts, ServerFacts};
use crate::defaults;

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
    /// The rules `forge` sets, defaults elsewhere; `server` holds the addresses and the OAuth
    /// metadata location the loader established.
    pub fn of(forge: &Forge, server: &ServerFacts) -> Self {
        let access = forge.http.clone().unwrap_or_default();
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        let limits = HttpLimits::of(&access);
        Self {
            bind: server.bind,
            allowed_hosts: access
                .allowed_hosts
                .unwrap_or_else(|| owned(&defaults::ALLOWED_HOSTS)),
            allowed_origins: access
                .allowed_origins
                .unwrap_or_else(|| owned(&defaults::ALLOWED_ORIGINS)),
            max_body_bytes: access.max_body_bytes.unwrap_or(defaults::MAX_BODY_BYTES),
            stateless: access.stateless.unwrap_or(defaults::STATELESS),
            metrics: match server.metrics {
                None if defaults::METRICS => MetricsPlan::Shared,
                None | Some(MetricsFacts::Enabled(false)) => MetricsPlan::Off,
                Some(MetricsFacts::Enabled(true)) => MetricsPlan::Shared,
                Some(MetricsFacts::Listen(address)) => MetricsPlan::Own(address),
            },
            auth: auth(access.auth.as_ref(), server.oauth.as_ref()),
            limits,
        }
    }
}

/// The one way of `auth` the loader let through (it reports both or neither): `bearer` as
/// written, or `oauth` from its facts, which the loader establishes whenever it is written.
fn auth(auth: Option<&HttpAuth>, oauth: Option<&OAuthFacts>) -> Option<ServerAuthPlan> {
    if let Some(bearer) = auth.and_then(|a| a.bearer.as_ref()) {
        return Some(ServerAuthPlan::Bearer {
            env: bearer.env.clone(),
        });
    }
    let OAuthFacts {
        oauth,
        resource,
        metadata_url,
        metadata_path,
    } = oauth?;
    Some(ServerAuthPlan::OAuth(OAuthPlan {
        issuer: oauth.issuer.clone(),
        audience: oauth.audience.clone(),
        jwks_url: oauth.jwks_url.clone(),
        resource: resource.clone(),
        metadata_url: metadata_url.clone(),
        metadata_path: metadata_path.clone(),
        // The loader refuses a leeway above `MAX_LEEWAY_SECS`.
        leeway_secs: oauth
            .leeway
            .map_or(defaults::LEEWAY_SECS, |l| l.0.as_secs()),
    }))
}
