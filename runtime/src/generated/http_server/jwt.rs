//! An OAuth 2.1 resource server: JWT access tokens checked against the authorization
//! server's published keys (JWKS), and the protected resource metadata (RFC 9728) that tells
//! clients where to get a token.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;

use super::{Caller, presented, unauthorized};

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
}

/// After the keys were fetched for a token with an unknown key id, tokens with unknown ids
/// are refused without fetching again for this long, so that made-up ids cannot turn the
/// server into a load on the authorization server.
const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(10);

/// Keys older than this are fetched again, so a key the authorization server withdrew stops
/// being trusted.
const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// How long fetching the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Fetches {
    /// When the keys were last fetched.
    at: Option<Instant>,
    /// When the keys were last fetched because of an unknown key id.
    for_unknown_kid: Option<Instant>,
}

/// Checks tokens; holds the cached keys.
#[derive(Debug)]
pub struct Verifier {
    settings: OAuth,
    http: reqwest::Client,
    keys: RwLock<Arc<JwkSet>>,
    fetches: tokio::sync::Mutex<Fetches>,
}

/// Why a token was refused: the `error_description` clients see (never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token is refused; the text says why.
    Invalid(&'static str),
    /// The keys could not be fetched and the token's key is not among those held.
    KeysUnavailable,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    Words(String),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    scope: Option<Scopes>,
    scp: Option<Scopes>,
}

impl Verifier {
    /// A verifier for `settings`; keys are fetched when the first token arrives.
    pub fn new(settings: OAuth) -> Self {
        Self {
            settings,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(Arc::new(JwkSet { keys: Vec::new() })),
            fetches: tokio::sync::Mutex::new(Fetches::default()),
        }
    }

    /// The caller `token` names, if its signature, issuer, audience and lifetime are good.
    pub async fn verify(&self, token: &str) -> Result<Caller, Refusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Refusal::Invalid("the token is not a JWT"))?;
        let kid = header
            .kid
            .ok_or(Refusal::Invalid("the token names no key (kid)"))?;
        let jwk = self.key(&kid).await?;
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
        Ok(Caller {
            subject: claims.sub,
            scopes,
        })
    }

    /// The key `kid`, fetching the keys again when it is unknown or they are old.
    async fn key(&self, kid: &str) -> Result<Jwk, Refusal> {
        if let Some(jwk) = self.cached(kid) {
            return Ok(jwk);
        }
        // One fetch at a time: callers that waited find the keys it brought.
        let mut fetches = self.fetches.lock().await;
        if let Some(jwk) = self.cached(kid) {
            return Ok(jwk);
        }
        let stale = fetches.at.is_none_or(|at| at.elapsed() >= KEYS_MAX_AGE);
        let cooled = fetches
            .for_unknown_kid
            .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_COOLDOWN);
        if !stale && !cooled {
            return Err(Refusal::Invalid("the token's key is unknown"));
        }
        let now = Instant::now();
        if !stale {
            fetches.for_unknown_kid = Some(now);
        }
        match self.fetch().await {
            Ok(set) => {
                fetches.at = Some(now);
                *self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
            }
            Err(error) => {
                tracing::warn!(%error, url = self.settings.jwks_url, "cannot fetch the authorization server's keys");
                return self.cached(kid).ok_or(Refusal::KeysUnavailable);
            }
        }
        self.cached(kid)
            .ok_or(Refusal::Invalid("the token's key is unknown"))
    }

    fn cached(&self, kid: &str) -> Option<Jwk> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.find(kid).cloned()
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(self.settings.jwks_url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
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

    /// The `WWW-Authenticate` parameters pointing clients at the metadata.
    fn challenge(&self) -> String {
        format!("resource_metadata=\"{}\"", self.settings.metadata_url)
    }
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

/// Lets a request through when its JWT is good, with the [`Caller`] in its extensions; else
/// answers 401 pointing at the metadata, or 503 when the keys cannot be fetched.
pub async fn require_jwt(
    State(verifier): State<Arc<Verifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    let challenge = verifier.challenge();
    let Some(token) = presented(&request) else {
        return unauthorized(&challenge, None);
    };
    match verifier.verify(token).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Refusal::Invalid(why)) => {
            tracing::debug!(why, "refused a request's token");
            unauthorized(&challenge, Some(why))
        }
        Err(Refusal::KeysUnavailable) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            "the authorization server's keys cannot be fetched\n",
        )
            .into_response(),
    }
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
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}
