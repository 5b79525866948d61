//! Rendering diagnostics: rustc-like snippets for people, JSON lines for tools.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::json;

use super::{Diagnostic, Severity, SourceFile};

/// Renders one diagnostic as a rustc-like report with a snippet of the file.
pub fn render_human(diagnostic: &Diagnostic, source: &SourceFile, color: bool) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let span = source.clamp_span(diagnostic.span.clone());
    let related: Vec<_> = diagnostic
        .related
        .iter()
        .map(|r| (source.clamp_span(r.span.clone()), r.message.as_str()))
        .collect();

    // Hand the renderer only the lines involved, not a possibly huge file.
    let first = related
        .iter()
        .map(|(s, _)| s.start)
        .fold(span.start, usize::min);
    let last = related
        .iter()
        .map(|(s, _)| s.end)
        .fold(span.end, usize::max);
    let text = source.text();
    let window_start = text[..first].rfind('\n').map_or(0, |i| i + 1);
    let window_end = text[last..].find('\n').map_or(text.len(), |i| last + i);
    let window = &text[window_start..window_end];
    let shift = |s: &std::ops::Range<usize>| (s.start - window_start)..(s.end - window_start);

    let mut snippet = Snippet::source(window)
        .line_start(source.position(window_start).line)
        .path(source.name())
        .fold(true)
        .annotation(AnnotationKind::Primary.span(shift(&span)));
    for (span, message) in &related {
        snippet = snippet.annotation(AnnotationKind::Context.span(shift(span)).label(*message));
    }
    let mut group = level
        .primary_title(diagnostic.message.as_str())
        .element(snippet);
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let report: &[Group<'_>] = &[group];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(report)
}

/// Renders one diagnostic as a single line of JSON (no trailing newline).
///
/// `line`/`column` are 1-based, columns count characters; `end_line`/`end_column` point just
/// past the offending text.
pub fn render_json_line(diagnostic: &Diagnostic, source: &SourceFile) -> String {
    let span = source.clamp_span(diagnostic.span.clone());
    let start = source.position(span.start);
    let end = source.position(span.end);
    json!({
        "severity": diagnostic.severity.as_str(),
        "message": diagnostic.message,
        "file": source.name(),
        "line": start.line,
        "column": start.column,
        "end_line": end.line,
        "end_column": end.column,
        "pointer": diagnostic.pointer,
        "help": diagnostic.help,
    })
    .to_string()
}
