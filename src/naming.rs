//! The one naming authority: every function that turns a forge.yaml name into a Rust or Cargo
//! name lives here. The loader finds collisions by calling exactly these functions, the plan
//! stores their results, and emit only reads the plan, so a name `check` accepted is the name
//! the generated crate uses.
//!
//! Names pforge derives by itself (the `Handlers` fields, test modules) are built from these
//! results in shapes that cannot collide: a fixed prefix plus a unique name, or a number.

/// Strict and reserved keywords of Rust 2024 (including `gen`, reserved since that edition).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be written as raw identifiers either.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Crates every generated crate may depend on: a crate of the same name would shadow them.
pub const DEPENDENCIES: &[&str] = &[
    "rmcp",
    "serde",
    "serde_json",
    "tokio",
    "tracing",
    "tracing_subscriber",
    "regex",
    "reqwest",
    "axum",
    "hyper",
    "hyper_util",
    "http_body",
    "futures_core",
    "nix",
    "sha2",
    "subtle",
    "jsonwebtoken",
];

/// The names of Rust 2024's standard prelude (types, traits, variants, functions and the
/// primitive types). A user's item may take one of them: generated code names every one it
/// uses by path (`::std::result::Result`), and the stubs pforge writes into a handler file
/// do so when that file has an item of the same name.
pub const PRELUDE: &[&str] = &[
    "Copy",
    "Send",
    "Sized",
    "Sync",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "AsyncFn",
    "AsyncFnMut",
    "AsyncFnOnce",
    "drop",
    "align_of",
    "align_of_val",
    "size_of",
    "size_of_val",
    "Box",
    "ToOwned",
    "Clone",
    "PartialEq",
    "PartialOrd",
    "Eq",
    "Ord",
    "AsRef",
    "AsMut",
    "Into",
    "From",
    "Default",
    "Iterator",
    "Extend",
    "IntoIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "ToString",
    "Vec",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "Future",
    "IntoFuture",
    "Debug",
    "Hash",
    "bool",
    "char",
    "str",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
];

/// Whether `name` is a name of the standard prelude (see [`PRELUDE`]).
pub fn is_prelude(name: &str) -> bool {
    PRELUDE.contains(&name)
}

/// Names Cargo refuses for a package, besides keywords.
const RESERVED_CRATE_NAMES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "build",
    "deps",
    "examples",
];

/// Whether `word` is a Rust keyword.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// `fetch-user.data` / `fetchUserData` -> `fetch_user_data`, not yet escaped. Every run of
/// characters that are not ASCII letters or digits becomes one `_`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out
}

/// Makes an identifier-shaped string safe to use as one: keywords become raw identifiers
/// (`r#type`), the few that cannot be raw get a trailing `_`, an empty name or a leading
/// digit gets a leading `_`.
fn escape(ident: String) -> String {
    let ident = if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{ident}")
    } else {
        ident
    };
    if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if is_keyword(&ident) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// An identifier without its `r#` prefix: the file name of a module, or the stem of a
/// derived name.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// The library's name in Rust code (`my-server` -> `my_server`).
pub fn crate_ident(crate_name: &str) -> String {
    crate_name.replace('-', "_")
}

/// Why a package name cannot be used, if it cannot, and the name to write instead.
pub fn crate_name_problem(crate_name: &str) -> Option<NameProblem> {
    let ident = crate_ident(crate_name);
    let reserved = || {
        NameProblem::new(
            format!("`{crate_name}` cannot be a crate name: Rust or Cargo reserves it"),
            format!("pick another name, e.g. `{crate_name}-server`"),
        )
    };
    if is_keyword(&ident) || RESERVED_CRATE_NAMES.contains(&ident.as_str()) {
        return Some(reserved());
    }
    if DEPENDENCIES.contains(&ident.as_str()) {
        return Some(NameProblem::new(
            format!("`{crate_name}` is the name of a crate the generated server depends on"),
            format!("pick another name, e.g. `{crate_name}-server`"),
        ));
    }
    if !is_snake_case(&ident) {
        // The name is the package's, the binary's and the one MCP clients see: pforge does
        // not change it behind the user's back, it says what to write.
        let mut suggested = snake(crate_name).trim_matches('_').replace('_', "-");
        if crate_name_problem(&suggested).is_some() {
            suggested.push_str("-server");
        }
        return Some(NameProblem::new(
            format!(
                "`{crate_name}` is not a snake_case crate name (rustc's `non_snake_case` lint \
                 refuses upper-case letters and doubled separators)"
            ),
            format!("write `{suggested}`"),
        ));
    }
    None
}

