//! The plan: a typed IR of the server to generate. Every default is resolved, every policy is
//! merged and its numbers are final, identifiers are escaped and the runtime dependencies are
//! derived, so that emitting code is a straight translation.

mod catalog;
mod http_limits;
mod http_server;
mod kind;
mod needs;
mod params;
mod policy;
mod stdio;
mod upstream;
mod vocab;

pub use crate::holes::{Part, Template};
pub use crate::vocab::{HttpMethod, RetryClass};
pub use catalog::{
    PromptArgumentPlan, PromptPlan, PromptText, ResourcePlan, ResourceSource, StatePlan,
};
pub use http_limits::HttpLimits;
pub use http_server::{HttpServerPlan, MetricsPlan, OAuthPlan, ServerAuthPlan};
pub use kind::{ArgPlan, CliArg, CliPlan, StepPlan};
pub use params::{ParamPlan, input_schema, value_schema};
pub use policy::{
    BreakerPlan, BulkheadPlan, Failure, FallbackPlan, PolicyPlan, RetryDecisions, RetryOnPlan,
    RetryPlan, Schedule, backoff_schedule,
};
pub use stdio::StdioPlan;
pub use upstream::{AuthPlan, HttpCallPlan};
pub use vocab::{StepCondition, ValueKind};

use crate::config::{
    Checked, Config, FallbackFacts, KindFacts, Middleware, Optimization, ToolFacts, ToolKind,
};
use crate::defaults;
use crate::naming::{self, HandlerPath};
use policy::Defaults;

/// The whole server to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Crate and binary name.
    pub crate_name: String,
    /// `crate_name` as a Rust identifier (`-` becomes `_`).
    pub crate_ident: String,
    /// Server version.
    pub version: String,
    /// One line about the server.
    pub description: Option<String>,
    /// `description` as Cargo's package metadata: control characters become spaces, since
    /// Cargo hands the text to the compiler in an environment variable, which cannot hold a
    /// NUL.
    pub package_description: Option<String>,
    /// How clients connect.
    pub transport: TransportPlan,
    /// Build profile.
    pub release: bool,
    /// Tools, in `tools/list` order.
    pub tools: Vec<ToolPlan>,
    /// Resources.
    pub resources: Vec<ResourcePlan>,
    /// Prompts.
    pub prompts: Vec<PromptPlan>,
    /// Shared state, if any.
    pub state: Option<StatePlan>,
    /// Recent errors kept per server, when error tracking is on.
    pub error_tracking: Option<u32>,
    /// Whether the recent errors keep whole messages (`error_tracking.keep_messages`).
    pub keep_error_messages: bool,
    /// What the generated crate depends on.
    pub needs: Needs,
    /// How long calls in flight may take to finish when the server stops, in milliseconds.
    pub drain_ms: u64,
    /// Bytes of the largest output a tool reads (a command's stdout, an upstream's body).
    pub max_output_bytes: usize,
    /// The user's middleware types, in the order they wrap a call (outermost first).
    pub middleware: Vec<HandlerPath>,
    /// The user's function naming error classes (`error_tracking.classify_by`), if any.
    pub classifier: Option<HandlerPath>,
}

/// Counter slots a server keeps per tool for the classes a user's classifier names: 31
/// names and `other` (arrays up to 32 long have `Default`).
pub const USER_CLASS_SLOTS: usize = 32;

/// Transport of the generated server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportPlan {
    /// Standard input and output.
    Stdio(StdioPlan),
    /// MCP streamable HTTP, with its address and access rules.
    Http(Box<HttpServerPlan>),
}

impl TransportPlan {
    /// The bounds of the stdio transport, when the server has it.
    pub fn stdio(&self) -> Option<StdioPlan> {
        match self {
            Self::Stdio(stdio) => Some(*stdio),
            Self::Http(_) => None,
        }
    }

