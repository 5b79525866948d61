//! Proof across the input space: a proptest strategy draws whole configs (every tool kind,
//! every policy, parameters of every type with enums, defaults and patterns, resources,
//! prompts, state, pipelines) with hostile names and text. Each one either gets located
//! errors from the loader, or generates a crate; all those crates are checked together as one
//! workspace: `cargo fmt --check`, then clippy with `-D warnings`.
//!
//! `PFORGE_GENERATIVE_CASES` sets how many configs are drawn (default 24, what CI runs);
//! `PFORGE_GENERATIVE_SEED` picks another deterministic sequence.
//!
//! `pairs` regenerates crates over changed configs (see there).

mod common;
#[path = "generative/pairs.rs"]
mod pairs;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};

/// Names that meet keywords, generated modules and locals, or each other after Rust naming.
const TOOL_NAMES: &[&str] = &[
    "type",
    "self",
    "Self",
    "gen",
    "async",
    "crate",
    "super",
    "tools",
    "tests",
    "commands",
    "endpoints",
    "runtime",
    "stats",
    "resilience",
    "handlers",
    "generated",
    "mod",
    "main",
    "fetchUser",
    "fetch_user",
    "fetch-user",
    "Fetch.User",
    "a--b",
    "a_b",
    "HTTPServer",
    "http_server",
    "x1",
    "Box",
    "match",
    "server",
    "guards",
    "input",
    "value",
    "t",
];

/// Every keyword of Rust 2024: strict, reserved and weak (`gen` is reserved since 2024;
/// `_` cannot name a tool and is refused).
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "union",
    "raw",
    "safe",
    "macro_rules",
    "_",
];

/// Names of the standard prelude (Rust 2024), the primitive types, and the roots of paths.
const PRELUDE: &[&str] = &[
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
    "drop",
    "size_of",
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
    "usize",
    "i32",
    "i64",
    "isize",
    "f32",
    "f64",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "main",
    "primitive",
];

/// Every crate in a generated crate's dependency tree, as far as names go (stdio and HTTP
/// servers, http tools, bearer and OAuth auth, patterns, processes; platform-only crates left
/// out), with `-` as `_` where Rust sees them so.
const CRATES: &[&str] = &[
    "aho_corasick",
    "async_trait",
    "atomic_waker",
    "autocfg",
    "aws_lc_rs",
    "aws_lc_sys",
    "axum",
    "axum_core",
    "base64",
    "bitflags",
    "block_buffer",
    "bytes",
    "cc",
    "cfg_aliases",
    "cfg_if",
    "chacha20",
    "chrono",
    "cmake",
    "const_oid",
    "cpufeatures",
    "crypto_common",
    "digest",
    "displaydoc",
    "dunce",
    "dyn_clone",
    "equivalent",
    "errno",
    "form_urlencoded",
    "futures",
    "futures_channel",
    "futures_core",
    "futures_executor",
    "futures_io",
    "futures_macro",
    "futures_sink",
    "futures_task",
    "futures_util",
    "getrandom",
    "hashbrown",
    "http",
    "http_body",
    "http_body_util",
    "httparse",
    "httpdate",
    "hyper",
    "hyper_rustls",
    "hyper-util",
    "hyper_util",
    "idna",
    "indexmap",
    "ipnet",
    "itoa",
    "jobserver",
    "jsonwebtoken",
    "lazy_static",
    "libc",
    "log",
    "matchers",
    "matchit",
    "memchr",
    "mime",
    "mio",
    "nix",
    "nu_ansi_term",
    "num_traits",
    "once_cell",
    "pastey",
    "percent_encoding",
    "pin_project_lite",
    "pkg_config",
    "proc_macro2",
    "quinn",
    "quote",
    "rand",
    "rand_core",
    "ref_cast",
    "regex",
    "regex_automata",
    "regex_syntax",
    "reqwest",
    "ring",
    "rmcp",
    "rustls",
    "rustls_pki_types",
    "rustls_webpki",
    "rustversion",
    "schemars",
    "schemars_derive",
    "semver",
    "serde",
    "serde_core",
    "serde_derive",
    "serde_json",
    "serde-json",
    "sha2",
    "sharded_slab",
    "shlex",
    "signal_hook_registry",
    "signature",
    "slab",
    "smallvec",
    "socket2",
    "sse_stream",
    "subtle",
    "syn",
    "sync_wrapper",
    "thiserror",
    "thread_local",
    "tinyvec",
    "tokio",
    "tokio_macros",
    "tokio_rustls",
    "tokio_stream",
    "tokio_util",
    "tower",
    "tower_http",
    "tower_layer",
    "tower_service",
    "tracing",
    "tracing_attributes",
    "tracing_core",
    "tracing_subscriber",
    "try_lock",
    "typenum",
    "unicode_ident",
    "untrusted",
    "url",
    "uuid",
    "want",
    "zeroize",
];

