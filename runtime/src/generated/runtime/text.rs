//! `{{placeholder}}` filling for http and cli tools, prompts and pipeline steps, and the
//! helpers pipelines run their steps with.

use rmcp::model::JsonObject;
use serde_json::Value;

use super::ToolError;

/// The text a value stands for in a `{{placeholder}}`: strings as they are, anything
/// else as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A tool's arguments as the JSON object its placeholders are filled from.
pub fn values(input: &impl serde::Serialize) -> JsonObject {
    match serde_json::to_value(input) {
        Ok(Value::Object(values)) => values,
        _ => JsonObject::new(),
    }
}

/// Fills `{{name}}` placeholders from `values`, passing each through `encode`.
pub fn fill(template: &str, values: &JsonObject, encode: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                if let Some(value) = values.get(name) {
                    out.push_str(&encode(&text_of(value)));
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Fills the `{{var}}`s of a step's JSON arguments. A string that is exactly one
/// placeholder takes the variable's value with its type; other strings get its text.
pub fn fill_json(arguments: &str, variables: &JsonObject) -> JsonObject {
    fn walk(value: Value, variables: &JsonObject) -> Value {
        match value {
            Value::String(text) => {
                let trimmed = text.trim();
                let whole = trimmed
                    .strip_prefix("{{")
                    .and_then(|t| t.strip_suffix("}}"))
                    .map(str::trim)
                    .filter(|name| !name.contains("{{") && !name.contains("}}"));
                match whole.and_then(|name| variables.get(name)) {
                    Some(value) => value.clone(),
                    None => Value::String(fill(&text, variables, verbatim)),
                }
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| walk(v, variables)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, walk(v, variables)))
                    .collect(),
            ),
            other => other,
        }
    }
    match walk(
        serde_json::from_str(arguments).unwrap_or_default(),
        variables,
    ) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// Whether a condition variable counts as true: set, and not `false`, `null`, `0`,
/// or empty.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(true)) => true,
    }
}

/// Runs a pipeline step within the smaller of its own timeout and what is left of the
/// pipeline's budget.
pub async fn within(
    deadline: Option<tokio::time::Instant>,
    step: Option<std::time::Duration>,
    future: impl std::future::Future<Output = Result<Value, ToolError>>,
) -> Result<Value, ToolError> {
    let now = tokio::time::Instant::now();
    let left = deadline.map(|d| d.saturating_duration_since(now));
    let limit = match (left, step) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match limit {
        Some(limit) => tokio::time::timeout(limit, future)
            .await
            .unwrap_or(Err(ToolError::Timeout(limit))),
        None => future.await,
    }
}

/// Leaves a value as it is.
pub fn verbatim(text: &str) -> String {
    text.to_owned()
}
