//! A project on disk: forge.yaml and the crate generated beside it.

use std::path::{Path, PathBuf};

use crate::emit::{self, EmitError};
use crate::emit::{GeneratedFile, Ownership};
use crate::load::{Loaded, load_bytes};
use crate::write::rustfmt::{self, Formatting};
use crate::write::{self, Outcome, WriteError, record, stamp};

/// Why generating a project failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// forge.yaml could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// forge.yaml has errors; the diagnostics say which.
    #[error("{} is invalid", .0.source.name())]
    Invalid(Box<Loaded>),
    /// The generator failed.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Cargo.toml records a newer pforge or runtime than this one, or an unreadable record.
    #[error(transparent)]
    Downgrade(#[from] Box<record::Refused>),
}

/// Whether a build may replace what a newer pforge generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Downgrade {
    /// Refuse when Cargo.toml records a newer pforge or runtime, or an unreadable record.
    #[default]
    Refuse,
    /// Build anyway (`--force`).
    Allow,
}

/// Loads forge.yaml and renders every file of its project, formatted with rustfmt when it can
/// run (see [`Formatting`]), writing nothing.
pub fn render(manifest: &Path) -> Result<(Loaded, Vec<GeneratedFile>, Formatting), ProjectError> {
    let bytes = read(manifest)?;
    let formatter = rustfmt::Formatter::of(&root_of(manifest));
    let rendered = render_bytes(manifest, &bytes, &formatter, rustfmt::Cache::ReadOnly)?;
    Ok((rendered.loaded, rendered.files, rendered.formatting))
}

/// A project rendered in memory.
struct Rendered {
    loaded: Loaded,
    plan: crate::plan::Plan,
    files: Vec<GeneratedFile>,
    formatting: Formatting,
}

fn read(manifest: &Path) -> Result<Vec<u8>, ProjectError> {
    std::fs::read(manifest).map_err(|source| ProjectError::Read {
        path: manifest.to_owned(),
        source,
    })
}

fn render_bytes(
    manifest: &Path,
    bytes: &[u8],
    formatter: &Result<rustfmt::Formatter, String>,
    cache: rustfmt::Cache,
) -> Result<Rendered, ProjectError> {
    let timer = Timer::start();
    let loaded = load_bytes(&manifest.display().to_string(), bytes);
    let Some(config) = loaded.config.as_ref() else {
        return Err(ProjectError::Invalid(Box::new(loaded)));
    };
    timer.lap("load");
    let plan = crate::plan::plan(config);
    timer.lap("plan");
    let mut files = emit::generate(&plan)?;
    files.push(schema_file());
    timer.lap("emit");
    let formatting = rustfmt::format(&root_of(manifest), &mut files, formatter, cache);
    timer.lap("rustfmt");
    Ok(Rendered {
        loaded,
        plan,
        files,
        formatting,
    })
}

/// The project's copy of the schema, for the editor modeline of forge.yaml. It is the
/// language's, not the plan's, so it is made here rather than by emit; JSON has no comments,
/// so the `@generated` line is a `$comment`.
fn schema_file() -> GeneratedFile {
    let mut copy = serde_json::Map::new();
    copy.insert(
        "$comment".into(),
        emit::generated_header().trim_start_matches("// ").into(),
    );
    if let serde_json::Value::Object(schema) = crate::schema::forge_schema() {
        copy.extend(schema);
    }
    let mut contents = serde_json::to_string_pretty(&copy).unwrap_or_default();
    contents.push('\n');
    GeneratedFile {
        path: PathBuf::from("forge.schema.json"),
        contents,
        ownership: Ownership::Generated,
    }
}

/// Phase times on stderr when `PFORGE_TIMINGS` is set, for finding where a large build spends
/// its time.
struct Timer(Option<std::cell::Cell<std::time::Instant>>);

