//! HTTP method and authentication.

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

/// Credentials sent with every request of an http tool. Values may use `${VAR}`, resolved
/// when the server runs.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schemars(transform = accept_apikey_spelling)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(BearerAuth),
    /// `Authorization: Basic base64(username:password)`.
    Basic(BasicAuth),
    /// A key in a header of your choice. pforge's spelling `apikey` is accepted too.
    #[serde(alias = "apikey")]
    ApiKey(ApiKeyAuth),
}

/// Bearer token credentials.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    /// The token, usually `${API_TOKEN}`.
    #[schemars(example = &"${API_TOKEN}")]
    pub token: String,
}

/// HTTP basic credentials.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password, usually `${API_PASSWORD}`.
    pub password: String,
}

/// API key credentials.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    /// The key, usually `${API_KEY}`.
    pub key: String,
    /// Header that carries the key. Default: `X-API-Key`.
    #[schemars(extend("default" = crate::defaults::API_KEY_HEADER))]
    pub header: Option<String>,
}

/// serde's `alias` is invisible to schemars; without this the schema would reject `apikey`.
fn accept_apikey_spelling(schema: &mut Schema) {
    let Some(branches) = schema.get_mut("oneOf").and_then(|b| b.as_array_mut()) else {
        return;
    };
    for branch in branches {
        let Some(tag) = branch.pointer_mut("/properties/type") else {
            continue;
        };
        if tag.get("const").and_then(|c| c.as_str()) == Some("api_key")
            && let Some(obj) = tag.as_object_mut()
        {
            obj.remove("const");
            obj.insert("enum".into(), serde_json::json!(["api_key", "apikey"]));
        }
    }
}
