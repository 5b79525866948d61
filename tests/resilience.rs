//! End to end, the policies as a client and an upstream see them: a generated server (driven by
//! rmcp's client over stdio) whose http tools call a loopback upstream that fails on command
//! (status codes, `Retry-After`, hangs, resets), and whose cli tool hangs. The upstream records
//! when each request arrived and how many ran at once. The server is compiled once; each case
//! runs a process of its own against an upstream of its own, so each behaviour fails by name.

mod common;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{
    answer, assert_stopped, build, build_with_handlers, connect_with, read_head, stats_text, text,
};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the upstream does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// Answers this status (with `Retry-After` seconds, if set) at once.
    Status(u16, Option<u64>),
    /// Answers 200 once the test opens the gate.
    Gated,
    /// Never answers (until the client gives up, or 10 s pass).
    Hang,
    /// Closes the connection without answering.
    Reset,
}

#[derive(Default)]
struct Script {
    /// Replies used once each, in order, before the default.
    once: HashMap<String, VecDeque<Reply>>,
    /// The reply of a path when nothing is queued.
    default: HashMap<String, Reply>,
    /// Every request: its path and when it arrived.
    seen: Vec<(String, Instant)>,
    /// Hanging requests the client gave up on.
    abandoned: usize,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    script: Arc<Mutex<Script>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Upstream {
    /// Serves at most `connections` connections, each on its own task.
    async fn start(connections: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let upstream = Self {
            base: format!("http://{address}"),
            script: Arc::default(),
            in_flight: Arc::default(),
            most_in_flight: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let server = upstream.clone();
        tokio::spawn(async move {
            for _ in 0..connections {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(server.clone().serve(socket));
            }
        });
        upstream
    }

    fn set(&self, path: &str, reply: Reply) {
        self.lock().default.insert(path.to_owned(), reply);
    }

    fn queue(&self, path: &str, replies: &[Reply]) {
        self.lock()
            .once
            .entry(path.to_owned())
            .or_default()
            .extend(replies);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When each request to `path` arrived.
    fn arrivals(&self, path: &str) -> Vec<Instant> {
        self.lock()
            .seen
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, at)| *at)
            .collect()
    }

    async fn serve(self, mut socket: tokio::net::TcpStream) {
        let Some(request) = read_head(&mut socket).await else {
            return;
        };
        let path = request
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let reply = {
            let mut script = self.lock();
            script.seen.push((path.clone(), Instant::now()));
            let queued = script.once.get_mut(&path).and_then(VecDeque::pop_front);
            queued
                .or_else(|| script.default.get(&path).copied())
                .unwrap_or(Reply::Status(200, None))
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let status = match reply {
            Reply::Status(status, retry_after) => Some((status, retry_after)),
            Reply::Gated => {
                if let Ok(permit) = self.gate.acquire().await {
                    permit.forget();
                }
                Some((200, None))
            }
            Reply::Hang => {
                // Ends when the client hangs up (the read sees the end of the stream), or after
                // 10 s, which only a client without a timeout would wait for.
                let read =
                    tokio::time::timeout(Duration::from_secs(10), socket.read(&mut [0u8; 64]))
                        .await;
                if matches!(read, Ok(Ok(0) | Err(_))) {
                    self.lock().abandoned += 1;
                }
                None
            }
            Reply::Reset => None,
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let Some((status, retry_after)) = status else {
            return;
        };
        let body = json!({ "path": path, "status": status }).to_string();
        let retry_after = retry_after
            .map(|s| format!("retry-after: {s}\r\n"))
            .unwrap_or_default();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry_after}connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
    }
}

const CONFIG: &str = r#"
forge:
  name: resilience-e2e
  version: 0.1.0

fault_tolerance:
  error_tracking:
    enabled: true
    max_errors: 10
    classify_by: handlers::classes::classify

# Around every call but `stuck`'s: `Audit` outside, `Gate` inside.
middleware:
  - type: native
    handler: handlers::Audit
  - type: native
    handler: handlers::Gate

tools:
  - type: http
    name: flaky
    endpoint: "${UPSTREAM}/flaky"
    auth: {type: bearer, token: "${UPSTREAM_TOKEN}"}
    timeout_ms: 400
    retry: {max_attempts: 3, initial_delay: 100ms, max_delay: 1s, multiplier: 2, jitter: false}
    circuit_breaker: {failure_threshold: 3, timeout: 1s, success_threshold: 1}

  - type: http
    name: limited
    endpoint: "${UPSTREAM}/limited"
    timeout_ms: 5000
    bulkhead: {max_concurrent: 2, max_queued: 1}

  - type: http
    name: rescued
    endpoint: "${UPSTREAM}/down"
    fallback:
      - type: http
        endpoint: "${UPSTREAM}/reset"
      - type: value
        value: {source: cache}

  - type: cli
    name: stuck
    command: sh
    args: ["-c", "sleep 30 & echo $! >> {{pid_file}}; wait"]
    params:
      pid_file: string
    timeout_ms: 300
    retry: {max_attempts: 2, initial_delay: 10ms, retry_on: [timeout]}
    middleware: false

  - type: http
    name: chosen
    endpoint: "${UPSTREAM}/chosen"
    method: POST
    retry: {policy: handlers::OnlyServerErrors, max_delay: 1s}
"#;

/// Middleware of the test's own: each hook appends `<who>.<hook> <tool>` to `audit.log` in
/// the server's directory; `Gate` refuses calls that carry a `forbidden` argument.
const MIDDLEWARE: [(&str, &str); 2] = [
    ("audit.rs", MIDDLEWARE_TEMPLATE),
    ("gate.rs", MIDDLEWARE_TEMPLATE),
];

const MIDDLEWARE_TEMPLATE: &str = r#"//! Middleware of the test.

use crate::generated::runtime::{Answer, Call, ToolError};

fn note(line: String) {
    use std::io::Write;
    let file = std::fs::OpenOptions::new().create(true).append(true).open("audit.log");
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{line}");
    }
}

/// Logs every hook.
#[derive(Debug, Default)]
pub struct NAME;

impl crate::generated::runtime::Middleware for NAME {
    async fn before(&self, call: &mut Call) -> Result<(), ToolError> {
        note(format!("WHO.before {}", call.tool));
        if WHO_GATES && call.arguments.contains_key("forbidden") {
            return Err(ToolError::InvalidArguments("refused by the gate".to_owned()));
        }
        Ok(())
    }

