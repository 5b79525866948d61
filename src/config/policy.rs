//! Fault-tolerance policies: circuit breaker, retry, error tracking, bulkhead, fallback.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::duration::HumanDuration;
use super::tool::HandlerRef;
use crate::vocab::{HttpMethod, RetryClass};

/// Defaults applied to every tool.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultTolerance {
    /// Default circuit breaker for every tool.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Default retry policy for every tool.
    pub retry: Option<Retry>,
    /// Error tracking for the whole server.
    pub error_tracking: Option<ErrorTracking>,
    /// Default bulkhead for every tool.
    pub bulkhead: Option<Bulkhead>,
    /// Default per-attempt timeout, in milliseconds, for every tool.
    #[schemars(range(min = 1, max = 604800000))]
    pub timeout_ms: Option<u64>,
}

/// An entry of `middleware`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Middleware {
    /// Fault-tolerance defaults, the same as `fault_tolerance`.
    Recovery(Recovery),
    /// Code of yours around every tool call: a type under `handlers::` implementing the
    /// generated `Middleware` trait (`before`, `after`, `on_error`). Entries run in the order
    /// listed: each `before` in order, each `after` or `on_error` in reverse.
    Native(NativeMiddleware),
}

impl Middleware {
    /// The `recovery` entry's settings, if this is one.
    pub fn recovery(&self) -> Option<&Recovery> {
        match self {
            Self::Recovery(recovery) => Some(recovery),
            Self::Native(_) => None,
        }
    }
}

/// A `native` middleware entry.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeMiddleware {
    /// The type under `handlers::` (such as `handlers::Audit`); pforge writes its stub once.
    pub handler: HandlerRef,
}

/// The `recovery` middleware: the chapter's spelling of `fault_tolerance`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// Default circuit breaker for every tool.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Default retry policy for every tool.
    pub retry: Option<Retry>,
    /// Error tracking for the whole server.
    pub error_tracking: Option<ErrorTracking>,
}

/// Circuit breaker: stop calling an operation that keeps failing, and probe it again later.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// `false` turns the breaker off (for one tool, when set on the tool). Default: `true`.
    #[schemars(extend("default" = crate::defaults::BREAKER_ENABLED))]
    pub enabled: Option<bool>,
    /// Consecutive failures that open the circuit (at most 1,000,000). Default: `5`.
    #[schemars(range(min = 1, max = 1000000), extend("default" = crate::defaults::FAILURE_THRESHOLD))]
    pub failure_threshold: Option<u32>,
    /// How long the circuit stays open before a probe is let through. Default: `60s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::OPEN_MS)))]
    pub timeout: Option<HumanDuration>,
    /// Consecutive successful probes that close the circuit again (also the most probes let
    /// through at once). Default: `2`.
    #[schemars(range(min = 1, max = 1000000), extend("default" = crate::defaults::SUCCESS_THRESHOLD))]
    pub success_threshold: Option<u32>,
}

/// Retry with exponential backoff.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first included (at most 100: the backoff schedule is generated
    /// code). Default: `3`, or `100` with a `policy` (which then decides).
    #[schemars(range(min = 1, max = 100), extend("default" = crate::defaults::MAX_ATTEMPTS))]
    pub max_attempts: Option<u32>,
    /// Delay before the second attempt. Default: `100ms`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::INITIAL_DELAY_MS)))]
    pub initial_delay: Option<HumanDuration>,
    /// No delay is longer than this, jitter included. Default: `5s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::MAX_DELAY_MS)))]
    pub max_delay: Option<HumanDuration>,
    /// Each delay is the previous one times this. Default: `2.0`.
    #[schemars(range(min = 1.0), extend("default" = crate::defaults::MULTIPLIER))]
    pub multiplier: Option<f64>,
    /// Spread each delay uniformly within ±25 % so clients do not retry in lockstep.
    /// Default: `true`.
    #[schemars(extend("default" = crate::defaults::JITTER))]
    pub jitter: Option<bool>,
    /// Which failures are retried, instead of the default (timeouts, connection errors, HTTP
    /// 429, 502, 503, 504, and 500 for idempotent methods). Error classes or HTTP status codes.
    #[schemars(extend("uniqueItems" = true))]
    pub retry_on: Option<Vec<RetryOn>>,
    /// Your own retry decisions instead of the schedule: a type under `handlers::` that
    /// implements the generated `RetryPolicy` trait (`should_retry(attempt, error)` and
    /// `delay(attempt)`). `max_attempts` (default 100 here) and `max_delay` still bound it;
    /// `initial_delay`, `multiplier`, `jitter` and `retry_on` cannot be written beside it.
    pub policy: Option<HandlerRef>,
}

