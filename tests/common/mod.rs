//! Helpers of the end-to-end tests: build a generated crate in the shared target directory,
//! start it, and talk to it with rmcp's client.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use serde_json::Value;

/// Where every generated crate of the test suite builds.
pub fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/generated-crates")
}

/// Cargo in `dir`, building into the shared target directory. The suite compiles dozens of
/// generated crates, so they are built with line tables only and without incremental state:
/// full debug information made that directory tens of gigabytes, enough to fill CI's disk.
pub fn generated_cargo(dir: &Path) -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env("CARGO_INCREMENTAL", "0");
    command
}

/// Generates and compiles the project of `yaml`; returns the binary.
pub fn build(dir: &Path, yaml: &str, binary: &str) -> PathBuf {
    let manifest = dir.join("forge.yaml");
    std::fs::write(&manifest, yaml).unwrap_or_else(|e| panic!("{e}"));
    pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let status = generated_cargo(dir)
        .args(["build", "--quiet"])
        .env("RUSTFLAGS", "-D warnings")
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "the generated crate does not build");
    shared_target().join("debug").join(binary)
}

/// Generates and compiles the project of `yaml` in a directory of its own, with `handlers`
/// (file name under src/handlers/, text) written before the first build, which pforge keeps;
/// returns the binary. The directory stays for the life of the test process, since the
/// binary's cases run in it.
pub fn build_with_handlers(yaml: &str, binary: &str, handlers: &[(&str, String)]) -> PathBuf {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let handler_dir = dir.path().join("src/handlers");
    std::fs::create_dir_all(&handler_dir).unwrap_or_else(|e| panic!("{e}"));
    for (file, text) in handlers {
        std::fs::write(handler_dir.join(file), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let binary = build(dir.path(), yaml, binary);
    std::mem::forget(dir);
    binary
}

pub async fn connect(binary: &Path) -> RunningService<RoleClient, ()> {
    connect_in(binary, Path::new(".")).await
}

pub async fn connect_in(binary: &Path, cwd: &Path) -> RunningService<RoleClient, ()> {
    connect_with(binary, cwd, &[]).await
}

/// Starts the server in `cwd` with extra environment variables, and connects to it.
pub async fn connect_with(
    binary: &Path,
    cwd: &Path,
    env: &[(&str, &str)],
) -> RunningService<RoleClient, ()> {
    let mut command = tokio::process::Command::new(binary);
    command.current_dir(cwd);
    command
        .env("RUST_LOG", "warn")
        .env("UPSTREAM_TOKEN", "s3cret")
        .envs(env.iter().copied());
    let transport = TokioChildProcess::new(command).unwrap_or_else(|e| panic!("{e}"));
    ().serve(transport).await.unwrap_or_else(|e| panic!("{e}"))
}

pub async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, ServiceError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.arguments = arguments.as_object().cloned();
    client.call_tool(params).await
}

/// Calls a tool and returns its result; a protocol error fails the test.
pub async fn answer(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    call(client, tool, arguments)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

pub fn text(result: &CallToolResult) -> String {
    serde_json::to_value(&result.content)
        .map(|c| c[0]["text"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// The text of the `pforge://stats` resource, as `client` may read it.
pub async fn stats_text(client: &RunningService<RoleClient, ()>) -> String {
    let read = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "pforge://stats",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let contents = serde_json::to_value(&read.contents).unwrap_or_default();
    contents[0]["text"].as_str().unwrap_or_default().to_owned()
}

/// Waits (boundedly) for the process whose id is in `pid_file` to stop running.
pub async fn assert_stopped(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).unwrap_or_default();
    let proc_dir = Path::new("/proc").join(pid.trim());
    let mut alive = true;
    for _ in 0..100 {
        let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        // Gone, or a zombie waiting for init to reap it: either way no longer running.
        if state.is_empty() || state.split_whitespace().nth(2) == Some("Z") {
            alive = false;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !pid.trim().is_empty() && !alive,
        "process {pid} outlived its timeout"
    );
}

/// Reads an HTTP request up to the end of its head; `None` when the peer closed or failed
/// first. A loopback upstream needs no more: test requests have no body it reads.
pub async fn read_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut read = 0;
    while read < buffer.len() {
        match socket.read(&mut buffer[read..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read += n,
        }
        if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    Some(String::from_utf8_lossy(&buffer[..read]).into_owned())
}

/// Writes a cargo workspace manifest over `members` (directories of `root`).
pub fn write_workspace(root: &Path, members: &[String]) {
    let members: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
        members.join(", ")
    );
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap_or_else(|e| panic!("{e}"));
}

/// Runs cargo in `dir` with the shared target directory; what it printed when it fails.
pub fn cargo_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let output = generated_cargo(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Installs the npm packages that `tests/<name>/package-lock.json` locks into `target/<name>`
/// with `npm ci`, unless that lock is already installed there; returns `target/<name>`.
pub fn npm_ci(name: &str) -> PathBuf {
    // The tests of one binary run on threads: two `npm ci` in one directory at once break
    // each other (a fresh clone's CI saw ENOENT), so the first installs and the rest find it.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (source, root) = (
        here.join("tests").join(name),
        here.join("target").join(name),
    );
    let lock = std::fs::read(source.join("package-lock.json")).unwrap_or_else(|e| panic!("{e}"));
    let installed = std::fs::read(root.join("package-lock.json")).unwrap_or_default();
    if lock != installed || !root.join("node_modules").exists() {
        std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{e}"));
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(source.join(file), root.join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&root)
            .status()
            .unwrap_or_else(|e| panic!("npm: {e}"));
        assert!(status.success(), "npm could not install tests/{name}");
    }
    root
}

/// An HTTP answer read off the wire: the status, the head in lower case, the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// One HTTP/1.1 request on a new connection, read to its end; `host` is the `Host` header.
pub async fn raw_request(
    address: &str,
    host: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Response {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("{address}: {e}"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut raw),
    )
    .await;
    assert!(read.is_ok(), "no whole answer to {method} {path} in 30 s");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Response {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}
