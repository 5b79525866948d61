//! The bounds of the http transport, with their defaults (`forge.http`): how long a client may
//! take to send a request, and how many connections, sessions and calls it may hold. Each
//! default lets a normal client through and keeps a flood from holding more than a bounded
//! share of descriptors, memory and processes.

use crate::config::HttpAccess;
use crate::defaults;

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
            header_read_timeout_ms: ms(
                access.header_read_timeout,
                defaults::HEADER_READ_TIMEOUT_MS,
            ),
            request_timeout_ms: ms(access.request_timeout, defaults::REQUEST_TIMEOUT_MS),
            keep_alive_timeout_ms: ms(access.keep_alive_timeout, defaults::KEEP_ALIVE_TIMEOUT_MS),
            max_connections: access.max_connections.unwrap_or(defaults::MAX_CONNECTIONS),
            max_sessions: access.max_sessions.unwrap_or(defaults::MAX_SESSIONS),
            max_sessions_per_caller: access
                .max_sessions_per_caller
                .unwrap_or(defaults::MAX_SESSIONS_PER_CALLER),
            max_in_flight: access.max_in_flight.unwrap_or(defaults::HTTP_MAX_IN_FLIGHT),
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self::of(&HttpAccess::default())
    }
}
