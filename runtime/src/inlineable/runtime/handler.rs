//! What a native handler gets besides its input, and the error it returns.

use super::ToolError;

/// The error a native handler returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError(pub String);

impl HandlerError {
    /// An error with this message, shown to the client.
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HandlerError {}

impl From<HandlerError> for ToolError {
    fn from(error: HandlerError) -> Self {
        Self::Handler(error.0)
    }
}

/// What a native handler gets besides its input.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Name of the tool or resource being served.
    pub name: &'static str,
    /// The server, for shared state.
    pub server: &'a crate::generated::Server,
}