    /// The address and access rules of the http transport, when the server has it.
    pub fn http(&self) -> Option<&HttpServerPlan> {
        match self {
            Self::Stdio(_) => None,
            Self::Http(http) => Some(http),
        }
    }
}

/// Runtime features the plan uses; the generated Cargo.toml follows from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// Some tool or fallback makes HTTP requests.
    pub http_client: bool,
    /// Some tool runs a command.
    pub process: bool,
    /// The server speaks streamable HTTP.
    pub http_server: bool,
    /// Some tool uses `generated::resilience` (see [`ToolPlan::uses_resilience`]).
    pub resilience: bool,
    /// Some code waits on a timer: a timeout, a pipeline's deadlines, a retry's backoff, a
    /// breaker's open period, a bulkhead's wait.
    pub timers: bool,
    /// Some tool has a bulkhead (a semaphore).
    pub bulkhead: bool,
    /// Some resource is a file read per request.
    pub files: bool,
    /// The server keeps the figures of `pforge://stats`: error tracking is on or some tool has
    /// a retry, breaker, bulkhead or fallback, or the http transport serves `/metrics`.
    pub monitoring: bool,
    /// Callers present JWTs, checked against an authorization server's keys.
    pub jwt: bool,
}

/// One tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolPlan {
    /// Place in `tools/list` (and in the server's stats).
    pub index: usize,
    /// MCP name.
    pub name: String,
    /// Module name (escaped identifier).
    pub module: String,
    /// Prefix of the tool's type names (`FetchUserData`).
    pub type_prefix: String,
    /// Description for `tools/list`.
    pub description: Option<String>,
    /// Parameters, declared or derived from placeholders.
    pub params: Vec<ParamPlan>,
    /// What runs.
    pub kind: KindPlan,
    /// Resilience around it.
    pub policy: PolicyPlan,
    /// OAuth scopes a caller needs to see and call it.
    pub scopes: Vec<String>,
    /// Whether its calls pass through the server's middleware: there is some, and the tool
    /// did not opt out.
    pub middleware: bool,
}

impl ToolPlan {
    /// The timeout that bounds each attempt (`timeout_ms`, except for a pipeline).
    pub fn attempt_timeout(&self) -> Option<std::time::Duration> {
        match self.kind {
            KindPlan::Pipeline { .. } => None,
            _ => self.policy.timeout,
        }
    }

    /// Whether the tool's module uses `generated::resilience`: an attempt timeout, a retry, a
    /// breaker, a bulkhead or a fallback.
    pub fn uses_resilience(&self) -> bool {
        self.attempt_timeout().is_some()
            || self.policy.breaker.is_some()
            || self.policy.bulkhead.is_some()
            || self.policy.retry.is_some()
            || !self.policy.fallback.is_empty()
    }

    /// The time a pipeline's steps share (its `timeout_ms`).
    pub fn budget(&self) -> Option<std::time::Duration> {
        match self.kind {
            KindPlan::Pipeline { .. } => self.policy.timeout,
            _ => None,
        }
    }
}

/// What a tool runs.
#[derive(Debug, Clone, PartialEq)]
pub enum KindPlan {
    /// A user handler.
    Native {
        /// Where it lives.
        handler: HandlerPath,
    },
    /// A command.
    Cli(CliPlan),
    /// An HTTP request.
    Http(HttpCallPlan),
    /// Steps run in order.
    Pipeline {
        /// The steps.
        steps: Vec<StepPlan>,
    },
}

