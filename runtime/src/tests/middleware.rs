//! The middleware chain: order, refusals, rewritten answers and errors.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::generated::runtime::{Answer, Call, Middleware, ToolError, through};

/// Records each hook it runs as `name.hook`; `refuse` makes `before` fail, `rescue` makes
/// `on_error` answer.
#[derive(Default)]
struct Probe {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    refuse: bool,
    rescue: bool,
    tag: bool,
}

impl Probe {
    fn note(&self, hook: &str) {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(format!("{}.{hook}", self.name));
    }
}

impl Middleware for Probe {
    async fn before(&self, call: &mut Call) -> Result<(), ToolError> {
        self.note("before");
        if self.refuse {
            return Err(ToolError::InvalidArguments(format!(
                "{} refused",
                self.name
            )));
        }
        call.arguments
            .insert(self.name.to_owned(), Value::Bool(true));
        Ok(())
    }

    async fn after(&self, call: &Call, mut answer: Answer) -> Result<Answer, ToolError> {
        self.note("after");
        if self.tag {
            answer.value = json!({ "tagged": answer.value, "tool": call.tool });
        }
        Ok(answer)
    }

    async fn on_error(&self, _call: &Call, error: ToolError) -> Result<Answer, ToolError> {
        self.note("on_error");
        if self.rescue {
            return Ok(Answer::from(json!({ "rescued": error.to_string() })));
        }
        Err(ToolError::Handler(format!("{} saw: {error}", self.name)))
    }
}

/// Passes everything through: only the trait's defaults.
struct Quiet;

impl Middleware for Quiet {}

fn log() -> Arc<Mutex<Vec<String>>> {
    Arc::default()
}

fn entries(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn probe(name: &'static str, log: &Arc<Mutex<Vec<String>>>) -> Probe {
    Probe {
        name,
        log: Arc::clone(log),
        ..Probe::default()
    }
}

#[tokio::test]
async fn before_runs_in_order_and_after_in_reverse_around_the_tool() {
    let log = log();
    let chain = (probe("outer", &log), (Quiet, (probe("inner", &log), ())));
    let seen = Arc::clone(&log);
    let outcome = through(
        &chain,
        "t",
        rmcp::model::JsonObject::new(),
        |arguments| async move {
            seen.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push("tool".to_owned());
            Ok(Answer::from(Value::Object(arguments)))
        },
    )
    .await;
    assert_eq!(
        entries(&log),
        [
            "outer.before",
            "inner.before",
            "tool",
            "inner.after",
            "outer.after"
        ]
    );
    let answer = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        answer.value,
        json!({"outer": true, "inner": true}),
        "the tool got the arguments as every `before` left them"
    );
}

#[tokio::test]
async fn a_refusal_skips_the_tool_and_the_later_middleware() {
    let log = log();
    let refusing = Probe {
        refuse: true,
        ..probe("gate", &log)
    };
    let chain = (probe("outer", &log), (refusing, (probe("inner", &log), ())));
    let outcome = through(&chain, "t", rmcp::model::JsonObject::new(), |_| async {
        panic!("the tool ran after a refusal")
    })
    .await;
    assert_eq!(
        entries(&log),
        ["outer.before", "gate.before", "outer.on_error"],
        "only the middleware whose `before` ran sees the error"
    );
    assert_eq!(
        outcome,
        Err(ToolError::Handler(
            "outer saw: invalid arguments: gate refused".into()
        ))
    );
}

#[tokio::test]
async fn after_may_rewrite_an_answer_and_on_error_may_answer_instead() {
    let log = log();
    let tagging = Probe {
        tag: true,
        ..probe("tag", &log)
    };
    let outcome = through(
        &(tagging, ()),
        "echo",
        rmcp::model::JsonObject::new(),
        |_| async { Ok(Answer::from(json!(1))) },
    )
    .await;
    let answer = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.value, json!({"tagged": 1, "tool": "echo"}));

    let rescuing = Probe {
        rescue: true,
        ..probe("rescue", &log)
    };
    let chain = (rescuing, (probe("inner", &log), ()));
    let outcome = through(&chain, "t", rmcp::model::JsonObject::new(), |_| async {
        Err(ToolError::Connection("reset".into()))
    })
    .await;
    let answer = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        answer.value,
        json!({"rescued": "inner saw: connection error: reset"}),
        "errors pass outwards, each `on_error` seeing the one inside it"
    );
}

#[tokio::test]
async fn an_empty_chain_is_the_tool_alone() {
    let outcome = through(&(), "t", rmcp::model::JsonObject::new(), |_| async {
        Err(ToolError::Timeout(std::time::Duration::from_millis(5)))
    })
    .await;
    assert_eq!(
        outcome,
        Err(ToolError::Timeout(std::time::Duration::from_millis(5)))
    );
}
