//! Error classes, counters and the ring buffer of recent errors, with the stand-in numbers:
//! 2 tools, 2 recent errors kept.

use serde_json::{Map, Value, json};

use crate::generated::runtime::ToolError;
use crate::generated::stats::{ErrorClass, MAX_ERRORS, Stats};

fn status(status: u16) -> ToolError {
    ToolError::Status {
        status,
        retry_after: None,
        body: String::new(),
    }
}

#[test]
fn errors_are_classified() {
    let cases = [
        (ToolError::Timeout(std::time::Duration::ZERO), "timeout"),
        (ToolError::Connection(String::new()), "connection"),
        (status(429), "rate_limit"),
        (status(503), "service_unavailable"),
        (status(500), "server_error"),
        (status(599), "server_error"),
        (status(404), "validation"),
        (ToolError::InvalidArguments(String::new()), "validation"),
        (ToolError::CircuitOpen { retry_in_ms: 1 }, "circuit_open"),
        (ToolError::BulkheadFull { waited_ms: None }, "bulkhead_full"),
        (ToolError::Handler(String::new()), "handler_error"),
        (
            ToolError::Exit {
                code: Some(2),
                stderr: String::new(),
            },
            "handler_error",
        ),
        (
            ToolError::Fallback {
                primary: Box::new(status(429)),
                failures: Vec::new(),
            },
            "rate_limit",
        ),
        (status(302), "unknown"),
        (ToolError::Cancelled, "unknown"),
    ];
    for (error, name) in cases {
        assert_eq!(ErrorClass::of(&error).as_str(), name, "{error:?}");
    }
}

#[test]
fn each_class_counts_at_its_own_place() {
    for (place, class) in ErrorClass::ALL.iter().enumerate() {
        assert_eq!(*class as usize, place, "{class:?}");
    }
}

fn figures(stats: &Stats, index: usize) -> Value {
    stats.tool_json(index, None)
}

#[test]
fn calls_are_counted_per_tool() {
    let stats = Stats::default();
    stats.called(0);
    stats.called(0);
    stats.called(1);
    stats.finished(0, "a", &Ok::<(), ToolError>(()), false);
    stats.retried(0);
    stats.degraded(0);
    stats.failed(0, "a", &ToolError::Timeout(std::time::Duration::ZERO));
    stats.failed(0, "a", &ToolError::CircuitOpen { retry_in_ms: 1 });
    let first = figures(&stats, 0);
    assert_eq!(first["calls"], 2);
    assert_eq!(first["successes"], 1);
    assert_eq!(first["retries"], 1);
    assert_eq!(first["fallbacks"], 1);
    assert_eq!(first["timeouts"], 1);
    assert_eq!(first["rejections"], 1);
    assert_eq!(first["errors"]["timeout"], 1);
    assert_eq!(first["errors"]["circuit_open"], 1);
    assert_eq!(first["breaker"], Value::Null);
    assert_eq!(figures(&stats, 1)["calls"], 1);
    assert_eq!(stats.tool_json(1, Some("open"))["breaker"], "open");
}

#[test]
fn a_tool_that_tracks_its_attempts_is_not_counted_twice() {
    let stats = Stats::default();
    stats.finished(0, "a", &Err::<(), _>(status(503)), true);
    let first = figures(&stats, 0);
    assert_eq!(first["failures"], 1);
    assert_eq!(first["errors"]["service_unavailable"], 0);
    stats.finished(
        0,
        "a",
        &Err::<(), _>(ToolError::InvalidArguments("x".into())),
        true,
    );
    assert_eq!(
        figures(&stats, 0)["errors"]["validation"],
        1,
        "argument errors are"
    );
    stats.finished(1, "b", &Err::<(), _>(status(503)), false);
    assert_eq!(figures(&stats, 1)["errors"]["service_unavailable"], 1);
}

