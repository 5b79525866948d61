//! One module per tool: its name, input, definition, and the call path
//! `call -> invoke -> attempt`. `invoke` is where the tool's resilience policy (emitted by
//! `policy.rs`) wraps the attempt; a tool without a policy calls the attempt directly.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::handlers::path_tokens;
use super::{ident, params};
use crate::config::{Auth, ErrorPolicy, HttpMethod};
use crate::naming::HandlerPath;
use crate::plan::{KindPlan, Plan, ToolPlan};

/// The module of one tool.
pub fn tool_module(plan: &Plan, tool: &ToolPlan) -> TokenStream {
    let name = &tool.name;
    let mut summary = match &tool.description {
        Some(description) => format!("Tool `{name}`: {}", super::user_text(description)),
        None => format!("Tool `{name}`."),
    };
    if let Some(policy) = super::policy::summary(tool) {
        summary.push_str(&format!("\n\nPolicy: {policy}"));
    }
    let summary = crate::emit::inner_doc(&summary);
    let input = format_ident!("{}Input", tool.type_prefix);
    let input_struct = params::input_struct(tool);
    let schema = crate::emit::raw_string(&crate::plan::input_schema(&tool.params).to_string());
    let description = match &tool.description {
        Some(d) => quote!(Some(#d.into())),
        None => quote!(None),
    };
    let attempt = attempt(plan, tool);
    let policy = super::policy::policy_items(plan, tool);
    let uses_resilience = super::policy::uses_resilience(tool);
    let resilience = uses_resilience.then(|| {
        quote!(
            use crate::generated::resilience;
        )
    });
    let monitored = plan.needs.monitoring;
    let index = monitored.then(|| {
        let position = proc_macro2::Literal::usize_unsuffixed(tool.index);
        quote! {
            /// This tool's place in the server's stats.
            const INDEX: usize = #position;
        }
    });
    let answer = if tool.policy.fallback.is_empty() {
        quote!(.map(Answer::from))
    } else {
        quote!()
    };
    let call_body = if monitored {
        let tracked = tool.policy.tracks_attempts();
        quote! {
            server.stats().called(INDEX);
            let outcome = match #input::from_arguments(arguments) {
                Ok(input) => invoke(server, &input).await #answer,
                Err(error) => Err(error),
            };
            server.stats().finished(INDEX, NAME, &outcome, #tracked);
            outcome
        }
    } else {
        quote! {
            let input = #input::from_arguments(arguments)?;
            invoke(server, &input).await #answer
        }
    };
    quote! {
        #summary

        use rmcp::model::{JsonObject, Tool};
        use serde_json::Value;

        use crate::generated::Server;
        use crate::generated::runtime::{self, Answer, ToolError};
        #resilience

        /// The name clients call.
        pub const NAME: &str = #name;

        #index

        /// The JSON Schema of the arguments, as `tools/list` shows it.
        const INPUT_SCHEMA: &str = #schema;

        #input_struct

        /// The tool as `tools/list` shows it.
        pub fn definition() -> Tool {
            let schema: JsonObject = serde_json::from_str(INPUT_SCHEMA).unwrap_or_default();
            Tool::new_with_raw(NAME, #description, std::sync::Arc::new(schema))
        }

        /// Answers a `tools/call` of this tool.
        pub async fn call(server: &Server, arguments: JsonObject) -> Result<Answer, ToolError> {
            #call_body
        }

        #policy

        #attempt
    }
}

fn attempt(plan: &Plan, tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let doc = quote!(#[doc = " One attempt of the operation itself."]);
    match &tool.kind {
        KindPlan::Native { handler } => {
            let body = native(tool, handler);
            quote!(#doc async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> { #body })
        }
        KindPlan::Cli(cli) => {
            let build = cli_command(cli);
            let program = cli.command.trim();
            quote! {
                /// The command for one call: the program and its arguments, each filled in
                /// separately (no shell is involved).
                pub fn command(input: &#input) -> tokio::process::Command {
                    #build
                }

                #doc
                async fn attempt(_server: &Server, input: &#input) -> Result<Value, ToolError> {
                    let mut command = command(input);
                    command
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .kill_on_drop(true);
                    // Its own process group, so that a timeout or a cancellation (which drops
                    // this future) kills everything the command started, not just the command.
                    #[cfg(unix)]
                    command.process_group(0);
                    let child = command
                        .spawn()
                        .map_err(|error| ToolError::Handler(format!("cannot run `{}`: {error}", #program)))?;
                    let mut group = runtime::ProcessGroup::of(&child);
                    let output = child
                        .wait_with_output()
                        .await
                        .map_err(|error| ToolError::Handler(format!("`{}` failed: {error}", #program)))?;
                    group.finished();
                    if !output.status.success() {
                        let stderr = String::from_utf8_lossy(&output.stderr);
                        let tail: String = stderr.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
                        return Err(ToolError::Exit { code: output.status.code(), stderr: tail.trim().to_owned() });
                    }
                    Ok(Value::String(String::from_utf8_lossy(&output.stdout).into_owned()))
                }
            }
        }
        KindPlan::Http { http, method } => {
            let body = http_attempt(tool, http, *method);
            let endpoint = &http.endpoint;
            let path = endpoint_path(endpoint);
            quote! {
                /// The endpoint, with `${VAR}` and `{{param}}` holes.
                pub const ENDPOINT: &str = #endpoint;

                /// The endpoint after its scheme and host, for tests against a local upstream.
                pub const ENDPOINT_PATH: &str = #path;

                #doc
                async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> {
                    send(server, input, ENDPOINT).await
                }

                /// Sends the request to `endpoint` (a template like [`ENDPOINT`]).
                pub async fn send(server: &Server, input: &#input, endpoint: &str) -> Result<Value, ToolError> {
                    #body
                }
            }
        }
        KindPlan::Pipeline { steps } => {
            let body = pipeline_attempt(plan, tool, steps);
            quote!(#doc async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> { #body })
        }
    }
}

/// The part of an endpoint after its scheme and host (or after a leading `${VAR}`).
pub fn endpoint_path(endpoint: &str) -> String {
    let start = crate::load::template::authority_end(endpoint).unwrap_or(0);
    endpoint[start..].to_owned()
}

fn native(tool: &ToolPlan, handler: &HandlerPath) -> TokenStream {
    let path = path_tokens(handler);
    let call = if handler.is_type {
        let field = ident(&crate::naming::tool_handler_field(tool.index));
        quote!(crate::generated::Handler::handle(&server.handlers().#field, input.clone(), context).await?)
    } else {
        quote!(#path(input.clone(), context).await?)
    };
    quote! {
        let context = runtime::Context { name: NAME, server };
        let output = #call;
        serde_json::to_value(output).map_err(|error| ToolError::Handler(format!("the handler's output is not JSON: {error}")))
    }
}

fn cli_command(cli: &crate::config::CliTool) -> TokenStream {
    let program = cli.command.trim();
    let args = cli
        .args
        .iter()
        .map(|arg| quote!(runtime::fill(&runtime::expand_env(#arg), &values, runtime::verbatim)));
    let cwd = cli.cwd.as_ref().map(|cwd| quote!(command.current_dir(runtime::fill(&runtime::expand_env(#cwd), &values, runtime::verbatim));));
    let envs = cli.env.iter().flatten().map(|(key, value)| {
        quote!(command.env(#key, runtime::fill(&runtime::expand_env(#value), &values, runtime::verbatim));)
    });
    let uses_values = !cli.args.is_empty()
        || cli.cwd.is_some()
        || cli.env.as_ref().is_some_and(|e| !e.is_empty());
    if !uses_values {
        return quote! {
            let _ = input;
            tokio::process::Command::new(#program)
        };
    }
    let args = (!cli.args.is_empty()).then(|| quote!(command.args([#(#args),*]);));
    quote! {
        let values = match serde_json::to_value(input) {
            Ok(Value::Object(values)) => values,
            _ => JsonObject::new(),
        };
        let mut command = tokio::process::Command::new(#program);
        #args
        #cwd
        #(#envs)*
        command
    }
}

pub(super) fn http_attempt(
    tool: &ToolPlan,
    http: &crate::config::HttpTool,
    method: HttpMethod,
) -> TokenStream {
    let endpoint = &http.endpoint;
    let in_endpoint = crate::load::template::placeholders(endpoint).unwrap_or_default();
    let mut templated: Vec<String> = in_endpoint.iter().map(|p| p.name.clone()).collect();
    for value in http
        .headers
        .iter()
        .chain(http.query.iter())
        .flat_map(|m| m.values())
    {
        templated.extend(
            crate::load::template::placeholders(value)
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.name),
        );
    }
    let rest: Vec<&str> = tool
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !templated.iter().any(|t| t == n))
        .collect();
    let method_ident = format_ident!("{}", method.as_str());
    let query = http.query.iter().flatten().map(|(key, value)| {
        quote!(url.query_pairs_mut().append_pair(#key, &runtime::fill(&runtime::expand_env(#value), &values, runtime::verbatim));)
    });
    let headers = http.headers.iter().flatten().map(|(key, value)| {
        quote!(request = request.header(#key, runtime::fill(&runtime::expand_env(#value), &values, runtime::verbatim));)
    });
    let auth = match &http.auth {
        None => quote!(),
        Some(Auth::Bearer(b)) => {
            let token = &b.token;
            quote!(request = request.bearer_auth(runtime::expand_env(#token));)
        }
        Some(Auth::Basic(b)) => {
            let (user, password) = (&b.username, &b.password);
            quote!(request = request.basic_auth(runtime::expand_env(#user), Some(runtime::expand_env(#password)));)
        }
        Some(Auth::ApiKey(k)) => {
            let key = &k.key;
            let header = k.header.clone().unwrap_or_else(|| "X-API-Key".to_owned());
            quote!(request = request.header(#header, runtime::expand_env(#key));)
        }
    };
    let rest_tokens = rest.iter().map(|name| quote!(#name));
    // Parameters used nowhere in the URL or headers travel in the query or the body.
    let rest_binding = (!rest.is_empty()).then(|| {
        quote! {
            let rest: JsonObject = [#(#rest_tokens),*]
                .into_iter()
                .filter_map(|name: &str| values.get(name).filter(|v| !v.is_null()).map(|v| (name.to_owned(), v.clone())))
                .collect();
        }
    });
    let url_changes = http.query.as_ref().is_some_and(|q| !q.is_empty())
        || (matches!(method, HttpMethod::Get | HttpMethod::Delete) && !rest.is_empty());
    let url_mut = if url_changes { quote!(mut) } else { quote!() };
    let request_changes = http.headers.as_ref().is_some_and(|h| !h.is_empty())
        || http.auth.is_some()
        || matches!(
            method,
            HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
        );
    let request_mut = if request_changes {
        quote!(mut)
    } else {
        quote!()
    };
    let has_rest = !rest.is_empty();
    let send_rest = match method {
        HttpMethod::Get | HttpMethod::Delete if has_rest => quote! {
            for (name, value) in &rest {
                url.query_pairs_mut().append_pair(name, &runtime::text_of(value));
            }
        },
        _ => quote!(),
    };
    let body = match method {
        HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch if has_rest => {
            quote!(request = request.json(&rest);)
        }
        HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch => {
            quote!(request = request.json(&JsonObject::new());)
        }
        _ => quote!(),
    };
    quote! {
        let values = match serde_json::to_value(input) {
            Ok(Value::Object(values)) => values,
            _ => JsonObject::new(),
        };
        #rest_binding
        let target = runtime::fill(&runtime::expand_env(endpoint), &values, runtime::encode_component);
        let #url_mut url = reqwest::Url::parse(&target).map_err(|error| ToolError::Handler(format!("invalid URL: {error}")))?;
        #(#query)*
        #send_rest
        let #request_mut request = server.http().request(reqwest::Method::#method_ident, url);
        #(#headers)*
        #auth
        #body
        let response = request.send().await.map_err(runtime::request_error)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = response.text().await.unwrap_or_default();
            let body: String = body.chars().take(500).collect();
            return Err(ToolError::Status { status: status.as_u16(), retry_after, body });
        }
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let text = response.text().await.map_err(runtime::request_error)?;
        if is_json {
            serde_json::from_str(&text).map_err(|error| ToolError::Handler(format!("invalid JSON from upstream: {error}")))
        } else {
            Ok(Value::String(text))
        }
    }
}

fn pipeline_attempt(
    plan: &Plan,
    tool: &ToolPlan,
    steps: &[crate::config::PipelineStep],
) -> TokenStream {
    let budget = tool
        .policy
        .timeout
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let deadline = match budget {
        Some(ms) => {
            let ms = proc_macro2::Literal::u64_unsuffixed(ms);
            quote!(let deadline = Some(tokio::time::Instant::now() + std::time::Duration::from_millis(#ms));)
        }
        None => quote!(let deadline: Option<tokio::time::Instant> = None;),
    };
    let outputs = steps.iter().any(|s| s.output_var.is_some());
    let steps = steps.iter().map(|step| {
        let Some(target) = plan.tools.iter().find(|t| t.name == step.tool) else {
            return quote!();
        };
        let module = ident(&target.module);
        let arguments = serde_json::Value::Object(step.arguments().cloned().unwrap_or_default().into_iter().collect()).to_string();
        let step_ms = step.timeout_ms.map_or(quote!(None), |ms| {
            let ms = proc_macro2::Literal::u64_unsuffixed(ms);
            quote!(Some(std::time::Duration::from_millis(#ms)))
        });
        let store = match &step.output_var {
            Some(var) => quote!(variables.insert(#var.to_owned(), value.clone());),
            None => quote!(),
        };
        let on_error = match step.error_policy {
            Some(ErrorPolicy::Continue) => quote!(Err(error) => tracing::warn!(tool = NAME, step = super::#module::NAME, %error, "step failed; continuing"),),
            _ => quote!(Err(error) => return Err(error),),
        };
        let run = quote! {
            let arguments = runtime::fill_json(#arguments, &variables);
            let outcome = runtime::within(deadline, #step_ms, async { super::#module::call(server, arguments).await.map(|answer| answer.value) }).await;
            match outcome {
                Ok(value) => {
                    #store
                    outputs.push(value);
                }
                #on_error
            }
        };
        match &step.condition {
            Some(condition) => {
                let negate = condition.trim().starts_with('!');
                let name = condition.trim().trim_start_matches('!').trim().trim_start_matches("{{").trim_end_matches("}}").trim();
                let test = if negate { quote!(!runtime::truthy(variables.get(#name))) } else { quote!(runtime::truthy(variables.get(#name))) };
                quote!(if #test { #run })
            }
            None => quote!({ #run }),
        }
    });
    let mutable = if outputs { quote!(mut) } else { quote!() };
    quote! {
        let #mutable variables = match serde_json::to_value(input) {
            Ok(Value::Object(values)) => values,
            _ => JsonObject::new(),
        };
        #deadline
        let mut outputs: Vec<Value> = Vec::new();
        #(#steps)*
        Ok(outputs.pop().unwrap_or(Value::Null))
    }
}
