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

/// The versions of a record: the pforge that built a crate and the runtime it copied in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// pforge's version (`version`).
    pub pforge: String,
    /// The runtime's version (`runtime-version`).
    pub runtime: String,
}

/// Where in a crate's Cargo.toml a recorded value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The Cargo.toml.
    pub path: PathBuf,
    /// 1-based line and column of the value.
    pub line: usize,
    /// See `line`.
    pub column: usize,
}

/// Why a recorded version stops a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A newer pforge, or a pforge with a newer runtime, built the crate; `at` is the newer
    /// value.
    Newer {
        /// See [`Refusal`].
        at: At,
        /// What Cargo.toml records.
        recorded: Record,
    },
    /// `key` is not a version (`value` as written), or missing (`None`) beside the other key.
    Unreadable {
        /// The value, or the other key's value when this one is missing.
        at: At,
        /// The key, one of `version` and `runtime-version`.
        key: &'static str,
        /// See [`Refusal::Unreadable`].
        value: Option<String>,
    },
}

/// A build refused by the record, with what it would have changed.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct Refused {
    /// Why.
    pub refusal: Refusal,
    /// The running pforge's versions.
    pub running: Record,
    /// The files the build would create or update, as `build --check` lists them.
    pub changes: Vec<(PathBuf, Outcome)>,
}

impl Refused {
    fn message(&self) -> String {
        let running = format!(
            "pforge {} (runtime {})",
            self.running.pforge, self.running.runtime
        );
        let mut text = match &self.refusal {
            Refusal::Newer { at, recorded } => format!(
                "{}: this crate was built by pforge {} (runtime {}), newer than this \
                 {running}; nothing was written.\nBuilding it with this {running} would put \
                 older generated code and runtime files in place of pforge {}'s:",
                location(at),
                recorded.pforge,
                recorded.runtime,
                recorded.pforge
            ),
            Refusal::Unreadable { at, key, value } => {
                let what = value.as_ref().map_or_else(
                    || format!("`package.metadata.pforge.{key}` is missing"),
                    |v| format!("`package.metadata.pforge.{key}` is `{v}`, not a version"),
                );
                format!(
                    "{}: {what}, so pforge cannot tell whether this {running} is older than \
                     the one that built this crate; nothing was written.\nBuilding it would \
                     change:",
                    location(at)
                )
            }
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
            "\nRun `pforge build --force` to build with pforge {} anyway",
            self.running.pforge
        ));
        if let Refusal::Newer { recorded, .. } = &self.refusal {
            text.push_str(&format!(", or use pforge {} or newer", recorded.pforge));
        }
        text.push('.');
        text
    }
}

fn location(at: &At) -> String {
    format!("{}:{}:{}", at.path.display(), at.line, at.column)
}

/// Whether building the crate at `root` with this pforge (`running`) would go back to an
/// older pforge or runtime. A missing Cargo.toml, table or pair of keys means no record (a
/// new crate, or one from before records), and so no refusal; a Cargo.toml that does not
/// parse is left to the merge. Versions compare by precedence, so build metadata
/// (`0.2.0+x`) makes no version newer.
pub fn check(root: &Path, running: &Record) -> Result<(), Refusal> {
    let path = root.join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let Ok(doc) = toml_edit::Document::parse(text.as_str()) else {
        return Ok(());
    };
    let table = doc
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("pforge"));
    let value = |key: &str| {
        let value = table?.get(key)?.as_value()?;
        Some(located(&path, &text, value))
    };
    let (pforge, runtime) = match (value(KEYS[0]), value(KEYS[1])) {
        (None, None) => return Ok(()),
        (Some(pforge), Some(runtime)) => (pforge, runtime),
        (Some((at, _)), None) | (None, Some((at, _))) => {
            let key = if value(KEYS[0]).is_none() {
                KEYS[0]
            } else {
                KEYS[1]
            };
            return Err(Refusal::Unreadable {
                at,
                key,
                value: None,
            });
        }
    };
    let newer = |(at, have): &(At, String), key, running: &str| {
        let parsed = semver::Version::parse(have.trim()).map_err(|_| Refusal::Unreadable {
            at: at.clone(),
            key,
            value: Some(have.clone()),
        })?;
        // The running versions are checked at compile time; one that is not a version
        // cannot be compared and so refuses nothing.
        let running = semver::Version::parse(running).ok();
        Ok(running.is_some_and(|r| parsed.cmp_precedence(&r).is_gt()))
    };
    let pforge_newer = newer(&pforge, KEYS[0], &running.pforge)?;
    let runtime_newer = newer(&runtime, KEYS[1], &running.runtime)?;
    if !pforge_newer && !runtime_newer {
        return Ok(());
    }
    let at = if pforge_newer { &pforge.0 } else { &runtime.0 };
    Err(Refusal::Newer {
        at: at.clone(),
        recorded: Record {
            pforge: pforge.1,
            runtime: runtime.1,
        },
    })
}

