//! The bounds of the stdio transport, with their defaults (`forge.stdio`).

use crate::config::StdioLimits;
use crate::defaults;

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
            max_in_flight: limits
                .max_in_flight
                .unwrap_or(defaults::STDIO_MAX_IN_FLIGHT),
            max_message_bytes: limits
                .max_message_bytes
                .unwrap_or(defaults::STDIO_MAX_MESSAGE_BYTES),
        }
    }
}

impl Default for StdioPlan {
    fn default() -> Self {
        Self::of(None)
    }
}