    async fn after(&self, call: &Call, answer: Answer) -> Result<Answer, ToolError> {
        note(format!("WHO.after {}", call.tool));
        Ok(answer)
    }

    async fn on_error(&self, call: &Call, error: ToolError) -> Result<Answer, ToolError> {
        note(format!("WHO.on_error {}", call.tool));
        Err(error)
    }
}
"#;

/// The test's error classifier: the built-in classes, but `chosen`'s 500s are its own.
const CLASSIFIER: &str = r#"//! The test's error classes.

use crate::generated::runtime::ToolError;

/// `chosen_failure` for a 500 of `/chosen`, else the built-in class.
pub fn classify(error: &ToolError) -> String {
    match error {
        ToolError::Status { status: 500, body, .. } if body.contains("/chosen") => {
            "chosen_failure".to_owned()
        }
        _ => crate::generated::stats::ErrorClass::of(error).as_str().to_owned(),
    }
}
"#;

/// The test's own retry policy, written before the first build (pforge keeps it): it retries
/// what the generated schedule would not for a POST (HTTP 500) and not what it would (503).
const POLICY: &str = r#"//! The test's retry policy.

/// Retries HTTP 500 until the fourth attempt, 50 ms apart; nothing else.
#[derive(Debug, Default)]
pub struct OnlyServerErrors;

impl crate::generated::resilience::RetryPolicy for OnlyServerErrors {
    fn should_retry(&self, attempt: usize, error: &crate::generated::runtime::ToolError) -> bool {
        let server_error = matches!(
            error,
            crate::generated::runtime::ToolError::Status { status: 500, .. }
        );
        server_error && attempt < 4
    }

