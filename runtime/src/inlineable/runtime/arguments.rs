//! Reading a tool's arguments, with errors that name the parameter at fault.

use rmcp::model::JsonObject;
use serde_json::Value;

use super::ToolError;

/// Takes one argument out of `arguments`, naming it in the error.
pub fn take<T: serde::de::DeserializeOwned>(
    arguments: &mut JsonObject,
    name: &str,
) -> Result<Option<T>, ToolError> {
    match arguments.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|error| ToolError::InvalidArguments(format!("`{name}`: {error}"))),
    }
}

/// A required argument.
pub fn require<T>(value: Option<T>, name: &str) -> Result<T, ToolError> {
    value.ok_or_else(|| ToolError::InvalidArguments(format!("`{name}` is required")))
}

/// Rejects arguments no parameter takes.
pub fn no_extra(arguments: &JsonObject) -> Result<(), ToolError> {
    match arguments.keys().next() {
        Some(name) => Err(ToolError::InvalidArguments(format!(
            "`{name}` is not a parameter of this tool"
        ))),
        None => Ok(()),
    }
}

/// Fails with a message that names the parameter when `ok` is false.
pub fn check(ok: bool, name: &str, rule: &str) -> Result<(), ToolError> {
    if ok {
        Ok(())
    } else {
        Err(ToolError::InvalidArguments(format!("`{name}` {rule}")))
    }
}
