//! `src/generated/runtime.rs` of the generated crate: argument parsing, the tool error type,
//! the handler context, and the helpers the tools use. Parts only some tools need are emitted
//! only when the plan uses them.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::Plan;

/// The runtime module of a plan.
pub fn runtime(plan: &Plan) -> TokenStream {
    let env = if plan.needs.http_client || plan.needs.process {
        env_helpers()
    } else {
        quote!()
    };
    let text = if plan.needs.http_client
        || plan.needs.process
        || !plan.prompts.is_empty()
        || plan
            .tools
            .iter()
            .any(|t| matches!(t.kind, crate::plan::KindPlan::Pipeline { .. }))
    {
        placeholder_helpers()
    } else {
        quote!()
    };
    let state = match &plan.state {
        Some(state) => state_store(state.ttl_seconds, state.max_size),
        None => quote!(),
    };
    let templates = if plan
        .resources
        .iter()
        .any(|r| r.resource.uri_template.is_some())
    {
        template_helpers()
    } else {
        quote!()
    };
    let process = if plan.needs.process {
        process_helpers()
    } else {
        quote!()
    };
    let url = if plan.needs.http_client {
        url_helpers()
    } else {
        quote!()
    };
    quote! {
        //! Types and helpers shared by the generated tools.

        use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
        use serde_json::Value;

        /// Why a tool call failed.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ToolError {
            /// The arguments do not fit the tool's parameters; never retried.
            InvalidArguments(String),
            /// The attempt took longer than its timeout.
            Timeout(std::time::Duration),
            /// Connecting failed or the connection broke.
            Connection(String),
            /// The upstream answered with a non-success HTTP status.
            Status {
                /// The HTTP status code.
                status: u16,
                /// Seconds from a `Retry-After` header, if any.
                retry_after: Option<u64>,
                /// The start of the response body.
                body: String,
            },
            /// A command exited with a non-zero status.
            Exit {
                /// The exit code, if the command was not killed by a signal.
                code: Option<i32>,
                /// The end of what it wrote to stderr.
                stderr: String,
            },
            /// A native handler returned an error.
            Handler(String),
            /// The call was cancelled by the client.
            Cancelled,
            /// The tool's circuit breaker is open: the operation was not run.
            CircuitOpen {
                /// When the breaker lets a probe through, in milliseconds from now.
                retry_in_ms: u64,
            },
            /// The tool's bulkhead had no slot.
            BulkheadFull {
                /// How long the call waited, if it queued at all.
                waited_ms: Option<u64>,
            },
            /// The primary path failed and so did every fallback.
            Fallback {
                /// The primary path's failure.
                primary: Box<ToolError>,
                /// Each fallback's failure, labelled, in the order tried.
                failures: Vec<(String, ToolError)>,
            },
        }

        impl ToolError {
            /// Whether the call was turned away by an open breaker or a full bulkhead.
            pub fn is_rejection(&self) -> bool {
                matches!(self, Self::CircuitOpen { .. } | Self::BulkheadFull { .. })
            }

            /// Whether the error counts against the operation's health: a timeout, a connection
            /// error, HTTP 5xx or 429, a non-zero exit or a handler error. Invalid arguments,
            /// other HTTP 4xx, rejections and cancellations do not.
            pub fn is_failure(&self) -> bool {
                match self {
                    Self::Timeout(_) | Self::Connection(_) | Self::Exit { .. } | Self::Handler(_) => true,
                    Self::Status { status, .. } => *status == 429 || *status >= 500,
                    Self::Fallback { primary, .. } => primary.is_failure(),
                    Self::InvalidArguments(_) | Self::Cancelled | Self::CircuitOpen { .. } | Self::BulkheadFull { .. } => false,
                }
            }
        }

        impl std::fmt::Display for ToolError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::InvalidArguments(message) => write!(f, "invalid arguments: {message}"),
                    Self::Timeout(after) => write!(f, "timed out after {} ms", after.as_millis()),
                    Self::Connection(message) => write!(f, "connection error: {message}"),
                    Self::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
                    Self::Exit { code: Some(code), stderr } => write!(f, "exited with status {code}: {stderr}"),
                    Self::Exit { code: None, stderr } => write!(f, "killed by a signal: {stderr}"),
                    Self::Handler(message) => write!(f, "{message}"),
                    Self::Cancelled => write!(f, "cancelled"),
                    Self::CircuitOpen { retry_in_ms } => write!(f, "circuit open: the tool keeps failing, so it was not called (next probe in {retry_in_ms} ms)"),
                    Self::BulkheadFull { waited_ms: None } => write!(f, "bulkhead full: too many calls of this tool in flight"),
                    Self::BulkheadFull { waited_ms: Some(waited) } => write!(f, "bulkhead full: no slot freed within {waited} ms"),
                    Self::Fallback { primary, failures } => {
                        write!(f, "{primary}; every fallback failed")?;
                        for (label, failure) in failures {
                            write!(f, "; {label}: {failure}")?;
                        }
                        Ok(())
                    }
                }
            }
        }

        impl std::error::Error for ToolError {}

        /// The error a native handler returns.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct HandlerError(pub String);

        impl HandlerError {
            /// An error with this message, shown to the client.
            pub fn new(message: impl std::fmt::Display) -> Self {
                Self(message.to_string())
            }
        }

        impl std::fmt::Display for HandlerError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::error::Error for HandlerError {}

        impl From<HandlerError> for ToolError {
            fn from(error: HandlerError) -> Self {
                Self::Handler(error.0)
            }
        }

        /// What a native handler gets besides its input.
        #[derive(Debug, Clone, Copy)]
        pub struct Context<'a> {
            /// Name of the tool or resource being served.
            pub name: &'static str,
            /// The server, for shared state.
            pub server: &'a crate::generated::Server,
        }

        /// Takes one argument out of `arguments`, naming it in the error.
        pub fn take<T: serde::de::DeserializeOwned>(arguments: &mut JsonObject, name: &str) -> Result<Option<T>, ToolError> {
            match arguments.remove(name) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => serde_json::from_value(value)
                    .map(Some)
                    .map_err(|error| ToolError::InvalidArguments(format!("`{name}`: {error}"))),
            }
        }

        /// A required argument.
        pub fn require<T>(value: Option<T>, name: &str) -> Result<T, ToolError> {
            value.ok_or_else(|| ToolError::InvalidArguments(format!("`{name}` is required")))
        }

        /// Rejects arguments no parameter takes.
        pub fn no_extra(arguments: &JsonObject) -> Result<(), ToolError> {
            match arguments.keys().next() {
                Some(name) => Err(ToolError::InvalidArguments(format!("`{name}` is not a parameter of this tool"))),
                None => Ok(()),
            }
        }

        /// Fails with a message that names the parameter when `ok` is false.
        pub fn check(ok: bool, name: &str, rule: &str) -> Result<(), ToolError> {
            if ok { Ok(()) } else { Err(ToolError::InvalidArguments(format!("`{name}` {rule}"))) }
        }

        /// What a tool answered.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Answer {
            /// The answer itself.
            pub value: Value,
            /// Set when a fallback answered because the tool failed.
            pub degraded: Option<Degraded>,
        }

        /// Why an answer is degraded.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Degraded {
            /// The fallback that answered.
            pub fallback: String,
            /// The primary path's failure.
            pub error: String,
        }

        impl From<Value> for Answer {
            fn from(value: Value) -> Self {
                Self { value, degraded: None }
            }
        }

        /// The MCP result of a tool's outcome: objects as structured content, strings as text.
        /// A degraded answer says so in `_meta["pforge/degraded"]`.
        pub fn to_result(outcome: Result<Answer, ToolError>) -> CallToolResult {
            let answer = match outcome {
                Ok(answer) => answer,
                Err(error) => return CallToolResult::error(vec![ContentBlock::text(error.to_string())]),
            };
            let result = match answer.value {
                Value::String(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
                value @ Value::Object(_) => CallToolResult::structured(value),
                other => CallToolResult::success(vec![ContentBlock::text(other.to_string())]),
            };
            match answer.degraded {
                None => result,
                Some(degraded) => {
                    let mut meta = JsonObject::new();
                    meta.insert(
                        "pforge/degraded".to_owned(),
                        serde_json::json!({ "fallback": degraded.fallback, "error": degraded.error }),
                    );
                    result.with_meta(Some(rmcp::model::MetaObject(meta)))
                }
            }
        }

        #text
        #env
        #url
        #process
        #templates
        #state
    }
}

