//! The resilience of one tool module, specialized: constants for its numbers, and one function
//! per layer it has, outside in: fallback → retry → breaker → bulkhead → timeout → attempt.
//! A layer the tool does not have is not emitted at all. Layers take the operation they wrap
//! as a value, so the generated tests drive the same functions with injected outcomes.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::handlers::path_tokens;
use super::ident;
use crate::plan::FallbackPlan as FallbackEntry;
use crate::plan::{Failure, RetryClass, RetryOnPlan, RetryPlan, Schedule, ToolPlan};

/// Milliseconds as an unsuffixed literal.
pub fn ms_literal(ms: u64) -> Literal {
    Literal::u64_unsuffixed(ms)
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The timeout that bounds each attempt, in milliseconds.
pub fn attempt_timeout(tool: &ToolPlan) -> Option<u64> {
    tool.attempt_timeout().map(millis)
}

/// A duration for people: `5 s`, `250 ms`.
pub fn human_ms(ms: u64) -> String {
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// The label of a fallback in logs, errors and `_meta`.
pub fn fallback_label(entry: &FallbackEntry) -> String {
    match entry {
        FallbackEntry::Native(handler) => format!("native {}", handler.written()),
        FallbackEntry::Http(call) => format!("http {} {}", call.method.as_str(), call.endpoint),
        FallbackEntry::Value(_) => "value".to_owned(),
    }
}

fn fallback_short(entry: &FallbackEntry) -> String {
    match entry {
        FallbackEntry::Native(handler) => handler.name().to_owned(),
        FallbackEntry::Http(call) => format!("http {}", call.host),
        FallbackEntry::Value(_) => "value".to_owned(),
    }
}

/// The policy in one line, e.g. `timeout 10 s/attempt · 3 attempts 100 ms→200 ms ±25 % ·
/// breaker 5/60 s/2 · bulkhead 20 · fallback UserDataFallback`.
pub fn summary(tool: &ToolPlan) -> Option<String> {
    let policy = &tool.policy;
    let mut parts = Vec::new();
    if let Some(ms) = attempt_timeout(tool) {
        parts.push(format!("timeout {}/attempt", human_ms(ms)));
    }
    if let Some(ms) = tool.budget().map(millis) {
        parts.push(format!("budget {}", human_ms(ms)));
    }
    if let Some(retry) = &policy.retry {
        parts.push(retry_summary(retry));
    }
    if let Some(breaker) = &policy.breaker {
        parts.push(format!(
            "breaker {}/{}/{}",
            breaker.failure_threshold,
            human_ms(millis(breaker.open_for)),
            breaker.success_threshold
        ));
    }
    if let Some(bulkhead) = &policy.bulkhead {
        let mut text = format!("bulkhead {}", bulkhead.max_concurrent);
        if let Some(queued) = bulkhead.max_queued {
            text.push_str(&format!("+{queued} queued"));
        }
        if let Some(wait) = bulkhead.wait {
            text.push_str(&format!(" wait {}", human_ms(millis(wait))));
        }
        parts.push(text);
    }
    if !policy.fallback.is_empty() {
        let names: Vec<String> = policy.fallback.iter().map(fallback_short).collect();
        parts.push(format!("fallback {}", names.join("→")));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The retry layer in a few words, every number in force: `3 attempts 100 ms→200 ms ±25 %
/// (waits ≤5 s) on timeout`, or `≤100 attempts by CustomRetryPolicy (waits ≤5 s)`.
fn retry_summary(retry: &RetryPlan) -> String {
    // `max_delay` caps every wait: the jittered ones, `Retry-After`'s and a policy's.
    let hours = 3_600_000;
    let cap = if retry.max_delay_ms >= hours && retry.max_delay_ms.is_multiple_of(hours) {
        format!("(waits ≤{} h)", retry.max_delay_ms / hours)
    } else {
        format!("(waits ≤{})", human_ms(retry.max_delay_ms))
    };
    let Some(schedule) = retry.schedule() else {
        let by = retry.policy().map_or("", |p| p.name());
        return if retry.max_attempts == 1 {
            format!("1 attempt by {by}")
        } else {
            format!("≤{} attempts by {by} {cap}", retry.max_attempts)
        };
    };
    let mut text = if retry.max_attempts == 1 {
        "1 attempt".to_owned()
    } else {
        let delays: Vec<String> = schedule.delays_ms.iter().map(|d| human_ms(*d)).collect();
        format!("{} attempts {}", retry.max_attempts, delays.join("→"))
    };
    if schedule.jitter && retry.max_attempts > 1 {
        text.push_str(" ±25 %");
    }
    if retry.max_attempts > 1 {
        text.push_str(&format!(" {cap}"));
    }
    if let RetryOnPlan::Listed { classes, statuses } = &schedule.retry_on {
        let names: Vec<String> = classes
            .iter()
            .map(|c| RetryClass::name(*c).to_owned())
            .chain(statuses.iter().map(u16::to_string))
            .collect();
        text.push_str(&format!(" on {}", names.join(", ")));
    }
    text
}

/// The body of `retryable`: a `match` on the error, with status codes as number patterns.
fn retry_pattern(schedule: &Schedule) -> TokenStream {
    let on = &schedule.retry_on;
    let mut alternatives: Vec<TokenStream> = Vec::new();
    if on.retries(Failure::Timeout) {
        alternatives.push(quote!(ToolError::Timeout(_)));
    }
    if on.retries(Failure::Connection) {
        alternatives.push(quote!(ToolError::Connection(_)));
    }
    if on.retries(Failure::Handler) {
        alternatives.push(quote!(ToolError::Handler(_)));
        alternatives.push(quote!(ToolError::Exit { .. }));
    }
    let statuses = ranges(&on.statuses());
    let classes = (!alternatives.is_empty()).then(|| quote!(#(#alternatives)|* => true,));
    let status = (!statuses.is_empty())
        .then(|| quote!(ToolError::Status { status, .. } => #(#statuses)||*,));
    if classes.is_none() && status.is_none() {
        return quote!(let _ = error; false);
    }
    if status.is_none() {
        // Only classes: one `matches!` (a `match` of booleans would be clippy's lint).
        return quote!(matches!(error, #(#alternatives)|*));
    }
    quote! {
        match error {
            #classes
            #status
            _ => false,
        }
    }
}

/// Tests of `status` for sorted codes (`*status == 429 || (500..=502).contains(status)`).
fn ranges(codes: &[u16]) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut index = 0;
    while index < codes.len() {
        let start = codes[index];
        let mut end = start;
        while index + 1 < codes.len() && codes[index + 1] == end + 1 {
            index += 1;
            end = codes[index];
        }
        let (a, b) = (Literal::u16_unsuffixed(start), Literal::u16_unsuffixed(end));
        out.push(if start == end {
            quote!(*status == #a)
        } else {
            quote!((#a..=#b).contains(status))
        });
        index += 1;
    }
    out
}

/// Whether a retry policy retries an error of this shape, for the generated tests' choice of
/// samples.
pub fn retries(schedule: &Schedule, sample: &Sample) -> bool {
    let on = &schedule.retry_on;
    match sample {
        Sample::Timeout => on.retries(Failure::Timeout),
        Sample::Connection => on.retries(Failure::Connection),
        Sample::Handler => on.retries(Failure::Handler),
        Sample::Status(code) => on.retries_status(*code),
    }
}

/// An error the generated tests inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// `ToolError::Timeout`.
    Timeout,
    /// `ToolError::Connection`.
    Connection,
    /// `ToolError::Handler`.
    Handler,
    /// `ToolError::Status`.
    Status(u16),
}

impl Sample {
    /// Candidates, most typical first.
    pub const ALL: [Self; 9] = [
        Self::Connection,
        Self::Timeout,
        Self::Status(503),
        Self::Status(429),
        Self::Status(502),
        Self::Status(500),
        Self::Handler,
        Self::Status(404),
        Self::Status(400),
    ];

    /// The error as an expression.
    pub fn tokens(self) -> TokenStream {
        match self {
            Self::Timeout => quote!(ToolError::Timeout(::std::time::Duration::from_millis(1))),
            Self::Connection => quote!(ToolError::Connection("injected".to_owned())),
            Self::Handler => quote!(ToolError::Handler("injected".to_owned())),
            Self::Status(code) => {
                let code = Literal::u16_unsuffixed(code);
                quote!(ToolError::Status { status: #code, retry_after: None, body: "injected".to_owned() })
            }
        }
    }
}

/// The field of `Handlers` holding the tool's retry policy.
pub fn retry_policy_field(tool: &ToolPlan) -> proc_macro2::Ident {
    super::ident(&crate::naming::retry_policy_field(tool.index))
}

/// The field of `Handlers` holding a type fallback.
pub fn fallback_field(tool: &ToolPlan, index: usize) -> proc_macro2::Ident {
    super::ident(&crate::naming::fallback_field(tool.index, index))
}

/// The policy items of a tool module: constants, guards, `invoke`. The layers are the
/// runtime's generic code, specialized for the tool by its types (`Breaker`, `Bulkhead`) and
/// constants (`TIMEOUT`, `RETRY`, `FALLBACKS`).
pub fn policy_items(tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let policy = &tool.policy;
    let consts = constants(tool);
    let guards = guards_struct(tool);

    // Named closures keep each line one short call, as rustfmt prints it.
    let one = guarded_attempt(tool, quote!(attempt(server, input)));
    let stats = if policy.fallback.is_empty() {
        quote!(server.stats().of(INDEX, NAME))
    } else {
        quote!(stats)
    };
    let (bind_primary, primary) = if let Some(retry) = &policy.retry {
        let decider = retry.policy().map(|_| {
            let field = retry_policy_field(tool);
            quote!(&server.handlers().#field,)
        });
        (
            quote!(let primary = || #one;),
            quote!(RETRY.run(#decider #stats, primary).await),
        )
    } else {
        (quote!(), quote!(#one.await))
    };
    let invoke = if policy.fallback.is_empty() {
        quote! {
            /// One protected call of the tool.
            pub async fn invoke(server: &Server, input: &#input) -> Result<Value, ToolError> {
                #bind_primary
                #primary
            }
        }
    } else {
        let entry = if policy.fallback.len() == 1 {
            quote!(|_, error| fallback(server, input, error))
        } else {
            quote!(|index, error| fallback(server, input, index, error))
        };
        quote! {
            /// One protected call of the tool: a fallback answers when the primary path
            /// finally fails.
            pub async fn invoke(server: &Server, input: &#input) -> Result<Answer, ToolError> {
                let stats = server.stats().of(INDEX, NAME);
                #bind_primary
                let fallbacks = #entry;
                match #primary {
                    Ok(value) => Ok(Answer::from(value)),
                    Err(error) => FALLBACKS.run(stats, error, fallbacks).await,
                }
            }
        }
    };
    let retried = policy.retry.as_ref().map(retry_items);
    let fallback = (!policy.fallback.is_empty()).then(|| fallback_fns(tool));
    quote! {
        #consts
        #guards
        #invoke
        #retried
        #fallback
    }
}

fn constants(tool: &ToolPlan) -> TokenStream {
    let policy = &tool.policy;
    let mut out = TokenStream::new();
    if let Some(ms) = attempt_timeout(tool) {
        let doc = super::doc(&format!(
            "Each attempt may take at most {ms} ms (`timeout_ms`)."
        ));
        let ms = ms_literal(ms);
        out.extend(quote! {
            #doc
            pub const TIMEOUT: ::std::time::Duration = ::std::time::Duration::from_millis(#ms);
        });
    }
    if let Some(breaker) = &policy.breaker {
        let open = millis(breaker.open_for);
        let doc = super::doc(&format!(
            "This tool's circuit breaker (`circuit_breaker`): it opens after {} consecutive \
             failures, stays open {open} ms, then closes after {} successful probes.",
            breaker.failure_threshold, breaker.success_threshold
        ));
        let failures = Literal::u32_unsuffixed(breaker.failure_threshold);
        let open = ms_literal(open);
        let probes = Literal::u32_unsuffixed(breaker.success_threshold);
        out.extend(quote! {
            #doc
            pub type Breaker = resilience::CircuitBreaker<#failures, #open, #probes>;
        });
    }
    if let Some(bulkhead) = &policy.bulkhead {
        let max = Literal::u32_unsuffixed(bulkhead.max_concurrent);
        let queue = bulkhead
            .max_queued
            .map_or(quote!({ resilience::UNBOUNDED }), |q| {
                let q = Literal::u32_unsuffixed(q);
                quote!(#q)
            });
        let wait = bulkhead.wait.map_or(quote!({ resilience::FOREVER }), |w| {
            let w = ms_literal(millis(w));
            quote!(#w)
        });
        let queued = match bulkhead.max_queued {
            Some(q) => format!("at most {q} callers wait for a slot (`max_queued`)"),
            None => "callers may all wait for a slot".to_owned(),
        };
        let waits = match bulkhead.wait {
            Some(w) => format!("each at most {} ms (`timeout`)", millis(w)),
            None => "until one frees".to_owned(),
        };
        let doc = super::doc(&format!(
            "This tool's bulkhead: {} attempts in flight at once (`bulkhead.max_concurrent`); \
             {queued}, {waits}.",
            bulkhead.max_concurrent
        ));
        out.extend(quote! {
            #doc
            pub type Bulkhead = resilience::Bulkhead<#max, #queue, #wait>;
        });
    }
    if !policy.fallback.is_empty() {
        let labels = policy.fallback.iter().map(fallback_label);
        let count_primary = policy.retry.is_none();
        out.extend(quote! {
            /// The fallbacks, in the order they are tried once the primary path has failed.
            pub const FALLBACKS: resilience::Fallbacks = resilience::Fallbacks {
                labels: &[#(#labels),*],
                count_primary: #count_primary,
            };
        });
    }
    out
}

fn guards_struct(tool: &ToolPlan) -> TokenStream {
    if !tool.is_guarded() {
        return quote!();
    }
    let (breaker, bulkhead) = (
        tool.policy.breaker.is_some(),
        tool.policy.bulkhead.is_some(),
    );
    let breaker = if breaker { quote!(Breaker) } else { quote!(()) };
    let bulkhead = if bulkhead {
        quote!(Bulkhead)
    } else {
        quote!(())
    };
    let module = ident(&tool.module);
    quote! {
        /// The state this tool's policy keeps; the server holds one per tool.
        pub type Guards = resilience::Guards<#breaker, #bulkhead>;

        /// This tool's guards in `server`.
        pub fn guards(server: &Server) -> &Guards {
            &server.guards().#module
        }
    }
}

fn retry_items(retry: &RetryPlan) -> TokenStream {
    match &retry.decisions {
        crate::plan::RetryDecisions::Schedule(schedule) => schedule_items(retry, schedule),
        crate::plan::RetryDecisions::Policy(path) => policy_retry_items(retry, path),
    }
}

fn policy_retry_items(retry: &RetryPlan, path: &crate::naming::HandlerPath) -> TokenStream {
    let honours_retry_after = retry.retry_after;
    let attempts = Literal::u32_unsuffixed(retry.max_attempts);
    let max = ms_literal(retry.max_delay_ms);
    let doc = super::doc(&format!(
        "The retry layer (`retry`): `{}` decides which failures are retried and how long          each wait is{}; at most {} attempts, each wait at most {} ms.",
        path.written(),
        if honours_retry_after {
            " (a 429/503's `Retry-After` is honoured)"
        } else {
            ""
        },
        retry.max_attempts,
        retry.max_delay_ms,
    ));
    quote! {
        #doc
        const RETRY: resilience::PolicyRetry = resilience::PolicyRetry {
            max_attempts: #attempts,
            max_delay_ms: #max,
            retry_after: #honours_retry_after,
        };
    }
}

fn schedule_items(retry: &RetryPlan, schedule: &Schedule) -> TokenStream {
    let jitter = schedule.jitter;
    let honours_retry_after = retry.retry_after;
    let delays = schedule.delays_ms.iter().map(|d| ms_literal(*d));
    let max = ms_literal(retry.max_delay_ms);
    let waits: Vec<String> = schedule.delays_ms.iter().map(u64::to_string).collect();
    let doc = super::doc(&format!(
        "The retry layer (`retry`): {} attempts, {} ms apart{}{}, each wait at most {} ms; \
         it retries {}.",
        retry.max_attempts,
        if waits.is_empty() {
            "0".to_owned()
        } else {
            waits.join(", ")
        },
        if schedule.jitter { " ±25 %" } else { "" },
        if honours_retry_after {
            " (or as a 429/503's `Retry-After` asks)"
        } else {
            ""
        },
        retry.max_delay_ms,
        retry_on_text(schedule)
    ));
    let (retryable, own) = match &schedule.retry_on {
        RetryOnPlan::Default { retry_500: true } => {
            (quote!(retryable: resilience::transient_or_500,), None)
        }
        RetryOnPlan::Default { retry_500: false } => {
            (quote!(retryable: resilience::transient,), None)
        }
        RetryOnPlan::Listed { .. } => {
            let pattern = retry_pattern(schedule);
            let doc = super::doc(&format!(
                "Whether a failed attempt is tried again: {}.",
                retry_on_text(schedule)
            ));
            let own = quote! {
                #doc
                pub fn retryable(error: &ToolError) -> bool {
                    #pattern
                }
            };
            (quote!(retryable,), Some(own))
        }
    };
    quote! {
        #doc
        const RETRY: resilience::Retry = resilience::Retry {
            backoff_ms: &[#(#delays),*],
            max_delay_ms: #max,
            jitter: #jitter,
            retry_after: #honours_retry_after,
            #retryable
        };

        #own
    }
}

fn retry_on_text(schedule: &Schedule) -> String {
    match &schedule.retry_on {
        RetryOnPlan::Default { retry_500: true } => {
            "timeouts, connection errors, HTTP 429, 500, 502, 503 and 504".to_owned()
        }
        RetryOnPlan::Default { retry_500: false } => {
            "timeouts, connection errors, HTTP 429, 502, 503 and 504".to_owned()
        }
        RetryOnPlan::Listed { classes, statuses } => {
            let names: Vec<String> = classes
                .iter()
                .map(|c| format!("`{}`", RetryClass::name(*c)))
                .chain(statuses.iter().map(|s| format!("HTTP {s}")))
                .collect();
            if names.is_empty() {
                "nothing (`retry_on` is empty)".to_owned()
            } else {
                format!("{} (`retry_on`)", names.join(", "))
            }
        }
    }
}

/// `operation` (a future) through the tool's guards: its breaker and bulkhead (the
/// runtime's `Guards::run`), and the attempt timeout.
pub fn guarded_attempt(tool: &ToolPlan, operation: TokenStream) -> TokenStream {
    let timeout = attempt_timeout(tool).is_some();
    if tool.is_guarded() {
        let limit = if timeout {
            quote!(Some(TIMEOUT))
        } else {
            quote!(None)
        };
        quote!(guards(server).run(NAME, #limit, #operation))
    } else if timeout {
        quote!(resilience::with_timeout(TIMEOUT, #operation))
    } else {
        operation
    }
}

fn fallback_fns(tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let single = tool.policy.fallback.len() == 1;
    let entries: Vec<TokenStream> = tool
        .policy
        .fallback
        .iter()
        .enumerate()
        .map(|(index, entry)| fallback_entry(tool, index, entry))
        .collect();
    let uses_error = tool
        .policy
        .fallback
        .iter()
        .any(|e| matches!(e, FallbackEntry::Native(_)));
    let uses_input = tool
        .policy
        .fallback
        .iter()
        .any(|e| !matches!(e, FallbackEntry::Value(_)));
    let error_param = if uses_error {
        quote!(error)
    } else {
        quote!(_error)
    };
    let (input_param, server_param) = if uses_input {
        (quote!(input), quote!(server))
    } else {
        (quote!(_input), quote!(_server))
    };
    let (index_param, body) = if single {
        (quote!(), entries.into_iter().next().unwrap_or_default())
    } else {
        let last = entries.len() - 1;
        let arms = entries.iter().enumerate().map(|(i, body)| {
            if i == last {
                quote!(_ => #body,)
            } else {
                let i = Literal::usize_unsuffixed(i);
                quote!(#i => #body,)
            }
        });
        (quote!(index: usize,), quote!(match index { #(#arms)* }))
    };
    let constants =
        tool.policy
            .fallback
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| match entry {
                FallbackEntry::Value(value) => {
                    let name = format_ident!("FALLBACK_VALUE_{}", index);
                    let json = super::raw_string(&value.to_string());
                    Some(quote! {
                        /// The static answer of a `value` fallback, as JSON.
                        const #name: &str = #json;
                    })
                }
                FallbackEntry::Http(call) => {
                    let name = format_ident!("FALLBACK_REQUEST_{}", index);
                    let doc = super::doc(&format!(
                        "Fallback {}: `{} {}`.",
                        index + 1,
                        call.method.as_str(),
                        call.endpoint
                    ));
                    let request = super::upstream::request(call);
                    Some(quote! {
                        #doc
                        pub const #name: runtime::Request = #request;
                    })
                }
                FallbackEntry::Native(_) => None,
            });
    quote! {
        /// Runs one fallback for `input`, after the primary path failed with `error`.
        async fn fallback(#server_param: &Server, #input_param: &#input, #index_param #error_param: ToolError) -> Result<Value, ToolError> {
            #body
        }

        #(#constants)*
    }
}

fn within_timeout(tool: &ToolPlan, call: TokenStream) -> TokenStream {
    if attempt_timeout(tool).is_some() {
        quote!(resilience::with_timeout(TIMEOUT, #call).await)
    } else {
        quote!(#call.await)
    }
}

fn fallback_entry(tool: &ToolPlan, index: usize, entry: &FallbackEntry) -> TokenStream {
    match entry {
        FallbackEntry::Value(_) => {
            let name = format_ident!("FALLBACK_VALUE_{}", index);
            quote!(::serde_json::from_str(#name).map_err(|error| ToolError::Handler(format!("invalid fallback value: {error}"))))
        }
        FallbackEntry::Http(_) => {
            let request = format_ident!("FALLBACK_REQUEST_{}", index);
            within_timeout(
                tool,
                quote!(runtime::send(server.http(), &#request, &runtime::values(input), None)),
            )
        }
        FallbackEntry::Native(handler) => {
            let call = if handler.is_type {
                let field = fallback_field(tool, index);
                quote!(crate::generated::Fallback::fallback(&server.handlers().#field, input.clone(), error, context))
            } else {
                let path = path_tokens(handler);
                quote!(#path(input.clone(), error, context))
            };
            let run = within_timeout(
                tool,
                quote!(async {
                    let output = #call.await?;
                    ::serde_json::to_value(output).map_err(|error| ToolError::Handler(format!("the fallback's output is not JSON: {error}")))
                }),
            );
            quote!({
                let context = runtime::Context { name: NAME, server };
                #run
            })
        }
    }
}
