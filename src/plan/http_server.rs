//! The http transport's address and access rules, with their defaults (`forge.bind`,
//! `forge.http`).

use std::net::SocketAddr;

use crate::config::Forge;

/// Address the http transport listens on when `bind` is not written.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// `Host` names served when `forge.http.allowed_hosts` is not written: this machine's.
pub const DEFAULT_ALLOWED_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Browser origins served when `forge.http.allowed_origins` is not written: pages of this
/// machine, on any port.
pub const DEFAULT_ALLOWED_ORIGINS: [&str; 3] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// Bytes of the largest request body, unless `forge.http.max_body_bytes` says otherwise
/// (rmcp's own limit).
pub const DEFAULT_MAX_BODY_BYTES: u32 = 4 * 1024 * 1024;

/// The resolved address and access rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerPlan {
    /// Where the server listens (`PFORGE_BIND` overrides it at run time).
    pub bind: SocketAddr,
    /// `Host` names (with an optional port) requests may carry.
    pub allowed_hosts: Vec<String>,
    /// `Origin`s requests may carry; requests without one are served.
    pub allowed_origins: Vec<String>,
    /// Bytes of the largest request body.
    pub max_body_bytes: u32,
}

impl HttpServerPlan {
    /// The rules `forge` sets, defaults elsewhere. A `bind` that does not parse was reported
    /// by the loader; the default stands in for it.
    pub fn of(forge: &Forge) -> Self {
        let access = forge.http.clone().unwrap_or_default();
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            bind: forge
                .bind
                .as_deref()
                .unwrap_or(DEFAULT_BIND)
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            allowed_hosts: access
                .allowed_hosts
                .unwrap_or_else(|| owned(&DEFAULT_ALLOWED_HOSTS)),
            allowed_origins: access
                .allowed_origins
                .unwrap_or_else(|| owned(&DEFAULT_ALLOWED_ORIGINS)),
            max_body_bytes: access.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_documents_the_body_limit() {
        let schema = crate::schema::forge_schema();
        let text = serde_json::to_string(&schema).unwrap_or_default();
        assert!(text.contains(&format!("\"default\":{DEFAULT_MAX_BODY_BYTES}")));
        for host in DEFAULT_ALLOWED_HOSTS {
            assert!(text.contains(&format!("`{host}`")), "{host}");
        }
        for origin in DEFAULT_ALLOWED_ORIGINS {
            assert!(text.contains(&format!("`{origin}`")), "{origin}");
        }
    }
}