fn placeholder_helpers() -> TokenStream {
    quote! {
        /// The text a value stands for in a `{{placeholder}}`: strings as they are, anything
        /// else as JSON.
        pub fn text_of(value: &Value) -> String {
            match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            }
        }

        /// Fills `{{name}}` placeholders from `values`, passing each through `encode`.
        pub fn fill(template: &str, values: &JsonObject, encode: fn(&str) -> String) -> String {
            let mut out = String::with_capacity(template.len());
            let mut rest = template;
            while let Some(open) = rest.find("{{") {
                out.push_str(&rest[..open]);
                let after = &rest[open + 2..];
                match after.find("}}") {
                    Some(close) => {
                        let name = after[..close].trim();
                        if let Some(value) = values.get(name) {
                            out.push_str(&encode(&text_of(value)));
                        }
                        rest = &after[close + 2..];
                    }
                    None => {
                        out.push_str(&rest[open..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            out
        }

        /// Fills the `{{var}}`s of a step's JSON arguments. A string that is exactly one
        /// placeholder takes the variable's value with its type; other strings get its text.
        pub fn fill_json(arguments: &str, variables: &JsonObject) -> JsonObject {
            fn walk(value: Value, variables: &JsonObject) -> Value {
                match value {
                    Value::String(text) => {
                        let trimmed = text.trim();
                        let whole = trimmed
                            .strip_prefix("{{")
                            .and_then(|t| t.strip_suffix("}}"))
                            .map(str::trim)
                            .filter(|name| !name.contains("{{") && !name.contains("}}"));
                        match whole.and_then(|name| variables.get(name)) {
                            Some(value) => value.clone(),
                            None => Value::String(fill(&text, variables, verbatim)),
                        }
                    }
                    Value::Array(items) => Value::Array(items.into_iter().map(|v| walk(v, variables)).collect()),
                    Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, walk(v, variables))).collect()),
                    other => other,
                }
            }
            match walk(serde_json::from_str(arguments).unwrap_or_default(), variables) {
                Value::Object(map) => map,
                _ => JsonObject::new(),
            }
        }

        /// Whether a condition variable counts as true: set, and not `false`, `null`, `0`,
        /// or empty.
        pub fn truthy(value: Option<&Value>) -> bool {
            match value {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(Value::Object(o)) => !o.is_empty(),
                Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                Some(Value::Bool(true)) => true,
            }
        }

        /// Runs a pipeline step within the smaller of its own timeout and what is left of the
        /// pipeline's budget.
        pub async fn within(
            deadline: Option<tokio::time::Instant>,
            step: Option<std::time::Duration>,
            future: impl std::future::Future<Output = Result<Value, ToolError>>,
        ) -> Result<Value, ToolError> {
            let now = tokio::time::Instant::now();
            let left = deadline.map(|d| d.saturating_duration_since(now));
            let limit = match (left, step) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match limit {
                Some(limit) => tokio::time::timeout(limit, future).await.unwrap_or(Err(ToolError::Timeout(limit))),
                None => future.await,
            }
        }

        /// Leaves a value as it is.
        pub fn verbatim(text: &str) -> String {
            text.to_owned()
        }
    }
}

fn env_helpers() -> TokenStream {
    quote! {
        /// Resolves `${VAR}` and `${VAR:-default}` from the environment when the server runs.
        pub fn expand_env(template: &str) -> String {
            let mut out = String::with_capacity(template.len());
            let mut rest = template;
            while let Some(open) = rest.find("${") {
                out.push_str(&rest[..open]);
                let after = &rest[open + 2..];
                let Some(close) = after.find('}') else {
                    out.push_str(&rest[open..]);
                    return out;
                };
                let inner = &after[..close];
                let (name, default) = match inner.split_once(":-") {
                    Some((name, default)) => (name, Some(default)),
                    None => (inner, None),
                };
                match std::env::var(name) {
                    Ok(value) if !value.is_empty() || default.is_none() => out.push_str(&value),
                    _ => out.push_str(default.unwrap_or_default()),
                }
                rest = &after[close + 1..];
            }
            out.push_str(rest);
            out
        }
    }
}

fn url_helpers() -> TokenStream {
    quote! {
        /// A failed request as a tool error: a timeout, or a connection error that names each
        /// cause but not the URL, which may carry a secret from a `${VAR}`.
        pub fn request_error(error: reqwest::Error) -> ToolError {
            if error.is_timeout() {
                return ToolError::Timeout(std::time::Duration::ZERO);
            }
            let error = error.without_url();
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            ToolError::Connection(message)
        }

        /// Percent-encodes everything but unreserved characters, so a value stays inside its
        /// URL component: `/`, `?`, `#`, `@`, `%` and `..` cannot change the URL's structure.
        pub fn encode_component(text: &str) -> String {
            let mut out = String::with_capacity(text.len());
            for byte in text.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                    out.push(char::from(byte));
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            // A lone `.` or `..` segment would still be read as a path step.
            match out.as_str() {
                "." => "%2E".to_owned(),
                ".." => "%2E%2E".to_owned(),
                _ => out,
            }
        }
    }
}

fn template_helpers() -> TokenStream {
    quote! {
        /// Whether `uri` fits an RFC 6570 level-1 template such as `users://{id}/profile`:
        /// each `{var}` stands for a non-empty text without `/`.
        pub fn template_matches(template: &str, uri: &str) -> bool {
            let mut rest = uri;
            let mut pieces = template.split('{');
            let Some(head) = pieces.next() else { return false };
            let Some(after) = rest.strip_prefix(head) else { return false };
            rest = after;
            for piece in pieces {
                let Some((_, literal)) = piece.split_once('}') else { return false };
                let end = if literal.is_empty() { rest.len() } else { match rest.find(literal) { Some(i) => i, None => return false } };
                let value = &rest[..end];
                if value.is_empty() || value.contains('/') {
                    return false;
                }
                rest = &rest[end + literal.len()..];
            }
            rest.is_empty()
        }
    }
}

fn state_store(ttl_seconds: Option<u64>, max_size: Option<u64>) -> TokenStream {
    let ttl = match ttl_seconds {
        Some(seconds) => {
            let seconds = proc_macro2::Literal::u64_unsuffixed(seconds);
            quote!(Some(std::time::Duration::from_secs(#seconds)))
        }
        None => quote!(None),
    };
    let max = match max_size {
        Some(n) => {
            let n =
                proc_macro2::Literal::usize_unsuffixed(usize::try_from(n).unwrap_or(usize::MAX));
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    quote! {
        /// How long an entry lives (`state.ttl_seconds`).
        const STATE_TTL: Option<std::time::Duration> = #ttl;
        /// Most entries kept (`state.max_size`); the oldest is evicted first.
        const STATE_MAX: Option<usize> = #max;

        #[derive(Debug)]
        struct Entry {
            value: Value,
            written: std::time::Instant,
            order: u64,
        }

        /// The in-memory key-value store native handlers share (`state: memory`).
        #[derive(Debug, Default)]
        pub struct State {
            entries: std::sync::Mutex<(std::collections::HashMap<String, Entry>, u64)>,
        }

        impl State {
            /// The value under `key`, if present, not expired, and of type `T`.
            pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
                let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let expired = guard.0.get(key).is_some_and(|e| STATE_TTL.is_some_and(|ttl| e.written.elapsed() >= ttl));
                if expired {
                    guard.0.remove(key);
                    return None;
                }
                guard.0.get(key).and_then(|e| serde_json::from_value(e.value.clone()).ok())
            }

            /// Stores `value` under `key`, evicting the oldest entry when the store is full.
            pub fn set<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), HandlerError> {
                let value = serde_json::to_value(value).map_err(HandlerError::new)?;
                let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let (entries, counter) = &mut *guard;
                *counter += 1;
                if let Some(max) = STATE_MAX {
                    while entries.len() >= max && !entries.contains_key(key) {
                        let oldest = entries.iter().min_by_key(|(_, e)| e.order).map(|(k, _)| k.clone());
                        match oldest {
                            Some(oldest) => entries.remove(&oldest),
                            None => break,
                        };
                    }
                }
                entries.insert(key.to_owned(), Entry { value, written: std::time::Instant::now(), order: *counter });
                Ok(())
            }

            /// Removes `key`; true when it was present.
            pub fn remove(&self, key: &str) -> bool {
                let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                guard.0.remove(key).is_some()
            }
        }
    }
}

fn process_helpers() -> TokenStream {
    quote! {
        /// Kills a command's whole process group if it is dropped before the command finished.
        #[derive(Debug)]
        pub struct ProcessGroup(Option<u32>);

        impl ProcessGroup {
            /// Watches the group a just-spawned child leads.
            pub fn of(child: &tokio::process::Child) -> Self {
                Self(child.id())
            }

            /// The command finished by itself: nothing to kill.
            pub fn finished(&mut self) {
                self.0 = None;
            }
        }

        impl Drop for ProcessGroup {
            fn drop(&mut self) {
                #[cfg(unix)]
                if let Some(id) = self.0.and_then(|id| i32::try_from(id).ok()) {
                    // The group may already be gone; there is nothing useful to do about an error.
                    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(id), nix::sys::signal::Signal::SIGKILL);
                }
            }
        }
    }
}
