//! Fixed bearer tokens, read from environment variables when the server starts and compared
//! in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::{Caller, Refused, presented, unauthorized};

/// The accepted tokens, kept as SHA-256 digests: comparing digests takes the same time
/// whatever the presented token's length, and the tokens themselves are not kept around.
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} accepted)", self.digests.len())
    }
}

impl Tokens {
    /// The tokens held by the variables `names`; an error names a variable that is unset or
    /// empty, since the server would then refuse every caller.
    pub fn from_env(names: &[&str]) -> Result<Self, String> {
        Self::from_lookup(names, |name| std::env::var(name).ok())
    }

    /// The tokens `lookup` finds under `names`, as [`Tokens::from_env`] does.
    pub fn from_lookup(
        names: &[&str],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut digests = Vec::with_capacity(names.len());
        for name in names {
            match lookup(name) {
                Some(token) if !token.trim().is_empty() => digests.push(digest(token.trim())),
                _ => {
                    return Err(format!(
                        "the environment variable `{name}` must hold a bearer token (forge.http.auth.bearer.env)"
                    ));
                }
            }
        }
        Ok(Self { digests })
    }

    /// Whether `token` is one of the accepted tokens. Every token is compared, so the time
    /// taken says nothing about which one matched, or how much of one.
    pub fn accepts(&self, token: &str) -> bool {
        self.which(token).is_some()
    }

    /// Which of the accepted tokens `token` is (its place in `forge.http.auth.bearer.env`),
    /// found in constant time as [`Tokens::accepts`].
    pub fn which(&self, token: &str) -> Option<usize> {
        let presented = digest(token);
        let (seen, index) = self.digests.iter().enumerate().fold(
            (Choice::from(0), 0u64),
            |(seen, index), (at, accepted)| {
                let here = accepted.ct_eq(&presented);
                let at = u64::try_from(at).unwrap_or(u64::MAX);
                (seen | here, u64::conditional_select(&index, &at, here))
            },
        );
        bool::from(seen).then(|| usize::try_from(index).unwrap_or(usize::MAX))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// The request, with its [`Caller`] in its extensions, when it carries an accepted
    /// token; else the 401 to answer. A fixed token grants every tool. The token is never
    /// logged.
    pub fn authenticate(&self, mut request: Request) -> Result<Request, Refused> {
        match presented(&request).map(|token| self.which(token)) {
            Some(Some(index)) => {
                request.extensions_mut().insert(Caller {
                    principal: Some(format!("bearer #{index}")),
                    ..Caller::default()
                });
                Ok(request)
            }
            Some(None) => {
                tracing::debug!("refused a request: unknown bearer token");
                Err(unauthorized("realm=\"mcp\"", Some("unknown token")).into())
            }
            None => Err(unauthorized("realm=\"mcp\"", None).into()),
        }
    }
}

/// Lets a request through when it carries an accepted token, else answers 401.
pub async fn require_token(
    State(tokens): State<Arc<Tokens>>,
    request: Request,
    next: Next,
) -> Response {
    match tokens.authenticate(request) {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}
