//! `fault_tolerance` and `middleware` defaults, and the checks every policy block gets.

use serde_json::Value;

use super::roles::{HandlerRoles, Role};
use crate::config::{Bulkhead, CircuitBreaker, HumanDuration, Retry, RetryOn};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;

/// Default policy blocks, each with the pointer it was written at, in priority order
/// (`fault_tolerance` before `middleware`; they may complement each other key by key).
#[derive(Debug, Default)]
pub struct Defaults<'s> {
    /// Retry blocks.
    pub retry: Vec<(Pointer, &'s Retry)>,
    /// Circuit breaker blocks.
    pub circuit_breaker: Vec<(Pointer, &'s CircuitBreaker)>,
    /// Bulkhead block.
    pub bulkhead: Vec<(Pointer, &'s Bulkhead)>,
    /// Default timeout.
    pub timeout_ms: Option<(Pointer, u64)>,
}

/// Checks the defaults and returns them for the per-tool checks.
pub fn check<'s>(
    sections: &'s Sections,
    roles: &mut HandlerRoles,
    reporter: &mut Reporter<'_>,
) -> Defaults<'s> {
    let mut defaults = fault_tolerance(sections);
    check_classifiers(sections, roles, reporter);
    add_recovery(sections, &mut defaults, reporter);
    for (at, retry) in &defaults.retry {
        check_retry_block(at, retry, roles, reporter);
    }
    check_split_decisions(&defaults.retry, reporter);
    check_retry(&defaults.retry, None, reporter);
    check_breaker(&defaults.circuit_breaker, reporter);
    check_bulkhead(&defaults.bulkhead, reporter);
    defaults
}

/// The blocks of `fault_tolerance`, the first layer of the defaults.
fn fault_tolerance(sections: &Sections) -> Defaults<'_> {
    let mut defaults = Defaults::default();
    let Some(ft) = &sections.fault_tolerance else {
        return defaults;
    };
    let at = Pointer::section("fault_tolerance");
    if let Some(retry) = &ft.retry {
        defaults.retry.push((at.key("retry"), retry));
    }
    if let Some(breaker) = &ft.circuit_breaker {
        defaults
            .circuit_breaker
            .push((at.key("circuit_breaker"), breaker));
    }
    if let Some(bulkhead) = &ft.bulkhead {
        defaults.bulkhead.push((at.key("bulkhead"), bulkhead));
    }
    defaults.timeout_ms = ft.timeout_ms.map(|t| (at.key("timeout_ms"), t));
    defaults
}

/// A `classify_by` of either error tracking is `type` or a function with one role.
fn check_classifiers(sections: &Sections, roles: &mut HandlerRoles, reporter: &mut Reporter<'_>) {
    let ft_tracking = sections
        .fault_tolerance
        .as_ref()
        .and_then(|ft| ft.error_tracking.as_ref())
        .map(|t| (Pointer::section("fault_tolerance").key("error_tracking"), t));
    let recovery_tracking = sections.middleware.iter().find_map(|(index, m)| {
        let tracking = m.recovery()?.error_tracking.as_ref()?;
        Some((Pointer::middleware(index).key("error_tracking"), tracking))
    });
    for (at, tracking) in ft_tracking.into_iter().chain(recovery_tracking) {
        if let Some(crate::config::ClassifyBy::Handler(handler)) = &tracking.classify_by {
            let at = at.key("classify_by");
            let word = handler.path.trim();
            if word.contains("::") {
                roles.claim_classifier(handler, &at, reporter);
            } else {
                reporter
                    .error(&at, Target::Value, format!("`{word}` is not a way to classify errors"))
                    .help("write `type` for the built-in classes, or a function of yours such as `handlers::classify_error`")
                    .emit();
            }
        }
    }
}

