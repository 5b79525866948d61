//! The plan resolves every policy: defaults merged key by key, numbers final, backoff
//! precomputed, dependencies derived from what the tools use.

use std::time::Duration;

use pforge::config::Checked;
use pforge::defaults;
use pforge::plan::{
    BreakerPlan, BulkheadPlan, KindPlan, MetricsPlan, Plan, RetryOnPlan, ServerAuthPlan, StdioPlan,
    TransportPlan, plan,
};

fn config(text: &str) -> Checked {
    let loaded = pforge::load::load_str("forge.yaml", text);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.config.unwrap_or_else(|| panic!("no config"))
}

fn example(name: &str) -> Plan {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    plan(&config(&std::fs::read_to_string(path).unwrap_or_default()))
}

#[test]
fn complete_example_policy_is_fully_resolved() {
    let plan = example("resilient-api.yaml");
    let tool = &plan.tools[0];
    assert_eq!(tool.module, "fetch_user_data");
    assert_eq!(tool.type_prefix, "FetchUserData");
    let policy = &tool.policy;
    assert_eq!(policy.timeout, Some(Duration::from_secs(10)));
    let retry = policy.retry.clone().unwrap_or_else(|| panic!("retry"));
    let schedule = retry.schedule().unwrap_or_else(|| panic!("schedule"));
    assert_eq!(
        (
            retry.max_attempts,
            schedule.delays_ms.as_slice(),
            retry.max_delay_ms,
            schedule.jitter
        ),
        (3, &[100, 200][..], 5_000, true)
    );
    // GET is idempotent, so 500 is retried too.
    assert_eq!(schedule.retry_on, RetryOnPlan::Default { retry_500: true });
    // The breaker comes from `fault_tolerance`.
    assert_eq!(
        policy.breaker,
        Some(BreakerPlan {
            failure_threshold: 5,
            open_for: Duration::from_secs(60),
            success_threshold: 2
        })
    );
    assert_eq!(
        policy.bulkhead,
        Some(BulkheadPlan {
            max_concurrent: 20,
            max_queued: None,
            wait: None
        })
    );
    assert_eq!(policy.fallback.len(), 1);
    // `{{user_id}}` became a required string parameter.
    let params: Vec<(&str, bool)> = tool
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.required))
        .collect();
    assert_eq!(params, [("user_id", true)]);
    assert_eq!(plan.error_tracking, Some(100));
    assert!(plan.needs.http_client && !plan.needs.process && plan.needs.resilience);
}

#[test]
fn tool_keys_merge_over_middleware_defaults_and_pipelines_do_not_inherit() {
    let plan = example("full.yaml");
    let get_user = &plan.tools[0];
    let retry = get_user
        .policy
        .retry
        .clone()
        .unwrap_or_else(|| panic!("retry"));
    // max_attempts 4 and max_delay 2s from the tool, initial_delay 100ms from the middleware.
    let schedule = retry.schedule().unwrap_or_else(|| panic!("schedule"));
    assert_eq!(schedule.delays_ms, [100, 200, 400]);
    assert_eq!(retry.max_delay_ms, 2_000);
    assert!(
        matches!(schedule.retry_on, RetryOnPlan::Listed { ref statuses, .. } if statuses == &[503])
    );
    // failure_threshold 3 from the tool, timeout 60s from the middleware.
    assert_eq!(
        get_user
            .policy
            .breaker
            .map(|b| (b.failure_threshold, b.open_for)),
        Some((3, Duration::from_secs(60)))
    );
    assert_eq!(get_user.policy.timeout, Some(Duration::from_secs(15)));

    let git_log = plan
        .tools
        .iter()
        .find(|t| t.name == "git_log")
        .unwrap_or_else(|| panic!("git_log"));
    assert_eq!(git_log.policy.breaker, None, "enabled: false opts out");

    let pipeline = plan
        .tools
        .iter()
        .find(|t| t.name == "user_digest")
        .unwrap_or_else(|| panic!("pipeline"));
    assert!(matches!(pipeline.kind, KindPlan::Pipeline { .. }));
    assert_eq!(
        (pipeline.policy.retry.clone(), pipeline.policy.breaker),
        (None, None)
    );
    assert_eq!(pipeline.policy.timeout, Some(Duration::from_secs(30)));
    let TransportPlan::Http(http) = &plan.transport else {
        panic!("{:?}", plan.transport)
    };
    assert_eq!(http.bind, ([127, 0, 0, 1], 8080).into());
    assert_eq!(
        http.allowed_hosts,
        ["localhost", "127.0.0.1", "mcp.example.com"]
    );
    assert_eq!(http.allowed_origins, defaults::ALLOWED_ORIGINS);
    assert_eq!(http.max_body_bytes, defaults::MAX_BODY_BYTES);
    assert_eq!(
        http.metrics,
        MetricsPlan::Own(([127, 0, 0, 1], 9464).into())
    );
    assert!(!http.stateless);
    let Some(ServerAuthPlan::OAuth(oauth)) = &http.auth else {
        panic!("{:?}", http.auth)
    };
    // `resource` defaults to the audience; its metadata sits between origin and path.
    assert_eq!(oauth.resource, "https://mcp.example.com/mcp");
    assert_eq!(
        oauth.metadata_url,
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    assert_eq!(oauth.leeway_secs, defaults::LEEWAY_SECS);
    assert_eq!(plan.drain_ms, 30_000);
    assert!(plan.needs.jwt && plan.needs.monitoring);
    let scoped: Vec<_> = plan.tools.iter().filter(|t| !t.scopes.is_empty()).collect();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0].name, "create_note");
    assert!(plan.release);
    assert!(plan.needs.http_client && plan.needs.process && plan.needs.http_server);
}

