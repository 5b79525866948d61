//! `src/generated/stats.rs`: error tracking and the figures of the `pforge://stats` resource,
//! emitted when the server has error tracking or some tool has a resilience policy. The code
//! is copied from the runtime crate (`src/generated/stats/*.rs`); this module root holds the
//! plan's numbers it is sized by.

use proc_macro2::TokenStream;
use quote::quote;

use super::fixed::{self, Fixed};
use crate::plan::Plan;

/// The files of `stats/`: all of them, or none when the plan has nothing to monitor.
pub fn files(plan: &Plan) -> Vec<Fixed> {
    if !plan.needs.monitoring {
        return Vec::new();
    }
    let mut files = vec![fixed::ERROR_CLASS, fixed::COUNTERS];
    if plan.serves_metrics() {
        files.push(fixed::PROMETHEUS);
    }
    files
}

/// The module root: the plan's numbers and the declarations of `files`.
pub fn root(plan: &Plan, files: &[Fixed]) -> TokenStream {
    let declarations = fixed::declarations(files);
    let max_errors = proc_macro2::Literal::usize_unsuffixed(
        plan.error_tracking
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
    );
    let tracking = plan.error_tracking.is_some();
    let keep = plan.keep_error_messages;
    let count = proc_macro2::Literal::usize_unsuffixed(plan.tools.len());
    let (slots, classify) = match &plan.classifier {
        Some(handler) => {
            let path = super::handlers::path_tokens(handler);
            let slots = proc_macro2::Literal::usize_unsuffixed(crate::plan::USER_CLASS_SLOTS);
            (quote!(#slots), quote!(Some(#path)))
        }
        None => (quote!(0), quote!(None)),
    };
    quote! {
        //! Error tracking and the figures `pforge://stats` shows.

        #declarations

        /// Recent errors kept (`error_tracking.max_errors`; 0 when error tracking is off).
        pub const MAX_ERRORS: usize = #max_errors;

        /// Whether error tracking is on.
        pub const ERROR_TRACKING: bool = #tracking;

        /// Whether the recent errors keep whole messages (`error_tracking.keep_messages`)
        /// rather than their kind alone.
        pub const KEEP_MESSAGES: bool = #keep;

        /// Tools served, in `tools/list` order.
        pub const TOOLS: usize = #count;

        /// Counter slots of the user's error classes, `other` included (0: no classifier).
        pub const USER_CLASSES: usize = #slots;

        /// The user's error classifier (`error_tracking.classify_by`), if any.
        pub const CLASSIFY: Option<fn(&crate::generated::runtime::ToolError) -> String> = #classify;
    }
}
