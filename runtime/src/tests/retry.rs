//! Retry, jitter and `Retry-After`, on tokio's paused clock.

use std::time::Duration;

use crate::generated::resilience::{jittered, retry, retry_after};
use crate::generated::runtime::ToolError;

#[test]
fn jitter_stays_within_a_quarter_and_under_the_cap() {
    let draws: Vec<Duration> = (0..200).map(|_| jittered(100, 10_000)).collect();
    for draw in &draws {
        assert!(
            (Duration::from_millis(75)..=Duration::from_millis(125)).contains(draw),
            "{draw:?}"
        );
    }
    assert!(
        draws.iter().any(|d| *d != draws[0]),
        "200 identical draws: no jitter"
    );
    for _ in 0..200 {
        assert!(jittered(100, 110) <= Duration::from_millis(110));
        assert!(jittered(1_000, 100) <= Duration::from_millis(100));
    }
}

#[test]
fn retry_after_is_capped() {
    assert_eq!(retry_after(1, 5_000), Duration::from_secs(1));
    assert_eq!(retry_after(30, 2_000), Duration::from_secs(2));
    assert_eq!(retry_after(u64::MAX, 2_000), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn one_attempt_per_delay_then_the_last_error() {
    let start = tokio::time::Instant::now();
    let mut attempts = 0;
    let outcome: Result<(), _> = retry(&[100, 200], 10_000, ToolError::is_failure, || {
        attempts += 1;
        let attempt = attempts;
        async move { Err(ToolError::Connection(format!("reset {attempt}"))) }
    })
    .await;
    assert_eq!(outcome, Err(ToolError::Connection("reset 3".into())));
    assert_eq!(attempts, 3);
    let waited = start.elapsed();
    assert!(
        (Duration::from_millis(225)..=Duration::from_millis(375)).contains(&waited),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_error_that_is_not_retryable_ends_at_once() {
    let start = tokio::time::Instant::now();
    let mut attempts = 0;
    let outcome: Result<(), _> = retry(&[100, 200], 10_000, ToolError::is_failure, || {
        attempts += 1;
        async { Err(ToolError::InvalidArguments("bad".into())) }
    })
    .await;
    assert_eq!(outcome, Err(ToolError::InvalidArguments("bad".into())));
    assert_eq!(attempts, 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_success_ends_the_retries() {
    let mut attempts = 0;
    let outcome = retry(&[10, 10, 10], 10_000, ToolError::is_failure, || {
        attempts += 1;
        let attempt = attempts;
        async move {
            if attempt < 2 {
                Err(ToolError::Timeout(Duration::ZERO))
            } else {
                Ok(attempt)
            }
        }
    })
    .await;
    assert_eq!(outcome, Ok(2));
    assert_eq!(attempts, 2);
}