/// The module (and file stem) of a tool. `mod.rs` is the tools directory's own file, so a
/// tool named `mod` gets the module `mod_`.
pub fn tool_module(tool_name: &str) -> String {
    match escape(snake(tool_name)) {
        module if module == "r#mod" => "mod_".to_owned(),
        module => module,
    }
}

/// The prefix of a tool's type names (`fetch_user` -> `FetchUser`, as in `FetchUserInput`).
pub fn tool_type_prefix(tool_name: &str) -> String {
    let mut out = String::with_capacity(tool_name.len() + 1);
    let mut upper = true;
    for c in tool_name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// The field of a tool's input struct that holds a parameter.
pub fn param_field(param_name: &str) -> String {
    escape(snake(param_name))
}

/// The `Handlers` field holding the type handler of tool `tool_index`. Fields are built from
/// positions, not names: a name such as `self_` or `_2fa` would give `tool__2fa`, which is not
/// snake_case, and positions can never meet.
pub fn tool_handler_field(tool_index: usize) -> String {
    format!("tool_{tool_index}")
}

/// The `Handlers` field holding fallback `entry` of tool `tool_index` when it is a type.
pub fn fallback_field(tool_index: usize, entry: usize) -> String {
    format!("fallback_{tool_index}_{entry}")
}

/// The `Handlers` field holding the retry policy of tool `tool_index`: each tool keeps its own
/// instance, as with fallback types.
pub fn retry_policy_field(tool_index: usize) -> String {
    format!("retry_policy_{tool_index}")
}

/// The `Handlers` field holding the middleware chain.
pub const MIDDLEWARE_FIELD: &str = "middleware";

/// The `Handlers` field holding resource `index`'s type handler.
pub fn resource_field(index: usize) -> String {
    format!("resource_{index}")
}

/// A handler path, parsed once: `handlers::Item` (an item in a file of its own, re-exported
/// at `handlers::`) or `handlers::module::item`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandlerPath {
    /// Module under `handlers` whose file holds the item, as an identifier (may be raw).
    pub module: String,
    /// The item, as an identifier (may be raw).
    pub item: String,
    /// Whether the config wrote it at `handlers::` (two segments).
    pub at_root: bool,
    /// A type (upper-case first letter) rather than an async function.
    pub is_type: bool,
}

impl HandlerPath {
    /// The file stem of the module, under `src/handlers/`.
    pub fn file(&self) -> &str {
        unraw(&self.module)
    }

    /// The item's name as the user writes it in Rust, without `r#`.
    pub fn name(&self) -> &str {
        unraw(&self.item)
    }

    /// The path as forge.yaml writes it (`handlers::Item` or `handlers::module::item`).
    pub fn written(&self) -> String {
        if self.at_root {
            format!("handlers::{}", self.name())
        } else {
            format!("handlers::{}::{}", self.file(), self.name())
        }
    }

    /// The path generated code uses, e.g. `crate::handlers::greet::say_hello`.
    pub fn rust_path(&self) -> String {
        format!("crate::handlers::{}::{}", self.module, self.item)
    }
}

/// Why a name cannot be used, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameProblem {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl NameProblem {
    fn new(message: String, help: impl Into<String>) -> Self {
        Self {
            message,
            help: help.into(),
        }
    }
}

