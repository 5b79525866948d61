//! The http transport under floods and foreign credentials, each outcome checked where it
//! lands: a normal client answered while 2,000 half-sent connections are held (and the
//! server's descriptors bounded), 5,000 `initialize` calls leaving the server's memory
//! bounded and another caller's session alive, a session refused to every token but the one
//! that opened it, `/metrics` refused to a foreign `Host`, and calls in flight capped as the
//! child processes see it.

mod common;
use common::{Response, raw_request};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use tokio::io::AsyncWriteExt;

const TOKEN_A: &str = "token-of-caller-a";
const TOKEN_B: &str = "token-of-caller-b";

/// Caps far below the defaults, so that the floods reach them; timeouts far above the test's
/// length, so that only the caps make room.
const YAML: &str = r#"forge:
  name: limits-e2e
  version: 0.1.0
  transport: http
  http:
    max_connections: 64
    max_sessions: 50
    max_sessions_per_caller: 40
    max_in_flight: 2
    header_read_timeout: 5m
    keep_alive_timeout: 5m
    auth: {bearer: {env: [TOKEN_A, TOKEN_B]}}
tools:
  - type: cli
    name: hold
    description: Notes that it started, then waits for the file go
    command: sh
    args: ["-c", "echo started >> started; while [ ! -f go ]; do sleep 0.05; done"]
    cwd: "${HOLD_DIR}"
    timeout_ms: 60000
  - {type: cli, name: hello, description: Says hello, command: echo, args: [hello]}
"#;

/// The server binary, built once for every test of this file.
fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let binary = common::build(dir.path(), YAML, "limits-e2e");
            // The project stays for the life of the test process: the binary is built.
            std::mem::forget(dir);
            binary
        })
        .clone()
}

/// A running server, its address and its log.
struct Server {
    child: tokio::process::Child,
    address: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the server on an ephemeral port, cli tools running in `hold_dir`.
    async fn start(hold_dir: &Path) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(binary())
            .env("PFORGE_BIND", "127.0.0.1:0")
            .env("TOKEN_A", TOKEN_A)
            .env("TOKEN_B", TOKEN_B)
            .env("HOLD_DIR", hold_dir)
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line
                    .split("serving MCP on http://")
                    .nth(1)
                    .map(|a| a.trim().trim_end_matches("/mcp").to_owned())
                {
                    let _ = tx.send(address);
                }
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let address = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .ok()
            .flatten();
        let text = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let address = address.unwrap_or_else(|| panic!("the server did not start:\n{text}"));
        Self {
            child,
            address,
            log,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }

    fn pid(&self) -> u32 {
        self.child
            .id()
            .unwrap_or_else(|| panic!("the server has stopped"))
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {status}"))
    }

