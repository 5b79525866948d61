//! Every tool's counters and the ring buffer of recent errors, sized by the plan's `TOOLS`
//! and `MAX_ERRORS` in the module root. Counters are atomics; only the error path takes a
//! lock: the ring buffer's, and with a user's classifier its table of class names.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::{
    CLASSIFY, ERROR_TRACKING, ErrorClass, KEEP_MESSAGES, MAX_ERRORS, OTHER_CLASS, TOOLS,
    USER_CLASSES, UserClasses,
};
use crate::generated::runtime::ToolError;

/// The counters of one tool.
#[derive(Debug, Default)]
pub struct ToolStats {
    /// `tools/call`s, pipeline steps included.
    pub calls: AtomicU64,
    /// Calls that answered, by a fallback included.
    pub successes: AtomicU64,
    /// Calls that ended in an error.
    pub failures: AtomicU64,
    /// Attempts an open breaker or a full bulkhead turned away.
    pub rejections: AtomicU64,
    /// Attempts after the first.
    pub retries: AtomicU64,
    /// Answers a fallback gave.
    pub fallbacks: AtomicU64,
    /// Attempts that timed out.
    pub timeouts: AtomicU64,
    /// Errors by class, in [`ErrorClass::ALL`] order.
    pub errors: [AtomicU64; 10],
    /// Errors by the user's classes, in [`UserClasses`] slot order (none without a
    /// classifier).
    pub user_errors: [AtomicU64; USER_CLASSES],
    /// Calls by duration: `latency[i]` counts those within [`LATENCY_BOUNDS_US`]`[i]` but
    /// not the bound before; the last counts the rest.
    pub latency: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    /// Microseconds all calls took together.
    pub latency_sum_us: AtomicU64,
}

/// Upper bounds of the latency histogram's buckets, in microseconds: 1 ms to 30 s, spaced
/// as Prometheus clients space theirs.
pub const LATENCY_BOUNDS_US: [u64; 13] = [
    1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000, 30_000_000,
];

#[derive(Debug)]
struct Recorded {
    index: usize,
    tool: &'static str,
    class: std::borrow::Cow<'static, str>,
    message: String,
    at_ms: u64,
}

/// Every tool's counters and the recent errors of the server.
#[derive(Debug)]
pub struct Stats {
    tools: [ToolStats; TOOLS],
    recent: std::sync::Mutex<std::collections::VecDeque<Recorded>>,
    classes: UserClasses,
}

impl Default for Stats {
    fn default() -> Self {
        Self::classified_by(CLASSIFY)
    }
}

/// Where the figures read one error class: a built-in class's counter, or a user class's.
#[derive(Debug, Clone, Copy)]
enum Column {
    Builtin(ErrorClass),
    User(usize),
}

/// One tool's handle on the server's figures, which the shared policy layers record into.
#[derive(Debug, Clone, Copy)]
pub struct Recorder<'a> {
    stats: &'a Stats,
    index: usize,
    name: &'static str,
}

