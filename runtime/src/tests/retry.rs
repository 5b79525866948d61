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

/// The chapter's "Custom Retry Logic": 503s and timeouts only, `base * 2^attempt` apart.
struct ChapterPolicy {
    max_attempts: usize,
    base: Duration,
}

impl crate::generated::resilience::RetryPolicy for ChapterPolicy {
    fn should_retry(&self, attempt: usize, error: &ToolError) -> bool {
        match error {
            ToolError::Timeout(_) => attempt < self.max_attempts,
            ToolError::Status { status: 503, .. } => true,
            _ => false,
        }
    }

    fn delay(&self, attempt: usize) -> Duration {
        self.base * 2_u32.pow(attempt as u32)
    }
}

const CHAPTER: ChapterPolicy = ChapterPolicy {
    max_attempts: 3,
    base: Duration::from_millis(100),
};

/// Runs `layer` with `policy` over `outcomes` (one per attempt, the last repeated); returns
/// the result, when each attempt started, and the stats of tool 0.
async fn drive<P: crate::generated::resilience::RetryPolicy>(
    layer: crate::generated::resilience::PolicyRetry,
    policy: &P,
    outcomes: &[Result<serde_json::Value, ToolError>],
) -> (
    Result<serde_json::Value, ToolError>,
    Vec<Duration>,
    crate::generated::stats::Stats,
) {
    let stats = crate::generated::stats::Stats::default();
    let start = tokio::time::Instant::now();
    let mut times = Vec::new();
    let outcome = layer
        .run(policy, stats.of(0, "t"), || {
            times.push(start.elapsed());
            let index = (times.len() - 1).min(outcomes.len() - 1);
            let outcome = outcomes[index].clone();
            async move { outcome }
        })
        .await;
    (outcome, times, stats)
}

const LAYER: crate::generated::resilience::PolicyRetry =
    crate::generated::resilience::PolicyRetry {
        max_attempts: 100,
        max_delay_ms: 5_000,
        retry_after: true,
    };

#[tokio::test(start_paused = true)]
async fn a_policy_decides_what_is_retried_and_how_long_each_wait_is() {
    let timeout = ToolError::Timeout(Duration::from_secs(1));
    let (outcome, times, stats) = drive(LAYER, &CHAPTER, &[Err(timeout.clone())]).await;
    assert_eq!(outcome, Err(timeout), "the policy's own limit: 3 attempts");
    // Waits of base * 2^attempt: 200 ms after attempt 1, 400 ms after attempt 2.
    assert_eq!(times, [0, 200, 600].map(Duration::from_millis));
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(load(&stats.tool(0).retries), 2);

    let reset = ToolError::Connection("reset".into());
    let (outcome, times, _) = drive(LAYER, &CHAPTER, &[Err(reset.clone())]).await;
    assert_eq!(
        (outcome, times.len()),
        (Err(reset), 1),
        "the policy does not retry connection errors"
    );

    let unavailable = status_error(503, None);
    let answered = Ok(serde_json::Value::Bool(true));
    let (outcome, times, _) = drive(
        LAYER,
        &CHAPTER,
        &[Err(unavailable.clone()), Err(unavailable), answered.clone()],
    )
    .await;
    assert_eq!(outcome, answered);
    assert_eq!(times, [0, 200, 600].map(Duration::from_millis));
}

#[tokio::test(start_paused = true)]
async fn max_attempts_and_max_delay_bound_a_policy() {
    let layer = crate::generated::resilience::PolicyRetry {
        max_attempts: 4,
        max_delay_ms: 300,
        retry_after: false,
    };
    // The chapter's policy retries 503s forever, each wait twice the last.
    let (outcome, times, _) = drive(layer, &CHAPTER, &[Err(status_error(503, Some(60)))]).await;
    assert_eq!(outcome, Err(status_error(503, Some(60))));
    // 200 ms, then 400 and 800 ms capped at 300; Retry-After is not honoured here.
    assert_eq!(times, [0, 200, 500, 800].map(Duration::from_millis));
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_the_policys_wait_up_to_max_delay() {
    let (_, times, _) = drive(
        LAYER,
        &CHAPTER,
        &[
            Err(status_error(503, Some(2))),
            Err(status_error(503, Some(3600))),
            Ok(serde_json::Value::Null),
        ],
    )
    .await;
    assert_eq!(times, [0, 2_000, 7_000].map(Duration::from_millis));
}

/// Panics when asked: the layer must settle these errors without it.
struct NeverAsked;

impl crate::generated::resilience::RetryPolicy for NeverAsked {
    fn should_retry(&self, attempt: usize, error: &ToolError) -> bool {
        panic!("asked about attempt {attempt}: {error}")
    }

    fn delay(&self, attempt: usize) -> Duration {
        panic!("asked for the delay after attempt {attempt}")
    }
}

#[tokio::test(start_paused = true)]
async fn rejections_invalid_arguments_and_cancellations_never_reach_a_policy() {
    for error in [
        ToolError::CircuitOpen { retry_in_ms: 10 },
        ToolError::BulkheadFull { waited_ms: Some(1) },
        ToolError::InvalidArguments("bad".into()),
        ToolError::Cancelled,
    ] {
        let (outcome, times, _) = drive(LAYER, &NeverAsked, &[Err(error.clone())]).await;
        assert_eq!((outcome, times.len()), (Err(error), 1));
    }
    let single = crate::generated::resilience::PolicyRetry {
        max_attempts: 1,
        ..LAYER
    };
    let reset = ToolError::Connection("reset".into());
    let (outcome, _, _) = drive(single, &NeverAsked, &[Err(reset.clone())]).await;
    assert_eq!(outcome, Err(reset), "one attempt allowed: nothing to ask");
}

/// Records every error it is asked about, and retries none.
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<ToolError>>);

impl crate::generated::resilience::RetryPolicy for Recording {
    fn should_retry(&self, _attempt: usize, error: &ToolError) -> bool {
        if let Ok(mut asked) = self.0.lock() {
            asked.push(error.clone());
        }
        false
    }

    fn delay(&self, _attempt: usize) -> Duration {
        Duration::ZERO
    }
}

/// What the book (docs/src/extension-points.md) says a policy is asked about: every failure
/// but the four above, HTTP 4xx included, though the generated schedule never retries a 404.
#[tokio::test(start_paused = true)]
async fn every_other_failure_reaches_a_policy_4xx_included() {
    for error in [
        status_error(404, None),
        status_error(400, None),
        status_error(500, None),
        status_error(429, Some(1)),
        ToolError::Timeout(Duration::from_secs(1)),
        ToolError::Connection("reset".into()),
        ToolError::Exit {
            code: Some(2),
            stderr: String::new(),
        },
        ToolError::Handler("failed".into()),
    ] {
        let policy = Recording::default();
        let (outcome, times, _) = drive(LAYER, &policy, &[Err(error.clone())]).await;
        assert_eq!((outcome, times.len()), (Err(error.clone()), 1));
        let asked = policy.0.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(asked, [error], "the policy is asked");
    }
}
