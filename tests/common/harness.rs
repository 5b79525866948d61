//! Helpers of the tests that run the pforge binary or read the trees it writes: shared by
//! `tests/cli.rs`, `tests/versions.rs`, `tests/generate.rs` and `tests/hazards.rs`. Apart from
//! `common/mod.rs` (which brings rmcp and tokio) so that any test can include it with
//! `#[path = "common/harness.rs"] mod harness;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The pforge binary, without colours so that messages compare as text.
pub fn pforge() -> Command {
    let mut cmd = Command::cargo_bin("pforge").unwrap_or_else(|e| panic!("{e}"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs pforge with `args` in `dir` and waits for it.
pub fn pforge_in(dir: &Path, args: &[&str]) -> std::process::Output {
    pforge()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `root`, at any depth, sorted.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The `.yaml` files directly in `dir` (relative to the repository), sorted.
pub fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
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