#[test]
fn a_tool_without_policy_has_none_and_needs_follow_the_tools() {
    let plan = plan(&config(
        "forge: {name: quiet, version: 0.1.0}\ntools:\n  - {type: native, name: hi, handler: handlers::hi::handle}\n",
    ));
    assert!(plan.tools[0].policy.is_empty());
    assert_eq!(plan.needs, pforge::plan::Needs::default());
    assert_eq!(plan.transport, TransportPlan::Stdio(StdioPlan::default()));
}

#[test]
fn input_schema_carries_types_bounds_defaults_and_required() {
    let plan = example("full.yaml");
    let note = plan
        .tools
        .iter()
        .find(|t| t.name == "create_note")
        .unwrap_or_else(|| panic!("create_note"));
    let schema = pforge::plan::input_schema(&note.params);
    assert_eq!(schema["required"], serde_json::json!(["title"]));
    assert_eq!(schema["properties"]["title"]["maxLength"], 200);
    assert_eq!(schema["properties"]["tags"]["items"]["type"], "string");
    assert_eq!(schema["properties"]["priority"]["default"], 3);
    assert_eq!(schema["properties"]["priority"]["minimum"], 1);
    assert_eq!(schema["properties"]["priority"]["maximum"], 5);
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn keyword_and_odd_tool_names_become_safe_identifiers() {
    let plan = plan(&config(
        "forge: {name: odd, version: 0.1.0}\ntools:\n  - {type: native, name: type, handler: handlers::kw::handle}\n  - {type: cli, name: get-Data.v2, command: echo}\n",
    ));
    assert_eq!(
        (
            plan.tools[0].module.as_str(),
            plan.tools[0].type_prefix.as_str()
        ),
        ("r#type", "Type")
    );
    assert_eq!(
        (
            plan.tools[1].module.as_str(),
            plan.tools[1].type_prefix.as_str()
        ),
        ("get_data_v2", "GetDataV2")
    );
}

#[test]
fn the_middleware_chain_wraps_every_tool_that_did_not_opt_out() {
    let plan = example("full.yaml");
    let chain: Vec<String> = plan.middleware.iter().map(|m| m.written()).collect();
    assert_eq!(
        chain,
        ["handlers::Audit"],
        "the `recovery` entry is not in the chain"
    );
    assert_eq!(
        plan.classifier.as_ref().map(|c| c.written()),
        Some("handlers::classify_error".to_owned())
    );
    let wrapped: Vec<(&str, bool)> = plan
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t.middleware))
        .collect();
    assert_eq!(
        wrapped,
        [
            ("get_user", true),
            ("create_note", true),
            ("git_log", false),
            ("summarize", true),
            ("user_digest", true)
        ]
    );
    let none = example("policies.yaml");
    assert!(none.middleware.is_empty() && none.tools.iter().all(|t| !t.middleware));
}

