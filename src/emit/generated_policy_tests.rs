//! The tests a tool module carries for its own policy: they drive the module's layer functions
//! (the ones `invoke` uses) with injected outcomes on tokio's paused clock, and check the exact
//! numbers of the tool's config.

use proc_macro2::TokenStream;
use quote::quote;

use super::policy::{Sample, attempt_timeout, retries};
use crate::plan::ToolPlan;

/// Largest queue the generated tests fill one waiter at a time.
const MAX_FILLED_QUEUE: u32 = 10_000;

/// What the tests of a tool depend on: tools with the same shape get the same tests, so
/// they are rendered once per shape.
pub fn shape(tool: &ToolPlan) -> String {
    format!(
        "{:?}",
        (
            attempt_timeout(tool).is_some(),
            &tool.policy.breaker,
            &tool.policy.retry,
            &tool.policy.bulkhead,
            tool.policy.fallback.is_empty(),
            matches!(tool.kind, crate::plan::KindPlan::Http(_)),
        )
    )
}

/// The file every tool of `shape` includes: `policy_tests/shape_<hash>.rs` under
/// `src/generated/tools/`. FNV-1a, so that the name is the same with every Rust release.
pub fn shape_file(shape: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in shape.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("policy_tests/shape_{hash:016x}.rs")
}

