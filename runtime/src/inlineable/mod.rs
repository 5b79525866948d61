//! Stand-in for a generated crate's `src/generated/mod.rs`, which pforge writes from the plan
//! (the server, its dispatch and the tool modules): only what the fixed files refer to is here.

pub mod http_server;
pub mod resilience;
pub mod runtime;
pub mod stats;
pub mod stdio;

/// Stand-in for the generated MCP server, which a handler's [`runtime::Context`] points at.
#[derive(Debug, Default)]
pub struct Server;