#[test]
fn tools_that_reach_out_get_a_timeout_and_an_output_bound() {
    let plan = plan(&config(
        "forge: {name: t, version: 0.1.0, max_output_bytes: 2048}\ntools:\n  - {type: cli, name: c, command: ls, args: [\"{{dir}}\", \"-l\", \"{{mode}}\"], params: {dir: string, mode: {type: string, allow_options: true}}}\n  - {type: http, name: h, endpoint: \"https://x.example/{{id}}\", follow_redirects: true}\n  - {type: http, name: own, endpoint: \"https://x.example/\", timeout_ms: 90000}\n  - {type: native, name: own_code, handler: handlers::own_code}\n  - {type: native, name: backed, handler: handlers::backed, fallback: {type: http, endpoint: \"https://b.example/\"}}\n",
    ));
    let timeouts: Vec<Option<Duration>> = plan.tools.iter().map(|t| t.policy.timeout).collect();
    let default = Some(Duration::from_millis(defaults::OUTSIDE_TIMEOUT_MS));
    assert_eq!(
        timeouts,
        [
            default,
            default,
            Some(Duration::from_secs(90)),
            None,
            default
        ],
        "a native handler is the user's code; its http fallback is not"
    );
    let KindPlan::Cli(cli) = &plan.tools[0].kind else {
        panic!("cli")
    };
    assert_eq!(cli.max_output_bytes, 2048);
    let guarded: Vec<Option<&str>> = cli.args.iter().map(|a| a.guarded.as_deref()).collect();
    assert_eq!(guarded, [Some("dir"), None, None], "`mode` allows options");
    let KindPlan::Http(call) = &plan.tools[1].kind else {
        panic!("http")
    };
    assert_eq!((call.follow_redirects, call.max_body_bytes), (true, 2048));
    assert_eq!(
        plan.max_output_bytes, 2048,
        "one bound for commands and upstreams"
    );
}

fn names<'a>(tools: impl Iterator<Item = &'a pforge::plan::ToolPlan>) -> Vec<&'a str> {
    tools.map(|t| t.name.as_str()).collect()
}

/// The facts several emitters ask (src/plan/needs.rs) are decided once; these pin them.
#[test]
fn a_breaker_or_a_bulkhead_is_guarded_and_every_layer_has_policy_tests() {
    let plan = example("policies.yaml");
    assert_eq!(
        names(plan.guarded_tools()),
        ["flaky_command", "guarded", "queued", "custom_retry"]
    );
    assert!(plan.keeps_guards());
    let tested = names(plan.tools.iter().filter(|t| t.has_policy_tests()));
    let all_but_plain = names(plan.tools.iter().filter(|t| t.name != "plain"));
    assert_eq!(tested, all_but_plain);
    assert_eq!(plan.has_policy_tests(), plan.needs.resilience);
    assert!(!plan.has_middleware());
}

#[test]
fn a_server_without_guards_or_middleware_says_so() {
    let plan = example("minimal.yaml");
    assert!(!plan.keeps_guards());
    assert!(!plan.has_middleware());
    assert!(!plan.serves_metrics());
    assert!(!plan.checks_scopes());
    let full = example("full.yaml");
    assert!(full.has_middleware());
    assert!(full.serves_resources());
}

/// A pipeline's http fallback receives the pipeline's input, as any tool's fallback does, so
/// its placeholders are parameters of the pipeline: the loader (which makes a calling step
/// pass them) and the plan (the input the server accepts) agree on them.
#[test]
fn a_pipeline_fallback_placeholder_is_a_parameter_of_the_pipeline() {
    let yaml = "forge: {name: demo, version: 0.1.0}\n\
        tools:\n\
        - {name: lookup, type: http, endpoint: 'https://api.example.com/u/{{id}}'}\n\
        - name: flow\n  type: pipeline\n  steps: [{tool: lookup, input: {id: '{{id}}'}, output_var: user}]\n  \
          fallback: {type: http, endpoint: 'https://replica.example.com/flow/{{z}}'}\n\
        - name: outer\n  type: pipeline\n  steps: [{tool: flow, input: {id: '{{id}}', z: '{{z}}'}}]\n";
    let plan = plan(&config(yaml));
    let names = |tool: usize| -> Vec<&str> {
        plan.tools[tool]
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    };
    assert_eq!(
        names(1),
        ["id", "z"],
        "a caller could not pass `z`, so the fallback would always send an empty one"
    );
    assert_eq!(names(2), ["id", "z"]);
    let without_z = yaml.replace(", z: '{{z}}'", "");
    let loaded = pforge::load::load_str("forge.yaml", &without_z);
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.message.contains("does not pass `z`")),
        "{:?}",
        loaded.diagnostics
    );
}

/// The fallback gets the pipeline's input, not the variables its steps set: a declared
/// pipeline's fallback naming a step's `output_var` is refused where it is written.
#[test]
fn a_pipeline_fallback_cannot_use_a_step_output() {
    let yaml = "forge: {name: demo, version: 0.1.0}\n\
        tools:\n\
        - {name: lookup, type: http, endpoint: 'https://api.example.com/u/{{id}}'}\n\
        - name: flow\n  type: pipeline\n  params: {id: string}\n  \
          steps: [{tool: lookup, input: {id: '{{id}}'}, output_var: user}]\n  \
          fallback: {type: http, endpoint: 'https://replica.example.com/flow/{{user}}'}\n";
    let loaded = pforge::load::load_str("forge.yaml", yaml);
    let errors: Vec<(&str, &str)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.pointer.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [(
            "/tools/1/fallback/endpoint",
            "`{{user}}` is not a parameter of tool `flow`"
        )]
    );
}
