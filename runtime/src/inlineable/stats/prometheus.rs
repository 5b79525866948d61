//! The figures of `pforge://stats` in the Prometheus text format (version 0.0.4), for an http
//! server's `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{LATENCY_BOUNDS_US, Stats, TOOLS, ToolStats};

/// What a tool's guards show now, beside its counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    /// The breaker's state (`closed`, `open`, `half_open`), when the tool has a breaker.
    pub breaker: Option<&'static str>,
    /// Attempts inside the bulkhead, callers waiting for it, and its size, when the tool has
    /// a bulkhead.
    pub bulkhead: Option<(u32, u32, u32)>,
}

/// One counter family: its name, help text and the counter of a tool it reads.
type Counter = (&'static str, &'static str, fn(&ToolStats) -> &AtomicU64);

const COUNTERS: [Counter; 7] = [
    (
        "pforge_tool_calls_total",
        "Tool calls, pipeline steps included.",
        |t| &t.calls,
    ),
    (
        "pforge_tool_successes_total",
        "Calls that answered, by a fallback included.",
        |t| &t.successes,
    ),
    (
        "pforge_tool_failures_total",
        "Calls that ended in an error.",
        |t| &t.failures,
    ),
    (
        "pforge_tool_retries_total",
        "Attempts after the first.",
        |t| &t.retries,
    ),
    (
        "pforge_tool_rejections_total",
        "Attempts an open breaker or a full bulkhead turned away.",
        |t| &t.rejections,
    ),
    (
        "pforge_tool_fallbacks_total",
        "Answers a fallback gave.",
        |t| &t.fallbacks,
    ),
    (
        "pforge_tool_timeouts_total",
        "Attempts that timed out.",
        |t| &t.timeouts,
    ),
];

const BREAKER_STATES: [&str; 3] = ["closed", "open", "half_open"];

impl Stats {
    /// The figures of the tools whose index `visible` accepts, as Prometheus text: `names`
    /// and `gauges` are in `tools/list` order.
    pub fn prometheus(
        &self,
        names: &[&str; TOOLS],
        gauges: &[Gauges; TOOLS],
        visible: impl Fn(usize) -> bool,
    ) -> String {
        let mut out = String::with_capacity(512 + TOOLS * 2048);
        let shown: [bool; TOOLS] = std::array::from_fn(visible);
        let tools = || {
            names
                .iter()
                .enumerate()
                .filter(|(i, _)| shown[*i])
                .map(|(i, name)| (i, self.tool(i), escape(name)))
        };
        for (name, help, counter) in COUNTERS {
            header(&mut out, name, "counter", help);
            for (_, stats, tool) in tools() {
                let _ = writeln!(out, "{name}{{tool=\"{tool}\"}} {}", load(counter(stats)));
            }
        }
        let name = "pforge_tool_errors_total";
        header(
            &mut out,
            name,
            "counter",
            "Failed attempts and fallbacks, by error class.",
        );
        let table = self.error_table();
        for (index, _, tool) in tools() {
            for (class, counts) in &table {
                let count = counts.get(index).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "{name}{{tool=\"{tool}\",class=\"{}\"}} {count}",
                    escape(class)
                );
            }
        }
        self.histogram(&mut out, names, &shown);
        gauge_rows(&mut out, names, gauges, &shown);
        out
    }

    fn histogram(&self, out: &mut String, names: &[&str; TOOLS], shown: &[bool; TOOLS]) {
        let name = "pforge_tool_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "How long calls took, argument checks and fallbacks included.",
        );
        for (index, tool) in names.iter().enumerate().filter(|(i, _)| shown[*i]) {
            let stats = self.tool(index);
            let tool = escape(tool);
            let mut seen = 0;
            for (bucket, bound) in LATENCY_BOUNDS_US.iter().enumerate() {
                seen += load(&stats.latency[bucket]);
                let le = *bound as f64 / 1e6;
                let _ = writeln!(out, "{name}_bucket{{tool=\"{tool}\",le=\"{le}\"}} {seen}");
            }
            seen += load(&stats.latency[LATENCY_BOUNDS_US.len()]);
            let sum = load(&stats.latency_sum_us) as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{tool=\"{tool}\",le=\"+Inf\"}} {seen}");
            let _ = writeln!(out, "{name}_sum{{tool=\"{tool}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{tool=\"{tool}\"}} {seen}");
        }
    }
}

/// The breaker and bulkhead gauges, for the tools that have them.
fn gauge_rows(
    out: &mut String,
    names: &[&str; TOOLS],
    gauges: &[Gauges; TOOLS],
    shown: &[bool; TOOLS],
) {
    let tools = || {
        names
            .iter()
            .zip(gauges)
            .zip(shown)
            .filter(|(_, shown)| **shown)
            .map(|((name, g), _)| (escape(name), g))
    };
    if gauges.iter().any(|g| g.breaker.is_some()) {
        let name = "pforge_breaker_state";
        header(
            out,
            name,
            "gauge",
            "1 for the state each tool's circuit breaker is in.",
        );
        for (tool, state) in tools().filter_map(|(t, g)| g.breaker.map(|s| (t, s))) {
            for candidate in BREAKER_STATES {
                let on = u8::from(candidate == state);
                let _ = writeln!(out, "{name}{{tool=\"{tool}\",state=\"{candidate}\"}} {on}");
            }
        }
    }
    if gauges.iter().any(|g| g.bulkhead.is_some()) {
        let rows = [
            (
                "pforge_bulkhead_in_use",
                "Attempts inside each tool's bulkhead.",
            ),
            (
                "pforge_bulkhead_queued",
                "Callers waiting for a slot of each tool's bulkhead.",
            ),
            ("pforge_bulkhead_capacity", "Slots of each tool's bulkhead."),
        ];
        for (row, (name, help)) in rows.into_iter().enumerate() {
            header(out, name, "gauge", help);
            for (tool, (in_use, queued, size)) in
                tools().filter_map(|(t, g)| g.bulkhead.map(|b| (t, b)))
            {
                let value = [in_use, queued, size][row];
                let _ = writeln!(out, "{name}{{tool=\"{tool}\"}} {value}");
            }
        }
    }
}

/// The `# HELP` and `# TYPE` lines of a family.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// A label value with `\`, `"` and line feeds escaped, as the text format asks.
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        value.into()
    }
}
