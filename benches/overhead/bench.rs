//! Success-path overhead per call: the tool pforge generates with breaker + retry + bulkhead +
//! timeout, the same stack built from tower (retry, concurrency limit, timeout) and failsafe's
//! breaker around the bare operation, and the bare operation itself.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use overhead_bench::generated::Server;
use overhead_bench::generated::runtime::ToolError;
use overhead_bench::generated::tools::{bare, protected};
use serde_json::Value;
use tower::{Service, ServiceBuilder, ServiceExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// failsafe's breaker as a tower layer (tower has none).
#[derive(Clone)]
struct Breaker<S, B> {
    inner: S,
    breaker: B,
}

impl<S, B, R> Service<R> for Breaker<S, B>
where
    S: Service<R>,
    B: failsafe::futures::CircuitBreaker,
{
    type Response = S::Response;
    type Error = failsafe::Error<S::Error>;
    type Future = failsafe::futures::ResponseFuture<
        S::Future,
        B::FailurePolicy,
        B::Instrument,
        fn(&S::Error) -> bool,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(failsafe::Error::Inner)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // Every error counts, as in the generated tool's success path.
        self.breaker.call_with(|_| true, self.inner.call(request))
    }
}

/// Up to 3 attempts, 10 ms then 20 ms apart, like the generated tool's policy.
#[derive(Clone)]
struct Attempts(u32);

impl<R: Clone, T, E> tower::retry::Policy<R, T, E> for Attempts {
    type Future = tokio::time::Sleep;

    fn retry(&mut self, _request: &mut R, result: &mut Result<T, E>) -> Option<Self::Future> {
        if result.is_ok() || self.0 >= 3 {
            return None;
        }
        self.0 += 1;
        Some(tokio::time::sleep(Duration::from_millis(10 << (self.0 - 1))))
    }

    fn clone_request(&mut self, request: &R) -> Option<R> {
        Some(request.clone())
    }
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let server = Server::new();
    let arguments = |n: i64| serde_json::json!({ "n": n }).as_object().cloned().unwrap_or_default();
    let protected_input = protected::ProtectedInput::from_arguments(arguments(7))
        .unwrap_or_else(|e| panic!("{e}"));
    let bare_input = bare::BareInput::from_arguments(arguments(7)).unwrap_or_else(|e| panic!("{e}"));

    let operation = {
        let server = server.clone();
        tower::service_fn(move |input: bare::BareInput| {
            let server = server.clone();
            async move { bare::invoke(&server, &input).await }
        })
    };
    let breaker = failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            5,
            failsafe::backoff::constant(Duration::from_secs(60)),
        ))
        .build();
    let stack = runtime.block_on(async {
        ServiceBuilder::new()
            .retry(Attempts(0))
            .layer_fn(|inner| Breaker { inner, breaker: breaker.clone() })
            .concurrency_limit(64)
            .timeout(Duration::from_millis(1000))
            .service(operation)
    });

    // Each routine runs `iters` calls inside one `block_on`, the same harness for all three.
    let mut group = c.benchmark_group("success path per call");
    group.bench_function("bare call", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (server, input) = (server.clone(), bare_input.clone());
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let outcome: Result<Value, ToolError> = bare::invoke(&server, &input).await;
                    std::hint::black_box(outcome).ok();
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("pforge generated", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (server, input) = (server.clone(), protected_input.clone());
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let outcome: Result<Value, ToolError> = protected::invoke(&server, &input).await;
                    std::hint::black_box(outcome).ok();
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("tower + failsafe", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (mut stack, input) = (stack.clone(), bare_input.clone());
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let outcome: Result<Value, failsafe::Error<BoxError>> = match stack.ready().await {
                        Ok(service) => service.call(input.clone()).await,
                        Err(error) => Err(error),
                    };
                    std::hint::black_box(outcome).ok();
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
