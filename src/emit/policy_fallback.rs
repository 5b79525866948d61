//! A tool's fallback layer: `fallback`, which runs one entry of the chain (a native handler,
//! an http request or a static value) within the attempt timeout, and the entries' constants.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::handlers::path_tokens;
use super::policy::{attempt_timeout, fallback_field};
use crate::plan::FallbackPlan as FallbackEntry;
use crate::plan::ToolPlan;

/// `fallback`, which runs the entry `index` names (there is no index with one entry), and
/// the constants of the entries that have one.
pub fn fallback_fns(tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let chain = &tool.policy.fallback;
    // Only a native fallback reads the error; a static value reads neither input nor server.
    let error_param = if chain.iter().any(|e| matches!(e, FallbackEntry::Native(_))) {
        quote!(error)
    } else {
        quote!(_error)
    };
    let (input_param, server_param) = if chain.iter().any(|e| !matches!(e, FallbackEntry::Value(_)))
    {
        (quote!(input), quote!(server))
    } else {
        (quote!(_input), quote!(_server))
    };
    let (index_param, body) = fallback_body(tool);
    let constants = chain
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| entry_constant(index, entry));
    quote! {
        /// Runs one fallback for `input`, after the primary path failed with `error`.
        async fn fallback(#server_param: &Server, #input_param: &#input, #index_param #error_param: ToolError) -> Result<Value, ToolError> {
            #body
        }

        #(#constants)*
    }
}

/// The index parameter of `fallback` and its body: the one entry, or a `match` on the index
/// (the last entry is the catch-all).
fn fallback_body(tool: &ToolPlan) -> (TokenStream, TokenStream) {
    let entries: Vec<TokenStream> = tool
        .policy
        .fallback
        .iter()
        .enumerate()
        .map(|(index, entry)| fallback_entry(tool, index, entry))
        .collect();
    if entries.len() == 1 {
        return (quote!(), entries.into_iter().next().unwrap_or_default());
    }
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
}

/// The constant of an entry: a static value's JSON, an http entry's request.
fn entry_constant(index: usize, entry: &FallbackEntry) -> Option<TokenStream> {
    match entry {
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
