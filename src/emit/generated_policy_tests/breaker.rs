//! The breaker's cases: it opens at its failure threshold, rejects without calling while
//! open, half-opens after its open period with a bounded number of probes, and closes or
//! reopens by their outcome.

use proc_macro2::TokenStream;
use quote::quote;

use super::guard_call;
use crate::plan::ToolPlan;

/// The calls through the tool's guards the cases make.
struct Calls {
    fail: TokenStream,
    succeed: TokenStream,
}

/// Every case of the tool's breaker, with the helpers they share.
pub fn cases(tool: &ToolPlan) -> TokenStream {
    let calls = Calls {
        fail: guard_call(
            tool,
            quote!(async { Err(ToolError::Connection("injected".to_owned())) }),
        ),
        succeed: guard_call(tool, quote!(async { Ok(Value::Null) })),
    };
    let open_ms = tool.policy.breaker.map_or(0, |b| {
        u64::try_from(b.open_for.as_millis()).unwrap_or(u64::MAX)
    });
    let threshold = tool.policy.breaker.map_or(1, |b| b.failure_threshold);
    let race = (open_ms > 0).then(race_case);
    let helpers = helpers();
    let rejects = rejects_case(tool);
    let reset = (threshold > 1).then(|| reset_case(&calls));
    let closes = closes_case(&calls, open_ms);
    let reopens = reopens_case(&calls);
    let probes = probes_case();
    quote! {
        use crate::generated::resilience::BreakerState;

        #race
        #helpers
        #rejects
        #reset
        #closes
        #reopens
        #probes
    }
}

/// `circuit_open`, and `open`, which fails the tool up to its threshold.
fn helpers() -> TokenStream {
    quote! {
        fn circuit_open<T>(outcome: &Result<T, ToolError>) -> bool {
            matches!(outcome, Err(ToolError::CircuitOpen { .. }))
        }

        async fn open(server: &Server) {
            for failure in 1..=FAILURE_THRESHOLD {
                let state = guards(server).breaker.get_state();
                assert_eq!(state, BreakerState::Closed, "closed before failure {failure}");
                let outcome = guarded(server, async {
                    Err(ToolError::Connection("injected".to_owned()))
                })
                .await;
                assert_eq!(outcome, Err(ToolError::Connection("injected".to_owned())));
            }
            let state = guards(server).breaker.get_state();
            assert_eq!(state, BreakerState::Open);
        }
    }
}

fn race_case() -> TokenStream {
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
}

fn rejects_case(tool: &ToolPlan) -> TokenStream {
    let counted = guard_call(
        tool,
        quote!(async {
            calls.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
            Ok(Value::Null)
        }),
    );
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn the_breaker_opens_at_failure_threshold_and_then_rejects_without_calling() {
            let server = Server::new();
            open(&server).await;
            let calls = ::std::sync::atomic::AtomicU32::new(0);
            let outcome = #counted;
            assert!(circuit_open(&outcome), "{outcome:?}");
            assert_eq!(calls.load(::std::sync::atomic::Ordering::SeqCst), 0, "an open breaker must not run the operation");
        }
    }
}

fn reset_case(calls: &Calls) -> TokenStream {
    let Calls { fail, succeed } = calls;
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
}

fn closes_case(calls: &Calls, open_ms: u64) -> TokenStream {
    let succeed = &calls.succeed;
    let wait_open = (open_ms > 0).then(|| {
        quote! {
            ::tokio::time::advance(::std::time::Duration::from_millis(OPEN_MS - 1)).await;
            let outcome = #succeed;
            assert!(circuit_open(&outcome), "still open 1 ms before OPEN_MS: {outcome:?}");
            ::tokio::time::advance(::std::time::Duration::from_millis(1)).await;
        }
    });
    quote! {
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
    }
}

fn reopens_case(calls: &Calls) -> TokenStream {
    let Calls { fail, succeed } = calls;
    quote! {
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
    }
}

fn probes_case() -> TokenStream {
    quote! {
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
