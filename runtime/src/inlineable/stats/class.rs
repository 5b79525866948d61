//! The classes of failure error tracking counts.

use crate::generated::runtime::ToolError;

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// An attempt took longer than its timeout.
    Timeout,
    /// Connecting failed or the connection broke.
    Connection,
    /// HTTP 429.
    RateLimit,
    /// HTTP 503.
    ServiceUnavailable,
    /// Any other HTTP 5xx.
    ServerError,
    /// Rejected by an open circuit breaker.
    CircuitOpen,
    /// Rejected by a full bulkhead.
    BulkheadFull,
    /// Invalid arguments, or an HTTP 4xx other than 429.
    Validation,
    /// A native handler failed or a command exited non-zero.
    HandlerError,
    /// Anything else.
    Unknown,
}

impl ErrorClass {
    /// Every class, in the order the stats list them.
    pub const ALL: [Self; 10] = [
        Self::Timeout,
        Self::Connection,
        Self::RateLimit,
        Self::ServiceUnavailable,
        Self::ServerError,
        Self::CircuitOpen,
        Self::BulkheadFull,
        Self::Validation,
        Self::HandlerError,
        Self::Unknown,
    ];

    /// The class's name in the stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::RateLimit => "rate_limit",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ServerError => "server_error",
            Self::CircuitOpen => "circuit_open",
            Self::BulkheadFull => "bulkhead_full",
            Self::Validation => "validation",
            Self::HandlerError => "handler_error",
            Self::Unknown => "unknown",
        }
    }

    /// The class of an error; a failed fallback chain counts as its primary failure.
    pub fn of(error: &ToolError) -> Self {
        match error {
            ToolError::Timeout(_) => Self::Timeout,
            ToolError::Connection(_) => Self::Connection,
            ToolError::Status { status: 429, .. } => Self::RateLimit,
            ToolError::Status { status: 503, .. } => Self::ServiceUnavailable,
            ToolError::Status {
                status: 500..=599, ..
            } => Self::ServerError,
            ToolError::Status {
                status: 400..=499, ..
            }
            | ToolError::InvalidArguments(_) => Self::Validation,
            ToolError::CircuitOpen { .. } => Self::CircuitOpen,
            ToolError::BulkheadFull { .. } => Self::BulkheadFull,
            ToolError::Handler(_) | ToolError::Exit { .. } => Self::HandlerError,
            ToolError::Fallback { primary, .. } => Self::of(primary),
            ToolError::Status { .. } | ToolError::Cancelled => Self::Unknown,
        }
    }
}

/// The class of errors beyond the most a classifier may name. Reserved: a classifier that
/// returns it has its error counted with that overflow, and takes no counter of its own.
pub const OTHER_CLASS: &str = "other";

/// The longest class name kept, in bytes; a longer one is cut at a character boundary.
pub const MAX_CLASS_NAME: usize = 64;

/// The classes a user's classifier (`error_tracking.classify_by: handlers::...`) gives errors,
/// each with a counter slot: the names it returns, in the order first seen, up to one fewer
/// than the slots; the last slot counts every further name as [`OTHER_CLASS`].
#[derive(Debug)]
pub struct UserClasses {
    classify: Option<fn(&ToolError) -> String>,
    slots: usize,
    names: std::sync::Mutex<Vec<Box<str>>>,
}

impl UserClasses {
    /// Classes by `classify` in `slots` counters; none when either is missing.
    pub fn new(classify: Option<fn(&ToolError) -> String>, slots: usize) -> Self {
        Self {
            classify,
            slots,
            names: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Whether a classifier names the classes.
    pub fn active(&self) -> bool {
        self.classify.is_some() && self.slots > 0
    }

    /// The class the classifier gives `error`, and its counter slot ([`OTHER_CLASS`]'s when
    /// the other slots are taken).
    pub fn of(&self, error: &ToolError) -> Option<(usize, Box<str>)> {
        let classify = self.classify.filter(|_| self.slots > 0)?;
        let name = tidy(classify(error));
        let other = self.slots - 1;
        if &*name == OTHER_CLASS {
            return Some((other, name));
        }
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = names.iter().position(|known| *known == name) {
            return Some((slot, name));
        }
        if names.len() < other {
            names.push(name.clone());
            return Some((names.len() - 1, name));
        }
        // Counted as `other`; the recent errors still show the name.
        Some((other, name))
    }

    /// The names seen so far, by slot.
    pub fn names(&self) -> Vec<Box<str>> {
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The slot of [`OTHER_CLASS`].
    pub fn other_slot(&self) -> usize {
        self.slots.saturating_sub(1)
    }
}

/// `name` trimmed and cut to [`MAX_CLASS_NAME`] bytes; `unknown` when nothing is left.
fn tidy(name: String) -> Box<str> {
    let name = name.trim();
    let mut end = name.len().min(MAX_CLASS_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    match &name[..end] {
        "" => ErrorClass::Unknown.as_str().into(),
        kept => kept.into(),
    }
}
