//! The path segments a caller's value may never become: `.` and `..`, which URL parsers and
//! upstream servers read as steps along the path, in every spelling they still read that way.

/// Whether `text` would take a step along a path: hold a segment `.` or `..` as written, after
/// the percent-decoding the WHATWG URL parser does on dot segments (`%2E`) and an upstream may
/// repeat (which also turns `%2F` and `%5C` into separators), and after the folding some
/// upstreams apply: Unicode compatibility forms (fullwidth, small and leader dots, fullwidth
/// slashes), path parameters (`..;x`), and the trailing dots, spaces and NULs Windows drops.
pub fn is_dot_segment(text: &str) -> bool {
    layers(text).any(|layer| layer.split(SEPARATORS).any(is_dots))
}

/// Whether `text` holds a path separator (`/`, a backslash, or their fullwidth forms), as
/// written or under up to three layers of percent-escapes.
pub fn has_separator(text: &str) -> bool {
    layers(text).any(|layer| layer.contains(SEPARATORS))
}

/// What upstreams read as path separators.
const SEPARATORS: [char; 4] = ['/', '\\', '\u{FF0F}', '\u{FF3C}'];

/// `text` as written, then with each layer of percent-escapes peeled in turn (three layers
/// cover an upstream that decodes twice after the URL parser).
fn layers(text: &str) -> impl Iterator<Item = String> {
    std::iter::successors(Some(text.to_owned()), |layer| {
        percent_decoded(layer).filter(|decoded| decoded != layer)
    })
    .take(4)
}

/// Whether one piece between separators reads as `.` or `..` (or more dots, which Windows
/// trims to nothing).
fn is_dots(piece: &str) -> bool {
    let piece = piece.split(';').next().unwrap_or_default();
    let piece = piece.trim_end_matches(|c: char| c.is_whitespace() || c == '\0');
    !piece.is_empty()
        && piece.chars().all(|c| {
            matches!(
                c,
                '.' | '\u{FF0E}'
                    | '\u{FE52}'
                    | '\u{2024}'
                    | '\u{2025}'
                    | '\u{2026}'
                    | '\u{3002}'
                    | '\u{FF61}'
            )
        })
}

/// `text` with its `%XX` escapes decoded; `None` when nothing was escaped or the bytes are
/// not UTF-8 (then no dot can hide in them).
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
