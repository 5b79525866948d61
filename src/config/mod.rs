//! The typed model of `forge.yaml`.
//!
//! These types are the single source of truth for the language: the committed JSON Schema
//! (`schema/forge.schema.json`) is generated from them, and the loader deserializes into them
//! once the document has passed that schema. Optional keys stay `Option` so that a consumer can
//! tell a value the user wrote from a default; defaults are resolved later, by the planner.

mod checked;
mod checked_server;
mod duration;
mod params;
mod policy;
mod server;
mod tool;
mod upstream;

pub use crate::vocab::{HttpMethod, METHOD_PATTERN};
pub use checked::{
    AuthFacts, Checked, CliFacts, Endpoint, Facts, FallbackFacts, HttpFacts, KindFacts,
    PromptFacts, StepFacts, ToolFacts,
};
pub use checked_server::{MetricsFacts, OAuthFacts, ServerFacts};
pub use duration::{DURATION_PATTERN, DurationError, HumanDuration, MAX_MS as MAX_DURATION_MS};
pub use params::{PARAM_NAME_PATTERN, ParamDetail, ParamSpec, ParamType, Params, Validation};
pub use policy::{
    BuiltinClassify, Bulkhead, CircuitBreaker, ClassifyBy, ErrorTracking, Fallback, FallbackEntry,
    FaultTolerance, HttpFallback, Middleware, NativeFallback, Recovery, Retry, RetryOn,
    ValueFallback,
};
pub use server::{
    BearerTokens, CRATE_NAME_PATTERN, Forge, HttpAccess, HttpAuth, Metrics, MetricsListen, OAuth,
    Optimization, Prompt, PromptArgument, PromptArgumentDetail, PromptArgumentType,
    PromptArguments, Resource, SEMVER_PATTERN, State, StateBackend, StdioLimits, Transport,
};
pub use tool::{
    CliTool, ErrorPolicy, HandlerRef, HttpTool, NativeTool, PipelineStep, PipelineTool,
    TOOL_NAME_PATTERN, Tool, ToolCommon, ToolKind,
};
pub use upstream::{ApiKeyAuth, Auth, BasicAuth, BearerAuth};

use schemars::JsonSchema;
use serde::Deserialize;

/// A `forge.yaml` document: one MCP server, its tools, resources and prompts, and how each
/// tool survives failure.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "forge.yaml")]
pub struct Config {
    /// The server itself: crate name, version, transport.
    pub forge: Forge,
    /// Fault-tolerance defaults for every tool. A tool's own `retry`, `circuit_breaker`,
    /// `bulkhead` and `timeout_ms` are merged over these key by key.
    pub fault_tolerance: Option<FaultTolerance>,
    /// The chapter's other spelling of `fault_tolerance`: a list holding one `recovery` entry.
    /// Both may be written as long as they do not disagree.
    pub middleware: Option<Vec<Middleware>>,
    /// The tools the server offers, in `tools/list` order.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// Resources the server offers (`resources/list`, `resources/read`).
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Prompt templates the server offers (`prompts/list`, `prompts/get`).
    #[serde(default)]
    pub prompts: Vec<Prompt>,
    /// A key-value store shared by native handlers.
    pub state: Option<State>,
}

impl Config {
    /// The error tracking the two spellings merge to: `fault_tolerance.error_tracking` over
    /// the `recovery` middleware entry's, key by key.
    pub fn error_tracking(&self) -> Option<ErrorTracking> {
        let over = self
            .fault_tolerance
            .as_ref()
            .and_then(|f| f.error_tracking.as_ref());
        let under = self
            .middleware
            .iter()
            .flatten()
            .find_map(Middleware::recovery)
            .and_then(|r| r.error_tracking.as_ref());
        match (over, under) {
            (None, None) => None,
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (Some(a), Some(b)) => Some(a.over(b)),
        }
    }
}
