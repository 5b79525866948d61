//! The version record of a generated crate: `[package.metadata.pforge]` in its Cargo.toml,
//! with the `version` of the pforge that last built it and the `runtime-version` of the
//! runtime code it copied in. A build writes the record; a build by an older pforge than the
//! recorded one is refused unless forced, since it would put older generated code and
//! runtime files in place of newer ones.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Key, Table};

use super::Outcome;

/// The keys of the record under `[package.metadata.pforge]`.
const KEYS: [&str; 2] = ["version", "runtime-version"];

/// The pforge version a crate's Cargo.toml records, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The Cargo.toml.
    pub path: PathBuf,
    /// 1-based line and column of the recorded value.
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// The value as written.
    pub version: String,
}

/// Why a recorded version stops a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A newer pforge built the crate.
    Newer(Recorded),
    /// The record is not a version.
    Unreadable(Recorded),
}

/// A build refused by the record, with what it would have changed.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct Downgrade {
    /// Why.
    pub refusal: Refusal,
    /// The running pforge's version.
    pub running: String,
    /// The files the build would create or update, as `build --check` lists them.
    pub changes: Vec<(PathBuf, Outcome)>,
}

impl Downgrade {
    fn message(&self) -> String {
        let running = &self.running;
        let (Refusal::Newer(at) | Refusal::Unreadable(at)) = &self.refusal;
        let location = format!("{}:{}:{}", at.path.display(), at.line, at.column);
        let mut text = match &self.refusal {
            Refusal::Newer(_) => format!(
                "{location}: this crate was built by pforge {recorded}, newer than this pforge \
                 {running}; nothing was written.\nBuilding it with pforge {running} would put \
                 older generated code and runtime files in place of pforge {recorded}'s:",
                recorded = at.version
            ),
            Refusal::Unreadable(_) => format!(
                "{location}: `package.metadata.pforge.version` is `{}`, not a version, so \
                 pforge cannot tell whether this pforge {running} is older than the one that \
                 built this crate; nothing was written.\nBuilding it would change:",
                at.version
            ),
        };
        for (path, outcome) in &self.changes {
            let verb = if *outcome == Outcome::Created {
                "would create"
            } else {
                "would update"
            };
            text.push_str(&format!("\n  {verb} {}", path.display()));
        }
        text.push_str(&format!(
            "\nRun `pforge build --force` to build with pforge {running} anyway"
        ));
        if let Refusal::Newer(at) = &self.refusal {
            text.push_str(&format!(", or use pforge {} or newer", at.version));
        }
        text.push('.');
        text
    }
}

/// Whether building the crate at `root` with this pforge would go back to an older one.
/// A missing Cargo.toml, table or key means no record (a new crate, or one from before
/// records), and so no refusal; a Cargo.toml that does not parse is left to the merge.
pub fn check(root: &Path, running: &str) -> Result<(), Refusal> {
    let path = root.join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let Some(recorded) = recorded(&path, &text) else {
        return Ok(());
    };
    let (Ok(have), Ok(running)) = (
        semver::Version::parse(recorded.version.trim()),
        semver::Version::parse(running),
    ) else {
        return Err(Refusal::Unreadable(recorded));
    };
    if have > running {
        return Err(Refusal::Newer(recorded));
    }
    Ok(())
}

/// The record's `version` in `text`, located; a value that is not a string is given as
/// written, so that it is reported rather than ignored.
fn recorded(path: &Path, text: &str) -> Option<Recorded> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let item = doc
        .get("package")?
        .get("metadata")?
        .get("pforge")?
        .get(KEYS[0])?;
    let value = item.as_value()?;
    let version = value
        .as_str()
        .map_or_else(|| value.to_string().trim().to_owned(), str::to_owned);
    let start = value.span().map_or(0, |s| s.start);
    let before = text.get(..start).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, rest)| rest)
        .chars()
        .count()
        + 1;
    Some(Recorded {
        path: path.to_owned(),
        line,
        column,
        version,
    })
}

