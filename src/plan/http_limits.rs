//! The bounds of the http transport, with their defaults (`forge.http`): how long a client may
//! take to send a request, and how many connections, sessions and calls it may hold. Each
//! default lets a normal client through and keeps a flood from holding more than a bounded
//! share of descriptors, memory and processes.

use crate::config::HttpAccess;

/// Milliseconds a request head may take from its first byte, unless
/// `forge.http.header_read_timeout` says otherwise: enough for any real client on a slow link,
/// short enough that a half-sent request gives its connection up quickly.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;

/// Milliseconds a request body may take once its head has arrived, unless
/// `forge.http.request_timeout` says otherwise: 4 MiB (the body limit) at about 140 KB/s.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;

/// Milliseconds an idle connection waits for its next request, unless
/// `forge.http.keep_alive_timeout` says otherwise: longer than the 5 to 60 s proxies and
/// clients keep idle connections, so the server is not the one that closes them first.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT_MS: u64 = 60_000;

/// Connections open at once, unless `forge.http.max_connections` says otherwise: below the
/// usual descriptor limit, and an idle connection costs a few KiB.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

/// Live sessions, unless `forge.http.max_sessions` says otherwise: about 60 KiB each, so at
/// most about 64 MiB of sessions.
pub const DEFAULT_MAX_SESSIONS: u32 = 1024;

/// Live sessions of one caller, unless `forge.http.max_sessions_per_caller` says otherwise:
/// many more than the one per client window a user opens.
pub const DEFAULT_MAX_SESSIONS_PER_CALLER: u32 = 64;

/// MCP requests answered at once, unless `forge.http.max_in_flight` says otherwise: the same
/// bound as the stdio transport's.
pub const DEFAULT_HTTP_MAX_IN_FLIGHT: u32 = super::DEFAULT_MAX_IN_FLIGHT;

/// The resolved bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Milliseconds a request head may take from its first byte.
    pub header_read_timeout_ms: u64,
    /// Milliseconds a request body may take once its head has arrived.
    pub request_timeout_ms: u64,
    /// Milliseconds an idle connection waits for its next request.
    pub keep_alive_timeout_ms: u64,
    /// Connections open at once.
    pub max_connections: u32,
    /// Live sessions.
    pub max_sessions: u32,
    /// Live sessions of one caller.
    pub max_sessions_per_caller: u32,
    /// MCP requests answered at once.
    pub max_in_flight: u32,
}

impl HttpLimits {
    /// The bounds `access` sets, defaults elsewhere.
    pub fn of(access: &HttpAccess) -> Self {
        let ms = |value: Option<crate::config::HumanDuration>, default| {
            value.map_or(default, |d| d.as_millis())
        };
        Self {
            header_read_timeout_ms: ms(access.header_read_timeout, DEFAULT_HEADER_READ_TIMEOUT_MS),
            request_timeout_ms: ms(access.request_timeout, DEFAULT_REQUEST_TIMEOUT_MS),
            keep_alive_timeout_ms: ms(access.keep_alive_timeout, DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
            max_connections: access.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
            max_sessions: access.max_sessions.unwrap_or(DEFAULT_MAX_SESSIONS),
            max_sessions_per_caller: access
                .max_sessions_per_caller
                .unwrap_or(DEFAULT_MAX_SESSIONS_PER_CALLER),
            max_in_flight: access.max_in_flight.unwrap_or(DEFAULT_HTTP_MAX_IN_FLIGHT),
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self::of(&HttpAccess::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_documents_the_defaults() {
        let schema = crate::schema::forge_schema();
        let text = serde_json::to_string(&schema).unwrap_or_default();
        for number in [
            DEFAULT_MAX_CONNECTIONS,
            DEFAULT_MAX_SESSIONS,
            DEFAULT_MAX_SESSIONS_PER_CALLER,
            DEFAULT_HTTP_MAX_IN_FLIGHT,
        ] {
            assert!(text.contains(&format!("\"default\":{number}")), "{number}");
        }
        for ms in [
            DEFAULT_HEADER_READ_TIMEOUT_MS,
            DEFAULT_REQUEST_TIMEOUT_MS,
            DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
        ] {
            assert!(
                text.contains(&format!("\"default\":\"{}s\"", ms / 1000)),
                "{ms}"
            );
        }
    }
}
