//! The cases of a retry with a backoff schedule: the attempts and their exact waits, the
//! first success ending it, what is not retried, cancellation and `Retry-After`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::plan::{Failure, RetryPlan, Schedule};

/// Every case of a scheduled retry, with the `retried` helper they share.
pub fn cases(retry: &RetryPlan, schedule: &Schedule) -> TokenStream {
    let retryable = Sample::ALL.iter().copied().find(|s| retries(schedule, s));
    let refused = Sample::ALL.iter().copied().find(|s| !retries(schedule, s));
    let attempts = retryable.map(|sample| attempts_cases(schedule, sample));
    let cancelled = retryable
        .filter(|_| schedule.delays_ms.first().is_some_and(|first| *first >= 2))
        .map(cancelled_case);
    let refused = refused.map(refused_case);
    let rejections = rejections_case();
    // The test injects a 503, so it needs a policy that retries 503s at least once.
    let honours = retry.retry_after
        && retry.max_attempts > 1
        && retry.max_delay_ms > 0
        && retries(schedule, &Sample::Status(503));
    let retry_after = honours.then(retry_after_case);
    quote! {
        /// The tool's retry layer, as `invoke` runs it.
        async fn retried<F, Fut>(server: &Server, operation: F) -> Result<Value, ToolError>
        where
            F: FnMut() -> Fut,
            Fut: ::std::future::Future<Output = Result<Value, ToolError>>,
        {
            RETRY.run(server.stats().of(INDEX, NAME), operation).await
        }

        #attempts
        #cancelled
        #refused
        #rejections
        #retry_after
    }
}

/// How a wait is checked: exactly, or within the jitter's bounds.
fn wait_bounds(schedule: &Schedule) -> TokenStream {
    if !schedule.jitter {
        return quote!(assert_eq!(gap, scheduled, "wait {n}"););
    }
    quote! {
        let low = scheduled.mul_f64(0.75);
        let high = scheduled.mul_f64(1.25).min(::std::time::Duration::from_millis(MAX_DELAY_MS));
        // tokio's timer rounds a deadline up to the next millisecond.
        let slack = ::std::time::Duration::from_millis(1);
        assert!(gap >= low && gap <= high + slack, "wait {n}: {gap:?} is not within {low:?}..={high:?}");
    }
}

