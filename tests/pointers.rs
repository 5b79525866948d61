//! Every diagnostic of the configs pforge accepts (the examples, the chapter's blocks, the
//! hazard fixtures) is located by a pointer that names a node of its file, as the bad corpus's
//! are (`tests/bad_corpus.rs`): a warning whose pointer stops at a parent is a bug in a check.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(Path::new(ROOT).join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap_or_else(|e| panic!("{dir}: {e}")).path());
    let mut found: Vec<PathBuf> = entries
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "{dir} holds no yaml file");
    found
}

/// A chapter block placed into a document as `tests/chapter.rs` places it: pipeline steps
/// name tools the chapter never defines, so native stand-ins are appended for them.
fn chapter_document(text: String) -> String {
    if text.contains("\nforge:") || text.starts_with("forge:") || text.starts_with("# forge.yaml") {
        return text;
    }
    let mut doc = format!("forge:\n  name: chapter-example\n  version: 1.0.0\n\n{text}");
    if text.contains("- tool: extract_data") {
        for tool in ["extract_data", "transform_data", "load_data"] {
            doc.push_str(&format!(
                "  - type: native\n    name: {tool}\n    handler: handlers::{tool}::handle\n"
            ));
        }
    }
    doc
}

/// Each config to check, by name, with its text as loaded.
fn configs() -> Vec<(String, String)> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut all = Vec::new();
    for dir in ["examples", "tests/fixtures/hazards"] {
        for path in yaml_files(dir) {
            all.push((path.display().to_string(), read(&path)));
        }
    }
    for path in yaml_files("tests/fixtures/chapter") {
        all.push((path.display().to_string(), chapter_document(read(&path))));
    }
    all
}

#[test]
fn every_diagnostic_of_an_accepted_config_names_a_node() {
    let mut failures = Vec::new();
    for (name, text) in configs() {
        for pointer in pforge::load::unresolved_pointers(&name, &text) {
            failures.push(format!(
                "{name}: `{pointer}` stops at a parent of what it names"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "a check located its diagnostic by a pointer that does not name a node of the file, \
         so it landed on the nearest parent:\n{}",
        failures.join("\n")
    );
}
