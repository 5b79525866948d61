//! The state a tool's policy keeps between calls: its circuit breaker and its bulkhead, or
//! `()` in the place of one it does not have, so that a tool pays only for what it uses.

/// A tool's guards, held by the server, one per tool.
#[derive(Debug, Default)]
pub struct Guards<B, H> {
    /// The circuit breaker, or `()`.
    pub breaker: B,
    /// The bulkhead, or `()`.
    pub bulkhead: H,
}
