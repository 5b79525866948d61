//! Every default of forge.yaml in one place: the value a key takes when it is left out. The
//! schema's `"default"` annotations, the loader's checks and the plan all read these
//! constants, and [`all`] lists the ones a user can see, for the reference page
//! (`docs/src/reference/defaults.md`) and the tests that tie the three together. A bottom
//! module: it uses nothing of the crate.
//!
//! Durations are kept in milliseconds (or seconds), the unit the plan computes with; the
//! schema shows them spelled as forge.yaml would (`60s`, see [`spelled_ms`]).

use serde_json::{Value, json};

/// `forge.transport`: stdio needs no port, no address and no access rules.
pub const TRANSPORT: &str = "stdio";
/// `forge.optimization`: a debug build compiles fastest while a server is being written.
pub const OPTIMIZATION: &str = "debug";
/// `forge.drain_timeout`, in milliseconds: how long calls in flight may take to finish when
/// the server stops; long enough for an ordinary call, short enough for a deploy.
pub const DRAIN_MS: u64 = 10_000;
/// `forge.max_output_bytes`: 4 MiB, as much as the http transport accepts in a request, and
/// 256 calls in flight reading that much hold 1 GiB at most.
pub const MAX_OUTPUT_BYTES: u32 = 4 * 1024 * 1024;
/// The timeout of a cli or http tool whose forge.yaml (and default block) sets none: a
/// command or an upstream that never ends must not hold a call, and its slot, for ever.
pub const OUTSIDE_TIMEOUT_MS: u64 = 30_000;

/// `forge.stdio.max_in_flight`: requests running at once (and lines read ahead of them);
/// enough for any one client, few enough that a flood cannot start unbounded work.
pub const STDIO_MAX_IN_FLIGHT: u32 = 256;
/// `forge.stdio.max_message_bytes`: 16 MiB, rmcp's own limit, so that nothing rmcp's stdio
/// transport accepted is refused.
pub const STDIO_MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;

/// `forge.bind`: this machine only, so a server is not reachable from the network until its
/// author says so.
pub const BIND: &str = "127.0.0.1:8080";
/// `forge.http.allowed_hosts`: this machine's names, which stops DNS rebinding.
pub const ALLOWED_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// `forge.http.allowed_origins`: pages of this machine, on any port.
pub const ALLOWED_ORIGINS: [&str; 3] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];
/// `forge.http.max_body_bytes`: 4 MiB, rmcp's own limit on a request body.
pub const MAX_BODY_BYTES: u32 = 4 * 1024 * 1024;
/// `forge.http.stateless`: sessions on, so that progress and the GET stream work.
pub const STATELESS: bool = false;
/// `forge.http.metrics`: `/metrics` served beside `/mcp`, behind the same auth.
pub const METRICS: bool = true;
/// `forge.http.header_read_timeout`, in milliseconds, from a request head's first byte:
/// enough for any real client on a slow link, short enough that a half-sent request gives
/// its connection up quickly.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// `forge.http.request_timeout`, in milliseconds: a body must arrive within 30 s of its
/// head, time enough for the 4 MiB body limit at about 140 KB/s.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// `forge.http.keep_alive_timeout`, in milliseconds: longer than clients and proxies keep
/// idle connections, so the server is not the one that surprises them.
pub const KEEP_ALIVE_TIMEOUT_MS: u64 = 60_000;
/// `forge.http.max_connections`: below the usual descriptor limit, and an idle connection
/// costs a few KiB.
pub const MAX_CONNECTIONS: u32 = 1024;
/// `forge.http.max_sessions`: about 60 KiB a session, so about 64 MiB at most.
pub const MAX_SESSIONS: u32 = 1024;
/// `forge.http.max_sessions_per_caller`: many more than the one per client window a user
/// opens, so that one credential cannot push out the others'.
pub const MAX_SESSIONS_PER_CALLER: u32 = 64;
/// `forge.http.max_in_flight`: calls running at once, as on stdio.
pub const HTTP_MAX_IN_FLIGHT: u32 = STDIO_MAX_IN_FLIGHT;
/// `forge.http.auth.oauth.leeway`, in seconds: clock skew tolerated on a JWT's `exp` and
/// `nbf`, a minute, what common JWT libraries allow.
pub const LEEWAY_SECS: u64 = 60;
/// An `api_key` auth's `header`: the name most APIs use.
pub const API_KEY_HEADER: &str = "X-API-Key";
/// An http tool's or http fallback's `method`: reading is the common case, and safe to retry.
pub const HTTP_METHOD: &str = "GET";
/// An http tool's `follow_redirects`: a redirect could carry credentials to another origin.
pub const FOLLOW_REDIRECTS: bool = false;
/// A cli tool's `stream`: the answer is the whole output.
pub const STREAM: bool = false;
/// A tool's `middleware`: the `native` middleware entries wrap every tool.
pub const TOOL_MIDDLEWARE: bool = true;
/// A pipeline step's `error_policy`: a failed step fails the pipeline.
pub const ERROR_POLICY: &str = "fail_fast";
/// A parameter's (long form) or a prompt argument's `required`: callers may leave it out.
pub const REQUIRED: bool = false;
/// A parameter's `allow_options`: a value beginning with `-` cannot become a command's option.
pub const ALLOW_OPTIONS: bool = false;
/// A resource's `mime_type`.
pub const MIME_TYPE: &str = "text/plain";

