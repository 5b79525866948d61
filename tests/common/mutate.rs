//! Byte-level mutations of a `forge.yaml` and the check that a load result is located; shared by
//! `tests/mutations.rs` (proptest over the loader) and `tests/fuzz.rs` (load, plan and emit).
#![allow(dead_code)]

/// Pieces that are meaningful to YAML or to our language.
pub const PIECES: &[&str] = &[
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\n",
    "  ",
    "\t",
    "&a ",
    "*a",
    "!!str ",
    "# ",
    "|\n",
    ">-\n",
    "---\n",
    "...",
    "0",
    "-1",
    "1e999",
    "3.5",
    "true",
    "null",
    "~",
    "é",
    "日本",
    "{{x}}",
    "${X",
    "${Y:-z}",
    "type: ",
    "http",
    "native",
    "pipeline",
    "retry:",
    "timeout: ",
    "60",
    "0s",
    "handlers::",
    "\u{feff}",
    "\r\n",
    "? ",
    "<<: *a",
    "\\u0000",
    "\u{0}",
];

/// One edit of the text. Positions are taken modulo the text's length when applied, so any
/// value is valid.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Removes up to `len` bytes.
    Delete {
        at: usize,
        len: usize,
    },
    /// Inserts `PIECES[piece]`.
    Insert {
        at: usize,
        piece: usize,
    },
    /// Sets one byte, which may break UTF-8.
    Byte {
        at: usize,
        byte: u8,
    },
    /// Copies a line to the top of the file.
    DuplicateLine {
        line: usize,
    },
    SwapLines {
        a: usize,
        b: usize,
    },
    /// Prepends spaces to a line.
    Indent {
        line: usize,
        spaces: usize,
    },
}

pub fn apply(text: &mut Vec<u8>, mutation: &Mutation) {
    let len = text.len().max(1);
    match *mutation {
        Mutation::Delete { at, len: n } => {
            let at = at % len;
            let end = (at + n).min(text.len());
            text.drain(at.min(text.len())..end);
        }
        Mutation::Insert { at, piece } => {
            let at = at % (text.len() + 1);
            let piece = PIECES[piece % PIECES.len()].as_bytes();
            text.splice(at..at, piece.iter().copied());
        }
        Mutation::Byte { at, byte } => {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = byte;
            }
        }
        Mutation::DuplicateLine { .. } | Mutation::SwapLines { .. } | Mutation::Indent { .. } => {
            let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let n = lines.len();
            match *mutation {
                Mutation::DuplicateLine { line } => {
                    let line = lines[line % n].clone();
                    lines.insert(0, line);
                }
                Mutation::SwapLines { a, b } => lines.swap(a % n, b % n),
                Mutation::Indent { line, spaces } => {
                    let line = &mut lines[line % n];
                    line.splice(0..0, std::iter::repeat_n(b' ', spaces));
                }
                _ => {}
            }
            *text = lines.join(&b'\n');
        }
    }
}

/// Checks that a load result is either a config without errors or at least one error, and
/// that every diagnostic (and every place it relates to) lies within the text, has a message
/// and renders both ways. Returns what is wrong.
pub fn check_located(loaded: &pforge::load::Loaded) -> Result<(), String> {
    if loaded.config.is_none() && !loaded.has_errors() {
        return Err(format!("no config and no error: {:?}", loaded.diagnostics));
    }
    if loaded.config.is_some() && loaded.has_errors() {
        return Err(format!("a config despite errors: {:?}", loaded.diagnostics));
    }
    let source_len = loaded.source.text().len();
    let lines = loaded.source.text().lines().count() + 1;
    let within = |span: &std::ops::Range<usize>| span.start <= span.end && span.end <= source_len;
    for d in &loaded.diagnostics {
        if !within(&d.span) || d.related.iter().any(|r| !within(&r.span)) {
            return Err(format!(
                "span outside the text of {source_len} bytes: {d:?}"
            ));
        }
        let at = loaded.source.position(d.span.start);
        if at.line < 1 || at.line > lines || at.column < 1 {
            return Err(format!("position {at:?} outside {lines} lines: {d:?}"));
        }
        if d.message.is_empty() {
            return Err(format!("empty message: {d:?}"));
        }
        let _ = pforge::diagnostics::render_human(d, &loaded.source, false);
        let line = pforge::diagnostics::render_json_line(d, &loaded.source);
        let json: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{e} in the JSON line {line}"))?;
        if json["line"].as_u64() != Some(at.line as u64) {
            return Err(format!("JSON line {line} does not say line {}", at.line));
        }
    }
    Ok(())
}