/// The `mod tests` of a tool module: it includes the file of the tool's policy shape, which
/// every tool of that shape shares, so that a thousand tools carry one copy of their tests.
pub fn tests_module(tool: &ToolPlan, file: &str) -> TokenStream {
    if !tool.has_policy_tests() {
        return quote!();
    }
    let allow = super::allow_inception(&tool.module, "tests");
    quote! {
        /// This tool's policy tests, with the numbers of forge.yaml: the cases of its policy
        /// shape, shared by every tool of that shape.
        #[cfg(test)]
        #allow
        mod tests {
            use super::*;

            include!(#file);
        }
    }
}

/// The test cases of a tool's policy (the body of its shape's file), or nothing for a tool
/// without a policy. They name nothing of the tool but what every tool module defines
/// (`guards`, `NAME`, the policy constants), so they depend only on [`shape`].
pub fn tests(tool: &ToolPlan) -> TokenStream {
    let mut cases = Vec::new();
    // The timeout and breaker cases drive attempts through the guards; the bulkhead's
    // drive the bulkhead itself.
    if attempt_timeout(tool).is_some() || tool.policy.breaker.is_some() {
        let operation = quote!(operation);
        let run = super::policy::guarded_attempt(tool, operation);
        let server = tool.is_guarded().then(|| quote!(server: &Server,));
        cases.push(quote! {
            /// One attempt through the tool's guards, as `invoke` runs it.
            async fn guarded(#server operation: impl ::std::future::Future<Output = Result<Value, ToolError>>) -> Result<Value, ToolError> {
                #run.await
            }
        });
    }
    if attempt_timeout(tool).is_some() {
        cases.push(timeout_case(tool));
    }
    if tool.policy.breaker.is_some() {
        cases.push(breaker_cases(tool));
    }
    if let Some(retry) = &tool.policy.retry {
        cases.push(retry_cases(retry));
    }
    if let Some(bulkhead) = &tool.policy.bulkhead {
        cases.push(bulkhead_cases(bulkhead));
    }
    if !tool.policy.fallback.is_empty() {
        cases.push(fallback_cases(tool));
    }
    let cases = quote!(#(#cases)*);
    let numbers = numbers(&cases);
    quote!(#numbers #cases)
}

/// The policy's numbers under the names the cases use, read from the tool's types and
/// constants; only those some case names, since the cases differ by shape (a queue too long to
/// fill is not tested by its length, a retry without jitter never names its cap).
fn numbers(cases: &TokenStream) -> TokenStream {
    const NUMBERS: [(&str, &str, &str); 10] = [
        ("MAX_ATTEMPTS", "u32", "RETRY.backoff_ms.len() as u32 + 1"),
        ("BACKOFF_MS", "&[u64]", "RETRY.backoff_ms"),
        ("MAX_DELAY_MS", "u64", "RETRY.max_delay_ms"),
        ("ATTEMPT_CAP", "u32", "RETRY.max_attempts"),
        ("FAILURE_THRESHOLD", "u32", "Breaker::FAILURE_THRESHOLD"),
        ("OPEN_MS", "u64", "Breaker::OPEN_MS"),
        ("SUCCESS_THRESHOLD", "u32", "Breaker::SUCCESS_THRESHOLD"),
        ("MAX_CONCURRENT", "u32", "Bulkhead::MAX_CONCURRENT"),
        ("MAX_QUEUED", "u32", "Bulkhead::MAX_QUEUED"),
        ("QUEUE_WAIT_MS", "u64", "Bulkhead::QUEUE_WAIT_MS"),
    ];
    let mut named = std::collections::HashSet::new();
    collect_idents(cases.clone(), &mut named);
    let declarations: String = NUMBERS
        .iter()
        .filter(|(name, _, _)| named.contains(*name))
        .map(|(name, ty, value)| format!("const {name}: {ty} = {value};"))
        .collect();
    declarations.parse().unwrap_or_default()
}

fn collect_idents(tokens: TokenStream, out: &mut std::collections::HashSet<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

fn guard_call(tool: &ToolPlan, operation: TokenStream) -> TokenStream {
    if tool.is_guarded() {
        quote!(guarded(&server, #operation).await)
    } else {
        quote!(guarded(#operation).await)
    }
}

fn timeout_case(tool: &ToolPlan) -> TokenStream {
    let call = guard_call(tool, quote!(::std::future::pending()));
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn an_attempt_times_out_at_timeout_ms() {
            let server = Server::new();
            let start = ::tokio::time::Instant::now();
            let outcome = #call;
            assert_eq!(outcome, Err(ToolError::Timeout(TIMEOUT)));
            assert_eq!(start.elapsed(), TIMEOUT);
            let _ = &server;
        }
    }
}

fn breaker_cases(tool: &ToolPlan) -> TokenStream {
    let fail = guard_call(
        tool,
        quote!(async { Err(ToolError::Connection("injected".to_owned())) }),
    );
    let succeed = guard_call(tool, quote!(async { Ok(Value::Null) }));
    let fail_in_open = quote!(
        guarded(server, async {
            Err(ToolError::Connection("injected".to_owned()))
        })
        .await
    );
    let counted = guard_call(
        tool,
        quote!(async {
            calls.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
            Ok(Value::Null)
        }),
    );
    let open_ms = tool.policy.breaker.map_or(0, |b| {
        u64::try_from(b.open_for.as_millis()).unwrap_or(u64::MAX)
    });
    let still_open = (open_ms > 0).then(|| {
        quote! {
            ::tokio::time::advance(::std::time::Duration::from_millis(OPEN_MS - 1)).await;
            let outcome = #succeed;
            assert!(circuit_open(&outcome), "still open 1 ms before OPEN_MS: {outcome:?}");
            ::tokio::time::advance(::std::time::Duration::from_millis(1)).await;
        }
    });
    let wait_open = if open_ms > 0 {
        still_open.unwrap_or_default()
    } else {
        quote!()
    };
    let threshold = tool.policy.breaker.map_or(1, |b| b.failure_threshold);
    let reset_case = (threshold > 1).then(|| {
        quote! {
            #[::tokio::test(start_paused = true)]
            async fn a_success_resets_the_failure_count() {
                let server = Server::new();
                for _ in 1..FAILURE_THRESHOLD {
                    let _ = #fail;
                }
                let outcome = #succeed;
                assert_eq!(outcome, Ok(Value::Null));
                let _ = #fail;
                let state = guards(&server).breaker.get_state();
                assert_eq!(state, BreakerState::Closed);
            }
        }
    });
    let race_case = (open_ms > 0).then(|| {
        quote! {
            #[test]
            fn concurrent_failures_open_the_breaker_exactly_once() {
                let server = Server::new();
                let breaker = &guards(&server).breaker;
                let start = ::std::sync::Barrier::new(4);
                ::std::thread::scope(|scope| {
                    for _ in 0..4 {
                        scope.spawn(|| {
                            start.wait();
                            for _ in 0..FAILURE_THRESHOLD {
                                if let Ok(probe) = breaker.admit(NAME) {
                                    probe.failure();
                                }
                            }
                        });
                    }
                });
                let stats = breaker.get_stats();
                assert_eq!((stats.state, stats.opened), (BreakerState::Open, 1));
            }
        }
    });
    quote! {
        use crate::generated::resilience::BreakerState;

        #race_case

        fn circuit_open<T>(outcome: &Result<T, ToolError>) -> bool {
            matches!(outcome, Err(ToolError::CircuitOpen { .. }))
        }

        async fn open(server: &Server) {
            for failure in 1..=FAILURE_THRESHOLD {
                let state = guards(server).breaker.get_state();
                assert_eq!(state, BreakerState::Closed, "closed before failure {failure}");
                let outcome = #fail_in_open;
                assert_eq!(outcome, Err(ToolError::Connection("injected".to_owned())));
            }
            let state = guards(server).breaker.get_state();
            assert_eq!(state, BreakerState::Open);
        }

        #[::tokio::test(start_paused = true)]
        async fn the_breaker_opens_at_failure_threshold_and_then_rejects_without_calling() {
            let server = Server::new();
            open(&server).await;
            let calls = ::std::sync::atomic::AtomicU32::new(0);
            let outcome = #counted;
            assert!(circuit_open(&outcome), "{outcome:?}");
            assert_eq!(calls.load(::std::sync::atomic::Ordering::SeqCst), 0, "an open breaker must not run the operation");
        }

        #reset_case

        #[::tokio::test(start_paused = true)]
        async fn the_breaker_half_opens_after_open_ms_and_closes_after_success_threshold() {
            let server = Server::new();
            open(&server).await;
            #wait_open
            for success in 1..=SUCCESS_THRESHOLD {
                let outcome = #succeed;
                assert_eq!(outcome, Ok(Value::Null));
                let expected = if success < SUCCESS_THRESHOLD { BreakerState::HalfOpen } else { BreakerState::Closed };
                let state = guards(&server).breaker.get_state();
                assert_eq!(state, expected, "after probe success {success}");
            }
        }

        #[::tokio::test(start_paused = true)]
        async fn a_failed_probe_reopens_the_breaker() {
            let server = Server::new();
            open(&server).await;
            ::tokio::time::advance(::std::time::Duration::from_millis(OPEN_MS)).await;
            let _ = #fail;
            let state = guards(&server).breaker.get_state();
            assert_eq!(state, BreakerState::Open);
            if OPEN_MS > 0 {
                let outcome = #succeed;
                assert!(circuit_open(&outcome), "{outcome:?}");
            }
        }

        #[::tokio::test(start_paused = true)]
        async fn half_open_admits_at_most_success_threshold_probes() {
            let server = Server::new();
            open(&server).await;
            ::tokio::time::advance(::std::time::Duration::from_millis(OPEN_MS)).await;
            let breaker = &guards(&server).breaker;
            let mut probes = Vec::new();
            for _ in 0..SUCCESS_THRESHOLD {
                match breaker.admit(NAME) {
                    Ok(probe) => probes.push(probe),
                    Err(error) => panic!("a probe was refused: {error}"),
                }
            }
            assert!(circuit_open(&breaker.admit(NAME)), "one probe too many");
            // A cancelled probe gives its place back.
            drop(probes.pop());
            assert!(breaker.admit(NAME).is_ok());
        }
    }
}

fn retry_cases(retry: &crate::plan::RetryPlan) -> TokenStream {
    match retry.schedule() {
        Some(schedule) => schedule_cases(retry, schedule),
        None => policy_cases(retry),
    }
}

fn schedule_cases(retry: &crate::plan::RetryPlan, schedule: &crate::plan::Schedule) -> TokenStream {
    let retryable = Sample::ALL.iter().copied().find(|s| retries(schedule, s));
    let refused = Sample::ALL.iter().copied().find(|s| !retries(schedule, s));
    let mut out = quote! {
        /// The tool's retry layer, as `invoke` runs it.
        async fn retried<F, Fut>(server: &Server, operation: F) -> Result<Value, ToolError>
        where
            F: FnMut() -> Fut,
            Fut: ::std::future::Future<Output = Result<Value, ToolError>>,
        {
            RETRY.run(server.stats().of(INDEX, NAME), operation).await
        }
    };
    let bounds = if schedule.jitter {
        quote! {
            let low = scheduled.mul_f64(0.75);
            let high = scheduled.mul_f64(1.25).min(::std::time::Duration::from_millis(MAX_DELAY_MS));
            // tokio's timer rounds a deadline up to the next millisecond.
            let slack = ::std::time::Duration::from_millis(1);
            assert!(gap >= low && gap <= high + slack, "wait {n}: {gap:?} is not within {low:?}..={high:?}");
        }
    } else {
        quote!(assert_eq!(gap, scheduled, "wait {n}");)
    };
    if let Some(sample) = retryable {
        let error = sample.tokens();
        out.extend(quote! {
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
        });
    }
    if let (Some(sample), Some(&first)) = (retryable, schedule.delays_ms.first())
        && first >= 2
    {
        let error = sample.tokens();
        out.extend(quote! {
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
        });
    }
    if let Some(sample) = refused {
        let error = sample.tokens();
        out.extend(quote! {
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
        });
    }
    out.extend(quote! {
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
    });
    // The test injects a 503, so it needs a policy that retries 503s at least once.
    let honours = retry.retry_after
        && retry.max_attempts > 1
        && retry.max_delay_ms > 0
        && retries(schedule, &Sample::Status(503));
    if honours {
        out.extend(quote! {
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
        });
    }
    out
}

/// The cases of a retry a user's policy decides: the tests cannot know its decisions, so
/// they drive the tool's layer with policies of their own and check what the layer adds: the
/// attempt cap, the wait cap, the attempt numbers, what is never offered, cancellation and
/// `Retry-After`.
fn policy_cases(retry: &crate::plan::RetryPlan) -> TokenStream {
    let mut out = quote! {
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

    };
    // With one attempt allowed the cap ends every call before the policy could be asked.
    if retry.max_attempts > 1 {
        out.extend(quote! {
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
        });
    }
    if retry.max_attempts > 1 && retry.max_delay_ms >= 2 {
        out.extend(quote! {
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
        });
    }
    // With `max_delay: 0ms` every wait is nothing, and the expected wait a constant.
    if retry.retry_after && retry.max_attempts > 1 && retry.max_delay_ms > 0 {
        out.extend(quote! {
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
        });
    }
    out
}

fn bulkhead_cases(bulkhead: &crate::plan::BulkheadPlan) -> TokenStream {
    // A bounded queue is filled and the next caller rejected; an unbounded one gets a waiter.
    let (name, queued, reject) = match bulkhead.max_queued {
        Some(queued) if queued <= MAX_FILLED_QUEUE => (
            quote!(the_bulkhead_admits_max_concurrent_queues_max_queued_and_rejects_the_next),
            quote!(MAX_QUEUED),
            quote! {
                let next = bulkhead.enter().await;
                assert_eq!(next.err(), Some(ToolError::BulkheadFull { waited_ms: None }), "one caller too many");
            },
        ),
        _ => (
            quote!(the_bulkhead_admits_max_concurrent_and_queues_the_next),
            quote!(1),
            quote!(),
        ),
    };
    let wait = match bulkhead.wait {
        Some(_) => quote! {
            // Nobody leaves: every waiter gives up after exactly QUEUE_WAIT_MS.
            let start = ::tokio::time::Instant::now();
            for waiter in waiters {
                assert_eq!(waiter.await.ok(), Some(Err(ToolError::BulkheadFull { waited_ms: Some(QUEUE_WAIT_MS) })));
            }
            if queued > 0 {
                assert_eq!(start.elapsed(), ::std::time::Duration::from_millis(QUEUE_WAIT_MS));
            }
            drop(held);
        },
        None => quote! {
            drop(held);
            for waiter in waiters {
                assert_eq!(waiter.await.ok(), Some(Ok(())));
            }
        },
    };
    let stress = quote! {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn under_contention_the_bulkhead_never_exceeds_max_concurrent_nor_loses_a_wakeup() {
            let server = Server::new();
            let active = ::std::sync::Arc::new(::std::sync::atomic::AtomicU32::new(0));
            let most = ::std::sync::Arc::new(::std::sync::atomic::AtomicU32::new(0));
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let (server, active, most) = (server.clone(), active.clone(), most.clone());
                    ::tokio::spawn(async move {
                        for _ in 0..50 {
                            let Ok(permit) = guards(&server).bulkhead.enter().await else {
                                continue;
                            };
                            let now = active.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst) + 1;
                            most.fetch_max(now, ::std::sync::atomic::Ordering::SeqCst);
                            ::tokio::task::yield_now().await;
                            active.fetch_sub(1, ::std::sync::atomic::Ordering::SeqCst);
                            drop(permit);
                        }
                    })
                })
                .collect();
            // A lost wakeup would leave a waiter asleep forever: fail instead of hanging.
            let all = async {
                for task in tasks {
                    assert!(task.await.is_ok());
                }
            };
            assert!(::tokio::time::timeout(::std::time::Duration::from_secs(60), all).await.is_ok(), "a waiter was never woken");
            assert!(most.load(::std::sync::atomic::Ordering::SeqCst) <= MAX_CONCURRENT);
            let bulkhead = &guards(&server).bulkhead;
            assert_eq!((bulkhead.in_flight(), bulkhead.queued()), (0, 0));
        }
    };
    quote! {
        #stress

        #[::tokio::test(start_paused = true)]
        async fn #name() {
            let server = Server::new();
            let bulkhead = &guards(&server).bulkhead;
            let mut held = Vec::new();
            for _ in 0..MAX_CONCURRENT {
                held.push(bulkhead.enter().await);
            }
            assert!(held.iter().all(Result::is_ok));
            assert_eq!(bulkhead.in_flight(), MAX_CONCURRENT);
            let queued: u32 = #queued;
            let waiters: Vec<_> = (0..queued)
                .map(|_| {
                    let server = server.clone();
                    ::tokio::spawn(async move { guards(&server).bulkhead.enter().await.map(drop) })
                })
                .collect();
            for _ in 0..(queued + 10) * 4 {
                if bulkhead.queued() == queued {
                    break;
                }
                ::tokio::task::yield_now().await;
            }
            assert_eq!(bulkhead.queued(), queued);
            #reject
            #wait
        }
    }
}

fn fallback_cases(tool: &ToolPlan) -> TokenStream {
    // Without a retry loop, the fallback layer is where the primary failure is recorded.
    let tracked = tool.policy.retry.is_none().then(|| {
        quote! {
            let errors = &server.stats().tool(INDEX).errors;
            let validation = errors[crate::generated::stats::ErrorClass::Validation as usize].load(::std::sync::atomic::Ordering::Relaxed);
            assert_eq!(validation, 1, "the 404 is tracked");
        }
    });
    quote! {
        /// The tool's fallback layer, as `invoke` runs it.
        async fn fall_back<F, Fut>(server: &Server, error: ToolError, fallback: F) -> Result<Answer, ToolError>
        where
            F: FnMut(usize, ToolError) -> Fut,
            Fut: ::std::future::Future<Output = Result<Value, ToolError>>,
        {
            FALLBACKS.run(server.stats().of(INDEX, NAME), error, fallback).await
        }

        #[::tokio::test]
        async fn the_fallback_chain_runs_in_order_and_marks_the_answer_degraded() {
            let server = Server::new();
            let order = ::std::sync::Mutex::new(Vec::new());
            let last = FALLBACKS.labels.len() - 1;
            let primary = ToolError::Connection("injected".to_owned());
            let outcome = fall_back(&server, primary.clone(), |index, error| {
                order.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(index);
                async move {
                    assert_eq!(error, ToolError::Connection("injected".to_owned()));
                    if index == last { Ok(Value::from("degraded")) } else { Err(ToolError::Handler(format!("fallback {index} injected"))) }
                }
            })
            .await;
            let order = order.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
            let in_order: Vec<usize> = (0..FALLBACKS.labels.len()).collect();
            assert_eq!(order, in_order);
            let degraded = runtime::Degraded { fallback: FALLBACKS.labels[last].to_owned(), error: primary.to_string() };
            let expected = Answer { value: Value::from("degraded"), degraded: Some(degraded) };
            assert_eq!(outcome, Ok(expected));
        }

        #[::tokio::test]
        async fn when_every_fallback_fails_the_error_names_each_failure() {
            let server = Server::new();
            let outcome = fall_back(&server, ToolError::Timeout(::std::time::Duration::from_millis(7)), |index, _| async move {
                Err(ToolError::Handler(format!("fallback {index} injected")))
            })
            .await;
            let Err(error) = outcome else { panic!("every fallback failed, yet: {outcome:?}") };
            let message = error.to_string();
            assert!(message.starts_with("timed out after 7 ms"), "{message}");
            for (index, label) in FALLBACKS.labels.iter().enumerate() {
                assert!(message.contains(&format!("{label}: fallback {index} injected")), "{message}");
            }
        }

        #[::tokio::test]
        async fn an_answer_that_is_not_a_failure_is_not_replaced() {
            let server = Server::new();
            let not_found = ToolError::Status { status: 404, retry_after: None, body: String::new() };
            let outcome = fall_back(&server, not_found.clone(), |_, _| async { Ok(Value::Null) }).await;
            assert_eq!(outcome, Err(not_found));
            #tracked
        }
    }
}
