//! Configs built to break the generator (names that meet generated modules, locals and
//! keywords; hostile text in every string) pass `check`, so each must generate a crate that
//! compiles warning-free and clippy-clean. They are compiled together, as one cargo
//! workspace, so that the dependencies are checked once.

mod common;

use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hazards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

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
        members.push(format!("\"{member}\""));
    }
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
        members.join(", ")
    );
    std::fs::write(root.path().join("Cargo.toml"), manifest).unwrap_or_else(|e| panic!("{e}"));
    root
}

/// Every doc line of every generated Rust file is at most 100 characters.
fn long_doc_lines(root: &Path) -> Vec<String> {
    let mut long = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text.lines() {
                    let doc = line.trim_start();
                    if (doc.starts_with("///") || doc.starts_with("//!"))
                        && line.chars().count() > 100
                    {
                        long.push(format!("{}: {line}", path.display()));
                    }
                }
            }
        }
    }
    long
}

#[test]
fn every_hazard_the_checker_accepts_compiles_clippy_clean() {
    let configs = fixtures();
    assert!(configs.len() >= 2, "the hazard corpus is missing");
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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["clippy", "--quiet", "--workspace", "--all-targets"])
        .args(["--", "-D", "warnings"])
        .current_dir(root.path())
        .env("CARGO_TARGET_DIR", common::shared_target())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "a hazard config generates a crate that does not pass clippy:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