    fn delay(&self, _attempt: usize) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }
}
"#;

fn gap(times: &[Instant], n: usize) -> Duration {
    times[n + 1] - times[n]
}

/// Waits until `condition` holds, for at most 5 s; fails the test otherwise.
async fn eventually(condition: impl Fn() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(condition(), "the condition never held");
}

/// Backoff never comes early. (How late it may come depends on the machine's load, so the
/// exact delays are checked by the generated tests on tokio's paused clock, not here.)
fn not_before(actual: Duration, expected_ms: u64) -> bool {
    actual >= Duration::from_millis(expected_ms)
}

/// The server of the cases below, with the test's policy, classifier and middleware written
/// before the first build (pforge keeps them), compiled once for every case of this file.
fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let mut handlers = vec![
                ("only_server_errors.rs", POLICY.to_owned()),
                ("classes.rs", CLASSIFIER.to_owned()),
            ];
            for ((file, template), (name, who, gates)) in MIDDLEWARE
                .iter()
                .zip([("Audit", "audit", "false"), ("Gate", "gate", "true")])
            {
                let text = template
                    .replace("NAME", name)
                    .replace("WHO_GATES", gates)
                    .replace("WHO", who);
                handlers.push((*file, text));
            }
            build_with_handlers(CONFIG, "resilience-e2e", &handlers)
        })
        .clone()
}

/// A server process of one case, in a directory of its own (where its middleware writes
/// `audit.log`), its http tools calling an upstream of its own: breakers, stats and the
/// audit start empty in every case.
struct Case {
    client: RunningService<RoleClient, ()>,
    dir: tempfile::TempDir,
    upstream: Upstream,
}

async fn start() -> Case {
    let upstream = Upstream::start(200).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let client = connect_with(&binary(), dir.path(), &[("UPSTREAM", &upstream.base)]).await;
    Case {
        client,
        dir,
        upstream,
    }
}

impl Case {
    async fn call(&self, tool: &str, arguments: Value) -> rmcp::model::CallToolResult {
        answer(&self.client, tool, arguments).await
    }

    /// The stats document, checked to hold no secret.
    async fn stats(&self) -> Value {
        let stats = read_stats(&self.client).await;
        assert!(
            !stats.to_string().contains("s3cret"),
            "a secret leaked: {stats}"
        );
        stats
    }

    /// The middleware hooks that ran around `tool`, in order.
    fn hooks(&self, tool: &str) -> Vec<String> {
        let audit = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        let suffix = format!(" {tool}");
        audit
            .lines()
            .filter_map(|l| l.strip_suffix(&suffix).map(str::to_owned))
            .collect()
    }

    async fn stop(self) {
        let _ = self.client.cancel().await;
    }
}

/// The hooks around a call that answered, one that failed, and one the gate refused:
/// `before` outside in, `after`/`on_error` inside out; the refusal reaches only the audit.
const OK: [&str; 4] = ["audit.before", "gate.before", "gate.after", "audit.after"];
const FAILED: [&str; 4] = [
    "audit.before",
    "gate.before",
    "gate.on_error",
    "audit.on_error",
];
const REFUSED: [&str; 3] = ["audit.before", "gate.before", "audit.on_error"];

