//! `src/generated/resilience.rs`: the primitives tool modules share, emitted only when some
//! tool uses them. The circuit breaker and the bulkhead take their numbers as const generics,
//! so each tool's `type Breaker = CircuitBreaker<5, 60000, 2>` is its own monomorphised copy
//! with the thresholds folded in. A user's native handler can use the same types by hand.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::Plan;

/// Whether some tool needs the module: it has a timeout, retry, breaker or bulkhead.
pub fn needed(plan: &Plan) -> bool {
    plan.tools.iter().any(|t| {
        super::policy::attempt_timeout(t).is_some()
            || t.policy.retry.is_some()
            || t.policy.breaker.is_some()
            || t.policy.bulkhead.is_some()
    })
}

/// Doc attributes, one per line, so they print as `///` lines.
fn docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// The module, or `None` when no tool needs it.
pub fn resilience(plan: &Plan) -> Option<TokenStream> {
    if !needed(plan) {
        return None;
    }
    let uses = |f: fn(&crate::plan::PolicyPlan) -> bool| plan.tools.iter().any(|t| f(&t.policy));
    let krate = &plan.crate_ident;
    let retry = uses(|p| p.retry.is_some()).then(|| retry_helpers(krate));
    let breaker = uses(|p| p.breaker.is_some()).then(|| breaker_type(krate));
    let bulkhead = uses(|p| p.bulkhead.is_some()).then(|| bulkhead_type(krate));
    let timeout_doc = docs(&format!(
        r#"Runs `operation` for at most `limit`; a late operation is dropped (an HTTP request
aborted, a command's process group killed) and the call fails with a timeout.

The timer is armed when the operation first waits: nothing could interrupt the work it
does before that anyway, and an operation that finishes without waiting (a cache hit, a
quick handler) pays for no timer at all.

```
# tokio::runtime::Builder::new_current_thread()
#     .enable_time()
#     .build()
#     .map_err(|e| e.to_string())?
#     .block_on(async {{
use std::time::Duration;
use {krate}::generated::{{resilience, runtime::ToolError}};

let slow = async {{
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok::<_, ToolError>("late")
}};
let outcome = resilience::with_timeout(Duration::from_millis(10), slow).await;
assert_eq!(outcome, Err(ToolError::Timeout(Duration::from_millis(10))));
# Ok::<(), String>(())
# }})?; Ok::<(), String>(())
```"#
    ));
    Some(quote! {
        //! Resilience primitives shared by the tool modules: each tool instantiates them with
        //! its own numbers. Your handlers can use them too.

        use super::runtime::ToolError;

        #timeout_doc
        pub async fn with_timeout<T>(
            limit: std::time::Duration,
            operation: impl std::future::Future<Output = Result<T, ToolError>>,
        ) -> Result<T, ToolError> {
            use std::future::Future;
            use std::task::Poll;
            let mut operation = std::pin::pin!(operation);
            let timer: Option<tokio::time::Sleep> = None;
            let mut timer = std::pin::pin!(timer);
            std::future::poll_fn(|cx| {
                if let Poll::Ready(outcome) = operation.as_mut().poll(cx) {
                    return Poll::Ready(outcome);
                }
                if timer.is_none() {
                    timer.set(Some(tokio::time::sleep(limit)));
                }
                match timer.as_mut().as_pin_mut().map(|timer| timer.poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(Err(ToolError::Timeout(limit))),
                    _ => Poll::Pending,
                }
            })
            .await
        }

        #retry
        #breaker
        #bulkhead
    })
}

