//! Every YAML block of the reference chapter is a sentence of our language: complete documents
//! pass `check` as they are, fragments pass once placed into a minimal document, and the typed
//! result carries the values written.

use std::path::Path;
use std::time::Duration;

use pforge::config::{
    BuiltinClassify, ClassifyBy, Config, Fallback, FallbackEntry, HttpMethod, Middleware, ToolKind,
};
use pforge::load::load_str;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chapter");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Places a fragment into a minimal document; pipeline steps of the chapter name tools it
/// never defines, so native stand-ins are appended for them.
fn document(name: &str) -> String {
    let text = fixture(name);
    if text.contains("\nforge:") || text.starts_with("forge:") || text.starts_with("# forge.yaml") {
        return text;
    }
    let mut doc = format!("forge:\n  name: chapter-example\n  version: 1.0.0\n\n{text}");
    if text.contains("- tool: extract_data") {
        for tool in ["extract_data", "transform_data", "load_data"] {
            doc.push_str(&format!(
                "  - type: native\n    name: {tool}\n    handler: handlers::{tool}::handle\n"
            ));
        }
    }
    doc
}

fn load(name: &str) -> Config {
    let loaded = load_str(name, &document(name));
    let rendered: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| pforge::diagnostics::render_human(d, &loaded.source, false))
        .collect();
    assert!(
        loaded.diagnostics.is_empty(),
        "{name}:\n{}",
        rendered.join("\n")
    );
    loaded
        .config
        .map(pforge::config::Checked::into_config)
        .unwrap_or_else(|| panic!("{name}: no config"))
}

fn ms(d: Option<pforge::config::HumanDuration>) -> Option<u64> {
    d.map(|d| d.as_millis())
}

#[test]
fn circuit_breaker_block() {
    let config = load("01-circuit-breaker.yaml");
    assert_eq!(config.forge.name, "resilient-server");
    assert_eq!(config.forge.version, "1.0.0");
    let breaker = config
        .fault_tolerance
        .and_then(|f| f.circuit_breaker)
        .unwrap_or_default();
    assert_eq!(breaker.enabled, Some(true));
    assert_eq!(breaker.failure_threshold, Some(5));
    assert_eq!(ms(breaker.timeout), Some(60_000));
    assert_eq!(breaker.success_threshold, Some(2));
    let ToolKind::Http(http) = &config.tools[0].kind else {
        panic!("expected an http tool")
    };
    assert_eq!(http.endpoint, "https://api.example.com/data");
    assert_eq!(http.method, Some(HttpMethod::Get));
}

#[test]
fn retry_block() {
    let config = load("02-retry.yaml");
    let retry = config.tools[0].common.retry.clone().unwrap_or_default();
    assert_eq!(retry.max_attempts, Some(3));
    assert_eq!(ms(retry.initial_delay), Some(100));
    assert_eq!(ms(retry.max_delay), Some(5_000));
    assert_eq!(retry.multiplier, Some(2.0));
    assert_eq!(retry.jitter, Some(true));
}

#[test]
fn fallback_block() {
    let config = load("03-fallback.yaml");
    let tool = &config.tools[0];
    assert_eq!(tool.common.name, "fetch_user_data");
    let Some(Fallback::One(FallbackEntry::Native(native))) = &tool.common.fallback else {
        panic!("expected one native fallback")
    };
    assert_eq!(native.handler.path, "handlers::UserDataFallback");
    // No `params` key: the `{{user_id}}` placeholder becomes a required string parameter.
    assert!(tool.common.params.is_none());
}

