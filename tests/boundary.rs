//! The pipeline's boundaries hold: `emit` reads only the plan, never the config language or
//! the loader, so that everything it writes was resolved once, in `plan`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of the Rust files under `src/<dir>`, with where it is.
fn lines_of(dir: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir),
        &mut files,
    );
    assert!(files.len() > 5, "src/{dir} has {} files", files.len());
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
        for (number, line) in text.lines().enumerate() {
            lines.push((
                format!("{}:{}", file.display(), number + 1),
                line.to_owned(),
            ));
        }
    }
    lines
}

#[test]
fn emit_names_neither_config_nor_load() {
    let forbidden = [
        "crate::config",
        "crate::load",
        "config::",
        "load::",
        "super::super::",
    ];
    for (at, line) in lines_of("emit") {
        for word in forbidden {
            assert!(
                !line.contains(word),
                "{at}: `{word}`: emit reads the plan only\n{line}"
            );
        }
    }
}

#[test]
fn the_plan_does_not_hand_config_or_loader_types_through() {
    for (at, line) in lines_of("plan") {
        let line = line.trim_start();
        assert!(
            !(line.starts_with("pub use crate::config") || line.starts_with("pub use crate::load")),
            "{at}: the plan re-exports a type of the config or the loader, which emit could then \
             use: give the plan its own\n{line}"
        );
    }
}