/// The attempts a retryable failure gets, at their waits, and the first success ending them.
fn attempts_cases(schedule: &Schedule, sample: Sample) -> TokenStream {
    let error = sample.tokens();
    let bounds = wait_bounds(schedule);
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn retry_makes_max_attempts_at_the_emitted_delays() {
            let server = Server::new();
            let times = ::std::sync::Mutex::new(Vec::new());
            let outcome = retried(&server, || {
                times.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(::tokio::time::Instant::now());
                async { Err(#error) }
            })
            .await;
            assert_eq!(outcome, Err(#error));
            let times = times.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
            assert_eq!(times.len(), MAX_ATTEMPTS as usize);
            for (n, pair) in times.windows(2).enumerate() {
                let gap = pair[1] - pair[0];
                let scheduled = ::std::time::Duration::from_millis(BACKOFF_MS[n]);
                #bounds
            }
        }

        #[::tokio::test(start_paused = true)]
        async fn retry_stops_at_the_first_success() {
            let server = Server::new();
            let attempts = ::std::sync::atomic::AtomicU32::new(0);
            let outcome = retried(&server, || {
                let n = attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                async move { if n == 0 { Err(#error) } else { Ok(Value::Bool(true)) } }
            })
            .await;
            let expected = if MAX_ATTEMPTS > 1 { Ok(Value::Bool(true)) } else { Err(#error) };
            assert_eq!(outcome, expected);
            assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), MAX_ATTEMPTS.min(2));
        }
    }
}

fn cancelled_case(sample: Sample) -> TokenStream {
    let error = sample.tokens();
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn a_cancelled_call_stops_retrying_at_once() {
            let server = Server::new();
            let attempts = ::std::sync::atomic::AtomicU32::new(0);
            // The client gives up halfway through the first wait: the call is dropped.
            let halfway = ::std::time::Duration::from_millis(BACKOFF_MS[0] / 2);
            let outcome = ::tokio::time::timeout(halfway, retried(&server, || {
                attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                async { Err(#error) }
            }))
            .await;
            assert!(outcome.is_err(), "the call was not cut short");
            ::tokio::time::advance(::std::time::Duration::from_millis(MAX_DELAY_MS.saturating_mul(u64::from(MAX_ATTEMPTS)))).await;
            assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), 1);
        }
    }
}

fn refused_case(sample: Sample) -> TokenStream {
    let error = sample.tokens();
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn a_failure_that_is_not_retryable_is_not_retried() {
            let server = Server::new();
            let attempts = ::std::sync::atomic::AtomicU32::new(0);
            let outcome = retried(&server, || {
                attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                async { Err(#error) }
            })
            .await;
            assert_eq!(outcome, Err(#error));
            assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), 1);
        }
    }
}

fn rejections_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn rejections_are_not_retried() {
            let server = Server::new();
            for rejection in [ToolError::CircuitOpen { retry_in_ms: 5 }, ToolError::BulkheadFull { waited_ms: None }] {
                let attempts = ::std::sync::atomic::AtomicU32::new(0);
                let outcome = retried(&server, || {
                    attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                    let rejection = rejection.clone();
                    async move { Err(rejection) }
                })
                .await;
                assert_eq!(outcome, Err(rejection));
                assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), 1);
            }
        }
    }
}

fn retry_after_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn retry_after_is_honoured_and_capped_at_max_delay() {
            let server = Server::new();
            for seconds in [1_u64, 3600] {
                let times = ::std::sync::Mutex::new(Vec::new());
                let _ = retried(&server, || {
                    times.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(::tokio::time::Instant::now());
                    async move { Err(ToolError::Status { status: 503, retry_after: Some(seconds), body: String::new() }) }
                })
                .await;
                let times = times.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
                let expected = ::std::time::Duration::from_millis((seconds * 1000).min(MAX_DELAY_MS));
                assert_eq!(times[1] - times[0], expected, "Retry-After: {seconds}");
            }
        }
    }
}

/// Whether a retry policy retries an error of this shape, for the generated tests' choice of
/// samples.
fn retries(schedule: &Schedule, sample: &Sample) -> bool {
    let on = &schedule.retry_on;
    match sample {
        Sample::Timeout => on.retries(Failure::Timeout),
        Sample::Connection => on.retries(Failure::Connection),
        Sample::Handler => on.retries(Failure::Handler),
        Sample::Status(code) => on.retries_status(*code),
    }
}

/// An error the generated tests inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sample {
    /// `ToolError::Timeout`.
    Timeout,
    /// `ToolError::Connection`.
    Connection,
    /// `ToolError::Handler`.
    Handler,
    /// `ToolError::Status`.
    Status(u16),
}

impl Sample {
    /// Candidates, most typical first.
    const ALL: [Self; 9] = [
        Self::Connection,
        Self::Timeout,
        Self::Status(503),
        Self::Status(429),
        Self::Status(502),
        Self::Status(500),
        Self::Handler,
        Self::Status(404),
        Self::Status(400),
    ];

    /// The error as an expression.
    fn tokens(self) -> TokenStream {
        match self {
            Self::Timeout => quote!(ToolError::Timeout(::std::time::Duration::from_millis(1))),
            Self::Connection => quote!(ToolError::Connection("injected".to_owned())),
            Self::Handler => quote!(ToolError::Handler("injected".to_owned())),
            Self::Status(code) => {
                let code = Literal::u16_unsuffixed(code);
                quote!(ToolError::Status { status: #code, retry_after: None, body: "injected".to_owned() })
            }
        }
    }
}
