//! An OAuth 2.1 resource server: JWT access tokens checked against the authorization
//! server's published keys (JWKS), and the protected resource metadata (RFC 9728) that tells
//! clients where to get a token.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;

use super::{Caller, Jwks, KeyError, Refused, presented, unauthorized};

/// Where tokens come from and what they must say (`forge.http.auth.oauth`).
#[derive(Debug, Clone, Copy)]
pub struct OAuth {
    /// The `iss` tokens carry.
    pub issuer: &'static str,
    /// The `aud` tokens carry.
    pub audience: &'static str,
    /// The authorization server's keys.
    pub jwks_url: &'static str,
    /// This server, as clients know it.
    pub resource: &'static str,
    /// Where this server's protected resource metadata is.
    pub metadata_url: &'static str,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Every scope a tool asks for.
    pub scopes: &'static [&'static str],
    /// The tools that need scopes, with them: a `tools/call` of one of these by a caller
    /// without its scopes is refused with 403 before it reaches the server.
    pub tool_scopes: &'static [(&'static str, &'static [&'static str])],
    /// Bytes of the largest request body, read whole to see which tool a call names.
    pub max_body_bytes: usize,
}

/// Checks tokens; holds the cached keys.
#[derive(Debug)]
pub struct Verifier {
    settings: OAuth,
    keys: Jwks,
}

/// Why a token was refused: the `error_description` clients see (never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token is refused; the text says why.
    Invalid(&'static str),
    /// The keys could not be fetched and the token's key is not among those held.
    KeysUnavailable,
}

/// What a request body says it is, read only to see which tool a `tools/call` names.
#[derive(Debug, Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<ProbeParams<'a>>,
}

#[derive(Debug, Deserialize)]
struct ProbeParams<'a> {
    #[serde(borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    Words(String),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    scope: Option<Scopes>,
    scp: Option<Scopes>,
}

impl Verifier {
    /// A verifier for `settings`; keys are fetched when the first token arrives. An error
    /// when no HTTP client can be built for the keys.
    pub fn new(settings: OAuth) -> Result<Self, reqwest::Error> {
        Ok(Self::with_keys(settings, Jwks::new(settings.jwks_url)?))
    }

    /// A verifier for `settings` that takes its keys from `keys`.
    pub fn with_keys(settings: OAuth, keys: Jwks) -> Self {
        Self { settings, keys }
    }

    /// The caller `token` names, if its signature, issuer, audience and lifetime are good.
    pub async fn verify(&self, token: &str) -> Result<Caller, Refusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Refusal::Invalid("the token is not a JWT"))?;
        if !is_access_token_type(header.typ.as_deref()) {
            return Err(Refusal::Invalid("the token is not an access token (typ)"));
        }
        let kid = header
            .kid
            .ok_or(Refusal::Invalid("the token names no key (kid)"))?;
        let jwk = self.keys.key(&kid).await.map_err(|error| match error {
            KeyError::Unknown => Refusal::Invalid("the token's key is unknown"),
            KeyError::Unavailable => Refusal::KeysUnavailable,
        })?;
        let (key, validation) = self.validation(&jwk)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|error| Refusal::Invalid(reason(error.kind())))?
            .claims;
        let scopes = [claims.scope, claims.scp]
            .into_iter()
            .flatten()
            .flat_map(|scopes| match scopes {
                Scopes::Words(words) => words.split_ascii_whitespace().map(str::to_owned).collect(),
                Scopes::List(list) => list,
            })
            .collect();
        // The issuer was checked equal to the configured one; it is kept in the principal so
        // that the same subject at another issuer could never be the same caller.
        let principal = claims
            .sub
            .as_ref()
            .map(|sub| format!("{}\u{0}{sub}", claims.iss.as_deref().unwrap_or_default()));
        Ok(Caller {
            subject: claims.sub,
            scopes,
            principal,
        })
    }

    /// The key and the checks for tokens signed with `jwk`: only its own algorithm (or its
    /// family's, when it names none), and never a shared-secret one, which would let anyone
    /// who knows the public key sign tokens.
    fn validation(&self, jwk: &Jwk) -> Result<(DecodingKey, Validation), Refusal> {
        let unusable = Refusal::Invalid("the token's key cannot check signatures");
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return Err(unusable);
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| unusable)?;
        if key.family() == AlgorithmFamily::Hmac {
            return Err(unusable);
        }
        let mut validation = match jwk.common.key_algorithm {
            Some(algorithm) => {
                Validation::new(Algorithm::try_from(algorithm).map_err(|_| unusable)?)
            }
            None => Validation::new_for_family(key.family()),
        };
        validation.set_issuer(&[self.settings.issuer]);
        validation.set_audience(&[self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway_secs;
        Ok((key, validation))
    }

    /// The scopes `caller` lacks for the tool a `tools/call` in `body` names, if any. A body
    /// that is not one such call (a batch, another method, not JSON) goes on to the server,
    /// whose `tools/call` checks the scopes again.
    pub fn missing_scopes(&self, caller: &Caller, body: &[u8]) -> Option<&'static [&'static str]> {
        let probe: Probe<'_> = serde_json::from_slice(body).ok()?;
        if probe.method.as_deref() != Some("tools/call") {
            return None;
        }
        let name = probe.params?.name?;
        let (_, needed) = self
            .settings
            .tool_scopes
            .iter()
            .find(|(tool, _)| *tool == name)?;
        (!Caller::allows(Some(caller), needed)).then_some(*needed)
    }

    /// The `WWW-Authenticate` parameters pointing clients at the metadata.
    fn challenge(&self) -> String {
        format!("resource_metadata=\"{}\"", self.settings.metadata_url)
    }
}

