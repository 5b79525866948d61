//! The user's handlers: the module tree `main.rs` declares for them, and the stubs pforge
//! writes once for each handler that has no file yet.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ident;
use crate::plan::{KindPlan, Plan, ident::snake_ident};

/// One handler item, from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerItem {
    /// Module under `handlers` whose file holds the item.
    pub module: String,
    /// The item's name.
    pub name: String,
    /// Whether it is re-exported at `handlers::` (a two-segment path).
    pub at_root: bool,
    /// A type implementing `Handler` (upper-case name) or an async function.
    pub is_type: bool,
}

impl HandlerItem {
    /// `handlers::greet::say_hello` or `handlers::UserDataFallback`.
    pub fn from_path(path: &str) -> Self {
        let segments: Vec<&str> = path.split("::").map(str::trim).collect();
        let name = segments.last().copied().unwrap_or("handler").to_owned();
        let is_type = name.starts_with(|c: char| c.is_ascii_uppercase());
        match segments.as_slice() {
            [_, module, _] => Self {
                module: (*module).to_owned(),
                name,
                at_root: false,
                is_type,
            },
            _ => Self {
                module: crate::plan::ident::unraw(&snake_ident(&name)).to_owned(),
                name,
                at_root: true,
                is_type,
            },
        }
    }
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
}

/// Handler items, by module file, each with what it serves (a path used twice appears once).
pub fn items(plan: &Plan) -> BTreeMap<String, Vec<(HandlerItem, Role)>> {
    let mut files: BTreeMap<String, Vec<(HandlerItem, Role)>> = BTreeMap::new();
    let tools = plan
        .tools
        .iter()
        .enumerate()
        .filter_map(|(index, tool)| match &tool.kind {
            KindPlan::Native { handler } => Some((handler.as_str(), Role::Tool(index))),
            _ => None,
        });
    let resources = plan.resources.iter().enumerate().filter_map(|(index, r)| {
        r.handler
            .as_ref()
            .map(|h| (h.path.trim(), Role::Resource(index)))
    });
    let fallbacks = plan.tools.iter().enumerate().flat_map(|(tool, t)| {
        t.policy
            .fallback
            .iter()
            .enumerate()
            .filter_map(move |(entry, f)| match f {
                crate::config::FallbackEntry::Native(native) => {
                    Some((native.handler.path.trim(), Role::Fallback { tool, entry }))
                }
                _ => None,
            })
    });
    for (path, role) in tools.chain(resources).chain(fallbacks) {
        let item = HandlerItem::from_path(path);
        let entries = files.entry(item.module.clone()).or_default();
        if !entries
            .iter()
            .any(|(existing, _)| existing.name == item.name)
        {
            entries.push((item, role));
        }
    }
    files
}

