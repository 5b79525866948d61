//! The tests a tool module carries for its own policy: they drive the module's layer functions
//! (the ones `invoke` uses) with injected outcomes on tokio's paused clock, and check the exact
//! numbers of the tool's config.

use proc_macro2::TokenStream;
use quote::quote;

use super::policy::attempt_timeout;
use crate::plan::ToolPlan;

mod breaker;
mod bulkhead;
mod fallback;
mod retry;
mod retry_policy;

/// What the tests of a tool depend on: tools with the same shape get the same tests, so
/// they are rendered once per shape.
pub fn shape(tool: &ToolPlan) -> String {
    format!(
        "{:?}",
        (
            attempt_timeout(tool).is_some(),
            &tool.policy.breaker,
            &tool.policy.retry,
            &tool.policy.bulkhead,
            tool.policy.fallback.is_empty(),
            matches!(tool.kind, crate::plan::KindPlan::Http(_)),
        )
    )
}

/// The file every tool of `shape` includes: `policy_tests/shape_<hash>.rs` under
/// `src/generated/tools/`. FNV-1a, so that the name is the same with every Rust release.
pub fn shape_file(shape: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in shape.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("policy_tests/shape_{hash:016x}.rs")
}

/// The `mod tests` of a tool module: it includes the file of the tool's policy shape, which
/// every tool of that shape shares, so that a thousand tools carry one copy of their tests.
pub fn tests_module(tool: &ToolPlan, file: &str) -> TokenStream {
    if !tool.has_policy_tests() {
        return quote!();
    }
    let allow = super::allow_inception(&tool.module, "tests");
    quote! {
        /// This tool's policy tests, with the numbers of forge.yaml: the cases of its policy
        /// shape, shared by every tool of that shape.
        #[cfg(test)]
        #allow
        mod tests {
            use super::*;

            include!(#file);
        }
    }
}

/// The test cases of a tool's policy (the body of its shape's file), or nothing for a tool
/// without a policy. They name nothing of the tool but what every tool module defines
/// (`guards`, `NAME`, the policy constants), so they depend only on [`shape`].
pub fn tests(tool: &ToolPlan) -> TokenStream {
    let mut cases = Vec::new();
    // The timeout and breaker cases drive attempts through the guards; the bulkhead's
    // drive the bulkhead itself.
    if attempt_timeout(tool).is_some() || tool.policy.breaker.is_some() {
        cases.push(guarded_helper(tool));
    }
    if attempt_timeout(tool).is_some() {
        cases.push(timeout_case(tool));
    }
    if tool.policy.breaker.is_some() {
        cases.push(breaker::cases(tool));
    }
    if let Some(retry) = &tool.policy.retry {
        cases.push(match retry.schedule() {
            Some(schedule) => retry::cases(retry, schedule),
            None => retry_policy::cases(retry),
        });
    }
    if let Some(bulkhead) = &tool.policy.bulkhead {
        cases.push(bulkhead::cases(bulkhead));
    }
    if !tool.policy.fallback.is_empty() {
        cases.push(fallback::cases(tool));
    }
    let cases = quote!(#(#cases)*);
    let numbers = numbers(&cases);
    quote!(#numbers #cases)
}

/// The policy's numbers under the names the cases use, read from the tool's types and
/// constants; only those some case names, since the cases differ by shape (a queue too long to
/// fill is not tested by its length, a retry without jitter never names its cap).
fn numbers(cases: &TokenStream) -> TokenStream {
    const NUMBERS: [(&str, &str, &str); 10] = [
        ("MAX_ATTEMPTS", "u32", "RETRY.backoff_ms.len() as u32 + 1"),
        ("BACKOFF_MS", "&[u64]", "RETRY.backoff_ms"),
        ("MAX_DELAY_MS", "u64", "RETRY.max_delay_ms"),
        ("ATTEMPT_CAP", "u32", "RETRY.max_attempts"),
        ("FAILURE_THRESHOLD", "u32", "Breaker::FAILURE_THRESHOLD"),
        ("OPEN_MS", "u64", "Breaker::OPEN_MS"),
        ("SUCCESS_THRESHOLD", "u32", "Breaker::SUCCESS_THRESHOLD"),
        ("MAX_CONCURRENT", "u32", "Bulkhead::MAX_CONCURRENT"),
        ("MAX_QUEUED", "u32", "Bulkhead::MAX_QUEUED"),
        ("QUEUE_WAIT_MS", "u64", "Bulkhead::QUEUE_WAIT_MS"),
    ];
    let mut named = std::collections::HashSet::new();
    collect_idents(cases.clone(), &mut named);
    let declarations: String = NUMBERS
        .iter()
        .filter(|(name, _, _)| named.contains(*name))
        .map(|(name, ty, value)| format!("const {name}: {ty} = {value};"))
        .collect();
    declarations.parse().unwrap_or_default()
}

fn collect_idents(tokens: TokenStream, out: &mut std::collections::HashSet<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

/// `guarded`: one attempt through the tool's guards and its attempt timeout.
fn guarded_helper(tool: &ToolPlan) -> TokenStream {
    let run = super::policy::guarded_attempt(tool, quote!(operation));
    let server = tool.is_guarded().then(|| quote!(server: &Server,));
    quote! {
        /// One attempt through the tool's guards, as `invoke` runs it.
        async fn guarded(#server operation: impl ::std::future::Future<Output = Result<Value, ToolError>>) -> Result<Value, ToolError> {
            #run.await
        }
    }
}

/// A call of `guarded`, which takes the server when the tool's guards live there.
fn guard_call(tool: &ToolPlan, operation: TokenStream) -> TokenStream {
    if tool.is_guarded() {
        quote!(guarded(&server, #operation).await)
    } else {
        quote!(guarded(#operation).await)
    }
}

fn timeout_case(tool: &ToolPlan) -> TokenStream {
    let call = guard_call(tool, quote!(::std::future::pending()));
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn an_attempt_times_out_at_timeout_ms() {
            let server = Server::new();
            let start = ::tokio::time::Instant::now();
            let outcome = #call;
            assert_eq!(outcome, Err(ToolError::Timeout(TIMEOUT)));
            assert_eq!(start.elapsed(), TIMEOUT);
            let _ = &server;
        }
    }
}
