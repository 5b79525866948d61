//! Tools, tagged by `type`: native, cli, http and pipeline.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::params::Params;
use super::policy::{Bulkhead, CircuitBreaker, Fallback, Retry};
use super::upstream::Auth;
use crate::vocab::HttpMethod;

/// Pattern of a tool name: a valid MCP tool name that is also safe as a file and module name.
pub const TOOL_NAME_PATTERN: &str = "^[A-Za-z][A-Za-z0-9_.-]{0,63}$";

/// One tool: the keys every tool has, plus those of its kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tool {
    /// Name, description, parameters and fault tolerance.
    #[serde(flatten)]
    pub common: ToolCommon,
    /// What the tool runs.
    #[serde(flatten)]
    pub kind: ToolKind,
}

/// Keys shared by every kind of tool.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct ToolCommon {
    /// Tool name, as clients call it. Letters, digits, `_`, `-` and `.`, starting with a letter.
    #[schemars(regex(pattern = TOOL_NAME_PATTERN), example = &"fetch_user_data")]
    pub name: String,
    /// What the tool does; shown to the model.
    pub description: Option<String>,
    /// Parameters. Without this key, each `{{placeholder}}` the tool uses becomes a required
    /// string parameter.
    pub params: Option<Params>,
    /// Timeout of each attempt, in milliseconds. A cli or http tool (or one with an http
    /// fallback) that sets none, here or in the defaults, gets 30,000: a command or an
    /// upstream that never ends must not hold a call for ever.
    #[schemars(range(min = 1, max = 604800000), example = 10000)]
    pub timeout_ms: Option<u64>,
    /// Retry policy, merged over the default one.
    pub retry: Option<Retry>,
    /// Circuit breaker, merged over the default one; `enabled: false` opts out.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// What answers when the tool has finally failed.
    pub fallback: Option<Fallback>,
    /// Concurrency limit.
    pub bulkhead: Option<Bulkhead>,
    /// OAuth scopes a caller's token needs for this tool (all of them). A caller without
    /// them does not see the tool in `tools/list`, and calling it is refused. Needs
    /// `forge.http.auth.oauth`.
    #[schemars(example = &["users:read"])]
    pub scopes: Option<Vec<String>>,
    /// `false`: this tool's calls skip the `native` entries of `middleware`. Default: `true`.
    #[schemars(extend("default" = crate::defaults::TOOL_MIDDLEWARE))]
    pub middleware: Option<bool>,
}

/// The kinds of tool, by the `type` key.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToolKind {
    /// Rust code you write: a handler under `src/handlers/`.
    Native(NativeTool),
    /// A command run without a shell, one argument per list entry.
    Cli(CliTool),
    /// An HTTP request.
    Http(HttpTool),
    /// Other tools run in order, passing outputs along.
    Pipeline(PipelineTool),
}

impl ToolKind {
    /// The `type` value of this kind.
    pub fn tag(&self) -> &'static str {
        match self {
            Self::Native(_) => "native",
            Self::Cli(_) => "cli",
            Self::Http(_) => "http",
            Self::Pipeline(_) => "pipeline",
        }
    }
}

/// A tool implemented by a native Rust handler.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct NativeTool {
    /// Rust path of the handler under `handlers::`: a type (`handlers::Greet`,
    /// `handlers::greet::Greet`) or an async function (`handlers::greet::handle`).
    pub handler: HandlerRef,
}

/// A tool that runs a command.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct CliTool {
    /// Program to run, looked up on `PATH`.
    #[schemars(example = &"git")]
    pub command: String,
    /// Arguments; each may hold `{{param}}` placeholders and stays one argument.
    #[serde(default)]
    pub args: Vec<String>,
    /// Working directory of the command.
    pub cwd: Option<String>,
    /// Extra environment variables; values may use `${VAR}`.
    pub env: Option<IndexMap<String, String>>,
    /// Send output as progress notifications while the command runs. Default: `false`.
    #[schemars(extend("default" = crate::defaults::STREAM))]
    pub stream: Option<bool>,
}

/// A tool that makes an HTTP request.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct HttpTool {
    /// URL with `{{param}}` placeholders in its path or query; may start with `${BASE_URL}`.
    #[schemars(example = &"https://api.example.com/users/{{user_id}}")]
    pub endpoint: String,
    /// HTTP method. Default: `GET`.
    #[schemars(extend("default" = crate::defaults::HTTP_METHOD))]
    pub method: Option<HttpMethod>,
    /// Request headers; values may use `${VAR}` and `{{param}}`.
    pub headers: Option<IndexMap<String, String>>,
    /// Fixed query parameters; values may use `${VAR}` and `{{param}}`.
    pub query: Option<IndexMap<String, String>>,
    /// Credentials.
    pub auth: Option<Auth>,
    /// Follow the upstream's redirects within the endpoint's own origin (scheme, host and
    /// port), at most 10; a redirect to another origin is never followed, so credentials
    /// and query values stay with the host forge.yaml names. Default: `false`: a redirect is
    /// answered as an error naming its status.
    #[schemars(extend("default" = crate::defaults::FOLLOW_REDIRECTS))]
    pub follow_redirects: Option<bool>,
}

