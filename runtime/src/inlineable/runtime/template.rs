//! The strings of forge.yaml that hold `{{param}}` and `${VAR}` holes (endpoints, headers,
//! query values, credentials, command lines), split into parts by pforge when it generated
//! this crate, so that nothing is parsed per call and a value can never be read as a hole:
//! an environment variable holding `{{id}}` stays that text.

use rmcp::model::JsonObject;

/// One piece of a string from forge.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Text as written.
    Text(&'static str),
    /// A `{{name}}` placeholder, filled from the call's arguments.
    Param(&'static str),
    /// `${NAME}` or `${NAME:-default}`, read from the environment when the server runs, so
    /// that secrets stay out of the generated code.
    Env(&'static str, Option<&'static str>),
}

/// Renders `parts`: each parameter's text (see [`text_of`](super::text_of)) through
/// `encode`, each environment variable as it is, and a parameter without a value as nothing.
pub fn render(parts: &[Part], values: &JsonObject, encode: fn(&str) -> String) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Param(name) => {
                if let Some(value) = values.get(*name) {
                    out.push_str(&encode(&super::text_of(value)));
                }
            }
            Part::Env(name, default) => out.push_str(&env_value(name, *default)),
        }
    }
    out
}

/// A variable's value; its default when it is unset or empty and a default is written.
pub fn env_value(name: &str, default: Option<&str>) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() || default.is_none() => value,
        _ => default.unwrap_or_default().to_owned(),
    }
}
