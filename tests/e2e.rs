//! End to end: generate a server, compile it, and drive it over stdio with rmcp's client as a
//! real MCP client would. Generated crates share one target directory, so their dependencies
//! build once per checkout; the server of `tests/fixtures/e2e/server.yaml` is compiled once,
//! and each case runs a process of its own, so that each behaviour fails by its name.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use common::{
    answer, assert_stopped, build, build_with_handlers, call, connect, connect_with, read_head,
    text,
};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback HTTP upstream that answers every request with JSON echoing its request line
/// and records what it received. It serves a bounded number of requests, then stops.
async fn upstream(requests: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        for _ in 0..requests {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let request = read_head(&mut socket).await.unwrap_or_default();
            let line = request.lines().next().unwrap_or_default().to_owned();
            if let Ok(mut log) = log.lock() {
                log.push(request.clone());
            }
            let body = json!({ "request": line }).to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (format!("http://{address}"), seen)
}

/// The handler of the `counter` tool, written by the user before the first build.
const COUNTER: &str = "//! Counts calls per key in the shared state.\n\n/// Adds one to the counter of `key`.\npub async fn bump(\n    input: crate::generated::tools::counter::CounterInput,\n    context: crate::generated::runtime::Context<'_>,\n) -> Result<u64, crate::generated::runtime::HandlerError> {\n    let state = context.server.state();\n    let next = state.get::<u64>(&input.key).unwrap_or(0) + 1;\n    state.set(&input.key, &next)?;\n    Ok(next)\n}\n";

/// The server of the cases below, generated and compiled once for every case of this file.
fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            // A handler written by the user before the first build is kept, and can use the
            // state.
            let yaml = include_str!("fixtures/e2e/server.yaml");
            build_with_handlers(yaml, "e2e-server", &[("counter.rs", COUNTER.to_owned())])
        })
        .clone()
}

/// A server process of one case: its client, the directory it runs in (its files, the pid
/// files of its commands), and what its upstream received.
struct Case {
    client: RunningService<RoleClient, ()>,
    dir: tempfile::TempDir,
    seen: Arc<Mutex<Vec<String>>>,
}

/// Starts a server of its own for one case, its http tools calling an upstream of its own.
async fn start() -> Case {
    let (base, seen) = upstream(4).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let client = connect_with(&binary(), dir.path(), &[("UPSTREAM", &base)]).await;
    Case { client, dir, seen }
}

