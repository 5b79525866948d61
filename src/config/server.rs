//! The `forge` header, resources, prompts and state.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::duration::HumanDuration;
use super::tool::HandlerRef;

/// Pattern of a crate/binary name.
pub const CRATE_NAME_PATTERN: &str = "^[A-Za-z][A-Za-z0-9_-]{0,63}$";

/// Pattern of a semantic version (semver.org, without build-metadata restrictions relaxed).
pub const SEMVER_PATTERN: &str = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$";

/// The server's identity and transport.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forge {
    /// Name of the generated crate and binary, in snake_case or kebab-case: lower-case
    /// letters, digits and single `-` or `_` between them (`check` suggests the spelling for
    /// any other name).
    #[schemars(regex(pattern = CRATE_NAME_PATTERN), example = &"resilient-api-server")]
    pub name: String,
    /// Version of the server (semver), reported to MCP clients.
    #[schemars(regex(pattern = SEMVER_PATTERN), example = &"1.0.0")]
    pub version: String,
    /// One line about the server, used in the generated README and Cargo.toml.
    pub description: Option<String>,
    /// How clients reach the server. Default: `stdio`.
    #[schemars(extend("default" = crate::defaults::TRANSPORT))]
    pub transport: Option<Transport>,
    /// Address the `http` transport listens on. Default: `127.0.0.1:8080`.
    #[schemars(example = &"127.0.0.1:8080")]
    pub bind: Option<String>,
    /// Cargo profile the server is built with. Default: `debug`.
    #[schemars(extend("default" = crate::defaults::OPTIMIZATION))]
    pub optimization: Option<Optimization>,
    /// Bounds of the `stdio` transport: how much a client can make the server hold.
    pub stdio: Option<StdioLimits>,
    /// Who may reach the `http` transport, and how much of a request it reads.
    pub http: Option<HttpAccess>,
    /// How long calls in flight may take to finish when the server stops: on SIGTERM or
    /// Ctrl-C (http), on the end of stdin (stdio). Calls still running then are stopped.
    /// Default: `10s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::DRAIN_MS)), example = &"30s")]
    pub drain_timeout: Option<HumanDuration>,
    /// Bytes of the largest output a tool reads: a cli tool's stdout, an upstream's body. A
    /// larger one fails the call as soon as it shows, the command killed or the connection
    /// dropped, so a runaway command or a hostile upstream cannot fill the server's memory.
    /// Default: `4194304` (4 MiB).
    #[schemars(range(min = 1024, max = 1073741824), extend("default" = crate::defaults::MAX_OUTPUT_BYTES))]
    pub max_output_bytes: Option<u32>,
}