impl Timer {
    fn start() -> Self {
        Self(
            std::env::var_os("PFORGE_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }

    fn lap(&self, phase: &str) {
        if let Some(since) = &self.0 {
            let now = std::time::Instant::now();
            eprintln!("pforge: {phase}: {} ms", (now - since.get()).as_millis());
            since.set(now);
        }
    }
}

/// The directory a manifest's crate lives in.
pub fn root_of(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// What generating (or checking) did.
#[derive(Debug)]
pub struct Generated {
    /// The loaded config and its diagnostics (warnings only: errors stop before this).
    pub loaded: Loaded,
    /// What happened (or, checking, would happen) to each file.
    pub outcomes: Vec<(PathBuf, Outcome)>,
    /// Whether rustfmt formatted the Rust files.
    pub formatting: Formatting,
    /// Handlers the plan needs that the user's existing files do not define; pforge never
    /// edits those files, so the build shows what to add.
    pub missing: Vec<emit::HandlerStub>,
}

/// Generates the project of `manifest` into its directory. When the project is exactly as the
/// last build with the same forge.yaml, pforge and rustfmt left it, nothing is rendered (see
/// [`stamp`]). A crate that a newer pforge built is refused (see [`generate_with`]).
pub fn generate(manifest: &Path) -> Result<Generated, ProjectError> {
    generate_with(manifest, Downgrade::Refuse)
}

/// [`generate`], refusing or allowing a build by an older pforge than Cargo.toml records.
pub fn generate_with(manifest: &Path, downgrade: Downgrade) -> Result<Generated, ProjectError> {
    // Before the stamp: a build the stamp would skip is refused all the same.
    refuse_downgrade(manifest, downgrade)?;
    let bytes = read(manifest)?;
    let root = root_of(manifest);
    let formatter = rustfmt::Formatter::of(&root);
    let key = formatter
        .as_ref()
        .ok()
        .map(|f| stamp::key(&bytes, f.identity()));
    if let Some(unchanged) = key.as_deref().and_then(|key| stamp::unchanged(&root, key)) {
        let loaded = load_bytes(&manifest.display().to_string(), &bytes);
        if loaded.config.is_some() {
            return Ok(Generated {
                loaded,
                outcomes: unchanged,
                formatting: Formatting::Done,
                missing: Vec::new(),
            });
        }
    }
    let rendered = render_bytes(manifest, &bytes, &formatter, rustfmt::Cache::Update)?;
    let timer = Timer::start();
    let outcomes = write::write_files(&root, &rendered.files)?;
    timer.lap("write");
    let missing = missing_handlers(&rendered.plan, &root).unwrap_or_default();
    // Only a build with nothing to report may be skipped next time.
    match key {
        Some(key) if missing.is_empty() && rendered.formatting == Formatting::Done => {
            let files: Vec<(PathBuf, Ownership)> = rendered
                .files
                .iter()
                .map(|f| (f.path.clone(), f.ownership))
                .collect();
            stamp::record(&root, &key, &files);
        }
        _ => stamp::forget(&root),
    }
    Ok(Generated {
        loaded: rendered.loaded,
        outcomes,
        formatting: rendered.formatting,
        missing,
    })
}

/// The files generating would change, without writing anything; refused as [`generate`] is.
pub fn check(manifest: &Path) -> Result<Generated, ProjectError> {
    check_with(manifest, Downgrade::Refuse)
}

/// [`check`], refusing or allowing a build by an older pforge than Cargo.toml records.
pub fn check_with(manifest: &Path, downgrade: Downgrade) -> Result<Generated, ProjectError> {
    refuse_downgrade(manifest, downgrade)?;
    let (loaded, files, formatting) = render(manifest)?;
    let changes = write::pending_changes(&root_of(manifest), &files)?;
    Ok(Generated {
        loaded,
        outcomes: changes
            .into_iter()
            .map(|(path, outcome, _)| (path, outcome))
            .collect(),
        formatting,
        missing: Vec::new(),
    })
}

/// The refusal of a build by an older pforge than the crate's Cargo.toml records, listing
/// what the build would change.
fn refuse_downgrade(manifest: &Path, downgrade: Downgrade) -> Result<(), ProjectError> {
    if downgrade == Downgrade::Allow {
        return Ok(());
    }
    let running = record::Record {
        pforge: emit::versions::PFORGE.to_owned(),
        runtime: emit::versions::runtime().to_owned(),
    };
    let Err(refusal) = record::check(&root_of(manifest), &running) else {
        return Ok(());
    };
    let changes = check_with(manifest, Downgrade::Allow)?
        .outcomes
        .into_iter()
        .filter(|(_, o)| matches!(o, Outcome::Created | Outcome::Updated))
        .collect();
    Err(Box::new(record::Refused {
        refusal,
        running,
        changes,
    })
    .into())
}

/// Starter configs for `pforge new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// One native handler and one command.
    Minimal,
    /// The reference chapter's complete example.
    ResilientApi,
    /// Two native steps chained by a pipeline.
    Pipeline,
}

impl Template {
    /// Every template, in `--help` order.
    pub const ALL: [Self; 3] = [Self::Minimal, Self::ResilientApi, Self::Pipeline];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::ResilientApi => "resilient-api",
            Self::Pipeline => "pipeline",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::Minimal => include_str!("../templates/new/minimal.yaml.j2"),
            Self::ResilientApi => include_str!("../templates/new/resilient-api.yaml.j2"),
            Self::Pipeline => include_str!("../templates/new/pipeline.yaml.j2"),
        }
    }

    /// The forge.yaml of a new project named `name`.
    pub fn render(self, name: &str) -> Result<String, EmitError> {
        let mut env = minijinja::Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| EmitError::Template {
                name: self.name().to_owned(),
                message: e.to_string(),
            })?;
        env.set_syntax(syntax);
        env.render_str(self.source(), minijinja::context! { name => name })
            .map_err(|e| EmitError::Template {
                name: self.name().to_owned(),
                message: e.to_string(),
            })
    }
}

