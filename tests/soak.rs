//! Soak: 10,000 pipelined calls, 64 in flight, over stdio against a generated server whose tools
//! use every policy, calling a loopback upstream that fails, hangs, resets and answers 429 with
//! `Retry-After` on a schedule. Every request is answered exactly once, memory stays flat after
//! warm-up, no child process outlives its call, and `pforge://stats` adds up to the calls made.
//! Bounded: a watchdog kills the server (and fails the test) after 5 minutes.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use common::{build, read_head};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CALLS: u64 = 10_000;
const IN_FLIGHT: u64 = 64;
const WARM_UP: u64 = 1_000;

const CONFIG: &str = r#"
forge:
  name: soak-e2e
  version: 0.1.0
  # Below the 64 calls the client keeps in flight, so that the bound is held under load.
  stdio: {max_in_flight: 16}

fault_tolerance:
  error_tracking: {enabled: true, max_errors: 20}

tools:
  - type: http
    name: api
    endpoint: "${UPSTREAM}/api"
    timeout_ms: 100
    retry: {max_attempts: 3, initial_delay: 2ms, max_delay: 1s, multiplier: 2}
    circuit_breaker: {failure_threshold: 10, timeout: 100ms, success_threshold: 1}
    bulkhead: {max_concurrent: 4, max_queued: 4, timeout: 2s}
    fallback:
      - type: http
        endpoint: "${UPSTREAM}/backup"
      - type: value
        value: {source: cache}

  - type: cli
    name: nap
    command: sleep
    args: ["{{secs}}"]
    params:
      secs: string
    timeout_ms: 50
    retry: {max_attempts: 2, initial_delay: 1ms, retry_on: [timeout]}

  - type: native
    name: greet
    handler: handlers::soak::greet
    params:
      name: string
"#;

/// The upstream's schedule, by the number of the request to `/api`: mostly 200, then a 500, a
/// hang, a 503 (a 429 with `Retry-After: 1` one time in a hundred) and a reset in every ten,
/// and a run of 500s long enough to open the breaker.
fn reply(n: u64) -> &'static str {
    if (3_000..3_300).contains(&n) {
        return "500";
    }
    match n % 10 {
        6 => "500",
        7 => "hang",
        8 if n % 100 == 8 => "429",
        8 => "503",
        9 => "reset",
        _ => "200",
    }
}

