//! Resolved fault-tolerance policies: defaults merged key by key, numbers final, backoff
//! schedule precomputed.

use std::time::Duration;

use crate::vocab::{HttpMethod, RetryClass};

use crate::config::{Bulkhead, Checked, CircuitBreaker, Middleware, Retry, RetryOn};
use crate::defaults;
use crate::naming::HandlerPath;

/// Everything that protects one tool's calls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyPlan {
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// Retry with backoff.
    pub retry: Option<RetryPlan>,
    /// Circuit breaker.
    pub breaker: Option<BreakerPlan>,
    /// Concurrency limit.
    pub bulkhead: Option<BulkheadPlan>,
    /// Fallbacks, in the order tried.
    pub fallback: Vec<FallbackPlan>,
}

/// One fallback of a chain.
#[derive(Debug, Clone, PartialEq)]
pub enum FallbackPlan {
    /// A user function or type.
    Native(crate::naming::HandlerPath),
    /// An HTTP request templated like an http tool.
    Http(super::HttpCallPlan),
    /// A static answer.
    Value(serde_json::Value),
}

impl PolicyPlan {
    /// Whether the tool has no resilience code at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the tool has a policy beyond a timeout: its figures go to `pforge://stats`.
    pub fn is_protected(&self) -> bool {
        self.retry.is_some()
            || self.breaker.is_some()
            || self.bulkhead.is_some()
            || !self.fallback.is_empty()
    }

    /// Whether the tool's code waits on tokio's clock.
    pub fn uses_timers(&self) -> bool {
        self.timeout.is_some()
            || self.retry.is_some()
            || self.breaker.is_some()
            || self.bulkhead.is_some()
    }

    /// Whether the tool records each failed attempt itself (it may fail more than once per
    /// call), rather than leaving its one failure to the call's bookkeeping.
    pub fn tracks_attempts(&self) -> bool {
        self.retry.is_some() || !self.fallback.is_empty()
    }
}

/// A resolved retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPlan {
    /// Attempts in all, the first included; with a user's policy, the most it may make.
    pub max_attempts: u32,
    /// Cap of every delay, jitter and `Retry-After` included.
    pub max_delay_ms: u64,
    /// Whether a retried 429 or 503 waits as long as its `Retry-After` asks: only an http
    /// tool's own requests carry one.
    pub retry_after: bool,
    /// Who decides what is retried and how long each wait is.
    pub decisions: RetryDecisions,
}

/// Who decides a retry: forge.yaml's schedule, or the user's `RetryPolicy` type.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryDecisions {
    /// The schedule of forge.yaml, precomputed.
    Schedule(Schedule),
    /// A type under `handlers::` implementing `RetryPolicy` (`retry.policy`).
    Policy(crate::naming::HandlerPath),
}

/// A retry schedule from forge.yaml's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Delay before attempt n+2, in milliseconds, already capped at the maximum delay;
    /// `max_attempts - 1` entries.
    pub delays_ms: Vec<u64>,
    /// Whether delays are spread by ±25 %.
    pub jitter: bool,
    /// What is retried.
    pub retry_on: RetryOnPlan,
}

impl RetryPlan {
    /// The schedule, unless a user's policy decides instead.
    pub fn schedule(&self) -> Option<&Schedule> {
        match &self.decisions {
            RetryDecisions::Schedule(schedule) => Some(schedule),
            RetryDecisions::Policy(_) => None,
        }
    }

    /// The user's policy type, if one decides.
    pub fn policy(&self) -> Option<&crate::naming::HandlerPath> {
        match &self.decisions {
            RetryDecisions::Policy(path) => Some(path),
            RetryDecisions::Schedule(_) => None,
        }
    }
}

/// Which failures a retry policy retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOnPlan {
    /// Timeouts, connection errors, 429, 502, 503, 504, and 500 when the method is idempotent.
    Default {
        /// Whether HTTP 500 is retried (idempotent HTTP methods only).
        retry_500: bool,
    },
    /// Exactly these classes and status codes.
    Listed {
        /// Error classes.
        classes: Vec<RetryClass>,
        /// HTTP status codes.
        statuses: Vec<u16>,
    },
}

/// A failure that is not an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A timeout.
    Timeout,
    /// A connection error.
    Connection,
    /// A handler error or a command's non-zero exit.
    Handler,
}

impl RetryOnPlan {
    /// Whether a failed attempt with this HTTP status is retried.
    pub fn retries_status(&self, code: u16) -> bool {
        match self {
            Self::Default { retry_500 } => {
                matches!(code, 429 | 502 | 503 | 504) || (*retry_500 && code == 500)
            }
            Self::Listed { classes, statuses } => {
                statuses.contains(&code)
                    || (code == 429 && classes.contains(&RetryClass::RateLimit))
                    || (code == 503 && classes.contains(&RetryClass::ServiceUnavailable))
                    || ((500..=599).contains(&code)
                        && code != 503
                        && classes.contains(&RetryClass::ServerError))
            }
        }
    }