#[test]
fn only_the_most_recent_errors_are_kept() {
    let stats = Stats::default();
    stats.failed(0, "a", &status(500));
    stats.failed(1, "b", &status(503));
    stats.failed(0, "a", &ToolError::Handler("third".into()));
    let mut tools = Map::new();
    tools.insert("a".into(), figures(&stats, 0));
    let document = stats.to_json(tools, |_| true);
    let recent = document["recent_errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{document}"));
    assert_eq!(recent.len(), MAX_ERRORS);
    assert_eq!(recent[0]["tool"], "b");
    assert_eq!(recent[0]["class"], "service_unavailable");
    assert_eq!(
        recent[1]["message"], "the operation failed",
        "only the kind of a handler's error is kept"
    );
    assert!(recent[1]["at_ms"].as_u64().is_some_and(|ms| ms > 0));
    assert_eq!(document["errors"]["server_error"], 1);
    assert_eq!(document["errors"]["handler_error"], 1);
    assert_eq!(
        document["error_tracking"],
        json!({ "enabled": true, "max_errors": MAX_ERRORS })
    );
    assert_eq!(document["tools"]["a"]["errors"]["server_error"], 1);
}

#[test]
fn the_metrics_are_prometheus_text_with_a_cumulative_histogram() {
    use crate::generated::stats::Gauges;
    let stats = Stats::default();
    stats.called(0);
    stats.finished(0, "a", &Err::<(), _>(status(503)), false);
    stats.took(0, std::time::Duration::from_millis(30));
    stats.called(0);
    stats.finished(0, "a", &Ok::<(), ToolError>(()), false);
    stats.took(0, std::time::Duration::from_secs(60));
    let gauges = [
        Gauges {
            breaker: Some("open"),
            bulkhead: Some((1, 2, 3)),
        },
        Gauges::default(),
    ];
    let text = stats.prometheus(&["a", "b\"q"], &gauges, |_| true);
    let mut samples = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "twice: {series}"
        );
    }
    let get = |series: &str| samples.get(series).copied().unwrap_or(f64::NAN);
    assert_eq!(get(r#"pforge_tool_calls_total{tool="a"}"#), 2.0);
    assert_eq!(get(r#"pforge_tool_calls_total{tool="b\"q"}"#), 0.0);
    assert_eq!(
        get(r#"pforge_tool_errors_total{tool="a",class="service_unavailable"}"#),
        1.0
    );
    assert_eq!(
        get(r#"pforge_tool_duration_seconds_bucket{tool="a",le="0.025"}"#),
        0.0
    );
    assert_eq!(
        get(r#"pforge_tool_duration_seconds_bucket{tool="a",le="0.05"}"#),
        1.0
    );
    assert_eq!(
        get(r#"pforge_tool_duration_seconds_bucket{tool="a",le="30"}"#),
        1.0
    );
    assert_eq!(
        get(r#"pforge_tool_duration_seconds_bucket{tool="a",le="+Inf"}"#),
        2.0
    );
    assert_eq!(get(r#"pforge_tool_duration_seconds_count{tool="a"}"#), 2.0);
    assert_eq!(get(r#"pforge_tool_duration_seconds_sum{tool="a"}"#), 60.03);
    assert_eq!(get(r#"pforge_breaker_state{tool="a",state="open"}"#), 1.0);
    assert_eq!(get(r#"pforge_breaker_state{tool="a",state="closed"}"#), 0.0);
    assert!(!samples.contains_key(r#"pforge_breaker_state{tool="b\"q",state="open"}"#));
    assert_eq!(get(r#"pforge_bulkhead_queued{tool="a"}"#), 2.0);
    assert_eq!(get(r#"pforge_bulkhead_capacity{tool="a"}"#), 3.0);
}

/// A classifier of the tests': a handler error's message, `transport` for anything else.
fn by_message(error: &ToolError) -> String {
    match error {
        ToolError::Handler(message) => message.clone(),
        _ => "transport".to_owned(),
    }
}

#[test]
fn a_classifier_names_the_classes_the_figures_show() {
    use crate::generated::stats::{Gauges, USER_CLASSES};
    assert_eq!(USER_CLASSES, 4, "three names, then `other`");
    let stats = Stats::classified_by(Some(by_message));
    let handler = |message: &str| ToolError::Handler(message.to_owned());
    stats.failed(0, "a", &handler("quota"));
    stats.failed(0, "a", &handler("  quota "));
    stats.failed(1, "b", &status(503));
    stats.failed(1, "b", &ToolError::Timeout(std::time::Duration::ZERO));
    stats.failed(0, "a", &handler(" "));
    stats.failed(0, "a", &handler("disk"));
    stats.failed(0, "a", &handler(&"é".repeat(40)));

    assert_eq!(
        figures(&stats, 0)["errors"],
        json!({"quota": 2, "transport": 0, "unknown": 1, "other": 2}),
        "the fourth name and later count as `other`"
    );
    let b = figures(&stats, 1);
    assert_eq!(
        b["errors"],
        json!({"quota": 0, "transport": 2, "unknown": 0, "other": 0})
    );
    assert_eq!(b["timeouts"], 1, "the built-in class still counts timeouts");
    let document = stats.to_json(Map::new(), |_| true);
    assert_eq!(
        document["errors"],
        json!({"quota": 2, "transport": 2, "unknown": 1, "other": 2})
    );
    let recent = document["recent_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        recent[0]["class"], "disk",
        "the log keeps a name counted as `other`"
    );
    assert_eq!(
        recent[1]["class"],
        "é".repeat(32),
        "cut to 64 bytes at a character boundary"
    );
    let text = stats.prometheus(&["a", "b"], &[Gauges::default(), Gauges::default()], |_| {
        true
    });
    assert!(
        text.contains("pforge_tool_errors_total{tool=\"a\",class=\"quota\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("pforge_tool_errors_total{tool=\"b\",class=\"other\"} 0"),
        "{text}"
    );
}

#[test]
fn without_a_classifier_every_built_in_class_is_listed() {
    let stats = Stats::default();
    stats.failed(0, "a", &ToolError::Handler("quota".into()));
    let errors = figures(&stats, 0)["errors"].clone();
    let names: Vec<&String> = errors
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 10, "{errors}");
    assert_eq!(errors["handler_error"], 1);
}

#[test]
fn the_recent_errors_keep_no_value_a_caller_or_an_upstream_chose() {
    let stats = Stats::default();
    stats.failed(
        0,
        "a",
        &ToolError::InvalidArguments("`id` is `hunter2`".into()),
    );
    stats.failed(
        1,
        "b",
        &ToolError::Status {
            status: 502,
            retry_after: None,
            body: "secret upstream body".into(),
        },
    );
    let document = stats.to_json(Map::new(), |_| true).to_string();
    assert!(!document.contains("hunter2"), "{document}");
    assert!(!document.contains("secret upstream body"), "{document}");
    assert!(document.contains("HTTP 502"), "{document}");
    let failed = ToolError::Exit {
        code: Some(2),
        stderr: "token=abc".into(),
    };
    assert_eq!(failed.summary(), "exited with status 2");
}

#[test]
fn a_caller_sees_only_the_tools_it_may_call() {
    let stats = Stats::default();
    stats.failed(0, "a", &status(500));
    stats.failed(1, "b", &status(503));
    let document = stats.to_json(Map::new(), |index| index == 1);
    let recent = document["recent_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(recent.len(), 1, "{document}");
    assert_eq!(recent[0]["tool"], "b");
    assert_eq!(
        document["errors"]["server_error"], 0,
        "a's error is not counted"
    );
    assert_eq!(document["errors"]["service_unavailable"], 1);
}

#[test]
fn the_metrics_show_a_caller_only_the_tools_it_may_call() {
    use crate::generated::stats::Gauges;
    let stats = Stats::default();
    stats.failed(0, "hidden", &status(500));
    let gauges = [Gauges::default(), Gauges::default()];
    let text = stats.prometheus(&["hidden", "shown"], &gauges, |index| index == 1);
    assert!(!text.contains("hidden"), "{text}");
    assert!(text.contains("tool=\"shown\""), "{text}");
}

#[test]
fn a_classifiers_other_is_the_reserved_overflow() {
    let stats = Stats::classified_by(Some(by_message));
    let handler = |message: &str| ToolError::Handler(message.to_owned());
    // `other` from the classifier: counted with the overflow, and no counter taken.
    stats.failed(0, "a", &handler("other"));
    stats.failed(0, "a", &handler("  other "));
    for name in ["quota", "disk", "cpu", "net"] {
        stats.failed(0, "a", &handler(name));
    }
    assert_eq!(
        figures(&stats, 0)["errors"],
        json!({"quota": 1, "disk": 1, "cpu": 1, "other": 3}),
        "three names still fit beside the reserved `other`, then `net` overflows"
    );
}
