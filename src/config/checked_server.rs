//! What the loader's checks established about the http transport (`forge.bind`,
//! `forge.http`): its addresses parsed and where the OAuth metadata is, so the planner reads
//! them instead of parsing again with a fallback for what does not parse.

use std::net::SocketAddr;

use super::OAuth;

/// The http transport's facts; the loader establishes them only for `transport: http`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFacts {
    /// Where the server listens: `forge.bind`, or [`crate::defaults::BIND`], parsed.
    pub bind: SocketAddr,
    /// `forge.http.metrics` as written, its own address parsed.
    pub metrics: Option<MetricsFacts>,
    /// `forge.http.auth.oauth`, with this server's resource URL and its metadata location.
    pub oauth: Option<OAuthFacts>,
}

/// Where `/metrics` is served, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFacts {
    /// `true`: on the server's address; `false`: not at all.
    Enabled(bool),
    /// On an address of its own.
    Listen(SocketAddr),
}

/// The OAuth 2.1 resource server settings, with what the checks established about them.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthFacts {
    /// The settings as written.
    pub oauth: OAuth,
    /// This server's URL: `resource`, or `audience` when it is not written.
    pub resource: String,
    /// Where the protected resource metadata of `resource` is (RFC 9728, section 3.1).
    pub metadata_url: String,
    /// The metadata document's path on this server.
    pub metadata_path: String,
}
