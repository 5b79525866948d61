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

fn status_error(status: u16, retry_after: Option<u64>) -> ToolError {
    ToolError::Status {
        status,
        retry_after,
        body: String::new(),
    }
}

#[test]
fn the_default_retryable_sets() {
    use crate::generated::resilience::{transient, transient_or_500};
    for retried in [429, 502, 503, 504] {
        assert!(transient(&status_error(retried, None)), "{retried}");
    }
    assert!(!transient(&status_error(500, None)));
    assert!(transient_or_500(&status_error(500, None)));
    assert!(!transient_or_500(&status_error(404, None)));
    assert!(transient(&ToolError::Connection("reset".into())));
    assert!(!transient(&ToolError::Handler("bug".into())));
}

#[tokio::test(start_paused = true)]
async fn the_retry_layer_records_each_failure_and_honours_retry_after() {
    use crate::generated::resilience::{Retry, transient};
    use crate::generated::stats::Stats;
    const LAYER: Retry = Retry {
        backoff_ms: &[100, 200],
        max_delay_ms: 5_000,
        jitter: false,
        retry_after: true,
        retryable: transient,
    };
    let stats = Stats::default();
    let start = tokio::time::Instant::now();
    let mut times = Vec::new();
    let outcome = LAYER
        .run(stats.of(0, "t"), || {
            times.push(start.elapsed());
            let n = times.len();
            async move {
                match n {
                    1 => Err(status_error(503, Some(2))),
                    2 => Err(ToolError::Connection("reset".into())),
                    _ => Ok(serde_json::Value::Bool(true)),
                }
            }
        })
        .await;
    assert_eq!(outcome, Ok(serde_json::Value::Bool(true)));
    let expected = [0, 2_000, 2_200].map(Duration::from_millis);
    assert_eq!(
        times, expected,
        "Retry-After 2 s, then the schedule's 200 ms"
    );
    let tool = stats.tool(0);
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let recorded: u64 = tool.errors.iter().map(load).sum();
    assert_eq!(
        (load(&tool.retries), recorded),
        (2, 2),
        "two retries, two failed attempts recorded"
    );
    let refused = LAYER
        .run(stats.of(1, "u"), || async {
            Err::<serde_json::Value, _>(status_error(404, None))
        })
        .await;
    assert_eq!(
        refused,
        Err(status_error(404, None)),
        "not retryable: one attempt"
    );
    assert_eq!(load(&stats.tool(1).retries), 0);
}

#[tokio::test]
async fn the_fallback_layer_tries_in_order_and_passes_answers_through() {
    use crate::generated::resilience::Fallbacks;
    use crate::generated::stats::Stats;
    const CHAIN: Fallbacks = Fallbacks {
        labels: &["first", "second"],
        count_primary: true,
    };
    let stats = Stats::default();
    let outcome = CHAIN
        .run(
            stats.of(0, "t"),
            ToolError::Connection("down".into()),
            |index, _| async move {
                if index == 0 {
                    Err(ToolError::Handler("no".into()))
                } else {
                    Ok(serde_json::Value::from(index))
                }
            },
        )
        .await;
    let answer = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.value, serde_json::Value::from(1));
    assert_eq!(
        answer.degraded.map(|d| d.fallback),
        Some("second".to_owned())
    );
    let not_found = status_error(404, None);
    let passed = CHAIN
        .run(stats.of(1, "u"), not_found.clone(), |_, _| async {
            Ok(serde_json::Value::Null)
        })
        .await;
    assert_eq!(passed, Err(not_found), "a 404 is an answer, not a failure");
}
