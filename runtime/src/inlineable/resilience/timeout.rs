//! The timeout of one attempt.

use crate::generated::runtime::ToolError;

/// Runs `operation` for at most `limit`; a late operation is dropped (an HTTP request
/// aborted, a command's process group killed) and the call fails with a timeout.
///
/// The timer is armed when the operation first waits: nothing could interrupt the work it
/// does before that anyway, and an operation that finishes without waiting (a cache hit, a
/// quick handler) pays for no timer at all.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread()
/// #     .enable_time()
/// #     .build()
/// #     .map_err(|e| e.to_string())?
/// #     .block_on(async {
/// use std::time::Duration;
/// use pforge_runtime::generated::{resilience, runtime::ToolError};
///
/// let slow = async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     Ok::<_, ToolError>("late")
/// };
/// let outcome = resilience::with_timeout(Duration::from_millis(10), slow).await;
/// assert_eq!(outcome, Err(ToolError::Timeout(Duration::from_millis(10))));
/// # Ok::<(), String>(())
/// # })?; Ok::<(), String>(())
/// ```
pub async fn with_timeout<T>(
    limit: std::time::Duration,
    operation: impl std::future::Future<Output = Result<T, ToolError>>,
) -> Result<T, ToolError> {
    use std::future::Future;
    use std::task::Poll;
    let mut operation = std::pin::pin!(operation);
    let timer: Option<tokio::time::Sleep> = None;
    let mut timer = std::pin::pin!(timer);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(outcome) = operation.as_mut().poll(cx) {
            return Poll::Ready(outcome);
        }
        if timer.is_none() {
            timer.set(Some(tokio::time::sleep(limit)));
        }
        match timer.as_mut().as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(ToolError::Timeout(limit))),
            _ => Poll::Pending,
        }
    })
    .await
}
