//! Proof that regeneration keeps a crate compiling: a crate is generated from config A, then
//! forge.yaml becomes B and the crate is regenerated in place (as `pforge build` does, user
//! files and the merged Cargo.toml kept), and the result must pass clippy with `-D warnings`.
//! Every transition is taken in both directions, each direction in its own crate, and all the
//! crates build together as one workspace, so dependencies compile once.
//!
//! CI compiles the fixed transitions below (a tool kind, each policy, auth, transport, state,
//! resources and prompts, middleware, pattern parameters, and all of them at once) and
//! `PFORGE_PAIR_CASES` transitions drawn from the generative strategy (default 2, both
//! directions each); `PFORGE_GENERATIVE_SEED` picks other drawn configs.

use std::path::Path;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

/// One change of a config, taken from `from` to `to`.
struct Pair {
    name: String,
    from: Value,
    to: Value,
}

/// The smallest config: one native tool on stdio.
fn base() -> Value {
    json!({
        "forge": {"name": "pair", "version": "0.1.0"},
        "tools": [native("hello", "handlers::hello::run")],
    })
}

fn native(name: &str, handler: &str) -> Value {
    json!({"type": "native", "name": name, "handler": handler, "params": {"who": "string"}})
}

fn cli() -> Value {
    json!({"type": "cli", "name": "echo", "command": "echo", "args": ["{{word}}"], "params": {"word": "string"}})
}

fn http_tool() -> Value {
    json!({"type": "http", "name": "fetch", "endpoint": "https://api.example.com/v1/{{id}}", "method": "GET", "params": {"id": "string"}})
}

fn pipeline(over: &str) -> Value {
    json!({"type": "pipeline", "name": "chain", "steps": [{"tool": over, "input": {"who": "x"}, "output_var": "out"}]})
}

/// `config` with `edit` applied to its JSON.
fn with(mut config: Value, edit: impl FnOnce(&mut Value)) -> Value {
    edit(&mut config);
    config
}

fn push_tool(config: &mut Value, tool: Value) {
    if let Some(tools) = config["tools"].as_array_mut() {
        tools.push(tool);
    }
}

fn http_transport(config: &mut Value) {
    config["forge"]["transport"] = json!("http");
    config["forge"]["bind"] = json!("127.0.0.1:0");
}

