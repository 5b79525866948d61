//! The `native` entries of `middleware` and the tools that opt out of them.

use std::collections::HashMap;

use super::roles::{HandlerRoles, Role};
use crate::config::Middleware;
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::naming;

/// Each `native` entry names a type that serves no other role and is listed once; a tool's
/// `middleware: false` needs some `native` entry to skip.
pub fn check(sections: &Sections, roles: &mut HandlerRoles, reporter: &mut Reporter<'_>) {
    let mut listed: HashMap<(String, String), Pointer> = HashMap::new();
    for (index, entry) in &sections.middleware {
        let Middleware::Native(native) = entry else {
            continue;
        };
        let at = Pointer::middleware(index).key("handler");
        roles.claim_type(&native.handler, &at, Role::Middleware, reporter);
        let Ok(parsed) = naming::handler_path(&native.handler.path) else {
            continue;
        };
        let key = (parsed.module.clone(), parsed.item.clone());
        match listed.get(&key) {
            Some(first) => reporter
                .error(
                    &at,
                    Target::Value,
                    format!("`{}` is already in the chain", parsed.written()),
                )
                .related(first, Target::Value, "listed here first")
                .help("each middleware runs once around a call; remove one of the entries")
                .emit(),
            None => {
                listed.insert(key, at);
            }
        }
    }
    let has_native = sections
        .middleware
        .iter()
        .any(|(_, m)| matches!(m, Middleware::Native(_)));
    if has_native {
        return;
    }
    for (index, tool) in &sections.tools {
        if tool.common.middleware == Some(false) {
            reporter
                .warning(
                    &Pointer::tool(index).key("middleware"),
                    Target::Key,
                    "there is no `native` middleware for this tool to skip",
                )
                .help("`middleware: false` opts a tool out of the `native` entries of the top-level `middleware` list; remove it")
                .emit();
        }
    }
}
