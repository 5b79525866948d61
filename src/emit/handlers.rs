//! The user's handlers: the module tree `main.rs` declares for them, and the stubs pforge
//! writes once for each handler that has no file yet.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ident;
use crate::naming::HandlerPath;
use crate::plan::{FallbackPlan, KindPlan, Plan};

/// The path generated code calls a handler by.
pub fn path_tokens(handler: &HandlerPath) -> TokenStream {
    let module = ident(&handler.module);
    let item = ident(&handler.item);
    quote!(crate::handlers::#module::#item)
}

/// What a handler serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The native tool at this index.
    Tool(usize),
    /// The resource at this index.
    Resource(usize),
    /// Fallback `entry` of the tool at index `tool`.
    Fallback {
        /// The tool's index.
        tool: usize,
        /// The fallback's index in the tool's chain.
        entry: usize,
    },
    /// The retry policy of one or more tools.
    RetryPolicy,
    /// An entry of the middleware chain.
    Middleware,
    /// The error classifier.
    Classifier,
}

/// Handler items, by module (its identifier), each with what it serves; an item used twice
/// appears once.
pub fn items(plan: &Plan) -> BTreeMap<String, Vec<(HandlerPath, Role)>> {
    let mut files: BTreeMap<String, Vec<(HandlerPath, Role)>> = BTreeMap::new();
    let tools = plan
        .tools
        .iter()
        .enumerate()
        .filter_map(|(index, tool)| match &tool.kind {
            KindPlan::Native { handler } => Some((handler, Role::Tool(index))),
            _ => None,
        });
    let resources = plan
        .resources
        .iter()
        .enumerate()
        .filter_map(|(index, r)| match &r.source {
            crate::plan::ResourceSource::Handler(h) => Some((h, Role::Resource(index))),
            _ => None,
        });
    let fallbacks = plan.tools.iter().enumerate().flat_map(|(tool, t)| {
        t.policy
            .fallback
            .iter()
            .enumerate()
            .filter_map(move |(entry, f)| match f {
                FallbackPlan::Native(handler) => Some((handler, Role::Fallback { tool, entry })),
                _ => None,
            })
    });
    let retry_policies = plan.tools.iter().filter_map(|tool| {
        let policy = tool.policy.retry.as_ref()?.policy()?;
        Some((policy, Role::RetryPolicy))
    });
    let middleware = plan.middleware.iter().map(|m| (m, Role::Middleware));
    let classifier = plan.classifier.iter().map(|c| (c, Role::Classifier));
    for (path, role) in tools
        .chain(resources)
        .chain(fallbacks)
        .chain(retry_policies)
        .chain(middleware)
        .chain(classifier)
    {
        let entries = files.entry(path.module.clone()).or_default();
        if !entries
            .iter()
            .any(|(existing, _)| existing.item == path.item)
        {
            entries.push((path.clone(), role));
        }
    }
    files
}

/// The prelude names a stub uses, each written so that an item of the stub's own file cannot
/// shadow it: a handler type named `Ok` or `Result` is the file's `Ok` or `Result`, so the stubs
/// in that file name the standard ones by path (`::std::result::Result::Ok`). Files without
/// such an item keep the short names.
#[derive(Debug, Clone, Copy)]
pub struct Prelude<'a> {
    items: &'a [(HandlerPath, Role)],
}

impl<'a> Prelude<'a> {
    /// The prelude of the file holding `items` (every item of one handler module).
    pub fn of(items: &'a [(HandlerPath, Role)]) -> Self {
        Self { items }
    }

