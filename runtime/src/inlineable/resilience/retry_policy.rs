//! Retries decided by a type of yours ([`RetryPolicy`]) instead of forge.yaml's schedule,
//! and the retry layer that asks it ([`PolicyRetry`]).

use std::time::Duration;

use serde_json::Value;

use super::retry_after;
use crate::generated::runtime::ToolError;
use crate::generated::stats::Recorder;

/// Your decisions for the tools whose forge.yaml says `retry: {policy: handlers::YourType}`:
/// which failed attempts are tried again, and how long to wait first. Each such tool keeps
/// one instance, made with `Default` (the type need not implement `Debug`); the generated
/// code calls it directly (no `dyn`).
///
/// The tool's `max_attempts` (100 unless written) and `max_delay` still bound what it says:
/// after the attempt that reaches `max_attempts` it is not asked. It is asked about every
/// other failed attempt except invalid arguments, a cancelled call, or a call turned away by
/// the tool's breaker or bulkhead (those are never retried). That includes every HTTP
/// status, 4xx too (a 404, which the generated schedule never retries), a command's non-zero
/// exit and a native handler's error: match on what you mean to retry.
pub trait RetryPolicy: Send + Sync {
    /// Whether to try again after attempt number `attempt` (1 for the first) failed with
    /// `error`.
    fn should_retry(&self, attempt: usize, error: &ToolError) -> bool;

    /// How long to wait after attempt number `attempt` failed, before the next one. A 429
    /// or 503 from an http tool that carries `Retry-After` waits what it asks instead.
    fn delay(&self, attempt: usize) -> Duration;
}

/// A tool's retry layer when a [`RetryPolicy`] decides, as its module declares it.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRetry {
    /// No call makes more attempts, whatever the policy says.
    pub max_attempts: u32,
    /// No wait is longer, `Retry-After` included.
    pub max_delay_ms: u64,
    /// Whether a 429 or 503 with a `Retry-After` of some seconds waits that long.
    pub retry_after: bool,
}

impl PolicyRetry {
    /// Runs `operation` once, then again after each of `policy`'s waits while it says so;
    /// every failed attempt and every retry is recorded in `stats`.
    pub async fn run<P, F, Fut>(
        &self,
        policy: &P,
        stats: Recorder<'_>,
        mut operation: F,
    ) -> Result<Value, ToolError>
    where
        P: RetryPolicy,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Value, ToolError>>,
    {
        let mut attempt: usize = 0;
        loop {
            let error = match operation().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            attempt += 1;
            stats.failed(&error);
            if attempt >= self.max_attempts as usize
                || !offered(&error)
                || !policy.should_retry(attempt, &error)
            {
                return Err(error);
            }
            let wait = self.wait(policy, attempt, &error);
            tracing::debug!(
                tool = stats.name(),
                attempt,
                wait_ms = wait.as_millis(),
                "retrying after: {error}"
            );
            tokio::time::sleep(wait).await;
            stats.retried();
        }
    }

    /// The wait after failed attempt `attempt`: a `Retry-After`'s, else the policy's, capped.
    fn wait<P: RetryPolicy>(&self, policy: &P, attempt: usize, error: &ToolError) -> Duration {
        match error {
            ToolError::Status {
                status: 429 | 503,
                retry_after: Some(seconds),
                ..
            } if self.retry_after => retry_after(*seconds, self.max_delay_ms),
            _ => policy
                .delay(attempt)
                .min(Duration::from_millis(self.max_delay_ms)),
        }
    }
}

/// Whether a policy is asked about `error` at all: invalid arguments, cancellations and
/// rejections by the breaker or the bulkhead are never retried; everything else is offered,
/// HTTP 4xx included.
fn offered(error: &ToolError) -> bool {
    !error.is_rejection()
        && !matches!(
            error,
            ToolError::InvalidArguments(_) | ToolError::Cancelled | ToolError::Fallback { .. }
        )
}
