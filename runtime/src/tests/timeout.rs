//! The timeout of one attempt, on tokio's paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::generated::resilience::with_timeout;
use crate::generated::runtime::ToolError;

/// Sets its flag when dropped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_late_operation_is_dropped_at_the_limit() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Dropped(dropped.clone());
    let start = tokio::time::Instant::now();
    let outcome = with_timeout(Duration::from_millis(100), async move {
        let _guard = guard;
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    })
    .await;
    assert_eq!(outcome, Err(ToolError::Timeout(Duration::from_millis(100))));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn an_operation_in_time_keeps_its_outcome() {
    let limit = Duration::from_millis(100);
    let just_in_time = with_timeout(limit, async {
        tokio::time::sleep(Duration::from_millis(99)).await;
        Ok("done")
    })
    .await;
    assert_eq!(just_in_time, Ok("done"));
    let failed = with_timeout(limit, async {
        tokio::task::yield_now().await;
        Err::<(), _>(ToolError::Handler("no".into()))
    })
    .await;
    assert_eq!(failed, Err(ToolError::Handler("no".into())));
    assert_eq!(with_timeout(limit, async { Ok(1) }).await, Ok(1));
}