    /// Whether a failed attempt of this kind is retried.
    pub fn retries(&self, failure: Failure) -> bool {
        match (self, failure) {
            (Self::Default { .. }, Failure::Timeout | Failure::Connection) => true,
            (Self::Default { .. }, Failure::Handler) => false,
            (Self::Listed { classes, .. }, failure) => classes.contains(&match failure {
                Failure::Timeout => RetryClass::Timeout,
                Failure::Connection => RetryClass::Connection,
                Failure::Handler => RetryClass::HandlerError,
            }),
        }
    }

    /// Every HTTP status it retries, ascending.
    pub fn statuses(&self) -> Vec<u16> {
        (100..=599).filter(|c| self.retries_status(*c)).collect()
    }
}

/// A resolved circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPlan {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// Time the circuit stays open before a probe.
    pub open_for: Duration,
    /// Consecutive probe successes that close it (also the most concurrent probes).
    pub success_threshold: u32,
}

/// A resolved bulkhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadPlan {
    /// Attempts in flight at once.
    pub max_concurrent: u32,
    /// Callers allowed to wait; `None` is unbounded.
    pub max_queued: Option<u32>,
    /// How long a caller waits for a slot; `None` waits until one frees.
    pub wait: Option<Duration>,
}

/// Server-wide defaults, merged from `fault_tolerance` and the `recovery` middleware.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    /// Default retry keys.
    pub retry: Option<RetryBlock>,
    /// Default breaker keys.
    pub breaker: Option<CircuitBreaker>,
    /// Default bulkhead.
    pub bulkhead: Option<Bulkhead>,
    /// Default per-attempt timeout.
    pub timeout_ms: Option<u64>,
}

impl Defaults {
    /// Merges the two spellings; the loader has already rejected conflicting values.
    pub fn new(checked: &Checked) -> Self {
        let facts = checked.facts();
        let recovery = checked
            .middleware
            .iter()
            .flatten()
            .find_map(Middleware::recovery);
        let ft = checked.fault_tolerance.clone().unwrap_or_default();
        let ft_retry = ft.retry.as_ref().map(|retry| RetryBlock {
            retry: retry.clone(),
            policy: facts.fault_tolerance_retry_policy.clone(),
        });
        let recovery_retry = recovery
            .and_then(|r| r.retry.as_ref())
            .map(|retry| RetryBlock {
                retry: retry.clone(),
                policy: facts.recovery_retry_policy.clone(),
            });
        Self {
            retry: merge_retry(ft_retry.as_ref(), recovery_retry.as_ref()),
            breaker: merge_breaker(
                ft.circuit_breaker.as_ref(),
                recovery.and_then(|r| r.circuit_breaker.as_ref()),
            ),
            bulkhead: ft.bulkhead,
            timeout_ms: ft.timeout_ms,
        }
    }
}

/// A retry block with the type its `policy` names, as the loader parsed it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RetryBlock {
    /// The keys as written (or merged).
    pub retry: Retry,
    /// The parsed `policy`.
    pub policy: Option<HandlerPath>,
}

impl RetryBlock {
    /// This block merged over `under`, as [`Retry::over`] merges them: the `policy` of the
    /// block that decides retries is kept.
    fn over(&self, under: &RetryBlock) -> RetryBlock {
        let policy = if self.retry.decides() {
            &self.policy
        } else {
            &under.policy
        };
        RetryBlock {
            retry: self.retry.over(&under.retry),
            policy: policy.clone(),
        }
    }
}

/// `over` wins key by key; `None` when neither is written.
pub(crate) fn merge_retry(
    over: Option<&RetryBlock>,
    under: Option<&RetryBlock>,
) -> Option<RetryBlock> {
    match (over, under) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a.clone()),
        (Some(a), Some(b)) => Some(a.over(b)),
    }
}

/// `over` wins key by key; `None` when neither is written.
pub(crate) fn merge_breaker(
    over: Option<&CircuitBreaker>,
    under: Option<&CircuitBreaker>,
) -> Option<CircuitBreaker> {
    match (over, under) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a.clone()),
        (Some(a), Some(b)) => Some(CircuitBreaker {
            enabled: a.enabled.or(b.enabled),
            failure_threshold: a.failure_threshold.or(b.failure_threshold),
            timeout: a.timeout.or(b.timeout),
            success_threshold: a.success_threshold.or(b.success_threshold),
        }),
    }
}