impl Case {
    async fn stop(self) {
        self.client.cancel().await.unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_names_itself_and_lists_its_tools() {
    let case = start().await;
    let info = case
        .client
        .peer_info()
        .unwrap_or_else(|| panic!("no server info"));
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("e2e-server")
    );
    let tools = case
        .client
        .list_tools(None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .tools;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "greet",
            "type",
            "echo",
            "fail",
            "fetch_user",
            "greet_then_fetch",
            "hang",
            "hang_with_timeout",
            "hang_briefly",
            "counter"
        ]
    );
    let schema = Value::Object((*tools[0].input_schema).clone());
    assert_eq!(schema["required"], json!(["name"]));
    assert_eq!(schema["properties"]["times"]["maximum"], 3);
    assert_eq!(tools[4].input_schema["required"], json!(["user_id"]));
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_tool_answers_with_its_defaults_filled_in() {
    let case = start().await;
    // The stub echoes its input.
    let result = answer(&case.client, "greet", json!({"name": "Ann"})).await;
    assert_eq!(result.is_error, Some(false));
    assert_eq!(
        result.structured_content,
        Some(json!({"tool": "greet", "input": {"name": "Ann", "times": 1}}))
    );
    // A tool named like a keyword, with a type handler.
    let result = answer(&case.client, "type", json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_error_results_that_name_the_parameter() {
    let case = start().await;
    for (arguments, needle) in [
        (json!({}), "`name` is required"),
        (json!({"name": 5}), "`name`"),
        (
            json!({"name": "Ann", "times": 9}),
            "`times` must be at most 3",
        ),
        (
            json!({"name": ""}),
            "`name` must have at least 1 characters",
        ),
        (
            json!({"name": "Ann", "colour": "red"}),
            "`colour` is not a parameter",
        ),
    ] {
        let result = answer(&case.client, "greet", arguments).await;
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).contains(needle), "{}", text(&result));
    }
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_tool_passes_one_argument_per_entry_without_a_shell() {
    let case = start().await;
    let result = answer(&case.client, "echo", json!({"word": "a b; rm -rf /"})).await;
    assert_eq!(text(&result), "hello a b; rm -rf /\n");
    let result = answer(&case.client, "fail", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("exited with status 3: broken"),
        "{}",
        text(&result)
    );
    case.stop().await;
}

/// A value that would step up the path is refused before any request; any other stays inside
/// its path segment; the header comes from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_tool_keeps_values_in_their_path_segment() {
    let case = start().await;
    let refused = answer(&case.client, "fetch_user", json!({"user_id": "../admin"})).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert!(text(&refused).contains("`user_id`"), "{}", text(&refused));
    let result = answer(
        &case.client,
        "fetch_user",
        json!({"user_id": "a/admin?x=1#y"}),
    )
    .await;
    assert_eq!(
        result.structured_content,
        Some(json!({"request": "GET /users/a%2Fadmin%3Fx%3D1%23y HTTP/1.1"}))
    );
    let first = case.seen.lock().map(|s| s[0].clone()).unwrap_or_default();
    assert!(
        first
            .to_ascii_lowercase()
            .contains("authorization: bearer s3cret"),
        "{first}"
    );
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_step_is_gated_by_the_output_of_the_one_before() {
    let case = start().await;
    let result = answer(&case.client, "greet_then_fetch", json!({"who": "bob"})).await;
    assert_eq!(
        result.structured_content,
        Some(json!({"request": "GET /users/bob HTTP/1.1"})),
        "{}",
        text(&result)
    );
    case.stop().await;
}

/// A timeout drops the command, which kills its whole process group: the `sleep` the shell
/// started in the background does not outlive the call. Both the tool's own `timeout_ms` and a
/// pipeline's budget do it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_kills_the_commands_process_group() {
    let case = start().await;
    let result = answer(&case.client, "hang_with_timeout", json!({})).await;
    assert_eq!(text(&result), "timed out after 300 ms");
    assert_stopped(&case.dir.path().join("timed.pid")).await;
    let result = answer(&case.client, "hang_briefly", json!({})).await;
    assert!(
        text(&result).contains("timed out after"),
        "{}",
        text(&result)
    );
    assert_stopped(&case.dir.path().join("sleeper.pid")).await;
    case.stop().await;
}

/// Cancellation from the client: the call stops (its process group is killed) and no answer
/// comes; meanwhile a later call is answered first (answers go out as calls end).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_stops_while_a_later_one_is_answered() {
    let case = start().await;
    let client = &case.client;
    let pid_file = case.dir.path().join("sleeper.pid");
    let request = rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(
        rmcp::model::CallToolRequestParams::new("hang"),
    ));
    let handle = client
        .send_cancellable_request(request, rmcp::service::PeerRequestOptions::no_options())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let result = answer(client, "echo", json!({"word": "meanwhile"})).await;
    assert_eq!(text(&result), "hello meanwhile\n");
    for _ in 0..200 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|pid| pid.ends_with('\n')) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    handle
        .cancel(Some("test".into()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_stopped(&pid_file).await;
    let result = answer(client, "echo", json!({"word": "after"})).await;
    assert_eq!(text(&result), "hello after\n");
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_handler_counts_in_the_shared_state() {
    let case = start().await;
    for expected in ["1", "2"] {
        let result = answer(&case.client, "counter", json!({"key": "k"})).await;
        assert_eq!(text(&result), expected);
    }
    case.stop().await;
}

/// Static content, a file read when asked, a template served by a handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_listed_and_read() {
    let case = start().await;
    let client = &case.client;
    // Written after the server started: the file is read when asked.
    std::fs::write(case.dir.path().join("notes.txt"), "remember the milk")
        .unwrap_or_else(|e| panic!("{e}"));
    let resources = client
        .list_resources(None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .resources;
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["config://limits", "file://./notes.txt"]);
    let templates = client
        .list_resource_templates(None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .resource_templates;
    assert_eq!(templates[0].uri_template, "users://{id}/profile");
    for (uri, expected) in [
        ("config://limits", "max_users: 100"),
        ("file://./notes.txt", "remember the milk"),
        ("users://42/profile", "contents of users://42/profile"),
    ] {
        let read = client
            .read_resource(rmcp::model::ReadResourceRequestParams::new(uri))
            .await
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        let contents = serde_json::to_value(&read.contents).unwrap_or_default();
        assert_eq!(contents[0]["text"], expected, "{uri}");
    }
    assert!(
        client
            .read_resource(rmcp::model::ReadResourceRequestParams::new(
                "users://a/b/profile"
            ))
            .await
            .is_err()
    );
    case.stop().await;
}

/// Arguments listed, the template filled, required arguments enforced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_is_filled_and_its_required_arguments_enforced() {
    let case = start().await;
    let client = &case.client;
    let prompts = client
        .list_prompts(None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .prompts;
    assert_eq!(prompts[0].name, "triage");
    let mut get = rmcp::model::GetPromptRequestParams::new("triage");
    get.arguments = json!({"code": "E42", "context": "the parser"})
        .as_object()
        .cloned();
    let prompt = client
        .get_prompt(get)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let messages = serde_json::to_value(&prompt.messages).unwrap_or_default();
    assert_eq!(
        messages[0]["content"]["text"],
        "Explain error E42 in the parser."
    );
    let missing = client
        .get_prompt(rmcp::model::GetPromptRequestParams::new("triage"))
        .await;
    assert!(
        matches!(missing, Err(ServiceError::McpError(ref e)) if e.message.contains("needs the argument `code`")),
        "{missing:?}"
    );
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tool_is_the_json_rpc_error_32602() {
    let case = start().await;
    match call(&case.client, "nope", json!({})).await {
        Err(ServiceError::McpError(error)) => assert_eq!(error.code.0, -32602),
        other => panic!("expected -32602, got {other:?}"),
    }
    case.stop().await;
}

/// Every `pforge new` template is a working server: it compiles without warnings and lists
/// its tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_template_builds_and_serves() {
    for template in pforge::project::Template::ALL {
        let parent = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let name = format!("tpl-{}", template.name());
        let manifest = pforge::project::create(&parent.path().join(&name), template)
            .unwrap_or_else(|e| panic!("{e}"));
        let yaml = std::fs::read_to_string(&manifest).unwrap_or_default();
        let binary = build(manifest.parent().unwrap_or(parent.path()), &yaml, &name);
        let client = connect(&binary).await;
        let tools = client
            .list_tools(None)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .tools;
        assert!(!tools.is_empty(), "{name}");
        client.cancel().await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// One HTTP/1.1 POST to `/mcp` on a new connection, with `host` as its `Host` header and
/// `headers` (each ending in `\r\n`); the response, read until `done` says it is whole (or for
/// at most 10 s).
async fn post_raw(
    address: &str,
    host: &str,
    headers: &str,
    body: &str,
    done: impl Fn(&[u8]) -> bool,
) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        while !done(&response) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&chunk[..n]),
            }
        }
    });
    let _ = read.await;
    String::from_utf8_lossy(&response).into_owned()
}

