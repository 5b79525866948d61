//! Bearer tokens and JWTs: what is accepted, what is refused and why, and when the keys are
//! fetched again. The authorization server is a loopback JWKS endpoint the test starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::generated::http_server::{Caller, Jwks, OAuth, Refusal, Tokens, Verifier};

const ISSUER: &str = "https://auth.test/";
const AUDIENCE: &str = "https://mcp.test/mcp";

/// An Ed25519 key from a 32-byte seed (PKCS#8 v1: a fixed prefix, then the seed).
fn key(seed: u8) -> EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[seed; 32]);
    EncodingKey::from_ed_der(&der)
}

fn jwk(seed: u8, kid: &str) -> Jwk {
    let mut jwk =
        Jwk::from_encoding_key(&key(seed), Algorithm::EdDSA).unwrap_or_else(|e| panic!("{e}"));
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn token(seed: u8, kid: &str, claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &key(seed)).unwrap_or_else(|e| panic!("{e}"))
}

fn good_claims() -> serde_json::Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "exp": now() + 300, "scope": "a:read b:write"})
}

/// A JWKS endpoint serving `keys`, counting fetches.
struct Issuer {
    keys: Arc<std::sync::Mutex<JwkSet>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
    hang: Arc<std::sync::atomic::AtomicBool>,
    url: String,
}

