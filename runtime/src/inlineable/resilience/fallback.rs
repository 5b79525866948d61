//! The fallback layer of the generated tools: a chain tried in order once the primary path
//! has failed.

use serde_json::Value;

use crate::generated::runtime::{Answer, Degraded, ToolError};
use crate::generated::stats::Recorder;

/// A tool's fallback chain, as its module declares it from forge.yaml.
#[derive(Debug, Clone, Copy)]
pub struct Fallbacks {
    /// The fallbacks' labels (`value`, `native handlers::…`, `http GET …`), in the order
    /// they are tried: logs, errors and the answer's `_meta` name them so.
    pub labels: &'static [&'static str],
    /// Whether the primary failure is recorded here: only when no retry layer recorded it.
    pub count_primary: bool,
}

impl Fallbacks {
    /// Answers with the first fallback that succeeds after the primary path failed with
    /// `error` (retries exhausted, breaker open, bulkhead full, timeout), its answer marked as
    /// degraded. An answer such as HTTP 404 or invalid arguments is not a failure and passes
    /// through; when every fallback fails, the error names each failure.
    pub async fn run<F, Fut>(
        &self,
        stats: Recorder<'_>,
        error: ToolError,
        mut fallback: F,
    ) -> Result<Answer, ToolError>
    where
        F: FnMut(usize, ToolError) -> Fut,
        Fut: std::future::Future<Output = Result<Value, ToolError>>,
    {
        if self.count_primary {
            stats.failed(&error);
        }
        if !(error.is_failure() || error.is_rejection()) {
            return Err(error);
        }
        let mut failures = Vec::new();
        for (index, label) in self.labels.iter().enumerate() {
            match fallback(index, error.clone()).await {
                Ok(value) => {
                    tracing::warn!(
                        tool = stats.name(),
                        fallback = label,
                        "answered by a fallback (degraded); the tool failed: {error}"
                    );
                    stats.degraded();
                    let degraded = Degraded {
                        fallback: (*label).to_owned(),
                        error: error.to_string(),
                    };
                    return Ok(Answer {
                        value,
                        degraded: Some(degraded),
                    });
                }
                Err(failure) => {
                    tracing::warn!(
                        tool = stats.name(),
                        fallback = label,
                        "fallback failed: {failure}"
                    );
                    stats.failed(&failure);
                    failures.push(((*label).to_owned(), failure));
                }
            }
        }
        Err(ToolError::Fallback {
            primary: Box::new(error),
            failures,
        })
    }
}