/// Tool names: each pool above drawn as often as the others.
fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(TOOL_NAMES),
        pick(KEYWORDS),
        pick(PRELUDE),
        pick(CRATES)
    ]
}

/// Server names: in mixed case or with doubled separators (refused, with the spelling to
/// use), named like a dependency, a path root or a generated module, or plain.
const SERVER_NAMES: &[&str] = &[
    "generated",
    "My-2-Server--9-",
    "MyServer",
    "weatherServer",
    "a--b",
    "a_-b",
    "x-",
    "HTTP",
    "my-server",
    "a_b",
    "tokio",
    "serde-json",
    "hyper-util",
    "schemars",
    "std",
    "core",
    "test",
    "gen",
    "handlers",
    "tools",
    "runtime",
    "stats",
    "main",
    "server",
];

const PARAM_NAMES: &[&str] = &[
    "self",
    "Self",
    "type",
    "arguments",
    "input",
    "value",
    "allowed",
    "given",
    "_x",
    "x",
    "x_",
    "server",
    "context",
    "error",
    "url",
    "request",
    "body",
    "values",
    "command",
    "outcome",
    "userId",
    "user_id",
    "gen",
    "match",
    "crate",
    "super",
    "PATTERN",
    "unexpected_argument",
    "tokio",
    "serde_json",
    "std",
    "str",
    "Ok",
    "Result",
    "Some",
    "None",
    "dyn",
    "try",
    "yield",
    "union",
    "test",
];
const TEXT: &[&str] = &[
    "plain words",
    "*/",
    "/*",
    "#",
    "\\",
    "{}",
    "{{",
    "}}",
    "\"",
    "'",
    "`",
    "```",
    "é ☃ 日本",
    "\u{0}",
    "\u{7}",
    "\r\n",
    "\t",
    "\n    indented",
    "https://x.example.com/a_b?c=[d]",
    "<b>",
    "[x]",
    "${X}",
    "r#\"raw\"#",
    "\u{202E}reversed",
    "\u{202A}ltr\u{202C} \u{202B}rtl\u{202C} \u{202D}o\u{202C}",
    "\u{2066}isolate\u{2069} \u{2067}x\u{2068}y\u{2069}",
    "zero\u{200B}width \u{200C}\u{200D}",
    "\u{FEFF}bom \u{2060}joiner \u{00AD}shy",
    "\u{200E}\u{200F}\u{061C}",
    "line\u{2028}separator\u{2029}",
    "e\u{301} \u{E0041}tag",
];
const TYPE_ITEMS: &[&str] = &[
    "Type",
    "Box",
    "Match",
    "Gen",
    "Handler",
    "Runtime",
    "Tools",
    "Ok",
    "Err",
    "Result",
    "Option",
    "Some",
    "None",
    "Default",
    "Send",
    "Sync",
    "String",
    "Vec",
    "Debug",
    "Clone",
    "Future",
    "Into",
    "From",
    "Drop",
    "Sized",
    "Copy",
    "Fn",
    "Value",
    "Context",
    "HandlerError",
    "ToolError",
    "Fallback",
    "Middleware",
    "RetryPolicy",
    "Server",
    "Answer",
    "Call",
    "Duration",
    "Arc",
];
const MODULES: &[&str] = &[
    "gen",
    "type",
    "m",
    "handlers",
    "tools",
    "match",
    "r",
    "std",
    "core",
    "tokio",
    "serde_json",
    "str",
    "result",
    "test",
    "generated",
];
const FUNCTIONS: &[&str] = &[
    "run",
    "gen",
    "type",
    "match",
    "handle",
    "r_async",
    "main",
    "tokio",
    "serde_json",
    "std",
    "drop",
    "ok",
    "str",
    "test",
    "size_of",
];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(str::to_owned)
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(pick(TEXT), 1..4).prop_map(|parts| parts.join(" "))
}