/// The blocks of the one `recovery` middleware entry, the second layer of the defaults; a
/// second entry is an error, and keys both spellings set must agree.
fn add_recovery<'s>(
    sections: &'s Sections,
    defaults: &mut Defaults<'s>,
    reporter: &mut Reporter<'_>,
) {
    let mut first_recovery: Option<usize> = None;
    let recoveries = sections
        .middleware
        .iter()
        .filter_map(|(index, m)| Some((index, m.recovery()?)));
    for (index, recovery) in recoveries {
        let at = Pointer::middleware(index);
        if let Some(first) = first_recovery {
            reporter
                .error(&at, Target::Value, "a second `recovery` middleware")
                .related(
                    &Pointer::middleware(first),
                    Target::Value,
                    "the first one is here",
                )
                .help("write every recovery setting in one entry")
                .emit();
            continue;
        }
        first_recovery = Some(*index);
        if let Some(retry) = &recovery.retry {
            defaults.retry.push((at.key("retry"), retry));
        }
        if let Some(breaker) = &recovery.circuit_breaker {
            defaults
                .circuit_breaker
                .push((at.key("circuit_breaker"), breaker));
        }
        check_agreement(sections.document(), &at, reporter);
    }
}

/// Every policy duration is at most 7 days, checked where it is written (defaults and tools).
pub fn check_duration_limits(document: &Value, reporter: &mut Reporter<'_>) {
    let mut blocks = vec![Pointer::section("fault_tolerance")];
    for list in ["middleware", "tools"] {
        let count = document
            .get(list)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        blocks.extend((0..count).map(|i| Pointer::section(list).index(i)));
    }
    for block in blocks {
        for (policy, key) in [
            ("retry", "initial_delay"),
            ("retry", "max_delay"),
            ("circuit_breaker", "timeout"),
            ("bulkhead", "timeout"),
        ] {
            let at = block.key(policy).key(key);
            let Some(text) = document.pointer(&at).and_then(Value::as_str) else {
                continue;
            };
            match HumanDuration::parse(text) {
                Ok(duration) if duration.as_millis() > crate::config::MAX_DURATION_MS => {
                    reporter
                        .error(
                            &at,
                            Target::Value,
                            format!("`{text}` is longer than 7 days"),
                        )
                        .help("policy durations are at most 7 days (`168h`)")
                        .emit();
                }
                _ => {}
            }
        }
    }
}

/// `fault_tolerance` and a `recovery` middleware may both set a key only to the same value.
fn check_agreement(document: &Value, middleware_at: &Pointer, reporter: &mut Reporter<'_>) {
    for block in ["circuit_breaker", "retry", "error_tracking"] {
        let ours = document
            .pointer(&middleware_at.key(block))
            .and_then(Value::as_object);
        let theirs = document
            .pointer(&Pointer::section("fault_tolerance").key(block))
            .and_then(Value::as_object);
        let (Some(ours), Some(theirs)) = (ours, theirs) else {
            continue;
        };
        for (key, value) in ours {
            let Some(other) = theirs.get(key) else {
                continue;
            };
            if same_setting(value, other) {
                continue;
            }
            reporter
                .error(
                    &middleware_at.key(block).key(key),
                    Target::Value,
                    format!("`{block}.{key}` is {value} here but {other} in `fault_tolerance`"),
                )
                .related(&Pointer::section("fault_tolerance").key(block).key(key), Target::Value, "set differently here")
                .help("`middleware: [{type: recovery}]` and `fault_tolerance` are two spellings of the same defaults; keep one value")
                .emit();
        }
    }
}

