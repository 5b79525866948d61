//! The http transport's facts: its addresses parsed and the OAuth metadata located. The
//! checks refused a `bind`, a metrics `bind` or a `resource` these steps could trip on, so a
//! failure here is a loader bug, reported at the key rather than replaced by a default.

use std::net::SocketAddr;

use super::Unestablished;
use crate::config::{Config, Metrics, MetricsFacts, OAuth, OAuthFacts, ServerFacts, Transport};
use crate::defaults;
use crate::load::pointer::Pointer;
use crate::naming::metadata_location;

/// The facts of the http transport, or none when the server does not serve http.
pub fn http_server_facts(config: &Config) -> Result<Option<ServerFacts>, Unestablished> {
    let forge = &config.forge;
    if forge.transport != Some(Transport::Http) {
        return Ok(None);
    }
    let at = Pointer::section("forge");
    let bind = match forge.bind.as_deref() {
        Some(bind) => address(bind, &at.key("bind"))?,
        // A default that does not parse is a bug of `defaults`, reported where bind goes.
        None => address(defaults::BIND, &at)?,
    };
    let access = forge.http.as_ref();
    let metrics = match access.and_then(|a| a.metrics.as_ref()) {
        None => None,
        Some(Metrics::Enabled(on)) => Some(MetricsFacts::Enabled(*on)),
        Some(Metrics::Listen(listen)) => {
            let at = at.key("http").key("metrics").key("bind");
            Some(MetricsFacts::Listen(address(&listen.bind, &at)?))
        }
    };
    let oauth = access
        .and_then(|a| a.auth.as_ref())
        .and_then(|a| a.oauth.as_ref())
        .map(|oauth| oauth_facts(oauth, &at.key("http").key("auth").key("oauth")))
        .transpose()?;
    Ok(Some(ServerFacts {
        bind,
        metrics,
        oauth,
    }))
}

fn address(text: &str, at: &Pointer) -> Result<SocketAddr, Unestablished> {
    text.parse().map_err(|_| Unestablished {
        pointer: at.clone(),
        message: format!("`{text}` is not an IP address and port"),
    })
}

/// The resource URL (`audience` unless written) and where its metadata is.
fn oauth_facts(oauth: &OAuth, at: &Pointer) -> Result<OAuthFacts, Unestablished> {
    let (resource, key) = match &oauth.resource {
        Some(resource) => (resource, "resource"),
        None => (&oauth.audience, "audience"),
    };
    let (metadata_url, metadata_path) =
        metadata_location(resource).ok_or_else(|| Unestablished {
            pointer: at.key(key),
            message: format!("`{resource}` is not an http(s) URL"),
        })?;
    Ok(OAuthFacts {
        oauth: oauth.clone(),
        resource: resource.clone(),
        metadata_url,
        metadata_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(forge: serde_json::Value) -> Result<Option<ServerFacts>, Unestablished> {
        let config: Config = serde_json::from_value(serde_json::json!({ "forge": forge }))
            .unwrap_or_else(|e| {
                panic!("{e}");
            });
        http_server_facts(&config)
    }

    #[test]
    fn an_address_that_does_not_parse_is_a_located_error_not_a_default() {
        let forge = serde_json::json!({
            "name": "demo", "version": "0.1.0", "transport": "http",
            "http": {"metrics": {"bind": "localhost:9464"}},
        });
        let error = facts(forge).err().map(|e| e.pointer.to_string());
        assert_eq!(error.as_deref(), Some("/forge/http/metrics/bind"));
        let forge = serde_json::json!({
            "name": "demo", "version": "0.1.0", "transport": "http", "bind": "nowhere",
        });
        let error = facts(forge).err().map(|e| e.pointer.to_string());
        assert_eq!(error.as_deref(), Some("/forge/bind"));
    }

    #[test]
    fn the_default_bind_parses_and_stdio_has_no_server_facts() {
        let http = serde_json::json!({"name": "demo", "version": "0.1.0", "transport": "http"});
        let bind = facts(http).ok().flatten().map(|f| f.bind.to_string());
        assert_eq!(bind.as_deref(), Some(defaults::BIND));
        let stdio = serde_json::json!({"name": "demo", "version": "0.1.0", "bind": "nowhere"});
        assert_eq!(facts(stdio).ok(), Some(None));
    }

    #[test]
    fn an_oauth_resource_without_metadata_is_a_located_error() {
        let forge = serde_json::json!({
            "name": "demo", "version": "0.1.0", "transport": "http",
            "http": {"auth": {"oauth": {
                "issuer": "https://a.example/", "audience": "mcp", "jwks_url": "https://a.example/k",
            }}},
        });
        let error = facts(forge).err().map(|e| e.pointer.to_string());
        assert_eq!(error.as_deref(), Some("/forge/http/auth/oauth/audience"));
    }
}