impl Recorder<'_> {
    /// The tool's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// An attempt or a fallback failed with `error`.
    pub fn failed(&self, error: &ToolError) {
        self.stats.failed(self.index, self.name, error);
    }

    /// The tool is about to try again.
    pub fn retried(&self) {
        self.stats.retried(self.index);
    }

    /// A fallback answered.
    pub fn degraded(&self) {
        self.stats.degraded(self.index);
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    /// Figures whose error classes `classify` names (`None`: the built-in classes).
    pub fn classified_by(classify: Option<fn(&ToolError) -> String>) -> Self {
        Self {
            tools: std::array::from_fn(|_| ToolStats::default()),
            recent: std::sync::Mutex::new(std::collections::VecDeque::new()),
            classes: UserClasses::new(classify, USER_CLASSES),
        }
    }

    /// The error classes the figures list, each with where its count is: every built-in
    /// class, or the user's classes seen so far and `other`.
    fn columns(&self) -> Vec<(std::borrow::Cow<'static, str>, Column)> {
        if !self.classes.active() {
            return ErrorClass::ALL
                .iter()
                .map(|class| (class.as_str().into(), Column::Builtin(*class)))
                .collect();
        }
        let mut columns: Vec<_> = self
            .classes
            .names()
            .into_iter()
            .enumerate()
            .map(|(slot, name)| (String::from(name).into(), Column::User(slot)))
            .collect();
        columns.push((OTHER_CLASS.into(), Column::User(self.classes.other_slot())));
        columns
    }

    /// Each error class the figures list, with every tool's count of it, in tool order.
    pub fn error_table(&self) -> Vec<(std::borrow::Cow<'static, str>, Vec<u64>)> {
        self.columns()
            .into_iter()
            .map(|(name, column)| (name, self.tools.iter().map(|t| count(t, column)).collect()))
            .collect()
    }

    /// What the tool at `index`, named `name`, records into from its policy layers.
    pub fn of(&self, index: usize, name: &'static str) -> Recorder<'_> {
        Recorder {
            stats: self,
            index,
            name,
        }
    }

    /// The counters of the tool at `index`.
    pub fn tool(&self, index: usize) -> &ToolStats {
        &self.tools[index]
    }

    /// A call of the tool at `index` starts; the instant is what [`Stats::took`] measures from.
    pub fn called(&self, index: usize) -> std::time::Instant {
        bump(&self.tools[index].calls);
        std::time::Instant::now()
    }

    /// A call of the tool at `index` took `elapsed`, argument checks and fallbacks included.
    pub fn took(&self, index: usize, elapsed: std::time::Duration) {
        let stats = &self.tools[index];
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BOUNDS_US.partition_point(|bound| *bound < us);
        bump(&stats.latency[bucket]);
        stats.latency_sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// A call ended. `attempts_tracked` says whether the tool already recorded its
    /// failed attempts, in which case only an argument error is recorded here.
    pub fn finished<T>(
        &self,
        index: usize,
        tool: &'static str,
        outcome: &Result<T, ToolError>,
        attempts_tracked: bool,
    ) {
        match outcome {
            Ok(_) => bump(&self.tools[index].successes),
            Err(error) => {
                bump(&self.tools[index].failures);
                if !attempts_tracked || matches!(error, ToolError::InvalidArguments(_)) {
                    self.failed(index, tool, error);
                }
            }
        }
    }

    /// An attempt or a fallback of the tool at `index` failed with `error`.
    pub fn failed(&self, index: usize, tool: &'static str, error: &ToolError) {
        let stats = &self.tools[index];
        // The built-in class also drives the timeout and rejection counts, whoever names
        // the classes the figures show.
        let class = ErrorClass::of(error);
        bump(&stats.errors[class as usize]);
        match class {
            ErrorClass::Timeout => bump(&stats.timeouts),
            ErrorClass::CircuitOpen | ErrorClass::BulkheadFull => bump(&stats.rejections),
            _ => {}
        }
        let name: std::borrow::Cow<'static, str> = match self.classes.of(error) {
            Some((slot, name)) => {
                if let Some(counter) = stats.user_errors.get(slot) {
                    bump(counter);
                }
                String::from(name).into()
            }
            None => class.as_str().into(),
        };
        // `MAX_ERRORS > 0` would be a comparison clippy calls absurd when it is 0.
        if ERROR_TRACKING {
            let at_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            let mut recent = self
                .recent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if recent.len() == MAX_ERRORS {
                recent.pop_front();
            }
            // A message can carry what callers sent (a validation error quotes the value)
            // and what upstreams answered; unless kept on purpose, only its kind stays.
            let message = if KEEP_MESSAGES {
                error.to_string()
            } else {
                error.summary()
            };
            recent.push_back(Recorded {
                index,
                tool,
                class: name,
                message,
                at_ms,
            });
        }
    }

    /// The tool at `index` is about to try again.
    pub fn retried(&self, index: usize) {
        bump(&self.tools[index].retries);
    }

    /// A fallback of the tool at `index` answered.
    pub fn degraded(&self, index: usize) {
        bump(&self.tools[index].fallbacks);
    }

    /// The figures of one tool, with its breaker's state if it has one.
    pub fn tool_json(&self, index: usize, breaker: Option<&'static str>) -> Value {
        let stats = &self.tools[index];
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let errors: serde_json::Map<String, Value> = self
            .columns()
            .into_iter()
            .map(|(name, column)| (name.into_owned(), json!(count(stats, column))))
            .collect();
        json!({
            "breaker": breaker,
            "calls": get(&stats.calls),
            "successes": get(&stats.successes),
            "failures": get(&stats.failures),
            "rejections": get(&stats.rejections),
            "retries": get(&stats.retries),
            "fallbacks": get(&stats.fallbacks),
            "timeouts": get(&stats.timeouts),
            "errors": errors,
        })
    }

    /// The whole `pforge://stats` document, from each tool's figures by name, for a caller
    /// who may see the tools whose index `visible` accepts: the totals and the recent errors
    /// are theirs alone.
    pub fn to_json(
        &self,
        tools: serde_json::Map<String, Value>,
        visible: impl Fn(usize) -> bool,
    ) -> Value {
        let totals: serde_json::Map<String, Value> = self
            .columns()
            .into_iter()
            .map(|(name, column)| {
                let total: u64 = self
                    .tools
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| visible(*index))
                    .map(|(_, t)| count(t, column))
                    .sum();
                (name.into_owned(), json!(total))
            })
            .collect();
        let recent: Vec<Value> = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|r| visible(r.index))
            .map(|r| {
                json!({ "tool": r.tool, "class": r.class, "message": r.message, "at_ms": r.at_ms })
            })
            .collect();
        json!({
            "tools": tools,
            "errors": totals,
            "error_tracking": { "enabled": ERROR_TRACKING, "max_errors": MAX_ERRORS },
            "recent_errors": recent,
        })
    }
}

/// A tool's count of one error class.
fn count(stats: &ToolStats, column: Column) -> u64 {
    let counter = match column {
        Column::Builtin(class) => stats.errors.get(class as usize),
        Column::User(slot) => stats.user_errors.get(slot),
    };
    counter.map_or(0, |c| c.load(Ordering::Relaxed))
}
