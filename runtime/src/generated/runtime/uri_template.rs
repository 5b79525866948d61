//! Matching a resource's `uri_template` against a requested URI.

/// Whether `uri` fits an RFC 6570 level-1 template such as `users://{id}/profile`:
/// each `{var}` stands for a non-empty text without `/`.
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
        if value.is_empty() || value.contains('/') {
            return false;
        }
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty()
}
