//! The bulkhead's slots and queue, on tokio's paused clock.

use std::time::Duration;

use crate::generated::resilience::{Bulkhead, FOREVER, UNBOUNDED};
use crate::generated::runtime::ToolError;

#[tokio::test(start_paused = true)]
async fn at_most_max_in_flight_and_no_queue_rejects_at_once() {
    let bulkhead = Bulkhead::<2, 0, 100>::default();
    let (Ok(first), Ok(_second)) = (bulkhead.enter().await, bulkhead.enter().await) else {
        panic!("a free slot was refused")
    };
    assert_eq!(bulkhead.in_flight(), 2);
    let start = tokio::time::Instant::now();
    assert_eq!(
        bulkhead.enter().await.err(),
        Some(ToolError::BulkheadFull { waited_ms: None })
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    drop(first);
    assert_eq!(bulkhead.in_flight(), 1);
    assert!(bulkhead.enter().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gets_the_freed_slot() {
    let bulkhead = Bulkhead::<1, 1, 500>::default();
    let Ok(held) = bulkhead.enter().await else {
        panic!("a free slot was refused")
    };
    let release = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(bulkhead.queued(), 1);
        drop(held);
    };
    let start = tokio::time::Instant::now();
    let (waited, ()) = tokio::join!(bulkhead.enter(), release);
    assert!(waited.is_ok(), "{waited:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    assert_eq!(bulkhead.queued(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gives_up_and_one_over_the_queue_is_rejected() {
    let bulkhead = Bulkhead::<1, 1, 100>::default();
    let Ok(_held) = bulkhead.enter().await else {
        panic!("a free slot was refused")
    };
    let overflow = async {
        tokio::task::yield_now().await;
        bulkhead.enter().await.err()
    };
    let (waited, rejected) = tokio::join!(bulkhead.enter(), overflow);
    assert_eq!(
        waited.err(),
        Some(ToolError::BulkheadFull {
            waited_ms: Some(100)
        })
    );
    assert_eq!(rejected, Some(ToolError::BulkheadFull { waited_ms: None }));
    assert_eq!(bulkhead.queued(), 0, "both counted out");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_leaves_the_queue() {
    let bulkhead = Bulkhead::<1, UNBOUNDED, FOREVER>::default();
    let Ok(held) = bulkhead.enter().await else {
        panic!("a free slot was refused")
    };
    let gave_up = tokio::time::timeout(Duration::from_secs(3_600), bulkhead.enter()).await;
    assert!(gave_up.is_err(), "waits forever while the slot is held");
    assert_eq!(bulkhead.queued(), 0);
    drop(held);
    assert!(bulkhead.enter().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_newcomer_does_not_pass_a_waiting_caller() {
    let bulkhead = Bulkhead::<1, 1, FOREVER>::default();
    let Ok(held) = bulkhead.enter().await else {
        panic!("a free slot was refused")
    };
    let newcomer = async {
        tokio::task::yield_now().await;
        drop(held);
        // The slot is free, but a caller waits for it and the queue is full.
        bulkhead.enter().await.err()
    };
    let (waiter, newcomer) = tokio::join!(bulkhead.enter(), newcomer);
    assert!(waiter.is_ok(), "{waiter:?}");
    assert_eq!(newcomer, Some(ToolError::BulkheadFull { waited_ms: None }));
}
