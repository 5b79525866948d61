//! One module per tool: its name, input, definition, and the call path
//! `call -> invoke -> attempt`. `invoke` is where the tool's resilience policy (emitted by
//! `policy.rs`) wraps the attempt; a tool without a policy calls the attempt directly.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::handlers::path_tokens;
use super::{ident, params};
use crate::naming::HandlerPath;
use crate::plan::{ArgPlan, CliPlan, KindPlan, StepPlan, ToolPlan};

/// The module of one tool.
pub fn tool_module(plan: &crate::plan::Plan, tool: &ToolPlan) -> TokenStream {
    let name = &tool.name;
    let summary = crate::emit::inner_doc(&module_summary(tool));
    let input_struct = params::input_struct(tool);
    let schema = crate::emit::raw_string(&crate::plan::input_schema(&tool.params).to_string());
    let description = match &tool.description {
        Some(d) => quote!(Some(#d.into())),
        None => quote!(None),
    };
    let attempt = attempt(tool);
    let policy = super::policy::policy_items(tool);
    let resilience = tool.uses_resilience().then(|| {
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
    let call_body = call_body(tool, monitored);
    quote! {
        #summary

        use ::rmcp::model::{JsonObject, Tool};
        use ::serde_json::Value;

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
            let schema: JsonObject = ::serde_json::from_str(INPUT_SCHEMA).unwrap_or_default();
            Tool::new_with_raw(NAME, #description, ::std::sync::Arc::new(schema))
        }

        /// Answers a `tools/call` of this tool.
        pub async fn call(server: &Server, arguments: JsonObject) -> Result<Answer, ToolError> {
            #call_body
        }

        #policy

        #attempt
    }
}

/// The module's doc: the tool, what it does, and its policy in one line.
fn module_summary(tool: &ToolPlan) -> String {
    let name = &tool.name;
    let mut summary = match &tool.description {
        Some(description) => format!("Tool `{name}`: {}", super::user_text(description)),
        None => format!("Tool `{name}`."),
    };
    if let Some(policy) = super::policy_summary::summary(tool) {
        summary.push_str(&format!("\n\nPolicy: {policy}"));
    }
    summary
}

/// The body of `call`: parse the arguments, invoke, and when the server is `monitored`,
/// count the call and time it.
fn call_body(tool: &ToolPlan, monitored: bool) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    // The fallback layer answers an `Answer` itself (it may mark it degraded).
    let answer = tool
        .policy
        .fallback
        .is_empty()
        .then(|| quote!(.map(Answer::from)));
    if !monitored {
        return quote! {
            let input = #input::from_arguments(arguments)?;
            invoke(server, &input).await #answer
        };
    }
    let tracked = tool.policy.tracks_attempts();
    quote! {
        let started = server.stats().called(INDEX);
        let outcome = match #input::from_arguments(arguments) {
            Ok(input) => invoke(server, &input).await #answer,
            Err(error) => Err(error),
        };
        server.stats().finished(INDEX, NAME, &outcome, #tracked);
        server.stats().took(INDEX, started.elapsed());
        outcome
    }
}

fn attempt(tool: &ToolPlan) -> TokenStream {
    let input = format_ident!("{}Input", tool.type_prefix);
    let doc = quote!(#[doc = " One attempt of the operation itself."]);
    let doc_attempt = &doc;
    match &tool.kind {
        KindPlan::Native { handler } => {
            let body = native(tool, handler);
            quote!(#doc async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> { #body })
        }
        KindPlan::Cli(cli) => {
            let build = cli_command(cli);
            let program = &cli.program;
            let max = proc_macro2::Literal::usize_unsuffixed(cli.max_output_bytes);
            quote! {
                /// The command for one call: the program and its arguments, each filled in
                /// separately (no shell is involved), in an environment of its own.
                pub fn command(input: &#input) -> Result<::tokio::process::Command, ToolError> {
                    #build
                }

                #doc
                async fn attempt(_server: &Server, input: &#input) -> Result<Value, ToolError> {
                    runtime::output(command(input)?, #program, #max).await
                }
            }
        }
        KindPlan::Http(call) => {
            let request = super::upstream::request(call);
            let doc = super::doc(&format!(
                "The request, from forge.yaml: `{} {}`.",
                call.method.as_str(),
                call.endpoint
            ));
            quote! {
                #doc
                pub const REQUEST: runtime::Request = #request;

                #doc_attempt
                async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> {
                    runtime::send(server.http(), &REQUEST, &runtime::values(input), None).await
                }
            }
        }
        KindPlan::Pipeline { steps } => {
            let body = pipeline_attempt(tool, steps);
            quote!(#doc async fn attempt(server: &Server, input: &#input) -> Result<Value, ToolError> { #body })
        }
    }
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
        ::serde_json::to_value(output).map_err(|error| ToolError::Handler(format!("the handler's output is not JSON: {error}")))
    }
}

fn cli_command(cli: &CliPlan) -> TokenStream {
    let program = &cli.program;
    let render = |template| {
        let parts = super::upstream::parts(template);
        quote!(runtime::render(#parts, &values, runtime::verbatim))
    };
    let args: Vec<TokenStream> = cli
        .args
        .iter()
        .map(|arg| {
            let text = render(&arg.template);
            match &arg.guarded {
                Some(param) => quote!(runtime::not_an_option(#param, &values, #text)?),
                None => text,
            }
        })
        .collect();
    let cwd = cli.cwd.as_ref().map(|cwd| {
        let cwd = render(cwd);
        quote!(command.current_dir(#cwd);)
    });
    let envs = cli.env.iter().map(|(key, value)| {
        let value = render(value);
        quote!(command.env(#key, #value);)
    });
    if args.is_empty() && cwd.is_none() && cli.env.is_empty() {
        return quote! {
            let _ = input;
            Ok(runtime::command(#program))
        };
    }
    let args = (!args.is_empty()).then(|| quote!(command.args([#(#args),*]);));
    quote! {
        let values = runtime::values(input);
        let mut command = runtime::command(#program);
        #args
        #cwd
        #(#envs)*
        Ok(command)
    }
}

/// A pipeline's attempt: its steps in order, within the pipeline's budget, the last output
/// its answer.
fn pipeline_attempt(tool: &ToolPlan, steps: &[StepPlan]) -> TokenStream {
    let budget = tool
        .budget()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let deadline = match budget {
        Some(ms) => {
            let ms = proc_macro2::Literal::u64_unsuffixed(ms);
            quote!(let deadline = Some(::tokio::time::Instant::now() + ::std::time::Duration::from_millis(#ms));)
        }
        None => quote!(let deadline: Option<::tokio::time::Instant> = None;),
    };
    let variables = pipeline_variables(steps);
    let steps = steps.iter().map(pipeline_step);
    quote! {
        #variables
        #deadline
        let mut outputs: Vec<Value> = Vec::new();
        #(#steps)*
        Ok(outputs.pop().unwrap_or(Value::Null))
    }
}

/// The pipeline's variables, made from the input when some step reads them (mutable when
/// some step stores its output).
fn pipeline_variables(steps: &[StepPlan]) -> TokenStream {
    let reads = steps.iter().any(|s| {
        s.condition.is_some()
            || s.output_var.is_some()
            || s.arguments
                .iter()
                .any(|(_, a)| !matches!(a, ArgPlan::Json(_)))
    });
    if !reads {
        return quote!(let _ = input;);
    }
    let mutable = steps
        .iter()
        .any(|s| s.output_var.is_some())
        .then(|| quote!(mut));
    quote!(let #mutable variables = runtime::values(input);)
}

/// One step: call its tool with its arguments within its deadline, store or keep going, and
/// only when its condition holds.
fn pipeline_step(step: &StepPlan) -> TokenStream {
    let module = ident(&step.module);
    let arguments = step.arguments.iter().map(|(name, value)| {
        let value = argument(value);
        quote!((#name.to_owned(), #value))
    });
    let step_ms = step.timeout_ms.map_or(quote!(None), |ms| {
        let ms = proc_macro2::Literal::u64_unsuffixed(ms);
        quote!(Some(::std::time::Duration::from_millis(#ms)))
    });
    let store = step
        .output_var
        .as_ref()
        .map(|var| quote!(variables.insert(#var.to_owned(), value.clone());));
    let on_error = if step.continue_on_error {
        quote!(Err(error) => ::tracing::warn!(tool = NAME, step = super::#module::NAME, %error, "step failed; continuing"),)
    } else {
        quote!(Err(error) => return Err(error),)
    };
    let run = quote! {
        let arguments = JsonObject::from_iter([#(#arguments),*]);
        let outcome = runtime::within(deadline, #step_ms, async { super::#module::call(server, arguments).await.map(|answer| answer.value) }).await;
        match outcome {
            Ok(value) => {
                #store
                outputs.push(value);
            }
            #on_error
        }
    };
    let Some(condition) = &step.condition else {
        return quote!({ #run });
    };
    let name = &condition.variable;
    let test = if condition.negated {
        quote!(!runtime::truthy(variables.get(#name)))
    } else {
        quote!(runtime::truthy(variables.get(#name)))
    };
    quote!(if #test { #run })
}

/// The value of one step argument, built from the pipeline's variables.
fn argument(arg: &ArgPlan) -> TokenStream {
    match arg {
        ArgPlan::Json(json) => quote!(runtime::json(#json)),
        ArgPlan::Variable(name) => quote!(runtime::variable(&variables, #name)),
        ArgPlan::Text(template) => {
            let parts = super::upstream::parts(template);
            quote!(Value::String(runtime::render(#parts, &variables, runtime::verbatim)))
        }
        ArgPlan::Array(items) => {
            let items = items.iter().map(argument);
            quote!(Value::Array(vec![#(#items),*]))
        }
        ArgPlan::Object(fields) => {
            let fields = fields.iter().map(|(name, value)| {
                let value = argument(value);
                quote!((#name.to_owned(), #value))
            });
            quote!(Value::Object(JsonObject::from_iter([#(#fields),*])))
        }
    }
}
