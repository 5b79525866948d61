//! Collisions of generated names: two things forge.yaml keeps apart that would become the same
//! Rust name in one scope of the generated crate. Every name comes from [`crate::naming`], the
//! functions the generator itself uses.

use std::collections::HashMap;

use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};

/// Where a name was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// JSON pointer of the value or key.
    pub pointer: Pointer,
    /// Underline the key (a `params` entry) or the value (a `name`, a placeholder's text).
    pub target: WrittenAs,
    /// The name as written.
    pub text: String,
}

/// Which part of a YAML entry a name is.
#[derive(Debug, Clone)]
pub enum WrittenAs {
    /// A mapping key.
    Key,
    /// A whole scalar value.
    Value,
    /// A piece of a scalar (a `{{placeholder}}`).
    Text(String),
}

impl WrittenAs {
    fn target(&self) -> Target<'_> {
        match self {
            Self::Key => Target::Key,
            Self::Value => Target::Value,
            Self::Text(text) => Target::Text(text),
        }
    }
}

/// One scope of the generated crate (the tool modules, one tool's input fields), with the
/// names claimed in it so far.
pub struct Scope {
    /// What the names are, for messages: "module", "field".
    kind: &'static str,
    /// Where the scope is, for messages: "in src/generated/tools/".
    place: String,
    claimed: HashMap<String, Written>,
}

impl Scope {
    /// An empty scope.
    pub fn new(kind: &'static str, place: impl Into<String>) -> Self {
        Self {
            kind,
            place: place.into(),
            claimed: HashMap::new(),
        }
    }

    /// Claims `rust_name` for `written`; a name claimed before is reported at both places.
    /// Returns whether the name was free.
    pub fn claim(
        &mut self,
        rust_name: String,
        written: Written,
        reporter: &mut Reporter<'_>,
    ) -> bool {
        if let Some(first) = self.claimed.get(&rust_name) {
            let shown = crate::naming::unraw(&rust_name);
            reporter
                .error(
                    &written.pointer,
                    written.target.target(),
                    format!(
                        "`{}` and `{}` both become the {} `{shown}` {}",
                        first.text, written.text, self.kind, self.place
                    ),
                )
                .related(
                    &first.pointer,
                    first.target.target(),
                    format!("`{}` is here", first.text),
                )
                .help(
                    "names that differ only in case, separators (`-`, `_`, `.`) or non-ASCII \
                     letters become the same Rust name; rename one",
                )
                .emit();
            return false;
        }
        self.claimed.insert(rust_name, written);
        true
    }
}
