//! The versions a generated crate carries, from one place: the workspace manifest (the root
//! Cargo.toml), read and checked by build.rs when pforge is compiled. Its `[workspace.package]`
//! version is the runtime crate's, and its `[workspace.dependencies]` are what the runtime
//! crate is built and tested against, so the versions written into a generated Cargo.toml are
//! the ones the copied code was tested with.

// `RUNTIME` and `DEPENDENCIES`, from build.rs.
include!(concat!(env!("OUT_DIR"), "/versions.rs"));

/// pforge's own version, which generated crates record.
pub const PFORGE: &str = env!("CARGO_PKG_VERSION");

/// The version of the runtime code copied into generated crates.
pub fn runtime() -> &'static str {
    RUNTIME
}

/// The version requirement a generated crate gets for the crate `name`, if the workspace
/// manifest's `[workspace.dependencies]` has it.
pub fn dependency(name: &str) -> Option<&'static str> {
    DEPENDENCIES
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map(|(_, version)| *version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_manifest_gives_the_runtime_and_dependency_versions() {
        assert!(semver::Version::parse(runtime()).is_ok(), "{}", runtime());
        assert!(dependency("rmcp").is_some_and(|v| !v.is_empty()));
        assert!(dependency("no-such-crate").is_none());
    }
}
