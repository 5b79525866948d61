//! `src/generated/tests.rs`: the generated crate tests itself, on the code paths the server
//! uses: the tool list and schemas, argument validation of every tool, the command line of
//! every cli tool, and every http tool against a loopback upstream started by the test.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use super::ident;
use crate::plan::{KindPlan, ParamPlan, Part, Plan, Template, ToolPlan, ValueKind as ParamType};

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
        ParamType::Number => Some(json!(
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

/// The generated test module, or nothing when the plan has no tools. The cases are tables
/// (one line per tool or per case) run by one loop each, so the module grows by a line or two
/// per tool.
pub fn tests(plan: &Plan) -> TokenStream {
    if plan.tools.is_empty() {
        return quote!();
    }
    let tools_list = tools_list_tests(plan);
    let refusal_test = refusal_test(plan);
    let cli_tests = commands_module(plan);
    let cli_macro = cli_tests.is_some().then(command_macro);
    let http_tests = endpoints_module(plan);
    let http_macro = http_tests.is_some().then(|| {
        let upstream = upstream();
        let endpoint_macro = endpoint_macro();
        quote!(#upstream #endpoint_macro)
    });
    // Only the tests that call tools with sample arguments need to build them.
    let arguments =
        (refusal_test.is_some() || cli_tests.is_some() || http_tests.is_some()).then(|| {
            quote! {
                fn arguments(value: Value) -> ::rmcp::model::JsonObject {
                    value.as_object().cloned().unwrap_or_default()
                }
            }
        });
    quote! {
        //! Tests of the generated server, on the same code paths the server uses.

        use ::serde_json::Value;

        use super::Server;

        #arguments
        #tools_list
        #refusal_test
        #cli_macro
        #cli_tests
        #http_macro
        #http_tests
    }
}

/// `tools/list` lists every tool of forge.yaml with its schema, and nothing runs an unknown
/// tool.
fn tools_list_tests(plan: &Plan) -> TokenStream {
    let expected: String = plan
        .tools
        .iter()
        .map(|t| format!("\n{} {}", t.name, crate::plan::input_schema(&t.params)))
        .collect();
    let expected = super::raw_string(&format!("{expected}\n"));
    quote! {
        /// Every tool as forge.yaml defines it, in `tools/list` order: its name and input
        /// schema, one per line.
        const EXPECTED_TOOLS: &str = #expected;

        #[test]
        fn tools_list_matches_forge_yaml() {
            let tools = Server::tools();
            let expected: Vec<(&str, &str)> = EXPECTED_TOOLS.lines().filter_map(|l| l.split_once(' ')).collect();
            assert_eq!(tools.len(), expected.len());
            for (tool, (name, schema)) in tools.iter().zip(expected) {
                assert_eq!(tool.name, name);
                let schema: Value = ::serde_json::from_str(schema).unwrap_or_default();
                assert_eq!(Value::Object((*tool.input_schema).clone()), schema, "input schema of `{name}`");
            }
        }

        #[::tokio::test]
        async fn an_unknown_tool_is_not_run() {
            assert!(Server::new().run("no-such-tool", ::rmcp::model::JsonObject::new()).await.is_none());
        }
    }
}

/// The table of arguments each tool must refuse and the loop that runs it, when some tool
/// has such arguments.
fn refusal_test(plan: &Plan) -> Option<TokenStream> {
    let refused: String = plan.tools.iter().flat_map(refusals).collect();
    if refused.is_empty() {
        return None;
    }
    let refused = super::raw_string(&refused);
    // The user's middleware may refuse or rescue calls; these tests are about the tools.
    let run = if plan.has_middleware() {
        quote!(run_without_middleware)
    } else {
        quote!(run)
    };
    Some(quote! {
        use super::runtime::ToolError;

        /// Runs a tool the way `tools/call` does, without the middleware.
        async fn run(tool: &str, value: Value) -> Result<Value, ToolError> {
            match Server::new().#run(tool, arguments(value)).await {
                Some(outcome) => outcome.map(|answer| answer.value),
                None => panic!("no tool `{tool}`"),
            }
        }

        fn rejected(outcome: &Result<Value, ToolError>, needle: &str) -> bool {
            matches!(outcome, Err(ToolError::InvalidArguments(message)) if message.contains(needle))
        }

        /// Arguments each tool must refuse, one case per line: the tool, the arguments (valid
        /// but for one thing) and what the error must name, separated by tabs.
        const REFUSED: &str = #refused;

        #[::tokio::test]
        async fn every_tool_refuses_unknown_missing_and_mistyped_arguments() {
            for case in REFUSED.lines().filter(|l| !l.is_empty()) {
                let mut fields = case.split('\t');
                let (tool, arguments, needle) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
                let outcome = run(tool, ::serde_json::from_str(arguments).unwrap_or_default()).await;
                assert!(rejected(&outcome, needle), "`{tool}` with {arguments}: {outcome:?}");
            }
        }
    })
}

// The modules named like tools live in a module of their own, out of the scope of the code
// above: a tool named `tokio`, `serde_json` or `str` shadows nothing it uses.

/// `mod commands`: the command line of each cli tool.
fn commands_module(plan: &Plan) -> Option<TokenStream> {
    let tests: Vec<TokenStream> = plan.tools.iter().filter_map(command_test).collect();
    (!tests.is_empty()).then(|| {
        quote! {
            /// The command line of each cli tool, in a module named like the tool's.
            mod commands {
                #(#tests)*
            }
        }
    })
}

/// `mod endpoints`: the request of each http tool.
fn endpoints_module(plan: &Plan) -> Option<TokenStream> {
    let tests: Vec<TokenStream> = plan.tools.iter().filter_map(endpoint_test).collect();
    (!tests.is_empty()).then(|| {
        quote! {
            /// The request of each http tool, in a module named like the tool's.
            mod endpoints {
                #(#tests)*
            }
        }
    })
}

/// The lines of `REFUSED` for one tool: an unknown argument, each required parameter left
/// out, each parameter of the wrong type.
fn refusals(tool: &ToolPlan) -> Vec<String> {
    let Some(valid) = samples(tool) else {
        return Vec::new();
    };
    let name = &tool.name;
    let mut rows = Vec::new();
    // JSON text holds no raw tab or newline, and names hold neither: the separators are safe.
    let mut row = |arguments: serde_json::Map<String, Value>, needle: String| {
        rows.push(format!("{name}\t{}\t{needle}\n", Value::Object(arguments)));
    };
    let mut unknown = "unexpected_argument".to_owned();
    while valid.contains_key(&unknown) {
        unknown.push('_');
    }
    let mut with_extra = valid.clone();
    with_extra.insert(unknown.clone(), json!(1));
    row(with_extra, unknown);
    for param in &tool.params {
        let wire = &param.name;
        if param.required {
            let mut without = valid.clone();
            without.remove(wire);
            row(without, format!("`{wire}` is required"));
        }
        let mut bad = valid.clone();
        bad.insert(wire.clone(), wrong(param));
        row(bad, format!("`{wire}`"));
    }
    rows
}

/// `command_test!(module, Input, arguments, program, [args])`: a test, in a module named like
/// the tool's, that the cli tool builds exactly this command line, without a shell.
fn command_macro() -> TokenStream {
    quote! {
        macro_rules! command_test {
            ($(#[$attr:meta])* $tool:ident, $input:ident, $arguments:expr, $program:expr, [$($arg:expr),*]) => {
                $(#[$attr])*
                mod $tool {
                    #[test]
                    fn builds_its_command_without_a_shell() {
                        let input = crate::generated::tools::$tool::$input::from_arguments(crate::generated::tests::arguments(::serde_json::from_str($arguments).unwrap_or_default()));
                        let Ok(input) = input else { panic!("sample arguments rejected: {input:?}") };
                        let command = match crate::generated::tools::$tool::command(&input) {
                            Ok(command) => command,
                            Err(error) => panic!("sample arguments refused: {error}"),
                        };
                        assert_eq!(command.as_std().get_program(), $program);
                        let args: Vec<String> = command.as_std().get_args().map(|a| a.to_string_lossy().into_owned()).collect();
                        let expected: Vec<&str> = vec![$($arg),*];
                        assert_eq!(args, expected);
                    }
                }
            };
        }
    }
}

/// `endpoint_test!(module, Input, arguments, method)`: a test, in a module named like the
/// tool's, that the http tool sends its request to a loopback upstream and reads the answer.
fn endpoint_macro() -> TokenStream {
    quote! {
        macro_rules! endpoint_test {
            ($(#[$attr:meta])* $tool:ident, $input:ident, $arguments:expr, $method:expr) => {
                $(#[$attr])*
                mod $tool {
                    #[::tokio::test]
                    async fn calls_its_endpoint() {
                        let (base, requests) = crate::generated::tests::upstream().await;
                        let input = crate::generated::tools::$tool::$input::from_arguments(crate::generated::tests::arguments(::serde_json::from_str($arguments).unwrap_or_default()));
                        let Ok(input) = input else { panic!("sample arguments rejected: {input:?}") };
                        let values = crate::generated::runtime::values(&input);
                        let request = &crate::generated::tools::$tool::REQUEST;
                        let outcome = crate::generated::runtime::send(crate::generated::Server::new().http(), request, &values, Some(&base)).await;
                        assert_eq!(outcome.ok().and_then(|v| v.get("ok").cloned()), Some(::serde_json::Value::Bool(true)));
                        let seen = requests.await.unwrap_or_default();
                        assert!(seen.starts_with(&format!("{} /", $method)), "{seen}");
                    }
                }
            };
        }
    }
}

/// The `command_test!` line of a cli tool whose arguments use no environment variable.
fn command_test(tool: &ToolPlan) -> Option<TokenStream> {
    let KindPlan::Cli(cli) = &tool.kind else {
        return None;
    };
    let valid = samples(tool)?;
    let expected: Vec<String> = cli
        .args
        .iter()
        .map(|arg| fill(&arg.template, &valid))
        .collect::<Option<_>>()?;
    let program = &cli.program;
    let (module, input, arguments) = sample_call(tool, &valid);
    let allow = super::allow_inception(&tool.module, "commands");
    Some(quote!(
        command_test! { #allow #module, #input, #arguments, #program, [#(#expected),*] }
    ))
}

/// The `endpoint_test!` line of an http tool whose endpoint path uses no environment variable.
fn endpoint_test(tool: &ToolPlan) -> Option<TokenStream> {
    let KindPlan::Http(call) = &tool.kind else {
        return None;
    };
    if !call
        .path
        .parts
        .iter()
        .all(|p| !matches!(p, Part::Env { .. }))
    {
        return None;
    }
    let valid = samples(tool)?;
    let (module, input, arguments) = sample_call(tool, &valid);
    let method = call.method.as_str();
    let allow = super::allow_inception(&tool.module, "endpoints");
    Some(quote!(
        endpoint_test! { #allow #module, #input, #arguments, #method }
    ))
}

/// The tool's module, its input type and the sample arguments as a string literal.
fn sample_call(
    tool: &ToolPlan,
    valid: &serde_json::Map<String, Value>,
) -> (proc_macro2::Ident, proc_macro2::Ident, proc_macro2::Literal) {
    (
        ident(&tool.module),
        format_ident!("{}Input", tool.type_prefix),
        super::raw_string(&Value::Object(valid.clone()).to_string()),
    )
}

/// The value the generated code renders from an argument template and the sample values;
/// `None` when it reads the environment.
fn fill(template: &Template, values: &serde_json::Map<String, Value>) -> Option<String> {
    let mut out = String::new();
    for part in &template.parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Param(name) => match values.get(name) {
                Some(Value::String(text)) => out.push_str(text),
                Some(other) => out.push_str(&other.to_string()),
                None => {}
            },
            Part::Env { .. } => return None,
        }
    }
    Some(out)
}

fn upstream() -> TokenStream {
    quote! {
        /// A loopback HTTP upstream that answers one request with `{"ok": true}` and hands
        /// back the request it received.
        async fn upstream() -> (String, ::tokio::sync::oneshot::Receiver<String>) {
            use ::tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = ::tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
            let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
            let (sender, receiver) = ::tokio::sync::oneshot::channel();
            ::tokio::spawn(async move {
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
