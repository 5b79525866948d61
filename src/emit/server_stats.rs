//! The methods of `impl Server` that render the figures of `generated::stats`: the
//! `pforge://stats` document and, when the http transport serves `/metrics`, its Prometheus
//! text.

use proc_macro2::TokenStream;
use quote::quote;

use super::ident;
use crate::plan::{Plan, ToolPlan};

/// `stats_json`, and `metrics_text` when the server serves `/metrics`.
pub fn methods(plan: &Plan) -> TokenStream {
    let metrics = plan.serves_metrics().then(|| metrics_method(plan));
    let names = plan.tools.iter().map(name);
    let states = plan.tools.iter().map(|tool| {
        let module = ident(&tool.module);
        if tool.policy.breaker.is_some() {
            quote!(Some(self.guards().#module.breaker.get_state().as_str()))
        } else {
            quote!(None)
        }
    });
    quote! {
        /// The `pforge://stats` document for a caller who may see the tools whose index
        /// `visible` accepts: per tool, its breaker's state and its counters; the error counts
        /// by class; the recent errors.
        pub fn stats_json(&self, visible: impl Fn(usize) -> bool) -> ::serde_json::Value {
            let names: [&str; stats::TOOLS] = [#(#names),*];
            let breakers: [Option<&'static str>; stats::TOOLS] = [#(#states),*];
            let mut tools = ::serde_json::Map::new();
            for (index, (name, breaker)) in names.into_iter().zip(breakers).enumerate() {
                if visible(index) {
                    tools.insert(name.to_owned(), self.stats().tool_json(index, breaker));
                }
            }
            self.stats().to_json(tools, visible)
        }

        #metrics
    }
}

/// `tools::<module>::NAME`.
fn name(tool: &ToolPlan) -> TokenStream {
    let module = ident(&tool.module);
    quote!(tools::#module::NAME)
}

/// `Server::metrics_text`, for `/metrics`.
fn metrics_method(plan: &Plan) -> TokenStream {
    let names = plan.tools.iter().map(name);
    let gauges = plan.tools.iter().map(gauges);
    quote! {
        /// The figures of `pforge://stats` of the tools whose index `visible` accepts, with
        /// each tool's latency histogram and guards, as Prometheus text.
        pub fn metrics_text(&self, visible: impl Fn(usize) -> bool) -> String {
            let names: [&str; stats::TOOLS] = [#(#names),*];
            let gauges: [stats::Gauges; stats::TOOLS] = [#(#gauges),*];
            self.stats().prometheus(&names, &gauges, visible)
        }
    }
}

/// A tool's `stats::Gauges`: its breaker's state and its bulkhead's occupancy.
fn gauges(tool: &ToolPlan) -> TokenStream {
    let module = ident(&tool.module);
    let breaker = tool
        .policy
        .breaker
        .is_some()
        .then(|| quote!(breaker: Some(self.guards().#module.breaker.get_state().as_str()),));
    let bulkhead = tool.policy.bulkhead.is_some().then(|| {
        quote! {
            bulkhead: {
                let bulkhead = &self.guards().#module.bulkhead;
                Some((bulkhead.in_flight(), bulkhead.queued(), bulkhead.capacity()))
            },
        }
    });
    match (&breaker, &bulkhead) {
        (None, None) => quote!(stats::Gauges::default()),
        (Some(_), None) => quote!(stats::Gauges { #breaker bulkhead: None }),
        (None, Some(_)) => quote!(stats::Gauges { breaker: None, #bulkhead }),
        (Some(_), Some(_)) => quote!(stats::Gauges { #breaker #bulkhead }),
    }
}
