//! Rust names: keywords, handler paths, module names.

/// Strict and reserved keywords of Rust 2024, plus `union`-like weak ones that cannot be
/// crate names.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Whether `word` is a Rust keyword.
pub fn is_rust_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// The module/file name a tool name becomes: lower case, `-` and `.` turned into `_`.
pub fn module_name(tool_name: &str) -> String {
    tool_name.to_ascii_lowercase().replace(['-', '.'], "_")
}

/// Why a handler path cannot be used, if it cannot.
pub fn handler_path_problem(path: &str) -> Option<(String, String)> {
    let trimmed = path.trim();
    let parsed = syn::parse_str::<syn::Path>(trimmed);
    let Ok(parsed) = parsed else {
        let bad = trimmed.split("::").find(|s| is_rust_keyword(s.trim()));
        return Some(match bad {
            Some(keyword) => (
                format!("`{trimmed}` is not a valid Rust path: `{keyword}` is a keyword"),
                "rename that module, type or function".to_owned(),
            ),
            None => (
                format!("`{trimmed}` is not a valid Rust path"),
                "write a path such as `handlers::MyHandler` or `handlers::module::function`"
                    .to_owned(),
            ),
        });
    };
    if parsed.leading_colon.is_some() || parsed.segments.iter().any(|s| !s.arguments.is_none()) {
        return Some((
            format!("`{trimmed}` must be a plain path without `::` in front or generic arguments"),
            "write a path such as `handlers::MyHandler`".to_owned(),
        ));
    }
    let segments: Vec<String> = parsed
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segments.first().map(String::as_str) != Some("handlers") || segments.len() < 2 {
        let last = segments.last().cloned().unwrap_or_default();
        return Some((
            format!("handler `{trimmed}` must live under `handlers::`"),
            format!("pforge writes handler stubs into src/handlers/; write `handlers::{last}`"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_paths() {
        assert_eq!(handler_path_problem("handlers::UserDataFallback"), None);
        assert_eq!(handler_path_problem("handlers::greet::say_hello"), None);
        assert!(handler_path_problem("handlers::type::X").is_some());
        assert!(handler_path_problem("crate::X").is_some());
        assert!(handler_path_problem("handlers").is_some());
        assert!(handler_path_problem("handlers::Vec<u8>").is_some());
        assert!(handler_path_problem("::handlers::X").is_some());
        assert!(handler_path_problem("handlers::../x").is_some());
    }

    #[test]
    fn module_names_fold_case_and_punctuation() {
        assert_eq!(module_name("Fetch-Data.v2"), "fetch_data_v2");
    }
}