    fn name(&self, short: &str, path: TokenStream) -> TokenStream {
        debug_assert!(crate::naming::is_prelude(short));
        if self.items.iter().any(|(item, _)| item.name() == short) {
            path
        } else {
            let short = proc_macro2::Ident::new(short, proc_macro2::Span::call_site());
            quote!(#short)
        }
    }

    fn ok(&self) -> TokenStream {
        self.name("Ok", quote!(::std::result::Result::Ok))
    }

    fn err(&self) -> TokenStream {
        self.name("Err", quote!(::std::result::Result::Err))
    }

    fn result(&self) -> TokenStream {
        self.name("Result", quote!(::std::result::Result))
    }

    fn string(&self) -> TokenStream {
        self.name("String", quote!(::std::string::String))
    }
}

/// `pub mod handlers { ... }` for `main.rs`.
pub fn module_tree(plan: &Plan) -> TokenStream {
    let files = items(plan);
    if files.is_empty() {
        return quote!();
    }
    let mods = files.keys().map(|module| {
        let allow = super::allow_inception(module, "handlers");
        let module = ident(module);
        quote!(#allow pub mod #module;)
    });
    let reexports = files
        .values()
        .flatten()
        .filter(|(item, _)| item.at_root)
        .map(|(item, _)| {
            let module = ident(&item.module);
            let name = ident(&item.item);
            quote!(pub use #module::#name;)
        });
    quote! {
        /// Your handlers, one file per module in `src/handlers/`. The files are yours: pforge
        /// creates the missing ones and never touches them again.
        pub mod handlers {
            #(#mods)*
            #(#reexports)*
        }
    }
}

/// The first contents of one handler file.
pub fn stub_file(plan: &Plan, module: &str, items: &[(HandlerPath, Role)]) -> TokenStream {
    let doc = crate::emit::inner_doc(&format!(
        "Handlers in `handlers::{}`. This file is yours: pforge wrote it once and never overwrites it.",
        crate::naming::unraw(module)
    ));
    let stubs = stub_items(plan, items, Prelude::of(items));
    quote! {
        #doc
        #stubs
    }
}

/// The items of a handler file, without the file's header.
pub fn stub_items(plan: &Plan, items: &[(HandlerPath, Role)], prelude: Prelude<'_>) -> TokenStream {
    let stubs = items.iter().map(|(item, role)| match role {
        Role::Tool(index) => tool_stub(plan, item, *index, prelude),
        Role::Resource(index) => resource_stub(plan, item, *index, prelude),
        Role::Fallback { tool, .. } => fallback_stub(plan, item, *tool, prelude),
        Role::RetryPolicy => retry_policy_stub(plan, item),
        Role::Middleware => middleware_stub(item, prelude),
        Role::Classifier => classifier_stub(item, prelude),
    });
    quote!(#(#stubs)*)
}

fn tool_stub(plan: &Plan, item: &HandlerPath, index: usize, prelude: Prelude<'_>) -> TokenStream {
    let (ok, result) = (prelude.ok(), prelude.result());
    let tool = &plan.tools[index];
    let tool_module = ident(&tool.module);
    let input = format_ident!("{}Input", tool.type_prefix);
    let name = ident(&item.item);
    let doc = crate::emit::doc(&format!(
        "Handles the `{}` tool. Replace the echo with your logic.",
        tool.name
    ));
    let body = quote! {
        #ok(serde_json::json!({ "tool": context.name, "input": input }))
    };
    if item.is_type {
        quote! {
            #doc
            #[derive(Debug, Default)]
            pub struct #name;

            impl crate::generated::Handler<crate::generated::tools::#tool_module::#input> for #name {
                type Output = serde_json::Value;

                async fn handle(
                    &self,
                    input: crate::generated::tools::#tool_module::#input,
                    context: crate::generated::runtime::Context<'_>,
                ) -> #result<Self::Output, crate::generated::runtime::HandlerError> {
                    #body
                }
            }
        }
    } else {
        quote! {
            #doc
            pub async fn #name(
                input: crate::generated::tools::#tool_module::#input,
                context: crate::generated::runtime::Context<'_>,
            ) -> #result<serde_json::Value, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}

fn resource_stub(
    plan: &Plan,
    item: &HandlerPath,
    index: usize,
    prelude: Prelude<'_>,
) -> TokenStream {
    let (ok, result, string) = (prelude.ok(), prelude.result(), prelude.string());
    let resource = &plan.resources[index];
    let name = ident(&item.item);
    let doc = crate::emit::doc(&format!(
        "Produces the contents of the `{}` resource. Replace the placeholder text with yours.",
        resource.name
    ));
    let body = quote! {
        #ok(format!("contents of {uri}"))
    };
    if item.is_type {
        quote! {
            #doc
            #[derive(Debug, Default)]
            pub struct #name;

            impl crate::generated::ResourceHandler for #name {
                async fn read(
                    &self,
                    uri: &str,
                    _context: crate::generated::runtime::Context<'_>,
                ) -> #result<#string, crate::generated::runtime::HandlerError> {
                    #body
                }
            }
        }
    } else {
        quote! {
            #doc
            pub async fn #name(
                uri: &str,
                _context: crate::generated::runtime::Context<'_>,
            ) -> #result<#string, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}

/// `impl Fallback<Input> for Item` of one tool, with a placeholder body.
pub fn fallback_impl(
    item: &HandlerPath,
    tool: &crate::plan::ToolPlan,
    prelude: Prelude<'_>,
) -> TokenStream {
    let (ok, result) = (prelude.ok(), prelude.result());
    let name = ident(&item.item);
    let tool_module = ident(&tool.module);
    let input = format_ident!("{}Input", tool.type_prefix);
    quote! {
        impl crate::generated::Fallback<crate::generated::tools::#tool_module::#input> for #name {
            type Output = serde_json::Value;

            async fn fallback(
                &self,
                input: crate::generated::tools::#tool_module::#input,
                error: crate::generated::runtime::ToolError,
                context: crate::generated::runtime::Context<'_>,
            ) -> #result<Self::Output, crate::generated::runtime::HandlerError> {
                #ok(serde_json::json!({ "tool": context.name, "input": input, "unavailable": error.to_string() }))
            }
        }
    }
}

/// The impls of pforge's traits a type handler in `role` needs, each as its stub's name
/// (`impl Trait for Item`), the text whose absence from the user's file means it is missing,
/// and its code. None for functions.
pub fn trait_impls(
    plan: &Plan,
    item: &HandlerPath,
    role: Role,
    prelude: Prelude<'_>,
) -> Vec<(String, String, TokenStream)> {
    if !item.is_type {
        return Vec::new();
    }
    let named = |trait_name: &str, tokens: TokenStream| {
        let header = format!("{trait_name} for {}", item.name());
        (format!("impl {header}"), header, tokens)
    };
    match role {
        Role::Fallback { .. } => fallback_users(plan, item)
            .into_iter()
            .map(|tool| {
                (
                    format!(
                        "impl Fallback<{}Input> for {}",
                        tool.type_prefix,
                        item.name()
                    ),
                    format!("{}Input", tool.type_prefix),
                    fallback_impl(item, tool, prelude),
                )
            })
            .collect(),
        Role::RetryPolicy => vec![named("RetryPolicy", retry_policy_impl(item))],
        Role::Middleware => vec![named("Middleware", middleware_impl(item, prelude))],
        Role::Tool(_) | Role::Resource(_) | Role::Classifier => Vec::new(),
    }
}

/// The tools whose fallback chain uses `item`, in plan order.
pub fn fallback_users<'a>(plan: &'a Plan, item: &HandlerPath) -> Vec<&'a crate::plan::ToolPlan> {
    plan.tools
        .iter()
        .filter(|tool| {
            tool.policy.fallback.iter().any(|entry| match entry {
                FallbackPlan::Native(handler) => {
                    (&handler.module, &handler.item) == (&item.module, &item.item)
                }
                _ => false,
            })
        })
        .collect()
}

