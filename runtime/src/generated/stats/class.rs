//! The classes of failure error tracking counts.

use crate::generated::runtime::ToolError;

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// An attempt took longer than its timeout.
    Timeout,
    /// Connecting failed or the connection broke.
    Connection,
    /// HTTP 429.
    RateLimit,
    /// HTTP 503.
    ServiceUnavailable,
    /// Any other HTTP 5xx.
    ServerError,
    /// Rejected by an open circuit breaker.
    CircuitOpen,
    /// Rejected by a full bulkhead.
    BulkheadFull,
    /// Invalid arguments, or an HTTP 4xx other than 429.
    Validation,
    /// A native handler failed or a command exited non-zero.
    HandlerError,
    /// Anything else.
    Unknown,
}

impl ErrorClass {
    /// Every class, in the order the stats list them.
    pub const ALL: [Self; 10] = [
        Self::Timeout,
        Self::Connection,
        Self::RateLimit,
        Self::ServiceUnavailable,
        Self::ServerError,
        Self::CircuitOpen,
        Self::BulkheadFull,
        Self::Validation,
        Self::HandlerError,
        Self::Unknown,
    ];

    /// The class's name in the stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::RateLimit => "rate_limit",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ServerError => "server_error",
            Self::CircuitOpen => "circuit_open",
            Self::BulkheadFull => "bulkhead_full",
            Self::Validation => "validation",
            Self::HandlerError => "handler_error",
            Self::Unknown => "unknown",
        }
    }

    /// The class of an error; a failed fallback chain counts as its primary failure.
    pub fn of(error: &ToolError) -> Self {
        match error {
            ToolError::Timeout(_) => Self::Timeout,
            ToolError::Connection(_) => Self::Connection,
            ToolError::Status { status: 429, .. } => Self::RateLimit,
            ToolError::Status { status: 503, .. } => Self::ServiceUnavailable,
            ToolError::Status {
                status: 500..=599, ..
            } => Self::ServerError,
            ToolError::Status {
                status: 400..=499, ..
            }
            | ToolError::InvalidArguments(_) => Self::Validation,
            ToolError::CircuitOpen { .. } => Self::CircuitOpen,
            ToolError::BulkheadFull { .. } => Self::BulkheadFull,
            ToolError::Handler(_) | ToolError::Exit { .. } => Self::HandlerError,
            ToolError::Fallback { primary, .. } => Self::of(primary),
            ToolError::Status { .. } | ToolError::Cancelled => Self::Unknown,
        }
    }
}
