//! Located messages about a `forge.yaml`: errors and warnings with a source span, a JSON
//! pointer and an optional help line.

mod render;
mod source;

pub use render::{render_human, render_json_line};
pub use source::{Position, SourceFile};

use std::ops::Range;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The config is rejected.
    Error,
    /// The config is accepted, but something is probably not what the user meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// A secondary place a diagnostic refers to ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Byte range in the source.
    pub span: Range<usize>,
    /// What that place is.
    pub message: String,
}

/// One located message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in plain words.
    pub message: String,
    /// Byte range of the offending key or value; empty ranges point between characters.
    pub span: Range<usize>,
    /// JSON pointer of the offending node, e.g. `/tools/2/retry/max_attempts`.
    pub pointer: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
    /// Other places involved.
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(
        message: impl Into<String>,
        span: Range<usize>,
        pointer: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            span,
            pointer: pointer.into(),
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(
        message: impl Into<String>,
        span: Range<usize>,
        pointer: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message, span, pointer)
        }
    }

    /// Adds a help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line when there is one.
    #[must_use]
    pub fn with_optional_help(mut self, help: Option<String>) -> Self {
        self.help = help.or(self.help);
        self
    }

    /// Adds a secondary place.
    #[must_use]
    pub fn with_related(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }

    /// Whether this diagnostic rejects the config.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts by position (then severity and message) and drops exact repeats, so output is stable
/// whatever order the checks ran in.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, a.severity, &a.message).cmp(&(
            b.span.start,
            b.span.end,
            b.severity,
            &b.message,
        ))
    });
    diagnostics
        .dedup_by(|a, b| a.span == b.span && a.message == b.message && a.severity == b.severity);
}
