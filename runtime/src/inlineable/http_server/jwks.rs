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

/// What fetching old keys again gave.
enum Refreshed {
    /// Not fetched now: another caller is fetching, or the last fetch failed just now.
    NotNow,
    /// The key, from the keys held after the fetch (the old ones if it failed).
    Found(Box<Jwk>),
    /// The new keys lack it: the authorization server withdrew it.
    Withdrawn,
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

/// The largest JWKS document read; a real one is a few kilobytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

impl Jwks {
    /// The keys at `url`, none fetched yet, refreshed once [`KEYS_MAX_AGE`] old.
    pub fn new(url: &'static str) -> Result<Self, reqwest::Error> {
        Self::with_timing(url, KEYS_MAX_AGE, FETCH_TIMEOUT)
    }

    /// The keys at `url`, refreshed once `max_age` old, each fetch given `timeout`.
    pub fn with_timing(
        url: &'static str,
        max_age: Duration,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // Keys published over https must not be taken from a redirect to plain http.
            .https_only(url.starts_with("https://"))
            .build()?;
        Ok(Self {
            url,
            http,
            max_age,
            held: RwLock::new(Held {
                set: Arc::new(JwkSet { keys: Vec::new() }),
                fetched: None,
            }),
            fetches: tokio::sync::Mutex::new(Fetches::default()),
        })
    }

    /// The key `kid`. Keys past their age are fetched again by one caller while the others
    /// use those held; an unknown `kid` waits for a fetch, unless one for an unknown id ran in
    /// the cool-down or the last one failed in the back-off.
    pub async fn key(&self, kid: &str) -> Result<Jwk, KeyError> {
        match self.lookup(kid) {
            (Some(jwk), true) => return Ok(jwk),
            (Some(jwk), false) => {
                return match self.refreshed(kid).await {
                    Refreshed::NotNow => Ok(jwk),
                    Refreshed::Found(jwk) => Ok(*jwk),
                    Refreshed::Withdrawn => Err(KeyError::Unknown),
                };
            }
            (None, _) => {}
        }
        let mut fetches = self.fetches.lock().await;
        // Callers that waited for the lock find what the fetch before them brought.
        let (found, fresh) = self.lookup(kid);
        if let Some(jwk) = found {
            return Ok(jwk);
        }
        let backing_off = fetches
            .failed
            .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF);
        let cooled = fetches
            .for_unknown_kid
            .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_COOLDOWN);
        if !backing_off && (!fresh || cooled) {
            if fresh {
                fetches.for_unknown_kid = Some(Instant::now());
            }
            self.refresh(&mut fetches).await;
        }
        match self.lookup(kid) {
            (Some(jwk), _) => Ok(jwk),
            (None, _) if fetches.failed.is_some() => Err(KeyError::Unavailable),
            (None, _) => Err(KeyError::Unknown),
        }
    }

    /// Old keys: the first caller to get here fetches them again; the others, and every
    /// caller during the back-off, use what is held.
    async fn refreshed(&self, kid: &str) -> Refreshed {
        let Ok(mut fetches) = self.fetches.try_lock() else {
            return Refreshed::NotNow;
        };
        let fresh = self.lookup(kid).1;
        if !fresh {
            if fetches
                .failed
                .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF)
            {
                return Refreshed::NotNow;
            }
            self.refresh(&mut fetches).await;
        }
        match self.lookup(kid).0 {
            Some(jwk) => Refreshed::Found(Box::new(jwk)),
            None => Refreshed::Withdrawn,
        }
    }

    /// Fetches the keys; on failure keeps those held and starts the back-off.
    async fn refresh(&self, fetches: &mut Fetches) {
        match self.fetch().await {
            Ok(set) => {
                fetches.failed = None;
                let mut held = self
                    .held
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *held = Held {
                    set: Arc::new(set),
                    fetched: Some(Instant::now()),
                };
            }
            Err(error) => {
                // Timed from the end of the attempt, so that a fetch that hung for its whole
                // timeout still starts a full back-off.
                fetches.failed = Some(Instant::now());
                tracing::warn!(%error, url = self.url, "cannot fetch the authorization server's keys");
            }
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

    async fn fetch(&self) -> Result<JwkSet, String> {
        let mut response = self
            .http
            .get(self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!(
                    "the key set is larger than {MAX_DOCUMENT_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("the key set is not a JWKS: {e}"))
    }
}