/// Retry: 3 attempts of a 503, 100 ms then 200 ms apart (no jitter); the third failure in a
/// row opens the breaker, which rejects at once; after its timeout one probe passes and its
/// success closes it. The middleware wraps each call once, not each attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_spaced_and_their_failures_open_the_breaker() {
    let case = start().await;
    let upstream = &case.upstream;
    upstream.set("/flaky", Reply::Status(503, None));
    let result = case.call("flaky", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("HTTP 503"), "{}", text(&result));
    let times = upstream.arrivals("/flaky");
    assert_eq!(times.len(), 3, "max_attempts");
    assert!(not_before(gap(&times, 0), 100), "{:?}", gap(&times, 0));
    assert!(not_before(gap(&times, 1), 200), "{:?}", gap(&times, 1));

    let result = case.call("flaky", json!({})).await;
    assert!(text(&result).contains("circuit open"), "{}", text(&result));
    assert_eq!(
        upstream.arrivals("/flaky").len(),
        3,
        "a request passed an open breaker"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    upstream.set("/flaky", Reply::Status(200, None));
    let result = case.call("flaky", json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(upstream.arrivals("/flaky").len(), 4);

    let stats = case.stats().await;
    let flaky = &stats["tools"]["flaky"];
    assert_eq!(flaky["breaker"], "closed", "{flaky}");
    let figures = ["calls", "successes", "failures", "retries", "rejections"].map(|f| &flaky[f]);
    assert_eq!(
        figures,
        [&json!(3), &json!(1), &json!(2), &json!(2), &json!(1)],
        "{flaky}"
    );
    assert_eq!(flaky["errors"]["service_unavailable"], 3, "{flaky}");
    assert_eq!(flaky["errors"]["circuit_open"], 1, "{flaky}");
    assert_eq!(
        case.hooks("flaky"),
        [&FAILED[..], &FAILED, &OK].concat(),
        "one call, one wrap"
    );
    case.stop().await;
}

/// `Retry-After: 1` on a 429 is honoured (max_delay is 1 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let case = start().await;
    case.upstream
        .queue("/flaky", &[Reply::Status(429, Some(1))]);
    let result = case.call("flaky", json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let times = case.upstream.arrivals("/flaky");
    assert_eq!(times.len(), 2);
    assert!(not_before(gap(&times, 0), 1000), "{:?}", gap(&times, 0));
    let stats = case.stats().await;
    let flaky = &stats["tools"]["flaky"];
    assert_eq!(
        (&flaky["retries"], &flaky["errors"]["rate_limit"]),
        (&json!(1), &json!(1)),
        "{flaky}"
    );
    case.stop().await;
}

/// A hanging upstream: each attempt is cut at 400 ms and hangs up on the upstream rather than
/// waiting it out, and the timeouts open the breaker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_attempts_are_cut_and_open_the_breaker() {
    let case = start().await;
    let upstream = &case.upstream;
    upstream.set("/flaky", Reply::Hang);
    let result = case.call("flaky", json!({})).await;
    assert!(
        text(&result).contains("timed out after 400 ms"),
        "{}",
        text(&result)
    );
    assert_eq!(upstream.arrivals("/flaky").len(), 3);
    // The last hang-up may reach the upstream a moment after the answer: wait for it,
    // boundedly.
    eventually(|| upstream.lock().abandoned == 3).await;
    let result = case.call("flaky", json!({})).await;
    assert!(text(&result).contains("circuit open"), "{}", text(&result));
    assert_eq!(upstream.arrivals("/flaky").len(), 3);
    let stats = case.stats().await;
    let flaky = &stats["tools"]["flaky"];
    assert_eq!(flaky["breaker"], "open", "{flaky}");
    assert_eq!(
        (&flaky["timeouts"], &flaky["retries"]),
        (&json!(3), &json!(2)),
        "{flaky}"
    );
    assert_eq!(stats["errors"]["timeout"], 3, "{stats}");
    case.stop().await;
}

