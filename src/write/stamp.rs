//! The record of the last build (`target/pforge/build-stamp`), so that a build with nothing
//! changed does nothing: no planning, no emitting, no rustfmt. The stamp holds a key (pforge's
//! version, forge.yaml's bytes, the formatter) and the hash of every file of the project as
//! the build left it, user files included. When the key matches and every file still has its
//! hash, a full build would write nothing and report nothing, so it is skipped. Anything else
//! (an edited generated file, a deleted stub, a new rustfmt, a `cargo clean`) means a full
//! build, which writes a new stamp.

use std::path::{Path, PathBuf};

use std::hash::{Hash, Hasher};

use super::{Outcome, Ownership};

/// Where the stamp lives, under the project root.
const STAMP: &str = "target/pforge/build-stamp";

fn hash(bytes: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The key of a build: what its output depends on besides the files it reads. pforge itself is
/// identified by its version and by its executable's size and time, so that a pforge rebuilt
/// from newer sources under the same version does not trust an older build.
pub fn key(manifest: &[u8], formatter: &str) -> String {
    let executable = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| format!("{} {:?}", m.len(), m.modified().ok()))
        .unwrap_or_default();
    let text = format!(
        "pforge {} {executable} formatter {formatter} manifest {}",
        env!("CARGO_PKG_VERSION"),
        hash(manifest)
    );
    hash(text.as_bytes())
}

/// What a build with `key` would do, when the project is exactly as the last build with that
/// key left it: every file unchanged (or kept, for the user's). `None` otherwise.
pub fn unchanged(root: &Path, key: &str) -> Option<Vec<(PathBuf, Outcome)>> {
    let text = std::fs::read_to_string(root.join(STAMP)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    // The last line counts the files, so that a stamp cut short is no stamp.
    let files: Vec<&str> = lines.collect();
    let (count, files) = files.split_last()?;
    if count.strip_prefix("files ")?.parse::<usize>().ok()? != files.len() {
        return None;
    }
    let mut outcomes = Vec::new();
    for line in files {
        let mut fields = line.splitn(3, ' ');
        let (recorded, owner, path) = (fields.next()?, fields.next()?, fields.next()?);
        let contents = std::fs::read(root.join(path)).ok()?;
        if hash(&contents) != recorded {
            return None;
        }
        let outcome = if owner == "user" {
            Outcome::Kept
        } else {
            Outcome::Unchanged
        };
        outcomes.push((PathBuf::from(path), outcome));
    }
    Some(outcomes)
}

/// Records the project as a build with `key` left it: `files` are the paths it rendered, with
/// their owners. Best effort: a stamp that cannot be written only costs the next build time.
pub fn record(root: &Path, key: &str, files: &[(PathBuf, Ownership)]) {
    let mut text = format!("{key}\n");
    for (path, ownership) in files {
        let Ok(contents) = std::fs::read(root.join(path)) else {
            return forget(root);
        };
        let owner = match ownership {
            Ownership::User => "user",
            Ownership::Generated | Ownership::Manifest => "pforge",
        };
        let path = path.to_string_lossy();
        if path.contains('\n') {
            return forget(root);
        }
        text.push_str(&format!("{} {owner} {path}\n", hash(&contents)));
    }
    text.push_str(&format!("files {}\n", files.len()));
    let stamp = root.join(STAMP);
    if std::fs::read_to_string(&stamp).is_ok_and(|old| old == text) {
        return;
    }
    // Written aside and renamed, so that a stamp is whole or absent.
    let written = stamp.parent().and_then(|dir| {
        std::fs::create_dir_all(dir).ok()?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).ok()?;
        std::io::Write::write_all(&mut temp, text.as_bytes()).ok()?;
        temp.persist(&stamp).ok()
    });
    if written.is_none() {
        forget(root);
    }
}

/// Removes the stamp, so that the next build is a full one.
pub fn forget(root: &Path) {
    let _ = std::fs::remove_file(root.join(STAMP));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_as_recorded_is_unchanged_and_any_edit_is_noticed()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(root.join("src/a.rs"), "a")?;
        std::fs::write(root.join("src/mine.rs"), "mine")?;
        let files = [
            (PathBuf::from("src/a.rs"), Ownership::Generated),
            (PathBuf::from("src/mine.rs"), Ownership::User),
        ];
        let key = key(b"forge: {}", "rustfmt 1");
        record(root, &key, &files);
        let outcomes = unchanged(root, &key).ok_or("not unchanged")?;
        assert_eq!(
            outcomes.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
            [Outcome::Unchanged, Outcome::Kept]
        );
        assert!(unchanged(root, &super::key(b"forge: {x}", "rustfmt 1")).is_none());
        assert!(unchanged(root, &super::key(b"forge: {}", "rustfmt 2")).is_none());
        std::fs::write(root.join("src/mine.rs"), "edited")?;
        assert!(unchanged(root, &key).is_none(), "a user file was edited");
        std::fs::write(root.join("src/mine.rs"), "mine")?;
        let stamp = std::fs::read_to_string(root.join(STAMP))?;
        let cut: String = stamp.lines().take(2).map(|l| format!("{l}\n")).collect();
        std::fs::write(root.join(STAMP), cut)?;
        assert!(unchanged(root, &key).is_none(), "a stamp cut short");
        record(root, &key, &files);
        assert!(unchanged(root, &key).is_some());
        std::fs::remove_file(root.join("src/a.rs"))?;
        assert!(
            unchanged(root, &key).is_none(),
            "a generated file was deleted"
        );
        forget(root);
        assert!(unchanged(root, &key).is_none());
        Ok(())
    }
}
