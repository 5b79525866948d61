//! Deserializing the parts of a document that passed the schema, so that semantic checks can
//! run even when some other part is wrong.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::report::{Reporter, Target};
use crate::config::{Config, FaultTolerance, Forge, Middleware, Prompt, Resource, State, Tool};

/// The sections of a document that could be read, with their indices.
#[derive(Debug, Default)]
pub struct Sections {
    /// The whole document, kept to build the final [`Config`].
    document: Value,
    /// `forge`, if valid.
    pub forge: Option<Forge>,
    /// `fault_tolerance`, if written and valid.
    pub fault_tolerance: Option<FaultTolerance>,
    /// `middleware` entries that are valid, by index.
    pub middleware: Vec<(usize, Middleware)>,
    /// Tools that are valid, by index.
    pub tools: Vec<(usize, Tool)>,
    /// Resources that are valid, by index.
    pub resources: Vec<(usize, Resource)>,
    /// Prompts that are valid, by index.
    pub prompts: Vec<(usize, Prompt)>,
}

impl Sections {
    /// Reads every section free of schema errors.
    pub fn deserialize(document: &Value, reporter: &mut Reporter<'_>) -> Self {
        // No semantic check needs `state`; it is read for the values the schema accepts and
        // serde cannot hold (`ttl_seconds: 1e3`), which would otherwise go unreported.
        let _: Option<State> = take(document, "/state", reporter);
        Self {
            document: document.clone(),
            forge: take(document, "/forge", reporter),
            fault_tolerance: take(document, "/fault_tolerance", reporter),
            middleware: take_each(document, "/middleware", reporter),
            tools: take_each(document, "/tools", reporter),
            resources: take_each(document, "/resources", reporter),
            prompts: take_each(document, "/prompts", reporter),
        }
    }

    /// The document as JSON.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The typed config of a document without errors. Every section was read above, so this
    /// fails only if a section was missed there; then the failure is still reported where
    /// serde stopped, never a refusal without a diagnostic.
    pub fn into_config(self, reporter: &mut Reporter<'_>) -> Option<Config> {
        serde_path_to_error::deserialize(&self.document)
            .map_err(|error| report(error, "", reporter))
            .ok()
    }
}

fn take<T: DeserializeOwned>(
    document: &Value,
    pointer: &str,
    reporter: &mut Reporter<'_>,
) -> Option<T> {
    let value = document.pointer(pointer)?;
    if reporter.has_error_under(pointer) {
        // The schema already explained what is wrong here. The section may still be readable
        // (an unknown key, say, does not stop serde), and then its semantic checks run too, so
        // one run reports as much as it can.
        return serde_json::from_value(value.clone()).ok();
    }
    match serde_path_to_error::deserialize(value) {
        Ok(typed) => Some(typed),
        Err(error) => {
            // The schema accepts a few values serde cannot hold (say, an integer above
            // u32::MAX); report them where they are.
            report(error, pointer, reporter);
            None
        }
    }
}

/// Reports a serde error of the section at `pointer` at the value where serde stopped.
fn report(
    error: serde_path_to_error::Error<serde_json::Error>,
    pointer: &str,
    reporter: &mut Reporter<'_>,
) {
    let at = format!("{pointer}{}", pointer_of(error.path()));
    let message = error.into_inner().to_string();
    reporter
        .error(&at, Target::Value, format!("invalid value: {message}"))
        .emit();
}

fn take_each<T: DeserializeOwned>(
    document: &Value,
    pointer: &str,
    reporter: &mut Reporter<'_>,
) -> Vec<(usize, T)> {
    let count = document
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    (0..count)
        .filter_map(|i| take(document, &format!("{pointer}/{i}"), reporter).map(|t| (i, t)))
        .collect()
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", super::schema_check::escape(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}
