//! Reads, at compile time, the versions pforge writes into generated crates: the workspace's
//! `[workspace.package]` version (the runtime's) and `[workspace.dependencies]`, into
//! `$OUT_DIR/versions.rs` for src/emit/versions.rs. A manifest without them fails the build,
//! so no run of pforge can meet a bad one.
//!
//! The manifest is the one with a `[workspace]` table: Cargo.toml in this repository;
//! Cargo.toml.orig in pforge's package, where cargo has rewritten Cargo.toml without the
//! workspace tables. A Cargo.toml.orig beside a workspace Cargo.toml (a `git mergetool`
//! leftover) is never read.

use std::path::PathBuf;

#[path = "build/versions.rs"]
mod versions;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    for candidate in versions::candidates(&dir) {
        println!("cargo::rerun-if-changed={}", candidate.display());
    }
    let written = versions::generate(&dir).and_then(|code| {
        std::fs::write(out.join("versions.rs"), code).map_err(|e| format!("versions.rs: {e}"))
    });
    if let Err(e) = written {
        eprintln!("pforge's build: {e}");
        std::process::exit(1);
    }
}