/// A circuit breaker's `enabled`: writing the block turns it on.
pub const BREAKER_ENABLED: bool = true;
/// A circuit breaker's `failure_threshold`: five failures in a row are not bad luck.
pub const FAILURE_THRESHOLD: u32 = 5;
/// A circuit breaker's `timeout`, in milliseconds: how long it stays open before a probe.
pub const OPEN_MS: u64 = 60_000;
/// A circuit breaker's `success_threshold`: two good probes in a row close it.
pub const SUCCESS_THRESHOLD: u32 = 2;
/// A retry's `max_attempts`: the first attempt and two retries.
pub const MAX_ATTEMPTS: u32 = 3;
/// A retry's `max_attempts` when a user's `RetryPolicy` decides: the most forge.yaml allows,
/// so that the policy's own limit is the one that counts.
pub const POLICY_MAX_ATTEMPTS: u32 = 100;
/// A retry's `initial_delay`, in milliseconds: the delay before the second attempt.
pub const INITIAL_DELAY_MS: u64 = 100;
/// A retry's `max_delay`, in milliseconds: no delay, jitter included, is longer.
pub const MAX_DELAY_MS: u64 = 5_000;
/// A retry's `multiplier`: each delay doubles.
pub const MULTIPLIER: f64 = 2.0;
/// A retry's `jitter`: on, so that clients do not retry in lockstep.
pub const JITTER: bool = true;
/// Error tracking's `enabled`: writing the block turns it on.
pub const TRACKING_ENABLED: bool = true;
/// Error tracking's `max_errors`: recent errors kept for `pforge://stats`.
pub const MAX_ERRORS: u32 = 100;
/// Error tracking's `classify_by`: the built-in classes.
pub const CLASSIFY_BY: &str = "type";
/// Error tracking's `keep_messages`: a whole message can quote one caller's values, and
/// `pforge://stats` is read by every caller.
pub const KEEP_MESSAGES: bool = false;

/// Values a user cannot write: they follow from the defaults above or bound what is written.
pub mod internal {
    /// Spread of jittered delays: ±25 %, enough to break lockstep, small enough to keep the
    /// schedule's shape.
    pub const JITTER_PERCENT: u32 = 25;
    /// The largest `oauth.leeway`, in seconds: more would keep expired tokens alive.
    pub const MAX_LEEWAY_SECS: u64 = 300;
    /// The longest `forge.drain_timeout`, in seconds: a stopping server is out of service
    /// for this long at most.
    pub const MAX_DRAIN_SECS: u64 = 3600;
}

/// `ms` as forge.yaml spells a duration: whole seconds as `60s`, anything else as `100ms`.
pub fn spelled_ms(ms: u64) -> String {
    if ms != 0 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// One default a user can see.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where it applies in forge.yaml: `forge.http.max_body_bytes`; `tools[].stream` for each
    /// tool; `circuit_breaker.timeout` wherever such a block is written.
    pub key: &'static str,
    /// The schema's `definition.property` that states it as `"default"`, or `None` when the
    /// schema can only say it in prose (it depends on other keys, or on no key at all).
    pub schema: Option<&'static str>,
    /// The value, as forge.yaml would spell it.
    pub value: Value,
    /// What it means, in a few words.
    pub meaning: &'static str,
}