fn retry_helpers(krate: &str) -> TokenStream {
    let retry_doc = docs(&format!(
        r#"Retries `operation` by hand: one attempt, then one more after each delay of
`delays_ms` (jittered ±25 %, capped at `max_delay_ms`) while `retryable` says so.

```
# tokio::runtime::Builder::new_current_thread()
#     .enable_time()
#     .build()
#     .map_err(|e| e.to_string())?
#     .block_on(async {{
use {krate}::generated::{{resilience, runtime::ToolError}};

let mut attempts = 0;
let outcome = resilience::retry(&[1, 2], 10, ToolError::is_failure, || {{
    attempts += 1;
    let failed = attempts < 3;
    async move {{
        if failed {{ Err(ToolError::Connection("reset".into())) }} else {{ Ok(attempts) }}
    }}
}})
.await;
assert_eq!(outcome, Ok(3));
# Ok::<(), String>(())
# }})?; Ok::<(), String>(())
```"#
    ));
    quote! {
        /// A number in `[0, 1)` that differs from call to call. Seeded by the standard library's
        /// per-process random keys, so jitter needs no extra dependency.
        fn random_unit() -> f64 {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0x9e37_79b9_7f4a_7c15);
            // 53 random bits make an exact f64 fraction.
            (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64
        }

        /// `delay_ms` spread uniformly within ±25 %, and never above `max_ms`.
        pub fn jittered(delay_ms: u64, max_ms: u64) -> std::time::Duration {
            let low = delay_ms as f64 * 0.75;
            let high = (delay_ms as f64 * 1.25).min(max_ms as f64).max(low);
            let micros = (low + (high - low) * random_unit()) * 1000.0;
            std::time::Duration::from_micros(micros as u64).min(std::time::Duration::from_millis(max_ms))
        }

        /// The wait a `Retry-After` header asks for, capped at `max_ms`.
        pub fn retry_after(seconds: u64, max_ms: u64) -> std::time::Duration {
            std::time::Duration::from_millis(seconds.saturating_mul(1000).min(max_ms))
        }

        #retry_doc
        pub async fn retry<T, F, Fut>(
            delays_ms: &[u64],
            max_delay_ms: u64,
            retryable: impl Fn(&ToolError) -> bool,
            mut operation: F,
        ) -> Result<T, ToolError>
        where
            F: FnMut() -> Fut,
            Fut: std::future::Future<Output = Result<T, ToolError>>,
        {
            let mut delays = delays_ms.iter();
            loop {
                let error = match operation().await {
                    Ok(value) => return Ok(value),
                    Err(error) => error,
                };
                match delays.next() {
                    Some(&delay) if retryable(&error) => tokio::time::sleep(jittered(delay, max_delay_ms)).await,
                    _ => return Err(error),
                }
            }
        }
    }
}

