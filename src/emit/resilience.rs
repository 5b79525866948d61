//! `src/generated/resilience.rs`: the module root of the primitives tool modules share, each
//! a file copied from the runtime crate (`src/generated/resilience/*.rs`) when some tool uses
//! it. The circuit breaker and the bulkhead take their numbers as const generics, so each
//! tool's `type Breaker = CircuitBreaker<5, 60000, 2>` is its own monomorphised copy with the
//! thresholds folded in. A user's native handler can use the same types by hand.

use proc_macro2::TokenStream;
use quote::quote;

use super::fixed::{self, Fixed};
use crate::plan::Plan;

/// Whether some tool needs the module: it has a timeout, retry, breaker, bulkhead or
/// fallback.
pub fn needed(plan: &Plan) -> bool {
    plan.needs.resilience
}

/// The files of `resilience/` the plan needs: none when no tool needs the module, else the
/// timeout and each primitive some tool uses.
pub fn files(plan: &Plan) -> Vec<Fixed> {
    if !needed(plan) {
        return Vec::new();
    }
    let uses = |f: fn(&crate::plan::PolicyPlan) -> bool| plan.tools.iter().any(|t| f(&t.policy));
    let mut files = Vec::new();
    if uses(crate::plan::PolicyPlan::uses_timers) {
        files.push(fixed::TIMEOUT);
    }
    if uses(|p| p.retry.is_some()) {
        files.push(fixed::RETRY);
    }
    if uses(|p| p.retry.as_ref().is_some_and(|r| r.policy().is_some())) {
        files.push(fixed::RETRY_POLICY);
    }
    if uses(|p| p.breaker.is_some()) {
        files.push(fixed::BREAKER);
    }
    if uses(|p| p.bulkhead.is_some()) {
        files.push(fixed::BULKHEAD);
    }
    if uses(crate::plan::PolicyPlan::is_guarded) {
        files.push(fixed::GUARDS);
    }
    if uses(|p| !p.fallback.is_empty()) {
        files.push(fixed::FALLBACK);
    }
    files
}

/// The module root declaring `files`.
pub fn root(files: &[Fixed]) -> TokenStream {
    let declarations = fixed::declarations(files);
    quote! {
        //! Resilience primitives shared by the tool modules: each tool instantiates them with
        //! its own numbers. Your handlers can use them too.

        #declarations
    }
}
