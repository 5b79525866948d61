//! The tool error, arguments and answers.

use rmcp::model::JsonObject;
use serde_json::{Value, json};

use crate::generated::runtime::{
    Answer, Degraded, HandlerError, ToolError, check, no_extra, require, take, to_result,
};

fn status(status: u16) -> ToolError {
    ToolError::Status {
        status,
        retry_after: None,
        body: String::new(),
    }
}

#[test]
fn failures_are_what_says_the_operation_is_down() {
    let failures = [
        ToolError::Timeout(std::time::Duration::from_millis(5)),
        ToolError::Connection("reset".into()),
        ToolError::Exit {
            code: Some(1),
            stderr: String::new(),
        },
        ToolError::Handler("boom".into()),
        status(429),
        status(500),
        status(503),
    ];
    for error in &failures {
        assert!(error.is_failure(), "{error:?}");
        assert!(!error.is_rejection(), "{error:?}");
    }
    let not_failures = [
        ToolError::InvalidArguments("x".into()),
        ToolError::Cancelled,
        status(404),
        status(400),
        ToolError::CircuitOpen { retry_in_ms: 5 },
        ToolError::BulkheadFull { waited_ms: None },
    ];
    for error in &not_failures {
        assert!(!error.is_failure(), "{error:?}");
    }
    assert!(ToolError::CircuitOpen { retry_in_ms: 5 }.is_rejection());
    assert!(ToolError::BulkheadFull { waited_ms: Some(1) }.is_rejection());
}

#[test]
fn a_failed_fallback_chain_is_judged_and_told_by_its_primary_failure() {
    let chain = ToolError::Fallback {
        primary: Box::new(status(503)),
        failures: vec![
            ("cached".into(), ToolError::Handler("empty".into())),
            ("value".into(), ToolError::Cancelled),
        ],
    };
    assert!(chain.is_failure());
    assert_eq!(
        chain.to_string(),
        "HTTP 503: ; every fallback failed; cached: empty; value: cancelled"
    );
    let client_error = ToolError::Fallback {
        primary: Box::new(status(404)),
        failures: Vec::new(),
    };
    assert!(!client_error.is_failure());
}

#[test]
fn messages_name_the_numbers() {
    assert_eq!(
        ToolError::Timeout(std::time::Duration::from_millis(250)).to_string(),
        "timed out after 250 ms"
    );
    assert_eq!(
        ToolError::Exit {
            code: None,
            stderr: "bye".into()
        }
        .to_string(),
        "killed by a signal: bye"
    );
    assert!(
        ToolError::CircuitOpen { retry_in_ms: 42 }
            .to_string()
            .ends_with("(next probe in 42 ms)")
    );
    assert_eq!(
        ToolError::BulkheadFull { waited_ms: Some(7) }.to_string(),
        "bulkhead full: no slot freed within 7 ms"
    );
}

#[test]
fn a_handler_error_becomes_a_handler_failure() {
    let error: ToolError = HandlerError::new(format_args!("no {}", "user")).into();
    assert_eq!(error, ToolError::Handler("no user".into()));
}

#[test]
fn arguments_are_taken_checked_and_named() {
    let mut arguments = JsonObject::new();
    arguments.insert("count".into(), json!(3));
    arguments.insert("name".into(), json!(7));
    arguments.insert("gone".into(), Value::Null);
    assert_eq!(take::<u32>(&mut arguments, "count"), Ok(Some(3)));
    assert_eq!(take::<u32>(&mut arguments, "count"), Ok(None), "taken once");
    assert_eq!(
        take::<u32>(&mut arguments, "gone"),
        Ok(None),
        "null is absent"
    );
    match take::<String>(&mut arguments, "name") {
        Err(ToolError::InvalidArguments(message)) => assert!(message.starts_with("`name`: ")),
        other => panic!("{other:?}"),
    }
    assert_eq!(no_extra(&arguments), Ok(()));
    arguments.insert("extra".into(), json!(1));
    assert_eq!(
        no_extra(&arguments),
        Err(ToolError::InvalidArguments(
            "`extra` is not a parameter of this tool".into()
        ))
    );
    assert_eq!(require(Some(1), "n"), Ok(1));
    assert_eq!(
        require::<u8>(None, "n"),
        Err(ToolError::InvalidArguments("`n` is required".into()))
    );
    assert_eq!(check(true, "n", "must be positive"), Ok(()));
    assert_eq!(
        check(false, "n", "must be positive"),
        Err(ToolError::InvalidArguments("`n` must be positive".into()))
    );
}

fn wire(outcome: Result<Answer, ToolError>) -> Value {
    serde_json::to_value(to_result(outcome)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn answers_become_text_or_structured_content() {
    let text = wire(Ok(Answer::from(json!("hello"))));
    assert_eq!(text["content"][0]["text"], "hello");
    assert_ne!(text["isError"], true);
    let number = wire(Ok(Answer::from(json!(42))));
    assert_eq!(number["content"][0]["text"], "42");
    let object = wire(Ok(Answer::from(json!({ "id": 1 }))));
    assert_eq!(object["structuredContent"], json!({ "id": 1 }));
    let error = wire(Err(ToolError::Cancelled));
    assert_eq!(error["isError"], true);
    assert_eq!(error["content"][0]["text"], "cancelled");
}

#[test]
fn a_degraded_answer_says_which_fallback_answered_and_why() {
    let answer = Answer {
        value: json!("stale"),
        degraded: Some(Degraded {
            fallback: "cached".into(),
            error: "HTTP 503: down".into(),
        }),
    };
    let result = wire(Ok(answer));
    assert_eq!(
        result["_meta"]["pforge/degraded"],
        json!({ "fallback": "cached", "error": "HTTP 503: down" })
    );
    assert_eq!(result["content"][0]["text"], "stale");
}
