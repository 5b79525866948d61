//! Words forge.yaml and the plan share, below both: an HTTP method and the error classes a
//! retry names. They have one spelling in forge.yaml and mean the same thing to every layer,
//! so the config deserializes into them and the plan hands them through to emit as they are.
//! A bottom module: it uses nothing of the crate.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// Pattern of an HTTP method in any letter case. Spelled with character classes, not `(?i)`,
/// because editors evaluate the schema with JavaScript regular expressions.
pub const METHOD_PATTERN: &str =
    "^([Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee])$";

/// An HTTP method, written in any case and normalised to upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// GET: parameters not in the endpoint go to the query string.
    Get,
    /// POST: parameters not in the endpoint go to a JSON body.
    Post,
    /// PUT: parameters not in the endpoint go to a JSON body.
    Put,
    /// PATCH: parameters not in the endpoint go to a JSON body.
    Patch,
    /// DELETE: parameters not in the endpoint go to the query string.
    Delete,
}

impl HttpMethod {
    /// The normalised spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Parses a method in any letter case.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Get, Self::Post, Self::Put, Self::Patch, Self::Delete]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }

    /// GET, PUT and DELETE may be repeated without changing the outcome.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Put | Self::Delete)
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown HTTP method `{text}`")))
    }
}

impl JsonSchema for HttpMethod {
    fn schema_name() -> Cow<'static, str> {
        "HttpMethod".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": METHOD_PATTERN,
            "description": "HTTP method, in any letter case.",
            "examples": ["GET", "POST", "PUT", "PATCH", "DELETE"]
        })
    }
}

// One type for what forge.yaml's `retry_on` names and what the plan keeps; not the generated
// runtime's `stats::ErrorClass`, which classifies every failure. The schema still calls it
// `ErrorClass`, the name editors have shown since the first schema.
/// Classes of retryable errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ErrorClass")]
pub enum RetryClass {
    /// The attempt exceeded its timeout.
    Timeout,
    /// Connecting failed or the connection broke.
    Connection,
    /// HTTP 429 Too Many Requests.
    RateLimit,
    /// HTTP 503 Service Unavailable.
    ServiceUnavailable,
    /// Any other HTTP 5xx.
    ServerError,
    /// A native handler returned an error, or a cli command exited non-zero.
    HandlerError,
}

impl RetryClass {
    /// Its name in forge.yaml.
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::RateLimit => "rate_limit",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ServerError => "server_error",
            Self::HandlerError => "handler_error",
        }
    }
}