/// One POST in `session`; returns the response headers and body.
async fn post(address: &str, body: &str, session: Option<&str>) -> (String, String) {
    let session = session
        .map(|s| format!("mcp-session-id: {s}\r\n"))
        .unwrap_or_default();
    // An SSE answer ends with a blank line after its data.
    let done =
        |r: &[u8]| String::from_utf8_lossy(r).contains("\"jsonrpc\"") && r.ends_with(b"\n\n");
    let text = post_raw(address, address, &session, body, done).await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

fn sse_json(body: &str) -> Value {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_transport_serves_streamable_http() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let yaml = "forge:\n  name: e2e-http\n  version: 0.2.0\n  transport: http\n  bind: 127.0.0.1:8080\n  http: {max_body_bytes: 2048}\ntools:\n  - type: cli\n    name: echo\n    command: echo\n    args: [\"{{word}}\"]\n";
    let binary = build(dir.path(), yaml, "e2e-http");
    let mut child = tokio::process::Command::new(&binary)
        .env("PFORGE_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stderr =
        tokio::io::BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("stderr")));
    let address = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        while stderr.read_line(&mut line).await.unwrap_or(0) > 0 {
            if let Some(rest) = line.split("http://").nth(1) {
                return rest.trim().trim_end_matches("/mcp").to_owned();
            }
            line.clear();
        }
        String::new()
    })
    .await
    .unwrap_or_default();
    assert!(
        !address.is_empty(),
        "the server did not say where it listens"
    );

    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    let (head, body) = post(&address, &initialize.to_string(), None).await;
    assert_eq!(
        sse_json(&body)["result"]["serverInfo"]["name"],
        "e2e-http",
        "{head}\n{body}"
    );
    let session = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("mcp-session-id:")
                .then(|| l[15..].trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no session id: {head}"));
    let _ = post(
        &address,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        Some(&session),
    )
    .await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"word": "over-http"}}});
    let (_, body) = post(&address, &call.to_string(), Some(&session)).await;
    assert_eq!(
        sse_json(&body)["result"]["content"][0]["text"],
        "over-http\n",
        "{body}"
    );

    // Access: a foreign `Host` (DNS rebinding) or `Origin` is refused, a page of this machine
    // is served, and a body over `max_body_bytes` is refused.
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}).to_string();
    let status = |extra: String, body: String| {
        let address = address.clone();
        async move { status_line(&address, &extra, &body).await }
    };
    let session_header = format!("mcp-session-id: {session}\r\n");
    let foreign_host = status(
        format!("{session_header}x-host: evil.example\r\n"),
        ping.clone(),
    )
    .await;
    assert!(foreign_host.contains(" 403 "), "{foreign_host}");
    let foreign_origin = status(
        format!("{session_header}origin: http://evil.example\r\n"),
        ping.clone(),
    )
    .await;
    assert!(foreign_origin.contains(" 403 "), "{foreign_origin}");
    let local_origin = status(
        format!("{session_header}origin: http://localhost:6274\r\n"),
        ping.clone(),
    )
    .await;
    assert!(local_origin.contains(" 200 "), "{local_origin}");
    let padding = "x".repeat(4096);
    let big =
        json!({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"_meta": {"pad": padding}}});
    let oversize = status(session_header.clone(), big.to_string()).await;
    assert!(oversize.contains(" 413 "), "{oversize}");

    // No latency floor: on one keep-alive connection, a request (answered on an SSE stream
    // written in several pieces) takes about as long as a notification (a bare 202). Before
    // `TCP_NODELAY`, each request waited for the client's delayed ACK, about 40 ms: a ratio of
    // hundreds. Medians of 50 each, so that one stall of a busy machine does not count.
    let mut connection = KeepAlive::open(&address, &session).await;
    let mut requests = Vec::new();
    let mut notifications = Vec::new();
    for id in 100..150 {
        let started = std::time::Instant::now();
        let response = connection
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": "ping"}).to_string())
            .await;
        requests.push(started.elapsed());
        assert!(response.contains(&format!("\"id\":{id}")), "{response}");
        let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": id}});
        let started = std::time::Instant::now();
        let response = connection.post(&cancelled.to_string()).await;
        notifications.push(started.elapsed());
        assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    }
    requests.sort();
    notifications.sort();
    let (request, notification) = (requests[25], notifications[25]);
    assert!(
        request < notification * 20,
        "a request took {request:?}, a notification {notification:?} (medians)"
    );
    let _ = child.kill().await;
}

