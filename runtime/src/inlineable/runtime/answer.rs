//! What a tool answers, and how an outcome becomes an MCP result.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::Value;

use super::ToolError;

/// What a tool answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer itself.
    pub value: Value,
    /// Set when a fallback answered because the tool failed.
    pub degraded: Option<Degraded>,
}

/// Why an answer is degraded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    /// The fallback that answered.
    pub fallback: String,
    /// The primary path's failure.
    pub error: String,
}

impl From<Value> for Answer {
    fn from(value: Value) -> Self {
        Self {
            value,
            degraded: None,
        }
    }
}

/// The MCP result of a tool's outcome: objects as structured content, strings as text.
/// A degraded answer says so in `_meta["pforge/degraded"]`.
pub fn to_result(outcome: Result<Answer, ToolError>) -> CallToolResult {
    let answer = match outcome {
        Ok(answer) => answer,
        Err(error) => return CallToolResult::error(vec![ContentBlock::text(error.to_string())]),
    };
    let result = match answer.value {
        Value::String(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
        value @ Value::Object(_) => CallToolResult::structured(value),
        other => CallToolResult::success(vec![ContentBlock::text(other.to_string())]),
    };
    match answer.degraded {
        None => result,
        Some(degraded) => {
            let mut meta = JsonObject::new();
            meta.insert(
                "pforge/degraded".to_owned(),
                serde_json::json!({ "fallback": degraded.fallback, "error": degraded.error }),
            );
            result.with_meta(Some(rmcp::model::MetaObject(meta)))
        }
    }
}
