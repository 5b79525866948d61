//! Writing a generated project: everything is rendered in memory first; then only files whose
//! contents changed are written, each atomically (temporary file + rename), and a user-owned
//! file that exists is never overwritten.

mod manifest;
pub mod record;
pub mod rustfmt;
pub mod stamp;

pub use manifest::merge_manifest;

use std::io::Write;
use std::path::{Path, PathBuf};

// The file type is emit's (emit produces files, write writes them); it is re-exported here
// for the callers that only write.
pub use crate::emit::{GeneratedFile, Ownership};

/// What writing did (or, with [`pending_changes`], would do) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file did not exist.
    Created,
    /// The file existed with other contents.
    Updated,
    /// The file already had these contents (its mtime is kept).
    Unchanged,
    /// A user-owned file that exists; left alone.
    Kept,
}

/// A failure to write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The user's Cargo.toml could not be parsed.
    #[error("{path}: cannot add dependencies to a Cargo.toml that does not parse: {message}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The final contents each file should have, and what writing it would do.
pub fn pending_changes(
    root: &Path,
    files: &[GeneratedFile],
) -> Result<Vec<(PathBuf, Outcome, Option<String>)>, WriteError> {
    files
        .iter()
        .map(|file| {
            let target = root.join(&file.path);
            let existing = match std::fs::read(&target) {
                Ok(bytes) => Some(bytes),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => return Err(io(&target)(error)),
            };
            let wanted = match (file.ownership, &existing) {
                (Ownership::User, Some(_)) => return Ok((file.path.clone(), Outcome::Kept, None)),
                (Ownership::Manifest, Some(bytes)) => {
                    let text = String::from_utf8_lossy(bytes);
                    merge_manifest(&text, &file.contents).map_err(|message| {
                        WriteError::Manifest {
                            path: target.clone(),
                            message,
                        }
                    })?
                }
                _ => file.contents.clone(),
            };
            Ok(match existing {
                None => (file.path.clone(), Outcome::Created, Some(wanted)),
                Some(bytes) if bytes == wanted.as_bytes() => {
                    (file.path.clone(), Outcome::Unchanged, None)
                }
                Some(_) => (file.path.clone(), Outcome::Updated, Some(wanted)),
            })
        })
        .collect()
}

/// Writes the files under `root`: first every changed file to a temporary sibling, then all
/// renames, so a failure while staging leaves the project as it was.
pub fn write_files(
    root: &Path,
    files: &[GeneratedFile],
) -> Result<Vec<(PathBuf, Outcome)>, WriteError> {
    let changes = pending_changes(root, files)?;
    let mut staged: Vec<(PathBuf, tempfile::NamedTempFile)> = Vec::new();
    for (path, _, contents) in &changes {
        let Some(contents) = contents else { continue };
        let target = root.join(path);
        let dir = target.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".pforge-")
            .tempfile_in(dir)
            .map_err(io(dir))?;
        temp.write_all(contents.as_bytes()).map_err(io(&target))?;
        set_permissions(temp.as_file(), &target).map_err(io(&target))?;
        staged.push((target, temp));
    }
    for (target, temp) in staged {
        temp.persist(&target).map_err(|e| WriteError::Io {
            path: target.clone(),
            source: e.error,
        })?;
    }
    Ok(changes
        .into_iter()
        .map(|(path, outcome, _)| (path, outcome))
        .collect())
}

/// Temporary files are created private (0600); the written file gets the mode the file it
/// replaces had, or the usual 0644 for a new one.
#[cfg(unix)]
fn set_permissions(file: &std::fs::File, target: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(target).map_or(0o644, |m| m.permissions().mode());
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_permissions(_: &std::fs::File, _: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str, ownership: Ownership) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
            ownership,
        }
    }

    #[test]
    fn a_failure_while_staging_writes_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        // `blocked` is a file, so nothing can be created below it.
        std::fs::write(dir.path().join("blocked"), "")?;
        let files = vec![
            file("src/first.rs", "first", Ownership::Generated),
            file("blocked/second.rs", "second", Ownership::Generated),
        ];
        assert!(write_files(dir.path(), &files).is_err());
        assert!(!dir.path().join("src/first.rs").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("src"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        Ok(())
    }

    #[test]
    fn writes_only_what_changed_and_keeps_user_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = vec![
            file("src/a.rs", "a", Ownership::Generated),
            file("src/handlers/h.rs", "stub", Ownership::User),
        ];
        let first = write_files(dir.path(), &files)?;
        assert!(first.iter().all(|(_, o)| *o == Outcome::Created));
        std::fs::write(dir.path().join("src/handlers/h.rs"), "mine")?;
        let again = write_files(dir.path(), &files)?;
        assert_eq!(
            again.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
            [Outcome::Unchanged, Outcome::Kept]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/handlers/h.rs"))?,
            "mine"
        );
        let changed = vec![file("src/a.rs", "b", Ownership::Generated)];
        assert_eq!(write_files(dir.path(), &changed)?[0].1, Outcome::Updated);
        assert_eq!(std::fs::read_to_string(dir.path().join("src/a.rs"))?, "b");
        let leftovers = std::fs::read_dir(dir.path().join("src"))?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".pforge-"))
            .count();
        assert_eq!(leftovers, 0);
        Ok(())
    }
}
