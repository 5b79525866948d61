//! A tool's policy in words: the one-line summary of the README and the tool module's doc,
//! and the labels of its fallbacks.

use super::policy::{attempt_timeout, millis};
use crate::defaults;
use crate::plan::FallbackPlan as FallbackEntry;
use crate::plan::{RetryClass, RetryOnPlan, RetryPlan, Schedule, ToolPlan};

/// A duration for people: `5 s`, `250 ms`.
pub fn human_ms(ms: u64) -> String {
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// The label of a fallback in logs, errors and `_meta`.
pub fn fallback_label(entry: &FallbackEntry) -> String {
    match entry {
        FallbackEntry::Native(handler) => format!("native {}", handler.written()),
        FallbackEntry::Http(call) => format!("http {} {}", call.method.as_str(), call.endpoint),
        FallbackEntry::Value(_) => "value".to_owned(),
    }
}

fn fallback_short(entry: &FallbackEntry) -> String {
    match entry {
        FallbackEntry::Native(handler) => handler.name().to_owned(),
        FallbackEntry::Http(call) => format!("http {}", call.host),
        FallbackEntry::Value(_) => "value".to_owned(),
    }
}

/// The policy in one line, e.g. `timeout 10 s/attempt · 3 attempts 100 ms→200 ms ±25 % ·
/// breaker 5/60 s/2 · bulkhead 20 · fallback UserDataFallback`.
pub fn summary(tool: &ToolPlan) -> Option<String> {
    let policy = &tool.policy;
    let mut parts = Vec::new();
    if let Some(ms) = attempt_timeout(tool) {
        parts.push(format!("timeout {}/attempt", human_ms(ms)));
    }
    if let Some(ms) = tool.budget().map(millis) {
        parts.push(format!("budget {}", human_ms(ms)));
    }
    if let Some(retry) = &policy.retry {
        parts.push(retry_summary(retry));
    }
    if let Some(breaker) = &policy.breaker {
        parts.push(format!(
            "breaker {}/{}/{}",
            breaker.failure_threshold,
            human_ms(millis(breaker.open_for)),
            breaker.success_threshold
        ));
    }
    if let Some(bulkhead) = &policy.bulkhead {
        let mut text = format!("bulkhead {}", bulkhead.max_concurrent);
        if let Some(queued) = bulkhead.max_queued {
            text.push_str(&format!("+{queued} queued"));
        }
        if let Some(wait) = bulkhead.wait {
            text.push_str(&format!(" wait {}", human_ms(millis(wait))));
        }
        parts.push(text);
    }
    if !policy.fallback.is_empty() {
        let names: Vec<String> = policy.fallback.iter().map(fallback_short).collect();
        parts.push(format!("fallback {}", names.join("→")));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The retry layer in a few words, every number in force: `3 attempts 100 ms→200 ms ±25 %
/// (waits ≤5 s) on timeout`, or `≤100 attempts by CustomRetryPolicy (waits ≤5 s)`.
fn retry_summary(retry: &RetryPlan) -> String {
    // `max_delay` caps every wait: the jittered ones, `Retry-After`'s and a policy's.
    let hours = 3_600_000;
    let cap = if retry.max_delay_ms >= hours && retry.max_delay_ms.is_multiple_of(hours) {
        format!("(waits ≤{} h)", retry.max_delay_ms / hours)
    } else {
        format!("(waits ≤{})", human_ms(retry.max_delay_ms))
    };
    let Some(schedule) = retry.schedule() else {
        let by = retry.policy().map_or("", |p| p.name());
        return if retry.max_attempts == 1 {
            format!("1 attempt by {by}")
        } else {
            format!("≤{} attempts by {by} {cap}", retry.max_attempts)
        };
    };
    let mut text = if retry.max_attempts == 1 {
        "1 attempt".to_owned()
    } else {
        let delays: Vec<String> = schedule.delays_ms.iter().map(|d| human_ms(*d)).collect();
        format!("{} attempts {}", retry.max_attempts, delays.join("→"))
    };
    if schedule.jitter && retry.max_attempts > 1 {
        text.push_str(&jitter_spread());
    }
    if retry.max_attempts > 1 {
        text.push_str(&format!(" {cap}"));
    }
    if let RetryOnPlan::Listed { classes, statuses } = &schedule.retry_on {
        let names: Vec<String> = classes
            .iter()
            .map(|c| RetryClass::name(*c).to_owned())
            .chain(statuses.iter().map(u16::to_string))
            .collect();
        text.push_str(&format!(" on {}", names.join(", ")));
    }
    text
}

pub fn retry_on_text(schedule: &Schedule) -> String {
    match &schedule.retry_on {
        RetryOnPlan::Default { retry_500: true } => {
            "timeouts, connection errors, HTTP 429, 500, 502, 503 and 504".to_owned()
        }
        RetryOnPlan::Default { retry_500: false } => {
            "timeouts, connection errors, HTTP 429, 502, 503 and 504".to_owned()
        }
        RetryOnPlan::Listed { classes, statuses } => {
            let names: Vec<String> = classes
                .iter()
                .map(|c| format!("`{}`", RetryClass::name(*c)))
                .chain(statuses.iter().map(|s| format!("HTTP {s}")))
                .collect();
            if names.is_empty() {
                "nothing (`retry_on` is empty)".to_owned()
            } else {
                format!("{} (`retry_on`)", names.join(", "))
            }
        }
    }
}

/// The spread of jittered delays as the docs write it, ` ±25 %`: the runtime's `jittered`
/// spreads by `defaults::internal::JITTER_PERCENT` (`tests/defaults.rs` ties the two).
pub(super) fn jitter_spread() -> String {
    format!(" ±{} %", defaults::internal::JITTER_PERCENT)
}