    /// The server's open descriptors.
    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(Iterator::count)
            .unwrap_or(0)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A request to `/mcp` with `token`, and the session `session` when given.
async fn mcp(
    address: &str,
    method: &str,
    token: &str,
    session: Option<&str>,
    body: &str,
) -> Response {
    let mut headers = format!("authorization: Bearer {token}\r\n");
    if let Some(id) = session {
        headers.push_str(&format!("mcp-session-id: {id}\r\n"));
    }
    raw_request(address, "localhost", method, "/mcp", &headers, body).await
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

/// Opens a session with `token`; its id.
async fn open_session(address: &str, token: &str) -> String {
    let opened = mcp(address, "POST", token, None, INITIALIZE).await;
    assert_eq!(opened.status, 200, "{opened:?}");
    let id = opened
        .head
        .lines()
        .find_map(|l| l.strip_prefix("mcp-session-id:"))
        .map(|id| id.trim().to_owned())
        .unwrap_or_else(|| panic!("no session id: {}", opened.head));
    let initialized = mcp(address, "POST", token, Some(&id), INITIALIZED).await;
    assert_eq!(initialized.status, 202, "{initialized:?}");
    id
}

/// An rmcp client at `url` presenting `token`.
async fn client(url: &str, token: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn hello(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) -> String {
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        client.call_tool(CallToolRequestParams::new("hello")),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer in 30 s"))
    .unwrap_or_else(|e| panic!("{e}"));
    common::text(&result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_half_sent_requests_leaves_a_client_served() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(dir.path()).await;
    // 2,000 connections, each with half a request head, all held open by the test.
    let mut flood = Vec::new();
    for _ in 0..2000 {
        let connect = tokio::net::TcpStream::connect(&server.address);
        let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(5), connect).await else {
            continue;
        };
        let _ = stream.write_all(b"POST /mcp HTTP/1.1\r\nhost: local").await;
        flood.push(stream);
    }
    assert!(
        flood.len() > 1000,
        "only {} connections opened",
        flood.len()
    );
    // A normal client is answered while the flood is held.
    let normal = client(&server.url(), TOKEN_A).await;
    assert_eq!(hello(&normal).await, "hello\n");
    // The server holds about `max_connections` sockets, not the flood's 2,000.
    let descriptors = server.descriptors();
    assert!(descriptors < 64 + 40, "{descriptors} descriptors open");
    let _ = normal.cancel().await;
    drop(flood);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sessions_keeps_memory_bounded_and_spares_other_callers() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(dir.path()).await;
    // Caller B opens a session first, and leaves it idle through the flood.
    let victim = open_session(&server.address, TOKEN_B).await;
    let before = server.rss_kib();
    // Caller A opens 5,000 sessions, 16 at a time.
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let address = server.address.clone();
            tokio::spawn(async move {
                let mut opened = 0;
                for _ in 0..5000 / 16 {
                    let answer = mcp(&address, "POST", TOKEN_A, None, INITIALIZE).await;
                    opened += usize::from(answer.status == 200);
                }
                opened
            })
        })
        .collect();
    let mut opened = 0;
    for worker in workers {
        opened += worker.await.unwrap_or_else(|e| panic!("{e}"));
    }
    // Every `initialize` was answered (the oldest of A's own sessions made room) ...
    assert_eq!(opened, 5000 / 16 * 16, "{}", server.log());
    // ... the memory they hold is bounded: 5,000 live sessions would hold about 300 MB ...
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 100 * 1024, "the server grew by {grown} KiB");
    // ... B's session, idle all along, was not pushed out by A's ...
    let listed = mcp(&server.address, "POST", TOKEN_B, Some(&victim), LIST).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    // ... and a normal client of A is served.
    let fresh = client(&server.url(), TOKEN_A).await;
    assert_eq!(hello(&fresh).await, "hello\n");
    let _ = fresh.cancel().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_answers_only_the_token_that_opened_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(dir.path()).await;
    let address = &server.address;
    let session = open_session(address, TOKEN_A).await;
    // Token B, valid for the server, gets what an unknown session gets: 404, for a request
    // and for a DELETE, which leaves the session alone.
    let unknown = mcp(address, "POST", TOKEN_B, Some("no-such-session"), LIST).await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    let foreign = mcp(address, "POST", TOKEN_B, Some(&session), LIST).await;
    assert_eq!((foreign.status, &foreign.body), (404, &unknown.body));
    let deleted = mcp(address, "DELETE", TOKEN_B, Some(&session), "").await;
    assert_eq!((deleted.status, &deleted.body), (404, &unknown.body));
    // Token A still uses it, and ends it.
    let listed = mcp(address, "POST", TOKEN_A, Some(&session), LIST).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(listed.body.contains("hello"), "{}", listed.body);
    let ended = mcp(address, "DELETE", TOKEN_A, Some(&session), "").await;
    assert!(matches!(ended.status, 200 | 202), "{ended:?}");
    let gone = mcp(address, "POST", TOKEN_A, Some(&session), LIST).await;
    assert_eq!(gone.status, 404, "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_the_main_address_checks_the_host() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(dir.path()).await;
    let auth = format!("authorization: Bearer {TOKEN_A}\r\n");
    // A DNS-rebinding page reaches the port under its own name: refused, token or not.
    let rebound = raw_request(&server.address, "evil.test", "GET", "/metrics", &auth, "").await;
    assert_eq!(rebound.status, 403, "{rebound:?}");
    assert!(!rebound.body.contains("pforge_"), "{}", rebound.body);
    let local = raw_request(&server.address, "localhost", "GET", "/metrics", &auth, "").await;
    assert_eq!(local.status, 200, "{local:?}");
    assert!(
        local.body.contains("pforge_http_requests_in_flight"),
        "{}",
        local.body
    );
    // The probes say only up or ready, to any Host.
    let probe = raw_request(&server.address, "evil.test", "GET", "/healthz", "", "").await;
    assert_eq!(probe.status, 200, "{probe:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_are_capped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(dir.path()).await;
    let started = dir.path().join("started");
    let count = || {
        std::fs::read_to_string(&started)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    // Three callers, each with its session open before any call.
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(client(&server.url(), TOKEN_A).await);
    }
    let callers: Vec<_> = clients
        .into_iter()
        .map(|caller| {
            tokio::spawn(async move {
                let result = caller
                    .call_tool(CallToolRequestParams::new("hold"))
                    .await
                    .map(|r| r.is_error != Some(true));
                let _ = caller.cancel().await;
                result.unwrap_or(false)
            })
        })
        .collect();
    // Two children start; the third call waits for a place, however long they run.
    for _ in 0..600 {
        if count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(), 2, "{}", server.log());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(), 2, "a third child started beside two running ones");
    // Let them finish: the third call runs then.
    std::fs::write(dir.path().join("go"), "").unwrap_or_else(|e| panic!("{e}"));
    for caller in callers {
        let finished = tokio::time::timeout(Duration::from_secs(60), caller).await;
        assert!(matches!(finished, Ok(Ok(true))), "{finished:?}");
    }
    assert_eq!(count(), 3);
}
