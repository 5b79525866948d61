//! Per-tool checks: names, handlers, placeholders, endpoints, commands, fallbacks, policies.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use super::defaults::{self, Defaults};
use super::names::{Scope, Written, WrittenAs};
use super::params;
use super::roles::{HandlerRoles, Role};
use crate::config::{FallbackEntry, Params, Tool, ToolKind};
use crate::holes::{self, TemplateError};
use crate::load::fields::{self, Slot};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::load::suggest;
use crate::naming;

/// What other checks need to know about a tool.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    /// Index in `tools`.
    pub index: usize,
    /// Parameter names with whether each is required, declared or derived from placeholders.
    pub params: Vec<(String, bool)>,
    /// Whether `params` was written (so unknown arguments are errors).
    pub declared: bool,
    /// The parameters the plan derives when `params` is not written: one per placeholder in
    /// order of first use, except, for a pipeline, the variables its steps set (see
    /// `parameter_uses`); without `params` these are exactly the names of `params`.
    pub derived: Vec<String>,
}

/// Tools by name, first definition wins.
pub type Catalogue = IndexMap<String, ToolInfo>;

/// A `{{name}}` written somewhere in a tool.
#[derive(Debug, Clone)]
pub struct Use {
    /// Pointer of the string holding it.
    pub pointer: Pointer,
    /// The placeholder's name.
    pub name: String,
    /// The placeholder as written, to underline it.
    pub text: String,
}

/// Runs the per-tool checks and returns the catalogue of tools.
pub fn check(
    sections: &Sections,
    defaults: &Defaults<'_>,
    handlers: &mut HandlerRoles,
    reporter: &mut Reporter<'_>,
) -> Catalogue {
    let mut catalogue = Catalogue::new();
    check_names(sections, reporter);
    for (index, tool) in &sections.tools {
        let at = Pointer::tool(*index);
        let mut uses = Vec::new();
        if let ToolKind::Pipeline(pipeline) = &tool.kind {
            collect_steps(pipeline, &at, &mut uses, reporter);
        }
        // Step arguments may use the variables steps set; see `parameter_uses`.
        let step_uses = uses.len();
        check_strings(tool, &at, &mut uses, reporter);
        check_kind(tool, &at, handlers, reporter);
        if let Some(fallback) = &tool.common.fallback {
            check_fallback(
                fallback.entries(),
                matches!(fallback, crate::config::Fallback::Chain(_)),
                &at,
                handlers,
                reporter,
            );
        }
        if let Some(declared) = &tool.common.params {
            params::check(declared, &at.key("params"), reporter);
        }
        let cli = match &tool.kind {
            ToolKind::Cli(cli) => Some(cli),
            _ => None,
        };
        params::check_cli_use(tool.common.params.as_ref(), cli, &at, reporter);
        check_policies(tool, &at, defaults, handlers, reporter);
        let info = resolve_params(tool, *index, (&uses, step_uses), reporter);
        catalogue.entry(tool.common.name.clone()).or_insert(info);
    }
    handlers.check_resources(sections, reporter);
    catalogue
}

/// The tool's templated strings: their placeholders (collected into `uses`) and `${VAR}`s are
/// well formed, and its endpoints are absolute.
fn check_strings(tool: &Tool, at: &Pointer, uses: &mut Vec<Use>, reporter: &mut Reporter<'_>) {
    for field in fields::of_tool(tool, at) {
        collect_string(field.text, &field.pointer, uses, reporter);
        check_env_refs(field.text, &field.pointer, reporter);
        if field.slot == Slot::Endpoint {
            check_endpoint(field.text, &field.pointer, reporter);
        }
    }
}

