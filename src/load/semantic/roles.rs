//! Handler paths and what each serves: one item has one role (a tool handler, a fallback, a
//! resource, a retry policy), so that the stub pforge writes for it has one signature.

use std::collections::HashMap;

use crate::config::HandlerRef;
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::naming::{self, HandlerPath};

/// What a handler path is used as; one path cannot serve two incompatible roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A native tool's handler; one tool each.
    Tool,
    /// A fallback, function or type.
    Fallback,
    /// A resource's handler.
    Resource,
    /// A type implementing `RetryPolicy`, shared by any number of tools.
    RetryPolicy,
    /// A type implementing `Middleware`, once in the chain.
    Middleware,
    /// `error_tracking.classify_by`: a function naming error classes.
    Classifier,
}

impl Role {
    fn describe(self) -> &'static str {
        match self {
            Self::Tool => "a tool handler",
            Self::Fallback => "a fallback handler",
            Self::Resource => "a resource handler",
            Self::RetryPolicy => "a retry policy",
            Self::Middleware => "a middleware",
            Self::Classifier => "an error classifier",
        }
    }
}

/// The item a handler path names: `handlers::Foo` and `handlers::foo::Foo` are one item.
type ItemKey = (String, String);

/// The handler paths seen so far, with their roles.
#[derive(Debug, Default)]
pub struct HandlerRoles {
    /// Each item with its first role, where that was written and the path as written there.
    seen: HashMap<ItemKey, (Role, String, String)>,
    /// Fallback functions, with the tool that first uses each.
    fallback_functions: HashMap<ItemKey, (String, String)>,
}

impl HandlerRoles {
    /// A fallback function takes one tool's input type, so two tools cannot share it; a type
    /// can, by implementing `Fallback` for each tool's input.
    pub fn claim_fallback_function(
        &mut self,
        handler: &HandlerRef,
        tool_at: &str,
        at: &str,
        reporter: &mut Reporter<'_>,
    ) {
        let Ok(parsed) = naming::handler_path(&handler.path) else {
            return;
        };
        if parsed.is_type {
            return;
        }
        let path = handler.path.trim();
        match self.fallback_functions.get(&key(&parsed)) {
            Some((first_tool, first_at)) if first_tool != tool_at => {
                reporter
                    .error(at, Target::Value, format!("`{path}` is already the fallback function of another tool"))
                    .related(first_at, Target::Value, "first used here")
                    .help("a fallback function takes one tool's input: give this tool its own function, or use a type (`handlers::CachedAnswer`) that implements `Fallback` for each tool")
                    .emit();
            }
            Some(_) => {}
            None => {
                self.fallback_functions
                    .insert(key(&parsed), (tool_at.to_owned(), at.to_owned()));
            }
        }
    }

    /// Records that `handler`, written at `at`, serves `role`; reports a path that does not
    /// parse, or an item that already serves another role (or another tool).
    pub fn claim(
        &mut self,
        handler: &HandlerRef,
        at: &str,
        role: Role,
        reporter: &mut Reporter<'_>,
    ) {
        let parsed = match naming::handler_path(&handler.path) {
            Ok(parsed) => parsed,
            Err(problem) => {
                reporter
                    .error(at, Target::Value, problem.message)
                    .help(problem.help)
                    .emit();
                return;
            }
        };
        let path = handler.path.trim();
        match self.seen.get(&key(&parsed)) {
            Some((first_role, first_at, first_path))
                if *first_role != role || role == Role::Tool =>
            {
                let same = if first_path == path {
                    format!("`{path}`")
                } else {
                    format!(
                        "`{path}` (the same item as `{first_path}`: `{}` in src/handlers/{}.rs)",
                        parsed.name(),
                        parsed.file()
                    )
                };
                let message = if *first_role == role {
                    format!("{same} already handles another tool")
                } else {
                    format!("{same} is already used as {}", first_role.describe())
                };
                reporter
                    .error(at, Target::Value, message)
                    .related(first_at, Target::Value, "first used here")
                    .help(format!(
                        "each handler has one signature; give {} its own handler",
                        role.describe()
                    ))
                    .emit();
            }
            Some(_) => {}
            None => {
                self.seen
                    .insert(key(&parsed), (role, at.to_owned(), path.to_owned()));
            }
        }
    }

    /// `claim` for a role only a type can serve: a retry policy makes two decisions, a
    /// middleware has three hooks.
    pub fn claim_type(
        &mut self,
        handler: &HandlerRef,
        at: &str,
        role: Role,
        reporter: &mut Reporter<'_>,
    ) {
        if let Ok(parsed) = naming::handler_path(&handler.path)
            && !parsed.is_type
        {
            let (implements, example) = match role {
                Role::Middleware => ("`Middleware` (`before`, `after`, `on_error`)", "Audit"),
                _ => (
                    "`RetryPolicy` (`should_retry` and `delay`)",
                    "CustomRetryPolicy",
                ),
            };
            reporter
                .error(
                    at,
                    Target::Value,
                    format!(
                        "`{}` names a function; {} is a type",
                        handler.path.trim(),
                        role.describe()
                    ),
                )
                .help(format!(
                    "name a type that implements {implements}, e.g. `handlers::{example}`; \
                     pforge writes its stub"
                ))
                .emit();
            return;
        }
        self.claim(handler, at, role, reporter);
    }

    /// `claim` for the error classifier, which is a function: it makes one decision and keeps
    /// nothing.
    pub fn claim_classifier(
        &mut self,
        handler: &HandlerRef,
        at: &str,
        reporter: &mut Reporter<'_>,
    ) {
        if let Ok(parsed) = naming::handler_path(&handler.path)
            && parsed.is_type
        {
            reporter
                .error(
                    at,
                    Target::Value,
                    format!(
                        "`{}` names a type; an error classifier is a function",
                        handler.path.trim()
                    ),
                )
                .help(
                    "name a function `fn(&ToolError) -> String`, e.g. \
                     `handlers::classify_error`; pforge writes its stub",
                )
                .emit();
            return;
        }
        self.claim(handler, at, Role::Classifier, reporter);
    }

    /// Claims the handlers of the resources.
    pub fn check_resources(&mut self, sections: &Sections, reporter: &mut Reporter<'_>) {
        for (index, resource) in &sections.resources {
            if let Some(handler) = &resource.handler {
                self.claim(
                    handler,
                    &Pointer::resource(index).key("handler"),
                    Role::Resource,
                    reporter,
                );
            }
        }
    }
}

fn key(path: &HandlerPath) -> ItemKey {
    (path.module.clone(), path.item.clone())
}
