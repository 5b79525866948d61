//! `src/generated/tests.rs`: the generated crate tests itself, on the code paths the server
//! uses: the tool list and schemas, argument validation of every tool, the command line of
//! every cli tool, and every http tool against a loopback upstream started by the test.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use super::ident;
use crate::config::ParamType;
use crate::plan::{KindPlan, ParamPlan, Plan, ToolPlan};

/// A valid value for a parameter, if one can be made without guessing a regex.
fn sample(param: &ParamPlan) -> Option<Value> {
    if let Some(default) = &param.default {
        return Some(default.clone());
    }
    if let Some(first) = param
        .schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    let num = |key: &str| param.schema.get(key).and_then(Value::as_f64);
    let count = |key: &str| param.schema.get(key).and_then(Value::as_u64);
    match param.kind {
        ParamType::String => {
            if param.schema.get("pattern").is_some() {
                return None;
            }
            let min = count("minLength").unwrap_or(0) as usize;
            let max = count("maxLength").map_or(usize::MAX, |m| m as usize);
            let len = min.max(4).min(max);
            Some(Value::String("x".repeat(len)))
        }
        ParamType::Integer => {
            let value = num("minimum")
                .map_or(1.0, f64::ceil)
                .min(num("maximum").unwrap_or(f64::MAX));
            Some(json!(value as i64))
        }
        ParamType::Number | ParamType::Float => Some(json!(
            num("minimum")
                .unwrap_or(1.0)
                .min(num("maximum").unwrap_or(f64::MAX))
        )),
        ParamType::Boolean => Some(json!(true)),
        ParamType::Array => (count("minItems").unwrap_or(0) == 0).then(|| json!([])),
        ParamType::Object => Some(json!({})),
    }
}

/// A value of the wrong JSON type for a parameter.
fn wrong(param: &ParamPlan) -> Value {
    match param.kind {
        ParamType::String => json!(12345),
        _ => json!("not-the-right-type"),
    }
}

/// Valid arguments for every parameter, if they can all be made.
fn samples(tool: &ToolPlan) -> Option<serde_json::Map<String, Value>> {
    tool.params
        .iter()
        .map(|p| sample(p).map(|v| (p.name.clone(), v)))
        .collect()
}

