//! The stdio transport over in-process pipes: the protocol through rmcp and the dispatcher,
//! bad input on the wire, the bound on requests in flight, cancellation and ordering.

use std::io::{BufRead, BufReader, PipeWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::generated::stdio::{Limits, Tools, serve_on};

/// What the test sees of the server's tools.
#[derive(Debug)]
struct Probe {
    /// Calls of `wait` that have started.
    started: AtomicUsize,
    /// Calls rmcp's service answered (`call_tool`), not the dispatcher.
    by_rmcp: AtomicUsize,
    /// Lets `wait` calls finish, one permit each.
    gate: Semaphore,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            started: AtomicUsize::new(0),
            by_rmcp: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

/// `echo` answers its arguments, `wait` waits for the gate, `panic` panics.
#[derive(Debug, Clone, Default)]
struct TestServer(Arc<Probe>);

impl Tools for TestServer {
    async fn call(&self, request: CallToolRequestParams) -> Result<CallToolResult, ErrorData> {
        match request.name.as_ref() {
            "echo" => {
                let arguments = Value::Object(request.arguments.unwrap_or_default());
                Ok(CallToolResult::success(vec![ContentBlock::text(
                    arguments.to_string(),
                )]))
            }
            "wait" => {
                self.0.started.fetch_add(1, Ordering::SeqCst);
                let permit = self.0.gate.acquire().await;
                drop(permit);
                Ok(CallToolResult::success(vec![ContentBlock::text("done")]))
            }
            "panic" => panic!("the tool panics"),
            other => Err(ErrorData::invalid_params(
                format!("unknown tool `{other}`"),
                None,
            )),
        }
    }
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("stdio-test", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(Vec::new()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.0.by_rmcp.fetch_add(1, Ordering::SeqCst);
        Tools::call(self, request).await.map(Into::into)
    }
}

/// A server on pipes, run on a runtime of its own thread, as a client sees it.
struct Wire {
    probe: Arc<Probe>,
    input: Option<PipeWriter>,
    lines: Receiver<Value>,
    served: std::thread::JoinHandle<Result<(), String>>,
}

const WAIT: Duration = Duration::from_secs(10);

impl Wire {
    fn start(limits: Limits) -> Self {
        let (server_in, input) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
        let (output, server_out) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
        let server = TestServer::default();
        let probe = Arc::clone(&server.0);
        let served = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(serve_on(server, server_in, server_out, limits))
                .map_err(|e| e.to_string())
        });
        let (to, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("the server wrote `{line}`, not JSON: {e}"));
                if to.send(value).is_err() {
                    return;
                }
            }
        });
        Self {
            probe,
            input: Some(input),
            lines,
            served,
        }
    }

    /// A server past the handshake.
    fn initialized(limits: Limits) -> Self {
        let mut wire = Self::start(limits);
        wire.send(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}}),
        );
        let answer = wire.next();
        assert_eq!(answer["id"], 0, "{answer}");
        assert_eq!(
            answer["result"]["serverInfo"]["name"], "stdio-test",
            "{answer}"
        );
        wire.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        wire
    }

    fn raw(&mut self, bytes: &[u8]) {
        let input = self
            .input
            .as_mut()
            .unwrap_or_else(|| panic!("stdin is closed"));
        input
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write: {e}"));
    }

    fn send(&mut self, message: Value) {
        self.raw(format!("{message}\n").as_bytes());
    }

    fn call(&mut self, id: u64, tool: &str) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": {"n": id}}}));
    }

    fn next(&self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(value) => value,
            Err(RecvTimeoutError::Timeout) => panic!("no answer within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed stdout"),
        }
    }

    /// Closes stdin and returns how the server ended and what else it wrote.
    fn close(mut self) -> (Result<(), String>, Vec<Value>) {
        drop(self.input.take());
        let ended = self
            .served
            .join()
            .unwrap_or_else(|_| Err("the server panicked".into()));
        (ended, self.lines.try_iter().collect())
    }

    /// Polls until `count` calls of `wait` have started.
    fn started(&self, count: usize) {
        let deadline = std::time::Instant::now() + WAIT;
        while self.probe.started.load(Ordering::SeqCst) < count {
            assert!(
                std::time::Instant::now() < deadline,
                "{count} calls never started"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

const LIMITS: Limits = Limits {
    max_in_flight: 64,
    max_message_bytes: 4096,
    drain: Duration::from_millis(300),
};

#[test]
fn the_dispatcher_answers_a_call_as_rmcp_does() {
    let mut wire = Wire::start(LIMITS);
    wire.send(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}}),
    );
    assert_eq!(wire.next()["id"], 0);
    // Before `notifications/initialized` a call is rmcp's; after it, the dispatcher's.
    wire.call(1, "echo");
    let by_rmcp = wire.next();
    wire.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    wire.call(1, "echo");
    let by_dispatcher = wire.next();
    assert_eq!(
        wire.probe.by_rmcp.load(Ordering::SeqCst),
        1,
        "the dispatcher did not answer"
    );
    assert_eq!(by_dispatcher, by_rmcp);
    assert_eq!(
        by_dispatcher,
        json!({"jsonrpc": "2.0", "id": 1, "result": {
            "content": [{"type": "text", "text": "{\"n\":1}"}], "isError": false}})
    );
    // An unknown tool is an error of the request, the same both ways.
    wire.call(2, "nope");
    let answer = wire.next();
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    // A call naming a protocol version of its own is rmcp's to check (and refuse).
    wire.send(
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "echo", "_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01"}}}),
    );
    let answer = wire.next();
    assert_eq!(answer["id"], 4);
    assert!(answer.get("error").is_some(), "{answer}");
    // Everything else is rmcp's.
    wire.send(json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}));
    assert_eq!(
        wire.next(),
        json!({"jsonrpc": "2.0", "id": 3, "result": {}})
    );
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn bad_lines_are_skipped_or_refused_and_the_server_goes_on() {
    let mut wire = Wire::initialized(LIMITS);
    // Not JSON: skipped, as rmcp and the other SDKs do.
    wire.raw(b"{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\n");
    // Not JSON the parser takes, but a request whose id can be read: a parse error for that
    // id, or its client would wait for ever. Invalid UTF-8 inside a string, a lone surrogate,
    // nesting deeper than the parser goes:
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\",\"x\":\"\xff\xfe\"}\n");
    let lone = br#"{"jsonrpc":"2.0","method":"tools/call","params":{"x":"\ud800"},"id":"s-1"}"#;
    wire.raw(&[&lone[..], b"\n"].concat());
    let deep = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\" : -7,\"method\":\"ping\",\"params\":{{\"x\":{}{}}}}}\n",
        "[".repeat(600),
        "]".repeat(600)
    );
    wire.raw(deep.as_bytes());
    for id in [json!(10), json!("s-1"), json!(-7)] {
        let answer = wire.next();
        assert_eq!(
            (answer["id"].clone(), answer["error"]["code"].clone()),
            (id, json!(-32700)),
            "{answer}"
        );
    }
    // A broken notification (no id) or response (no method) is only skipped.
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\",\"p\":\"\xff\"}\n");
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"id\":14,\"result\":\"\xff\"}\n");
    // JSON, but not a message: Invalid Request, with the id when there is one.
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"id\":11}\n");
    let answer = wire.next();
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (json!(11), json!(-32600)),
        "{answer}"
    );
    // A `tools/call` without a name is no call: rmcp answers it as an unknown method.
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\",\"params\":{}}\n");
    let answer = wire.next();
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (json!(13), json!(-32601)),
        "{answer}"
    );
    wire.raw(b"[1, 2]\n");
    let answer = wire.next();
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert!(answer.get("id").is_none_or(Value::is_null), "{answer}");
    // CRLF endings and blank lines.
    wire.raw(b"\r\n{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\r\n");
    assert_eq!(wire.next()["id"], 12);
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn an_overlong_line_is_refused_without_losing_the_next_one() {
    let mut wire = Wire::initialized(LIMITS);
    // Longer than the maximum, across several reads.
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"x\":\"{}\"}}}}}}\n",
        "a".repeat(200_000)
    );
    wire.raw(long.as_bytes());
    let answer = wire.next();
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("4096 bytes"), "{answer}");
    wire.call(2, "echo");
    assert_eq!(wire.next()["id"], 2);
    let (ended, _) = wire.close();
    assert_eq!(ended, Ok(()));
}