/// A tool that runs other tools in order.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct PipelineTool {
    /// The steps, run in order. The pipeline's `timeout_ms` is the budget of all of them.
    #[schemars(length(min = 1))]
    pub steps: Vec<PipelineStep>,
}

/// One step of a pipeline.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineStep {
    /// Name of the tool this step calls.
    pub tool: String,
    /// Arguments of the call; string values may use `{{var}}` for a pipeline parameter or
    /// an earlier step's `output_var`.
    pub params: Option<IndexMap<String, Value>>,
    /// pforge's spelling of `params`.
    pub input: Option<IndexMap<String, Value>>,
    /// Name under which later steps see this step's output.
    pub output_var: Option<String>,
    /// Run the step only if this variable is set and not `false`, `null` or empty;
    /// `!var` runs it only if it is not.
    pub condition: Option<String>,
    /// What a failure of this step does. Default: `fail_fast`.
    #[schemars(extend("default" = crate::defaults::ERROR_POLICY))]
    pub error_policy: Option<ErrorPolicy>,
    /// Timeout of this step, in milliseconds, within what is left of the pipeline's budget.
    #[schemars(range(min = 1, max = 604800000))]
    pub timeout_ms: Option<u64>,
}

impl PipelineStep {
    /// The step's arguments, whichever spelling was used.
    pub fn arguments(&self) -> Option<&IndexMap<String, Value>> {
        self.params.as_ref().or(self.input.as_ref())
    }
}

/// What a failed pipeline step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorPolicy {
    /// Stop the pipeline and report the error.
    FailFast,
    /// Record the error and go on with the next step.
    Continue,
}

/// A handler path, written as a string or as `{path: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HandlerRef {
    /// The Rust path, e.g. `handlers::UserDataFallback`.
    pub path: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum HandlerRefRepr {
    /// Rust path under `handlers::`.
    Path(#[schemars(example = &"handlers::UserDataFallback")] String),
    /// pforge's spelling: `{path: handlers::greet::say_hello}`.
    Detailed(HandlerPath),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HandlerPath {
    /// Rust path under `handlers::`.
    path: String,
}

impl<'de> Deserialize<'de> for HandlerRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match HandlerRefRepr::deserialize(deserializer)? {
            HandlerRefRepr::Path(path) | HandlerRefRepr::Detailed(HandlerPath { path }) => {
                Self { path }
            }
        })
    }
}

impl JsonSchema for HandlerRef {
    fn schema_name() -> Cow<'static, str> {
        "HandlerRef".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        HandlerRefRepr::json_schema(generator)
    }
}

impl JsonSchema for Tool {
    fn schema_name() -> Cow<'static, str> {
        "Tool".into()
    }

    /// One flat object per kind (common keys + the kind's keys + `type`), so that
    /// `additionalProperties: false` sees every allowed key and editors complete all of them.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let common = ToolCommon::json_schema(generator);
        let kinds = [
            ("native", NativeTool::json_schema(generator)),
            ("cli", CliTool::json_schema(generator)),
            ("http", HttpTool::json_schema(generator)),
            ("pipeline", PipelineTool::json_schema(generator)),
        ];
        let branches: Vec<Value> = kinds
            .into_iter()
            .map(|(tag, kind)| flat_variant(tag, &common, &kind))
            .collect();
        json_schema!({
            "description": "A tool, by `type`: native, cli, http or pipeline.",
            "oneOf": branches
        })
    }
}

fn flat_variant(tag: &str, common: &Schema, kind: &Schema) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "type".into(),
        serde_json::json!({ "const": tag, "description": format!("A {tag} tool.") }),
    );
    let mut required = vec![Value::from("type")];
    for part in [common, kind] {
        if let Some(props) = part.get("properties").and_then(Value::as_object) {
            properties.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(req) = part.get("required").and_then(Value::as_array) {
            required.extend(req.iter().cloned());
        }
    }
    let mut variant = Map::new();
    variant.insert("type".into(), "object".into());
    if let Some(description) = kind.get("description") {
        variant.insert("description".into(), description.clone());
    }
    variant.insert("properties".into(), Value::Object(properties));
    variant.insert("required".into(), Value::Array(required));
    variant.insert("additionalProperties".into(), false.into());
    Value::Object(variant)
}
