//! Retry by hand, and the jitter and `Retry-After` waits the generated retry layers use.

use crate::generated::runtime::ToolError;

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
