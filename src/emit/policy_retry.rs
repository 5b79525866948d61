//! A tool's retry layer: the `RETRY` constant of its schedule or its user's policy, and the
//! `retryable` of a listed `retry_on`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::policy::ms_literal;
use super::policy_summary::{jitter_spread, retry_on_text};
use crate::plan::{Failure, RetryOnPlan, RetryPlan, Schedule};

pub fn retry_items(retry: &RetryPlan) -> TokenStream {
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

/// `RETRY` of a backoff schedule, and `retryable` when `retry_on` lists what is retried.
fn schedule_items(retry: &RetryPlan, schedule: &Schedule) -> TokenStream {
    let jitter = schedule.jitter;
    let honours_retry_after = retry.retry_after;
    let delays = schedule.delays_ms.iter().map(|d| ms_literal(*d));
    let max = ms_literal(retry.max_delay_ms);
    let doc = super::doc(&schedule_doc(retry, schedule));
    let (retryable, own) = match &schedule.retry_on {
        RetryOnPlan::Default { retry_500: true } => {
            (quote!(retryable: resilience::transient_or_500,), None)
        }
        RetryOnPlan::Default { retry_500: false } => {
            (quote!(retryable: resilience::transient,), None)
        }
        RetryOnPlan::Listed { .. } => (quote!(retryable,), Some(retryable_fn(schedule))),
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

/// The doc of `RETRY`: every number of the schedule and what it retries.
fn schedule_doc(retry: &RetryPlan, schedule: &Schedule) -> String {
    let waits: Vec<String> = schedule.delays_ms.iter().map(u64::to_string).collect();
    format!(
        "The retry layer (`retry`): {} attempts, {} ms apart{}{}, each wait at most {} ms; \
         it retries {}.",
        retry.max_attempts,
        if waits.is_empty() {
            "0".to_owned()
        } else {
            waits.join(", ")
        },
        if schedule.jitter {
            jitter_spread()
        } else {
            String::new()
        },
        if retry.retry_after {
            " (or as a 429/503's `Retry-After` asks)"
        } else {
            ""
        },
        retry.max_delay_ms,
        retry_on_text(schedule)
    )
}

/// `retryable` of a listed `retry_on`.
fn retryable_fn(schedule: &Schedule) -> TokenStream {
    let pattern = retry_pattern(schedule);
    let doc = super::doc(&format!(
        "Whether a failed attempt is tried again: {}.",
        retry_on_text(schedule)
    ));
    quote! {
        #doc
        pub fn retryable(error: &ToolError) -> bool {
            #pattern
        }
    }
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
