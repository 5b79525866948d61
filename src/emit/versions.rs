//! The versions a generated crate carries, from one place: the workspace manifest (the root
//! Cargo.toml, found by build.rs). Its `[workspace.package]` version is the runtime crate's,
//! and its `[workspace.dependencies]` are what the runtime crate is built and tested against,
//! so the versions written into a generated Cargo.toml are the ones the copied code was
//! tested with.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use toml_edit::{Document, Item};

/// The workspace manifest as pforge was compiled with it.
const MANIFEST: &str = include_str!(env!("PFORGE_WORKSPACE_MANIFEST"));

/// pforge's own version, which generated crates record.
pub const PFORGE: &str = env!("CARGO_PKG_VERSION");

/// What the manifest says.
#[derive(Debug)]
struct Versions {
    runtime: String,
    dependencies: BTreeMap<String, String>,
}

fn versions() -> Result<&'static Versions, &'static str> {
    static VERSIONS: OnceLock<Result<Versions, String>> = OnceLock::new();
    VERSIONS
        .get_or_init(|| parse(MANIFEST))
        .as_ref()
        .map_err(String::as_str)
}

fn parse(manifest: &str) -> Result<Versions, String> {
    let doc = Document::parse(manifest).map_err(|e| e.message().to_owned())?;
    let workspace = doc.get("workspace");
    let runtime = workspace
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .ok_or("no `workspace.package.version`")?
        .to_owned();
    let table = workspace
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like)
        .ok_or("no `[workspace.dependencies]`")?;
    let mut dependencies = BTreeMap::new();
    for (name, spec) in table.iter() {
        let version = match spec {
            Item::Value(toml_edit::Value::String(v)) => Some(v.value().as_str()),
            other => other.get("version").and_then(Item::as_str),
        };
        let version =
            version.ok_or_else(|| format!("`workspace.dependencies.{name}` has no version"))?;
        dependencies.insert(name.to_owned(), version.to_owned());
    }
    Ok(Versions {
        runtime,
        dependencies,
    })
}

/// The version of the runtime code copied into generated crates.
pub fn runtime() -> &'static str {
    // The manifest is compiled in and a unit test reads it, so this fallback is never shown.
    versions().map_or("unknown", |v| v.runtime.as_str())
}

/// The version requirement a generated crate gets for the crate `name`.
pub fn dependency(name: &str) -> Result<&'static str, String> {
    let versions = versions().map_err(|e| format!("the workspace manifest: {e}"))?;
    versions
        .dependencies
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| {
            format!("`{name}` is not in the workspace manifest's `[workspace.dependencies]`")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_manifest_gives_the_runtime_and_dependency_versions() {
        let versions = versions().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            semver::Version::parse(&versions.runtime).is_ok(),
            "{versions:?}"
        );
        assert!(dependency("rmcp").is_ok_and(|v| !v.is_empty()));
        assert!(dependency("no-such-crate").is_err());
    }

    #[test]
    fn a_dependency_without_a_version_is_refused() {
        let manifest = "[workspace.package]\nversion = \"1.0.0\"\n[workspace.dependencies]\nx = { path = \"x\" }\n";
        assert!(parse(manifest).is_err_and(|e| e.contains("`workspace.dependencies.x`")));
    }
}
