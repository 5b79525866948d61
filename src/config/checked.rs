//! A config the loader accepted, with the facts its checks established: handler paths parsed,
//! templated strings split (credentials and pipeline step arguments too), step targets found
//! and step conditions read, endpoints cut where their host ends, parameters derived from
//! placeholders. Only the loader makes one, so the planner reads these facts instead of
//! working them out again, and has no fallback for a config that skipped the checks.

use std::ops::Deref;

use super::{CliTool, Config, HttpFallback, HttpTool, PipelineTool};
use crate::holes::{Condition, JsonTemplate, Template};
use crate::naming::HandlerPath;

/// A config that passed every check of the loader, with what those checks established.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    config: Config,
    facts: Facts,
}

impl Checked {
    /// Pairs a config with its facts; the loader is the one caller, after every check passed.
    pub(crate) fn new(config: Config, facts: Facts) -> Self {
        Self { config, facts }
    }

    /// The typed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The facts the checks established.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The typed config, without its facts.
    pub fn into_config(self) -> Config {
        self.config
    }
}

impl Deref for Checked {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// What the checks established about a config, beside the config itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// One per tool, in the order of `tools`.
    pub tools: Vec<ToolFacts>,
    /// The types of the `native` middleware entries, in order.
    pub middleware: Vec<HandlerPath>,
    /// One per prompt, in the order of `prompts`.
    pub prompts: Vec<PromptFacts>,
    /// The handler of each resource that has one, in the order of `resources`.
    pub resources: Vec<Option<HandlerPath>>,
    /// The `policy` of `fault_tolerance.retry`, if written.
    pub fault_tolerance_retry_policy: Option<HandlerPath>,
    /// The `policy` of the `recovery` middleware entry's retry, if written.
    pub recovery_retry_policy: Option<HandlerPath>,
    /// The user's function naming error classes: `classify_by` of the error tracking the two
    /// spellings merge to ([`super::ErrorTracking::over`]), when it names a handler.
    pub classifier: Option<HandlerPath>,
    /// The http transport's addresses and OAuth metadata; present exactly when
    /// `forge.transport` is `http`.
    pub http_server: Option<super::ServerFacts>,
}

/// What the checks established about one tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolFacts {
    /// The parameters its placeholders make, in order of first use, for a tool without
    /// `params`: one per placeholder (its fallbacks' included), except, in a pipeline's step
    /// arguments, the variables its steps set.
    pub derived_params: Vec<String>,
    /// What it runs.
    pub kind: KindFacts,
    /// One per fallback entry, in order.
    pub fallback: Vec<FallbackFacts>,
    /// The `policy` of its own `retry`, if written.
    pub retry_policy: Option<HandlerPath>,
}

/// What a tool runs, with what the checks established about it.
#[derive(Debug, Clone, PartialEq)]
pub enum KindFacts {
    /// A native tool's handler.
    Native(HandlerPath),
    /// A command and its templated strings.
    Cli(CliTool, CliFacts),
    /// A request and its templated strings.
    Http(HttpTool, HttpFacts),
    /// A pipeline and what the checks established about each of its steps, in order.
    Pipeline(PipelineTool, Vec<StepFacts>),
}

/// What the checks established about one pipeline step; the tool it names exists.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFacts {
    /// Its arguments (`params` or `input`), each split at its placeholders.
    pub arguments: Vec<(String, JsonTemplate)>,
    /// Its `condition`, read.
    pub condition: Option<Condition>,
}

/// The templated strings of a command, split.
#[derive(Debug, Clone, PartialEq)]
pub struct CliFacts {
    /// Its arguments, in order.
    pub args: Vec<Template>,
    /// Its working directory.
    pub cwd: Option<Template>,
    /// Its environment variables, in order.
    pub env: Vec<(String, Template)>,
}

/// The templated strings of a request (an http tool's or an http fallback's), split.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpFacts {
    /// The endpoint, cut where its host ends.
    pub endpoint: Endpoint,
    /// Headers, in order.
    pub headers: Vec<(String, Template)>,
    /// Query pairs, in order (none for a fallback).
    pub query: Vec<(String, Template)>,
    /// Credentials (an http tool's `auth`; none for a fallback).
    pub auth: Option<AuthFacts>,
}

/// An http tool's credentials, each value split (they take `${VAR}` only).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthFacts {
    /// `Authorization: Bearer`.
    Bearer(Template),
    /// `Authorization: Basic`.
    Basic {
        /// User name.
        username: Template,
        /// Password.
        password: Template,
    },
    /// A header of its own: its name as written, if written, and its value.
    ApiKey {
        /// Header name, if written.
        header: Option<String>,
        /// Its value.
        key: Template,
    },
}

/// An endpoint cut where its scheme and host end: the loader refuses one that is neither an
/// absolute http(s) URL nor starts with the `${VAR}` that supplies them.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Its host (or the leading `${VAR}`), for one-line summaries.
    pub host: String,
    /// Scheme and host (or the leading `${VAR}`).
    pub origin: Template,
    /// The rest.
    pub path: Template,
}

/// A fallback entry, with what the checks established about it.
#[derive(Debug, Clone, PartialEq)]
pub enum FallbackFacts {
    /// A handler's path.
    Native(HandlerPath),
    /// A request and its templated strings (boxed: the largest entry by far).
    Http(HttpFallback, Box<HttpFacts>),
    /// A fixed value.
    Value(serde_json::Value),
}

/// What the checks established about one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptFacts {
    /// Its template, split at its placeholders (a `${` in a prompt is text).
    pub template: Option<Template>,
    /// The arguments its placeholders make, in order of first use, for a prompt without
    /// `arguments`.
    pub derived_arguments: Vec<String>,
}