/// While the upstream holds every request, 2 are in flight, 1 waits, and the other 3 are
/// rejected at once; once it lets them go, the 3 admitted calls answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulkhead_admits_two_queues_one_and_rejects_the_rest() {
    let case = start().await;
    let upstream = &case.upstream;
    upstream.set("/limited", Reply::Gated);
    let (done, mut results) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..6 {
        let (peer, done) = (case.client.peer().clone(), done.clone());
        tokio::spawn(async move {
            let params = rmcp::model::CallToolRequestParams::new("limited");
            let _ = done.send(peer.call_tool(params).await);
        });
    }
    let mut next = async || {
        let result = tokio::time::timeout(Duration::from_secs(60), results.recv()).await;
        match result {
            Ok(Some(Ok(result))) => result,
            other => panic!("no answer: {other:?}"),
        }
    };
    for _ in 0..3 {
        let result = next().await;
        assert!(text(&result).contains("bulkhead full"), "{}", text(&result));
    }
    // The two admitted requests reach the upstream and stay there; the queued call waits.
    eventually(|| upstream.arrivals("/limited").len() == 2).await;
    upstream.gate.add_permits(3);
    for _ in 0..3 {
        let result = next().await;
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
    }
    assert_eq!(upstream.arrivals("/limited").len(), 3);
    // Nothing else runs meanwhile, so the most requests in flight at once are the bulkhead's.
    assert_eq!(upstream.most_in_flight.load(Ordering::SeqCst), 2);
    let stats = case.stats().await;
    let limited = &stats["tools"]["limited"];
    assert_eq!(limited["breaker"], Value::Null);
    assert_eq!(limited["rejections"], 3, "{limited}");
    assert_eq!(limited["errors"]["bulkhead_full"], 3, "{limited}");
    case.stop().await;
}

