//! A generated server's defaults against hostile callers and a hostile upstream, checked
//! where the attack lands: the request line the upstream received, the connection the
//! other origin never got, the file git did not write, the secret the command never saw,
//! the server's peak memory, what `pforge://stats` shows another caller.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{answer, build, connect_with, read_head, stats_text, text};
use serde_json::json;
use tokio::io::AsyncWriteExt;

const CONFIG: &str = r#"
forge:
  name: safe-defaults
  version: 0.1.0
  max_output_bytes: 65536
fault_tolerance:
  error_tracking: {max_errors: 20}
tools:
  - type: http
    name: profile
    description: A user's profile.
    endpoint: "${UPSTREAM}/api/users/{{id}}/profile"
    auth: {type: api_key, key: "${UPSTREAM_KEY}"}
  - type: http
    name: moved
    description: An endpoint the upstream moved to another host.
    endpoint: "${UPSTREAM}/moved"
    auth: {type: api_key, key: "${UPSTREAM_KEY}"}
  - type: http
    name: huge
    description: An answer without end.
    endpoint: "${UPSTREAM}/huge"
  - type: cli
    name: history
    description: The last commits up to a ref.
    command: git
    args: [log, --oneline, -n, "3", "{{ref}}"]
  - type: cli
    name: recent
    description: The commits of a range; `-1` would be an option.
    command: git
    args: [log, --oneline, "{{range}}"]
    params: {range: integer}
  - type: cli
    name: variable
    description: One environment variable of the command.
    command: printenv
    args: ["{{name}}"]
  - type: cli
    name: zeros
    description: Output without end.
    command: cat
    args: [/dev/zero]
  - type: cli
    name: server_pid
    description: The server's process id.
    command: sh
    args: ["-c", "echo $PPID"]
"#;

/// A loopback upstream: records each request's head and answers by path.
#[derive(Clone, Default)]
struct Upstream {
    heads: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    async fn start(thief: String) -> (String, Self) {
        let (listener, base) = loopback().await;
        let upstream = Self::default();
        let heads = Arc::clone(&upstream.heads);
        tokio::spawn(async move {
            for _ in 0..100 {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let heads = Arc::clone(&heads);
                let thief = thief.clone();
                tokio::spawn(async move {
                    let Some(head) = read_head(&mut socket).await else {
                        return;
                    };
                    let path = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    heads.lock().unwrap_or_else(|e| e.into_inner()).push(head);
                    let reply = match path.as_str() {
                        "/api/users/7/profile" => ok("{\"id\":7}"),
                        "/api/users/boom/profile" => {
                            "HTTP/1.1 500 Oops\r\ncontent-length: 11\r\nconnection: close\r\n\r\nSECRET-BODY"
                                .to_owned()
                        }
                        "/moved" => format!(
                            "HTTP/1.1 302 Found\r\nlocation: {thief}/steal?api_key=k\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        ),
                        "/huge" => {
                            let _ = socket
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n")
                                .await;
                            // 64 MiB, or until the server hangs up.
                            let chunk = vec![b'x'; 1 << 16];
                            for _ in 0..1024 {
                                if socket.write_all(&chunk).await.is_err() {
                                    return;
                                }
                            }
                            return;
                        }
                        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_owned(),
                    };
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        (base, upstream)
    }

    fn paths(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|h| h.split_whitespace().nth(1).unwrap_or_default().to_owned())
            .collect()
    }
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A listener on a free loopback port, and its `http://` base URL.
async fn loopback() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    (listener, format!("http://{address}"))
}

/// A listener on another origin that counts the connections it gets.
async fn thief() -> (String, Arc<Mutex<usize>>) {
    let (listener, base) = loopback().await;
    let reached = Arc::new(Mutex::new(0));
    let count = Arc::clone(&reached);
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    });
    (base, reached)
}

/// A git repository with one commit.
fn repository(dir: &Path) {
    for args in [
        &["init", "-q"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
    ] {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap_or_else(|e| panic!("git: {e}"));
        assert!(status.success(), "git {args:?}");
    }
}

fn refused(result: &rmcp::model::CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    text(result)
}

/// Peak resident memory of a process, in KiB.
fn peak_kib(pid: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_callers_and_upstreams_land_nowhere() {
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let binary = build(project.path(), CONFIG, "safe-defaults");
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    repository(work.path());
    let (thief, reached) = thief().await;
    let (base, upstream) = Upstream::start(thief).await;
    let env = [
        ("UPSTREAM", base.as_str()),
        ("UPSTREAM_KEY", "k3y"),
        ("MCP_TOKEN", "server-secret"),
    ];
    let client = connect_with(&binary, work.path(), &env).await;

    // A path parameter cannot step along the upstream's path.
    for id in ["..", "%2e%2e", "\u{FF0E}\u{FF0E}", "."] {
        let message = refused(&answer(&client, "profile", json!({"id": id})).await);
        assert!(message.contains("`id`"), "{message}");
    }
    assert_eq!(
        text(&answer(&client, "profile", json!({"id": "7"})).await),
        "{\"id\":7}"
    );
    let failed = answer(&client, "profile", json!({"id": "boom"})).await;
    assert!(refused(&failed).contains("HTTP 500"));
    assert_eq!(
        upstream.paths(),
        ["/api/users/7/profile", "/api/users/boom/profile"],
        "only the good calls reached the upstream, on their own path"
    );

    // A redirect to another origin is not followed: the key and the query stay home.
    let message = refused(&answer(&client, "moved", json!({})).await);
    assert!(message.contains("302"), "{message}");
    assert_eq!(
        *reached.lock().unwrap_or_else(|e| e.into_inner()),
        0,
        "the other origin was reached"
    );

    // A caller's value is not an option of git: no file written.
    let written = work.path().join("pwned");
    let option = format!("--output={}", written.display());
    let message = refused(&answer(&client, "history", json!({"ref": option})).await);
    assert!(message.contains("`ref`"), "{message}");
    assert!(!written.exists(), "git wrote the caller's file");
    assert!(text(&answer(&client, "history", json!({"ref": "HEAD"})).await).contains("first"));
    // A negative number is an option too: `git log --oneline -1` would answer the commit.
    let message = refused(&answer(&client, "recent", json!({"range": -1})).await);
    assert!(message.contains("`range`"), "{message}");

    // A command never sees the server's secrets, only the allow-list.
    let secret = answer(&client, "variable", json!({"name": "MCP_TOKEN"})).await;
    assert!(!text(&secret).contains("server-secret"), "{secret:?}");
    assert_eq!(secret.is_error, Some(true), "printenv found MCP_TOKEN");
    assert!(!text(&answer(&client, "variable", json!({"name": "PATH"})).await).is_empty());

    // Output without end fails the call at the bound; the server's memory stays small.
    let pid = text(&answer(&client, "server_pid", json!({})).await);
    for tool in ["zeros", "huge"] {
        let message = refused(&answer(&client, tool, json!({})).await);
        assert!(message.contains("65536 bytes"), "{tool}: {message}");
    }
    let peak = peak_kib(&pid);
    assert!(peak < 64 * 1024, "the server peaked at {peak} KiB");

    // pforge://stats keeps what failed, never what a caller sent or an upstream answered.
    let document = stats_text(&client).await;
    for leaked in ["SECRET-BODY", "%2e%2e", "--output", "pwned", "\u{FF0E}"] {
        assert!(!document.contains(leaked), "{leaked} in {document}");
    }
    assert!(document.contains("HTTP 500"), "{document}");
    let _ = client.cancel().await;
}