#[test]
fn fallback_chain_block() {
    let config = load("04-fallback-chain.yaml");
    let entries = config.tools[0]
        .common
        .fallback
        .as_ref()
        .map(Fallback::entries)
        .unwrap_or_default();
    assert_eq!(entries.len(), 3);
    let FallbackEntry::Http(http) = &entries[0] else {
        panic!("first fallback is http")
    };
    assert_eq!(http.endpoint, "https://backup-api.example.com/data");
    let paths: Vec<&str> = entries[1..]
        .iter()
        .filter_map(|e| match e {
            FallbackEntry::Native(n) => Some(n.handler.path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        paths,
        ["handlers::CacheFallback", "handlers::DefaultDataFallback"]
    );
}

#[test]
fn per_tool_timeouts_block() {
    let config = load("05-timeouts.yaml");
    let timeouts: Vec<Option<u64>> = config.tools.iter().map(|t| t.common.timeout_ms).collect();
    assert_eq!(timeouts, [Some(5_000), Some(300_000), Some(10_000)]);
    let ToolKind::Native(native) = &config.tools[0].kind else {
        panic!("native first")
    };
    assert_eq!(native.handler.path, "handlers::SlowOperation");
    let ToolKind::Cli(cli) = &config.tools[1].kind else {
        panic!("cli second")
    };
    assert_eq!(
        (cli.command.as_str(), cli.args.as_slice()),
        ("pytest", &["tests/".to_owned()][..])
    );
}

#[test]
fn cascading_timeouts_block() {
    let config = load("06-cascading-timeouts.yaml");
    let pipeline = &config.tools[0];
    assert_eq!(pipeline.common.timeout_ms, Some(30_000));
    let ToolKind::Pipeline(p) = &pipeline.kind else {
        panic!("pipeline first")
    };
    let steps: Vec<(&str, Option<u64>)> = p
        .steps
        .iter()
        .map(|s| (s.tool.as_str(), s.timeout_ms))
        .collect();
    assert_eq!(
        steps,
        [
            ("extract_data", Some(10_000)),
            ("transform_data", Some(10_000)),
            ("load_data", Some(10_000))
        ]
    );
}

#[test]
fn error_tracking_block() {
    let config = load("07-error-tracking.yaml");
    let tracking = config
        .fault_tolerance
        .and_then(|f| f.error_tracking)
        .unwrap_or_default();
    assert_eq!(tracking.enabled, Some(true));
    assert_eq!(tracking.max_errors, Some(1000));
    assert_eq!(
        tracking.classify_by,
        Some(ClassifyBy::Builtin(BuiltinClassify::Type))
    );
}

#[test]
fn recovery_middleware_block() {
    let config = load("08-recovery-middleware.yaml");
    let middleware = config.middleware.unwrap_or_default();
    let [Middleware::Recovery(recovery)] = middleware.as_slice() else {
        panic!("one recovery entry")
    };
    let breaker = recovery.circuit_breaker.clone().unwrap_or_default();
    assert_eq!(
        (
            breaker.enabled,
            breaker.failure_threshold,
            ms(breaker.timeout)
        ),
        (Some(true), Some(5), Some(60_000))
    );
    let retry = recovery.retry.clone().unwrap_or_default();
    assert_eq!(
        (retry.max_attempts, ms(retry.initial_delay)),
        (Some(3), Some(100))
    );
    assert_eq!(
        recovery.error_tracking.as_ref().and_then(|e| e.enabled),
        Some(true)
    );
}

#[test]
fn bulkhead_block() {
    let config = load("09-bulkhead.yaml");
    let bulkhead = config.tools[0].common.bulkhead.clone();
    let bulkhead = bulkhead.unwrap_or_else(|| panic!("bulkhead"));
    assert_eq!(bulkhead.max_concurrent, 10);
    assert_eq!(bulkhead.max_queued, Some(100));
    assert_eq!(bulkhead.timeout.map(|t| t.0), Some(Duration::from_secs(5)));
}

#[test]
fn complete_example_block() {
    let config = load("10-complete-example.yaml");
    assert_eq!(config.forge.name, "resilient-api-server");
    let ft = config.fault_tolerance.clone().unwrap_or_default();
    assert_eq!(
        ft.circuit_breaker.and_then(|b| b.success_threshold),
        Some(2)
    );
    assert_eq!(ft.error_tracking.and_then(|e| e.enabled), Some(true));
    let tool = &config.tools[0];
    assert_eq!(
        tool.common.description.as_deref(),
        Some("Fetch user data with full fault tolerance")
    );
    assert_eq!(tool.common.timeout_ms, Some(10_000));
    assert_eq!(
        tool.common.retry.as_ref().and_then(|r| r.max_attempts),
        Some(3)
    );
    assert_eq!(
        tool.common.bulkhead.as_ref().map(|b| b.max_concurrent),
        Some(20)
    );
    assert!(matches!(
        tool.common.fallback,
        Some(Fallback::One(FallbackEntry::Native(_)))
    ));
}

/// The fixtures are the chapter's blocks, verbatim. The chapter lives in the shared folder
/// beside the repository; where it is not there, the committed fixtures stand alone.
#[test]
fn fixtures_are_the_chapter_blocks() {
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/fault-tolerance-chapter.md");
    let Ok(text) = std::fs::read_to_string(&chapter) else {
        eprintln!(
            "note: {} not found; fixtures not compared",
            chapter.display()
        );
        return;
    };
    let blocks: Vec<&str> = text
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    let mut fixtures: Vec<_> = std::fs::read_dir(FIXTURES)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    fixtures.sort();
    let contents: Vec<String> = fixtures
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert_eq!(
        blocks,
        contents.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

/// Every example in `examples/` is valid and warning-free.
#[test]
fn examples_check_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let loaded = load_str(&path.display().to_string(), &text);
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:?}",
                path.display(),
                loaded.diagnostics
            );
            seen += 1;
        }
    }
    assert!(seen >= 3);
}