/// The primary answers 500, the backup resets, the static value answers, marked as
/// degraded; the middleware sees the fallback's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_chain_answers_degraded_when_its_upstreams_fail() {
    let case = start().await;
    case.upstream.set("/down", Reply::Status(500, None));
    case.upstream.set("/reset", Reply::Reset);
    let result = case.call("rescued", json!({})).await;
    assert_eq!(result.structured_content, Some(json!({"source": "cache"})));
    let meta = serde_json::to_value(&result.meta).unwrap_or_default();
    assert_eq!(meta["pforge/degraded"]["fallback"], "value", "{meta}");
    assert!(
        meta["pforge/degraded"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{meta}"
    );
    assert_eq!(case.upstream.arrivals("/reset").len(), 1);
    let stats = case.stats().await;
    let rescued = &stats["tools"]["rescued"];
    assert_eq!(
        (&rescued["successes"], &rescued["fallbacks"]),
        (&json!(1), &json!(1)),
        "{rescued}"
    );
    assert_eq!(rescued["errors"]["server_error"], 1, "{rescued}");
    assert_eq!(rescued["errors"]["connection"], 1, "{rescued}");
    // A connection error names its cause, not the URL (which may carry a secret).
    let recent = stats["recent_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let reset = recent
        .iter()
        .find(|e| e["class"] == "connection")
        .unwrap_or_else(|| panic!("{stats}"));
    let message = reset["message"].as_str().unwrap_or_default();
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert!(message.len() > "connection error: ".len() + 20, "{message}");
    assert_eq!(case.hooks("rescued"), OK);
    case.stop().await;
}

/// A hanging command: both attempts are cut at 300 ms and nothing they started survives;
/// the tool opted out of the middleware, which still wraps the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_command_is_killed_on_every_attempt() {
    let case = start().await;
    let pid_file = case.dir.path().join("stuck.pids");
    let arguments = json!({ "pid_file": pid_file.display().to_string() });
    let result = case.call("stuck", arguments).await;
    assert!(
        text(&result).contains("timed out after 300 ms"),
        "{}",
        text(&result)
    );
    let pids = std::fs::read_to_string(&pid_file).unwrap_or_default();
    assert_eq!(pids.lines().count(), 2, "one child per attempt: {pids}");
    for (n, pid) in pids.lines().enumerate() {
        let one = case.dir.path().join(format!("pid-{n}"));
        std::fs::write(&one, pid).unwrap_or_else(|e| panic!("{e}"));
        assert_stopped(&one).await;
    }
    let stats = case.stats().await;
    let stuck = &stats["tools"]["stuck"];
    assert_eq!(
        (&stuck["retries"], &stuck["timeouts"]),
        (&json!(1), &json!(2)),
        "{stuck}"
    );
    let result = case.call("flaky", json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(case.hooks("flaky"), OK, "the middleware runs");
    assert!(case.hooks("stuck").is_empty(), "`stuck` opted out");
    case.stop().await;
}

/// The user's policy: three 500s are retried and the fourth attempt answers; a 503, which the
/// generated schedule would retry, is not; its own limit is 4 attempts. The user's classes
/// name `chosen`'s 500s, and only those. The gate refuses before the tool runs: the client
/// sees why, the upstream nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_retry_policy_classes_and_middleware_apply() {
    let case = start().await;
    let upstream = &case.upstream;
    upstream.queue("/chosen", &[Reply::Status(500, None); 3]);
    let result = case.call("chosen", json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let times = upstream.arrivals("/chosen");
    assert_eq!(
        times.len(),
        4,
        "the policy retries 500 up to the fourth attempt"
    );
    assert!((0..3).all(|n| not_before(gap(&times, n), 50)), "{times:?}");
    upstream.set("/chosen", Reply::Status(503, None));
    let result = case.call("chosen", json!({})).await;
    assert!(text(&result).contains("HTTP 503"), "{}", text(&result));
    assert_eq!(
        upstream.arrivals("/chosen").len(),
        5,
        "the policy refused the 503"
    );
    upstream.set("/chosen", Reply::Status(500, None));
    let result = case.call("chosen", json!({})).await;
    assert!(text(&result).contains("HTTP 500"), "{}", text(&result));
    assert_eq!(
        upstream.arrivals("/chosen").len(),
        9,
        "its own limit: 4 attempts"
    );
    let result = case.call("chosen", json!({"forbidden": true})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("refused by the gate"),
        "{}",
        text(&result)
    );
    assert_eq!(upstream.arrivals("/chosen").len(), 9);
    // Another tool's 500 keeps the built-in class.
    upstream.set("/down", Reply::Status(500, None));
    case.call("rescued", json!({})).await;

    let stats = case.stats().await;
    let chosen = &stats["tools"]["chosen"];
    assert_eq!(
        (&chosen["calls"], &chosen["retries"], &chosen["failures"]),
        (&json!(3), &json!(6), &json!(2)),
        "{chosen}"
    );
    assert_eq!(chosen["errors"]["chosen_failure"], 7, "{chosen}");
    assert_eq!(chosen["errors"]["service_unavailable"], 1, "{chosen}");
    let rescued = &stats["tools"]["rescued"]["errors"];
    assert_eq!(
        (&rescued["chosen_failure"], &rescued["server_error"]),
        (&json!(0), &json!(1)),
        "{rescued}"
    );
    assert_eq!(
        case.hooks("chosen"),
        [&OK[..], &FAILED, &FAILED, &REFUSED].concat()
    );
    case.stop().await;
}

/// The recent errors are the last `max_errors` (10), oldest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recent_errors_are_the_last_max_errors() {
    let case = start().await;
    // 3 attempts' 503s and a rejection by the breaker they opened, then 8 500s of `chosen`.
    case.upstream.set("/flaky", Reply::Status(503, None));
    case.upstream.set("/chosen", Reply::Status(500, None));
    for tool in ["flaky", "flaky", "chosen", "chosen"] {
        let result = case.call(tool, json!({})).await;
        assert_eq!(result.is_error, Some(true), "{tool}: {}", text(&result));
    }
    let stats = case.stats().await;
    let recent = stats["recent_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let classes: Vec<&str> = recent
        .iter()
        .map(|e| e["class"].as_str().unwrap_or_default())
        .collect();
    let expected = [
        &["service_unavailable", "circuit_open"][..],
        &["chosen_failure"; 8],
    ]
    .concat();
    assert_eq!(classes, expected, "{stats}");
    assert_eq!(recent[9]["tool"], "chosen", "{stats}");
    case.stop().await;
}

/// The `pforge://stats` document.
async fn read_stats(
    client: &rmcp::service::RunningService<rmcp::service::RoleClient, ()>,
) -> Value {
    let document = stats_text(client).await;
    serde_json::from_str(&document).unwrap_or_else(|e| panic!("{e}: {document}"))
}

/// The book's page that maps the chapter's Rust to pforge's (`docs/src/migrating.md`): its
/// forge.yaml fragment, and each Rust block with the path its first line names.
fn chapter_section() -> (String, Vec<(String, String)>) {
    let page = include_str!("../docs/src/migrating.md");
    let mut yaml = String::new();
    let mut files = Vec::new();
    for block in page.split("\n```").skip(1).step_by(2) {
        if let Some(text) = block.strip_prefix("yaml fragment\n") {
            yaml = format!("{text}\n");
        } else if let Some(text) = block.strip_prefix("rust\n") {
            let path = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("// "))
                .unwrap_or_else(|| panic!("a block without its path:\n{text}"));
            files.push((path.to_owned(), format!("{text}\n")));
        }
    }
    assert!(
        !yaml.is_empty(),
        "docs/src/migrating.md has no `yaml fragment` block"
    );
    (yaml, files)
}