/// Builds the plan of a config the loader accepted, from the facts its checks established.
pub fn plan(checked: &Checked) -> Plan {
    let config = checked.config();
    let facts = checked.facts();
    let defaults = Defaults::new(checked);
    let tools: Vec<ToolPlan> = config
        .tools
        .iter()
        .zip(&facts.tools)
        .enumerate()
        .map(|(index, (tool, tool_facts))| plan_tool(config, (tool, tool_facts), index, &defaults))
        .collect();
    // The loader establishes the http transport's facts exactly when it is the transport.
    let transport = match &facts.http_server {
        Some(server) => TransportPlan::Http(Box::new(HttpServerPlan::of(&config.forge, server))),
        None => TransportPlan::Stdio(StdioPlan::of(config.forge.stdio.as_ref())),
    };
    let tracking = config.error_tracking();
    // The classifier names the classes of the per-tool counts too, which exist with error
    // tracking off, so it is kept even then.
    let classifier = facts.classifier.clone();
    let keep_error_messages = tracking
        .as_ref()
        .is_some_and(|t| t.keep_messages.unwrap_or(defaults::KEEP_MESSAGES));
    let error_tracking = tracking
        .filter(|t| t.enabled.unwrap_or(defaults::TRACKING_ENABLED))
        .map(|t| t.max_errors.unwrap_or(defaults::MAX_ERRORS));
    let resources: Vec<ResourcePlan> = config
        .resources
        .iter()
        .zip(&facts.resources)
        .enumerate()
        .map(|(index, (resource, handler))| catalog::resource(index, resource, handler.as_ref()))
        .collect();
    let needs = Needs {
        http_client: tools.iter().any(|t| {
            matches!(t.kind, KindPlan::Http(_))
                || t.policy
                    .fallback
                    .iter()
                    .any(|f| matches!(f, FallbackPlan::Http(_)))
        }),
        process: tools.iter().any(|t| matches!(t.kind, KindPlan::Cli(_))),
        http_server: matches!(transport, TransportPlan::Http(_)),
        resilience: tools.iter().any(ToolPlan::uses_resilience),
        timers: tools
            .iter()
            .any(|t| t.policy.uses_timers() || matches!(t.kind, KindPlan::Pipeline { .. })),
        bulkhead: tools.iter().any(|t| t.policy.bulkhead.is_some()),
        files: resources
            .iter()
            .any(|r| matches!(r.source, ResourceSource::File(_))),
        // A classifier names the classes of the figures, so it asks for them.
        monitoring: error_tracking.is_some()
            || classifier.is_some()
            || tools.iter().any(|t| t.policy.is_protected())
            || transport
                .http()
                .is_some_and(|h| h.metrics != MetricsPlan::Off),
        jwt: transport
            .http()
            .is_some_and(|h| matches!(h.auth, Some(ServerAuthPlan::OAuth(_)))),
    };
    Plan {
        crate_name: config.forge.name.clone(),
        crate_ident: naming::crate_ident(&config.forge.name),
        version: config.forge.version.clone(),
        description: config.forge.description.clone(),
        package_description: config.forge.description.as_deref().map(|d| {
            d.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        }),
        transport,
        release: config.forge.optimization == Some(Optimization::Release),
        tools,
        resources,
        prompts: config
            .prompts
            .iter()
            .zip(&facts.prompts)
            .map(|(prompt, facts)| catalog::prompt(prompt, facts))
            .collect(),
        state: config.state.as_ref().map(catalog::state),
        error_tracking,
        keep_error_messages,
        needs,
        drain_ms: config.forge.drain_timeout.map_or(defaults::DRAIN_MS, |d| {
            u64::try_from(d.0.as_millis()).unwrap_or(u64::MAX)
        }),
        max_output_bytes: max_output_bytes(config),
        middleware: facts.middleware.clone(),
        classifier,
    }
}

