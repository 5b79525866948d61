//! A panic in a handler as an error of its request: the server answers it (and gives back what
//! the request holds, such as a stdio permit) instead of leaving the client waiting forever,
//! which is what rmcp does with a handler task that panicked.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

/// The handler panicked; the panic's message went to the log through the panic hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

/// Awaits `future`, turning a panic in any of its polls into [`Panicked`].
///
/// ```
/// use pforge_runtime::generated::runtime::{Panicked, caught};
/// # let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else { return };
/// # runtime.block_on(async {
/// assert_eq!(caught(async { 7 }).await, Ok(7));
/// assert_eq!(caught(async { panic!("boom") }).await, Err::<(), _>(Panicked));
/// # });
/// ```
pub async fn caught<T>(future: impl Future<Output = T>) -> Result<T, Panicked> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        // Unwind safety: a future that panicked is dropped right after, never polled again.
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    })
    .await
}
