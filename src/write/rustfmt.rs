//! Formatting rendered Rust with the toolchain's `rustfmt`, so that a generated crate passes
//! `cargo fmt --check` as it is written. `prettyplease` (in emit) already prints valid, readable
//! code; rustfmt makes it exactly what `cargo fmt` would write.
//!
//! Unchanged files are not formatted again: a cache beside the project's build output maps the
//! hash of each file as emit printed it to the hash of its formatted text, and when the file on
//! disk still has that hash, it is taken as it is.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::GeneratedFile;

/// Where the cache lives, under the project root (`target/` is git-ignored).
const CACHE: &str = "target/pforge/rustfmt-cache";

/// Where rustfmt's scratch directories go while a build formats, under the project root.
const SCRATCH: &str = "target/pforge";

/// How formatting went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Formatting {
    /// Every Rust file is as rustfmt writes it.
    Done,
    /// rustfmt could not run; files stay as pforge printed them. The text says why.
    Skipped(String),
}

/// Whether formatting may write its cache (`build --check` and rendering write nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Read the cache, never write it.
    ReadOnly,
    /// Read the cache and write this run's entries.
    Update,
}

/// The formatter of a project: the `rustfmt` of `$RUSTFMT` or `PATH`, and the project's
/// settings. Formatted text depends on nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatter {
    program: std::ffi::OsString,
    config: String,
    /// rustfmt's version and a hash of the settings: what caches are keyed by.
    identity: String,
}

impl Formatter {
    /// The formatter of the project at `root`, or why rustfmt cannot run.
    pub fn of(root: &Path) -> Result<Self, String> {
        let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
        let version = match Command::new(&program).arg("--version").output() {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            Ok(out) => return Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(error) => return Err(format!("cannot run rustfmt: {error}")),
        };
        let config = project_config(root);
        let identity = format!("{version} config {:016x}", hash(&config));
        Ok(Self {
            program,
            config,
            identity,
        })
    }

    /// rustfmt's version and a hash of the project's settings.
    pub fn identity(&self) -> &str {
        &self.identity
    }
}

/// Formats every `.rs` file of `files` in place with `formatter` (or says why it could not),
/// using the cache of the project at `root`.
pub fn format(
    root: &Path,
    files: &mut [GeneratedFile],
    formatter: &Result<Formatter, String>,
    cache_mode: Cache,
) -> Formatting {
    let formatter = match formatter {
        Ok(formatter) => formatter,
        Err(reason) => return Formatting::Skipped(reason.clone()),
    };
    let (program, config) = (&formatter.program, &formatter.config);
    // The cache is only good for the same rustfmt with the same settings.
    let version = &formatter.identity;
    let cache_path = root.join(CACHE);
    let cache = read_cache(&cache_path, version);
    // The entries of this run only, so that the cache never grows past the project's files.
    let mut current: HashMap<u64, u64> = HashMap::new();
    let mut pending: Vec<usize> = Vec::new();
    for (index, file) in files.iter_mut().enumerate() {
        let path = root.join(&file.path);
        // A user file that exists is never written, so it needs no formatting.
        if file.path.extension().is_none_or(|e| e != "rs")
            || (file.ownership == super::Ownership::User && path.exists())
        {
            continue;
        }
        let printed = hash(&file.contents);
        let on_disk = std::fs::read_to_string(&path).ok();
        match (cache.get(&printed), on_disk) {
            (Some(&formatted), Some(text)) if hash(&text) == formatted => {
                current.insert(printed, formatted);
                file.contents = text;
            }
            _ => pending.push(index),
        }
    }
    if pending.is_empty() {
        if cache_mode == Cache::Update {
            write_cache(&cache_path, version, &current);
        }
        return Formatting::Done;
    }
    let printed: Vec<u64> = pending.iter().map(|&i| hash(&files[i].contents)).collect();
    let texts: Vec<&str> = pending
        .iter()
        .map(|&i| files[i].contents.as_str())
        .collect();
    let near = (cache_mode == Cache::Update).then(|| root.join(SCRATCH));
    let formatted = match run(program, config, &texts, near.as_deref()) {
        Ok(formatted) => formatted,
        Err(reason) => return Formatting::Skipped(reason),
    };
    for ((index, text), printed) in pending.into_iter().zip(formatted).zip(printed) {
        // A user file is formatted once, when it is created; it needs no cache entry.
        if files[index].ownership != super::Ownership::User {
            current.insert(printed, hash(&text));
        }
        files[index].contents = text;
    }
    if cache_mode == Cache::Update {
        write_cache(&cache_path, version, &current);
    }
    Formatting::Done
}

/// Formats `texts` on every core: each worker takes a share of the text (balanced by size),
/// writes its files to a scratch directory, formats them with one rustfmt process and reads
/// them back. A file that declares out-of-line modules goes through standard input instead,
/// where rustfmt does not look for the modules' files (in the scratch directory they would be
/// missing).
fn run(
    program: &std::ffi::OsStr,
    config: &str,
    texts: &[&str],
    near: Option<&Path>,
) -> Result<Vec<String>, String> {
    let scratch = scratch_dir(near).map_err(|e| format!("no scratch directory: {e}"))?;
    // The project's settings and nothing else: rustfmt looks for its config in the directory
    // of a file, or the working directory for standard input, and then in their parents.
    std::fs::write(scratch.path().join("rustfmt.toml"), config)
        .map_err(|e| format!("cannot write to the scratch directory: {e}"))?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let shares = shares(texts, cores);
    let scratch = scratch.path();
    let done: Vec<Result<Vec<(usize, String)>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .iter()
            .map(|share| scope.spawn(move || format_share(program, scratch, texts, share)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a rustfmt thread panicked".into()))
            })
            .collect()
    });
    let mut out: Vec<String> = vec![String::new(); texts.len()];
    for share in done {
        for (index, text) in share? {
            out[index] = text;
        }
    }
    Ok(out)
}