/// `forge.max_output_bytes`, or its default.
fn max_output_bytes(config: &Config) -> usize {
    let bytes = config
        .forge
        .max_output_bytes
        .unwrap_or(defaults::MAX_OUTPUT_BYTES);
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

fn plan_tool(
    config: &Config,
    (tool, facts): (&crate::config::Tool, &ToolFacts),
    index: usize,
    defaults: &Defaults,
) -> ToolPlan {
    let common = &tool.common;
    let params = params::resolve(common.params.as_ref(), &facts.derived_params);
    let kind = plan_kind(config, facts, &params);
    let fallback = plan_fallback(config, facts, &params);
    let policy = plan_policy(tool, facts, &kind, fallback, defaults);
    ToolPlan {
        index,
        name: common.name.clone(),
        type_prefix: naming::tool_type_prefix(&common.name),
        module: naming::tool_module(&common.name),
        description: common.description.clone(),
        params,
        kind,
        policy,
        scopes: common.scopes.clone().unwrap_or_default(),
        middleware: common.middleware.unwrap_or(defaults::TOOL_MIDDLEWARE)
            && config
                .middleware
                .iter()
                .flatten()
                .any(|m| matches!(m, Middleware::Native(_))),
    }
}

/// What a tool runs, from what the loader established about it.
fn plan_kind(config: &Config, facts: &ToolFacts, params: &[ParamPlan]) -> KindPlan {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let max_output = max_output_bytes(config);
    match &facts.kind {
        KindFacts::Native(handler) => KindPlan::Native {
            handler: handler.clone(),
        },
        KindFacts::Cli(cli, split) => KindPlan::Cli(kind::cli(cli, split, params, max_output)),
        KindFacts::Http(http, split) => {
            KindPlan::Http(upstream::tool_call(http, split, &names, max_output))
        }
        KindFacts::Pipeline(pipeline, steps) => KindPlan::Pipeline {
            steps: kind::steps(&pipeline.steps, steps),
        },
    }
}

/// A tool's fallback chain, from what the loader established about each entry.
fn plan_fallback(config: &Config, facts: &ToolFacts, params: &[ParamPlan]) -> Vec<FallbackPlan> {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let plan = |entry: &FallbackFacts| match entry {
        FallbackFacts::Native(handler) => FallbackPlan::Native(handler.clone()),
        FallbackFacts::Http(http, split) => FallbackPlan::Http(upstream::fallback_call(
            http,
            split,
            &names,
            max_output_bytes(config),
        )),
        FallbackFacts::Value(value) => FallbackPlan::Value(value.clone()),
    };
    facts.fallback.iter().map(plan).collect()
}

/// A tool's resilience: its own blocks merged over the defaults it inherits.
fn plan_policy(
    tool: &crate::config::Tool,
    facts: &ToolFacts,
    kind: &KindPlan,
    fallback: Vec<FallbackPlan>,
    defaults: &Defaults,
) -> PolicyPlan {
    let common = &tool.common;
    let is_pipeline = matches!(tool.kind, ToolKind::Pipeline(_));
    // Defaults protect the tools that touch the outside world; a pipeline's steps already carry
    // their own policies, and retrying a whole pipeline would multiply every step's attempts.
    let none = Defaults::default();
    let inherited = if is_pipeline { &none } else { defaults };
    let method = match kind {
        KindPlan::Http(call) => Some(call.method),
        _ => None,
    };
    let own_retry = common.retry.as_ref().map(|retry| policy::RetryBlock {
        retry: retry.clone(),
        policy: facts.retry_policy.clone(),
    });
    let retry = policy::merge_retry(own_retry.as_ref(), inherited.retry.as_ref())
        .map(|r| policy::resolve_retry(&r, method));
    let breaker =
        policy::merge_breaker(common.circuit_breaker.as_ref(), inherited.breaker.as_ref())
            .and_then(|b| policy::resolve_breaker(&b));
    let bulkhead = common
        .bulkhead
        .as_ref()
        .or(inherited.bulkhead.as_ref())
        .map(policy::resolve_bulkhead);
    let reaches_out = matches!(tool.kind, ToolKind::Cli(_) | ToolKind::Http(_))
        || (!is_pipeline && fallback.iter().any(|f| matches!(f, FallbackPlan::Http(_))));
    let timeout_ms = common
        .timeout_ms
        .or(inherited.timeout_ms)
        .or(reaches_out.then_some(defaults::OUTSIDE_TIMEOUT_MS));
    PolicyPlan {
        timeout: timeout_ms.map(std::time::Duration::from_millis),
        retry,
        breaker,
        bulkhead,
        fallback,
    }
}
