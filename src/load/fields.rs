//! The one list of a tool's strings that may hold `{{param}}` placeholders and `${VAR}`
//! references: the checks read it to find placeholders and references, and the loader splits
//! the same strings into the templates it hands the planner, so the two cannot disagree.

use indexmap::IndexMap;

use super::pointer::Pointer;
use crate::config::{FallbackEntry, Tool, ToolKind};

/// Where a templated string sits in its request or command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot<'a> {
    /// A command's argument.
    Arg,
    /// A command's working directory.
    Cwd,
    /// A command's environment variable.
    Env(&'a str),
    /// A request's endpoint.
    Endpoint,
    /// A request's header.
    Header(&'a str),
    /// A request's query pair.
    Query(&'a str),
}

/// Whose string it is: the tool's kind, or the fallback entry at an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The command or request the tool runs.
    Kind,
    /// The fallback entry at this index.
    Fallback(usize),
}

/// One templated string of a tool.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    /// Its JSON pointer in the document.
    pub pointer: Pointer,
    /// The text as written.
    pub text: &'a str,
    /// Where it sits.
    pub slot: Slot<'a>,
    /// Whose it is.
    pub owner: Owner,
}

/// Every templated string of the tool at `at`, in the order its parameters are derived:
/// its command's or request's strings, then its fallbacks'. A pipeline's step arguments hold
/// placeholders only and are read with the steps.
pub fn of_tool<'a>(tool: &'a Tool, at: &Pointer) -> Vec<Field<'a>> {
    let mut fields = Vec::new();
    match &tool.kind {
        ToolKind::Native(_) | ToolKind::Pipeline(_) => {}
        ToolKind::Cli(cli) => {
            for (i, arg) in cli.args.iter().enumerate() {
                fields.push(field(at.key("args").index(i), arg, Slot::Arg, Owner::Kind));
            }
            if let Some(cwd) = &cli.cwd {
                fields.push(field(at.key("cwd"), cwd, Slot::Cwd, Owner::Kind));
            }
            for (key, value) in cli.env.iter().flatten() {
                let pointer = at.key("env").key(key);
                fields.push(field(pointer, value, Slot::Env(key), Owner::Kind));
            }
        }
        ToolKind::Http(http) => {
            let map = (http.headers.as_ref(), http.query.as_ref());
            request(&mut fields, at, &http.endpoint, map, Owner::Kind);
        }
    }
    let Some(fallback) = &tool.common.fallback else {
        return fields;
    };
    let chain = matches!(fallback, crate::config::Fallback::Chain(_));
    for (i, entry) in fallback.entries().iter().enumerate() {
        let FallbackEntry::Http(http) = entry else {
            continue;
        };
        let entry_at = if chain {
            at.key("fallback").index(i)
        } else {
            at.key("fallback")
        };
        let map = (http.headers.as_ref(), None);
        request(
            &mut fields,
            &entry_at,
            &http.endpoint,
            map,
            Owner::Fallback(i),
        );
    }
    fields
}

type Pairs<'a> = Option<&'a IndexMap<String, String>>;

/// The strings of a request at `at`: endpoint, headers, query.
fn request<'a>(
    fields: &mut Vec<Field<'a>>,
    at: &Pointer,
    endpoint: &'a str,
    (headers, query): (Pairs<'a>, Pairs<'a>),
    owner: Owner,
) {
    fields.push(field(at.key("endpoint"), endpoint, Slot::Endpoint, owner));
    for (key, value) in headers.into_iter().flatten() {
        let pointer = at.key("headers").key(key);
        fields.push(field(pointer, value, Slot::Header(key), owner));
    }
    for (key, value) in query.into_iter().flatten() {
        let pointer = at.key("query").key(key);
        fields.push(field(pointer, value, Slot::Query(key), owner));
    }
}

fn field<'a>(pointer: Pointer, text: &'a str, slot: Slot<'a>, owner: Owner) -> Field<'a> {
    Field {
        pointer,
        text,
        slot,
        owner,
    }
}
