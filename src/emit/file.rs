//! A rendered file of the generated project and who owns it: what emit produces and
//! `write` puts on disk.

use std::path::PathBuf;

/// Who owns a file of the generated project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ownership {
    /// pforge's: rewritten whenever its contents change.
    Generated,
    /// The user's: written once when missing, never touched again.
    User,
    /// `Cargo.toml`: the user's, but pforge adds the dependencies the plan needs.
    Manifest,
}

/// One file of the generated project, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the project root, with `/` separators.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
    /// Who owns it.
    pub ownership: Ownership,
}