/// Whether a JWT's `typ` header names an access token: absent, `JWT` (RFC 7519), or
/// `at+jwt` (RFC 9068), with or without `application/`, in any case. Another type (an ID
/// token's, a logout token's) is refused, so that a token issued for another purpose by the
/// same authorization server cannot be used here (RFC 8725, section 3.11).
fn is_access_token_type(typ: Option<&str>) -> bool {
    let Some(typ) = typ else { return true };
    let typ = typ.trim();
    let bare = match (typ.get(..12), typ.get(12..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => typ,
    };
    bare.eq_ignore_ascii_case("jwt") || bare.eq_ignore_ascii_case("at+jwt")
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidIssuer => "the token is from another issuer",
        ErrorKind::InvalidAudience => "the token is for another audience",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks exp, iss or aud",
        ErrorKind::InvalidSignature => "the token's signature is wrong",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key",
        _ => "the token is malformed",
    }
}

impl Verifier {
    /// The request, with its [`Caller`] in its extensions, when its JWT is good (and, where
    /// tools need scopes, grants the tool a `tools/call` names); else the 401 pointing at
    /// the metadata, the 403 of a missing scope, or 503 when the keys cannot be fetched.
    pub async fn authenticate(&self, mut request: Request) -> Result<Request, Refused> {
        let challenge = self.challenge();
        let Some(token) = presented(&request) else {
            return Err(unauthorized(&challenge, None).into());
        };
        match self.verify(token).await {
            Ok(caller) => {
                if !self.settings.tool_scopes.is_empty() && request.method() == Method::POST {
                    request = self.check_scopes(&challenge, &caller, request).await?;
                }
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            Err(Refusal::Invalid(why)) => {
                tracing::debug!(why, "refused a request's token");
                Err(unauthorized(&challenge, Some(why)).into())
            }
            Err(Refusal::KeysUnavailable) => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "the authorization server's keys cannot be fetched\n",
            )
                .into_response()
                .into()),
        }
    }

    /// The request, its body read whole and put back, when `caller` holds the scopes of the
    /// tool it calls; else the 403 (or the 413/400 of a body too large or cut off).
    async fn check_scopes(
        &self,
        challenge: &str,
        caller: &Caller,
        request: Request,
    ) -> Result<Request, Refused> {
        let (parts, body) = request.into_parts();
        let limit = self.settings.max_body_bytes;
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large\n",
            )
                .into_response()
                .into());
        }
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return Err((
                StatusCode::BAD_REQUEST,
                "the request body could not be read whole (cut off, or too large)\n",
            )
                .into_response()
                .into());
        };
        if let Some(needed) = self.missing_scopes(caller, &bytes) {
            return Err(insufficient_scope(challenge, needed).into());
        }
        Ok(Request::from_parts(parts, Body::from(bytes)))
    }
}

/// Lets a request through when its JWT is good, with the [`Caller`] in its extensions; else
/// answers as [`Verifier::authenticate`] says.
pub async fn require_jwt(
    State(verifier): State<Arc<Verifier>>,
    request: Request,
    next: Next,
) -> Response {
    match verifier.authenticate(request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// 403 for a call of a tool whose scopes the token lacks, naming them so that the client can
/// ask the authorization server for a token that has them (MCP's scope challenge).
fn insufficient_scope(challenge: &str, needed: &[&str]) -> Response {
    let scopes = needed.join(" ");
    let value = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scopes}\", {challenge}, error_description=\"the tool needs these scopes\""
    );
    (
        StatusCode::FORBIDDEN,
        [(header::WWW_AUTHENTICATE, value)],
        format!("the token does not grant the scopes this tool needs: {scopes}\n"),
    )
        .into_response()
}

/// The protected resource metadata (RFC 9728): this server, the authorization server that
/// issues its tokens, and the scopes its tools ask for.
pub async fn metadata(State(verifier): State<Arc<Verifier>>) -> Response {
    let settings = &verifier.settings;
    let document = serde_json::json!({
        "resource": settings.resource,
        "authorization_servers": [settings.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": settings.scopes,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}