fn fallback_stub(
    plan: &Plan,
    item: &HandlerPath,
    index: usize,
    prelude: Prelude<'_>,
) -> TokenStream {
    let (ok, result) = (prelude.ok(), prelude.result());
    let tool = &plan.tools[index];
    let tool_module = ident(&tool.module);
    let input = format_ident!("{}Input", tool.type_prefix);
    let name = ident(&item.item);
    let users = fallback_users(plan, item);
    let names: Vec<String> = users.iter().map(|t| format!("`{}`", t.name)).collect();
    let doc = crate::emit::doc(&format!(
        "Answers for {} has finally failed; the answer is marked as degraded. Replace the placeholder with a cached or default answer.",
        if users.len() > 1 {
            format!("the tools {} when one of them", names.join(", "))
        } else {
            format!("the `{}` tool when it", tool.name)
        }
    ));
    let body = quote! {
        #ok(serde_json::json!({ "tool": context.name, "input": input, "unavailable": error.to_string() }))
    };
    if item.is_type {
        let impls = users.iter().map(|tool| fallback_impl(item, tool, prelude));
        quote! {
            #doc
            #[derive(Debug, Default)]
            pub struct #name;

            #(#impls)*
        }
    } else {
        quote! {
            #doc
            pub async fn #name(
                input: crate::generated::tools::#tool_module::#input,
                error: crate::generated::runtime::ToolError,
                context: crate::generated::runtime::Context<'_>,
            ) -> #result<serde_json::Value, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}

/// A retry policy with the chapter's decisions: retry timeouts, connection errors and 503s
/// up to three attempts, waiting 100 ms, 200 ms, 400 ms…
fn retry_policy_stub(plan: &Plan, item: &HandlerPath) -> TokenStream {
    let name = ident(&item.item);
    let users: Vec<String> = plan
        .tools
        .iter()
        .filter(|tool| {
            tool.policy
                .retry
                .as_ref()
                .and_then(|r| r.policy())
                .is_some_and(|p| (&p.module, &p.item) == (&item.module, &item.item))
        })
        .map(|tool| format!("`{}`", tool.name))
        .collect();
    let doc = crate::emit::doc(&format!(
        "Decides which failed attempts of {} are tried again, and how long to wait first. \
         Each tool keeps its own instance (`Default`); its `max_attempts` and `max_delay` \
         still bound what this says. It is asked about every failed attempt but invalid \
         arguments, a cancelled call and a breaker's or bulkhead's rejection: HTTP 4xx \
         included. Replace the example decisions with yours.",
        match users.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                format!("the tools {} and {last}", rest.join(", "))
            }
            _ => format!("the {} tool", users.join("")),
        }
    ));
    let implementation = retry_policy_impl(item);
    quote! {
        #doc
        #[derive(Debug, Default)]
        pub struct #name;

        #implementation
    }
}

