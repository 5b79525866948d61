//! Every default is stated once, in `src/defaults.rs`, and agrees everywhere it shows: the
//! schema's `"default"` annotations, what the plan resolves when the key is left out, the
//! reference page `docs/src/reference/defaults.md`, and the limits tables of the book's
//! http-server and security pages.

use std::collections::HashSet;
use std::path::Path;

use pforge::defaults::{self, Entry, spelled_ms};
use pforge::plan::{
    AuthPlan, FallbackPlan, KindPlan, MetricsPlan, Plan, ServerAuthPlan, ToolPlan, TransportPlan,
};
use serde_json::{Value, json};

/// Each `"default"` of the schema, as `Definition.property` and its value.
fn schema_defaults() -> Vec<(String, Value)> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    // A property *named* `default` (a parameter's) is not an annotation.
                    let annotation =
                        key == "default" && path.last().is_none_or(|p| p != "properties");
                    if annotation {
                        let definition = path.get(1).cloned().unwrap_or_default();
                        let property = path.last().cloned().unwrap_or_default();
                        out.push((format!("{definition}.{property}"), child.clone()));
                        continue;
                    }
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&pforge::schema::forge_schema(), &mut Vec::new(), &mut out);
    assert!(out.len() > 40, "{out:?}");
    out
}

