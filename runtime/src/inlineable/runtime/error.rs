//! The error of a tool call, and which errors count against the tool's health.

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// The arguments do not fit the tool's parameters; never retried.
    InvalidArguments(String),
    /// The attempt took longer than its timeout.
    Timeout(std::time::Duration),
    /// Connecting failed or the connection broke.
    Connection(String),
    /// The upstream answered with a non-success HTTP status.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Seconds from a `Retry-After` header, if any.
        retry_after: Option<u64>,
        /// The start of the response body.
        body: String,
    },
    /// A command exited with a non-zero status.
    Exit {
        /// The exit code, if the command was not killed by a signal.
        code: Option<i32>,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// A native handler returned an error.
    Handler(String),
    /// The call was cancelled by the client.
    Cancelled,
    /// The tool's circuit breaker is open: the operation was not run.
    CircuitOpen {
        /// When the breaker lets a probe through, in milliseconds from now.
        retry_in_ms: u64,
    },
    /// The tool's bulkhead had no slot.
    BulkheadFull {
        /// How long the call waited, if it queued at all.
        waited_ms: Option<u64>,
    },
    /// The primary path failed and so did every fallback.
    Fallback {
        /// The primary path's failure.
        primary: Box<ToolError>,
        /// Each fallback's failure, labelled, in the order tried.
        failures: Vec<(String, ToolError)>,
    },
}

impl ToolError {
    /// Whether the call was turned away by an open breaker or a full bulkhead.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::CircuitOpen { .. } | Self::BulkheadFull { .. })
    }

    /// The error without what a caller or an upstream chose: its kind, status or exit code,
    /// never an argument value, a body, stderr or a handler's own words. What the figures
    /// that every caller may read keep.
    pub fn summary(&self) -> String {
        match self {
            Self::InvalidArguments(_) => "invalid arguments".to_owned(),
            Self::Status { status, .. } => format!("HTTP {status}"),
            Self::Exit {
                code: Some(code), ..
            } => format!("exited with status {code}"),
            Self::Exit { code: None, .. } => "killed by a signal".to_owned(),
            Self::Handler(_) => "the operation failed".to_owned(),
            Self::Fallback { primary, failures } => {
                let mut summary = format!("{}; every fallback failed", primary.summary());
                for (label, failure) in failures {
                    summary.push_str(&format!("; {label}: {}", failure.summary()));
                }
                summary
            }
            // The client's own words about the connection, without the URL (`request_error`).
            Self::Connection(_)
            | Self::Timeout(_)
            | Self::Cancelled
            | Self::CircuitOpen { .. }
            | Self::BulkheadFull { .. } => self.to_string(),
        }
    }

    /// Whether the error counts against the operation's health: a timeout, a connection
    /// error, HTTP 5xx or 429, a non-zero exit or a handler error. Invalid arguments,
    /// other HTTP 4xx, rejections and cancellations do not.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Connection(_) | Self::Exit { .. } | Self::Handler(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Fallback { primary, .. } => primary.is_failure(),
            Self::InvalidArguments(_)
            | Self::Cancelled
            | Self::CircuitOpen { .. }
            | Self::BulkheadFull { .. } => false,
        }
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidArguments(message) => write!(f, "invalid arguments: {message}"),
            Self::Timeout(after) => write!(f, "timed out after {} ms", after.as_millis()),
            Self::Connection(message) => write!(f, "connection error: {message}"),
            Self::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            Self::Exit {
                code: Some(code),
                stderr,
            } => write!(f, "exited with status {code}: {stderr}"),
            Self::Exit { code: None, stderr } => write!(f, "killed by a signal: {stderr}"),
            Self::Handler(message) => write!(f, "{message}"),
            Self::Cancelled => write!(f, "cancelled"),
            Self::CircuitOpen { retry_in_ms } => write!(
                f,
                "circuit open: the tool keeps failing, so it was not called (next probe in {retry_in_ms} ms)"
            ),
            Self::BulkheadFull { waited_ms: None } => {
                write!(f, "bulkhead full: too many calls of this tool in flight")
            }
            Self::BulkheadFull {
                waited_ms: Some(waited),
            } => write!(f, "bulkhead full: no slot freed within {waited} ms"),
            Self::Fallback { primary, failures } => {
                write!(f, "{primary}; every fallback failed")?;
                for (label, failure) in failures {
                    write!(f, "; {label}: {failure}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ToolError {}