fn breaker_type(krate: &str) -> TokenStream {
    let breaker_doc = docs(&format!(
        r#"A circuit breaker: `FAILURES` consecutive failures open it; after `OPEN_MS` the next
call moves it to half-open, where at most `PROBES` probe calls run and `PROBES`
successes in a row close it, while any failure opens it again. Lock-free.

Tool modules use [`CircuitBreaker::admit`] and settle the probe; by hand, `call` runs a
future through it:

```
# tokio::runtime::Builder::new_current_thread()
#     .build()
#     .map_err(|e| e.to_string())?
#     .block_on(async {{
use {krate}::generated::resilience::{{BreakerState, CircuitBreaker}};
use {krate}::generated::runtime::ToolError;

// Opens after 2 failures in a row, for 30 s; 1 successful probe closes it.
let breaker = CircuitBreaker::<2, 30_000, 1>::default();
for _ in 0..2 {{
    let outcome = breaker.call("pricing", async {{ Err::<u32, _>("upstream down") }}).await;
    assert_eq!(outcome, Ok(Err("upstream down")));
}}
assert_eq!(breaker.get_state(), BreakerState::Open);
let rejected = breaker.call("pricing", async {{ Ok::<u32, &str>(1) }}).await;
assert!(matches!(rejected, Err(ToolError::CircuitOpen {{ .. }})));
assert_eq!(breaker.get_stats().opened, 1);
# Ok::<(), String>(())
# }})?; Ok::<(), String>(())
```"#
    ));
    quote! {
        /// Where a circuit breaker is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum BreakerState {
            /// Calls pass; consecutive failures are counted.
            Closed,
            /// Calls are rejected without running.
            Open,
            /// A few probe calls test whether the operation has recovered.
            HalfOpen,
        }

        impl BreakerState {
            /// `closed`, `open` or `half_open`.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Closed => "closed",
                    Self::Open => "open",
                    Self::HalfOpen => "half_open",
                }
            }
        }

        /// What a breaker has seen.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct BreakerStats {
            /// The state now.
            pub state: BreakerState,
            /// Consecutive failures while closed.
            pub consecutive_failures: u64,
            /// Probes let through in the current half-open period.
            pub probes: u64,
            /// Successful probes in the current half-open period.
            pub probe_successes: u64,
            /// How many times the circuit opened.
            pub opened: u64,
        }

        // The whole state is one atomic word, so every transition is a single compare-and-swap
        // and concurrent calls cannot interleave half a transition. Bits 0-1: the state;
        // bits 2-15: a generation, bumped on every transition, so that a call admitted before a
        // transition cannot count towards the next period; bits 16-63: closed, the consecutive
        // failures; open, when it opened (ms since the breaker was made); half-open, the probes
        // admitted (bits 16-39) and the probe successes (bits 40-63).
        const CLOSED: u64 = 0;
        const OPEN: u64 = 1;
        const HALF_OPEN: u64 = 2;
        const GENERATION_MASK: u64 = 0x3fff;
        const PAYLOAD_SHIFT: u32 = 16;
        const PAYLOAD_MAX: u64 = (1 << 48) - 1;
        const PROBE_MASK: u64 = (1 << 24) - 1;
        const ONE_PROBE: u64 = 1 << PAYLOAD_SHIFT;
        const ONE_SUCCESS: u64 = 1 << (PAYLOAD_SHIFT + 24);

        fn pack(state: u64, generation: u64, payload: u64) -> u64 {
            state | ((generation & GENERATION_MASK) << 2) | (payload.min(PAYLOAD_MAX) << PAYLOAD_SHIFT)
        }

        fn state_of(word: u64) -> u64 {
            word & 3
        }

        fn generation_of(word: u64) -> u64 {
            (word >> 2) & GENERATION_MASK
        }

        fn payload_of(word: u64) -> u64 {
            word >> PAYLOAD_SHIFT
        }

        #breaker_doc
        #[derive(Debug)]
        pub struct CircuitBreaker<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> {
            word: std::sync::atomic::AtomicU64,
            opened: std::sync::atomic::AtomicU64,
            epoch: tokio::time::Instant,
        }

        impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> Default for CircuitBreaker<FAILURES, OPEN_MS, PROBES> {
            fn default() -> Self {
                const { assert!(FAILURES >= 1 && PROBES >= 1 && (PROBES as u64) < PROBE_MASK) };
                Self {
                    word: std::sync::atomic::AtomicU64::new(pack(CLOSED, 0, 0)),
                    opened: std::sync::atomic::AtomicU64::new(0),
                    epoch: tokio::time::Instant::now(),
                }
            }
        }

        impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> CircuitBreaker<FAILURES, OPEN_MS, PROBES> {
            fn now_ms(&self) -> u64 {
                u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(PAYLOAD_MAX).min(PAYLOAD_MAX)
            }

            fn load(&self) -> u64 {
                self.word.load(std::sync::atomic::Ordering::Acquire)
            }

            fn swap(&self, current: u64, next: u64) -> Result<u64, u64> {
                use std::sync::atomic::Ordering;
                self.word.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            }

            /// Lets one call through, or rejects it with [`ToolError::CircuitOpen`]. `tool`
            /// names the breaker in the logs. The returned probe must be settled with the
            /// call's outcome; dropping it unsettled (a cancelled call) gives its place back.
            pub fn admit(&self, tool: &'static str) -> Result<Probe<'_, FAILURES, OPEN_MS, PROBES>, ToolError> {
                let mut word = self.load();
                loop {
                    let next = match state_of(word) {
                        CLOSED => return Ok(Probe { breaker: self, tool, generation: generation_of(word), half_open: false, settled: false }),
                        OPEN => {
                            let elapsed = self.now_ms().saturating_sub(payload_of(word));
                            if elapsed < OPEN_MS {
                                return Err(ToolError::CircuitOpen { retry_in_ms: OPEN_MS - elapsed });
                            }
                            pack(HALF_OPEN, generation_of(word) + 1, 1)
                        }
                        _ => {
                            if payload_of(word) & PROBE_MASK >= u64::from(PROBES) {
                                return Err(ToolError::CircuitOpen { retry_in_ms: 0 });
                            }
                            word + ONE_PROBE
                        }
                    };
                    match self.swap(word, next) {
                        Ok(_) => {
                            if state_of(word) == OPEN {
                                tracing::warn!(tool, "circuit half-open: letting up to {PROBES} probe(s) through");
                            }
                            return Ok(Probe { breaker: self, tool, generation: generation_of(next), half_open: true, settled: false });
                        }
                        Err(actual) => word = actual,
                    }
                }
            }

            fn succeeded(&self, tool: &'static str, generation: u64, half_open: bool) {
                let mut word = self.load();
                loop {
                    if generation_of(word) != generation {
                        return;
                    }
                    let next = match state_of(word) {
                        // The success path of a healthy breaker: one load, no write.
                        CLOSED if payload_of(word) == 0 => return,
                        CLOSED => pack(CLOSED, generation, 0),
                        HALF_OPEN if half_open => {
                            if (payload_of(word) >> 24) + 1 >= u64::from(PROBES) {
                                pack(CLOSED, generation + 1, 0)
                            } else {
                                word + ONE_SUCCESS
                            }
                        }
                        _ => return,
                    };
                    match self.swap(word, next) {
                        Ok(_) => {
                            if state_of(word) == HALF_OPEN && state_of(next) == CLOSED {
                                tracing::info!(tool, "circuit closed: {PROBES} probe(s) succeeded");
                            }
                            return;
                        }
                        Err(actual) => word = actual,
                    }
                }
            }

            fn failed(&self, tool: &'static str, generation: u64) {
                let mut word = self.load();
                loop {
                    if generation_of(word) != generation {
                        return;
                    }
                    let next = match state_of(word) {
                        CLOSED if payload_of(word) + 1 >= u64::from(FAILURES) => pack(OPEN, generation + 1, self.now_ms()),
                        CLOSED => pack(CLOSED, generation, payload_of(word) + 1),
                        HALF_OPEN => pack(OPEN, generation + 1, self.now_ms()),
                        _ => return,
                    };
                    match self.swap(word, next) {
                        Ok(_) => {
                            if state_of(next) == OPEN {
                                self.opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                if state_of(word) == HALF_OPEN {
                                    tracing::warn!(tool, "circuit reopened: a probe failed; rejecting calls for {OPEN_MS} ms");
                                } else {
                                    tracing::warn!(tool, "circuit opened after {FAILURES} consecutive failure(s); rejecting calls for {OPEN_MS} ms");
                                }
                            }
                            return;
                        }
                        Err(actual) => word = actual,
                    }
                }
            }

            fn release(&self, generation: u64) {
                let mut word = self.load();
                while state_of(word) == HALF_OPEN && generation_of(word) == generation && payload_of(word) & PROBE_MASK > 0 {
                    match self.swap(word, word - ONE_PROBE) {
                        Ok(_) => return,
                        Err(actual) => word = actual,
                    }
                }
            }

            /// The state now. An open circuit whose time is up stays open until a call comes.
            pub fn get_state(&self) -> BreakerState {
                match state_of(self.load()) {
                    CLOSED => BreakerState::Closed,
                    OPEN => BreakerState::Open,
                    _ => BreakerState::HalfOpen,
                }
            }

            /// The state and counters now.
            pub fn get_stats(&self) -> BreakerStats {
                let word = self.load();
                let payload = payload_of(word);
                let (consecutive_failures, probes, probe_successes) = match state_of(word) {
                    CLOSED => (payload, 0, 0),
                    OPEN => (0, 0, 0),
                    _ => (0, payload & PROBE_MASK, payload >> 24),
                };
                BreakerStats {
                    state: self.get_state(),
                    consecutive_failures,
                    probes,
                    probe_successes,
                    opened: self.opened.load(std::sync::atomic::Ordering::Relaxed),
                }
            }

            /// Runs `operation` through the breaker by hand: every `Err` counts as a failure.
            /// The outer error is the rejection of an open circuit.
            pub async fn call<T, E>(
                &self,
                tool: &'static str,
                operation: impl std::future::Future<Output = Result<T, E>>,
            ) -> Result<Result<T, E>, ToolError> {
                let probe = self.admit(tool)?;
                let outcome = operation.await;
                if outcome.is_ok() { probe.success() } else { probe.failure() }
                Ok(outcome)
            }
        }

        /// One call let through a breaker, to be settled with its outcome.
        #[derive(Debug)]
        #[must_use = "settle the probe with the call's outcome"]
        pub struct Probe<'a, const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> {
            breaker: &'a CircuitBreaker<FAILURES, OPEN_MS, PROBES>,
            tool: &'static str,
            generation: u64,
            half_open: bool,
            settled: bool,
        }

        impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> Probe<'_, FAILURES, OPEN_MS, PROBES> {
            /// The call succeeded.
            pub fn success(mut self) {
                self.settled = true;
                self.breaker.succeeded(self.tool, self.generation, self.half_open);
            }

            /// The call failed.
            pub fn failure(mut self) {
                self.settled = true;
                self.breaker.failed(self.tool, self.generation);
            }

            /// Settles with a tool outcome: timeouts, connection errors, HTTP 5xx and 429,
            /// non-zero exits and handler errors are failures; other answers (an HTTP 404
            /// included) show the operation is up. A cancelled call settles nothing.
            pub fn settle<T>(self, outcome: &Result<T, ToolError>) {
                match outcome {
                    Err(ToolError::Cancelled) => {}
                    Err(error) if error.is_failure() => self.failure(),
                    _ => self.success(),
                }
            }
        }

        impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> Drop for Probe<'_, FAILURES, OPEN_MS, PROBES> {
            fn drop(&mut self) {
                if !self.settled && self.half_open {
                    self.breaker.release(self.generation);
                }
            }
        }
    }
}

