//! A project on disk: forge.yaml and the crate generated beside it.

use std::path::{Path, PathBuf};

use crate::emit::{self, EmitError};
use crate::load::{Loaded, load_bytes};
use crate::write::{self, GeneratedFile, Outcome, WriteError};

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
}

/// Loads forge.yaml and renders every file of its project, writing nothing.
pub fn render(manifest: &Path) -> Result<(Loaded, Vec<GeneratedFile>), ProjectError> {
    let bytes = std::fs::read(manifest).map_err(|source| ProjectError::Read {
        path: manifest.to_owned(),
        source,
    })?;
    let loaded = load_bytes(&manifest.display().to_string(), &bytes);
    let Some(config) = loaded.config.as_ref() else {
        return Err(ProjectError::Invalid(Box::new(loaded)));
    };
    let plan = crate::plan::plan(config);
    let files = emit::generate(&plan)?;
    Ok((loaded, files))
}

/// The directory a manifest's crate lives in.
pub fn root_of(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Generates the project of `manifest` into its directory.
pub fn generate(manifest: &Path) -> Result<(Loaded, Vec<(PathBuf, Outcome)>), ProjectError> {
    let (loaded, files) = render(manifest)?;
    let outcomes = write::write_files(&root_of(manifest), &files)?;
    Ok((loaded, outcomes))
}

/// The files generating would change, without writing anything.
pub fn check(manifest: &Path) -> Result<(Loaded, Vec<(PathBuf, Outcome)>), ProjectError> {
    let (loaded, files) = render(manifest)?;
    let changes = write::pending_changes(&root_of(manifest), &files)?;
    Ok((
        loaded,
        changes
            .into_iter()
            .map(|(path, outcome, _)| (path, outcome))
            .collect(),
    ))
}

/// Parts of a config the generator accepts but does not turn into code yet, to be said
/// aloud at every build instead of being dropped silently.
pub fn not_generated_yet(plan: &crate::plan::Plan) -> Vec<String> {
    let mut notes = Vec::new();
    if !plan.resources.is_empty() {
        notes.push("resources are not served yet".to_owned());
    }
    if !plan.prompts.is_empty() {
        notes.push("prompts are not served yet".to_owned());
    }
    if plan.state.is_some() {
        notes.push("`state` is not generated yet".to_owned());
    }
    if matches!(plan.transport, crate::plan::TransportPlan::Http(_)) {
        notes.push("`transport: http` is not generated yet; the server speaks stdio".to_owned());
    }
    let protected: Vec<&str> = plan
        .tools
        .iter()
        .filter(|t| !t.policy.is_empty())
        .map(|t| t.name.as_str())
        .collect();
    if !protected.is_empty() {
        notes.push(format!(
            "timeouts, retries, circuit breakers, bulkheads and fallbacks are not generated yet (tools: {})",
            protected.join(", ")
        ));
    }
    notes
}