fn handler() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(TYPE_ITEMS).prop_map(|t| format!("handlers::{t}")),
        pick(FUNCTIONS).prop_map(|f| format!("handlers::{f}")),
        (pick(MODULES), pick(FUNCTIONS)).prop_map(|(m, f)| format!("handlers::{m}::{f}")),
        (pick(MODULES), pick(TYPE_ITEMS)).prop_map(|(m, t)| format!("handlers::{m}::{t}")),
    ]
}

/// One parameter, short or long, its constraints matching its type.
fn param() -> impl Strategy<Value = Value> {
    const KINDS: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];
    (
        proptest::sample::select(KINDS),
        any::<bool>(),
        proptest::option::of(text()),
        0u8..4,
    )
        .prop_map(|(kind, short, description, extra)| {
            if short {
                return json!(kind);
            }
            let mut detail = Map::new();
            detail.insert("type".into(), json!(kind));
            if let Some(d) = description {
                detail.insert("description".into(), json!(d));
            }
            match (kind, extra) {
                ("string", 1) => {
                    detail.insert("enum".into(), json!(["a\"b", "c\\d", "{{e}}"]));
                    detail.insert("default".into(), json!("c\\d"));
                }
                ("string", 2) => {
                    detail.insert("pattern".into(), json!("^[a-z\"]+$"));
                }
                ("string", 3) => {
                    detail.insert("min_length".into(), json!(1));
                    detail.insert("max_length".into(), json!(8));
                    detail.insert("required".into(), json!(false));
                }
                ("integer", 1) => {
                    detail.insert("minimum".into(), json!(-5));
                    detail.insert("maximum".into(), json!(5));
                    detail.insert("default".into(), json!(-1));
                }
                ("number", 1) => {
                    detail.insert("minimum".into(), json!(0.5));
                }
                ("array", 1) => {
                    detail.insert("max_length".into(), json!(3));
                }
                ("array", 2) => {
                    detail.insert("min_length".into(), json!(0));
                }
                _ => {}
            }
            Value::Object(detail)
        })
}

fn params() -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(
        proptest::collection::vec((pick(PARAM_NAMES), param()), 0..5)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
    )
}

fn retry() -> impl Strategy<Value = Value> {
    (1u32..6, 1u64..50, any::<bool>(), 0usize..4).prop_map(|(attempts, delay, jitter, on)| {
        let classes = ["timeout", "connection", "server_error", "handler_error"];
        json!({
            "max_attempts": attempts,
            "initial_delay": format!("{delay}ms"),
            "max_delay": "1s",
            "multiplier": 1.5,
            "jitter": jitter,
            "retry_on": classes[..on].iter().copied().chain(Some("503")).collect::<Vec<_>>()
                .into_iter().map(|c| c.parse::<u16>().map_or(json!(c), |n| json!(n))).collect::<Vec<_>>(),
        })
    })
}

fn fallback() -> impl Strategy<Value = Value> {
    let entry = prop_oneof![
        text().prop_map(|t| json!({"type": "value", "value": {"text": t, "n": [1, null]}})),
        handler().prop_map(|h| json!({"type": "native", "handler": h})),
        Just(json!({"type": "http", "endpoint": "https://backup.example.com/x", "method": "POST"})),
    ];
    prop_oneof![
        entry.clone(),
        proptest::collection::vec(entry, 1..3).prop_map(Value::Array),
    ]
}