impl Retry {
    /// The keys of this block that make up the generated schedule, which a `policy` replaces.
    pub fn schedule_keys(&self) -> Vec<&'static str> {
        [
            ("initial_delay", self.initial_delay.is_some()),
            ("multiplier", self.multiplier.is_some()),
            ("jitter", self.jitter.is_some()),
            ("retry_on", self.retry_on.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, written)| written.then_some(key))
        .collect()
    }

    /// Whether this block says how failures are retried (a `policy` or a schedule key), so
    /// that a block under it (a default) no longer does.
    pub fn decides(&self) -> bool {
        self.policy.is_some() || !self.schedule_keys().is_empty()
    }

    /// Whether this block's caps (`max_attempts`, `max_delay`) bound a block merged over it
    /// whose retries are decided by a `policy` (`by_policy`) or by a schedule: only when this
    /// one decides the same way, or not at all. A default schedule's caps do not bound a
    /// tool's policy, nor a default policy's a tool's own schedule.
    pub fn caps_bind(&self, by_policy: bool) -> bool {
        if by_policy {
            !self.decides() || self.policy.is_some()
        } else {
            self.policy.is_none()
        }
    }

    /// `self` over `under`, key by key, with `under`'s caps only where they bind (see
    /// [`Retry::caps_bind`]).
    pub fn over(&self, under: &Retry) -> Retry {
        // A block that decides retries itself (a policy or a schedule key) does not inherit
        // the policy of the one under it.
        let policy = if self.decides() {
            self.policy.clone()
        } else {
            under.policy.clone()
        };
        let binds = under.caps_bind(policy.is_some());
        Retry {
            max_attempts: self.max_attempts.or(under.max_attempts.filter(|_| binds)),
            initial_delay: self.initial_delay.or(under.initial_delay),
            max_delay: self.max_delay.or(under.max_delay.filter(|_| binds)),
            multiplier: self.multiplier.or(under.multiplier),
            jitter: self.jitter.or(under.jitter),
            retry_on: self.retry_on.clone().or_else(|| under.retry_on.clone()),
            policy,
        }
    }
}

/// A failure that `retry_on` names: an error class or an HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RetryOn {
    /// A class of errors.
    Class(RetryClass),
    /// One HTTP status code (400 to 599).
    Status(#[schemars(range(min = 400, max = 599))] u16),
}

/// Error tracking: classify errors and keep the recent ones for `pforge://stats`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorTracking {
    /// Default: `true` once the block is written.
    #[schemars(extend("default" = crate::defaults::TRACKING_ENABLED))]
    pub enabled: Option<bool>,
    /// Size of the ring buffer of recent errors (at most 100,000). Default: `100`.
    #[schemars(range(min = 1, max = 100000), extend("default" = crate::defaults::MAX_ERRORS))]
    pub max_errors: Option<u32>,
    /// How errors are grouped. Default: `type`.
    #[schemars(extend("default" = crate::defaults::CLASSIFY_BY))]
    pub classify_by: Option<ClassifyBy>,
    /// Keep each recent error's whole message in `pforge://stats`. By default only its kind
    /// is kept (`HTTP 503`, `exited with status 2`, `invalid arguments`): a whole message can
    /// quote what one caller sent (a validation error names the value) or an upstream's
    /// body, and `pforge://stats` is read by other callers. Turn it on for a server with one
    /// user. Default: `false`.
    #[schemars(extend("default" = crate::defaults::KEEP_MESSAGES))]
    pub keep_messages: Option<bool>,
}