/// Resolves a retry block; `method` is the HTTP method of an http tool.
pub(crate) fn resolve_retry(block: &RetryBlock, method: Option<HttpMethod>) -> RetryPlan {
    let retry = &block.retry;
    let max_delay_ms = retry
        .max_delay
        .map_or(defaults::MAX_DELAY_MS, |d| d.as_millis());
    if let Some(policy) = block.policy.clone() {
        return RetryPlan {
            max_attempts: retry
                .max_attempts
                .unwrap_or(defaults::POLICY_MAX_ATTEMPTS)
                .max(1),
            max_delay_ms,
            // Any failure may be retried, so a 429 or 503 asks what it asks.
            retry_after: method.is_some(),
            decisions: RetryDecisions::Policy(policy),
        };
    }
    let max_attempts = retry.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS).max(1);
    let initial = retry
        .initial_delay
        .map_or(defaults::INITIAL_DELAY_MS, |d| d.as_millis());
    let multiplier = retry.multiplier.unwrap_or(defaults::MULTIPLIER).max(1.0);
    let retry_on = match &retry.retry_on {
        None => RetryOnPlan::Default {
            retry_500: method.is_some_and(HttpMethod::is_idempotent),
        },
        Some(list) => RetryOnPlan::Listed {
            classes: list
                .iter()
                .filter_map(|r| match r {
                    RetryOn::Class(c) => Some(*c),
                    RetryOn::Status(_) => None,
                })
                .collect(),
            statuses: list
                .iter()
                .filter_map(|r| match r {
                    RetryOn::Status(s) => Some(*s),
                    RetryOn::Class(_) => None,
                })
                .collect(),
        },
    };
    RetryPlan {
        max_attempts,
        max_delay_ms,
        retry_after: method.is_some()
            && (retry_on.retries_status(429) || retry_on.retries_status(503)),
        decisions: RetryDecisions::Schedule(Schedule {
            delays_ms: backoff_schedule(max_attempts, initial, multiplier, max_delay_ms),
            jitter: retry.jitter.unwrap_or(defaults::JITTER),
            retry_on,
        }),
    }
}

/// Delay before attempt n+1 is `initial * multiplier^(n-1)`, capped at `max`; computed in
/// floating point and saturated, so huge multipliers cannot overflow.
pub fn backoff_schedule(
    max_attempts: u32,
    initial_ms: u64,
    multiplier: f64,
    max_ms: u64,
) -> Vec<u64> {
    let mut delays = Vec::with_capacity(max_attempts.saturating_sub(1) as usize);
    let mut current = initial_ms as f64;
    for _ in 1..max_attempts {
        let capped = current.min(max_ms as f64);
        delays.push(capped.round() as u64);
        current *= multiplier;
    }
    delays
}

/// Resolves a breaker block; `None` when it is disabled.
pub(crate) fn resolve_breaker(breaker: &CircuitBreaker) -> Option<BreakerPlan> {
    if !breaker.enabled.unwrap_or(defaults::BREAKER_ENABLED) {
        return None;
    }
    Some(BreakerPlan {
        failure_threshold: breaker
            .failure_threshold
            .unwrap_or(defaults::FAILURE_THRESHOLD)
            .max(1),
        open_for: breaker
            .timeout
            .map_or(Duration::from_millis(defaults::OPEN_MS), |d| d.0),
        success_threshold: breaker
            .success_threshold
            .unwrap_or(defaults::SUCCESS_THRESHOLD)
            .max(1),
    })
}