/// Writes the record of `wanted` (the rendered manifest) into `doc` (the user's): the table
/// is created when missing (toml_edit shows it after `[package]`); the two values are set, keeping their comments; any
/// other key the user put there stays.
pub fn write(doc: &mut DocumentMut, wanted: &DocumentMut) -> Result<(), String> {
    let Some(record) = wanted
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("pforge"))
    else {
        return Ok(());
    };
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    let path = ["package", "metadata", "pforge"];
    for (depth, key) in path.iter().enumerate() {
        let mut new = Table::new();
        // `[package.metadata.pforge]` alone, as the template writes it.
        new.set_implicit(depth == 1);
        table = table
            .entry_format(&Key::new(*key))
            .or_insert(Item::Table(new))
            .as_table_like_mut()
            .ok_or_else(|| format!("`{}` is not a table", path[..=depth].join(".")))?;
    }
    for key in KEYS {
        let Some(value) = record.get(key).and_then(Item::as_value) else {
            continue;
        };
        match table.get_mut(key).and_then(Item::as_value_mut) {
            Some(slot) if slot.as_str() == value.as_str() => {}
            Some(slot) => {
                let decor = slot.decor().clone();
                *slot = value.clone();
                *slot.decor_mut() = decor;
            }
            None => {
                table.insert(key, Item::Value(value.clone()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str =
        "[package.metadata.pforge]\nversion = \"0.2.0\"\nruntime-version = \"0.1.1\"\n";

    fn merged(existing: &str) -> String {
        let mut doc: DocumentMut = existing.parse().unwrap_or_else(|e| panic!("{e}"));
        let wanted: DocumentMut = RENDERED.parse().unwrap_or_else(|e| panic!("{e}"));
        write(&mut doc, &wanted).unwrap_or_else(|e| panic!("{e}"));
        doc.to_string()
    }

    #[test]
    fn a_record_is_added_after_the_package_and_updated_in_place() {
        let added = merged("[package]\nname = \"x\" # mine\n\n[dependencies]\nitoa = \"1\"\n");
        assert_eq!(
            added,
            "[package]\nname = \"x\" # mine\n\n[package.metadata.pforge]\nversion = \"0.2.0\"\nruntime-version = \"0.1.1\"\n\n[dependencies]\nitoa = \"1\"\n"
        );
        let old = "[package]\nname = \"x\"\n\n[package.metadata.pforge]\nversion = \"0.1.0\" # by pforge\nmine = true\n\n[dependencies]\n";
        assert_eq!(
            merged(old),
            "[package]\nname = \"x\"\n\n[package.metadata.pforge]\nversion = \"0.2.0\" # by pforge\nmine = true\nruntime-version = \"0.1.1\"\n\n[dependencies]\n"
        );
        assert_eq!(merged(&merged(old)), merged(old));
    }

    #[test]
    fn a_record_that_is_not_a_table_is_an_error() {
        let mut doc: DocumentMut = "[package]\nmetadata = 1\n".parse().unwrap_or_default();
        let wanted: DocumentMut = RENDERED.parse().unwrap_or_default();
        assert!(write(&mut doc, &wanted).is_err_and(|e| e.contains("`package.metadata`")));
    }

    fn check_text(text: &str, running: &str) -> Result<(), Refusal> {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("Cargo.toml"), text).unwrap_or_else(|e| panic!("{e}"));
        check(dir.path(), running).map_err(|refusal| match refusal {
            Refusal::Newer(r) => Refusal::Newer(Recorded {
                path: PathBuf::new(),
                ..r
            }),
            Refusal::Unreadable(r) => Refusal::Unreadable(Recorded {
                path: PathBuf::new(),
                ..r
            }),
        })
    }

    #[test]
    fn only_a_newer_or_unreadable_record_refuses() {
        let record = |v: &str| {
            format!("[package]\nname = \"x\"\n\n[package.metadata.pforge]\nversion = {v}\n")
        };
        let at = |version: &str| Recorded {
            path: PathBuf::new(),
            line: 5,
            column: 11,
            version: version.to_owned(),
        };
        assert_eq!(
            check_text(&record("\"0.2.0\""), "0.1.0"),
            Err(Refusal::Newer(at("0.2.0")))
        );
        assert_eq!(
            check_text(&record("\"0.1.0\""), "0.1.0-rc.1"),
            Err(Refusal::Newer(at("0.1.0")))
        );
        assert_eq!(check_text(&record("\"0.1.0\""), "0.1.0"), Ok(()));
        assert_eq!(check_text(&record("\"0.0.9\""), "0.1.0"), Ok(()));
        assert_eq!(check_text(&record("\"0.2.0-rc.1\""), "0.2.0"), Ok(()));
        assert_eq!(
            check_text(&record("\"soon\""), "0.1.0"),
            Err(Refusal::Unreadable(at("soon")))
        );
        assert_eq!(
            check_text(&record("3"), "0.1.0"),
            Err(Refusal::Unreadable(at("3")))
        );
        assert_eq!(check_text("[package]\nname = \"x\"\n", "0.1.0"), Ok(()));
        assert_eq!(check_text("not toml [", "0.1.0"), Ok(()));
    }
}