/// `impl RetryPolicy for Item` with the chapter's decisions: retry timeouts, connection
/// errors and 503s up to three attempts, waiting 100 ms, 200 ms, 400 ms…
pub fn retry_policy_impl(item: &HandlerPath) -> TokenStream {
    let name = ident(&item.item);
    quote! {
        impl crate::generated::resilience::RetryPolicy for #name {
            fn should_retry(&self, attempt: usize, error: &crate::generated::runtime::ToolError) -> bool {
                use crate::generated::runtime::ToolError;
                let transient = match error {
                    ToolError::Timeout(_) | ToolError::Connection(_) => true,
                    ToolError::Status { status, .. } => *status == 503,
                    _ => false,
                };
                transient && attempt < 3
            }

            fn delay(&self, attempt: usize) -> std::time::Duration {
                // 100 ms, 200 ms, 400 ms…: the shift is bounded so that it cannot overflow.
                let factor = 1_u64 << attempt.saturating_sub(1).min(16);
                std::time::Duration::from_millis(100 * factor)
            }
        }
    }
}

/// A middleware that logs each call and its outcome on stderr, with the hooks spelled out.
fn middleware_stub(item: &HandlerPath, prelude: Prelude<'_>) -> TokenStream {
    let name = ident(&item.item);
    let doc = crate::emit::doc(
        "Runs around every tool call (see `middleware` in forge.yaml): `before` in the listed \
         order, then `after` or `on_error` in reverse. The server keeps one instance \
         (`Default`). Each hook has a pass-through default; replace the logging with yours.",
    );
    let implementation = middleware_impl(item, prelude);
    quote! {
        #doc
        #[derive(Debug, Default)]
        pub struct #name;

        #implementation
    }
}

/// `impl Middleware for Item` that logs each call and its outcome, hooks spelled out.
pub fn middleware_impl(item: &HandlerPath, prelude: Prelude<'_>) -> TokenStream {
    let (ok, err, result) = (prelude.ok(), prelude.err(), prelude.result());
    let name = ident(&item.item);
    quote! {
        impl crate::generated::runtime::Middleware for #name {
            async fn before(
                &self,
                call: &mut crate::generated::runtime::Call,
            ) -> #result<(), crate::generated::runtime::ToolError> {
                tracing::debug!(tool = call.tool, "call");
                #ok(())
            }

            async fn after(
                &self,
                call: &crate::generated::runtime::Call,
                answer: crate::generated::runtime::Answer,
            ) -> #result<crate::generated::runtime::Answer, crate::generated::runtime::ToolError> {
                tracing::debug!(tool = call.tool, "answered");
                #ok(answer)
            }

            async fn on_error(
                &self,
                call: &crate::generated::runtime::Call,
                error: crate::generated::runtime::ToolError,
            ) -> #result<crate::generated::runtime::Answer, crate::generated::runtime::ToolError> {
                tracing::debug!(tool = call.tool, "failed: {error}");
                #err(error)
            }
        }
    }
}

/// The chapter's `classify_error`: a handler's message names its class, and every other
/// error keeps its built-in class.
fn classifier_stub(item: &HandlerPath, prelude: Prelude<'_>) -> TokenStream {
    let string = prelude.string();
    let name = ident(&item.item);
    let doc = crate::emit::doc(&format!(
        "Names the class of each failed attempt for `pforge://stats`, `/metrics` and the \
         recent errors (`error_tracking.classify_by`): the first {} names it returns are \
         counted apart, later ones as `other`, the overflow (so `other` is reserved: \
         returning it counts the error there). Errors the example does not name keep their \
         built-in class (`timeout`, `server_error`, `circuit_open`, ...). Replace the \
         example with your classes.",
        crate::plan::USER_CLASS_SLOTS - 1
    ));
    quote! {
        #doc
        pub fn #name(error: &crate::generated::runtime::ToolError) -> #string {
            use crate::generated::runtime::ToolError;
            let class = match error {
                ToolError::Handler(message) if message.contains("timeout") => "timeout",
                ToolError::Handler(message) if message.contains("connection") => "connection",
                _ => crate::generated::stats::ErrorClass::of(error).as_str(),
            };
            class.to_owned()
        }
    }
}
