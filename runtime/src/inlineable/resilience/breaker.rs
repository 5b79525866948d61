//! The circuit breaker: one per tool, its thresholds const generics.

use crate::generated::runtime::ToolError;

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

/// A circuit breaker: `FAILURES` consecutive failures open it; after `OPEN_MS` the next
/// call moves it to half-open, where at most `PROBES` probe calls run and `PROBES`
/// successes in a row close it, while any failure opens it again. Lock-free.
///
/// Tool modules use [`CircuitBreaker::admit`] and settle the probe; by hand, `call` runs a
/// future through it:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread()
/// #     .build()
/// #     .map_err(|e| e.to_string())?
/// #     .block_on(async {
/// use pforge_runtime::generated::resilience::{BreakerState, CircuitBreaker};
/// use pforge_runtime::generated::runtime::ToolError;
///
/// // Opens after 2 failures in a row, for 30 s; 1 successful probe closes it.
/// let breaker = CircuitBreaker::<2, 30_000, 1>::default();
/// for _ in 0..2 {
///     let outcome = breaker.call("pricing", async { Err::<u32, _>("upstream down") }).await;
///     assert_eq!(outcome, Ok(Err("upstream down")));
/// }
/// assert_eq!(breaker.get_state(), BreakerState::Open);
/// let rejected = breaker.call("pricing", async { Ok::<u32, &str>(1) }).await;
/// assert!(matches!(rejected, Err(ToolError::CircuitOpen { .. })));
/// assert_eq!(breaker.get_stats().opened, 1);
/// # Ok::<(), String>(())
/// # })?; Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct CircuitBreaker<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> {
    word: std::sync::atomic::AtomicU64,
    opened: std::sync::atomic::AtomicU64,
    epoch: tokio::time::Instant,
}

impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> Default
    for CircuitBreaker<FAILURES, OPEN_MS, PROBES>
{
    fn default() -> Self {
        const { assert!(FAILURES >= 1 && PROBES >= 1 && (PROBES as u64) < PROBE_MASK) };
        Self {
            word: std::sync::atomic::AtomicU64::new(pack(CLOSED, 0, 0)),
            opened: std::sync::atomic::AtomicU64::new(0),
            epoch: tokio::time::Instant::now(),
        }
    }
}

impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32>
    CircuitBreaker<FAILURES, OPEN_MS, PROBES>
{
    /// Consecutive failures that open the circuit.
    pub const FAILURE_THRESHOLD: u32 = FAILURES;
    /// How long the circuit stays open before a probe, in milliseconds.
    pub const OPEN_MS: u64 = OPEN_MS;
    /// Probes let through when half-open, and successes that close it.
    pub const SUCCESS_THRESHOLD: u32 = PROBES;

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(PAYLOAD_MAX)
            .min(PAYLOAD_MAX)
    }

    fn load(&self) -> u64 {
        self.word.load(std::sync::atomic::Ordering::Acquire)
    }

    fn swap(&self, current: u64, next: u64) -> Result<u64, u64> {
        use std::sync::atomic::Ordering;
        self.word
            .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
    }

    /// Lets one call through, or rejects it with [`ToolError::CircuitOpen`]. `tool`
    /// names the breaker in the logs. The returned probe must be settled with the
    /// call's outcome; dropping it unsettled (a cancelled call) gives its place back.
    pub fn admit(
        &self,
        tool: &'static str,
    ) -> Result<Probe<'_, FAILURES, OPEN_MS, PROBES>, ToolError> {
        let mut word = self.load();
        loop {
            let next = match state_of(word) {
                CLOSED => {
                    return Ok(Probe {
                        breaker: self,
                        tool,
                        generation: generation_of(word),
                        half_open: false,
                        settled: false,
                    });
                }
                OPEN => {
                    let elapsed = self.now_ms().saturating_sub(payload_of(word));
                    if elapsed < OPEN_MS {
                        return Err(ToolError::CircuitOpen {
                            retry_in_ms: OPEN_MS - elapsed,
                        });
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
                        tracing::warn!(
                            tool,
                            "circuit half-open: letting up to {PROBES} probe(s) through"
                        );
                    }
                    return Ok(Probe {
                        breaker: self,
                        tool,
                        generation: generation_of(next),
                        half_open: true,
                        settled: false,
                    });
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
                CLOSED if payload_of(word) + 1 >= u64::from(FAILURES) => {
                    pack(OPEN, generation + 1, self.now_ms())
                }
                CLOSED => pack(CLOSED, generation, payload_of(word) + 1),
                HALF_OPEN => pack(OPEN, generation + 1, self.now_ms()),
                _ => return,
            };
            match self.swap(word, next) {
                Ok(_) => {
                    if state_of(next) == OPEN {
                        self.opened
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if state_of(word) == HALF_OPEN {
                            tracing::warn!(
                                tool,
                                "circuit reopened: a probe failed; rejecting calls for {OPEN_MS} ms"
                            );
                        } else {
                            tracing::warn!(
                                tool,
                                "circuit opened after {FAILURES} consecutive failure(s); rejecting calls for {OPEN_MS} ms"
                            );
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
        while state_of(word) == HALF_OPEN
            && generation_of(word) == generation
            && payload_of(word) & PROBE_MASK > 0
        {
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
        if outcome.is_ok() {
            probe.success()
        } else {
            probe.failure()
        }
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

impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32>
    Probe<'_, FAILURES, OPEN_MS, PROBES>
{
    /// The call succeeded.
    pub fn success(mut self) {
        self.settled = true;
        self.breaker
            .succeeded(self.tool, self.generation, self.half_open);
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

impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> Drop
    for Probe<'_, FAILURES, OPEN_MS, PROBES>
{
    fn drop(&mut self) {
        if !self.settled && self.half_open {
            self.breaker.release(self.generation);
        }
    }
}

impl<const FAILURES: u32, const OPEN_MS: u64, const PROBES: u32> super::Admit
    for CircuitBreaker<FAILURES, OPEN_MS, PROBES>
{
    type Probe<'a> = Probe<'a, FAILURES, OPEN_MS, PROBES>;

    fn admit(&self, tool: &'static str) -> Result<Self::Probe<'_>, ToolError> {
        CircuitBreaker::admit(self, tool)
    }

    fn settle<T>(probe: Self::Probe<'_>, outcome: &Result<T, ToolError>) {
        probe.settle(outcome);
    }
}