/// What the tool runs: a handler with one role, a command, a request's headers and auth.
fn check_kind(tool: &Tool, at: &Pointer, handlers: &mut HandlerRoles, reporter: &mut Reporter<'_>) {
    match &tool.kind {
        ToolKind::Native(native) => {
            handlers.claim(&native.handler, &at.key("handler"), Role::Tool, reporter)
        }
        ToolKind::Cli(cli) => check_cli(cli, at, reporter),
        ToolKind::Http(http) => {
            check_header_names(http.headers.as_ref(), &at.key("headers"), reporter);
            if let Some(auth) = &http.auth {
                check_auth(auth, &at.key("auth"), reporter);
            }
        }
        ToolKind::Pipeline(_) => {}
    }
}

/// The tool's own retry, breaker and bulkhead, alone and merged over the defaults.
fn check_policies(
    tool: &Tool,
    at: &Pointer,
    defaults: &Defaults<'_>,
    handlers: &mut HandlerRoles,
    reporter: &mut Reporter<'_>,
) {
    let mut retry_layers = Vec::new();
    if let Some(retry) = &tool.common.retry {
        defaults::check_retry_block(&at.key("retry"), retry, handlers, reporter);
        if !matches!(tool.kind, ToolKind::Pipeline(_)) {
            defaults::check_default_caps(&at.key("retry"), retry, &defaults.retry, reporter);
        }
        retry_layers.push((at.key("retry"), retry));
    }
    retry_layers.extend(defaults.retry.iter().map(|(p, r)| (p.clone(), *r)));
    if tool.common.retry.is_some() {
        defaults::check_retry(&retry_layers, Some(tool.kind.tag()), reporter);
    }
    if let Some(breaker) = &tool.common.circuit_breaker {
        let layer = (at.key("circuit_breaker"), breaker);
        defaults::check_breaker(&[layer], reporter);
    }
    if let Some(bulkhead) = &tool.common.bulkhead {
        let layer = (at.key("bulkhead"), bulkhead);
        defaults::check_bulkhead(&[layer], reporter);
    }
}

/// Collects the placeholders of a pipeline's step arguments.
fn collect_steps(
    pipeline: &crate::config::PipelineTool,
    at: &Pointer,
    uses: &mut Vec<Use>,
    reporter: &mut Reporter<'_>,
) {
    for (step_index, step) in pipeline.steps.iter().enumerate() {
        let step_at = at.key("steps").index(step_index);
        let key = if step.params.is_some() {
            "params"
        } else {
            "input"
        };
        for (arg, value) in step.arguments().into_iter().flatten() {
            collect_json(value, &step_at.key(key).key(arg), uses, reporter);
        }
    }
}

/// Tool names must be unique, also as module names. Read from the document so that tools with
/// other errors still take part.
fn check_names(sections: &Sections, reporter: &mut Reporter<'_>) {
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut modules = Scope::new("module", "in src/generated/tools/");
    let tools = sections.document().get("tools").and_then(Value::as_array);
    for (index, tool) in tools.into_iter().flatten().enumerate() {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            continue;
        };
        let at = Pointer::tool(index).key("name");
        if let Some(first) = names.get(name) {
            reporter
                .error(
                    &at,
                    Target::Value,
                    format!("a second tool is named `{name}`"),
                )
                .related(
                    &Pointer::tool(*first).key("name"),
                    Target::Value,
                    "first defined here",
                )
                .help("tool names must be unique; rename one of them")
                .emit();
            continue;
        }
        names.insert(name.to_owned(), index);
        let written = Written {
            pointer: at,
            target: WrittenAs::Value,
            text: name.to_owned(),
        };
        modules.claim(naming::tool_module(name), written, reporter);
    }
}

/// Names of every tool written, valid or not.
pub fn all_tool_names(sections: &Sections) -> std::collections::HashSet<&str> {
    let tools = sections.document().get("tools").and_then(Value::as_array);
    tools
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .collect()
}

