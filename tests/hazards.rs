//! Configs built to break the generator (names that meet generated modules, locals and
//! keywords; hostile text in every string) pass `check`, so each must generate a crate that
//! is a finished product: clippy-clean with `-D warnings`, rustfmt-clean, documented without a
//! rustdoc warning, doc lines within 100 characters. The examples are held to the same. All
//! are compiled together, as one cargo workspace, so that the dependencies are built once.

mod common;
#[path = "common/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::{walk, yaml_files};

/// Generates each config into a member of a fresh workspace; returns the workspace.
fn workspace(configs: &[PathBuf]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut members = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let member = format!("case{index}");
        let dir = root.path().join(&member);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::copy(config, dir.join("forge.yaml")).unwrap_or_else(|e| panic!("{e}"));
        pforge::project::generate(&dir.join("forge.yaml"))
            .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
        members.push(member);
    }
    common::write_workspace(root.path(), &members);
    root
}

/// Every doc line of every generated Rust file is at most 100 characters.
fn long_doc_lines(root: &Path) -> Vec<String> {
    let mut long = Vec::new();
    for path in walk(root) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines() {
            let doc = line.trim_start();
            if (doc.starts_with("///") || doc.starts_with("//!")) && line.chars().count() > 100 {
                long.push(format!("{}: {line}", path.display()));
            }
        }
    }
    long
}

#[test]
fn every_hazard_and_example_generates_a_finished_crate() {
    let hazards = yaml_files("tests/fixtures/hazards");
    assert!(hazards.len() >= 2, "the hazard corpus is missing");
    let mut configs = hazards;
    configs.extend(yaml_files("examples"));
    for config in &configs {
        let text = std::fs::read(config).unwrap_or_else(|e| panic!("{e}"));
        let loaded = pforge::load::load_bytes(&config.display().to_string(), &text);
        assert!(
            !loaded.has_errors(),
            "{} is meant to pass check: {:?}",
            config.display(),
            loaded.diagnostics
        );
    }
    let root = workspace(&configs);
    let long = long_doc_lines(root.path());
    assert!(
        long.is_empty(),
        "doc lines over 100 characters:\n{}",
        long.join("\n")
    );
    let checks = [
        common::cargo_in(root.path(), &["fmt", "--all", "--check"], &[]),
        common::cargo_in(
            root.path(),
            &[
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
        common::cargo_in(
            root.path(),
            &["doc", "--quiet", "--workspace", "--no-deps"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        ),
    ];
    let failures: Vec<String> = checks.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