/// Parses a handler path as written in forge.yaml.
pub fn handler_path(path: &str) -> Result<HandlerPath, NameProblem> {
    let trimmed = path.trim();
    let segments: Vec<&str> = trimmed.split("::").collect();
    let example = "write a path such as `handlers::MyHandler` or `handlers::module::function`";
    if segments.iter().any(|s| !is_plain_ident(s)) {
        return Err(NameProblem::new(
            format!("`{trimmed}` is not a path of plain Rust names"),
            format!("{example}, with ASCII letters, digits and `_`"),
        ));
    }
    let (module, item) = match segments.as_slice() {
        ["handlers", item] => (None, *item),
        ["handlers", module, item] => (Some(*module), *item),
        ["handlers", ..] => {
            return Err(NameProblem::new(
                format!("`{trimmed}` nests modules under `handlers::`"),
                "a handler is `handlers::Item` or `handlers::module::item`: pforge declares each \
                 handler module for you and never edits your files, so it cannot declare nested ones",
            ));
        }
        _ => {
            let last = segments.last().copied().unwrap_or("MyHandler");
            return Err(NameProblem::new(
                format!("handler `{trimmed}` must live under `handlers::`"),
                format!("pforge writes handler stubs into src/handlers/; write `handlers::{last}`"),
            ));
        }
    };
    let is_type = item.starts_with(|c: char| c.is_ascii_uppercase());
    if let Some(module) = module {
        check_segment(module, trimmed)?;
        if module == "mod" {
            return Err(NameProblem::new(
                format!("`mod` in `{trimmed}` cannot name a handler module"),
                "src/handlers/mod.rs would be the handlers directory's own file; pick another name",
            ));
        }
        if !is_snake_case(module) {
            return Err(NameProblem::new(
                format!("module `{module}` of `{trimmed}` is not in snake_case"),
                format!(
                    "Rust modules are snake_case: write `{}`",
                    unraw(&tool_module(module))
                ),
            ));
        }
    }
    check_segment(item, trimmed)?;
    if is_type && !is_camel_case(item) {
        return Err(NameProblem::new(
            format!("type `{item}` of `{trimmed}` is not in UpperCamelCase"),
            format!(
                "Rust types are UpperCamelCase: write `{}`",
                tool_type_prefix(item)
            ),
        ));
    }
    if !is_type && !is_snake_case(item) {
        return Err(NameProblem::new(
            format!("function `{item}` of `{trimmed}` is not in snake_case"),
            format!(
                "Rust functions are snake_case, types start with an upper-case letter: write `{}`",
                unraw(&tool_module(item))
            ),
        ));
    }
    Ok(HandlerPath {
        module: module.map_or_else(|| tool_module(item), |m| escape(m.to_owned())),
        item: escape(item.to_owned()),
        at_root: module.is_none(),
        is_type,
    })
}

/// A segment that cannot be a name even as a raw identifier.
fn check_segment(segment: &str, path: &str) -> Result<(), NameProblem> {
    if NOT_RAW.contains(&segment) || segment.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(NameProblem::new(
            format!("`{segment}` in `{path}` cannot name a Rust module or item"),
            "rename that module, type or function",
        ));
    }
    Ok(())
}