/// Where `value` is in `text`, and the value as written: a value that is not a string is
/// given as written, so that it is reported rather than ignored.
fn located(path: &Path, text: &str, value: &toml_edit::Value) -> (At, String) {
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
    let at = At {
        path: path.to_owned(),
        line,
        column,
    };
    (at, version)
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
        let running = Record {
            pforge: running.to_owned(),
            runtime: "0.3.0".to_owned(),
        };
        check(dir.path(), &running).map_err(|refusal| match refusal {
            Refusal::Newer { at, recorded } => Refusal::Newer {
                at: At {
                    path: PathBuf::new(),
                    ..at
                },
                recorded,
            },
            Refusal::Unreadable { at, key, value } => Refusal::Unreadable {
                at: At {
                    path: PathBuf::new(),
                    ..at
                },
                key,
                value,
            },
        })
    }

    fn record(version: &str, runtime: &str) -> String {
        format!(
            "[package]\nname = \"x\"\n\n[package.metadata.pforge]\nversion = {version}\nruntime-version = {runtime}\n"
        )
    }

    fn at(line: usize, column: usize) -> At {
        At {
            path: PathBuf::new(),
            line,
            column,
        }
    }

    fn newer(line: usize, column: usize, pforge: &str, runtime: &str) -> Result<(), Refusal> {
        Err(Refusal::Newer {
            at: at(line, column),
            recorded: Record {
                pforge: pforge.to_owned(),
                runtime: runtime.to_owned(),
            },
        })
    }

    #[test]
    fn only_a_newer_pforge_or_runtime_refuses() {
        let ok = "\"0.3.0\"";
        assert_eq!(
            check_text(&record("\"0.2.0\"", ok), "0.1.0"),
            newer(5, 11, "0.2.0", "0.3.0")
        );
        assert_eq!(
            check_text(&record("\"0.1.0\"", ok), "0.1.0-rc.1"),
            newer(5, 11, "0.1.0", "0.3.0")
        );
        assert_eq!(
            check_text(&record("\"0.1.0\"", "\"0.3.1\""), "0.1.0"),
            newer(6, 19, "0.1.0", "0.3.1")
        );
        assert_eq!(check_text(&record("\"0.1.0\"", ok), "0.1.0"), Ok(()));
        assert_eq!(
            check_text(&record("\"0.0.9\"", "\"0.2.9\""), "0.1.0"),
            Ok(())
        );
        assert_eq!(check_text(&record("\"0.2.0-rc.1\"", ok), "0.2.0"), Ok(()));
        // Build metadata has no precedence.
        assert_eq!(
            check_text(&record("\"0.2.0+x\"", "\"0.3.0+y\""), "0.2.0"),
            Ok(())
        );
        assert_eq!(check_text("[package]\nname = \"x\"\n", "0.1.0"), Ok(()));
        assert_eq!(check_text("not toml [", "0.1.0"), Ok(()));
    }

    #[test]
    fn an_invalid_or_lone_value_is_unreadable() {
        let unreadable = |line, column, key, value: Option<&str>| {
            Err(Refusal::Unreadable {
                at: at(line, column),
                key,
                value: value.map(str::to_owned),
            })
        };
        let ok = "\"0.1.0\"";
        assert_eq!(
            check_text(&record("\"soon\"", ok), "0.1.0"),
            unreadable(5, 11, "version", Some("soon"))
        );
        assert_eq!(
            check_text(&record("3", ok), "0.1.0"),
            unreadable(5, 11, "version", Some("3"))
        );
        assert_eq!(
            check_text(&record(ok, "\"later\""), "0.1.0"),
            unreadable(6, 19, "runtime-version", Some("later"))
        );
        let only =
            |line: &str| format!("[package]\nname = \"x\"\n[package.metadata.pforge]\n{line}\n");
        assert_eq!(
            check_text(&only("version = \"0.1.0\""), "0.1.0"),
            unreadable(4, 11, "runtime-version", None)
        );
        assert_eq!(
            check_text(&only("runtime-version = \"0.1.0\""), "0.1.0"),
            unreadable(4, 19, "version", None)
        );
    }

    #[test]
    fn the_refusal_names_both_versions_recorded_and_running() {
        let refused = Refused {
            refusal: Refusal::Newer {
                at: at(5, 11),
                recorded: Record {
                    pforge: "0.2.0".to_owned(),
                    runtime: "0.4.0".to_owned(),
                },
            },
            running: Record {
                pforge: "0.1.0".to_owned(),
                runtime: "0.3.0".to_owned(),
            },
            changes: Vec::new(),
        };
        let text = refused.to_string();
        assert!(
            text.contains(
                "built by pforge 0.2.0 (runtime 0.4.0), newer than this pforge 0.1.0 \
                 (runtime 0.3.0)"
            ),
            "{text}"
        );
    }
}
