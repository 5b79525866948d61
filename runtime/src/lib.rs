//! The fixed runtime of the MCP servers pforge generates, as real source, so that the compiler,
//! rustfmt, clippy and unit tests see the code generated servers run.
//!
//! pforge copies the files under `src/generated/runtime/`, `src/generated/resilience/`,
//! `src/generated/stats/` and `src/generated/stdio/` into a generated crate at the same paths,
//! each only when the plan needs it. The module roots (`src/generated/mod.rs`, `runtime.rs`,
//! `resilience.rs`, `stats.rs`, `stdio.rs`) are stand-ins: in a generated crate pforge writes them from the plan, declaring
//! only the files it copied and holding the plan's numbers; here they declare every file and
//! hold test values. Paths are therefore the same in both crates
//! (`crate::generated::runtime::ToolError`). Doctests name this crate as
//! `pforge_runtime::generated::`, the one prefix pforge rewrites to the generated crate's name.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod generated;

#[cfg(test)]
mod tests;