/// A keep-alive HTTP/1.1 upstream on 127.0.0.1 following `reply`; `/backup` always answers.
async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let count = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut socket).await {
                    let backup = head.split_whitespace().nth(1) == Some("/backup");
                    let what = if backup {
                        "200"
                    } else {
                        reply(count.fetch_add(1, Ordering::SeqCst))
                    };
                    let (status, extra) = match what {
                        "hang" => {
                            // Until the client gives up on it (bounded, should it not).
                            let mut byte = [0u8; 1];
                            let wait = tokio::time::timeout(
                                Duration::from_secs(10),
                                socket.read(&mut byte),
                            );
                            let _ = wait.await;
                            return;
                        }
                        "reset" => return,
                        "429" => ("429 Too Many Requests", "retry-after: 1\r\n"),
                        "500" => ("500 Internal Server Error", ""),
                        "503" => ("503 Service Unavailable", ""),
                        _ => ("200 OK", ""),
                    };
                    let body = r#"{"ok":true}"#;
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// The call with id `id` (1-based): half to `api`, a quarter each to `nap` and `greet`.
fn request(id: u64) -> (&'static str, String) {
    let (tool, arguments) = match id % 4 {
        0 | 1 => ("api", json!({})),
        // One nap in ten outlasts the timeout, twice (one retry), and is killed.
        2 if id % 40 == 2 => ("nap", json!({"secs": "5"})),
        2 => ("nap", json!({"secs": "0"})),
        _ => ("greet", json!({"name": format!("n{id}")})),
    };
    let line = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    (tool, format!("{line}\n"))
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Processes whose parent is `pid`.
fn children(pid: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // `pid (comm) state ppid ...`; comm may hold spaces, so count from the last `)`.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// Sends one message and reads the next line as its answer.
fn exchange(input: &mut impl Write, output: &mut impl BufRead, message: Value) -> Value {
    writeln!(input, "{message}").unwrap_or_else(|e| panic!("{e}"));
    input.flush().unwrap_or_else(|e| panic!("{e}"));
    let mut line = String::new();
    output
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

/// Unanswered calls, shared by the writer and the reader.
#[derive(Default)]
struct Window {
    answered: Mutex<u64>,
    freed: Condvar,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_against_a_failing_upstream() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.path().join("src/handlers")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("src/handlers/soak.rs"),
        "//! The native tool of the soak test.\n\n/// Greets.\npub async fn greet(\n    input: crate::generated::tools::greet::GreetInput,\n    _context: crate::generated::runtime::Context<'_>,\n) -> Result<String, crate::generated::runtime::HandlerError> {\n    Ok(format!(\"hello {}\", input.name))\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let binary = build(dir.path(), CONFIG, "soak-e2e");
    let base = upstream().await;

    let mut server = Command::new(&binary)
        .env("UPSTREAM", &base)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = server.id();
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            for _ in 0..300 {
                std::thread::sleep(Duration::from_secs(1));
                if done.load(Ordering::SeqCst) {
                    return;
                }
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        });
    }
    let mut input = BufWriter::new(server.stdin.take().unwrap_or_else(|| panic!("stdin")));
    let mut output = BufReader::new(server.stdout.take().unwrap_or_else(|| panic!("stdout")));
    let mut line = String::new();
    let init = exchange(
        &mut input,
        &mut output,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "soak", "version": "1"}}}),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "soak-e2e", "{init}");
    writeln!(
        input,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // The burst: a writer thread keeps 64 calls unanswered; this thread reads the answers.
    let window = Arc::new(Window::default());
    let writer = {
        let window = Arc::clone(&window);
        std::thread::spawn(move || {
            let mut sent: HashMap<&str, u64> = HashMap::new();
            for id in 1..=CALLS {
                let mut answered = window
                    .answered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                while id - 1 - *answered >= IN_FLIGHT {
                    input.flush().unwrap_or_else(|e| panic!("{e}"));
                    answered = window
                        .freed
                        .wait(answered)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                drop(answered);
                let (tool, line) = request(id);
                *sent.entry(tool).or_default() += 1;
                input
                    .write_all(line.as_bytes())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            input.flush().unwrap_or_else(|e| panic!("{e}"));
            (input, sent)
        })
    };
    let mut answers = vec![0u8; CALLS as usize + 1];
    let mut ok: HashMap<&str, u64> = HashMap::new();
    let mut failed: HashMap<&str, u64> = HashMap::new();
    let mut warm_rss = 0;
    for read in 1..=CALLS {
        line.clear();
        let n = output
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(n > 0, "the server closed after {} answers", read - 1);
        let answer: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("`{line}`: {e}"));
        let id = answer["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("no id: {answer}"));
        assert!((1..=CALLS).contains(&id), "{answer}");
        answers[id as usize] += 1;
        assert!(answer.get("error").is_none(), "a protocol error: {answer}");
        let tool = request(id).0;
        if answer["result"]["isError"] == true {
            *failed.entry(tool).or_default() += 1;
        } else {
            *ok.entry(tool).or_default() += 1;
        }
        if read == WARM_UP {
            warm_rss = rss_kib(pid);
        }
        *window
            .answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        window.freed.notify_one();
    }
    let (mut input, sent) = writer
        .join()
        .unwrap_or_else(|_| panic!("the writer panicked"));
    let end_rss = rss_kib(pid);
    assert!(
        answers[1..].iter().all(|count| *count == 1),
        "not every call answered once"
    );

    // Memory: flat after warm-up.
    assert!(warm_rss > 0);
    assert!(
        end_rss * 10 <= warm_rss * 12,
        "RSS grew from {warm_rss} KiB after {WARM_UP} calls to {end_rss} KiB"
    );

    // Every cli process was killed and reaped: the server has no child left.
    let mut left = children(pid);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        left = children(pid);
    }
    assert_eq!(left, Vec::<String>::new(), "child processes left");

    // The stats add up to the calls made, tool by tool, as the client saw them.
    let stats = exchange(
        &mut input,
        &mut output,
        json!({"jsonrpc": "2.0", "id": CALLS + 1, "method": "resources/read",
            "params": {"uri": "pforge://stats"}}),
    );
    let text = stats["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_default();
    let stats: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {stats}"));
    for tool in ["api", "nap", "greet"] {
        let figures = &stats["tools"][tool];
        let count = |map: &HashMap<&str, u64>| json!(map.get(tool).copied().unwrap_or(0));
        assert_eq!(figures["calls"], count(&sent), "{tool}: {figures}");
        assert_eq!(figures["successes"], count(&ok), "{tool}: {figures}");
        assert_eq!(figures["failures"], count(&failed), "{tool}: {figures}");
    }
    eprintln!(
        "soak: RSS {warm_rss} KiB after {WARM_UP} calls, {end_rss} KiB after {CALLS}; stats: {}",
        stats["tools"]
    );
    // The schedule reached every policy.
    let api = &stats["tools"]["api"];
    for figure in ["retries", "fallbacks", "timeouts", "rejections"] {
        assert!(api[figure].as_u64().unwrap_or(0) > 0, "no {figure}: {api}");
    }
    assert!(
        stats["tools"]["nap"]["timeouts"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    // Which guard rejects (the bulkhead or the breaker) depends on timing; that one of them
    // did is `rejections` above.
    for class in ["rate_limit", "timeout", "connection", "server_error"] {
        assert!(
            api["errors"][class].as_u64().unwrap_or(0) > 0,
            "no {class}: {api}"
        );
    }

    drop(input);
    let status = server.wait().unwrap_or_else(|e| panic!("{e}"));
    done.store(true, Ordering::SeqCst);
    assert!(status.success(), "the server ended with {status}");
}
