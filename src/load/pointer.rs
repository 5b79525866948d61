//! JSON pointers into a forge.yaml, built step by step (`Pointer::tool(0).key("retry")`), so
//! that every key is escaped once and no path is spelt by hand. Diagnostics are located
//! through them; `load::unresolved_pointers` tells which did not reach a node exactly.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// A JSON pointer (RFC 6901); the root is the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document.
    pub fn root() -> Self {
        Self::default()
    }

    /// A top-level section (`/forge`, `/tools`, …).
    pub fn section(name: &str) -> Self {
        Self::root().key(name)
    }

    /// The tool at `index`.
    pub fn tool(index: impl Borrow<usize>) -> Self {
        Self::section("tools").index(index)
    }

    /// The resource at `index`.
    pub fn resource(index: impl Borrow<usize>) -> Self {
        Self::section("resources").index(index)
    }

    /// The prompt at `index`.
    pub fn prompt(index: impl Borrow<usize>) -> Self {
        Self::section("prompts").index(index)
    }

    /// The `middleware` entry at `index`.
    pub fn middleware(index: impl Borrow<usize>) -> Self {
        Self::section("middleware").index(index)
    }

    /// The value under `key` of the mapping here.
    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}/{}", self.0, escape(key)))
    }

    /// The item at `index` of the sequence here.
    pub fn index(&self, index: impl Borrow<usize>) -> Self {
        Self(format!("{}/{}", self.0, index.borrow()))
    }

    /// The pointer as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Pointer {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes a key for use in a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_escape_keys_and_join_with_slashes() {
        let at = Pointer::tool(2).key("headers").key("a/b~c");
        assert_eq!(at.as_str(), "/tools/2/headers/a~1b~0c");
        assert_eq!(Pointer::root().as_str(), "");
        assert_eq!(
            Pointer::middleware(0).index(1).to_string(),
            "/middleware/0/1"
        );
    }
}
