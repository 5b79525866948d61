//! Points pforge at the manifest that holds the versions it writes into generated crates: the
//! workspace's `[workspace.package]` (the runtime's version) and `[workspace.dependencies]`.
//! In this repository that is Cargo.toml; in pforge's package cargo has rewritten Cargo.toml
//! without the `[workspace]` tables and kept the original as Cargo.toml.orig.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let original = dir.join("Cargo.toml.orig");
    let manifest = if original.is_file() {
        original
    } else {
        dir.join("Cargo.toml")
    };
    println!("cargo::rerun-if-changed={}", manifest.display());
    println!(
        "cargo::rustc-env=PFORGE_WORKSPACE_MANIFEST={}",
        manifest.display()
    );
}