/// A scratch directory beside the project's build output when pforge may write there (the
/// same filesystem as the project, and not the system's temporary directory, which is much
/// slower to create files in on some machines), else in the temporary directory.
fn scratch_dir(near: Option<&Path>) -> std::io::Result<tempfile::TempDir> {
    if let Some(dir) = near
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(scratch) = tempfile::Builder::new().prefix("rustfmt-").tempdir_in(dir)
    {
        return Ok(scratch);
    }
    tempfile::tempdir()
}

/// The indices of `texts` split into `workers` shares of about the same size, largest first.
fn shares(texts: &[&str], workers: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
    let mut shares: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); workers.max(1)];
    for index in order {
        if let Some(lightest) = shares.iter_mut().min_by_key(|(size, _)| *size) {
            lightest.0 += texts[index].len();
            lightest.1.push(index);
        }
    }
    shares
        .into_iter()
        .map(|(_, share)| share)
        .filter(|share| !share.is_empty())
        .collect()
}

/// Formats one worker's share of `texts`: files that declare modules one by one through
/// standard input, the others together in the scratch directory.
fn format_share(
    program: &std::ffi::OsStr,
    scratch: &Path,
    texts: &[&str],
    share: &[usize],
) -> Result<Vec<(usize, String)>, String> {
    let (parents, leaves): (Vec<usize>, Vec<usize>) =
        share.iter().partition(|&&i| declares_modules(texts[i]));
    let mut out = Vec::with_capacity(share.len());
    if !leaves.is_empty() {
        let paths: Vec<PathBuf> = leaves
            .iter()
            .map(|i| scratch.join(format!("f{i}.rs")))
            .collect();
        for (path, &index) in paths.iter().zip(&leaves) {
            std::fs::write(path, texts[index])
                .map_err(|e| format!("cannot write to the scratch directory: {e}"))?;
        }
        run_one(program, &paths)?;
        for (path, index) in paths.iter().zip(leaves) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read rustfmt's output: {e}"))?;
            out.push((index, text));
        }
    }
    for index in parents {
        out.push((index, run_stdin(program, scratch, texts[index])?));
    }
    Ok(out)
}

/// Whether some line is `mod name;` (rustfmt would look for that module's file).
fn declares_modules(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        let line = line.strip_prefix("pub ").unwrap_or(line);
        line.starts_with("mod ") && line.ends_with(';')
    })
}

/// The project's rustfmt settings (`rustfmt.toml` or `.rustfmt.toml` beside forge.yaml), so
/// that the crate is formatted as `cargo fmt` there formats it; empty for rustfmt's defaults.
fn project_config(root: &Path) -> String {
    ["rustfmt.toml", ".rustfmt.toml"]
        .iter()
        .find_map(|name| std::fs::read_to_string(root.join(name)).ok())
        .unwrap_or_default()
}

fn run_stdin(program: &std::ffi::OsStr, scratch: &Path, text: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new(program)
        .current_dir(scratch)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("rustfmt has no standard input")?;
    let input = text.to_owned();
    // Written from another thread so that a large file cannot deadlock against stdout.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    let written = writer
        .join()
        .map_err(|_| "a rustfmt thread panicked".to_owned())?;
    written.map_err(|e| format!("cannot write to rustfmt: {e}"))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|e| format!("rustfmt wrote invalid UTF-8: {e}"))
    } else {
        Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn run_one(program: &std::ffi::OsStr, paths: &[PathBuf]) -> Result<(), String> {
    let out = Command::new(program)
        .args(["--edition", "2024", "--quiet"])
        .args(paths)
        .output()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A hash of `text` that is the same from run to run (the caches and the build stamp keep it).
pub fn hash(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// The cache, empty when it is missing, unreadable or from another rustfmt.
fn read_cache(path: &Path, version: &str) -> HashMap<u64, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    if lines.next() != Some(version) {
        return HashMap::new();
    }
    lines
        .filter_map(|line| {
            let (printed, formatted) = line.split_once(' ')?;
            Some((printed.parse().ok()?, formatted.parse().ok()?))
        })
        .collect()
}

/// Best effort: a cache that cannot be written only costs time on the next run.
fn write_cache(path: &Path, version: &str, cache: &HashMap<u64, u64>) {
    let mut entries: Vec<(&u64, &u64)> = cache.iter().collect();
    entries.sort();
    let mut text = format!("{version}\n");
    for (printed, formatted) in entries {
        text.push_str(&format!("{printed} {formatted}\n"));
    }
    // Rewriting an unchanged cache would touch the project on a build that changes nothing.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    if let Some(dir) = path.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = std::fs::write(path, text);
    }
}