/// Resolves a bulkhead block.
pub(crate) fn resolve_bulkhead(bulkhead: &Bulkhead) -> BulkheadPlan {
    BulkheadPlan {
        max_concurrent: bulkhead.max_concurrent.max(1),
        max_queued: bulkhead.max_queued,
        wait: bulkhead.timeout.map(|d| d.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retry block with its policy parsed, as the loader hands it over.
    fn block(retry: &Retry) -> RetryBlock {
        RetryBlock {
            retry: retry.clone(),
            policy: retry
                .policy
                .as_ref()
                .and_then(|p| crate::naming::handler_path(&p.path).ok()),
        }
    }

    #[test]
    fn schedule_matches_the_chapter() {
        // Attempt 2: 100 ms, attempt 3: 200 ms, attempt 4: 400 ms.
        assert_eq!(backoff_schedule(4, 100, 2.0, 5_000), [100, 200, 400]);
        assert_eq!(backoff_schedule(1, 100, 2.0, 5_000), Vec::<u64>::new());
    }

    #[test]
    fn schedule_is_capped_and_never_overflows() {
        assert_eq!(
            backoff_schedule(6, 1_000, 3.0, 5_000),
            [1_000, 3_000, 5_000, 5_000, 5_000]
        );
        let huge = backoff_schedule(200, u64::MAX / 2, 1e300, u64::MAX);
        assert!(huge.iter().all(|d| *d > 0));
    }

    #[test]
    fn tool_keys_win_over_defaults_key_by_key() {
        let tool = Retry {
            max_attempts: Some(5),
            ..Retry::default()
        };
        let default = Retry {
            max_attempts: Some(2),
            jitter: Some(false),
            ..Retry::default()
        };
        let merged = merge_retry(Some(&block(&tool)), Some(&block(&default))).unwrap_or_default();
        assert_eq!(
            (merged.retry.max_attempts, merged.retry.jitter),
            (Some(5), Some(false))
        );
        let disabled = CircuitBreaker {
            enabled: Some(false),
            ..CircuitBreaker::default()
        };
        assert_eq!(resolve_breaker(&disabled), None);
    }

    #[test]
    fn a_default_policy_is_inherited_until_a_tool_decides_for_itself() {
        let handler = |path: &str| crate::config::HandlerRef {
            path: path.to_owned(),
        };
        let default = Retry {
            policy: Some(handler("handlers::Patient")),
            max_delay: Some(crate::config::HumanDuration(Duration::from_secs(1))),
            ..Retry::default()
        };
        let caps_only = Retry {
            max_attempts: Some(4),
            ..Retry::default()
        };
        let merged =
            merge_retry(Some(&block(&caps_only)), Some(&block(&default))).unwrap_or_default();
        let plan = resolve_retry(&merged, None);
        assert_eq!((plan.max_attempts, plan.max_delay_ms), (4, 1_000));
        assert_eq!(
            plan.policy().map(|p| p.written()),
            Some("handlers::Patient".to_owned())
        );

        let own_schedule = Retry {
            jitter: Some(false),
            ..Retry::default()
        };
        let merged =
            merge_retry(Some(&block(&own_schedule)), Some(&block(&default))).unwrap_or_default();
        let plan = resolve_retry(&merged, None);
        assert_eq!(
            plan.policy(),
            None,
            "a tool's own schedule key wins over the policy"
        );
        assert_eq!(plan.schedule().map(|s| s.jitter), Some(false));

        let own_policy = Retry {
            policy: Some(handler("handlers::Eager")),
            ..Retry::default()
        };
        let plan = resolve_retry(
            &merge_retry(Some(&block(&own_policy)), Some(&block(&default))).unwrap_or_default(),
            Some(HttpMethod::Post),
        );
        assert_eq!(
            plan.policy().map(|p| p.written()),
            Some("handlers::Eager".to_owned())
        );
        assert_eq!(plan.max_attempts, defaults::POLICY_MAX_ATTEMPTS);
        assert!(
            plan.retry_after,
            "an http tool's policy honours Retry-After"
        );
    }

    #[test]
    fn caps_come_only_from_blocks_that_decide_the_same_way() {
        let schedule_default = Retry {
            max_attempts: Some(3),
            initial_delay: Some(crate::config::HumanDuration(Duration::from_millis(10))),
            ..Retry::default()
        };
        let policy_tool = Retry {
            policy: Some(crate::config::HandlerRef {
                path: "handlers::Own".to_owned(),
            }),
            ..Retry::default()
        };
        let merged = merge_retry(Some(&block(&policy_tool)), Some(&block(&schedule_default)));
        let plan = resolve_retry(&merged.unwrap_or_default(), None);
        assert_eq!(
            plan.max_attempts,
            defaults::POLICY_MAX_ATTEMPTS,
            "a default schedule's cap does not bound a tool's policy"
        );

        let neutral_default = Retry {
            max_attempts: Some(3),
            ..Retry::default()
        };
        let merged = merge_retry(Some(&block(&policy_tool)), Some(&block(&neutral_default)));
        let plan = resolve_retry(&merged.unwrap_or_default(), None);
        assert_eq!(
            plan.max_attempts, 3,
            "a default that only caps applies to both"
        );

        let policy_default = Retry {
            max_attempts: Some(50),
            ..policy_tool.clone()
        };
        let schedule_tool = Retry {
            jitter: Some(false),
            ..Retry::default()
        };
        let merged = merge_retry(Some(&block(&schedule_tool)), Some(&block(&policy_default)));
        let plan = resolve_retry(&merged.unwrap_or_default(), None);
        assert_eq!(
            (plan.max_attempts, plan.policy()),
            (defaults::MAX_ATTEMPTS, None),
            "a default policy's cap does not bound a tool's own schedule"
        );
    }
}