impl ErrorTracking {
    /// This block merged over `under` key by key, as the two spellings of the defaults merge
    /// (`fault_tolerance` over the `recovery` middleware entry).
    pub fn over(&self, under: &ErrorTracking) -> ErrorTracking {
        ErrorTracking {
            enabled: self.enabled.or(under.enabled),
            max_errors: self.max_errors.or(under.max_errors),
            classify_by: self
                .classify_by
                .clone()
                .or_else(|| under.classify_by.clone()),
            keep_messages: self.keep_messages.or(under.keep_messages),
        }
    }
}

/// Grouping of tracked errors: the built-in classes, or your function's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ClassifyBy {
    /// The built-in classes.
    Builtin(BuiltinClassify),
    /// A function under `handlers::`, `fn(&ToolError) -> String`, that names each failed
    /// attempt's class (the chapter's `classify_error`), e.g. `handlers::classify_error`.
    /// `pforge://stats`, `/metrics` and the recent errors show its classes: the first 31
    /// names it returns, then `other`. The breaker's notion of failure does not change.
    Handler(HandlerRef),
}

/// The built-in grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinClassify {
    /// By error class: timeout, connection, rate_limit, service_unavailable, server_error,
    /// circuit_open, bulkhead_full, validation, handler_error, unknown.
    Type,
}

/// Bulkhead: limit how many calls of a tool run at once.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bulkhead {
    /// Attempts allowed in flight at once (at most 1,000,000).
    #[schemars(range(min = 1, max = 1000000))]
    pub max_concurrent: u32,
    /// Callers allowed to wait for a slot (at most 1,000,000); one more is rejected at once.
    /// Default: no limit.
    #[schemars(range(max = 1000000))]
    pub max_queued: Option<u32>,
    /// How long a caller waits for a slot. Default: until a slot frees or the call is
    /// cancelled.
    pub timeout: Option<HumanDuration>,
}

/// What answers when the tool has finally failed: one entry, or a chain tried in order.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Fallback {
    /// A single fallback.
    One(FallbackEntry),
    /// Fallbacks tried in order until one succeeds.
    Chain(Vec<FallbackEntry>),
}

impl Fallback {
    /// The entries in the order they are tried.
    pub fn entries(&self) -> &[FallbackEntry] {
        match self {
            Self::One(entry) => std::slice::from_ref(entry),
            Self::Chain(entries) => entries,
        }
    }
}

/// One fallback.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FallbackEntry {
    /// A native handler that receives the input and the error.
    Native(NativeFallback),
    /// Another HTTP endpoint, templated like an http tool.
    Http(HttpFallback),
    /// A static degraded answer.
    Value(ValueFallback),
}

/// A native fallback handler.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeFallback {
    /// Rust path of the handler, under `handlers::`.
    pub handler: HandlerRef,
}

/// An HTTP fallback.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpFallback {
    /// URL with `{{param}}` placeholders; may start with `${VAR}`.
    #[schemars(example = &"https://backup-api.example.com/data")]
    pub endpoint: String,
    /// HTTP method. Default: `GET`.
    #[schemars(extend("default" = crate::defaults::HTTP_METHOD))]
    pub method: Option<HttpMethod>,
    /// Extra request headers; values may use `${VAR}`.
    pub headers: Option<IndexMap<String, String>>,
}

/// A static fallback answer.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueFallback {
    /// The answer returned, marked as degraded.
    pub value: Value,
}
