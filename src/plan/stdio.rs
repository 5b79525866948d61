//! The bounds of the stdio transport, with their defaults (`forge.stdio`).

use crate::config::StdioLimits;

/// Requests running at once (and lines read ahead of them), unless
/// `forge.stdio.max_in_flight` says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 256;

/// Bytes of the longest message, unless `forge.stdio.max_message_bytes` says otherwise: rmcp's
/// own limit, so that nothing rmcp's stdio transport accepted is refused.
pub const DEFAULT_MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;

/// The resolved bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioPlan {
    /// Requests running at once, and lines read ahead of them.
    pub max_in_flight: u32,
    /// Bytes of the longest message.
    pub max_message_bytes: u32,
}

impl StdioPlan {
    /// The bounds `limits` sets, defaults elsewhere.
    pub fn of(limits: Option<&StdioLimits>) -> Self {
        let limits = limits.cloned().unwrap_or_default();
        Self {
            max_in_flight: limits.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            max_message_bytes: limits
                .max_message_bytes
                .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
        }
    }
}

impl Default for StdioPlan {
    fn default() -> Self {
        Self::of(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_documents_the_defaults() {
        let schema = crate::schema::forge_schema();
        let text = serde_json::to_string(&schema).unwrap_or_default();
        assert!(text.contains(&format!("\"default\":{DEFAULT_MAX_IN_FLIGHT}")));
        assert!(text.contains(&format!("\"default\":{DEFAULT_MAX_MESSAGE_BYTES}")));
    }
}