#[test]
fn stdin_closed_with_a_hung_call_ends_the_server_after_the_drain() {
    let mut wire = Wire::initialized(LIMITS);
    wire.call(1, "wait");
    wire.started(1);
    // The call never finishes: after `drain` it is stopped, unanswered, and the server ends.
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn stdin_closed_mid_message_ends_the_server_cleanly_after_its_answers() {
    let mut wire = Wire::initialized(LIMITS);
    wire.call(1, "wait");
    wire.started(1);
    wire.raw(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/");
    wire.probe.gate.add_permits(1);
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    // The call already running is answered before the server ends; the cut message is not.
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["id"], 1);
}

#[test]
fn at_most_the_bound_runs_and_the_rest_waits_its_turn() {
    let limits = Limits {
        max_in_flight: 3,
        ..LIMITS
    };
    let mut wire = Wire::initialized(limits);
    for id in 1..=10 {
        wire.call(id, "wait");
    }
    wire.started(3);
    // Had the server started more than the bound, more calls would start meanwhile.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(wire.probe.started.load(Ordering::SeqCst), 3);
    wire.probe.gate.add_permits(10);
    let mut ids: Vec<u64> = (1..=10)
        .map(|_| wire.next()["id"].as_u64().unwrap_or(0))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!(wire.close().0, Ok(()));
}

#[test]
fn a_cancelled_call_gets_no_answer_and_frees_its_slot() {
    let limits = Limits {
        max_in_flight: 1,
        ..LIMITS
    };
    let mut wire = Wire::initialized(limits);
    wire.call(1, "wait");
    wire.started(1);
    wire.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 1, "reason": "test"}}),
    );
    // With one permit, this call runs only once the cancelled one gave its permit back.
    wire.call(2, "echo");
    assert_eq!(wire.next()["id"], 2);
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn answers_go_out_as_calls_finish_not_as_they_came() {
    let mut wire = Wire::initialized(LIMITS);
    wire.call(1, "wait");
    wire.started(1);
    wire.call(2, "echo");
    assert_eq!(wire.next()["id"], 2);
    wire.probe.gate.add_permits(1);
    assert_eq!(wire.next()["id"], 1);
    assert_eq!(wire.close().0, Ok(()));
}

