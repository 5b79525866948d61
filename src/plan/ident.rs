//! Turning config names into Rust identifiers that can never collide with keywords.

use crate::load::is_rust_keyword;

/// `fetch-user.data` -> `fetch_user_data`; keywords become raw identifiers (`r#type`), the
/// few that cannot be raw get a trailing `_`, and a leading digit gets a leading `_`.
pub fn snake_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    escape(out)
}

/// `fetch_user-data` -> `FetchUserData`.
pub fn pascal_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if out == "Self" {
        "Self_".to_owned()
    } else {
        out
    }
}

/// Makes an identifier-shaped string safe to use as one.
pub fn escape(ident: String) -> String {
    let ident = if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{ident}")
    } else {
        ident
    };
    match ident.as_str() {
        // These cannot be raw identifiers.
        "self" | "Self" | "super" | "crate" | "_" => format!("{ident}_"),
        word if is_rust_keyword(word) => format!("r#{word}"),
        _ => ident,
    }
}

/// An identifier without its `r#` prefix, for building file names and derived names.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_idents() {
        assert_eq!(snake_ident("fetch_user_data"), "fetch_user_data");
        assert_eq!(snake_ident("Fetch-User.Data"), "fetch_user_data");
        assert_eq!(snake_ident("getHTTPStatus"), "get_httpstatus");
        assert_eq!(snake_ident("type"), "r#type");
        assert_eq!(snake_ident("self"), "self_");
        assert_eq!(snake_ident("2fa"), "_2fa");
        assert_eq!(snake_ident("async"), "r#async");
    }

    #[test]
    fn pascal_case_idents() {
        assert_eq!(pascal_ident("fetch_user_data"), "FetchUserData");
        assert_eq!(pascal_ident("get-v2.data"), "GetV2Data");
        assert_eq!(pascal_ident("self"), "Self_");
        assert_eq!(pascal_ident("2fa"), "T2fa");
    }
}