/// `pub mod handlers { ... }` for `main.rs`.
pub fn module_tree(plan: &Plan) -> TokenStream {
    let files = items(plan);
    if files.is_empty() {
        return quote!();
    }
    let mods = files.keys().map(|module| {
        let module = ident(module);
        quote!(pub mod #module;)
    });
    let reexports = files
        .values()
        .flatten()
        .filter(|(item, _)| item.at_root)
        .map(|(item, _)| {
            let module = ident(&item.module);
            let name = format_ident!("{}", item.name);
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
pub fn stub_file(plan: &Plan, module: &str, items: &[(HandlerItem, Role)]) -> TokenStream {
    let doc = crate::emit::doc(&format!(
        "Handlers in `handlers::{module}`. This file is yours: pforge wrote it once and never overwrites it."
    ));
    let stubs = stub_items(plan, items);
    quote! {
        #![doc = #doc]
        #stubs
    }
}

/// The items of a handler file, without the file's header.
pub fn stub_items(plan: &Plan, items: &[(HandlerItem, Role)]) -> TokenStream {
    let stubs = items.iter().map(|(item, role)| match role {
        Role::Tool(index) => tool_stub(plan, item, *index),
        Role::Resource(index) => resource_stub(plan, item, *index),
        Role::Fallback { tool, .. } => fallback_stub(plan, item, *tool),
    });
    quote!(#(#stubs)*)
}

fn tool_stub(plan: &Plan, item: &HandlerItem, index: usize) -> TokenStream {
    let tool = &plan.tools[index];
    let tool_module = ident(&tool.module);
    let input = format_ident!("{}Input", tool.type_prefix);
    let name = format_ident!("{}", item.name);
    let doc = crate::emit::doc(&format!(
        "Handles the `{}` tool. Replace the echo with your logic.",
        tool.name
    ));
    let body = quote! {
        Ok(serde_json::json!({ "tool": context.name, "input": input }))
    };
    if item.is_type {
        quote! {
            #[doc = #doc]
            #[derive(Debug, Default)]
            pub struct #name;

            impl crate::generated::Handler<crate::generated::tools::#tool_module::#input> for #name {
                type Output = serde_json::Value;

                async fn handle(
                    &self,
                    input: crate::generated::tools::#tool_module::#input,
                    context: crate::generated::runtime::Context<'_>,
                ) -> Result<Self::Output, crate::generated::runtime::HandlerError> {
                    #body
                }
            }
        }
    } else {
        quote! {
            #[doc = #doc]
            pub async fn #name(
                input: crate::generated::tools::#tool_module::#input,
                context: crate::generated::runtime::Context<'_>,
            ) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}

fn resource_stub(plan: &Plan, item: &HandlerItem, index: usize) -> TokenStream {
    let resource = &plan.resources[index];
    let name = format_ident!("{}", item.name);
    let doc = crate::emit::doc(&format!(
        "Produces the contents of the `{}` resource. Replace the placeholder text with yours.",
        resource.name
    ));
    let body = quote! {
        Ok(format!("contents of {uri}"))
    };
    if item.is_type {
        quote! {
            #[doc = #doc]
            #[derive(Debug, Default)]
            pub struct #name;

            impl crate::generated::ResourceHandler for #name {
                async fn read(
                    &self,
                    uri: &str,
                    _context: crate::generated::runtime::Context<'_>,
                ) -> Result<String, crate::generated::runtime::HandlerError> {
                    #body
                }
            }
        }
    } else {
        quote! {
            #[doc = #doc]
            pub async fn #name(
                uri: &str,
                _context: crate::generated::runtime::Context<'_>,
            ) -> Result<String, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}

/// `impl Fallback<Input> for Item` of one tool, with a placeholder body.
pub fn fallback_impl(item: &HandlerItem, tool: &crate::plan::ToolPlan) -> TokenStream {
    let name = format_ident!("{}", item.name);
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
            ) -> Result<Self::Output, crate::generated::runtime::HandlerError> {
                Ok(serde_json::json!({ "tool": context.name, "input": input, "unavailable": error.to_string() }))
            }
        }
    }
}

/// The tools whose fallback chain uses `item`, in plan order.
pub fn fallback_users<'a>(plan: &'a Plan, item: &HandlerItem) -> Vec<&'a crate::plan::ToolPlan> {
    plan.tools
        .iter()
        .filter(|tool| {
            tool.policy.fallback.iter().any(|entry| match entry {
                crate::config::FallbackEntry::Native(native) => {
                    HandlerItem::from_path(&native.handler.path) == *item
                }
                _ => false,
            })
        })
        .collect()
}

fn fallback_stub(plan: &Plan, item: &HandlerItem, index: usize) -> TokenStream {
    let tool = &plan.tools[index];
    let tool_module = ident(&tool.module);
    let input = format_ident!("{}Input", tool.type_prefix);
    let name = format_ident!("{}", item.name);
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
        Ok(serde_json::json!({ "tool": context.name, "input": input, "unavailable": error.to_string() }))
    };
    if item.is_type {
        let impls = users.iter().map(|tool| fallback_impl(item, tool));
        quote! {
            #[doc = #doc]
            #[derive(Debug, Default)]
            pub struct #name;

            #(#impls)*
        }
    } else {
        quote! {
            #[doc = #doc]
            pub async fn #name(
                input: crate::generated::tools::#tool_module::#input,
                error: crate::generated::runtime::ToolError,
                context: crate::generated::runtime::Context<'_>,
            ) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
                #body
            }
        }
    }
}
