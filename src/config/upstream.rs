//! Authentication of http requests (the HTTP method is bottom vocabulary, `crate::vocab`).

use schemars::{JsonSchema, Schema};
use serde::Deserialize;

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
