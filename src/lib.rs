//! pforge: generate resilient MCP servers from one `forge.yaml`.
//!
//! The pipeline is `text -> load -> plan -> emit -> write`; this crate exposes each stage as
//! plain functions so that the CLI in `main.rs` only does I/O.
#![forbid(unsafe_code)]

pub mod config;
pub mod defaults;
pub mod diagnostics;
pub mod emit;
pub mod holes;
pub mod load;
pub mod naming;
pub mod plan;
pub mod project;
pub mod schema;
pub mod vocab;
pub mod write;