/// Why `pforge new` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The target exists and is not empty.
    #[error("{0} already exists and is not empty; pick another name or remove it")]
    Exists(PathBuf),
    /// The name makes an invalid forge.yaml (the diagnostics say why).
    #[error("`{0}` cannot name a server")]
    InvalidName(String, Box<Loaded>),
    /// Generating failed.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The project could not be moved into place.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Creates `target` (a new directory named after the server) holding forge.yaml and the
/// generated project. Everything is generated in a temporary sibling directory first and moved
/// into place at the end, so a failure leaves nothing behind.
pub fn create(target: &Path, template: Template) -> Result<PathBuf, NewError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let occupied = std::fs::read_dir(target)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if occupied || target.is_file() {
        return Err(NewError::Exists(target.to_owned()));
    }
    let yaml = template.render(&name).map_err(ProjectError::from)?;
    let loaded = crate::load::load_str("forge.yaml", &yaml);
    if loaded.has_errors() {
        return Err(NewError::InvalidName(name, Box::new(loaded)));
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| NewError::Io { path, source }
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".pforge-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let manifest = staging.path().join("forge.yaml");
    std::fs::write(&manifest, &yaml).map_err(io(&manifest))?;
    generate(&manifest)?;
    // An empty directory of that name may exist; rename replaces it.
    if target.exists() {
        std::fs::remove_dir(target).map_err(io(target))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, target).map_err(io(target))?;
    Ok(target.join("forge.yaml"))
}

/// Handlers the plan needs whose user-owned file exists but does not define them: pforge
/// never edits those files, so the build shows the stub to add instead.
pub fn missing_handlers(
    plan: &crate::plan::Plan,
    root: &Path,
) -> Result<Vec<emit::HandlerStub>, EmitError> {
    let stubs = emit::handler_stubs(plan)?;
    Ok(stubs
        .into_iter()
        .filter(|stub| {
            std::fs::read_to_string(root.join(&stub.path)).is_ok_and(|text| {
                match &stub.implements_for {
                    None => !defines(&text, &stub.name),
                    // Only when the type is there: otherwise its whole stub is shown.
                    Some(input) => {
                        let owner = stub.name.rsplit(' ').next().unwrap_or_default();
                        defines(&text, owner) && !text.contains(input.as_str())
                    }
                }
            })
        })
        .collect())
}

/// Whether Rust source defines a function or type named `name` (a textual check: enough to
/// notice an item that was never written, without parsing the user's code). A keyword name
/// is written as a raw identifier (`fn r#gen`).
fn defines(text: &str, name: &str) -> bool {
    ["fn", "struct", "enum", "type", "use"]
        .iter()
        .any(|keyword| {
            text.match_indices(name).any(|(at, _)| {
                let before = &text[..at];
                let before = before.strip_suffix("r#").unwrap_or(before).trim_end();
                let after = text[at + name.len()..].chars().next();
                let whole = !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
                whole
                    && (before.ends_with(keyword) || (*keyword == "use" && before.ends_with("::")))
            })
        })
}
