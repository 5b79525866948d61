//! Placeholders, `${VAR}` expansion, URI templates and pipeline step budgets.

use std::time::Duration;

use rmcp::model::JsonObject;
use serde_json::{Value, json};

use crate::generated::runtime::{
    Part, ToolError, env_value, render, template_matches, text_of, truthy, variable, verbatim,
    within,
};

fn values(value: Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_value_in_a_placeholder_is_its_text() {
    assert_eq!(text_of(&json!("plain")), "plain");
    assert_eq!(text_of(&json!([1, 2])), "[1,2]");
    assert_eq!(text_of(&json!(true)), "true");
}

#[test]
fn a_variable_keeps_its_type_and_a_missing_one_is_empty() {
    let variables = values(json!({ "user": { "id": 7 } }));
    assert_eq!(variable(&variables, "user"), json!({ "id": 7 }));
    assert_eq!(variable(&variables, "nope"), json!(""));
    assert_eq!(
        crate::generated::runtime::json("[1, \"a\"]"),
        json!([1, "a"])
    );
    assert_eq!(crate::generated::runtime::json("not json"), Value::Null);
}

#[test]
fn truthiness_follows_the_value() {
    for falsy in [
        None,
        Some(json!(null)),
        Some(json!(false)),
        Some(json!("")),
        Some(json!([])),
        Some(json!({})),
        Some(json!(0)),
        Some(json!(0.0)),
    ] {
        assert!(!truthy(falsy.as_ref()), "{falsy:?}");
    }
    for truthy_value in [
        json!(true),
        json!("x"),
        json!([0]),
        json!({ "a": 0 }),
        json!(-1),
    ] {
        assert!(truthy(Some(&truthy_value)), "{truthy_value}");
    }
}

async fn slow(millis: u64) -> Result<Value, ToolError> {
    tokio::time::sleep(Duration::from_millis(millis)).await;
    Ok(json!(millis))
}

#[tokio::test(start_paused = true)]
async fn a_step_gets_the_smaller_of_its_timeout_and_the_budget_left() {
    let now = tokio::time::Instant::now();
    let deadline = Some(now + Duration::from_millis(100));
    assert_eq!(
        within(deadline, Some(Duration::from_millis(40)), slow(50)).await,
        Err(ToolError::Timeout(Duration::from_millis(40)))
    );
    assert_eq!(
        within(deadline, Some(Duration::from_secs(5)), slow(70)).await,
        Err(ToolError::Timeout(Duration::from_millis(60))),
        "40 ms of the budget are spent"
    );
    assert_eq!(within(None, None, slow(10_000)).await, Ok(json!(10_000)));
    assert_eq!(
        within(None, Some(Duration::from_millis(20)), slow(10)).await,
        Ok(json!(10))
    );
}

#[test]
fn environment_variables_are_read_when_the_server_runs() {
    let (name, value) = std::env::vars()
        .find(|(_, value)| !value.is_empty())
        .unwrap_or_else(|| panic!("the test process has no environment"));
    let name: &'static str = Box::leak(name.into_boxed_str());
    let unset = "PFORGE_RUNTIME_TEST_NEVER_SET";
    assert!(std::env::var(unset).is_err(), "{unset} is set");
    let none = JsonObject::new();
    let parts = [Part::Text("<"), Part::Env(name, None), Part::Text(">")];
    assert_eq!(render(&parts, &none, verbatim), format!("<{value}>"));
    assert_eq!(
        env_value(name, Some("fallback")),
        value,
        "a set variable wins over the default"
    );
    assert_eq!(env_value(unset, Some("b")), "b");
    assert_eq!(env_value(unset, None), "");
}

#[test]
fn parts_render_parameters_encoded_and_never_read_a_value_as_a_hole() {
    let mut values = JsonObject::new();
    values.insert("id".into(), json!("a/b {{id}}"));
    values.insert("n".into(), json!(7));
    let parts = [
        Part::Text("/items/"),
        Part::Param("id"),
        Part::Text("?n="),
        Part::Param("n"),
        Part::Param("missing"),
    ];
    let upper = |text: &str| text.to_uppercase();
    assert_eq!(render(&parts, &values, upper), "/items/A/B {{ID}}?n=7");
    assert_eq!(
        values_of_input(),
        JsonObject::from_iter([("x".to_owned(), json!(1))])
    );
}

fn values_of_input() -> JsonObject {
    #[derive(serde::Serialize)]
    struct Input {
        x: u8,
    }
    crate::generated::runtime::values(&Input { x: 1 })
}

#[test]
fn uri_templates_match_one_segment_per_variable() {
    let template = "users://{id}/profile";
    assert!(template_matches(template, "users://42/profile"));
    assert!(!template_matches(template, "users:///profile"), "empty");
    assert!(
        !template_matches(template, "users://4/2/profile"),
        "a slash"
    );
    for step in [
        "..",
        ".",
        "%2e%2e",
        "4%2F2",
        "4%2f2",
        "4\\2",
        "4%5C2",
        "\u{FF0E}\u{FF0E}",
        "...",
        "4%252F2",
        "4\u{FF0F}2",
    ] {
        assert!(
            !template_matches(template, &format!("users://{step}/profile")),
            "{step} leaves its segment"
        );
    }
    assert!(
        template_matches(template, "users://a.b/profile"),
        "not a step"
    );
    assert!(
        !template_matches(template, "users://42/profile/x"),
        "a tail"
    );
    assert!(
        !template_matches(template, "groups://42/profile"),
        "the head"
    );
    assert!(template_matches("files://{name}", "files://a.txt"));
    assert!(template_matches("pair://{a}-{b}", "pair://1-2"));
    assert!(!template_matches("pair://{a}-{b}", "pair://1-"));
    assert!(!template_matches("broken://{id", "broken://1"));
    assert!(template_matches("fixed://x", "fixed://x"));
}