/// The generated test module, or nothing when the plan has no tools.
pub fn tests(plan: &Plan) -> TokenStream {
    if plan.tools.is_empty() {
        return quote!();
    }
    let names = plan.tools.iter().map(|t| t.name.as_str());
    let schemas = plan.tools.iter().enumerate().map(|(i, t)| {
        let schema = super::raw_string(&crate::plan::input_schema(&t.params).to_string());
        let name = &t.name;
        quote! {
            let expected: Value = serde_json::from_str(#schema).unwrap_or_default();
            assert_eq!(Value::Object((*tools[#i].input_schema).clone()), expected, "input schema of `{}`", #name);
        }
    });
    let per_tool = plan.tools.iter().map(tool_tests);
    let upstream = plan
        .tools
        .iter()
        .any(|t| matches!(t.kind, KindPlan::Http { .. }))
        .then(upstream);
    quote! {
        //! Tests of the generated server, on the same code paths the server uses.

        use serde_json::Value;

        use super::Server;
        use super::runtime::ToolError;

        fn arguments(value: Value) -> rmcp::model::JsonObject {
            value.as_object().cloned().unwrap_or_default()
        }

        /// Runs a tool the way `tools/call` does.
        async fn run(tool: &str, value: Value) -> Result<Value, ToolError> {
            match Server::new().run(tool, arguments(value)).await {
                Some(outcome) => outcome.map(|answer| answer.value),
                None => panic!("no tool `{tool}`"),
            }
        }

        fn rejected(outcome: &Result<Value, ToolError>, needle: &str) -> bool {
            matches!(outcome, Err(ToolError::InvalidArguments(message)) if message.contains(needle))
        }

        #[test]
        fn tools_list_matches_forge_yaml() {
            let tools = Server::tools();
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
            assert_eq!(names, [#(#names),*]);
            #(#schemas)*
        }

        #[tokio::test]
        async fn an_unknown_tool_is_not_run() {
            assert!(Server::new().run("no-such-tool", rmcp::model::JsonObject::new()).await.is_none());
        }

        #upstream
        #(#per_tool)*
    }
}

/// A tool's tests, in a module of their own (named like the tool's module) so that no test
/// name is built from two names that could meet; each parameter's tests likewise.
fn tool_tests(tool: &ToolPlan) -> TokenStream {
    let name = &tool.name;
    let Some(valid) = samples(tool) else {
        return quote!();
    };
    let mut out = Vec::new();

    let mut unknown = "unexpected_argument".to_owned();
    while valid.contains_key(&unknown) {
        unknown.push('_');
    }
    let mut with_extra = valid.clone();
    with_extra.insert(unknown.clone(), json!(1));
    let extra = Value::Object(with_extra).to_string();
    out.push(quote! {
        #[tokio::test]
        async fn rejects_unknown_arguments() {
            let outcome = run(#name, serde_json::from_str(#extra).unwrap_or_default()).await;
            assert!(rejected(&outcome, #unknown), "{outcome:?}");
        }
    });
    out.extend(
        tool.params
            .iter()
            .map(|param| param_tests(tool, param, &valid)),
    );

    let input = format_ident!("{}Input", tool.type_prefix);
    let tool_module = ident(&tool.module);
    let valid_json = Value::Object(valid.clone()).to_string();
    match &tool.kind {
        KindPlan::Cli(cli) if !cli.args.iter().any(|a| a.contains("${")) => {
            let expected: Vec<String> = cli.args.iter().map(|arg| fill(arg, &valid)).collect();
            let program = cli.command.trim();
            out.push(quote! {
                #[test]
                fn builds_its_command_without_a_shell() {
                    let input = crate::generated::tools::#tool_module::#input::from_arguments(arguments(serde_json::from_str(#valid_json).unwrap_or_default()));
                    let Ok(input) = input else { panic!("sample arguments rejected: {input:?}") };
                    let command = crate::generated::tools::#tool_module::command(&input);
                    assert_eq!(command.as_std().get_program(), #program);
                    let args: Vec<String> = command.as_std().get_args().map(|a| a.to_string_lossy().into_owned()).collect();
                    let expected: Vec<&str> = vec![#(#expected),*];
                    assert_eq!(args, expected);
                }
            });
        }
        KindPlan::Http { http, method }
            if !crate::emit::tool::endpoint_path(&http.endpoint).contains("${") =>
        {
            let method = method.as_str();
            out.push(quote! {
                #[tokio::test]
                async fn calls_its_endpoint() {
                    let (base, requests) = upstream().await;
                    let input = crate::generated::tools::#tool_module::#input::from_arguments(arguments(serde_json::from_str(#valid_json).unwrap_or_default()));
                    let Ok(input) = input else { panic!("sample arguments rejected: {input:?}") };
                    let endpoint = format!("{base}{}", crate::generated::tools::#tool_module::ENDPOINT_PATH);
                    let outcome = crate::generated::tools::#tool_module::send(&Server::new(), &input, &endpoint).await;
                    assert_eq!(outcome.ok().and_then(|v| v.get("ok").cloned()), Some(Value::Bool(true)));
                    let seen = requests.await.unwrap_or_default();
                    assert!(seen.starts_with(concat!(#method, " /")), "{seen}");
                }
            });
        }
        _ => {}
    }
    let doc = format!(" The `{name}` tool.");
    let allow = super::allow_inception(&tool.module, "tests");
    quote! {
        #[doc = #doc]
        #allow
        mod #tool_module {
            use super::*;

            #(#out)*
        }
    }
}

/// The tests of one parameter: required when it is, type checked always.
fn param_tests(
    tool: &ToolPlan,
    param: &ParamPlan,
    valid: &serde_json::Map<String, Value>,
) -> TokenStream {
    let name = &tool.name;
    let wire = &param.name;
    let required = param.required.then(|| {
        let mut without = valid.clone();
        without.remove(wire);
        let without = Value::Object(without).to_string();
        let needle = format!("`{wire}` is required");
        quote! {
            #[tokio::test]
            async fn is_required() {
                let outcome = run(#name, serde_json::from_str(#without).unwrap_or_default()).await;
                assert!(rejected(&outcome, #needle), "{outcome:?}");
            }
        }
    });
    let mut bad = valid.clone();
    bad.insert(wire.clone(), wrong(param));
    let bad = Value::Object(bad).to_string();
    let needle = format!("`{wire}`");
    let module = ident(&param.field);
    let doc = format!(" The `{wire}` parameter.");
    let allow = super::allow_inception(&param.field, &tool.module);
    quote! {
        #[doc = #doc]
        #allow
        mod #module {
            use super::super::*;

            #required

            #[tokio::test]
            async fn checks_its_type() {
                let outcome = run(#name, serde_json::from_str(#bad).unwrap_or_default()).await;
                assert!(rejected(&outcome, #needle), "{outcome:?}");
            }
        }
    }
}

/// The value the generated code puts into an argument template for the sample values.
fn fill(template: &str, values: &serde_json::Map<String, Value>) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for spelling in [format!("{{{{{name}}}}}"), format!("{{{{ {name} }}}}")] {
            out = out.replace(&spelling, &text);
        }
    }
    out
}

fn upstream() -> TokenStream {
    quote! {
        /// A loopback HTTP upstream that answers one request with `{"ok": true}` and hands
        /// back the request it received.
        async fn upstream() -> (String, tokio::sync::oneshot::Receiver<String>) {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
            let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
            let (sender, receiver) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let mut buffer = vec![0u8; 16 * 1024];
                let mut read = 0;
                while read < buffer.len() {
                    match socket.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                    if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let body = "{\"ok\":true}";
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = sender.send(String::from_utf8_lossy(&buffer[..read]).into_owned());
            });
            (format!("http://{address}"), receiver)
        }
    }
}