/// Who may reach the http transport, and how much of a request it reads.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpAccess {
    /// Host names (each optionally with `:port`) clients address the server by. A request whose
    /// `Host` header names another is refused with 403, so that a web page cannot reach the
    /// server through DNS rebinding. Default: `localhost`, `127.0.0.1` and `::1`.
    #[schemars(example = &["mcp.example.com", "mcp.example.com:8443"])]
    pub allowed_hosts: Option<Vec<String>>,
    /// Browser origins (`scheme://host`, with `:port`, or `:*` for any port; `null` for the
    /// browser's opaque origin) whose pages may call the server. A request carrying another
    /// `Origin` header is refused with 403; a request without one (a client that is not a
    /// browser) is served. Default: `http://localhost:*`, `http://127.0.0.1:*` and
    /// `http://[::1]:*`.
    #[schemars(example = &["https://app.example.com"])]
    pub allowed_origins: Option<Vec<String>>,
    /// Bytes of the largest request body; a larger one is refused with 413. Default: `4194304`
    /// (4 MiB, rmcp's own).
    #[schemars(range(min = 1024, max = 1073741824), extend("default" = crate::defaults::MAX_BODY_BYTES))]
    pub max_body_bytes: Option<u32>,
    /// Serve without sessions: every POST is answered on its own, as plain JSON, so that any
    /// replica behind a load balancer can answer any request. Server-to-client requests and
    /// the GET stream are then unavailable. Default: `false`.
    #[schemars(extend("default" = crate::defaults::STATELESS))]
    pub stateless: Option<bool>,
    /// Prometheus metrics at `/metrics`: `true` on the server's own address, `false` for
    /// none, or `{bind: address}` to serve them on their own address (and keep them off the
    /// public one). Default: `true`.
    #[schemars(extend("default" = crate::defaults::METRICS))]
    pub metrics: Option<Metrics>,
    /// Who may call the server. Default: anyone who reaches it.
    pub auth: Option<HttpAuth>,
    /// How long a request head may take to arrive whole, from its first byte; a slower one
    /// has its connection closed, so that half-sent requests cannot hold connections.
    /// Default: `10s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::HEADER_READ_TIMEOUT_MS)))]
    pub header_read_timeout: Option<HumanDuration>,
    /// How long a request body may take to arrive whole, once its head has; a slower one
    /// is refused and its connection closed. Default: `30s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::REQUEST_TIMEOUT_MS)))]
    pub request_timeout: Option<HumanDuration>,
    /// How long a connection may wait, with no request in flight, for its next request
    /// before it is closed. Default: `60s`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::KEEP_ALIVE_TIMEOUT_MS)))]
    pub keep_alive_timeout: Option<HumanDuration>,
    /// Connections open at once. When full, the connection idle the longest (no request in
    /// flight) is closed to make room, so a flood of idle connections cannot lock a client
    /// out; when every connection is busy, the newcomer is closed. Default: `1024`.
    #[schemars(range(min = 1, max = 1048576), extend("default" = crate::defaults::MAX_CONNECTIONS))]
    pub max_connections: Option<u32>,
    /// Live MCP sessions. When full, a new session replaces the one idle the longest (no
    /// request in flight); when every session is busy, `initialize` is refused with 503.
    /// Default: `1024`.
    #[schemars(range(min = 1, max = 1048576), extend("default" = crate::defaults::MAX_SESSIONS))]
    pub max_sessions: Option<u32>,
    /// Live MCP sessions of one caller (one bearer token, or one JWT issuer and subject),
    /// with auth on; a caller's new session beyond it replaces that caller's own session
    /// idle the longest, so no caller can push others' sessions out. Default: `64`.
    #[schemars(range(min = 1, max = 1048576), extend("default" = crate::defaults::MAX_SESSIONS_PER_CALLER))]
    pub max_sessions_per_caller: Option<u32>,
    /// MCP requests (POSTs) answered at once; more wait for one to finish, so that a burst
    /// of callers cannot start more tool calls (processes, upstream requests) than this.
    /// Default: `256`, as `stdio.max_in_flight`.
    #[schemars(range(min = 1, max = 65536), extend("default" = crate::defaults::HTTP_MAX_IN_FLIGHT))]
    pub max_in_flight: Option<u32>,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Metrics {
    /// `true`: on the server's address; `false`: not at all.
    Enabled(bool),
    /// On an address of its own.
    Listen(MetricsListen),
}

/// The address of the metrics endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsListen {
    /// Address `/metrics` (and `/healthz`, `/readyz`) are served on.
    #[schemars(example = &"0.0.0.0:9464")]
    pub bind: String,
}

/// How callers prove who they are: one of `bearer` or `oauth`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpAuth {
    /// Fixed bearer tokens, read from environment variables when the server starts.
    pub bearer: Option<BearerTokens>,
    /// OAuth 2.1: the server accepts JWT access tokens from an authorization server.
    pub oauth: Option<OAuth>,
}

/// Fixed bearer tokens.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerTokens {
    /// Environment variables, each holding one accepted token (two let you rotate a token
    /// without downtime). The tokens never appear in forge.yaml, the generated code or logs.
    #[schemars(example = &["MCP_TOKEN"], length(min = 1))]
    pub env: Vec<String>,
}