/// Declared params must cover every placeholder; without `params`, placeholders become
/// required string params. Both read [`parameter_uses`], so what `check` counts as a
/// parameter and what the plan derives are one list. Pipelines resolve their variables in
/// the pipeline checks.
fn resolve_params(
    tool: &Tool,
    index: usize,
    (uses, step_uses): (&[Use], usize),
    reporter: &mut Reporter<'_>,
) -> ToolInfo {
    let parameter_uses = parameter_uses(tool, uses, step_uses);
    let mut derived: Vec<String> = Vec::new();
    for u in &parameter_uses {
        if !derived.contains(&u.name) {
            derived.push(u.name.clone());
        }
    }
    let place = format!("of `{}Input`", naming::tool_type_prefix(&tool.common.name));
    let mut fields = Scope::new("field", place);
    let (params, declared) = match &tool.common.params {
        None => {
            claim_undeclared(&parameter_uses, &mut fields, reporter);
            let params = derived.iter().map(|name| (name.clone(), true)).collect();
            (params, false)
        }
        Some(declared) => {
            let at = Pointer::tool(index).key("params");
            claim_declared(declared, &at, &mut fields, reporter);
            check_uses_declared(tool, declared, &parameter_uses, reporter);
            (declared_params(declared), true)
        }
    };
    ToolInfo {
        index,
        params,
        declared,
        derived,
    }
}

/// The placeholders that name parameters of the tool, in order: those of a pipeline's step
/// arguments (the first `step_uses` of `uses`) except the variables its steps set, then
/// every placeholder of its strings. A fallback (a pipeline's too) is called with the tool's
/// input, never with a pipeline's variables, so each of its placeholders is a parameter.
fn parameter_uses<'u>(tool: &Tool, uses: &'u [Use], step_uses: usize) -> Vec<&'u Use> {
    let outputs: Vec<&str> = match &tool.kind {
        ToolKind::Pipeline(p) => p
            .steps
            .iter()
            .filter_map(|s| s.output_var.as_deref())
            .collect(),
        _ => Vec::new(),
    };
    uses.iter()
        .enumerate()
        .filter(|(i, u)| *i >= step_uses || !outputs.contains(&u.name.as_str()))
        .map(|(_, u)| u)
        .collect()
}

/// Each parameter a placeholder makes claims its input field, where first written.
fn claim_undeclared(parameter_uses: &[&Use], fields: &mut Scope, reporter: &mut Reporter<'_>) {
    let mut claimed: Vec<&str> = Vec::new();
    for u in parameter_uses {
        if claimed.contains(&u.name.as_str()) {
            continue;
        }
        let written = Written {
            pointer: u.pointer.clone(),
            target: WrittenAs::Text(u.text.clone()),
            text: u.name.clone(),
        };
        fields.claim(naming::param_field(&u.name), written, reporter);
        claimed.push(&u.name);
    }
}

/// Each declared parameter claims its input field; `at` is the `params` block.
fn claim_declared(
    declared: &Params,
    at: &Pointer,
    fields: &mut Scope,
    reporter: &mut Reporter<'_>,
) {
    for name in declared.0.keys() {
        let written = Written {
            pointer: at.key(name),
            target: WrittenAs::Key,
            text: name.clone(),
        };
        fields.claim(naming::param_field(name), written, reporter);
    }
}

/// Every placeholder that names a parameter is a declared one.
fn check_uses_declared(
    tool: &Tool,
    declared: &Params,
    parameter_uses: &[&Use],
    reporter: &mut Reporter<'_>,
) {
    let names: Vec<&str> = declared.0.keys().map(String::as_str).collect();
    for u in parameter_uses {
        if names.contains(&u.name.as_str()) {
            continue;
        }
        let help = match suggest::closest(&u.name, names.iter().copied()) {
            Some(close) => format!("did you mean `{{{{{close}}}}}`?"),
            None => format!("declare it under `params:`, e.g. `{}: string`", u.name),
        };
        reporter
            .error(
                &u.pointer,
                Target::Text(&u.text),
                format!(
                    "`{}` is not a parameter of tool `{}`",
                    u.text, tool.common.name
                ),
            )
            .help(help)
            .emit();
    }
}

/// Declared parameters with whether each is required.
fn declared_params(declared: &Params) -> Vec<(String, bool)> {
    declared
        .0
        .iter()
        .map(|(n, spec)| (n.clone(), spec.is_required()))
        .collect()
}