/// The chapter's handler, as the test writes it: the upstream is always down.
const USERS: &str = r#"//! The test's `fetch_user_data`.

/// Fails as an upstream answering 503 would.
pub async fn fetch(
    input: crate::generated::tools::fetch_user_data::FetchUserDataInput,
    _context: crate::generated::runtime::Context<'_>,
) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
    Err(crate::generated::runtime::HandlerError::new(format!(
        "upstream answered 503 for {}",
        input.user_id
    )))
}
"#;

/// The book's rewrite of the chapter's extension examples compiles against the generated
/// traits (none of its types implements `Debug`) and does what the chapter says; and an
/// unchanged classifier stub keeps the built-in class of what it does not name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_books_chapter_examples_compile_and_run() {
    let (yaml, files) = chapter_section();
    assert_eq!(files.len(), 4, "{files:?}");
    let config = format!(
        "forge:\n  name: chapter-e2e\n  version: 0.1.0\n\n{yaml}  - type: cli\n    name: tripped\n    command: sh\n    args: [\"-c\", \"exit 3\"]\n    circuit_breaker: {{failure_threshold: 1}}\n"
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let handlers = dir.path().join("src/handlers");
    std::fs::create_dir_all(&handlers).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(handlers.join("users.rs"), USERS).unwrap_or_else(|e| panic!("{e}"));
    // First the classifier pforge writes, unchanged; then the chapter's in its place.
    let (classifier, others): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(path, _)| path.ends_with("/classify_error.rs"));
    for (path, text) in others {
        std::fs::write(dir.path().join(path), text).unwrap_or_else(|e| panic!("{e}"));
    }

    for stage in ["stub", "chapter"] {
        if stage == "chapter" {
            let (path, text) = &classifier[0];
            std::fs::write(dir.path().join(path), text).unwrap_or_else(|e| panic!("{e}"));
        }
        let binary = build(dir.path(), &config, "chapter-e2e");
        let client = connect_with(&binary, dir.path(), &[]).await;
        // The policy retries the handler's "503" up to `max_attempts`; the fallback answers.
        let result = answer(&client, "fetch_user_data", json!({"user_id": "u1"})).await;
        assert_eq!(result.is_error, Some(false), "{stage}: {}", text(&result));
        assert!(text(&result).contains("Guest User"), "{}", text(&result));
        // One failure opens the breaker; the second call is rejected.
        for _ in 0..2 {
            let result = answer(&client, "tripped", json!({})).await;
            assert_eq!(result.is_error, Some(true));
        }
        let stats = read_stats(&client).await;
        let fetch = &stats["tools"]["fetch_user_data"];
        assert_eq!(fetch["retries"], 2, "{stage}: {fetch}");
        let tripped = &stats["tools"]["tripped"]["errors"];
        assert_eq!(tripped["handler_error"], 1, "{stage}: {tripped}");
        assert_eq!(
            tripped["circuit_open"], 1,
            "{stage}: a rejection keeps its built-in class: {tripped}"
        );
        assert!(tripped.get("unknown").is_none(), "{stage}: {tripped}");
        let class = if stage == "stub" {
            "handler_error"
        } else {
            "service_unavailable"
        };
        assert_eq!(fetch["errors"][class], 3, "{stage}: {fetch}");
        let _ = client.cancel().await;
    }
}
