//! The resilience of one tool module, specialized: constants for its numbers, and one function
//! per layer it has, outside in: fallback → retry → breaker → bulkhead → timeout → attempt.
//! A layer the tool does not have is not emitted at all. Layers take the operation they wrap
//! as a value, so the generated tests drive the same functions with injected outcomes.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::ident;
use crate::plan::{BreakerPlan, BulkheadPlan, ToolPlan};

/// Milliseconds as an unsuffixed literal.
pub fn ms_literal(ms: u64) -> Literal {
    Literal::u64_unsuffixed(ms)
}

pub fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The timeout that bounds each attempt, in milliseconds.
pub fn attempt_timeout(tool: &ToolPlan) -> Option<u64> {
    tool.attempt_timeout().map(millis)
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
    let policy = &tool.policy;
    let consts = constants(tool);
    let guards = guards_struct(tool);
    let invoke = invoke(tool);
    let retried = policy.retry.as_ref().map(super::policy_retry::retry_items);
    let fallback =
        (!policy.fallback.is_empty()).then(|| super::policy_fallback::fallback_fns(tool));
    quote! {
        #consts
        #guards
        #invoke
        #retried
        #fallback
    }
}

/// `invoke`: the attempt through the guards, the retry around it, the fallbacks after it.
fn invoke(tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let policy = &tool.policy;
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
    if policy.fallback.is_empty() {
        return quote! {
            /// One protected call of the tool.
            pub async fn invoke(server: &Server, input: &#input) -> Result<Value, ToolError> {
                #bind_primary
                #primary
            }
        };
    }
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
}

/// The constants and types of the tool's numbers, one per layer it has.
fn constants(tool: &ToolPlan) -> TokenStream {
    let policy = &tool.policy;
    let timeout = attempt_timeout(tool).map(timeout_const);
    let breaker = policy.breaker.as_ref().map(breaker_type);
    let bulkhead = policy.bulkhead.as_ref().map(bulkhead_type);
    let fallbacks = (!policy.fallback.is_empty()).then(|| {
        let labels = policy
            .fallback
            .iter()
            .map(super::policy_summary::fallback_label);
        let count_primary = policy.retry.is_none();
        quote! {
            /// The fallbacks, in the order they are tried once the primary path has failed.
            pub const FALLBACKS: resilience::Fallbacks = resilience::Fallbacks {
                labels: &[#(#labels),*],
                count_primary: #count_primary,
            };
        }
    });
    quote!(#timeout #breaker #bulkhead #fallbacks)
}

fn timeout_const(ms: u64) -> TokenStream {
    let doc = super::doc(&format!(
        "Each attempt may take at most {ms} ms (`timeout_ms`)."
    ));
    let ms = ms_literal(ms);
    quote! {
        #doc
        pub const TIMEOUT: ::std::time::Duration = ::std::time::Duration::from_millis(#ms);
    }
}

fn breaker_type(breaker: &BreakerPlan) -> TokenStream {
    let open = millis(breaker.open_for);
    let doc = super::doc(&format!(
        "This tool's circuit breaker (`circuit_breaker`): it opens after {} consecutive \
         failures, stays open {open} ms, then closes after {} successful probes.",
        breaker.failure_threshold, breaker.success_threshold
    ));
    let failures = Literal::u32_unsuffixed(breaker.failure_threshold);
    let open = ms_literal(open);
    let probes = Literal::u32_unsuffixed(breaker.success_threshold);
    quote! {
        #doc
        pub type Breaker = resilience::CircuitBreaker<#failures, #open, #probes>;
    }
}

fn bulkhead_type(bulkhead: &BulkheadPlan) -> TokenStream {
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
    quote! {
        #doc
        pub type Bulkhead = resilience::Bulkhead<#max, #queue, #wait>;
    }
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
