//! Turns a config that passed every check into a [`Checked`] one: the handler paths the checks
//! accepted, parsed; the templated strings of [`fields`], credentials and step arguments,
//! split; endpoints cut where their host ends; step targets found and conditions read; each
//! tool's derived parameters. The checks already refused everything these
//! steps could trip on, so a failure here is a loader bug, reported rather than hidden.

mod server;

use std::collections::HashMap;

use super::fields::{self, Owner, Slot};
use super::pointer::Pointer;
use crate::config::{
    Auth, AuthFacts, Checked, ClassifyBy, CliFacts, Config, Endpoint, Facts, Fallback,
    FallbackEntry, FallbackFacts, HandlerRef, HttpFacts, KindFacts, Middleware, PipelineTool,
    Prompt, PromptFacts, StepFacts, Tool, ToolFacts, ToolKind,
};
use crate::holes::{self, JsonTemplate, Template};
use crate::naming::{self, HandlerPath};

/// A fact the checks should have established and did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unestablished {
    /// Where in the document.
    pub pointer: Pointer,
    /// What could not be read there.
    pub message: String,
}

/// Each tool's derived parameters, by index in `tools`.
pub type Derived = HashMap<usize, Vec<String>>;

/// Pairs `config` with the facts the checks established; `derived` holds the parameters the
/// checks derived for each tool.
pub fn establish(config: Config, derived: &Derived) -> Result<Checked, Unestablished> {
    let tools = config
        .tools
        .iter()
        .enumerate()
        .map(|(index, tool)| tool_facts(&config, (tool, index), derived))
        .collect::<Result<_, _>>()?;
    let middleware = native_middleware(&config)?;
    let resources = config
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| optional(r.handler.as_ref(), &Pointer::resource(i).key("handler")))
        .collect::<Result<_, _>>()?;
    let prompts = config.prompts.iter().map(prompt_facts).collect();
    let facts = Facts {
        tools,
        prompts,
        middleware,
        resources,
        fault_tolerance_retry_policy: fault_tolerance_retry_policy(&config)?,
        recovery_retry_policy: recovery_retry_policy(&config)?,
        classifier: classifier(&config)?,
        http_server: server::http_server_facts(&config)?,
    };
    Ok(Checked::new(config, facts))
}

fn tool_facts(
    config: &Config,
    (tool, index): (&Tool, usize),
    derived: &Derived,
) -> Result<ToolFacts, Unestablished> {
    let at = Pointer::tool(index);
    let derived_params = derived.get(&index).cloned().ok_or_else(|| Unestablished {
        pointer: at.clone(),
        message: "the parameters of this tool were not derived".to_owned(),
    })?;
    let fields = fields::of_tool(tool, &at);
    let kind = match &tool.kind {
        ToolKind::Native(native) => {
            KindFacts::Native(handler(&native.handler, &at.key("handler"))?)
        }
        ToolKind::Cli(cli) => KindFacts::Cli(cli.clone(), cli_facts(&fields)),
        ToolKind::Http(http) => {
            let mut facts = http_facts(&fields, Owner::Kind)?;
            facts.auth = http.auth.as_ref().map(auth_facts);
            KindFacts::Http(http.clone(), facts)
        }
        ToolKind::Pipeline(pipeline) => {
            KindFacts::Pipeline(pipeline.clone(), step_facts(config, pipeline, &at)?)
        }
    };
    let entries: &[FallbackEntry] = tool.common.fallback.as_ref().map_or(&[], |f| f.entries());
    let chain = matches!(tool.common.fallback, Some(Fallback::Chain(_)));
    let fallback = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let entry_at = if chain {
                at.key("fallback").index(i)
            } else {
                at.key("fallback")
            };
            fallback_facts(entry, Owner::Fallback(i), &fields, &entry_at)
        })
        .collect::<Result<_, _>>()?;
    let retry_policy = optional(
        tool.common.retry.as_ref().and_then(|r| r.policy.as_ref()),
        &at.key("retry").key("policy"),
    )?;
    Ok(ToolFacts {
        derived_params,
        kind,
        fallback,
        retry_policy,
    })
}

