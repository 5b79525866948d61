//! The fixed runtime of the MCP servers pforge generates, as real source, so that the compiler,
//! rustfmt, clippy and unit tests see the code generated servers run.
//!
//! The code under `src/inlineable/` is inlined into generated crates (the smithy-rs word for
//! it): pforge copies the files under `inlineable/{runtime,resilience,stats,stdio,http_server}/`
//! into a generated crate's `src/generated/` at the same relative paths, each only when the
//! plan needs it. The module roots (`inlineable/mod.rs`, `runtime.rs`, `resilience.rs`,
//! `stats.rs`, `stdio.rs`, `http_server.rs`) are stand-ins: in a generated crate pforge writes
//! them from the plan, declaring only the files it copied and holding the plan's numbers; here
//! they declare every file and hold test values. This crate mounts the folder as `generated`,
//! so paths are the same in both crates (`crate::generated::runtime::ToolError`). Doctests
//! name this crate as `pforge_runtime::generated::`, the one prefix pforge rewrites to the
//! generated crate's name.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The inlineable runtime, mounted where generated crates have it (`crate::generated`).
#[path = "inlineable/mod.rs"]
pub mod generated;

#[cfg(test)]
mod tests;
