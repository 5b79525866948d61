//! A load client for MCP servers over stdio, for benches/stdio.sh.
//!
//! `mcp-load [--calls N] [--inflight W] [--cold K] [--lists L] [--tool NAME] [--arguments JSON] -- COMMAND...`
//!
//! Spawns `COMMAND` K times to time cold starts (spawn to the `initialize` answer), then once
//! more for the burst: N pipelined `tools/call`s with at most W unanswered at any time, then L
//! sequential `tools/list`s. Prints one `figure value` line per figure. A writer thread and a
//! reader thread share nothing but two counters and the send times, and the id of an answer is
//! found by scanning its line, so the client costs far less per call than any server it drives.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the command line asks for.
struct Options {
    calls: u64,
    inflight: u64,
    cold: usize,
    lists: usize,
    tool: String,
    arguments: String,
    command: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        calls: 20_000,
        inflight: 64,
        cold: 20,
        lists: 200,
        tool: "greet".into(),
        arguments: r#"{"name":"load"}"#.into(),
        command: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            options.command = args.collect();
            break;
        }
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{arg}: {e}"));
        match arg.as_str() {
            "--calls" => options.calls = number()?,
            "--inflight" => options.inflight = number()?.max(1),
            "--cold" => options.cold = number()? as usize,
            "--lists" => options.lists = number()? as usize,
            "--tool" => options.tool = value,
            "--arguments" => options.arguments = value,
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    if options.command.is_empty() {
        return Err("usage: mcp-load [options] -- COMMAND [ARGS...]".into());
    }
    Ok(options)
}

/// A running server, initialized.
struct Session {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp-load","version":"0.1.0"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

impl Session {
    /// Spawns the server and initializes it; also returns the time to the `initialize` answer.
    fn start(command: &[String]) -> io::Result<(Session, Duration)> {
        let started = Instant::now();
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("no pipes"));
        };
        let mut session = Session {
            child,
            input: BufWriter::with_capacity(1 << 16, input),
            output: BufReader::with_capacity(1 << 16, output),
        };
        session.send(INITIALIZE)?;
        session.answer(0)?;
        let cold = started.elapsed();
        session.send(INITIALIZED)?;
        Ok((session, cold))
    }

    fn send(&mut self, line: &str) -> io::Result<()> {
        self.input.write_all(line.as_bytes())?;
        self.input.write_all(b"\n")?;
        self.input.flush()
    }

    /// Reads lines until the answer to `id`.
    fn answer(&mut self, id: u64) -> io::Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.output.read_line(&mut line)? == 0 {
                return Err(io::Error::other(format!(
                    "the server closed before answering {id}"
                )));
            }
            if id_of(line.as_bytes()) == Some(id) {
                return Ok(line);
            }
        }
    }

    /// Closes stdin and waits for the server to exit.
    fn finish(mut self) -> io::Result<()> {
        drop(self.input);
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("server exited with {status}")))
        }
    }
}

/// The `id` of a JSON-RPC answer line: the first `"id":` key followed by a number.
fn id_of(line: &[u8]) -> Option<u64> {
    let key = b"\"id\":";
    let at = line.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = line[at..]
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| b.is_ascii_digit());
    let mut id = None;
    for digit in digits {
        id = Some(id.unwrap_or(0u64) * 10 + u64::from(digit - b'0'));
    }
    id
}

/// What the reader saw of a burst.
struct Burst {
    elapsed: Duration,
    latencies: Vec<u64>,
    errors: u64,
}

/// Counters the writer and the reader share.
struct Shared {
    answered: AtomicU64,
    writer_waits: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    sent_at: Vec<AtomicU64>,
}

/// `calls` pipelined `tools/call`s, ids 1..=calls, at most `inflight` unanswered.
fn burst(session: &mut Session, options: &Options) -> io::Result<Burst> {
    let shared = Arc::new(Shared {
        answered: AtomicU64::new(0),
        writer_waits: AtomicBool::new(false),
        lock: Mutex::new(()),
        wake: Condvar::new(),
        sent_at: (0..options.calls).map(|_| AtomicU64::new(0)).collect(),
    });
    let epoch = Instant::now();
    let calls = options.calls;
    let reader = {
        let shared = Arc::clone(&shared);
        let output = &mut session.output;
        move || read_answers(output, &shared, epoch, calls)
    };
    std::thread::scope(|scope| {
        let reading = scope.spawn(reader);
        let written = write_calls(&mut session.input, &shared, epoch, options);
        let burst = reading
            .join()
            .map_err(|_| io::Error::other("the reader panicked"))??;
        written?;
        Ok(burst)
    })
}

