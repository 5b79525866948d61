//! The user's types the generated server holds: the traits a type handler, a resource handler
//! and a type fallback implement, and `Handlers`, one instance of each type (with the retry
//! policies and the middleware chain), built with `Default` when the server starts.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::handlers::path_tokens;
use super::ident;
use crate::plan::{FallbackPlan, KindPlan, Plan, ResourceSource};

/// `trait Handler`, which every type handler implements.
pub fn handler_trait() -> TokenStream {
    quote! {
        /// A native handler implemented as a type: pforge builds one with `Default` when the
        /// server starts and calls `handle` for every call of its tool.
        pub trait Handler<Input>: Send + Sync + 'static {
            /// What the handler answers; any serializable value.
            type Output: ::serde::Serialize;

            /// Handles one call.
            fn handle(
                &self,
                input: Input,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<Self::Output, runtime::HandlerError>> + Send;
        }
    }
}

/// `trait ResourceHandler`, when some resource is read by a handler.
pub fn resource_trait(plan: &Plan) -> Option<TokenStream> {
    let any = plan
        .resources
        .iter()
        .any(|r| matches!(r.source, ResourceSource::Handler(_)));
    any.then(|| quote! {
        /// A resource handler implemented as a type, built once with `Default`.
        pub trait ResourceHandler: Send + Sync + 'static {
            /// The contents of the resource at `uri`.
            fn read(
                &self,
                uri: &str,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<String, runtime::HandlerError>> + Send;
        }
    })
}

/// `trait Fallback`, when some fallback is a type.
pub fn fallback_trait(plan: &Plan) -> Option<TokenStream> {
    (!fallback_type_handlers(plan).is_empty()).then(|| quote! {
        /// A native fallback implemented as a type: pforge builds one with `Default` when the
        /// server starts and calls `fallback` when its tool has finally failed.
        pub trait Fallback<Input>: Send + Sync + 'static {
            /// What the fallback answers; any serializable value.
            type Output: ::serde::Serialize;

            /// Answers in place of the tool, which failed with `error`.
            fn fallback(
                &self,
                input: Input,
                error: runtime::ToolError,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<Self::Output, runtime::HandlerError>> + Send;
        }
    })
}

/// `struct Handlers`, whose `Debug` names no field: the types are the user's, and need not
/// implement `Debug`.
pub fn handlers_struct(plan: &Plan) -> TokenStream {
    let fields = [
        tool_type_handlers(plan),
        super::catalog::resource_type_handlers(plan),
        fallback_type_handlers(plan),
        retry_policy_handlers(plan),
        middleware_chain(plan).into_iter().collect(),
    ];
    let fields = fields
        .iter()
        .flatten()
        .map(|(field, path)| quote!(pub #field: #path,));
    quote! {
        /// Instances of the type handlers.
        #[derive(Default)]
        pub struct Handlers {
            #(#fields)*
        }

        /// Names no field: the types are yours, and need not implement `Debug`.
        impl ::std::fmt::Debug for Handlers {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("Handlers").finish_non_exhaustive()
            }
        }
    }
}

/// `Handlers` fields of the tools' handlers implemented as types.
fn tool_type_handlers(plan: &Plan) -> Vec<(Ident, TokenStream)> {
    plan.tools
        .iter()
        .filter_map(|t| match &t.kind {
            KindPlan::Native { handler } if handler.is_type => Some((
                ident(&crate::naming::tool_handler_field(t.index)),
                path_tokens(handler),
            )),
            _ => None,
        })
        .collect()
}

/// The `Handlers` field of the middleware chain, `(First, (Second, ()))`, when there is one.
fn middleware_chain(plan: &Plan) -> Option<(Ident, TokenStream)> {
    if !plan.has_middleware() {
        return None;
    }
    let chain = plan
        .middleware
        .iter()
        .rev()
        .fold(quote!(()), |inner, handler| {
            let path = path_tokens(handler);
            quote!((#path, #inner))
        });
    Some((ident(crate::naming::MIDDLEWARE_FIELD), chain))
}

/// `Handlers` fields of the tools' retry policies.
fn retry_policy_handlers(plan: &Plan) -> Vec<(Ident, TokenStream)> {
    plan.tools
        .iter()
        .filter_map(|tool| {
            let policy = tool.policy.retry.as_ref()?.policy()?;
            Some((super::policy::retry_policy_field(tool), path_tokens(policy)))
        })
        .collect()
}

/// `Handlers` fields of the fallbacks implemented as types.
fn fallback_type_handlers(plan: &Plan) -> Vec<(Ident, TokenStream)> {
    let mut out = Vec::new();
    for tool in &plan.tools {
        for (index, entry) in tool.policy.fallback.iter().enumerate() {
            if let FallbackPlan::Native(handler) = entry
                && handler.is_type
            {
                out.push((
                    super::policy::fallback_field(tool, index),
                    path_tokens(handler),
                ));
            }
        }
    }
    out
}
