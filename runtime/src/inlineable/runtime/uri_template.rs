//! Matching a resource's `uri_template` against a requested URI.

use super::{has_separator, is_dot_segment};

/// Whether `uri` fits an RFC 6570 level-1 template such as `users://{id}/profile`:
/// each `{var}` stands for a non-empty text without `/` or a backslash, escaped or not, that is
/// not a step along a path (`.`, `..` in any spelling [`is_dot_segment`] knows), so that a
/// handler which builds a path from it stays where the template says.
pub fn template_matches(template: &str, uri: &str) -> bool {
    let mut rest = uri;
    let mut pieces = template.split('{');
    let Some(head) = pieces.next() else {
        return false;
    };
    let Some(after) = rest.strip_prefix(head) else {
        return false;
    };
    rest = after;
    for piece in pieces {
        let Some((_, literal)) = piece.split_once('}') else {
            return false;
        };
        let end = if literal.is_empty() {
            rest.len()
        } else {
            match rest.find(literal) {
                Some(i) => i,
                None => return false,
            }
        };
        let value = &rest[..end];
        if value.is_empty() || crosses_segments(value) {
            return false;
        }
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty()
}

/// Whether a variable's value would leave its own path segment.
fn crosses_segments(value: &str) -> bool {
    has_separator(value) || is_dot_segment(value)
}