fn entry(
    key: &'static str,
    schema: Option<&'static str>,
    value: Value,
    meaning: &'static str,
) -> Entry {
    Entry {
        key,
        schema,
        value,
        meaning,
    }
}

/// Every default a user can see, in the order of the reference page.
pub fn all() -> Vec<Entry> {
    let mut all = server();
    all.extend(http());
    all.extend(tools());
    all.extend(policies());
    all
}

#[rustfmt::skip]
fn server() -> Vec<Entry> {
    vec![
        entry("forge.transport", Some("Forge.transport"), json!(TRANSPORT), "how clients reach the server"),
        entry("forge.optimization", Some("Forge.optimization"), json!(OPTIMIZATION), "Cargo profile of the build"),
        entry("forge.drain_timeout", Some("Forge.drain_timeout"), json!(spelled_ms(DRAIN_MS)), "time calls in flight get to finish when the server stops"),
        entry("forge.max_output_bytes", Some("Forge.max_output_bytes"), json!(MAX_OUTPUT_BYTES), "largest output a tool reads (a command's stdout, an upstream's body): 4 MiB"),
        entry("forge.stdio.max_in_flight", Some("StdioLimits.max_in_flight"), json!(STDIO_MAX_IN_FLIGHT), "requests running at once on stdio"),
        entry("forge.stdio.max_message_bytes", Some("StdioLimits.max_message_bytes"), json!(STDIO_MAX_MESSAGE_BYTES), "largest message read from stdin: 16 MiB"),
        entry("tools[].timeout_ms", None, json!(OUTSIDE_TIMEOUT_MS), "milliseconds a cli or http tool (or one with an http fallback) may take when neither it nor `fault_tolerance` sets a timeout"),
    ]
}

#[rustfmt::skip]
fn http() -> Vec<Entry> {
    vec![
        entry("forge.bind", None, json!(BIND), "address the http transport listens on"),
        entry("forge.http.allowed_hosts", None, json!(ALLOWED_HOSTS), "`Host` names served"),
        entry("forge.http.allowed_origins", None, json!(ALLOWED_ORIGINS), "browser origins served"),
        entry("forge.http.max_body_bytes", Some("HttpAccess.max_body_bytes"), json!(MAX_BODY_BYTES), "largest request body: 4 MiB"),
        entry("forge.http.stateless", Some("HttpAccess.stateless"), json!(STATELESS), "no sessions"),
        entry("forge.http.metrics", Some("HttpAccess.metrics"), json!(METRICS), "`/metrics` served beside `/mcp`"),
        entry("forge.http.header_read_timeout", Some("HttpAccess.header_read_timeout"), json!(spelled_ms(HEADER_READ_TIMEOUT_MS)), "time a request head gets from its first byte"),
        entry("forge.http.request_timeout", Some("HttpAccess.request_timeout"), json!(spelled_ms(REQUEST_TIMEOUT_MS)), "time a request body gets after its head"),
        entry("forge.http.keep_alive_timeout", Some("HttpAccess.keep_alive_timeout"), json!(spelled_ms(KEEP_ALIVE_TIMEOUT_MS)), "how long an idle connection is kept"),
        entry("forge.http.max_connections", Some("HttpAccess.max_connections"), json!(MAX_CONNECTIONS), "connections open at once"),
        entry("forge.http.max_sessions", Some("HttpAccess.max_sessions"), json!(MAX_SESSIONS), "sessions open at once"),
        entry("forge.http.max_sessions_per_caller", Some("HttpAccess.max_sessions_per_caller"), json!(MAX_SESSIONS_PER_CALLER), "sessions one credential may hold"),
        entry("forge.http.max_in_flight", Some("HttpAccess.max_in_flight"), json!(HTTP_MAX_IN_FLIGHT), "calls running at once over http"),
        entry("forge.http.auth.oauth.leeway", Some("OAuth.leeway"), json!(spelled_ms(LEEWAY_SECS * 1000)), "clock skew tolerated on `exp` and `nbf`"),
    ]
}

