//! The circuit breaker's transitions, on tokio's paused clock.

use std::time::Duration;

use crate::generated::resilience::{BreakerState, CircuitBreaker};
use crate::generated::runtime::ToolError;

/// Opens after 3 failures in a row, for 1 s; 2 probes.
type Breaker = CircuitBreaker<3, 1_000, 2>;

fn fail(breaker: &Breaker) {
    match breaker.admit("t") {
        Ok(probe) => probe.failure(),
        Err(error) => panic!("rejected: {error}"),
    }
}

fn succeed(breaker: &Breaker) {
    match breaker.admit("t") {
        Ok(probe) => probe.success(),
        Err(error) => panic!("rejected: {error}"),
    }
}

fn open(breaker: &Breaker) {
    for _ in 0..3 {
        fail(breaker);
    }
    assert_eq!(breaker.get_state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn consecutive_failures_open_it_and_a_success_resets_the_count() {
    let breaker = Breaker::default();
    fail(&breaker);
    fail(&breaker);
    assert_eq!(breaker.get_stats().consecutive_failures, 2);
    succeed(&breaker);
    assert_eq!(breaker.get_stats().consecutive_failures, 0);
    fail(&breaker);
    fail(&breaker);
    assert_eq!(breaker.get_state(), BreakerState::Closed);
    fail(&breaker);
    let stats = breaker.get_stats();
    assert_eq!(stats.state, BreakerState::Open);
    assert_eq!(stats.opened, 1);
    assert_eq!(BreakerState::Open.as_str(), "open");
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_rejects_until_its_time_is_up() {
    let breaker = Breaker::default();
    open(&breaker);
    tokio::time::advance(Duration::from_millis(400)).await;
    match breaker.admit("t") {
        Err(ToolError::CircuitOpen { retry_in_ms }) => assert_eq!(retry_in_ms, 600),
        other => panic!("{other:?}"),
    }
    tokio::time::advance(Duration::from_millis(600)).await;
    let probe = breaker.admit("t");
    assert_eq!(breaker.get_state(), BreakerState::HalfOpen);
    assert_eq!(breaker.get_stats().probes, 1);
    drop(probe);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_at_most_the_probes_and_closes_on_their_success() {
    let breaker = Breaker::default();
    open(&breaker);
    tokio::time::advance(Duration::from_millis(1_000)).await;
    let (Ok(first), Ok(second)) = (breaker.admit("t"), breaker.admit("t")) else {
        panic!("the probes were rejected")
    };
    assert_eq!(
        breaker.admit("t").err(),
        Some(ToolError::CircuitOpen { retry_in_ms: 0 })
    );
    first.success();
    assert_eq!(breaker.get_stats().probe_successes, 1);
    assert_eq!(breaker.get_state(), BreakerState::HalfOpen);
    second.success();
    assert_eq!(breaker.get_state(), BreakerState::Closed);
    assert_eq!(breaker.get_stats().opened, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_it_again() {
    let breaker = Breaker::default();
    open(&breaker);
    tokio::time::advance(Duration::from_millis(1_000)).await;
    fail(&breaker);
    assert_eq!(breaker.get_state(), BreakerState::Open);
    assert_eq!(breaker.get_stats().opened, 2);
    assert!(matches!(
        breaker.admit("t"),
        Err(ToolError::CircuitOpen { retry_in_ms: 1_000 })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_place_back() {
    let breaker = Breaker::default();
    open(&breaker);
    tokio::time::advance(Duration::from_millis(1_000)).await;
    let (Ok(first), Ok(second)) = (breaker.admit("t"), breaker.admit("t")) else {
        panic!("the probes were rejected")
    };
    drop(first);
    assert_eq!(breaker.get_stats().probes, 1);
    let Ok(third) = breaker.admit("t") else {
        panic!("the place was not given back")
    };
    second.success();
    third.success();
    assert_eq!(breaker.get_state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_call_admitted_before_a_transition_does_not_count_after_it() {
    let breaker = Breaker::default();
    let Ok(late) = breaker.admit("t") else {
        panic!("closed breaker rejected")
    };
    open(&breaker);
    tokio::time::advance(Duration::from_millis(1_000)).await;
    let probe = breaker.admit("t");
    late.failure();
    assert_eq!(
        breaker.get_state(),
        BreakerState::HalfOpen,
        "a stale failure"
    );
    drop(probe);
}

#[tokio::test(start_paused = true)]
async fn outcomes_settle_by_what_they_say_about_the_operation() {
    let breaker = Breaker::default();
    let not_found = Err::<(), _>(ToolError::Status {
        status: 404,
        retry_after: None,
        body: String::new(),
    });
    let unavailable = Err::<(), _>(ToolError::Status {
        status: 503,
        retry_after: None,
        body: String::new(),
    });
    let settle = |outcome: &Result<(), ToolError>| match breaker.admit("t") {
        Ok(probe) => probe.settle(outcome),
        Err(error) => panic!("rejected: {error}"),
    };
    settle(&unavailable);
    settle(&Err(ToolError::Cancelled));
    assert_eq!(breaker.get_stats().consecutive_failures, 1, "cancelled");
    settle(&not_found);
    assert_eq!(
        breaker.get_stats().consecutive_failures,
        0,
        "404 is a success"
    );
    settle(&unavailable);
    settle(&unavailable);
    settle(&unavailable);
    assert_eq!(breaker.get_state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn by_hand_every_err_is_a_failure() {
    let breaker = Breaker::default();
    for _ in 0..3 {
        let outcome = breaker.call("t", async { Err::<(), _>("down") }).await;
        assert_eq!(outcome, Ok(Err("down")));
    }
    let rejected = breaker.call("t", async { Ok::<_, ()>(1) }).await;
    assert_eq!(rejected, Err(ToolError::CircuitOpen { retry_in_ms: 1_000 }));
}