#[test]
fn a_panicking_tool_still_gets_its_caller_an_answer() {
    let mut wire = Wire::initialized(LIMITS);
    wire.call(1, "panic");
    let answer = wire.next();
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (json!(1), json!(-32603)),
        "{answer}"
    );
    wire.call(2, "echo");
    assert_eq!(wire.next()["id"], 2);
    assert_eq!(wire.close().0, Ok(()));
}

#[test]
fn a_cancel_behind_a_waiting_request_still_reaches_its_call() {
    let limits = Limits {
        max_in_flight: 2,
        ..LIMITS
    };
    let mut wire = Wire::initialized(limits);
    wire.call(1, "wait");
    wire.call(2, "wait");
    wire.started(2);
    // Both permits are taken: call 3 waits, and the cancel of call 1 is read behind it.
    wire.call(3, "echo");
    wire.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 1}}),
    );
    assert_eq!(wire.next()["id"], 3);
    wire.probe.gate.add_permits(1);
    assert_eq!(wire.next()["id"], 2);
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn a_reused_id_is_answered_once_as_rmcp_does() {
    let mut wire = Wire::initialized(LIMITS);
    wire.call(1, "wait");
    wire.started(1);
    wire.call(1, "echo");
    assert_eq!(wire.next()["result"]["content"][0]["text"], "{\"n\":1}");
    // The first call of id 1 ends later: its answer is dropped.
    wire.probe.gate.add_permits(1);
    wire.call(2, "echo");
    assert_eq!(wire.next()["id"], 2);
    let (ended, rest) = wire.close();
    assert_eq!(ended, Ok(()));
    assert_eq!(rest, Vec::<Value>::new());
}

#[test]
fn stdin_closed_before_the_handshake_is_an_error() {
    let wire = Wire::start(LIMITS);
    let (ended, rest) = wire.close();
    assert!(ended.is_err(), "{ended:?}");
    assert_eq!(rest, Vec::<Value>::new());
}
