//! A call's values, the text of a value in a placeholder, and the helpers pipelines run
//! their steps with.

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

/// A pipeline variable's value, with its type; an empty string when it is not set.
pub fn variable(variables: &JsonObject, name: &str) -> Value {
    variables
        .get(name)
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()))
}

/// A JSON value pforge wrote from forge.yaml (it is valid: pforge serialized it).
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_default()
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
