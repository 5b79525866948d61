//! `src/generated/mod.rs`: the server, the handler trait, static dispatch of `tools/call`.

use proc_macro2::TokenStream;
use quote::quote;

use super::handlers::path_tokens;
use super::ident;
use crate::plan::{KindPlan, Plan, TransportPlan};

/// The generated module root.
pub fn generated_mod(plan: &Plan) -> TokenStream {
    let modules: Vec<_> = plan.tools.iter().map(|t| ident(&t.module)).collect();
    let name = &plan.crate_name;
    let version = &plan.version;

    let type_handlers: Vec<(proc_macro2::Ident, TokenStream)> = plan
        .tools
        .iter()
        .filter_map(|t| match &t.kind {
            KindPlan::Native { handler } if handler.is_type => Some((
                ident(&crate::naming::tool_handler_field(t.index)),
                path_tokens(handler),
            )),
            _ => None,
        })
        .collect();
    let resource_handlers = super::catalog::resource_type_handlers(plan);
    let fallback_handlers = fallback_type_handlers(plan);
    let retry_policies = retry_policy_handlers(plan);
    let middleware = middleware_chain(plan);
    let handler_fields = type_handlers
        .iter()
        .chain(resource_handlers.iter())
        .chain(fallback_handlers.iter())
        .chain(retry_policies.iter())
        .chain(middleware.iter())
        .map(|(field, path)| quote!(pub #field: #path,));

    let http_field = plan
        .needs
        .http_client
        .then(|| quote!(http: ::reqwest::Client,));
    let http_init = plan
        .needs
        .http_client
        .then(|| quote!(http: runtime::client(),));
    let http_accessor = plan.needs.http_client.then(|| {
        quote! {
            /// The HTTP client shared by every http tool (one connection pool).
            pub fn http(&self) -> &::reqwest::Client {
                &self.inner.http
            }
        }
    });
    let arms = plan.tools.iter().map(|t| {
        let module = ident(&t.module);
        if t.middleware {
            let field = ident(crate::naming::MIDDLEWARE_FIELD);
            quote! {
                tools::#module::NAME => {
                    let tool = |arguments| tools::#module::call(self, arguments);
                    runtime::through(&self.inner.handlers.#field, tools::#module::NAME, arguments, tool).await
                }
            }
        } else {
            quote!(tools::#module::NAME => tools::#module::call(self, arguments).await,)
        }
    });
    let unwrapped = (!plan.middleware.is_empty()).then(|| {
        let bare = plan.tools.iter().map(|t| {
            let module = ident(&t.module);
            quote!(tools::#module::NAME => tools::#module::call(self, arguments).await,)
        });
        quote! {
            /// Runs one tool by name without the middleware (the crate's own tests use it, so
            /// that they test the tools whatever the middleware does).
            pub async fn run_without_middleware(&self, name: &str, arguments: ::rmcp::model::JsonObject) -> Option<Result<runtime::Answer, runtime::ToolError>> {
                Some(match name {
                    #(#bare)*
                    _ => return None,
                })
            }
        }
    });
    let guarded = plan.keeps_guards();
    let guards_field = guarded.then(|| quote!(guards: tools::Guards,));
    let guards_init = guarded.then(|| quote!(guards: tools::Guards::default(),));
    let guards_accessor = guarded.then(|| {
        quote! {
            /// Each tool's breaker and bulkhead.
            pub fn guards(&self) -> &tools::Guards {
                &self.inner.guards
            }
        }
    });
    let monitoring = plan.needs.monitoring;
    let stats_field = monitoring.then(|| quote!(stats: stats::Stats,));
    let stats_init = monitoring.then(|| quote!(stats: stats::Stats::default(),));
    let stats_accessor = monitoring.then(|| stats_methods(plan));
    let resilience_mod = super::resilience::needed(plan).then(|| {
        quote!(
            pub mod resilience;
        )
    });
    let stats_mod = monitoring.then(|| {
        quote!(
            pub mod stats;
        )
    });
    let fallback_trait = (!fallback_handlers.is_empty()).then(|| quote! {
        /// A native fallback implemented as a type: pforge builds one with `Default` when the
        /// server starts and calls `fallback` when its tool has finally failed.
        pub trait Fallback<Input>: Send + Sync + 'static {
            /// What the fallback answers; any serializable value.
            type Output: ::serde::Serialize;

            /// Answers in place of the tool, which failed with `error`.
            fn fallback(
                &self,
                input: Input,
                error: runtime::ToolError,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<Self::Output, runtime::HandlerError>> + Send;
        }
    });
    let description = plan.description.clone().unwrap_or_default();
    let serve = serve(plan);
    let list_body = super::http_server::list_tools_body(plan);
    let call_guard = super::http_server::call_tool_guard(plan);
    let list_context = if plan.checks_scopes() {
        quote!(context)
    } else {
        quote!(_context)
    };
    let tool_scopes = super::http_server::scopes_const(plan);
    let http_server_mod = plan.transport.http().is_some().then(|| {
        quote!(
            pub mod http_server;
        )
    });
    let stdio_mod = plan.transport.stdio().is_some().then(|| {
        quote!(
            pub mod stdio;
        )
    });
    let tests_mod = (!plan.tools.is_empty()).then(|| {
        quote!(
            #[cfg(test)]
            mod tests;
        )
    });
    let stats_uri = plan.needs.monitoring.then(|| {
        quote! {
            /// The resource with the server's resilience figures.
            pub const STATS_URI: &str = "pforge://stats";
        }
    });
    let capabilities = match (!plan.serves_resources(), plan.prompts.is_empty()) {
        (true, true) => quote!(),
        (false, true) => quote!(.enable_resources()),
        (true, false) => quote!(.enable_prompts()),
        (false, false) => quote!(.enable_resources().enable_prompts()),
    };
    let state_field = plan.state.is_some().then(|| quote!(state: runtime::State,));
    let state_init = plan
        .state
        .is_some()
        .then(|| quote!(state: runtime::State::default(),));
    let state_accessor = plan.state.is_some().then(|| {
        quote! {
            /// The key-value store shared by native handlers.
            pub fn state(&self) -> &runtime::State {
                &self.inner.state
            }
        }
    });
    let resource_methods = super::catalog::resource_methods(plan);
    let prompt_methods = super::catalog::prompt_methods(plan);
    let resource_trait = plan
        .resources
        .iter()
        .any(|r| matches!(r.source, crate::plan::ResourceSource::Handler(_))).then(|| quote! {
        /// A resource handler implemented as a type, built once with `Default`.
        pub trait ResourceHandler: Send + Sync + 'static {
            /// The contents of the resource at `uri`.
            fn read(
                &self,
                uri: &str,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<String, runtime::HandlerError>> + Send;
        }
    });

    quote! {
        //! The generated server. @generated by pforge: edit forge.yaml, not this file.

        #http_server_mod
        #resilience_mod
        pub mod runtime;
        #stats_mod
        #stdio_mod
        #tests_mod
        pub mod tools;

        use ::std::sync::Arc;

        use ::rmcp::model::{
            CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
            PaginatedRequestParams, ServerCapabilities, ServerConfig,
        };
        use ::rmcp::service::RequestContext;
        use ::rmcp::{ErrorData, RoleServer, ServerHandler};

        /// A native handler implemented as a type: pforge builds one with `Default` when the
        /// server starts and calls `handle` for every call of its tool.
        pub trait Handler<Input>: Send + Sync + 'static {
            /// What the handler answers; any serializable value.
            type Output: ::serde::Serialize;

            /// Handles one call.
            fn handle(
                &self,
                input: Input,
                context: runtime::Context<'_>,
            ) -> impl ::std::future::Future<Output = Result<Self::Output, runtime::HandlerError>> + Send;
        }

        #stats_uri
        #tool_scopes
        #resource_trait
        #fallback_trait

        /// Instances of the type handlers.
        #[derive(Default)]
        pub struct Handlers {
            #(#handler_fields)*
        }

        /// Names no field: the types are yours, and need not implement `Debug`.
        impl ::std::fmt::Debug for Handlers {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("Handlers").finish_non_exhaustive()
            }
        }

        struct Inner {
            handlers: Handlers,
            #state_field
            #http_field
            #guards_field
            #stats_field
        }

        /// The MCP server of this crate.
        #[derive(Clone)]
        pub struct Server {
            inner: Arc<Inner>,
        }

        impl ::std::fmt::Debug for Server {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("Server").finish_non_exhaustive()
            }
        }

        impl Default for Server {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Server {
            /// A server with fresh handlers.
            pub fn new() -> Self {
                Self {
                    inner: Arc::new(Inner {
                        handlers: Handlers::default(),
                        #state_init
                        #http_init
                        #guards_init
                        #stats_init
                    }),
                }
            }

            #state_accessor

            /// The type handlers.
            pub fn handlers(&self) -> &Handlers {
                &self.inner.handlers
            }

            #http_accessor
            #guards_accessor
            #stats_accessor

            /// Every tool, in `tools/list` order, built once.
            pub fn tools() -> &'static [::rmcp::model::Tool] {
                static TOOLS: ::std::sync::OnceLock<Vec<::rmcp::model::Tool>> = ::std::sync::OnceLock::new();
                TOOLS.get_or_init(|| vec![#(tools::#modules::definition()),*])
            }

            /// Answers a `tools/call`, whichever transport brought it.
            pub async fn answer(&self, request: CallToolRequestParams) -> Result<CallToolResult, ErrorData> {
                let arguments = request.arguments.unwrap_or_default();
                match self.run(&request.name, arguments).await {
                    Some(outcome) => Ok(runtime::to_result(outcome)),
                    None => Err(ErrorData::invalid_params(format!("unknown tool `{}`", request.name), None)),
                }
            }

            /// Runs one tool by name; `None` when there is no such tool.
            pub async fn run(&self, name: &str, arguments: ::rmcp::model::JsonObject) -> Option<Result<runtime::Answer, runtime::ToolError>> {
                Some(match name {
                    #(#arms)*
                    _ => return None,
                })
            }

            #unwrapped
        }

        impl ServerHandler for Server {
            fn get_info(&self) -> ServerConfig {
                ServerConfig::new(ServerCapabilities::builder().enable_tools() #capabilities .build())
                    .with_server_info(Implementation::new(#name, #version))
                    .with_instructions(#description)
            }

            async fn list_tools(
                &self,
                _request: Option<PaginatedRequestParams>,
                #list_context: RequestContext<RoleServer>,
            ) -> Result<ListToolsResult, ErrorData> {
                #list_body
            }

            async fn call_tool(
                &self,
                request: CallToolRequestParams,
                context: RequestContext<RoleServer>,
            ) -> Result<CallToolResponse, ErrorData> {
                #call_guard
                match runtime::caught(context.ct.run_until_cancelled(self.answer(request))).await {
                    Ok(Some(answer)) => answer.map(Into::into),
                    Ok(None) => Ok(runtime::to_result(Err(runtime::ToolError::Cancelled)).into()),
                    Err(runtime::Panicked) => Err(ErrorData::internal_error("the tool panicked", None)),
                }
            }

            #resource_methods
            #prompt_methods
        }

        #serve
    }
}

fn serve(plan: &Plan) -> TokenStream {
    match &plan.transport {
        TransportPlan::Stdio(_) => quote! {
            impl stdio::Tools for Server {
                async fn call(&self, request: CallToolRequestParams) -> Result<CallToolResult, ErrorData> {
                    self.answer(request).await
                }
            }

            /// Serves MCP over standard input and output until stdin is closed and every call
            /// is answered.
            pub async fn serve() -> Result<(), Box<dyn ::std::error::Error + Send + Sync>> {
                stdio::serve(Server::new()).await
            }
        },
        TransportPlan::Http(http) => super::http_server::serve(plan, http),
    }
}

/// `src/generated/tools/mod.rs`.
pub fn tools_mod(plan: &Plan) -> TokenStream {
    // Each tool module documents itself (`//!`), which is what rustdoc shows.
    let mods = plan.tools.iter().map(|t| {
        let module = ident(&t.module);
        let allow = super::allow_inception(&t.module, "tools");
        quote!(#allow pub mod #module;)
    });
    let guarded: Vec<_> = plan
        .guarded_tools()
        .map(|t| {
            let module = ident(&t.module);
            let doc = crate::emit::doc(&format!("The guards of `{}`.", t.name));
            quote!(#doc pub #module: #module::Guards,)
        })
        .collect();
    let guards = (!guarded.is_empty()).then(|| {
        quote! {
            /// The breaker and bulkhead of every tool that has them; the server keeps one set.
            #[derive(Debug, Default)]
            pub struct Guards {
                #(#guarded)*
            }
        }
    });
    quote! {
        //! One module per tool.
        #(#mods)*

        #guards
    }
}

/// `src/main.rs`: logging and the transport; everything else is in the library.
pub fn main_rs(plan: &Plan) -> TokenStream {
    let krate = ident(&plan.crate_ident);
    // Commands run as the server's user; without this they could read its secrets in /proc.
    let shield = plan
        .needs
        .process
        .then(|| quote!(::#krate::generated::runtime::shield();));
    quote! {
        //! Starts the server.
        #![forbid(unsafe_code)]

        /// Logs go to stderr (stdout carries only MCP messages); `RUST_LOG` sets the level.
        #[::tokio::main]
        async fn main() -> ::std::process::ExitCode {
            ::tracing_subscriber::fmt()
                .with_writer(::std::io::stderr)
                .with_ansi(false)
                .with_env_filter(::tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
                .init();
            #shield
            match ::#krate::generated::serve().await {
                Ok(()) => ::std::process::ExitCode::SUCCESS,
                Err(error) => {
                    ::tracing::error!(%error, "server stopped");
                    ::std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

/// The `Handlers` field of the middleware chain, `(First, (Second, ()))`, when there is one.
fn middleware_chain(plan: &Plan) -> Option<(proc_macro2::Ident, TokenStream)> {
    if plan.middleware.is_empty() {
        return None;
    }
    let chain = plan
        .middleware
        .iter()
        .rev()
        .fold(quote!(()), |inner, handler| {
            let path = path_tokens(handler);
            quote!((#path, #inner))
        });
    Some((ident(crate::naming::MIDDLEWARE_FIELD), chain))
}

/// `Handlers` fields of the tools' retry policies.
fn retry_policy_handlers(plan: &Plan) -> Vec<(proc_macro2::Ident, TokenStream)> {
    plan.tools
        .iter()
        .filter_map(|tool| {
            let policy = tool.policy.retry.as_ref()?.policy()?;
            Some((super::policy::retry_policy_field(tool), path_tokens(policy)))
        })
        .collect()
}

/// `Handlers` fields of the fallbacks implemented as types.
pub fn fallback_type_handlers(plan: &Plan) -> Vec<(proc_macro2::Ident, TokenStream)> {
    let mut out = Vec::new();
    for tool in &plan.tools {
        for (index, entry) in tool.policy.fallback.iter().enumerate() {
            if let crate::plan::FallbackPlan::Native(handler) = entry
                && handler.is_type
            {
                out.push((
                    super::policy::fallback_field(tool, index),
                    path_tokens(handler),
                ));
            }
        }
    }
    out
}

/// The stats accessor and the `pforge://stats` document.
fn stats_methods(plan: &Plan) -> TokenStream {
    let metrics = plan.serves_metrics().then(|| metrics_method(plan));
    let names = plan.tools.iter().map(|tool| {
        let module = ident(&tool.module);
        quote!(tools::#module::NAME)
    });
    let states = plan.tools.iter().map(|tool| {
        let module = ident(&tool.module);
        if tool.policy.breaker.is_some() {
            quote!(Some(self.guards().#module.breaker.get_state().as_str()))
        } else {
            quote!(None)
        }
    });
    quote! {
        /// Every tool's counters and the recent errors.
        pub fn stats(&self) -> &stats::Stats {
            &self.inner.stats
        }

        /// The `pforge://stats` document for a caller who may see the tools whose index
        /// `visible` accepts: per tool, its breaker's state and its counters; the error counts
        /// by class; the recent errors.
        pub fn stats_json(&self, visible: impl Fn(usize) -> bool) -> ::serde_json::Value {
            let names: [&str; stats::TOOLS] = [#(#names),*];
            let breakers: [Option<&'static str>; stats::TOOLS] = [#(#states),*];
            let mut tools = ::serde_json::Map::new();
            for (index, (name, breaker)) in names.into_iter().zip(breakers).enumerate() {
                if visible(index) {
                    tools.insert(name.to_owned(), self.stats().tool_json(index, breaker));
                }
            }
            self.stats().to_json(tools, visible)
        }

        #metrics
    }
}

/// `Server::metrics_text`, for `/metrics`.
fn metrics_method(plan: &Plan) -> TokenStream {
    let names = plan.tools.iter().map(|tool| {
        let module = ident(&tool.module);
        quote!(tools::#module::NAME)
    });
    let gauges = plan.tools.iter().map(|tool| {
        let module = ident(&tool.module);
        let breaker =
            tool.policy.breaker.is_some().then(
                || quote!(breaker: Some(self.guards().#module.breaker.get_state().as_str()),),
            );
        let bulkhead = tool.policy.bulkhead.is_some().then(|| {
            quote! {
                bulkhead: {
                    let bulkhead = &self.guards().#module.bulkhead;
                    Some((bulkhead.in_flight(), bulkhead.queued(), bulkhead.capacity()))
                },
            }
        });
        match (&breaker, &bulkhead) {
            (None, None) => quote!(stats::Gauges::default()),
            (Some(_), None) => quote!(stats::Gauges { #breaker bulkhead: None }),
            (None, Some(_)) => quote!(stats::Gauges { breaker: None, #bulkhead }),
            (Some(_), Some(_)) => quote!(stats::Gauges { #breaker #bulkhead }),
        }
    });
    quote! {
        /// The figures of `pforge://stats` of the tools whose index `visible` accepts, with
        /// each tool's latency histogram and guards, as Prometheus text.
        pub fn metrics_text(&self, visible: impl Fn(usize) -> bool) -> String {
            let names: [&str; stats::TOOLS] = [#(#names),*];
            let gauges: [stats::Gauges; stats::TOOLS] = [#(#gauges),*];
            self.stats().prometheus(&names, &gauges, visible)
        }
    }
}