fn bulkhead_type(krate: &str) -> TokenStream {
    let bulkhead_doc = docs(&format!(
        r#"A bulkhead: at most `MAX` attempts in flight, at most `QUEUE` callers waiting for a
slot (one more is rejected at once), each waiting at most `WAIT_MS`, first come first
served. Taking and giving back a slot is one atomic operation each, with no lock; only a
caller that has to wait touches the wait queue.

```
# tokio::runtime::Builder::new_current_thread()
#     .enable_time()
#     .build()
#     .map_err(|e| e.to_string())?
#     .block_on(async {{
use {krate}::generated::resilience::Bulkhead;
use {krate}::generated::runtime::ToolError;

// 1 slot, nobody may wait.
let bulkhead = Bulkhead::<1, 0, 100>::default();
let slot = bulkhead.enter().await;
assert!(slot.is_ok());
assert_eq!(bulkhead.enter().await.err(), Some(ToolError::BulkheadFull {{ waited_ms: None }}));
drop(slot);
assert!(bulkhead.enter().await.is_ok());
# Ok::<(), String>(())
# }})?; Ok::<(), String>(())
```"#
    ));
    quote! {
        /// `QUEUE` value of a bulkhead whose callers may all wait.
        pub const UNBOUNDED: u32 = u32::MAX;
        /// `WAIT_MS` value of a bulkhead whose callers wait until a slot frees.
        pub const FOREVER: u64 = u64::MAX;

        #bulkhead_doc
        #[derive(Debug, Default)]
        pub struct Bulkhead<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> {
            in_flight: std::sync::atomic::AtomicU32,
            queued: std::sync::atomic::AtomicU32,
            freed: tokio::sync::Notify,
        }

        /// A slot of a bulkhead, given back when dropped.
        #[derive(Debug)]
        #[must_use = "the slot is given back as soon as the permit is dropped"]
        pub struct Permit<'a, const MAX: u32, const QUEUE: u32, const WAIT_MS: u64>(&'a Bulkhead<MAX, QUEUE, WAIT_MS>);

        impl<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> Drop for Permit<'_, MAX, QUEUE, WAIT_MS> {
            fn drop(&mut self) {
                use std::sync::atomic::Ordering;
                self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
                if self.0.queued.load(Ordering::Acquire) > 0 {
                    // A woken waiter that has gone (timed out, cancelled) passes this on to the next.
                    self.0.freed.notify_one();
                }
            }
        }

        /// Counts a caller out of the queue however its wait ends, a cancellation included.
        struct Waiting<'a>(&'a std::sync::atomic::AtomicU32);

        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            }
        }

        impl<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> Bulkhead<MAX, QUEUE, WAIT_MS> {
            fn take(&self) -> Option<Permit<'_, MAX, QUEUE, WAIT_MS>> {
                use std::sync::atomic::Ordering;
                self.in_flight
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX).then_some(n + 1))
                    .ok()
                    .map(|_| Permit(self))
            }

            /// A slot for one attempt, held until the permit is dropped.
            pub async fn enter(&self) -> Result<Permit<'_, MAX, QUEUE, WAIT_MS>, ToolError> {
                use std::sync::atomic::Ordering;
                // Callers already waiting go first.
                if self.queued.load(Ordering::Acquire) == 0
                    && let Some(permit) = self.take()
                {
                    return Ok(permit);
                }
                let ahead = self.queued.fetch_add(1, Ordering::AcqRel);
                let _waiting = Waiting(&self.queued);
                if QUEUE != UNBOUNDED && ahead >= QUEUE {
                    return Err(ToolError::BulkheadFull { waited_ms: None });
                }
                let wait = async {
                    loop {
                        // Registered before trying, so a slot freed in between still wakes us.
                        let mut freed = std::pin::pin!(self.freed.notified());
                        freed.as_mut().enable();
                        if let Some(permit) = self.take() {
                            return permit;
                        }
                        freed.await;
                    }
                };
                if WAIT_MS == FOREVER {
                    return Ok(wait.await);
                }
                tokio::time::timeout(std::time::Duration::from_millis(WAIT_MS), wait)
                    .await
                    .map_err(|_| ToolError::BulkheadFull { waited_ms: Some(WAIT_MS) })
            }

            /// Attempts in flight now.
            pub fn in_flight(&self) -> u32 {
                self.in_flight.load(std::sync::atomic::Ordering::Acquire)
            }

            /// Callers waiting for a slot now.
            pub fn queued(&self) -> u32 {
                self.queued.load(std::sync::atomic::Ordering::Acquire)
            }
        }
    }
}
