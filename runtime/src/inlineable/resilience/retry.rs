//! The retry layer of the generated tools ([`Retry`]), its jittered and `Retry-After`
//! waits, and retry by hand for handlers.

use serde_json::Value;

use crate::generated::runtime::ToolError;
use crate::generated::stats::Recorder;

/// The failures the chapter calls transient: timeouts, connection errors, HTTP 429, 502,
/// 503 and 504. What a retry retries by default, unless the tool's request is idempotent.
pub fn transient(error: &ToolError) -> bool {
    match error {
        ToolError::Timeout(_) | ToolError::Connection(_) => true,
        ToolError::Status { status, .. } => *status == 429 || (502..=504).contains(status),
        _ => false,
    }
}

/// [`transient`] failures and HTTP 500: what a retry retries by default when the tool's
/// request is idempotent (an http tool's GET, PUT or DELETE).
pub fn transient_or_500(error: &ToolError) -> bool {
    transient(error) || matches!(error, ToolError::Status { status: 500, .. })
}

/// A tool's retry layer, as its module declares it from forge.yaml.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// The wait before each attempt after the first, in milliseconds, capped at
    /// `max_delay_ms`: one entry per retry.
    pub backoff_ms: &'static [u64],
    /// No wait is longer, jitter and `Retry-After` included.
    pub max_delay_ms: u64,
    /// Whether each wait is spread by ±25 %.
    pub jitter: bool,
    /// Whether a 429 or 503 with a `Retry-After` of some seconds waits that long instead.
    pub retry_after: bool,
    /// Which failures are tried again. A rejection by the breaker or the bulkhead never is
    /// (their errors are not in any tool's retryable set).
    pub retryable: fn(&ToolError) -> bool,
}

impl Retry {
    /// Runs `operation` once, then once more after each wait of `backoff_ms` while the
    /// failure is retryable; every failed attempt and every retry is recorded in `stats`.
    pub async fn run<F, Fut>(
        &self,
        stats: Recorder<'_>,
        mut operation: F,
    ) -> Result<Value, ToolError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Value, ToolError>>,
    {
        let mut delays = self.backoff_ms.iter();
        loop {
            let error = match operation().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            stats.failed(&error);
            let Some(&delay) = delays.next() else {
                return Err(error);
            };
            if !(self.retryable)(&error) {
                return Err(error);
            }
            let wait = self.wait(delay, &error);
            tracing::debug!(
                tool = stats.name(),
                wait_ms = wait.as_millis(),
                "retrying after: {error}"
            );
            tokio::time::sleep(wait).await;
            stats.retried();
        }
    }

    /// The wait before the next attempt, after `error`, when the schedule says `delay_ms`.
    fn wait(&self, delay_ms: u64, error: &ToolError) -> std::time::Duration {
        match error {
            ToolError::Status {
                status: 429 | 503,
                retry_after: Some(seconds),
                ..
            } if self.retry_after => retry_after(*seconds, self.max_delay_ms),
            _ if self.jitter => jittered(delay_ms, self.max_delay_ms),
            _ => std::time::Duration::from_millis(delay_ms),
        }
    }
}

/// A number in `[0, 1)` that differs from call to call. Seeded by the standard library's
/// per-process random keys, so jitter needs no extra dependency.
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    // 53 random bits make an exact f64 fraction.
    (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64
}

/// `delay_ms` spread uniformly within ±25 %, and never above `max_ms`.
pub fn jittered(delay_ms: u64, max_ms: u64) -> std::time::Duration {
    let low = delay_ms as f64 * 0.75;
    let high = (delay_ms as f64 * 1.25).min(max_ms as f64).max(low);
    let micros = (low + (high - low) * random_unit()) * 1000.0;
    std::time::Duration::from_micros(micros as u64).min(std::time::Duration::from_millis(max_ms))
}

/// The wait a `Retry-After` header asks for, capped at `max_ms`.
pub fn retry_after(seconds: u64, max_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(seconds.saturating_mul(1000).min(max_ms))
}

/// Retries `operation` by hand: one attempt, then one more after each delay of
/// `delays_ms` (jittered ±25 %, capped at `max_delay_ms`) while `retryable` says so.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread()
/// #     .enable_time()
/// #     .build()
/// #     .map_err(|e| e.to_string())?
/// #     .block_on(async {
/// use pforge_runtime::generated::{resilience, runtime::ToolError};
///
/// let mut attempts = 0;
/// let outcome = resilience::retry(&[1, 2], 10, ToolError::is_failure, || {
///     attempts += 1;
///     let failed = attempts < 3;
///     async move {
///         if failed { Err(ToolError::Connection("reset".into())) } else { Ok(attempts) }
///     }
/// })
/// .await;
/// assert_eq!(outcome, Ok(3));
/// # Ok::<(), String>(())
/// # })?; Ok::<(), String>(())
/// ```
pub async fn retry<T, F, Fut>(
    delays_ms: &[u64],
    max_delay_ms: u64,
    retryable: impl Fn(&ToolError) -> bool,
    mut operation: F,
) -> Result<T, ToolError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ToolError>>,
{
    let mut delays = delays_ms.iter();
    loop {
        let error = match operation().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        match delays.next() {
            Some(&delay) if retryable(&error) => {
                tokio::time::sleep(jittered(delay, max_delay_ms)).await
            }
            _ => return Err(error),
        }
    }
}