/// Policies of one tool, each present or not.
fn policies() -> impl Strategy<Value = Map<String, Value>> {
    (
        proptest::option::of(retry()),
        proptest::option::of((1u32..4, 1u32..3)),
        proptest::option::of((1u32..4, proptest::option::of(0u32..3))),
        proptest::option::of(1u64..5000),
        proptest::option::of(fallback()),
    )
        .prop_map(|(retry, breaker, bulkhead, timeout, fallback)| {
            let mut out = Map::new();
            if let Some(r) = retry {
                out.insert("retry".into(), r);
            }
            if let Some((failures, successes)) = breaker {
                out.insert(
                    "circuit_breaker".into(),
                    json!({"failure_threshold": failures, "timeout": "2s", "success_threshold": successes}),
                );
            }
            if let Some((max, queued)) = bulkhead {
                let mut b = json!({"max_concurrent": max, "timeout": "1s"});
                if let Some(q) = queued {
                    b["max_queued"] = json!(q);
                }
                out.insert("bulkhead".into(), b);
            }
            if let Some(t) = timeout {
                out.insert("timeout_ms".into(), json!(t));
            }
            if let Some(f) = fallback {
                out.insert("fallback".into(), f);
            }
            out
        })
}

/// The part of a tool that depends on its kind.
fn kind() -> impl Strategy<Value = Map<String, Value>> {
    let placeholder = || pick(PARAM_NAMES).prop_map(|p| format!("{{{{{p}}}}}"));
    prop_oneof![
        handler().prop_map(|h| {
            let mut m = Map::new();
            m.insert("type".into(), json!("native"));
            m.insert("handler".into(), json!(h));
            m
        }),
        (proptest::collection::vec(prop_oneof![placeholder(), text()], 0..3)).prop_map(|args| {
            let mut m = Map::new();
            m.insert("type".into(), json!("cli"));
            m.insert("command".into(), json!("echo"));
            m.insert("args".into(), json!(args));
            m
        }),
        (placeholder(), text(), any::<bool>()).prop_map(|(p, header, post)| {
            let mut m = Map::new();
            m.insert("type".into(), json!("http"));
            m.insert(
                "endpoint".into(),
                json!(format!("https://api.example.com/v1/{p}")),
            );
            m.insert("method".into(), json!(if post { "POST" } else { "GET" }));
            m.insert("headers".into(), json!({"X-Note": header}));
            m.insert("query".into(), json!({"q": "{{x}}"}));
            m
        }),
    ]
}

fn tool() -> impl Strategy<Value = Value> {
    (
        tool_name(),
        proptest::option::of(text()),
        kind(),
        params(),
        policies(),
    )
        .prop_map(|(name, description, kind, params, policies)| {
            let mut tool = kind;
            tool.insert("name".into(), json!(name));
            if let Some(d) = description {
                tool.insert("description".into(), json!(d));
            }
            tool.extend(policies);
            if let Some(mut p) = params {
                // Declared params cover the placeholders the tool uses, most of the time.
                let used = placeholders(&Value::Object(tool.clone()));
                if let Value::Object(declared) = &mut p {
                    for name in used {
                        declared.entry(name).or_insert(json!("string"));
                    }
                }
                tool.insert("params".into(), p);
            }
            Value::Object(tool)
        })
}

/// The `{{name}}` placeholders of pool names in every string of `value`.
fn placeholders(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => PARAM_NAMES
            .iter()
            .filter(|name| text.contains(&format!("{{{{{name}}}}}")))
            .map(|name| (*name).to_owned())
            .collect(),
        Value::Array(items) => items.iter().flat_map(placeholders).collect(),
        Value::Object(map) => map.values().flat_map(placeholders).collect(),
        _ => Vec::new(),
    }
}

/// A pipeline over the tools drawn before it, each step passing nothing or a literal.
fn with_pipeline(mut tools: Vec<Value>, steps: Vec<(usize, bool)>) -> Vec<Value> {
    let names: Vec<Value> = tools.iter().map(|t| t["name"].clone()).collect();
    if names.is_empty() || steps.is_empty() {
        return tools;
    }
    let steps: Vec<Value> = steps
        .into_iter()
        .enumerate()
        .map(|(i, (target, conditional))| {
            let mut step =
                json!({"tool": names[target % names.len()], "output_var": format!("out{i}")});
            if conditional && i > 0 {
                step["condition"] = json!(format!("out{}", i - 1));
                step["error_policy"] = json!("continue");
            }
            step
        })
        .collect();
    tools.push(json!({"type": "pipeline", "name": "pipeline", "steps": steps}));
    tools
}

