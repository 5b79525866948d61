//! Turning "this JSON pointer is wrong" into a located diagnostic.

use std::ops::Range;

use super::yaml::{Node, NodeKind};
use crate::diagnostics::{Diagnostic, Severity, SourceFile};

/// Which part of a node a diagnostic underlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The key under which the node is written.
    Key,
    /// The value itself.
    Value,
    /// A piece of a string value, such as one `{{placeholder}}`.
    Text(&'a str),
}

/// Collects diagnostics, locating them through the YAML tree.
#[derive(Debug)]
pub struct Reporter<'a> {
    tree: &'a Node,
    source: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
    /// Pointers that located a diagnostic but stopped at a parent of what they name.
    unresolved: Vec<String>,
}

impl<'a> Reporter<'a> {
    /// A reporter over one file.
    pub fn new(tree: &'a Node, source: &'a SourceFile) -> Self {
        Self {
            tree,
            source,
            diagnostics: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    /// Byte range of `target` at `pointer`.
    pub fn span(&mut self, pointer: &str, target: Target<'_>) -> Range<usize> {
        let tree = self.tree;
        let found = tree.resolve(pointer);
        if !found.exact {
            self.unresolved.push(pointer.to_owned());
        }
        let (key, node) = (found.key, found.node);
        match target {
            Target::Key => key.map_or_else(|| node.value_span(None), |k| k.span.clone()),
            Target::Value => node.value_span(key),
            Target::Text(needle) => self
                .text_span(node, needle)
                .unwrap_or_else(|| node.value_span(key)),
        }
    }

    /// Where `needle` sits inside a string node, when the source spells it verbatim.
    fn text_span(&self, node: &Node, needle: &str) -> Option<Range<usize>> {
        if needle.is_empty() || !matches!(node.kind, NodeKind::Str(_)) {
            return None;
        }
        let span = self.source.clamp_span(node.span.clone());
        let written = &self.source.text()[span.clone()];
        written
            .find(needle)
            .map(|i| span.start + i..span.start + i + needle.len())
    }

    /// Adds diagnostics made elsewhere.
    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether an error was reported at `pointer` or below it.
    pub fn has_error_under(&self, pointer: &str) -> bool {
        self.diagnostics.iter().any(|d| {
            d.is_error()
                && (d.pointer == pointer
                    || (d.pointer.starts_with(pointer)
                        && d.pointer[pointer.len()..].starts_with('/')))
        })
    }

    /// Starts an error.
    pub fn error(
        &mut self,
        pointer: &str,
        target: Target<'_>,
        message: impl Into<String>,
    ) -> Pending<'_, 'a> {
        self.start(Severity::Error, pointer, target, message.into())
    }

    /// Starts a warning.
    pub fn warning(
        &mut self,
        pointer: &str,
        target: Target<'_>,
        message: impl Into<String>,
    ) -> Pending<'_, 'a> {
        self.start(Severity::Warning, pointer, target, message.into())
    }

    fn start(
        &mut self,
        severity: Severity,
        pointer: &str,
        target: Target<'_>,
        message: String,
    ) -> Pending<'_, 'a> {
        let span = self.span(pointer, target);
        let mut diagnostic = Diagnostic::error(message, span, pointer);
        diagnostic.severity = severity;
        Pending {
            reporter: self,
            diagnostic,
        }
    }

    /// All diagnostics, in the order reported.
    pub fn finish(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// The pointers that located a diagnostic (or a related place) without reaching the node
    /// they name, so that it landed on a parent.
    pub fn unresolved(&self) -> &[String] {
        &self.unresolved
    }
}

/// A diagnostic being built; `emit` files it.
#[must_use = "call .emit() to report the diagnostic"]
pub struct Pending<'r, 'a> {
    reporter: &'r mut Reporter<'a>,
    diagnostic: Diagnostic,
}

impl Pending<'_, '_> {
    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.diagnostic.help = Some(help.into());
        self
    }

    /// Adds a help line when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.diagnostic.help = help;
        }
        self
    }

    /// Points at a second place.
    pub fn related(
        mut self,
        pointer: &str,
        target: Target<'_>,
        message: impl Into<String>,
    ) -> Self {
        let span = self.reporter.span(pointer, target);
        self.diagnostic = self.diagnostic.with_related(span, message);
        self
    }

    /// Files the diagnostic.
    pub fn emit(self) {
        self.reporter.diagnostics.push(self.diagnostic);
    }
}
