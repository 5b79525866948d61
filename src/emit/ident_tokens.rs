//! Identifier tokens from the plan's escaped names.

use proc_macro2::{Ident, Span};

/// An identifier token; `r#`-prefixed names become raw identifiers.
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}