fn same_setting(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            match (HumanDuration::parse(x), HumanDuration::parse(y)) {
                (Ok(x), Ok(y)) => x == y,
                _ => x == y,
            }
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The first layer that sets a key, with the pointer of that key.
fn pick<L, T>(
    layers: &[(Pointer, &L)],
    key: &str,
    get: impl Fn(&L) -> Option<T>,
) -> Option<(Pointer, T)> {
    layers
        .iter()
        .find_map(|(at, layer)| get(layer).map(|v| (at.key(key), v)))
}

/// Checks one retry block as written: a `policy` names a type under `handlers::` that serves
/// no other role, and is not written beside the schedule keys it replaces.
pub fn check_retry_block(
    at: &Pointer,
    retry: &Retry,
    roles: &mut HandlerRoles,
    reporter: &mut Reporter<'_>,
) {
    let Some(policy) = &retry.policy else {
        return;
    };
    let policy_at = at.key("policy");
    roles.claim_type(policy, &policy_at, Role::RetryPolicy, reporter);
    for key in retry.schedule_keys() {
        reporter
            .error(
                &at.key(key),
                Target::Key,
                format!("`{key}` has no effect beside `policy`"),
            )
            .related(
                &policy_at,
                Target::Value,
                "this type decides what is retried and how long each wait is",
            )
            .help(format!(
                "remove `{key}`, or remove `policy` to use the generated schedule; \
                 `max_attempts` and `max_delay` still bound a policy"
            ))
            .emit();
    }
}

/// A tool's retry block that decides the other way than the default retry (a `policy` under a
/// default schedule, or a schedule under a default `policy`) does not get its caps: the plan
/// merges them only into tools that decide the same way ([`Retry::caps_bind`]). A cap the tool
/// does not write itself would silently not bound it, so each one is reported. Pipelines
/// inherit no defaults, so they are not asked about.
pub fn check_default_caps(
    at: &Pointer,
    retry: &Retry,
    defaults: &[(Pointer, &Retry)],
    reporter: &mut Reporter<'_>,
) {
    // The default retry as the plan sees it: each block over the ones after it.
    let Some(default) = defaults
        .iter()
        .rev()
        .map(|(_, layer)| (*layer).clone())
        .reduce(|under, over| over.over(&under))
    else {
        return;
    };
    let own_policy = retry.policy.is_some();
    if !retry.decides() || default.caps_bind(own_policy) {
        return;
    }
    let (own, theirs) = if own_policy {
        ("policy", "a schedule")
    } else {
        ("schedule", "a `policy`")
    };
    // Where the tool decides: its `policy`, or its first schedule key.
    let deciding_key = if own_policy {
        "policy"
    } else {
        retry.schedule_keys().first().copied().unwrap_or("policy")
    };
    let deciding_at = at.key(deciding_key);
    for (key, cap_at, value) in unbound_caps(retry, &default, defaults) {
        reporter
            .warning(
                &deciding_at,
                Target::Key,
                format!("the default `{key}: {value}` does not bound this tool's {own}"),
            )
            .related(
                &cap_at,
                Target::Value,
                format!("this cap belongs to the default retry, which decides by {theirs}"),
            )
            .help(format!(
                "a default block's caps bound only the tools that decide as it does; write \
                 `{key}: {value}` in this tool's `retry` to bound it too"
            ))
            .emit();
    }
}

/// The caps the merged `default` retry sets and the tool's `retry` does not, each with where
/// the first default layer writes it and its value as written.
fn unbound_caps(
    retry: &Retry,
    default: &Retry,
    defaults: &[(Pointer, &Retry)],
) -> Vec<(&'static str, Pointer, String)> {
    let caps = [
        (
            "max_attempts",
            retry.max_attempts.is_none() && default.max_attempts.is_some(),
            pick(defaults, "max_attempts", |r| {
                r.max_attempts.map(|n| n.to_string())
            }),
        ),
        (
            "max_delay",
            retry.max_delay.is_none() && default.max_delay.is_some(),
            pick(defaults, "max_delay", |r| {
                r.max_delay.map(|d| d.to_string())
            }),
        ),
    ];
    caps.into_iter()
        .filter_map(|(key, unbound, written_at)| {
            let (cap_at, value) = written_at.filter(|_| unbound)?;
            Some((key, cap_at, value))
        })
        .collect()
}

/// The two spellings of the default retry merge key by key, so a `policy` in one and
/// schedule keys in the other would leave one of them doing nothing: the first block that
/// decides (`fault_tolerance` before `recovery`) wins, and the other's keys are reported.
fn check_split_decisions(layers: &[(Pointer, &Retry)], reporter: &mut Reporter<'_>) {
    let Some(index) = layers.iter().position(|(_, layer)| layer.decides()) else {
        return;
    };
    let (deciding_at, deciding) = &layers[index];
    for (at, layer) in &layers[index + 1..] {
        let idle: Vec<String> = match (&deciding.policy, &layer.policy) {
            (Some(_), _) => layer
                .schedule_keys()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            (None, Some(_)) => vec!["policy".to_owned()],
            (None, None) => Vec::new(),
        };
        for key in idle {
            let decides = if deciding.policy.is_some() {
                "the `policy` here decides every default retry"
            } else {
                "the schedule here decides every default retry"
            };
            reporter
                .error(
                    &at.key(&key),
                    Target::Key,
                    format!("`{key}` has no effect: the other default retry block decides"),
                )
                .related(deciding_at, Target::Key, decides)
                .help("write the default retry in one place, as a `policy` or as a schedule")
                .emit();
        }
    }
}

/// Checks a merged retry policy: delays in order, status codes only where they can occur.
/// A user's `policy` replaces the schedule, so there is nothing of it to check then.
pub fn check_retry(
    layers: &[(Pointer, &Retry)],
    tool_kind: Option<&str>,
    reporter: &mut Reporter<'_>,
) {
    let deciding = layers.iter().find(|(_, layer)| layer.decides());
    if layers.is_empty() || deciding.is_some_and(|(_, layer)| layer.policy.is_some()) {
        return;
    }
    // A policy block under the schedule lends it no caps (as the plan merges them).
    let layers: Vec<(Pointer, &Retry)> = layers
        .iter()
        .filter(|(_, layer)| layer.policy.is_none())
        .map(|(at, layer)| (at.clone(), *layer))
        .collect();
    let layers = layers.as_slice();
    let initial = pick(layers, "initial_delay", |r| r.initial_delay);
    let max = pick(layers, "max_delay", |r| r.max_delay);
    let initial_value = initial
        .as_ref()
        .map_or(crate::defaults::INITIAL_DELAY_MS, |(_, d)| d.as_millis());
    let max_value = max
        .as_ref()
        .map_or(crate::defaults::MAX_DELAY_MS, |(_, d)| d.as_millis());
    if initial_value > max_value {
        let shown = |ms: u64| HumanDuration(std::time::Duration::from_millis(ms)).to_string();
        let message = format!(
            "initial_delay ({}) is longer than max_delay ({}{})",
            shown(initial_value),
            shown(max_value),
            if max.is_none() { ", the default" } else { "" }
        );
        let (primary, other) = match (&initial, &max) {
            (Some((at, _)), other) => (at.clone(), other.as_ref().map(|(p, _)| p.clone())),
            (None, Some((at, _))) => (at.clone(), None),
            (None, None) => return,
        };
        let mut pending = reporter
            .error(&primary, Target::Value, message)
            .help("lower initial_delay or raise max_delay");
        if let Some(other) = other {
            pending = pending.related(&other, Target::Value, "max_delay is set here");
        }
        pending.emit();
    }
    if let Some(kind) = tool_kind.filter(|k| *k != "http")
        && let Some((at, codes)) = pick(layers, "retry_on", |r| r.retry_on.clone())
        && codes.iter().any(|c| matches!(c, RetryOn::Status(_)))
        && at.starts_with("/tools/")
    {
        reporter
                    .warning(&at, Target::Value, format!("HTTP status codes never occur in a {kind} tool"))
                    .help("status codes apply to http tools; use error classes such as `timeout` or `handler_error`")
                    .emit();
    }
}

/// Checks merged circuit breaker blocks.
pub fn check_breaker(layers: &[(Pointer, &CircuitBreaker)], reporter: &mut Reporter<'_>) {
    for (at, breaker) in layers {
        if breaker.timeout.is_some_and(|t| t.as_millis() == 0) {
            reporter
                .error(
                    &at.key("timeout"),
                    Target::Value,
                    "the open-circuit timeout must be longer than 0",
                )
                .help("write how long the circuit stays open, e.g. `30s`")
                .emit();
        }
    }
}

/// Checks bulkhead blocks.
pub fn check_bulkhead(layers: &[(Pointer, &Bulkhead)], reporter: &mut Reporter<'_>) {
    for (at, bulkhead) in layers {
        if bulkhead.timeout.is_some_and(|t| t.as_millis() == 0) {
            reporter
                .error(
                    &at.key("timeout"),
                    Target::Value,
                    "the bulkhead wait timeout must be longer than 0",
                )
                .help("remove `timeout` to wait until a slot frees, or write e.g. `5s`")
                .emit();
        }
    }
}