#[test]
fn every_schema_default_is_one_of_defaults_all() {
    let all = defaults::all();
    let mut broken = Vec::new();
    for (at, value) in schema_defaults() {
        match all.iter().find(|e| e.schema == Some(at.as_str())) {
            None => broken.push(format!(
                "{at}: schema default {value} is not in defaults::all()"
            )),
            Some(entry) if entry.value != value => broken.push(format!(
                "{at}: the schema says {value}, defaults::all() says {} ({})",
                entry.value, entry.key
            )),
            Some(_) => {}
        }
    }
    let stated: Vec<String> = schema_defaults().into_iter().map(|(at, _)| at).collect();
    for entry in &all {
        if let Some(at) = entry.schema
            && !stated.iter().any(|s| s == at)
        {
            broken.push(format!(
                "{}: defaults::all() names {at}, which has no schema default",
                entry.key
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Every `pub const` at the top of `src/defaults.rs` is user-visible and must be one of
/// [`defaults::all`]; internal values live in `defaults::internal`, which says so.
#[test]
fn every_top_level_constant_is_listed_in_all() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/defaults.rs");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}"));
    let listing: HashSet<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some(identifiers(f)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut missing = Vec::new();
    for item in &file.items {
        if let syn::Item::Const(c) = item {
            let name = c.ident.to_string();
            if !listing.contains(&name) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "src/defaults.rs: {missing:?} are in neither defaults::all() nor defaults::internal"
    );
}

/// Every identifier of `f`'s body, macro arguments (`json!(BIND)`) included, whole: a
/// substring match would count `MAX_SESSIONS` as listed by `MAX_SESSIONS_PER_CALLER`.
fn identifiers(f: &syn::ItemFn) -> Vec<String> {
    fn walk(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => out.push(ident.to_string()),
                proc_macro2::TokenTree::Group(group) => walk(group.stream(), out),
                proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {}
            }
        }
    }
    use quote::ToTokens;
    let mut out = Vec::new();
    walk(f.block.to_token_stream(), &mut out);
    out
}

/// A config with one native tool and the `forge` header, plus `extra` (more top-level keys).
fn planned(forge: &str, tools: &str, extra: &str) -> Plan {
    let text = format!("forge: {{name: t, version: 0.1.0{forge}}}\ntools:\n{tools}{extra}");
    let loaded = pforge::load::load_str("forge.yaml", &text);
    assert!(!loaded.has_errors(), "{text}\n{:?}", loaded.diagnostics);
    pforge::plan::plan(&loaded.config.unwrap_or_else(|| panic!("{text}")))
}

const NATIVE: &str = "  - {type: native, name: nat, handler: handlers::nat}\n";
const CLI: &str = "  - {type: cli, name: cmd, command: ls}\n";
const HTTP: &str = "  - {type: http, name: web, endpoint: \"https://x.example/\"}\n";
const OAUTH: &str = ", transport: http, http: {auth: {oauth: {issuer: \"https://i.example/\", audience: \"https://mcp.example.com/mcp\", jwks_url: \"https://i.example/jwks\"}}}";

fn tool(plan: &Plan) -> &ToolPlan {
    &plan.tools[0]
}

fn http_server(plan: &Plan) -> &pforge::plan::HttpServerPlan {
    plan.transport
        .http()
        .unwrap_or_else(|| panic!("{:?}", plan.transport))
}

fn stdio(plan: &Plan) -> pforge::plan::StdioPlan {
    match &plan.transport {
        TransportPlan::Stdio(stdio) => *stdio,
        other => panic!("{other:?}"),
    }
}

/// What the plan resolves for `key` when forge.yaml leaves it out, spelled as forge.yaml would.
fn resolved(key: &str) -> Option<Value> {
    server(key)
        .or_else(|| http(key))
        .or_else(|| tools(key))
        .or_else(|| policies(key))
}

fn server(key: &str) -> Option<Value> {
    let base = || planned("", NATIVE, "");
    Some(match key {
        "forge.transport" => json!(match base().transport {
            TransportPlan::Stdio(_) => "stdio",
            TransportPlan::Http(_) => "http",
        }),
        "forge.optimization" => json!(if base().release { "release" } else { "debug" }),
        "forge.drain_timeout" => json!(spelled_ms(base().drain_ms)),
        "forge.max_output_bytes" => json!(base().max_output_bytes),
        "forge.stdio.max_in_flight" => json!(stdio(&base()).max_in_flight),
        "forge.stdio.max_message_bytes" => json!(stdio(&base()).max_message_bytes),
        "tools[].timeout_ms" => {
            let plan = planned("", CLI, "");
            json!(tool(&plan).policy.timeout.map(|t| t.as_millis()))
        }
        _ => return None,
    })
}

fn http(key: &str) -> Option<Value> {
    let plan = planned(", transport: http", NATIVE, "");
    let server = http_server(&plan);
    let limits = &server.limits;
    Some(match key {
        "forge.bind" => json!(server.bind.to_string()),
        "forge.http.allowed_hosts" => json!(server.allowed_hosts),
        "forge.http.allowed_origins" => json!(server.allowed_origins),
        "forge.http.max_body_bytes" => json!(server.max_body_bytes),
        "forge.http.stateless" => json!(server.stateless),
        "forge.http.metrics" => json!(server.metrics == MetricsPlan::Shared),
        "forge.http.header_read_timeout" => json!(spelled_ms(limits.header_read_timeout_ms)),
        "forge.http.request_timeout" => json!(spelled_ms(limits.request_timeout_ms)),
        "forge.http.keep_alive_timeout" => json!(spelled_ms(limits.keep_alive_timeout_ms)),
        "forge.http.max_connections" => json!(limits.max_connections),
        "forge.http.max_sessions" => json!(limits.max_sessions),
        "forge.http.max_sessions_per_caller" => json!(limits.max_sessions_per_caller),
        "forge.http.max_in_flight" => json!(limits.max_in_flight),
        "forge.http.auth.oauth.leeway" => {
            let plan = planned(OAUTH, NATIVE, "");
            let Some(ServerAuthPlan::OAuth(oauth)) = &http_server(&plan).auth else {
                panic!("no oauth")
            };
            json!(spelled_ms(oauth.leeway_secs * 1000))
        }
        _ => return None,
    })
}

fn tools(key: &str) -> Option<Value> {
    let one = |tools: &str| planned("", tools, "");
    let call = |plan: &Plan| match &tool(plan).kind {
        KindPlan::Http(call) => call.clone(),
        other => panic!("{other:?}"),
    };
    Some(match key {
        "tools[].middleware" => {
            // A tool's flag only counts when there is middleware to pass through.
            let audit = "middleware:\n  - {type: native, handler: handlers::Audit}\n";
            json!(tool(&planned("", NATIVE, audit)).middleware)
        }
        "tools[].args" => match &tool(&one(CLI)).kind {
            KindPlan::Cli(cli) => json!(
                cli.args
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
            ),
            other => panic!("{other:?}"),
        },
        "tools[].method" => json!(call(&one(HTTP)).method.as_str()),
        "tools[].follow_redirects" => json!(call(&one(HTTP)).follow_redirects),
        "tools[].auth.header" => {
            let plan = one(
                "  - {type: http, name: web, endpoint: \"https://x.example/\", auth: {type: api_key, key: k}}\n",
            );
            match call(&plan).auth {
                Some(AuthPlan::Header { name, .. }) => json!(name),
                other => panic!("{other:?}"),
            }
        }
        "tools[].steps[].error_policy" => {
            let plan = one(
                "  - {type: pipeline, name: pipe, steps: [{tool: nat}]}\n  - {type: native, name: nat, handler: handlers::nat}\n",
            );
            match &tool(&plan).kind {
                KindPlan::Pipeline { steps } => {
                    json!(if steps[0].continue_on_error {
                        "continue"
                    } else {
                        "fail_fast"
                    })
                }
                other => panic!("{other:?}"),
            }
        }
        "tools[].params.*.required" => {
            let plan = one(
                "  - {type: native, name: nat, handler: handlers::nat, params: {p: {type: string}}}\n",
            );
            json!(tool(&plan).params[0].required)
        }
        "tools[].params.*.allow_options" => {
            let plan = one(
                "  - {type: cli, name: cmd, command: ls, args: [\"{{p}}\"], params: {p: {type: string}}}\n",
            );
            json!(!tool(&plan).params[0].guards_options)
        }
        _ => return catalog(key),
    })
}

fn catalog(key: &str) -> Option<Value> {
    let with = |extra: &str| planned("", NATIVE, extra);
    let prompt = |arguments: &str| {
        let plan = with(&format!(
            "prompts:\n  - {{name: p, template: \"{{{{a}}}}\", arguments: {arguments}}}\n"
        ));
        json!(plan.prompts[0].arguments[0].required)
    };
    Some(match key {
        "prompts[].arguments[].required" => prompt("[{name: a}]"),
        "prompts[].arguments.*.required" => prompt("{a: {description: x}}"),
        "resources[].mime_type" => {
            let plan = with("resources:\n  - {uri: \"config://x\", name: x, content: x}\n");
            json!(plan.resources[0].read_as)
        }
        _ => return None,
    })
}

fn policies(key: &str) -> Option<Value> {
    let with = |block: &str| planned("", NATIVE, &format!("fault_tolerance: {{{block}}}\n"));
    let breaker = || tool(&with("circuit_breaker: {}")).policy.breaker;
    let retry = || {
        tool(&with("retry: {}"))
            .policy
            .retry
            .clone()
            .unwrap_or_else(|| panic!("retry"))
    };
    let delays = || {
        retry()
            .schedule()
            .map(|s| s.delays_ms.clone())
            .unwrap_or_default()
    };
    let tracking = || with("error_tracking: {}");
    Some(match key {
        "circuit_breaker.enabled" => json!(breaker().is_some()),
        "circuit_breaker.failure_threshold" => json!(breaker().map(|b| b.failure_threshold)),
        "circuit_breaker.timeout" => {
            json!(breaker().map(|b| spelled_ms(u64::try_from(b.open_for.as_millis()).unwrap_or(0))))
        }
        "circuit_breaker.success_threshold" => json!(breaker().map(|b| b.success_threshold)),
        "retry.max_attempts" => json!(retry().max_attempts),
        "retry.max_attempts (with `policy`)" => {
            let plan = with("retry: {policy: handlers::Policy}");
            json!(tool(&plan).policy.retry.as_ref().map(|r| r.max_attempts))
        }
        "retry.initial_delay" => json!(spelled_ms(delays()[0])),
        "retry.max_delay" => json!(spelled_ms(retry().max_delay_ms)),
        "retry.multiplier" => json!(delays()[1] as f64 / delays()[0] as f64),
        "retry.jitter" => json!(retry().schedule().map(|s| s.jitter)),
        "error_tracking.enabled" => json!(tracking().error_tracking.is_some()),
        "error_tracking.max_errors" => json!(tracking().error_tracking),
        "error_tracking.classify_by" => json!(if tracking().classifier.is_none() {
            "type"
        } else {
            "handler"
        }),
        "error_tracking.keep_messages" => json!(tracking().keep_error_messages),
        "fallback.method" => {
            let plan = planned(
                "",
                "  - {type: native, name: nat, handler: handlers::nat, fallback: {type: http, endpoint: \"https://b.example/\"}}\n",
                "",
            );
            match &tool(&plan).policy.fallback[0] {
                FallbackPlan::Http(call) => json!(call.method.as_str()),
                other => panic!("{other:?}"),
            }
        }
        _ => return None,
    })
}

/// Defaults the plan does not resolve, and why.
const UNPLANNED: &[(&str, &str)] = &[(
    "tools[].stream",
    "accepted for compatibility with pforge configs; the plan does not read it yet",
)];

#[test]
fn the_plan_resolves_every_default_as_stated() {
    let mut broken = Vec::new();
    for Entry { key, value, .. } in defaults::all() {
        if UNPLANNED.iter().any(|(k, _)| *k == key) {
            continue;
        }
        match resolved(key) {
            None => broken.push(format!(
                "{key}: no probe in tests/defaults.rs says what the plan resolves"
            )),
            Some(planned) if planned != value => {
                broken.push(format!(
                    "{key}: defaults::all() says {value}, the plan resolves {planned}"
                ));
            }
            Some(_) => {}
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// A value as the docs show it: `60s`, `5`, or `a`, `b` for a list.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => format!("`{other}`"),
    }
}

/// The reference page's table, as `defaults::all()` says it must read.
fn reference_table() -> String {
    let mut table = String::from("| key | default | meaning |\n| --- | --- | --- |\n");
    for entry in defaults::all() {
        // `retry.max_attempts (with `policy`)`: only the key itself is code.
        let (key, note) = entry.key.split_once(' ').unwrap_or((entry.key, ""));
        let key = format!("`{key}`{}{note}", if note.is_empty() { "" } else { " " });
        table.push_str(&format!(
            "| {key} | {} | {} |\n",
            shown(&entry.value),
            entry.meaning
        ));
    }
    table
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_reference_page_lists_every_default() {
    let page = read("docs/src/reference/defaults.md");
    let table = reference_table();
    assert!(
        page.contains(&table),
        "docs/src/reference/defaults.md does not hold the table of defaults::all(); it should \
         read:\n\n{table}"
    );
}

/// The rows of every `| key | default | …` table in `text`: the key and the first value in
/// backticks of the default column.
fn key_default_rows(text: &str) -> Vec<(usize, String, String)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for (number, line) in text.lines().enumerate() {
        if line.starts_with("| key | default |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !in_table || cells.len() < 3 || cells[1].starts_with("---") {
            continue;
        }
        let code = |cell: &str| cell.split('`').nth(1).unwrap_or_default().to_owned();
        rows.push((number + 1, code(cells[1]), code(cells[2])));
    }
    rows
}

/// The book's tables of the http server's limits (`| key | default |`, keys under
/// `forge.http`) show the defaults of `src/defaults.rs`. Their prose mentions of defaults are
/// not tied.
#[test]
fn the_books_limits_tables_show_the_defaults() {
    let all = defaults::all();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in ["docs/src/http-server.md", "docs/src/security.md"] {
        for (line, key, value) in key_default_rows(&read(file)) {
            let full = format!("forge.http.{key}");
            let Some(entry) = all.iter().find(|e| e.key == full) else {
                broken.push(format!(
                    "{file}:{line}: `{key}` is no default under forge.http"
                ));
                continue;
            };
            checked += 1;
            if shown(&entry.value) != format!("`{value}`") {
                broken.push(format!(
                    "{file}:{line}: `{key}` shows `{value}`, src/defaults.rs says {}",
                    shown(&entry.value)
                ));
            }
        }
    }
    assert!(checked >= 14, "only {checked} rows found");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// The runtime's `jittered` spreads a delay by `1 ∓ JITTER_PERCENT/100`, the spread emit
/// writes in the generated docs: the runtime file is copied verbatim into generated crates,
/// so it keeps its literals and this test ties them to the constant.
#[test]
fn the_runtime_jitter_spreads_by_jitter_percent() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src/inlineable/resilience/retry.rs");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}"));
    let jittered = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == "jittered" => Some(f),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path:?} has no fn jittered"));
    let factor = |name: &str| -> Vec<f64> {
        let init = jittered.block.stmts.iter().find_map(|stmt| match stmt {
            syn::Stmt::Local(local) => match &local.pat {
                syn::Pat::Ident(p) if p.ident == name => local.init.as_ref(),
                _ => None,
            },
            _ => None,
        });
        let init = init.unwrap_or_else(|| panic!("jittered has no `let {name} = …`"));
        let mut floats = Vec::new();
        float_literals(quote::ToTokens::to_token_stream(&init.expr), &mut floats);
        floats
    };
    let percent = f64::from(defaults::internal::JITTER_PERCENT);
    assert_eq!(
        (factor("low"), factor("high")),
        (vec![1.0 - percent / 100.0], vec![1.0 + percent / 100.0]),
        "runtime/src/inlineable/resilience/retry.rs: `jittered` must spread by \
         JITTER_PERCENT = {percent} %, which the generated docs state"
    );
}

fn float_literals(tokens: proc_macro2::TokenStream, out: &mut Vec<f64>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Literal(literal) => {
                let text = literal.to_string();
                if text.contains('.') {
                    out.extend(text.parse::<f64>().ok());
                }
            }
            proc_macro2::TokenTree::Group(group) => float_literals(group.stream(), out),
            proc_macro2::TokenTree::Ident(_) | proc_macro2::TokenTree::Punct(_) => {}
        }
    }
}