fn fallback_facts(
    entry: &FallbackEntry,
    owner: Owner,
    fields: &[fields::Field<'_>],
    at: &Pointer,
) -> Result<FallbackFacts, Unestablished> {
    Ok(match entry {
        FallbackEntry::Native(native) => {
            FallbackFacts::Native(handler(&native.handler, &at.key("handler"))?)
        }
        FallbackEntry::Http(http) => {
            FallbackFacts::Http(http.clone(), Box::new(http_facts(fields, owner)?))
        }
        FallbackEntry::Value(value) => FallbackFacts::Value(value.value.clone()),
    })
}

/// A command's strings, split.
fn cli_facts(fields: &[fields::Field<'_>]) -> CliFacts {
    let mut facts = CliFacts {
        args: Vec::new(),
        cwd: None,
        env: Vec::new(),
    };
    for field in fields.iter().filter(|f| f.owner == Owner::Kind) {
        let template = Template::split(field.text);
        match field.slot {
            Slot::Arg => facts.args.push(template),
            Slot::Cwd => facts.cwd = Some(template),
            Slot::Env(key) => facts.env.push((key.to_owned(), template)),
            Slot::Endpoint | Slot::Header(_) | Slot::Query(_) => {}
        }
    }
    facts
}

/// The strings of the request `owner` makes, split; its endpoint cut where the host ends.
fn http_facts(fields: &[fields::Field<'_>], owner: Owner) -> Result<HttpFacts, Unestablished> {
    let mut endpoint = None;
    let mut headers = Vec::new();
    let mut query = Vec::new();
    for field in fields.iter().filter(|f| f.owner == owner) {
        match field.slot {
            Slot::Endpoint => endpoint = Some(cut(field.text, &field.pointer)?),
            Slot::Header(key) => headers.push((key.to_owned(), Template::split(field.text))),
            Slot::Query(key) => query.push((key.to_owned(), Template::split(field.text))),
            Slot::Arg | Slot::Cwd | Slot::Env(_) => {}
        }
    }
    let endpoint = endpoint.ok_or_else(|| Unestablished {
        pointer: Pointer::root(),
        message: "a request without an endpoint".to_owned(),
    })?;
    Ok(HttpFacts {
        endpoint,
        headers,
        query,
        auth: None,
    })
}

/// Credentials, split (they take `${VAR}` only).
fn auth_facts(auth: &Auth) -> AuthFacts {
    match auth {
        Auth::Bearer(bearer) => AuthFacts::Bearer(Template::env_only(&bearer.token)),
        Auth::Basic(basic) => AuthFacts::Basic {
            username: Template::env_only(&basic.username),
            password: Template::env_only(&basic.password),
        },
        Auth::ApiKey(key) => AuthFacts::ApiKey {
            header: key.header.clone(),
            key: Template::env_only(&key.key),
        },
    }
}

/// Each step of the pipeline at `at`: the tool it names exists, its arguments split, its
/// condition read.
fn step_facts(
    config: &Config,
    pipeline: &PipelineTool,
    at: &Pointer,
) -> Result<Vec<StepFacts>, Unestablished> {
    let mut steps = Vec::with_capacity(pipeline.steps.len());
    for (index, step) in pipeline.steps.iter().enumerate() {
        let step_at = at.key("steps").index(index);
        if !config.tools.iter().any(|t| t.common.name == step.tool) {
            return Err(Unestablished {
                pointer: step_at.key("tool"),
                message: format!("no tool is named `{}`", step.tool),
            });
        }
        let condition = step
            .condition
            .as_deref()
            .map(|text| {
                holes::condition(text).ok_or_else(|| Unestablished {
                    pointer: step_at.key("condition"),
                    message: format!("`{text}` is not a condition"),
                })
            })
            .transpose()?;
        let arguments = step
            .arguments()
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.clone(), JsonTemplate::split(value)))
            .collect();
        steps.push(StepFacts {
            arguments,
            condition,
        });
    }
    Ok(steps)
}

/// An endpoint cut where its scheme and host (or the leading `${VAR}`) end.
fn cut(endpoint: &str, at: &Pointer) -> Result<Endpoint, Unestablished> {
    let split = holes::authority_end(endpoint).ok_or_else(|| Unestablished {
        pointer: at.clone(),
        message: "the endpoint must be an absolute http:// or https:// URL".to_owned(),
    })?;
    let (origin, path) = endpoint.split_at(split);
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or(origin);
    Ok(Endpoint {
        host: host.to_owned(),
        origin: Template::split(origin),
        path: Template::split(path),
    })
}

/// A prompt's template, split at its placeholders, and the arguments they make.
fn prompt_facts(prompt: &Prompt) -> PromptFacts {
    let template = prompt.template.as_deref().map(Template::params_only);
    let mut derived_arguments: Vec<String> = Vec::new();
    for name in template.iter().flat_map(Template::params) {
        if !derived_arguments.iter().any(|known| known == name) {
            derived_arguments.push(name.to_owned());
        }
    }
    PromptFacts {
        template,
        derived_arguments,
    }
}

fn native_middleware(config: &Config) -> Result<Vec<HandlerPath>, Unestablished> {
    let mut found = Vec::new();
    for (i, entry) in config.middleware.iter().flatten().enumerate() {
        if let Middleware::Native(native) = entry {
            found.push(handler(
                &native.handler,
                &Pointer::middleware(i).key("handler"),
            )?);
        }
    }
    Ok(found)
}

fn fault_tolerance_retry_policy(config: &Config) -> Result<Option<HandlerPath>, Unestablished> {
    let policy = config
        .fault_tolerance
        .as_ref()
        .and_then(|f| f.retry.as_ref())
        .and_then(|r| r.policy.as_ref());
    let at = Pointer::section("fault_tolerance")
        .key("retry")
        .key("policy");
    optional(policy, &at)
}

fn recovery_retry_policy(config: &Config) -> Result<Option<HandlerPath>, Unestablished> {
    let entries = config.middleware.iter().flatten().enumerate();
    for (i, entry) in entries {
        if let Some(recovery) = entry.recovery() {
            let policy = recovery.retry.as_ref().and_then(|r| r.policy.as_ref());
            // `Middleware` is tagged by `type`, so the entry's keys sit on the entry itself.
            let at = Pointer::middleware(i).key("retry");
            return optional(policy, &at.key("policy"));
        }
    }
    Ok(None)
}

/// The classifier of the error tracking the two spellings merge to, located in the spelling
/// it came from: `fault_tolerance`'s key wins over the `recovery` middleware entry's.
fn classifier(config: &Config) -> Result<Option<HandlerPath>, Unestablished> {
    let Some(ClassifyBy::Handler(path)) = config.error_tracking().and_then(|t| t.classify_by)
    else {
        return Ok(None);
    };
    let from_fault_tolerance = config
        .fault_tolerance
        .as_ref()
        .and_then(|f| f.error_tracking.as_ref())
        .is_some_and(|t| t.classify_by.is_some());
    let recovery = config
        .middleware
        .iter()
        .flatten()
        .position(|entry| entry.recovery().is_some());
    let tracking = match recovery {
        Some(i) if !from_fault_tolerance => Pointer::middleware(i),
        _ => Pointer::section("fault_tolerance"),
    };
    let at = tracking.key("error_tracking").key("classify_by");
    handler(&path, &at).map(Some)
}

fn optional(
    handler_ref: Option<&HandlerRef>,
    at: &Pointer,
) -> Result<Option<HandlerPath>, Unestablished> {
    handler_ref.map(|h| handler(h, at)).transpose()
}

fn handler(handler_ref: &HandlerRef, at: &Pointer) -> Result<HandlerPath, Unestablished> {
    naming::handler_path(&handler_ref.path).map_err(|problem| Unestablished {
        pointer: at.clone(),
        message: problem.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holes::Part;

    #[test]
    fn an_endpoint_is_cut_where_its_host_ends() {
        let cut = |text: &str| {
            cut(text, &Pointer::section("x")).map(|e| (e.host, e.origin.parts, e.path.parts))
        };
        let text = |t: &str| Part::Text(t.to_owned());
        assert_eq!(
            cut("HTTP://h:80?q={{q}}"),
            Ok((
                "HTTP://h:80".to_owned(),
                vec![text("HTTP://h:80")],
                vec![text("?q="), Part::Param("q".into())]
            ))
        );
        let (host, origin, path) = cut("${BASE}/v1").unwrap_or_default();
        assert_eq!(
            (host.as_str(), origin.len(), path),
            ("${BASE}", 1, vec![text("/v1")])
        );
        assert_eq!(
            cut("/relative").map_err(|e| e.pointer),
            Err(Pointer::section("x")),
            "an endpoint without a host is not established"
        );
    }

    /// A config that skipped the checks, with no derived parameters missing.
    fn unchecked(json: serde_json::Value) -> (Config, Derived) {
        let config: Config = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        let derived = (0..config.tools.len()).map(|i| (i, Vec::new())).collect();
        (config, derived)
    }

    #[test]
    fn a_step_naming_no_tool_or_with_no_condition_is_not_established() {
        let pipeline = |step: serde_json::Value| {
            serde_json::json!({
                "forge": {"name": "demo", "version": "0.1.0"},
                "tools": [
                    {"name": "a", "type": "native", "handler": "handlers::a"},
                    {"name": "p", "type": "pipeline", "steps": [{"tool": "a"}, step]}
                ]
            })
        };
        let refused = |step| {
            let (config, derived) = unchecked(pipeline(step));
            establish(config, &derived).map(|_| ())
        };
        let missing = refused(serde_json::json!({"tool": "nope"}));
        assert_eq!(
            missing.map_err(|e| (e.pointer, e.message)),
            Err((
                Pointer::tool(1).key("steps").index(1).key("tool"),
                "no tool is named `nope`".to_owned()
            )),
            "a step whose tool is missing must be refused, not dropped from the plan"
        );
        let bad = refused(serde_json::json!({"tool": "a", "condition": "a b"}));
        assert_eq!(
            bad.map_err(|e| e.pointer),
            Err(Pointer::tool(1).key("steps").index(1).key("condition"))
        );
        assert_eq!(
            refused(serde_json::json!({"tool": "a", "condition": "!x"})),
            Ok(())
        );
    }

    /// The pointer `establish` reports for the handler paths of `text` (which skip the checks
    /// that would refuse them), and whether it names a node of the document.
    fn unestablished_at(text: &str) -> (String, bool) {
        let source = crate::diagnostics::SourceFile::new("forge.yaml", text);
        let tree = crate::load::yaml::parse(&source).unwrap_or_else(|e| panic!("{e:?}"));
        let config: Config =
            serde_json::from_value(tree.to_json()).unwrap_or_else(|e| panic!("{e}"));
        let error = recovery_retry_policy(&config)
            .and_then(|_| classifier(&config))
            .err()
            .unwrap_or_else(|| panic!("{text} was established"));
        let exact = tree.resolve(&error.pointer).exact;
        (error.pointer.to_string(), exact)
    }

    #[test]
    fn a_recovery_entrys_facts_are_located_on_the_entry() {
        let head = "forge: {name: demo, version: 0.1.0}\nmiddleware:\n- type: recovery\n";
        let retry = format!("{head}  retry: {{max_attempts: 2, policy: 'not a path'}}\n");
        assert_eq!(
            unestablished_at(&retry),
            ("/middleware/0/retry/policy".into(), true)
        );
        let tracking = format!("{head}  error_tracking: {{classify_by: 'handlers::a b'}}\n");
        let at = "/middleware/0/error_tracking/classify_by";
        assert_eq!(unestablished_at(&tracking), (at.into(), true));
        let both = format!(
            "{tracking}fault_tolerance:\n  error_tracking: {{classify_by: 'handlers::c d'}}\n"
        );
        let at = "/fault_tolerance/error_tracking/classify_by";
        assert_eq!(unestablished_at(&both), (at.into(), true));
    }

    #[test]
    fn a_checked_config_carries_its_facts() {
        let loaded = crate::load::load_str(
            "forge.yaml",
            "forge: {name: demo, version: 0.1.0}\n\
             tools:\n\
             - {name: a, type: native, handler: {path: handlers::a}}\n\
             - {name: c, type: cli, command: echo, args: ['{{x}}', '${HOME}{{y}}']}\n\
             - {name: h, type: http, endpoint: 'https://h.example', auth: {type: bearer, token: '${T}'}}\n\
             - {name: p, type: pipeline, steps: [{tool: a, input: {v: '{{x}}'}, condition: '!x'}]}\n",
        );
        let Some(checked) = loaded.config else {
            panic!("{:?}", loaded.diagnostics)
        };
        let facts = &checked.facts().tools;
        assert!(matches!(&facts[0].kind, KindFacts::Native(h) if h.written() == "handlers::a"));
        assert_eq!(facts[1].derived_params, ["x", "y"]);
        let KindFacts::Cli(_, cli) = &facts[1].kind else {
            panic!("{:?}", facts[1].kind)
        };
        assert_eq!(cli.args[1].leading_param(), Some("y"));
        let KindFacts::Http(_, http) = &facts[2].kind else {
            panic!("{:?}", facts[2].kind)
        };
        assert_eq!(
            http.auth,
            Some(AuthFacts::Bearer(Template::env_only("${T}")))
        );
        let KindFacts::Pipeline(_, steps) = &facts[3].kind else {
            panic!("{:?}", facts[3].kind)
        };
        assert_eq!(
            steps[0].arguments,
            [("v".to_owned(), JsonTemplate::Variable("x".into()))]
        );
        assert!(steps[0].condition.as_ref().is_some_and(|c| c.negated));
    }
}
