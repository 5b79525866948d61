//! Who is calling: what the auth layer learned from a request's token, and the 401 it answers
//! when there is no good token.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The caller of a request, as its token says; the auth layer puts it in the request's
/// extensions, where rmcp keeps it for the handler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject (`sub`).
    pub subject: Option<String>,
    /// The scopes the token grants (`scope` or `scp`).
    pub scopes: Vec<String>,
    /// Which credential it is, the same for every request made with it: the JWT's issuer
    /// and subject, or which fixed token. A session is bound to it.
    pub principal: Option<String>,
}

impl Caller {
    /// Whether `caller` holds every scope of `needed`; a tool that needs none is open to all.
    pub fn allows(caller: Option<&Self>, needed: &[&str]) -> bool {
        needed.is_empty()
            || caller.is_some_and(|c| needed.iter().all(|n| c.scopes.iter().any(|s| s == n)))
    }

    /// The caller of a request rmcp hands a handler, from the HTTP request rmcp keeps in its
    /// extensions.
    pub fn of(extensions: &rmcp::model::Extensions) -> Option<&Self> {
        extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Self>())
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case, RFC 7235).
pub fn presented(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A 401 whose `WWW-Authenticate` is `Bearer` with the parameters `challenge` (already
/// formatted, e.g. `realm="mcp"`), and `error="invalid_token"` when a token was presented.
pub fn unauthorized(challenge: &str, invalid: Option<&str>) -> Response {
    let mut value = format!("Bearer {challenge}");
    if let Some(description) = invalid {
        value.push_str(&format!(
            ", error=\"invalid_token\", error_description=\"{description}\""
        ));
    }
    let body = if invalid.is_some() {
        "the bearer token is not valid\n"
    } else {
        "this server needs a bearer token (Authorization: Bearer <token>)\n"
    };
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, value)],
        body,
    )
        .into_response()
}