impl Issuer {
    async fn start(keys: Vec<Jwk>) -> Self {
        let keys = Arc::new(std::sync::Mutex::new(JwkSet { keys }));
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hang = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get({
                let (keys, fetches, down, hang) = (
                    Arc::clone(&keys),
                    Arc::clone(&fetches),
                    Arc::clone(&down),
                    Arc::clone(&hang),
                );
                move || {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let body =
                        serde_json::to_string(&*keys.lock().unwrap_or_else(|e| e.into_inner()))
                            .unwrap_or_default();
                    let status = if down.load(Ordering::SeqCst) {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    };
                    let hang = hang.load(Ordering::SeqCst);
                    async move {
                        if hang {
                            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                        }
                        (status, body)
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}/jwks.json",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            keys,
            fetches,
            down,
            hang,
            url,
        }
    }

    fn verifier(&self) -> Verifier {
        self.verifier_with_max_age(crate::generated::http_server::KEYS_MAX_AGE)
    }

    fn verifier_with_max_age(&self, max_age: std::time::Duration) -> Verifier {
        self.verifier_with(max_age, std::time::Duration::from_secs(5))
    }

    fn verifier_with(
        &self,
        max_age: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Verifier {
        let url: &'static str = Box::leak(self.url.clone().into_boxed_str());
        let keys = Jwks::with_timing(url, max_age, timeout).unwrap_or_else(|e| panic!("{e}"));
        Verifier::with_keys(self.settings(url), keys)
    }

    fn settings(&self, url: &'static str) -> OAuth {
        OAuth {
            issuer: ISSUER,
            audience: AUDIENCE,
            jwks_url: url,
            resource: AUDIENCE,
            metadata_url: "https://mcp.test/.well-known/oauth-protected-resource/mcp",
            leeway_secs: 5,
            scopes: &["a:read"],
            tool_scopes: &[("guarded", &["a:read", "c:run"])],
            max_body_bytes: 4096,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_token_names_its_caller_and_scopes() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier();
    let caller = verifier.verify(&token(1, "k1", good_claims())).await;
    assert_eq!(
        caller,
        Ok(Caller {
            subject: Some("ada".into()),
            scopes: vec!["a:read".into(), "b:write".into()],
            principal: Some(format!("{ISSUER}\u{0}ada")),
        })
    );
    // `scp` as a list (Azure's spelling) counts too; the keys were fetched once.
    let mut claims = good_claims();
    claims["scope"] = serde_json::Value::Null;
    claims["scp"] = json!(["c:run"]);
    let caller = verifier.verify(&token(1, "k1", claims)).await;
    assert_eq!(caller.map(|c| c.scopes), Ok(vec!["c:run".to_owned()]));
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_the_reason() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier();
    let with = |key: &str, value: serde_json::Value| {
        let mut claims = good_claims();
        claims[key] = value;
        token(1, "k1", claims)
    };
    let cases = [
        (with("exp", json!(now() - 60)), "the token has expired"),
        (
            with("nbf", json!(now() + 600)),
            "the token is not valid yet",
        ),
        (
            with("aud", json!("https://other.test/")),
            "the token is for another audience",
        ),
        (
            with("iss", json!("https://evil.test/")),
            "the token is from another issuer",
        ),
        (
            token(2, "k1", good_claims()),
            "the token's signature is wrong",
        ),
        ("not-a-jwt".to_owned(), "the token is not a JWT"),
    ];
    for (token, why) in cases {
        assert_eq!(
            verifier.verify(&token).await,
            Err(Refusal::Invalid(why)),
            "{why}"
        );
    }
    // A token without `aud` is refused, not waved through.
    let mut claims = good_claims();
    claims.as_object_mut().map(|c| c.remove("aud"));
    assert_eq!(
        verifier.verify(&token(1, "k1", claims)).await,
        Err(Refusal::Invalid("the token lacks exp, iss or aud"))
    );
    // Within the leeway, a just-expired token still passes.
    assert!(
        verifier
            .verify(&with("exp", json!(now() - 2)))
            .await
            .is_ok()
    );
}

fn token_of_type(typ: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".to_owned());
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, &good_claims(), &key(1)).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_access_token_types_are_accepted() {
    // Token confusion (RFC 8725, section 3.11): an ID token or a logout token signed by the
    // same authorization server, for the same audience, is not an access token.
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier();
    for typ in [
        None,
        Some("JWT"),
        Some("jwt"),
        Some("at+jwt"),
        Some("application/at+JWT"),
    ] {
        assert!(
            verifier.verify(&token_of_type(typ)).await.is_ok(),
            "{typ:?}"
        );
    }
    for typ in [
        "id_token+jwt",
        "logout+jwt",
        "JOSE",
        "",
        "application/",
        "at+jwt2",
    ] {
        assert_eq!(
            verifier.verify(&token_of_type(Some(typ))).await,
            Err(Refusal::Invalid("the token is not an access token (typ)")),
            "{typ}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_secret_signature_is_refused() {
    // Alg confusion: an HS256 token "signed" with a public key's bytes must not pass, and a
    // JWKS's symmetric key is never used.
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(&header, &good_claims(), &EncodingKey::from_secret(b"k1"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        verifier.verify(&forged).await,
        Err(Refusal::Invalid(_))
    ));
    let secret: Jwk = serde_json::from_value(json!({"kty": "oct", "kid": "s1", "k": "c2VjcmV0"}))
        .unwrap_or_else(|e| panic!("{e}"));
    issuer
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys
        .push(secret);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("s1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verifier.verify(&forged).await,
        Err(Refusal::Invalid("the token's key cannot check signatures"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_id_fetches_the_keys_again_but_not_on_every_request() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier();
    assert!(
        verifier
            .verify(&token(1, "k1", good_claims()))
            .await
            .is_ok()
    );
    assert_eq!(issuer.fetches(), 1);
    // The authorization server rotates to a new key: the first token signed with it makes
    // the server fetch the keys again, and it is accepted.
    issuer
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys
        .push(jwk(2, "k2"));
    assert!(
        verifier
            .verify(&token(2, "k2", good_claims()))
            .await
            .is_ok()
    );
    assert_eq!(issuer.fetches(), 2);
    // Made-up key ids are refused without a fetch each, during the cool-down.
    for kid in ["x1", "x2", "x3"] {
        assert_eq!(
            verifier.verify(&token(3, kid, good_claims())).await,
            Err(Refusal::Invalid("the token's key is unknown"))
        );
    }
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_cannot_be_fetched_are_a_distinct_refusal() {
    let verifier = Verifier::new(OAuth {
        issuer: ISSUER,
        audience: AUDIENCE,
        // Nothing listens on port 9 of this machine.
        jwks_url: "http://127.0.0.1:9/jwks.json",
        resource: AUDIENCE,
        metadata_url: "",
        leeway_secs: 0,
        scopes: &[],
        tool_scopes: &[],
        max_body_bytes: 4096,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verifier.verify(&token(1, "k1", good_claims())).await,
        Err(Refusal::KeysUnavailable)
    );
    assert_eq!(
        verifier.verify(&token(1, "", good_claims())).await,
        Err(Refusal::KeysUnavailable)
    );
}

#[test]
fn scopes_allow_what_they_name() {
    let caller = Caller {
        subject: None,
        scopes: vec!["a".into(), "b".into()],
        principal: None,
    };
    assert!(Caller::allows(Some(&caller), &["a", "b"]));
    assert!(!Caller::allows(Some(&caller), &["a", "c"]));
    assert!(Caller::allows(None, &[]));
    assert!(!Caller::allows(None, &["a"]));
}

#[test]
fn fixed_tokens_come_from_the_environment_and_match_exactly() {
    let env = |name: &str| match name {
        "A" => Some("alpha-token".to_owned()),
        "B" => Some(" beta-token\n".to_owned()),
        "EMPTY" => Some("  ".to_owned()),
        _ => None,
    };
    for name in ["UNSET", "EMPTY"] {
        let refused = Tokens::from_lookup(&["A", name], env);
        assert!(
            refused.is_err_and(|e| e.contains(&format!("`{name}`"))),
            "{name}"
        );
    }
    let tokens = Tokens::from_lookup(&["A", "B"], env).unwrap_or_else(|e| panic!("{e}"));
    assert!(tokens.accepts("alpha-token"));
    assert!(tokens.accepts("beta-token"));
    assert!(!tokens.accepts("alpha-toke"));
    assert!(!tokens.accepts("alpha-tokenX"));
    assert!(!tokens.accepts(""));
    assert!(!format!("{tokens:?}").contains("alpha"));
    // Which token matched names the caller a session is bound to.
    assert_eq!(tokens.which("alpha-token"), Some(0));
    assert_eq!(tokens.which("beta-token"), Some(1));
    assert_eq!(tokens.which("gamma-token"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_of_a_tool_needing_other_scopes_is_found_in_the_body() {
    let issuer = Issuer::start(vec![]).await;
    let verifier = issuer.verifier();
    // Escaped names are the names they spell, as rmcp reads them.
    let reader_only = Caller {
        subject: None,
        scopes: vec!["a:read".into()],
        principal: None,
    };
    let escaped =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"guard\u0065d"}}"#;
    assert!(verifier.missing_scopes(&reader_only, escaped).is_some());
    let reader = Caller {
        subject: None,
        scopes: vec!["a:read".into()],
        principal: None,
    };
    let call = |name: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}})
            .to_string()
    };
    assert_eq!(
        verifier.missing_scopes(&reader, call("guarded").as_bytes()),
        Some(&["a:read", "c:run"][..])
    );
    let both = Caller {
        subject: None,
        scopes: vec!["c:run".into(), "a:read".into()],
        principal: None,
    };
    assert_eq!(
        verifier.missing_scopes(&both, call("guarded").as_bytes()),
        None
    );
    // Other tools, other methods, batches and junk go on to the server's own check.
    assert_eq!(
        verifier.missing_scopes(&reader, call("open").as_bytes()),
        None
    );
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    assert_eq!(verifier.missing_scopes(&reader, list.as_bytes()), None);
    let batch = format!("[{}]", call("guarded"));
    assert_eq!(verifier.missing_scopes(&reader, batch.as_bytes()), None);
    assert_eq!(verifier.missing_scopes(&reader, b"\xff{"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_keys_are_fetched_again_so_a_withdrawn_key_stops_working() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    let verifier = issuer.verifier_with_max_age(std::time::Duration::from_millis(1000));
    assert!(
        verifier
            .verify(&token(1, "k1", good_claims()))
            .await
            .is_ok()
    );
    assert!(
        verifier
            .verify(&token(1, "k1", good_claims()))
            .await
            .is_ok()
    );
    assert_eq!(issuer.fetches(), 1);
    // The authorization server withdraws k1; once the keys are old, they are fetched again
    // before use, and k1 is refused.
    issuer.keys.lock().unwrap_or_else(|e| e.into_inner()).keys = vec![jwk(2, "k2")];
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        verifier.verify(&token(1, "k1", good_claims())).await,
        Err(Refusal::Invalid("the token's key is unknown"))
    );
    assert_eq!(issuer.fetches(), 2);
    // While the authorization server is down, the keys held keep working, and it is asked
    // again only after the back-off, not once per request.
    issuer.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..5 {
        assert!(
            verifier
                .verify(&token(2, "k2", good_claims()))
                .await
                .is_ok()
        );
    }
    assert_eq!(issuer.fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_server_that_is_down_is_asked_once_per_back_off() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    issuer.down.store(true, Ordering::SeqCst);
    let verifier = issuer.verifier();
    for _ in 0..5 {
        assert_eq!(
            verifier.verify(&token(1, "k1", good_claims())).await,
            Err(Refusal::KeysUnavailable)
        );
    }
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_authorization_server_costs_one_timeout_not_one_per_request() {
    let issuer = Issuer::start(vec![jwk(1, "k1")]).await;
    issuer.hang.store(true, Ordering::SeqCst);
    let verifier = Arc::new(issuer.verifier_with(
        crate::generated::http_server::KEYS_MAX_AGE,
        std::time::Duration::from_millis(300),
    ));
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            tokio::spawn(async move { verifier.verify(&token(1, "k1", good_claims())).await })
        })
        .collect();
    for call in calls {
        let refused = call.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refused, Err(Refusal::KeysUnavailable));
    }
    // One fetch timed out; the requests queued behind it did not each make their own, which
    // would have cost each its whole timeout.
    assert_eq!(issuer.fetches(), 1);
}

#[test]
fn the_caller_is_found_where_rmcp_puts_the_http_request() {
    let caller = Caller {
        subject: Some("ada".into()),
        scopes: vec!["a".into()],
        principal: None,
    };
    let mut request = axum::http::Request::new(());
    request.extensions_mut().insert(caller.clone());
    let (parts, ()) = request.into_parts();
    let mut extensions = rmcp::model::Extensions::new();
    assert_eq!(Caller::of(&extensions), None);
    extensions.insert(parts);
    assert_eq!(Caller::of(&extensions), Some(&caller));
}