fn is_plain_ident(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// rustc's `non_snake_case` rule: no upper case, no `__` inside.
fn is_snake_case(name: &str) -> bool {
    !name.chars().any(|c| c.is_ascii_uppercase()) && !name.trim_matches('_').contains("__")
}

/// rustc's `non_camel_case_types` rule, for ASCII names: no `_` at all once it starts upper.
fn is_camel_case(name: &str) -> bool {
    !name.contains('_')
}

/// Where RFC 9728 puts the metadata of `resource`: `/.well-known/oauth-protected-resource`
/// inserted between its origin and its path. `None` when `resource` is not an http(s) URL
/// (the loader reports it).
pub fn metadata_location(resource: &str) -> Option<(String, String)> {
    let (scheme, rest) = resource.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    if authority.is_empty() {
        return None;
    }
    let path = format!(
        "/.well-known/oauth-protected-resource{}",
        path.trim_end_matches('/')
    );
    Some((format!("{scheme}://{authority}{path}"), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_goes_between_origin_and_path() {
        assert_eq!(
            metadata_location("https://mcp.example.com/mcp/"),
            Some((
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into(),
                "/.well-known/oauth-protected-resource/mcp".into()
            ))
        );
        assert_eq!(
            metadata_location("http://127.0.0.1:8080").map(|l| l.1),
            Some("/.well-known/oauth-protected-resource".into())
        );
        assert_eq!(metadata_location("urn:mcp"), None);
        assert_eq!(metadata_location("https:///x"), None);
    }

    #[test]
    fn tool_modules_fold_case_and_punctuation_and_escape_keywords() {
        assert_eq!(tool_module("fetch_user_data"), "fetch_user_data");
        assert_eq!(tool_module("Fetch-User.Data"), "fetch_user_data");
        assert_eq!(tool_module("fetchUser"), tool_module("fetch_user"));
        assert_eq!(tool_module("getHTTPStatus"), "get_httpstatus");
        assert_eq!(tool_module("fetch--user"), "fetch_user");
        assert_eq!(tool_module("type"), "r#type");
        assert_eq!(tool_module("gen"), "r#gen");
        assert_eq!(tool_module("self"), "self_");
        assert_eq!(tool_module("Self"), "self_");
        assert_eq!(tool_module("2fa"), "_2fa");
        assert_eq!(tool_module("日本"), "__");
        assert_eq!(tool_module("mod"), "mod_");
        assert_eq!(tool_module("mod_"), tool_module("mod"));
    }

    #[test]
    fn type_prefixes_are_camel_case() {
        assert_eq!(tool_type_prefix("fetch_user_data"), "FetchUserData");
        assert_eq!(tool_type_prefix("get-v2.data"), "GetV2Data");
        assert_eq!(tool_type_prefix("self"), "Self");
        assert_eq!(tool_type_prefix("2fa"), "T2fa");
    }

    #[test]
    fn handler_paths_parse_into_module_and_item() {
        let root = handler_path("handlers::UserDataFallback");
        assert_eq!(
            root.map(|h| (h.module, h.item, h.at_root, h.is_type)),
            Ok((
                "user_data_fallback".into(),
                "UserDataFallback".into(),
                true,
                true
            ))
        );
        let nested = handler_path(" handlers::greet::say_hello ");
        assert_eq!(
            nested.map(|h| (h.rust_path(), h.is_type)),
            Ok(("crate::handlers::greet::say_hello".into(), false))
        );
        let keyword = handler_path("handlers::Type");
        assert_eq!(keyword.map(|h| h.module), Ok("r#type".to_owned()));
        let reserved = handler_path("handlers::gen::run");
        assert_eq!(
            reserved.map(|h| h.rust_path()),
            Ok("crate::handlers::r#gen::run".into())
        );
    }

    #[test]
    fn bad_handler_paths_say_why() {
        for bad in [
            "crate::X",
            "handlers",
            "handlers::Vec<u8>",
            "::handlers::X",
            "handlers::../x",
            "handlers::a::b::c",
            "handlers::Self",
            "handlers::self::x",
            "handlers::Foo::bar",
            "handlers::fooBar",
            "handlers::Foo_bar",
            "handlers::x::",
            "handlers::café",
            "handlers::mod::run",
        ] {
            let problem = handler_path(bad);
            assert!(problem.is_err(), "{bad} was accepted");
        }
        // A keyword that can be raw is accepted as written; `r#` itself is not for forge.yaml.
        assert!(handler_path("handlers::type::X").is_ok());
        assert!(handler_path("handlers::r#type::X").is_err());
    }

    #[test]
    fn crate_names_that_shadow_a_dependency_are_refused() {
        assert!(crate_name_problem("tokio").is_some());
        assert!(crate_name_problem("hyper-util").is_some());
        assert!(crate_name_problem("serde-json").is_some());
        assert!(crate_name_problem("gen").is_some());
        assert!(crate_name_problem("weather-server").is_none());
    }

    #[test]
    fn crate_names_that_are_not_snake_case_get_a_spelling_that_is() {
        let help = |name: &str| crate_name_problem(name).map(|p| p.help);
        assert_eq!(
            help("My-2-Server--9-"),
            Some("write `my-2-server-9`".into())
        );
        assert_eq!(help("weatherServer"), Some("write `weather-server`".into()));
        assert_eq!(help("a__b"), Some("write `a-b`".into()));
        assert_eq!(help("Tokio"), Some("write `tokio-server`".into()));
        for fine in ["a-b", "a_b", "a-", "x2", "my-2-server-9"] {
            assert_eq!(crate_name_problem(fine), None, "{fine}");
        }
    }
}
