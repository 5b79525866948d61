//! A corpus of bad files: each `NAME.yaml` beside `NAME.expected`, which lists every
//! diagnostic as `line:column severity: message` with its help lines. `PFORGE_BLESS=1` rewrites
//! the `.expected` files; review the diff before committing it.

use std::path::{Path, PathBuf};

use pforge::diagnostics::render_human;
use pforge::load::load_bytes;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bad");

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn describe(path: &Path) -> (String, Vec<String>) {
    let bytes = std::fs::read(path).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let loaded = load_bytes(&name, &bytes);
    let mut lines = String::new();
    let mut rendered = Vec::new();
    for d in &loaded.diagnostics {
        let at = loaded.source.position(d.span.start);
        lines.push_str(&format!(
            "{}:{} {}: {}\n",
            at.line,
            at.column,
            d.severity.as_str(),
            d.message
        ));
        for help in d.help.iter().flat_map(|h| h.lines()) {
            lines.push_str(&format!("  help: {help}\n"));
        }
        rendered.push(render_human(d, &loaded.source, false));
    }
    (lines, rendered)
}

#[test]
fn every_bad_file_reports_exactly_the_expected_diagnostics() {
    let files = corpus();
    assert!(files.len() >= 15, "the corpus is missing");
    let mut failures = Vec::new();
    for path in files {
        let expected_path = path.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
        let (actual, _) = describe(&path);
        if actual != expected && std::env::var_os("PFORGE_BLESS").is_some() {
            std::fs::write(&expected_path, &actual).unwrap_or_else(|e| panic!("{e}"));
        } else if actual != expected {
            failures.push(format!(
                "{}\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bad_file_has_at_least_one_error_and_a_located_report() {
    for path in corpus() {
        let (lines, rendered) = describe(&path);
        assert!(
            lines.lines().any(|l| l.contains(" error: ")),
            "{}: no error",
            path.display()
        );
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for report in rendered {
            // rustc-like: a `--> file:line:column` header and a caret line.
            assert!(report.contains(&format!("--> {name}:")), "{report}");
            assert!(report.contains('^'), "{report}");
        }
    }
}

#[test]
fn every_diagnostic_is_located_by_a_pointer_that_names_a_node() {
    let mut failures = Vec::new();
    for path in corpus() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not UTF-8: refused before any pointer is followed
        };
        let name = path.display().to_string();
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