/// Every policy, each with a value a test can take.
fn policies() -> [(&'static str, Value); 5] {
    [
        ("retry", json!({"max_attempts": 3, "initial_delay": "10ms"})),
        (
            "circuit_breaker",
            json!({"failure_threshold": 2, "timeout": "1s"}),
        ),
        ("bulkhead", json!({"max_concurrent": 2, "timeout": "1s"})),
        ("timeout_ms", json!(500)),
        (
            "fallback",
            json!([{"type": "native", "handler": "handlers::backup::Backup"}, {"type": "value", "value": {"text": "none"}}]),
        ),
    ]
}

fn oauth() -> Value {
    json!({"oauth": {
        "issuer": "https://auth.example.com/",
        "audience": "https://mcp.example.com/mcp",
        "jwks_url": "https://auth.example.com/.well-known/jwks.json",
    }})
}

fn resources(config: &mut Value) {
    config["resources"] = json!([
        {"uri": "config://limits", "name": "limits", "content": "max: 1"},
        {"uri_template": "docs://{section}", "name": "docs", "handler": "handlers::docs::Docs"},
    ]);
    config["prompts"] = json!([
        {"name": "p", "template": "Say {{what}}", "arguments": [{"name": "what", "required": true}]},
    ]);
}

fn middleware(config: &mut Value) {
    config["middleware"] = json!([
        {"type": "recovery", "error_tracking": {"enabled": true}},
        {"type": "native", "handler": "handlers::audit::Audit"},
    ]);
}

/// Everything the transitions add, at once.
fn everything() -> Value {
    with(base(), |c| {
        push_tool(c, cli());
        push_tool(c, http_tool());
        push_tool(c, pipeline("hello"));
        for (key, policy) in policies() {
            c["tools"][0][key] = policy;
        }
        c["tools"][0]["params"]["who"] = json!({"type": "string", "pattern": "^[a-z]+$"});
        http_transport(c);
        c["forge"]["http"] = json!({"auth": oauth()});
        c["state"] = json!({"backend": "memory"});
        resources(c);
        middleware(c);
    })
}

/// The fixed transitions, each from the config without the change to the one with it.
fn fixed() -> Vec<(String, Value, Value)> {
    let only_cli = with(base(), |c| c["tools"] = json!([cli()]));
    let http = with(base(), http_transport);
    let mut transitions = vec![
        ("cli tool", base(), with(base(), |c| push_tool(c, cli()))),
        (
            "http tool",
            base(),
            with(base(), |c| push_tool(c, http_tool())),
        ),
        (
            "pipeline",
            base(),
            with(base(), |c| push_tool(c, pipeline("hello"))),
        ),
        (
            "native tool",
            only_cli.clone(),
            with(only_cli, |c| {
                push_tool(c, native("hello", "handlers::hello::run"));
            }),
        ),
        (
            "bearer auth",
            http.clone(),
            with(http.clone(), |c| {
                c["forge"]["http"] = json!({"auth": {"bearer": {"env": ["MCP_TOKEN"]}}});
            }),
        ),
        (
            "oauth",
            http.clone(),
            with(http.clone(), |c| {
                c["forge"]["http"] = json!({"auth": oauth()})
            }),
        ),
        ("http transport", base(), http),
        (
            "state",
            base(),
            with(base(), |c| c["state"] = json!({"backend": "memory"})),
        ),
        ("resources and prompts", base(), with(base(), resources)),
        ("middleware", base(), with(base(), middleware)),
        (
            "pattern parameter",
            base(),
            with(base(), |c| {
                c["tools"][0]["params"]["who"] = json!({"type": "string", "pattern": "^[a-z]+$"});
            }),
        ),
        ("everything", base(), everything()),
    ]
    .into_iter()
    .map(|(name, from, to)| (name.to_owned(), from, to))
    .collect::<Vec<_>>();
    for (key, policy) in policies() {
        let to = with(base(), |c| c["tools"][0][key] = policy);
        transitions.push((format!("policy {key}"), base(), to));
    }
    transitions
}

/// A change of a drawn config: the `choice`th of the changes that add something it lacks.
/// The added handlers live in modules of their own, so that taking the change back leaves
/// their files undeclared rather than stale inside a module the config still uses.
fn drawn_change(config: &Value, choice: usize) -> (String, Value) {
    let stdio = config["forge"].get("transport").is_none();
    let mut changes: Vec<(String, Value)> = vec![
        (
            "add a native tool".into(),
            with(config.clone(), |c| {
                push_tool(c, native("pair_native", "handlers::pair_native::run"))
            }),
        ),
        (
            "add a cli tool".into(),
            with(config.clone(), |c| push_tool(c, cli())),
        ),
        (
            "add an http tool".into(),
            with(config.clone(), |c| push_tool(c, http_tool())),
        ),
        (
            "add a pipeline".into(),
            with(config.clone(), |c| {
                let first = c["tools"][0]["name"].clone();
                push_tool(
                    c,
                    json!({"type": "pipeline", "name": "pair_chain", "steps": [{"tool": first}]}),
                );
            }),
        ),
        (
            "add bearer auth".into(),
            with(config.clone(), |c| {
                http_transport(c);
                c["forge"]["http"] = json!({"auth": {"bearer": {"env": ["MCP_TOKEN"]}}});
            }),
        ),
        (
            "add middleware".into(),
            with(config.clone(), |c| {
                c["middleware"] =
                    json!([{"type": "native", "handler": "handlers::pair_audit::PairAudit"}]);
            }),
        ),
        (
            if stdio {
                "switch to http"
            } else {
                "switch to stdio"
            }
            .into(),
            with(config.clone(), |c| {
                if stdio {
                    http_transport(c);
                } else if let Some(forge) = c["forge"].as_object_mut() {
                    forge.remove("transport");
                    forge.remove("bind");
                }
            }),
        ),
    ];
    changes.extend(section_changes(config));
    changes.extend(policy_changes(config));
    changes.swap_remove(choice % changes.len())
}

/// Adding a section the drawn config lacks: state, resources and prompts.
fn section_changes(config: &Value) -> Vec<(String, Value)> {
    let lacks = |key: &str| config.get(key).is_none();
    let mut changes = Vec::new();
    if lacks("state") {
        changes.push((
            "add state".into(),
            with(config.clone(), |c| {
                c["state"] = json!({"backend": "memory"})
            }),
        ));
    }
    if lacks("resources") {
        changes.push((
            "add resources and prompts".into(),
            with(config.clone(), resources),
        ));
    }
    changes
}

/// Adding each policy to the first tool without it that can take it; a fallback calls a
/// handler of its own module.
fn policy_changes(config: &Value) -> Vec<(String, Value)> {
    let mut changes = Vec::new();
    // Pipelines take no retry, so no policy goes on them.
    for (key, policy) in policies() {
        let tools = config["tools"].as_array().cloned().unwrap_or_default();
        let target = tools
            .iter()
            .position(|t| t.get(key).is_none() && t["type"] != "pipeline");
        if let Some(index) = target {
            let policy = if key == "fallback" {
                json!([{"type": "native", "handler": "handlers::pair_backup::PairBackup"}])
            } else {
                policy
            };
            changes.push((
                format!("add {key} to tool {index}"),
                with(config.clone(), |c| c["tools"][index][key] = policy),
            ));
        }
    }
    changes
}

/// `count` drawn configs that pass check, each with one change that passes check too.
fn drawn(count: u64, runner: &mut TestRunner) -> Vec<(String, Value, Value)> {
    let strategy = super::config();
    let mut pairs = Vec::new();
    for attempt in 0..count * 20 {
        if pairs.len() as u64 == count {
            break;
        }
        let from = strategy
            .new_tree(runner)
            .unwrap_or_else(|e| panic!("{e}"))
            .current();
        let (change, to) = drawn_change(&from, attempt as usize);
        if passes_check(&from) && passes_check(&to) {
            pairs.push((format!("drawn: {change}"), from, to));
        }
    }
    pairs
}

fn passes_check(config: &Value) -> bool {
    !pforge::load::load_bytes("forge.yaml", yaml(config).as_bytes()).has_errors()
}

/// JSON is YAML: the loader reads the text exactly as a user's file.
fn yaml(config: &Value) -> String {
    serde_json::to_string_pretty(config).unwrap_or_default()
}

/// Each transition in both directions, each direction a crate of its own name.
fn both_ways(transitions: Vec<(String, Value, Value)>) -> Vec<Pair> {
    let mut pairs = Vec::new();
    for (name, a, b) in transitions {
        pairs.push(Pair {
            name: format!("{name}, added"),
            from: a.clone(),
            to: b.clone(),
        });
        pairs.push(Pair {
            name: format!("{name}, removed"),
            from: b,
            to: a,
        });
    }
    for (index, pair) in pairs.iter_mut().enumerate() {
        for config in [&mut pair.from, &mut pair.to] {
            config["forge"]["name"] = json!(format!("pair-{index}"));
        }
    }
    pairs
}

/// Generates `pair.from` in `dir`, then regenerates `pair.to` over it through
/// [`pforge::project::generate`], the path of `pforge build`.
fn regenerate(dir: &Path, pair: &Pair) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let manifest = dir.join("forge.yaml");
    for config in [&pair.from, &pair.to] {
        std::fs::write(&manifest, yaml(config)).unwrap_or_else(|e| panic!("{e}"));
        let generated = pforge::project::generate(&manifest).unwrap_or_else(|e| {
            let diagnostics = match &e {
                pforge::project::ProjectError::Invalid(loaded) => {
                    format!("{:#?}", loaded.diagnostics)
                }
                _ => String::new(),
            };
            panic!("{}: {e}\n{diagnostics}\n{}", pair.name, yaml(config))
        });
        // Each added handler has a module of its own, so no kept file lacks an item.
        let missing: Vec<_> = generated.missing.iter().map(|s| &s.name).collect();
        assert!(missing.is_empty(), "{}: {missing:?} missing", pair.name);
    }
}

#[test]
fn a_crate_regenerated_after_a_config_change_compiles() {
    let cases = super::env_number("PFORGE_PAIR_CASES", 2);
    let mut runner = super::runner();
    let mut transitions = fixed();
    transitions.extend(drawn(cases, &mut runner));
    let pairs = both_ways(transitions);
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut members = Vec::new();
    for (index, pair) in pairs.iter().enumerate() {
        let member = format!("pair-{index}");
        regenerate(&root.path().join(&member), pair);
        members.push(member);
    }
    eprintln!("{} pairs regenerated", pairs.len());
    crate::common::write_workspace(root.path(), &members);
    let clippy = [
        "clippy",
        "--quiet",
        "--keep-going",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    if let Err(failure) = crate::common::cargo_in(root.path(), &clippy, &[]) {
        let names: Vec<String> = pairs
            .iter()
            .enumerate()
            .map(|(i, p)| format!("pair-{i}: {}", p.name))
            .collect();
        let kept = root.keep();
        panic!(
            "a regenerated crate fails (kept in {}):\n{}\n{failure}",
            kept.display(),
            names.join("\n")
        );
    }
}
