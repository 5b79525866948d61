//! The path segments a caller's value may never become: `.` and `..`, which URL parsers and
//! upstream servers read as steps along the path, in every spelling they still read that way.

/// Whether `text` would be read as the path segment `.` or `..`: as written, after the
/// percent-decoding the WHATWG URL parser does on dot segments (`%2E`) and an upstream may
/// repeat, and after the Unicode compatibility folding (NFKC) some upstreams apply, which
/// turns fullwidth, small and leader dots into `.`.
pub fn is_dot_segment(text: &str) -> bool {
    let mut text = text.to_owned();
    // Each round peels one layer of escapes; three covers an upstream that decodes twice.
    for _ in 0..3 {
        match percent_decoded(&text) {
            Some(decoded) if decoded != text => text = decoded,
            _ => break,
        }
    }
    let mut dots = 0_usize;
    for c in text.chars() {
        dots += match c {
            '.' | '\u{FF0E}' | '\u{FE52}' | '\u{2024}' | '\u{3002}' | '\u{FF61}' => 1,
            '\u{2025}' => 2,
            _ => return false,
        };
        if dots > 2 {
            return false;
        }
    }
    dots > 0
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
