//! Every forge.yaml snippet of the book (`docs/src/**/*.md`) and of the README is checked as
//! `pforge check` checks a file, then planned and emitted as `pforge build` would.
//!
//! The rule (ARCHITECTURE.md, "The book"): a fence whose info string is `yaml` is a whole
//! forge.yaml; `yaml fragment` is a piece of one (say, a `tools:` list) and is checked after a
//! `forge:` header with a name and a version, so it must not have a `forge:` section of its
//! own. Any other `yaml ...` info string is refused, so that no block is skipped unseen. YAML
//! that is not a forge.yaml, or outlines that are not YAML, go in `text` fences.

use std::path::{Path, PathBuf};

use pforge::diagnostics::render_human;
use pforge::load::load_str;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What a fragment is placed after.
const FRAGMENT_HEADER: &str = "forge:\n  name: book-fragment\n  version: 0.1.0\n";

/// A fenced block of a Markdown file.
#[derive(Debug)]
struct Block {
    /// The file, relative to the repository root.
    file: String,
    /// The 1-based line of the block's first line of text (after the fence).
    line: usize,
    /// The info string after the opening fence.
    info: String,
    text: String,
}

/// Every fenced block of `markdown`, in order. An unterminated fence is an error.
fn blocks(file: &str, markdown: &str) -> Result<Vec<Block>, String> {
    let mut found = Vec::new();
    let mut open: Option<(usize, String, String, Vec<&str>)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(rest) = trimmed.strip_prefix("```") {
                    let indent = line[..line.len() - trimmed.len()].to_owned();
                    open = Some((index + 2, rest.trim().to_owned(), indent, Vec::new()));
                }
            }
            Some((start, info, indent, mut lines)) => {
                if trimmed == "```" {
                    let text = lines
                        .iter()
                        .map(|l| l.strip_prefix(indent.as_str()).unwrap_or(l))
                        .collect::<Vec<_>>()
                        .join("\n");
                    found.push(Block {
                        file: file.to_owned(),
                        line: start,
                        info,
                        text: format!("{text}\n"),
                    });
                } else {
                    lines.push(line);
                    open = Some((start, info, indent, lines));
                }
            }
        }
    }
    match open {
        Some((start, ..)) => Err(format!(
            "{file}:{}: a fence that is never closed",
            start - 1
        )),
        None => Ok(found),
    }
}

/// The Markdown files of the book, sorted, and the README.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(ROOT).join("docs/src"), &mut files);
    files.sort();
    files.push(Path::new(ROOT).join("README.md"));
    files
}

/// Checks one block; `Err` says where and why. The block is padded with blank lines (after
/// the header, for a fragment) so that every diagnostic names the line of the Markdown file.
fn check(block: &Block) -> Result<(), String> {
    let above = block.line - 1;
    let document = match block.info.as_str() {
        "yaml" => format!("{}{}", "\n".repeat(above), block.text),
        "yaml fragment" => {
            if block.text.lines().any(|l| l.starts_with("forge:")) {
                return Err(format!(
                    "{}:{}: a `yaml fragment` has a `forge:` section: make it a `yaml` block",
                    block.file, block.line
                ));
            }
            let header = FRAGMENT_HEADER.lines().count();
            let pad = above.checked_sub(header).ok_or_else(|| {
                format!(
                    "{}:{}: a `yaml fragment` needs {header} lines above it for its header",
                    block.file, block.line
                )
            })?;
            format!("{FRAGMENT_HEADER}{}{}", "\n".repeat(pad), block.text)
        }
        other => {
            return Err(format!(
                "{}:{}: unknown fence `{other}`: write `yaml` (a whole forge.yaml), \
                 `yaml fragment` (a piece of one) or `text`",
                block.file,
                block.line - 1
            ));
        }
    };
    let loaded = load_str(&block.file, &document);
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    if let Some(first) = errors.first() {
        let line = loaded.source.position(first.span.start).line;
        let rendered: Vec<String> = errors
            .iter()
            .map(|d| render_human(d, &loaded.source, false))
            .collect();
        return Err(format!(
            "{}:{line}: this forge.yaml snippet does not check:\n{}",
            block.file,
            rendered.join("\n")
        ));
    }
    let config = loaded.config.ok_or_else(|| {
        format!(
            "{}:{}: no config and no error diagnostic",
            block.file, block.line
        )
    })?;
    pforge::emit::generate(&pforge::plan::plan(&config)).map_err(|e| {
        format!(
            "{}:{}: checks, but does not generate: {e}",
            block.file, block.line
        )
    })?;
    Ok(())
}

#[test]
fn every_forge_yaml_snippet_of_the_book_and_the_readme_checks() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut readme = 0;
    for path in documents() {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path
            .strip_prefix(ROOT)
            .unwrap_or(&path)
            .display()
            .to_string();
        let found = match blocks(&file, &text) {
            Ok(found) => found,
            Err(message) => {
                failures.push(message);
                continue;
            }
        };
        for block in found
            .iter()
            .filter(|b| b.info.split_whitespace().next() == Some("yaml"))
        {
            checked += 1;
            if file == "README.md" {
                readme += 1;
            }
            if let Err(message) = check(block) {
                failures.push(message);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} snippets fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        checked >= 10,
        "only {checked} yaml blocks found: is docs/src there?"
    );
    assert!(readme >= 1, "the README's example forge.yaml was not found");
}

#[test]
fn a_bad_snippet_is_reported_at_its_markdown_line() {
    let markdown = "# Page\n\ntext\n\n```yaml fragment\ntools:\n  - type: cli\n    name: x\n    command: ls\n    retry: {max_attempts: 0}\n```\n";
    let found = blocks("page.md", markdown).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1);
    let message = check(&found[0])
        .err()
        .unwrap_or_else(|| panic!("zero attempts passed"));
    // The bad value is on line 10 of the page.
    assert!(message.starts_with("page.md:10: "), "{message}");
    let unknown = Block {
        file: "page.md".into(),
        line: 3,
        info: "yaml ignore".into(),
        text: "forge: {}\n".into(),
    };
    let message = check(&unknown)
        .err()
        .unwrap_or_else(|| panic!("an unknown fence passed"));
    assert!(message.starts_with("page.md:2: unknown fence"), "{message}");
    assert!(blocks("page.md", "```yaml\nforge:\n").is_err());
}
