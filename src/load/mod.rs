//! Loading a `forge.yaml`: text -> located YAML tree -> JSON Schema validation -> typed config
//! -> semantic checks. Every stage reports located diagnostics; all of a file's problems are
//! reported in one run.

mod establish;
mod fields;
mod pointer;
mod report;
mod schema_check;
mod sections;
mod semantic;
mod suggest;
mod yaml;

pub use pointer::Pointer;
pub use report::{Reporter, Target};
pub use schema_check::validator;
pub use yaml::{Key, Node, NodeKind};

use crate::config::Checked;
use crate::diagnostics::{Diagnostic, SourceFile, sort_and_dedup};

/// Largest `forge.yaml` pforge reads. A thousand tools take about 200 KiB.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The outcome of loading one file.
#[derive(Debug)]
pub struct Loaded {
    /// The text, for rendering diagnostics.
    pub source: SourceFile,
    /// The config with the facts its checks established, when there is no error (warnings
    /// allowed).
    pub config: Option<Checked>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads a file's raw bytes, shown to users as `name`.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Loaded {
    if bytes.len() > MAX_BYTES {
        let source = SourceFile::new(
            name,
            String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]),
        );
        let diagnostic = Diagnostic::error(
            format!(
                "the file is {:.1} MiB; pforge reads at most {} MiB",
                mib(bytes.len()),
                MAX_BYTES >> 20
            ),
            0..0,
            "",
        )
        .with_help("a forge.yaml of a thousand tools is about 200 KiB; is this the right file?");
        return Loaded {
            source,
            config: None,
            diagnostics: vec![diagnostic],
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(name, text),
        Err(error) => {
            let source = SourceFile::new(name, String::from_utf8_lossy(bytes));
            // Lossy decoding keeps everything before the first bad byte byte-for-byte.
            let at = error.valid_up_to();
            let bad = bytes.get(at).copied().unwrap_or_default();
            let diagnostic = Diagnostic::error(
                format!("the file is not valid UTF-8 (byte 0x{bad:02X})"),
                at..at,
                "",
            )
            .with_help("save forge.yaml as UTF-8");
            Loaded {
                source,
                config: None,
                diagnostics: vec![diagnostic],
            }
        }
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Loads YAML text, shown to users as `name`.
///
/// ```
/// let loaded = pforge::load::load_str("forge.yaml", "forge: {name: demo, version: 0.1.0, colour: red}\n");
/// assert!(loaded.config.is_none());
/// let error = &loaded.diagnostics[0];
/// assert_eq!(error.message, "unknown key `colour`");
/// assert_eq!(loaded.source.position(error.span.start).column, 37);
/// ```
pub fn load_str(name: &str, text: &str) -> Loaded {
    load_text(name, text).0
}

/// The JSON pointers that located the diagnostics of `text` (and their related places) but
/// did not reach the node they name, landing on a parent: each one is a bug in a check.
pub fn unresolved_pointers(name: &str, text: &str) -> Vec<String> {
    load_text(name, text).1
}

fn load_text(name: &str, text: &str) -> (Loaded, Vec<String>) {
    let source = SourceFile::new(name, text);
    let refused = |source, diagnostic| {
        let loaded = Loaded {
            source,
            config: None,
            diagnostics: vec![diagnostic],
        };
        (loaded, Vec::new())
    };
    let tree = match yaml::parse(&source) {
        Ok(tree) => tree,
        Err(diagnostic) => return refused(source, diagnostic),
    };
    if matches!(tree.kind, NodeKind::Null) {
        let diagnostic = Diagnostic::error("the file holds no configuration", 0..0, "")
            .with_help("start with:\nforge:\n  name: my-server\n  version: 0.1.0");
        return refused(source, diagnostic);
    }

    let document = tree.to_json();
    let mut reporter = Reporter::new(&tree, &source);
    reporter.extend(schema_check::check(&document, &tree));
    let sections = sections::Sections::deserialize(&document, &mut reporter);
    let derived = semantic::check(&sections, &mut reporter);
    let config = if reporter.has_errors() {
        None
    } else {
        sections
            .into_config(&mut reporter)
            .and_then(|config| checked(config, &derived, &mut reporter))
    };

    let mut unresolved = reporter.unresolved().to_vec();
    let mut diagnostics = reporter.finish();
    unresolved.extend(
        diagnostics
            .iter()
            .filter(|d| !tree.resolve(&d.pointer).exact)
            .map(|d| d.pointer.clone()),
    );
    sort_and_dedup(&mut diagnostics);
    let loaded = Loaded {
        source,
        config,
        diagnostics,
    };
    (loaded, unresolved)
}

/// The checked config, or a located error when a fact the checks should have established
/// cannot be read (a loader bug: the config is refused rather than planned half-known).
fn checked(
    config: crate::config::Config,
    derived: &establish::Derived,
    reporter: &mut Reporter<'_>,
) -> Option<Checked> {
    match establish::establish(config, derived) {
        Ok(checked) => Some(checked),
        Err(missing) => {
            reporter
                .error(&missing.pointer, Target::Value, missing.message)
                .help("pforge's checks should have reported this; please file a bug")
                .emit();
            None
        }
    }
}