fn config() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(tool(), 1..5),
        proptest::collection::vec((0usize..8, any::<bool>()), 0..3),
        proptest::option::of(text()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(text()),
        // Most configs keep a plain name: a refused name hides the rest of its config.
        prop_oneof![3 => Just("generated".to_owned()), 1 => pick(SERVER_NAMES)],
    )
        .prop_map(|(tools, steps, description, http, state, resource_text, name)| {
            let mut config = json!({
                "forge": {"name": name, "version": "0.1.0"},
                "fault_tolerance": {"error_tracking": {"enabled": true, "max_errors": 3}},
                "tools": with_pipeline(tools, steps),
            });
            if let Some(d) = description {
                config["forge"]["description"] = json!(d);
            }
            if http {
                config["forge"]["transport"] = json!("http");
                config["forge"]["bind"] = json!("127.0.0.1:0");
            }
            if state {
                config["state"] = json!({"backend": "memory", "ttl_seconds": 5, "max_size": 10});
            }
            if let Some(t) = resource_text {
                config["resources"] = json!([
                    {"uri": "config://a", "name": "a", "description": t, "content": t},
                    {"uri_template": "docs://{section}", "name": "docs", "handler": "handlers::Docs"},
                ]);
                config["prompts"] = json!([
                    {"name": "p", "description": t, "template": "Say {{what}} \\ */", "arguments": [{"name": "what", "required": true}]},
                ]);
            }
            config
        })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The deterministic runner of `PFORGE_GENERATIVE_SEED`.
fn runner() -> TestRunner {
    let seed = env_number("PFORGE_GENERATIVE_SEED", 0);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    )
}

#[test]
fn every_drawn_config_is_refused_with_located_errors_or_compiles() {
    let cases = env_number("PFORGE_GENERATIVE_CASES", 24);
    let mut runner = runner();
    let strategy = config();
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut members = Vec::new();
    let mut taken = std::collections::HashSet::new();
    let mut refused = 0;
    for case in 0..cases {
        let tree = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut config = tree.current();
        let name = format!("generated-{case}");
        // Crates of one workspace need names of their own (`a-b` and `a_b` are one name to
        // Rust): a drawn name already taken gets the case number.
        let drawn = config["forge"]["name"]
            .as_str()
            .unwrap_or("generated")
            .to_owned();
        let key = drawn.to_lowercase().replace('-', "_");
        config["forge"]["name"] = if taken.insert(key) {
            json!(drawn)
        } else {
            json!(format!("{drawn}-{case}"))
        };
        // JSON is YAML: the loader reads the text exactly as a user's file.
        let text = serde_json::to_string_pretty(&config).unwrap_or_default();
        let loaded = pforge::load::load_bytes("forge.yaml", text.as_bytes());
        if loaded.has_errors() {
            refused += 1;
            for d in &loaded.diagnostics {
                assert!(
                    d.span.end <= text.len() && !d.message.is_empty(),
                    "an unlocated diagnostic {d:?} for:\n{text}"
                );
            }
            continue;
        }
        let dir = root.path().join(&name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("forge.yaml"), &text).unwrap_or_else(|e| panic!("{e}"));
        pforge::project::generate(&dir.join("forge.yaml"))
            .unwrap_or_else(|e| panic!("check accepted it but generation failed: {e}\n{text}"));
        members.push(name);
    }
    eprintln!(
        "{cases} configs drawn: {refused} refused with located errors, {} compiled",
        members.len()
    );
    assert!(!members.is_empty(), "no drawn config passed check");
    common::write_workspace(root.path(), &members);
    for args in [
        &["fmt", "--all", "--check"][..],
        &[
            "clippy",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ][..],
    ] {
        if let Err(failure) = common::cargo_in(root.path(), args, &[]) {
            let kept = root.keep();
            panic!(
                "a drawn config generates a crate that fails (configs kept in {}): {failure}",
                kept.display()
            );
        }
    }
}