/// An OAuth 2.1 resource server: JWT access tokens signed by the authorization server.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    /// The authorization server: the `iss` a token must carry.
    #[schemars(example = &"https://auth.example.com/")]
    pub issuer: String,
    /// The `aud` a token must carry: this server's identifier at the authorization server.
    #[schemars(example = &"https://mcp.example.com/mcp")]
    pub audience: String,
    /// Where the authorization server publishes its signing keys (a JWKS document).
    #[schemars(example = &"https://auth.example.com/.well-known/jwks.json")]
    pub jwks_url: String,
    /// This server's URL as clients know it, announced in the protected resource metadata
    /// (RFC 9728). Default: `audience`.
    #[schemars(example = &"https://mcp.example.com/mcp")]
    pub resource: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`. Default: `60s`; at most `5m`.
    #[schemars(extend("default" = crate::defaults::spelled_ms(crate::defaults::LEEWAY_SECS * 1000)))]
    pub leeway: Option<HumanDuration>,
}

/// Bounds of the stdio transport.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StdioLimits {
    /// Requests the server runs at once, and lines it reads ahead of them. With this many
    /// requests running and as many lines waiting, the server stops reading stdin until one is
    /// answered, so a client that pipelines without limit waits instead of filling the
    /// server's memory. Default: `256`.
    #[schemars(range(min = 1, max = 65536), extend("default" = crate::defaults::STDIO_MAX_IN_FLIGHT))]
    pub max_in_flight: Option<u32>,
    /// Bytes of the longest message (one line). A longer one is answered with an Invalid
    /// Request error and dropped as it is read, never held whole. Default: `16777216` (16 MiB,
    /// as rmcp).
    #[schemars(range(min = 1024, max = 1073741824), extend("default" = crate::defaults::STDIO_MAX_MESSAGE_BYTES))]
    pub max_message_bytes: Option<u32>,
}

/// MCP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// JSON-RPC over standard input and output: the client starts the server.
    Stdio,
    /// MCP streamable HTTP, served on `bind`.
    Http,
}

/// Build profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Optimization {
    /// Fast to compile.
    Debug,
    /// Optimised (`cargo build --release`).
    Release,
}

/// A resource: a static text, a file, or content produced by a native handler.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Fixed URI of the resource. A `file://` URI with neither `content`, `path` nor `handler`
    /// serves that file, read when a client asks for it.
    #[schemars(example = &"file://./README.md")]
    pub uri: Option<String>,
    /// RFC 6570 URI template (`docs://{section}`); needs a `handler`.
    #[schemars(example = &"users://{user_id}/profile")]
    pub uri_template: Option<String>,
    /// Name shown to clients.
    pub name: String,
    /// What the resource holds.
    pub description: Option<String>,
    /// MIME type of the contents. Default: guessed from the file name, else `text/plain`.
    #[schemars(example = &"text/markdown")]
    pub mime_type: Option<String>,
    /// Native handler that produces the contents.
    pub handler: Option<HandlerRef>,
    /// Static contents, embedded into the server.
    pub content: Option<String>,
    /// File whose contents are served, relative to the server's working directory.
    pub path: Option<String>,
}

/// A prompt template.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    /// Name of the prompt (`prompts/get`).
    pub name: String,
    /// What the prompt is for.
    pub description: Option<String>,
    /// Text with `{{argument}}` placeholders. Without it, the prompt is its description.
    pub template: Option<String>,
    /// Arguments: a list of `{name, description, required}` or a map from name to
    /// `{description, required}`. Without this key, each `{{placeholder}}` of the template is
    /// a required argument.
    pub arguments: Option<PromptArguments>,
}

/// The two spellings of prompt arguments.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PromptArguments {
    /// `- {name, description, required}` entries.
    List(Vec<PromptArgument>),
    /// `name: {description, required}` entries.
    Map(IndexMap<String, PromptArgumentDetail>),
}

/// One prompt argument in list form.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptArgument {
    /// Argument name, as used in `{{name}}`.
    pub name: String,
    /// What the argument means.
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it. Default: `false`.
    #[schemars(extend("default" = crate::defaults::REQUIRED))]
    pub required: Option<bool>,
}

/// One prompt argument in map form.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptArgumentDetail {
    /// What the argument means.
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it. Default: `false`.
    #[schemars(extend("default" = crate::defaults::REQUIRED))]
    pub required: Option<bool>,
    /// Prompt arguments are always strings; accepted for compatibility with pforge configs.
    #[serde(rename = "type")]
    pub kind: Option<PromptArgumentType>,
}

/// The only type a prompt argument can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromptArgumentType {
    /// MCP prompt arguments are strings.
    String,
}

/// Shared state for native handlers.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Where state lives. Only `memory` is supported.
    pub backend: StateBackend,
    /// Entries expire this many seconds after they were written. Default: never.
    #[schemars(range(min = 1))]
    pub ttl_seconds: Option<u64>,
    /// Most entries kept; the oldest is evicted first. Default: no limit.
    #[schemars(range(min = 1))]
    pub max_size: Option<u64>,
}

/// State backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    /// An in-process map; contents are lost when the server stops.
    Memory,
}
