//! The id of a request whose line is not JSON the parser accepts (invalid UTF-8, a lone
//! surrogate, nesting deeper than it goes), so that the client is told instead of waiting
//! for an answer that never comes.

use rmcp::model::RequestId;

/// The `id` of the outer object of `line` when it also has a `method` (a request, not a
/// notification or a response), found by a scan that follows strings and nesting only.
pub fn salvaged_id(line: &[u8]) -> Option<RequestId> {
    let mut depth = 0_usize;
    let mut expect_key = false;
    let mut id = None;
    let mut method = false;
    let mut at = 0;
    while let Some(&byte) = line.get(at) {
        match byte {
            b'"' => {
                let end = string_end(line, at)?;
                if depth == 1 && expect_key {
                    expect_key = false;
                    let key = &line[at + 1..end - 1];
                    let colon = skip_space(line, end);
                    if line.get(colon) != Some(&b':') {
                        return None;
                    }
                    let value = skip_space(line, colon + 1);
                    match key {
                        b"id" => id = value_at(line, value),
                        b"method" => method = true,
                        _ => {}
                    }
                    at = value;
                    continue;
                }
                at = end;
                continue;
            }
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b',' => expect_key = depth == 1,
            _ => {}
        }
        at += 1;
    }
    if method { id } else { None }
}

/// Where the string starting at the quote `start` ends (just past its closing quote).
fn string_end(line: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    loop {
        match line.get(at)? {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
}

/// The first position at or after `at` that is not JSON white space.
fn skip_space(line: &[u8], at: usize) -> usize {
    at + line
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count()
}

/// A request id (a string or a whole number) starting at `at`, if it is one.
fn value_at(line: &[u8], at: usize) -> Option<RequestId> {
    let end = match line.get(at)? {
        b'"' => string_end(line, at)?,
        b'-' | b'0'..=b'9' => {
            at + line[at..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b'-')
                .count()
        }
        _ => return None,
    };
    serde_json::from_slice(&line[at..end]).ok()
}