/// The status line of one POST to `/mcp` with `extra` headers. An `x-host` header stands for
/// the `Host` header, which it replaces.
async fn status_line(address: &str, extra: &str, body: &str) -> String {
    let host = extra
        .lines()
        .find_map(|l| l.strip_prefix("x-host: "))
        .unwrap_or(address)
        .trim()
        .to_owned();
    let headers: String = extra
        .lines()
        .filter(|l| !l.starts_with("x-host: "))
        .map(|l| format!("{}\r\n", l.trim_end()))
        .collect();
    let done = |r: &[u8]| r.windows(2).any(|w| w == b"\r\n");
    let text = post_raw(address, &host, &headers, body, done).await;
    text.lines().next().unwrap_or_default().to_owned()
}

/// One keep-alive HTTP/1.1 connection posting to `/mcp` in a session.
struct KeepAlive {
    stream: tokio::net::TcpStream,
    address: String,
    session: String,
}

impl KeepAlive {
    async fn open(address: &str, session: &str) -> Self {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            stream,
            address: address.to_owned(),
            session: session.to_owned(),
        }
    }

    /// Posts `body` and returns the whole response: a bare head, or a chunked SSE stream up to
    /// its last chunk.
    async fn post(&mut self, body: &str) -> String {
        let request = format!(
            "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\nmcp-session-id: {}\r\ncontent-length: {}\r\n\r\n{body}",
            self.address,
            self.session,
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut response = Vec::new();
        let complete = |r: &[u8]| {
            let text = String::from_utf8_lossy(r);
            match text.split_once("\r\n\r\n") {
                Some((head, _)) if head.to_ascii_lowercase().contains("content-length: 0") => true,
                Some(_) => text.ends_with("\r\n0\r\n\r\n"),
                None => false,
            }
        };
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut chunk = [0u8; 4096];
            while !complete(&response) {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => response.extend_from_slice(&chunk[..n]),
                }
            }
        });
        let _ = read.await;
        String::from_utf8_lossy(&response).into_owned()
    }
}

/// Every example's generated crate passes its own `cargo test`, warnings denied.
#[test]
fn every_example_passes_its_own_tests() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(examples)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    paths.sort();
    assert!(paths.len() >= 3);
    for example in paths {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let manifest = dir.path().join("forge.yaml");
        std::fs::copy(&example, &manifest).unwrap_or_else(|e| panic!("{e}"));
        pforge::project::generate(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", example.display()));
        let output = common::generated_cargo(dir.path())
            .args(["test", "--quiet"])
            .env("RUSTFLAGS", "-D warnings")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}:\n{stdout}\n{}",
            example.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        // The generated tests ran, not just an empty harness.
        let ran: usize = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("test result: ok. "))
            .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
            .sum();
        assert!(
            ran >= 3,
            "{}: only {ran} generated tests ran\n{stdout}",
            example.display()
        );
    }
}