fn write_calls(
    input: &mut BufWriter<ChildStdin>,
    shared: &Shared,
    epoch: Instant,
    options: &Options,
) -> io::Result<()> {
    let prefix = r#"{"jsonrpc":"2.0","id":"#;
    let suffix = format!(
        r#","method":"tools/call","params":{{"name":"{}","arguments":{}}}}}"#,
        options.tool, options.arguments
    );
    for id in 1..=options.calls {
        if id - 1 - shared.answered.load(Ordering::Acquire) >= options.inflight {
            input.flush()?;
            let mut guard = shared
                .lock
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?;
            shared.writer_waits.store(true, Ordering::SeqCst);
            while id - 1 - shared.answered.load(Ordering::SeqCst) >= options.inflight {
                guard = shared
                    .wake
                    .wait(guard)
                    .map_err(|_| io::Error::other("poisoned"))?;
            }
            shared.writer_waits.store(false, Ordering::SeqCst);
        }
        shared.sent_at[(id - 1) as usize]
            .store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
        writeln!(input, "{prefix}{id}{suffix}")?;
    }
    input.flush()
}

fn read_answers(
    output: &mut BufReader<ChildStdout>,
    shared: &Shared,
    epoch: Instant,
    calls: u64,
) -> io::Result<Burst> {
    let mut latencies = Vec::with_capacity(calls as usize);
    let mut errors = 0;
    let mut line = Vec::with_capacity(4096);
    while (latencies.len() as u64) < calls {
        line.clear();
        if output.read_until(b'\n', &mut line)? == 0 {
            return Err(io::Error::other(format!(
                "the server closed after {} of {calls} answers",
                latencies.len()
            )));
        }
        let Some(id) = id_of(&line).filter(|id| (1..=calls).contains(id)) else {
            continue;
        };
        let now = epoch.elapsed().as_nanos() as u64;
        latencies
            .push(now.saturating_sub(shared.sent_at[(id - 1) as usize].load(Ordering::Relaxed)));
        if line.windows(8).any(|w| w == b"\"error\":")
            || line.windows(15).any(|w| w == b"\"isError\":true")
        {
            errors += 1;
        }
        shared.answered.fetch_add(1, Ordering::SeqCst);
        if shared.writer_waits.load(Ordering::SeqCst) {
            let _guard = shared
                .lock
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?;
            shared.wake.notify_one();
        }
    }
    Ok(Burst {
        elapsed: epoch.elapsed(),
        latencies,
        errors,
    })
}

/// Peak resident set of a process, in KiB, from /proc.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(nanos: u64) -> String {
    format!("{:.1}", nanos as f64 / 1000.0)
}

fn run(options: &Options) -> io::Result<()> {
    let mut colds = Vec::with_capacity(options.cold);
    for _ in 0..options.cold {
        let (session, cold) = Session::start(&options.command)?;
        colds.push(cold.as_nanos() as u64);
        session.finish()?;
    }
    colds.sort_unstable();
    let (mut session, _) = Session::start(&options.command)?;
    let burst = burst(&mut session, options)?;
    let mut latencies = burst.latencies;
    latencies.sort_unstable();
    let mut lists = Vec::with_capacity(options.lists);
    for n in 0..options.lists as u64 {
        let id = options.calls + 1 + n;
        let started = Instant::now();
        session.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#
        ))?;
        session.answer(id)?;
        lists.push(started.elapsed().as_nanos() as u64);
    }
    lists.sort_unstable();
    let rss = peak_rss_kib(session.child.id()).unwrap_or(0);
    session.finish()?;
    let per_second = options.calls as f64 / burst.elapsed.as_secs_f64();
    println!("calls {}", options.calls);
    println!("inflight {}", options.inflight);
    println!("calls_per_s {per_second:.0}");
    println!("p50_us {}", micros(percentile(&latencies, 0.50)));
    println!("p99_us {}", micros(percentile(&latencies, 0.99)));
    println!("errors {}", burst.errors);
    println!("peak_rss_mib {:.1}", rss as f64 / 1024.0);
    println!("cold_start_ms {:.2}", percentile(&colds, 0.5) as f64 / 1e6);
    println!("tools_list_us {}", micros(percentile(&lists, 0.5)));
    Ok(())
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("mcp-load: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp-load: {error}");
            ExitCode::FAILURE
        }
    }
}
