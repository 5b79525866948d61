//! `src/generated/runtime.rs` of the generated crate: the module root of the types and helpers
//! the tools share, whose files (`src/generated/runtime/*.rs`) are copied from the runtime
//! crate. The argument helpers, the tool error, the handler context and answers are always
//! there; the rest only when the plan uses it.

use proc_macro2::TokenStream;
use quote::quote;

use super::fixed::{self, Fixed};
use crate::plan::{KindPlan, Plan};

/// The files of `runtime/` the plan needs.
pub fn files(plan: &Plan) -> Vec<Fixed> {
    let mut files = vec![
        fixed::ERROR,
        fixed::HANDLER,
        fixed::ARGUMENTS,
        fixed::ANSWER,
        fixed::UNWIND,
    ];
    let pipelines = plan
        .tools
        .iter()
        .any(|t| matches!(t.kind, KindPlan::Pipeline { .. }));
    if plan.needs.http_client || plan.needs.process || !plan.prompts.is_empty() || pipelines {
        files.push(fixed::TEXT);
        files.push(fixed::TEMPLATE);
    }
    if plan.needs.http_client {
        files.push(fixed::HTTP);
    }
    if plan.needs.process {
        files.push(fixed::PROCESS);
    }
    let uri_templates = plan.resources.iter().any(|r| r.uri_template.is_some());
    if plan.needs.http_client || uri_templates {
        files.push(fixed::SEGMENT);
    }
    if uri_templates {
        files.push(fixed::URI_TEMPLATE);
    }
    if plan.state.is_some() {
        files.push(fixed::STATE);
    }
    if plan.has_middleware() {
        files.push(fixed::MIDDLEWARE);
    }
    files
}

/// The module root: the files of `files` and, with a state store, its limits.
pub fn root(plan: &Plan, files: &[Fixed]) -> TokenStream {
    let declarations = fixed::declarations(files);
    let limits = plan
        .state
        .as_ref()
        .map(|state| state_limits(state.ttl_seconds, state.max_size));
    quote! {
        //! Types and helpers shared by the generated tools, one file each, copied from pforge's
        //! runtime crate when the plan uses them.

        #declarations
        #limits
    }
}

/// The numbers `runtime/state.rs` reads.
fn state_limits(ttl_seconds: Option<u64>, max_size: Option<u64>) -> TokenStream {
    let ttl = match ttl_seconds {
        Some(seconds) => {
            let seconds = proc_macro2::Literal::u64_unsuffixed(seconds);
            quote!(Some(::std::time::Duration::from_secs(#seconds)))
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
        const STATE_TTL: Option<::std::time::Duration> = #ttl;
        /// Most entries kept (`state.max_size`); the oldest is evicted first.
        const STATE_MAX: Option<usize> = #max;
    }
}
