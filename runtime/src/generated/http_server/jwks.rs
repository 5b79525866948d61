//! The authorization server's signing keys (a JWKS document), fetched when needed and cached.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};

/// After the keys were fetched for a token with an unknown key id, tokens with unknown ids
/// are refused without fetching again for this long, so that made-up ids cannot turn the
/// server into a load on the authorization server.
const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(10);

/// After a failed fetch, none is tried for this long: requests neither queue behind fetches
/// that time out nor hammer an authorization server that is down.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// How long fetching the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Keys older than this are fetched again before use, so that a key the authorization server
/// withdrew stops being trusted; while that fetch fails, the keys held are used.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// Why no key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The keys are known, and this one is not among them.
    Unknown,
    /// The keys could not be fetched.
    Unavailable,
}

#[derive(Debug)]
struct Held {
    set: Arc<JwkSet>,
    fetched: Option<Instant>,
}

#[derive(Debug, Default)]
struct Fetches {
    /// When a fetch for an unknown key id last ran.
    for_unknown_kid: Option<Instant>,
    /// When the last fetch failed, if it did.
    failed: Option<Instant>,
}

/// The keys of one JWKS URL.
#[derive(Debug)]
pub struct Jwks {
    url: &'static str,
    http: reqwest::Client,
    max_age: Duration,
    held: RwLock<Held>,
    fetches: tokio::sync::Mutex<Fetches>,
}

impl Jwks {
    /// The keys at `url`, none fetched yet, refreshed once [`KEYS_MAX_AGE`] old.
    pub fn new(url: &'static str) -> Self {
        Self::with_max_age(url, KEYS_MAX_AGE)
    }

    /// The keys at `url`, refreshed once `max_age` old.
    pub fn with_max_age(url: &'static str, max_age: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            // Keys published over https must not be taken from a redirect to plain http.
            .https_only(url.starts_with("https://"))
            .build()
            .unwrap_or_default();
        Self {
            url,
            http,
            max_age,
            held: RwLock::new(Held {
                set: Arc::new(JwkSet { keys: Vec::new() }),
                fetched: None,
            }),
            fetches: tokio::sync::Mutex::new(Fetches::default()),
        }
    }

    /// The key `kid`, fetching the keys when they are old, or when `kid` is unknown and no
    /// fetch for an unknown id ran in the cool-down; one fetch at a time.
    pub async fn key(&self, kid: &str) -> Result<Jwk, KeyError> {
        if let (Some(jwk), true) = self.lookup(kid) {
            return Ok(jwk);
        }
        let mut fetches = self.fetches.lock().await;
        // Callers that waited for the lock find what the fetch before them brought.
        let (found, fresh) = self.lookup(kid);
        if let (Some(jwk), true) = (&found, fresh) {
            return Ok(jwk.clone());
        }
        let now = Instant::now();
        let backing_off = fetches
            .failed
            .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF);
        let cooled = fetches
            .for_unknown_kid
            .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_COOLDOWN);
        if !backing_off && (!fresh || cooled) {
            if fresh {
                fetches.for_unknown_kid = Some(now);
            }
            match self.fetch().await {
                Ok(set) => {
                    fetches.failed = None;
                    let mut held = self
                        .held
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    *held = Held {
                        set: Arc::new(set),
                        fetched: Some(now),
                    };
                }
                Err(error) => {
                    fetches.failed = Some(now);
                    tracing::warn!(%error, url = self.url, "cannot fetch the authorization server's keys");
                }
            }
        }
        match self.lookup(kid) {
            (Some(jwk), _) => Ok(jwk),
            (None, _) if fetches.failed.is_some() => Err(KeyError::Unavailable),
            (None, _) => Err(KeyError::Unknown),
        }
    }

    /// The key `kid` among those held, and whether they are younger than the maximum age.
    fn lookup(&self, kid: &str) -> (Option<Jwk>, bool) {
        let held = self
            .held
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = held.fetched.is_some_and(|at| at.elapsed() < self.max_age);
        (held.set.find(kid).cloned(), fresh)
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}
