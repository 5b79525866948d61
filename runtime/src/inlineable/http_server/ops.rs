//! The endpoints of operators: liveness, readiness and Prometheus metrics.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Lifecycle;

/// `/healthz`: the process is alive and serving.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `/readyz`: 200 while the server takes requests, 503 once it drains.
pub async fn readyz(State(life): State<Arc<Lifecycle>>) -> Response {
    if life.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        "ready\n".into_response()
    }
}

/// `/metrics`: the tools' figures (`tools`, Prometheus text) and the server's own.
pub fn metrics(mut tools: String, life: &Lifecycle) -> Response {
    let _ = write!(
        tools,
        "# HELP pforge_http_requests_in_flight MCP requests whose answer is not yet sent.\n\
         # TYPE pforge_http_requests_in_flight gauge\n\
         pforge_http_requests_in_flight {}\n\
         # HELP pforge_draining 1 while the server is stopping.\n\
         # TYPE pforge_draining gauge\n\
         pforge_draining {}\n",
        life.in_flight(),
        u8::from(life.draining()),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        tools,
    )
        .into_response()
}

/// Serves a request only when its `Host` names one of `allowed` (`forge.http.allowed_hosts`,
/// matched as rmcp matches them for `/mcp`: the name in any case, the port only when the
/// entry has one); others get 403. Without it a web page could read `/metrics` through DNS
/// rebinding. The probes skip it: they say only whether the server is up.
pub async fn check_host(
    State(allowed): State<&'static [&'static str]>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|host| host_allowed(host, allowed)) {
        return next.run(request).await;
    }
    tracing::warn!(?host, "refused a request whose Host header is not allowed");
    (
        StatusCode::FORBIDDEN,
        "Forbidden: Host header is not allowed",
    )
        .into_response()
}

/// Whether the `Host` value `host` names one of `allowed`.
pub fn host_allowed(host: &str, allowed: &[&str]) -> bool {
    let Some((name, port)) = authority(host) else {
        return false;
    };
    allowed.is_empty()
        || allowed
            .iter()
            .filter_map(|entry| authority(entry))
            .any(|(n, p)| n == name && p.is_none_or(|p| port == Some(p)))
}

/// A host and optional port, the host lowercased and without IPv6 brackets.
fn authority(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.trim();
    let parsed = axum::http::uri::Authority::try_from(text).ok();
    let (host, port) = match &parsed {
        Some(authority) => (authority.host(), authority.port_u16()),
        None if !text.is_empty() => (text, None),
        None => return None,
    };
    Some((host.trim_matches(['[', ']']).to_ascii_lowercase(), port))
}