#[rustfmt::skip]
fn tools() -> Vec<Entry> {
    vec![
        entry("tools[].middleware", Some("Tool.middleware"), json!(TOOL_MIDDLEWARE), "the `native` middleware entries wrap the tool"),
        entry("tools[].args", Some("Tool.args"), json!([]), "a cli tool's command runs without arguments"),
        entry("tools[].stream", Some("Tool.stream"), json!(STREAM), "a cli tool's output is sent as progress while it runs"),
        entry("tools[].method", Some("Tool.method"), json!(HTTP_METHOD), "an http tool's method"),
        entry("tools[].follow_redirects", Some("Tool.follow_redirects"), json!(FOLLOW_REDIRECTS), "an http tool follows same-origin redirects"),
        entry("tools[].auth.header", Some("Auth.header"), json!(API_KEY_HEADER), "header of an `api_key` credential"),
        entry("tools[].steps[].error_policy", Some("PipelineStep.error_policy"), json!(ERROR_POLICY), "what a failed pipeline step does"),
        entry("tools[].params.*.required", Some("ParamDetail.required"), json!(REQUIRED), "callers must supply the parameter (long form)"),
        entry("tools[].params.*.allow_options", Some("ParamDetail.allow_options"), json!(ALLOW_OPTIONS), "a value may begin with `-` where it starts a command argument"),
        entry("prompts[].arguments[].required", Some("PromptArgument.required"), json!(REQUIRED), "`prompts/get` must supply the argument"),
        entry("prompts[].arguments.*.required", Some("PromptArgumentDetail.required"), json!(REQUIRED), "`prompts/get` must supply the argument (map form)"),
        entry("resources[].mime_type", None, json!(MIME_TYPE), "MIME type of a resource"),
    ]
}

#[rustfmt::skip]
fn policies() -> Vec<Entry> {
    vec![
        entry("circuit_breaker.enabled", Some("CircuitBreaker.enabled"), json!(BREAKER_ENABLED), "the breaker is on"),
        entry("circuit_breaker.failure_threshold", Some("CircuitBreaker.failure_threshold"), json!(FAILURE_THRESHOLD), "failures in a row that open it"),
        entry("circuit_breaker.timeout", Some("CircuitBreaker.timeout"), json!(spelled_ms(OPEN_MS)), "how long it stays open before a probe"),
        entry("circuit_breaker.success_threshold", Some("CircuitBreaker.success_threshold"), json!(SUCCESS_THRESHOLD), "good probes in a row that close it"),
        entry("retry.max_attempts", Some("Retry.max_attempts"), json!(MAX_ATTEMPTS), "attempts in all, the first included"),
        entry("retry.max_attempts (with `policy`)", None, json!(POLICY_MAX_ATTEMPTS), "attempts in all when a `RetryPolicy` decides"),
        entry("retry.initial_delay", Some("Retry.initial_delay"), json!(spelled_ms(INITIAL_DELAY_MS)), "delay before the second attempt"),
        entry("retry.max_delay", Some("Retry.max_delay"), json!(spelled_ms(MAX_DELAY_MS)), "cap of every delay, jitter included"),
        entry("retry.multiplier", Some("Retry.multiplier"), json!(MULTIPLIER), "growth of the delay per attempt"),
        entry("retry.jitter", Some("Retry.jitter"), json!(JITTER), "delays spread by ±25 %"),
        entry("error_tracking.enabled", Some("ErrorTracking.enabled"), json!(TRACKING_ENABLED), "tracking is on once the block is written"),
        entry("error_tracking.max_errors", Some("ErrorTracking.max_errors"), json!(MAX_ERRORS), "recent errors kept"),
        entry("error_tracking.classify_by", Some("ErrorTracking.classify_by"), json!(CLASSIFY_BY), "how errors are grouped"),
        entry("error_tracking.keep_messages", Some("ErrorTracking.keep_messages"), json!(KEEP_MESSAGES), "recent errors keep their whole message"),
        entry("fallback.method", Some("FallbackEntry.method"), json!(HTTP_METHOD), "an http fallback's method"),
    ]
}