fn check_cli(cli: &crate::config::CliTool, at: &Pointer, reporter: &mut Reporter<'_>) {
    let command_at = at.key("command");
    let command = cli.command.trim();
    if command.is_empty() {
        reporter
            .error(&command_at, Target::Value, "the command is empty")
            .help("name a program, e.g. `git`")
            .emit();
    } else if command.contains("{{") || command.contains("${") {
        reporter
            .error(
                &command_at,
                Target::Value,
                "the program to run cannot come from a parameter or the environment",
            )
            .help("name the program itself; pass parameters through `args`")
            .emit();
    } else if command.contains(char::is_whitespace) && !std::path::Path::new(command).exists() {
        let (program, rest) = command
            .split_once(char::is_whitespace)
            .unwrap_or((command, ""));
        reporter
            .error(&command_at, Target::Value, format!("`{command}` is a program and its arguments in one string"))
            .help(format!(
                "pforge runs commands without a shell: write `command: {program}` and put `{}` in `args`",
                rest.trim()
            ))
            .emit();
    }
    for (key, value) in cli.env.iter().flatten() {
        if value.contains("{{") && runs_code(key) {
            reporter
                .error(
                    &at.key("env").key(key),
                    Target::Value,
                    format!("a caller's value in `{key}` chooses code the command loads or runs"),
                )
                .help(
                    "set it from forge.yaml or the environment (`${VAR}`), never from a parameter",
                )
                .emit();
        }
    }
}

/// Variables through which a value makes a program load or run other code: the dynamic
/// loader's, the shell's, and the interpreters' and git's hooks.
fn runs_code(variable: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "PS4",
        "IFS",
        "EDITOR",
        "PAGER",
    ];
    const PREFIXES: &[&str] = &[
        "LD_", "DYLD_", "GIT_", "PYTHON", "NODE_", "PERL", "RUBY", "JAVA_", "_JAVA_", "GCONV",
        "LUA_",
    ];
    let upper = variable.to_ascii_uppercase();
    NAMES.contains(&upper.as_str()) || PREFIXES.iter().any(|p| upper.starts_with(p))
}

/// An endpoint is an absolute http(s) URL (or starts with `${VAR}`), and parameters may not
/// choose its scheme or host.
fn check_endpoint(endpoint: &str, at: &str, reporter: &mut Reporter<'_>) {
    let Some(authority_end) = holes::authority_end(endpoint) else {
        reporter
            .error(at, Target::Value, "the endpoint must be an absolute http:// or https:// URL")
            .help("write e.g. `https://api.example.com/users/{{user_id}}`, or start with `${BASE_URL}`")
            .emit();
        return;
    };
    if let Some(placeholder) = endpoint[..authority_end].find("{{") {
        let text: String = endpoint[placeholder..]
            .chars()
            .take_while(|c| *c != '}')
            .collect::<String>()
            + "}}";
        reporter
            .error(at, Target::Text(&text), "a parameter cannot choose the scheme or host of the endpoint")
            .help("put placeholders in the path or query; to change hosts per deployment use `${BASE_URL}`")
            .emit();
        return;
    }
    // A `${VAR}` holds the scheme and host; text right after it still belongs to the host
    // (`${API}{{id}}` with `API=http://h:80` reaches port 80<id>, `id=".evil.net"` another host).
    let rest = &endpoint[authority_end..];
    if endpoint.starts_with("${") && rest.contains("{{") && !rest.starts_with(['/', '?', '#']) {
        let variable = &endpoint[..authority_end];
        reporter
            .error(
                at,
                Target::Text(variable),
                format!("a parameter after `{variable}` could extend the host it names"),
            )
            .help(format!(
                "end the host with `/`, `?` or `#`: write `{variable}/{}`",
                rest.trim_start_matches('/')
            ))
            .emit();
    }
}

