//! The cases of a retry a user's policy decides: the tests cannot know its decisions, so
//! they drive the tool's layer with policies of their own and check what the layer adds: the
//! attempt cap, the wait cap, the attempt numbers, what is never offered, cancellation and
//! `Retry-After`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::RetryPlan;

/// Every case of a retry decided by a user's policy, with the helpers they share.
pub fn cases(retry: &RetryPlan) -> TokenStream {
    let helpers = helpers();
    let bounded = bounded_case();
    let asked = asked_case();
    // With one attempt allowed the cap ends every call before the policy could be asked.
    let never_offered = (retry.max_attempts > 1).then(never_offered_case);
    let cancelled = (retry.max_attempts > 1 && retry.max_delay_ms >= 2).then(cancelled_case);
    // With `max_delay: 0ms` every wait is nothing, and the expected wait a constant.
    let retry_after = (retry.retry_after && retry.max_attempts > 1 && retry.max_delay_ms > 0)
        .then(retry_after_case);
    quote! {
        #helpers
        #bounded
        #asked
        #never_offered
        #cancelled
        #retry_after
    }
}

/// `retried`, and the policies `Always` and `Recording` the cases drive it with.
fn helpers() -> TokenStream {
    quote! {
        /// The tool's retry layer, as `invoke` runs it, with `policy` deciding.
        async fn retried<P, F, Fut>(server: &Server, policy: &P, operation: F) -> Result<Value, ToolError>
        where
            P: resilience::RetryPolicy,
            F: FnMut() -> Fut,
            Fut: ::std::future::Future<Output = Result<Value, ToolError>>,
        {
            RETRY.run(policy, server.stats().of(INDEX, NAME), operation).await
        }

        /// Retries everything, waiting as long as there is: only the layer's caps stop it.
        struct Always;

        impl resilience::RetryPolicy for Always {
            fn should_retry(&self, _attempt: usize, _error: &ToolError) -> bool {
                true
            }

            fn delay(&self, _attempt: usize) -> ::std::time::Duration {
                ::std::time::Duration::MAX
            }
        }

        /// Records the attempt numbers it is asked about, and retries up to the third.
        #[derive(Default)]
        struct Recording(::std::sync::Mutex<Vec<usize>>);

        impl resilience::RetryPolicy for Recording {
            fn should_retry(&self, attempt: usize, _error: &ToolError) -> bool {
                self.0.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(attempt);
                attempt < 3
            }

            fn delay(&self, _attempt: usize) -> ::std::time::Duration {
                ::std::time::Duration::ZERO
            }
        }
    }
}

fn bounded_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn the_policy_is_bounded_by_max_attempts_and_max_delay() {
            let server = Server::new();
            let times = ::std::sync::Mutex::new(Vec::new());
            let outcome = retried(&server, &Always, || {
                times.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(::tokio::time::Instant::now());
                async { Err(ToolError::Connection("injected".to_owned())) }
            })
            .await;
            assert_eq!(outcome, Err(ToolError::Connection("injected".to_owned())));
            let times = times.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
            assert_eq!(times.len(), ATTEMPT_CAP as usize);
            for pair in times.windows(2) {
                assert_eq!(pair[1] - pair[0], ::std::time::Duration::from_millis(MAX_DELAY_MS));
            }
        }
    }
}

fn asked_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn the_policy_is_asked_with_each_attempt_number() {
            let server = Server::new();
            let policy = Recording::default();
            let attempts = ::std::sync::atomic::AtomicU32::new(0);
            let _ = retried(&server, &policy, || {
                attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                async { Err(ToolError::Handler("injected".to_owned())) }
            })
            .await;
            let made = attempts.load(::std::sync::atomic::Ordering::SeqCst);
            assert_eq!(made, ATTEMPT_CAP.min(3));
            let asked = policy.0.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
            let expected: Vec<usize> = (1..=made as usize).take_while(|n| *n < ATTEMPT_CAP as usize).collect();
            assert_eq!(asked, expected);
        }
    }
}

fn never_offered_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn rejections_invalid_arguments_and_cancellations_are_never_offered() {
            let server = Server::new();
            let never = [
                ToolError::CircuitOpen { retry_in_ms: 5 },
                ToolError::BulkheadFull { waited_ms: None },
                ToolError::InvalidArguments("injected".to_owned()),
                ToolError::Cancelled,
            ];
            for error in never {
                let policy = Recording::default();
                let attempts = ::std::sync::atomic::AtomicU32::new(0);
                let outcome = retried(&server, &policy, || {
                    attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                    let error = error.clone();
                    async move { Err(error) }
                })
                .await;
                assert_eq!(outcome, Err(error));
                assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), 1);
                assert!(policy.0.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner).is_empty());
            }
        }
    }
}

fn cancelled_case() -> TokenStream {
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn a_cancelled_call_stops_retrying_at_once() {
            let server = Server::new();
            let attempts = ::std::sync::atomic::AtomicU32::new(0);
            // The client gives up halfway through the first wait: the call is dropped.
            let halfway = ::std::time::Duration::from_millis(MAX_DELAY_MS / 2);
            let outcome = ::tokio::time::timeout(halfway, retried(&server, &Always, || {
                attempts.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
                async { Err(ToolError::Connection("injected".to_owned())) }
            }))
            .await;
            assert!(outcome.is_err(), "the call was not cut short");
            ::tokio::time::advance(::std::time::Duration::from_millis(MAX_DELAY_MS.saturating_mul(u64::from(ATTEMPT_CAP)))).await;
            assert_eq!(attempts.load(::std::sync::atomic::Ordering::SeqCst), 1);
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
                let _ = retried(&server, &Always, || {
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
