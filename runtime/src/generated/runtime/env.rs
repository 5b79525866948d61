//! `${VAR}` expansion in endpoints, headers and command lines, done when the server runs so
//! that secrets stay out of the generated code.

/// Resolves `${VAR}` and `${VAR:-default}` from the environment when the server runs.
pub fn expand_env(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("${") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        match std::env::var(name) {
            Ok(value) if !value.is_empty() || default.is_none() => out.push_str(&value),
            _ => out.push_str(default.unwrap_or_default()),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}
