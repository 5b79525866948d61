//! The versions of generated crates as build.rs reads them, apart so that tests/versions.rs
//! can run it on manifests of its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item};

/// The manifests build.rs may read in `dir`, in order; it watches them all.
pub fn candidates(dir: &Path) -> [PathBuf; 2] {
    [dir.join("Cargo.toml"), dir.join("Cargo.toml.orig")]
}

/// The Rust source of the versions in the first of [`candidates`] with a `[workspace]`, or
/// why there are none.
pub fn generate(dir: &Path) -> Result<String, String> {
    let candidates = candidates(dir);
    let (path, doc) = candidates
        .iter()
        .find_map(|path| workspace(path).map(|doc| (path, doc)))
        .ok_or("neither Cargo.toml nor Cargo.toml.orig has a `[workspace]`")?;
    versions(&doc).map_err(|e| format!("{}: {e}", path.display()))
}

/// The manifest at `path` when it parses and has a `[workspace]` table.
fn workspace(path: &Path) -> Option<Document<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc = Document::parse(text).ok()?;
    doc.get("workspace")?;
    Some(doc)
}

/// The Rust constants of the versions in `doc`.
fn versions(doc: &Document<String>) -> Result<String, String> {
    let workspace = doc.get("workspace");
    let runtime = workspace
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .ok_or("no `workspace.package.version`")?;
    semver::Version::parse(runtime)
        .map_err(|e| format!("`workspace.package.version` `{runtime}`: {e}"))?;
    let table = workspace
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like)
        .ok_or("no `[workspace.dependencies]`")?;
    let mut code = format!("const RUNTIME: &str = {runtime:?};\n");
    code.push_str("const DEPENDENCIES: &[(&str, &str)] = &[\n");
    for (name, spec) in table.iter() {
        let version = match spec {
            Item::Value(toml_edit::Value::String(v)) => Some(v.value().as_str()),
            other => other.get("version").and_then(Item::as_str),
        };
        let version =
            version.ok_or_else(|| format!("`workspace.dependencies.{name}` has no version"))?;
        semver::VersionReq::parse(version)
            .map_err(|e| format!("`workspace.dependencies.{name}` `{version}`: {e}"))?;
        let _ = writeln!(code, "    ({name:?}, {version:?}),");
    }
    code.push_str("];\n");
    Ok(code)
}