fn check_auth(auth: &crate::config::Auth, at: &Pointer, reporter: &mut Reporter<'_>) {
    use crate::config::Auth;
    let fields: Vec<(&str, &str)> = match auth {
        Auth::Bearer(b) => vec![("token", &b.token)],
        Auth::Basic(b) => vec![("username", &b.username), ("password", &b.password)],
        Auth::ApiKey(k) => {
            let mut fields = vec![("key", k.key.as_str())];
            if let Some(header) = &k.header {
                fields.push(("header", header.as_str()));
            }
            fields
        }
    };
    for (key, value) in fields {
        let field_at = at.key(key);
        check_env_refs(value, &field_at, reporter);
        if value.contains("{{") {
            reporter
                .error(
                    &field_at,
                    Target::Value,
                    "credentials cannot come from tool parameters",
                )
                .help("read them from the environment with `${VAR}`")
                .emit();
        }
    }
}

fn check_header_names(
    headers: Option<&IndexMap<String, String>>,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) {
    let valid = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    for name in headers.into_iter().flat_map(IndexMap::keys) {
        if name.is_empty() || !name.chars().all(valid) {
            reporter
                .error(
                    &at.key(name),
                    Target::Key,
                    format!("`{name}` is not a valid HTTP header name"),
                )
                .help("header names hold letters, digits and `-`, e.g. `X-Request-Id`")
                .emit();
        }
    }
}

fn check_fallback(
    entries: &[FallbackEntry],
    chain: bool,
    tool_at: &Pointer,
    handlers: &mut HandlerRoles,
    reporter: &mut Reporter<'_>,
) {
    let entry_at = |i: usize| {
        if chain {
            tool_at.key("fallback").index(i)
        } else {
            tool_at.key("fallback")
        }
    };
    let mut value_at: Option<Pointer> = None;
    for (i, entry) in entries.iter().enumerate() {
        let at = entry_at(i);
        if let Some(first) = &value_at {
            reporter
                .warning(&at, Target::Value, "this fallback never runs")
                .related(first, Target::Value, "a `value` fallback always answers")
                .help("move the `value` entry to the end of the chain")
                .emit();
        }
        match entry {
            FallbackEntry::Native(native) => {
                handlers.claim(
                    &native.handler,
                    &at.key("handler"),
                    Role::Fallback,
                    reporter,
                );
                handlers.claim_fallback_function(
                    &native.handler,
                    tool_at,
                    &at.key("handler"),
                    reporter,
                );
            }
            FallbackEntry::Http(http) => {
                check_header_names(http.headers.as_ref(), &at.key("headers"), reporter);
            }
            FallbackEntry::Value(_) => {
                value_at.get_or_insert(at);
            }
        }
    }
}

/// Collects the placeholders of every string inside a JSON value.
pub fn collect_json(value: &Value, at: &Pointer, uses: &mut Vec<Use>, reporter: &mut Reporter<'_>) {
    match value {
        Value::String(s) => collect_string(s, at, uses, reporter),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_json(item, &at.index(i), uses, reporter);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_json(v, &at.key(k), uses, reporter);
            }
        }
        _ => {}
    }
}

/// Collects the placeholders of one string, reporting malformed ones.
pub fn collect_string(text: &str, at: &Pointer, uses: &mut Vec<Use>, reporter: &mut Reporter<'_>) {
    match holes::placeholders(text) {
        Ok(found) => uses.extend(found.into_iter().map(|p| Use {
            pointer: at.clone(),
            text: text[p.range].to_owned(),
            name: p.name,
        })),
        Err(error) => report_template_error(text, at, &error, reporter),
    }
}

fn check_env_refs(text: &str, at: &str, reporter: &mut Reporter<'_>) {
    if let Err(error) = holes::env_refs(text) {
        report_template_error(text, at, &error, reporter);
    }
}

fn report_template_error(text: &str, at: &str, error: &TemplateError, reporter: &mut Reporter<'_>) {
    let piece = &text[error.range.clone()];
    reporter
        .error(at, Target::Text(piece), error.message.clone())
        .help("placeholders are `{{name}}` with a parameter name; environment references are `${NAME}` or `${NAME:-default}`")
        .emit();
}
