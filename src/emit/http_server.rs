//! The http transport: `src/generated/http_server.rs` (the files of
//! `runtime/src/inlineable/http_server/` the plan needs), the `serve` function that assembles
//! MCP, auth and the operators' endpoints, and the scope checks of `tools/list` and
//! `tools/call`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::fixed::{self, Fixed};
use super::ident;
use crate::plan::{HttpServerPlan, MetricsPlan, OAuthPlan, Plan, ServerAuthPlan};

/// The files of `http_server/`: the drain and the operators' endpoints for every http
/// server, the auth files of its kind of auth.
pub fn files(plan: &Plan) -> Vec<Fixed> {
    let Some(http) = plan.transport.http() else {
        return Vec::new();
    };
    let mut files = vec![
        fixed::HTTP_CONNECTIONS,
        fixed::HTTP_DRAIN,
        fixed::HTTP_OPS,
        fixed::HTTP_SERVE,
    ];
    // Sessions are bound to the caller the auth layer names.
    if http.auth.is_some() || !http.stateless {
        files.push(fixed::HTTP_CALLER);
    }
    if !http.stateless {
        files.push(fixed::HTTP_SESSIONS);
    }
    match &http.auth {
        Some(ServerAuthPlan::Bearer { .. }) => files.push(fixed::HTTP_BEARER),
        Some(ServerAuthPlan::OAuth(_)) => files.extend([fixed::HTTP_JWKS, fixed::HTTP_JWT]),
        None => {}
    }
    files
}

/// The module root: the declarations of `files`.
pub fn root(files: &[Fixed]) -> TokenStream {
    let declarations = fixed::declarations(files);
    quote! {
        //! The http transport's own parts: the drain, the operators' endpoints and auth.

        #declarations
    }
}

/// `TOOL_SCOPES`, when scopes are checked.
pub fn scopes_const(plan: &Plan) -> Option<TokenStream> {
    if !plan.checks_scopes() {
        return None;
    }
    let count = Literal::usize_unsuffixed(plan.tools.len());
    let rows = plan.tools.iter().map(|tool| {
        let scopes = &tool.scopes;
        quote!(&[#(#scopes),*])
    });
    Some(quote! {
        /// The scopes a caller needs for each tool, in `tools/list` order (`scopes`).
        const TOOL_SCOPES: [&[&str]; #count] = [#(#rows),*];
    })
}

/// The body of `list_tools`: every tool, or those the caller's scopes allow.
pub fn list_tools_body(plan: &Plan) -> TokenStream {
    if !plan.checks_scopes() {
        return quote!(Ok(ListToolsResult::with_all_items(Self::tools().to_vec())));
    }
    quote! {
        let caller = http_server::Caller::of(&context.extensions);
        let tools = Self::tools()
            .iter()
            .zip(TOOL_SCOPES)
            .filter(|(_, needed)| http_server::Caller::allows(caller, needed))
            .map(|(tool, _)| tool.clone())
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }
}

/// What `call_tool` checks first: that the caller's scopes allow the tool.
pub fn call_tool_guard(plan: &Plan) -> Option<TokenStream> {
    plan.checks_scopes().then(|| {
        quote! {
            let needed = Self::tools()
                .iter()
                .zip(TOOL_SCOPES)
                .find(|(tool, _)| tool.name == request.name)
                .map_or(&[][..], |(_, needed)| needed);
            if !http_server::Caller::allows(http_server::Caller::of(&context.extensions), needed) {
                return Err(ErrorData::invalid_request(
                    format!("the token does not grant the scopes `{}` that tool `{}` needs", needed.join(" "), request.name),
                    None,
                ));
            }
        }
    })
}

/// The `serve` of an http server, with its access rules as consts.
pub fn serve(plan: &Plan, http: &HttpServerPlan) -> TokenStream {
    let access = access_consts(plan, http);
    let limits = limits_consts(http);
    let (gate, gate_init) = gate(http);
    let default_bind = http.bind.to_string();
    let (ops_bind, assemble) = ops_router(http);
    let metrics_fn = plan.serves_metrics().then(|| metrics_router(plan, http));
    let serve_fn = serve_fn(plan, http, &gate_init, &assemble);
    quote! {
        #access

        #limits

        #gate

        /// Where the server listens: `forge.bind`, unless `PFORGE_BIND` says otherwise.
        pub fn bind_address() -> String {
            ::std::env::var("PFORGE_BIND").unwrap_or_else(|_| #default_bind.to_owned())
        }

        #ops_bind
        #metrics_fn

        /// `/healthz` and `/readyz`.
        fn probes(life: &Arc<http_server::Lifecycle>) -> ::axum::Router {
            ::axum::Router::new()
                .route("/healthz", ::axum::routing::get(http_server::healthz))
                .route("/readyz", ::axum::routing::get(http_server::readyz))
                .with_state(Arc::clone(life))
        }

        #serve_fn
    }
}

/// The consts of who may call and how much they may send: hosts, origins, body size, and
/// how long the drain waits.
fn access_consts(plan: &Plan, http: &HttpServerPlan) -> TokenStream {
    let hosts = &http.allowed_hosts;
    let origins = &http.allowed_origins;
    let body = Literal::u32_unsuffixed(http.max_body_bytes);
    let drain = Literal::u64_unsuffixed(plan.drain_ms);
    quote! {
        /// `Host` names requests may carry (`forge.http.allowed_hosts`); others get 403.
        pub const ALLOWED_HOSTS: &[&str] = &[#(#hosts),*];

        /// Browser origins requests may carry (`forge.http.allowed_origins`); others get
        /// 403, and requests without an `Origin` header are served.
        pub const ALLOWED_ORIGINS: &[&str] = &[#(#origins),*];

        /// Bytes of the largest request body (`forge.http.max_body_bytes`); larger ones
        /// get 413.
        pub const MAX_BODY_BYTES: usize = #body;

        /// How long requests in flight may take to finish once the server is told to stop
        /// (`forge.drain_timeout`).
        pub const DRAIN: ::std::time::Duration = ::std::time::Duration::from_millis(#drain);
    }
}

/// `metrics`, the router of `/metrics`: every tool, or on the server's own address behind
/// auth, the tools the caller's scopes allow.
fn metrics_router(plan: &Plan, http: &HttpServerPlan) -> TokenStream {
    // On an address of their own, the metrics are the operators' and show every tool.
    let per_caller = plan.checks_scopes() && matches!(http.metrics, MetricsPlan::Shared);
    let (caller, visible) = if per_caller {
        (
            quote!(caller: Option<::axum::Extension<http_server::Caller>>,),
            quote! {
                let caller = caller.map(|::axum::Extension(caller)| caller);
                let visible = |index: usize| http_server::Caller::allows(caller.as_ref(), TOOL_SCOPES[index]);
            },
        )
    } else {
        (quote!(), quote!(let visible = |_| true;))
    };
    quote! {
        /// `/metrics`.
        fn metrics(server: Server, life: &Arc<http_server::Lifecycle>) -> ::axum::Router {
            use ::axum::extract::State;
            ::axum::Router::new()
                .route(
                    "/metrics",
                    ::axum::routing::get(move |State(life): State<Arc<http_server::Lifecycle>>, #caller| {
                        let server = server.clone();
                        async move {
                            #visible
                            http_server::metrics(server.metrics_text(visible), &life)
                        }
                    }),
                )
                .with_state(Arc::clone(life))
        }
    }
}

/// Where the operators' endpoints go: `ops_address` and the block that splits the routers
/// when the metrics have an address of their own; else nothing, and the probes join `/mcp`.
fn ops_router(http: &HttpServerPlan) -> (TokenStream, TokenStream) {
    let MetricsPlan::Own(address) = http.metrics else {
        return (quote!(), quote!((app.merge(probes(&life)), None, None)));
    };
    let address = address.to_string();
    let ops_bind = quote! {
        /// Where `/metrics`, `/healthz` and `/readyz` are served:
        /// `forge.http.metrics.bind`, unless `PFORGE_METRICS_BIND` says otherwise.
        pub fn ops_address() -> String {
            ::std::env::var("PFORGE_METRICS_BIND").unwrap_or_else(|_| #address.to_owned())
        }
    };
    let assemble = quote! {
        let ops = probes(&life).merge(metrics(server, &life));
        (app.merge(probes(&life)), Some(ops), Some(ops_address()))
    };
    (ops_bind, assemble)
}

/// `/metrics` merged into the app when it shares the server's address: then it is behind
/// the same auth as `/mcp`, since tool names and counts are not for anyone who can reach the
/// port.
fn shared_metrics(http: &HttpServerPlan, auth_layer: &TokenStream) -> Option<TokenStream> {
    (http.metrics == MetricsPlan::Shared).then(|| {
        quote! {
            .merge(metrics(server.clone(), &life).layer(::axum::middleware::from_fn_with_state(
                ALLOWED_HOSTS,
                http_server::check_host,
            ))#auth_layer)
        }
    })
}

/// The generated `serve` itself. One function of the generated crate, kept whole: its steps
/// build on each other's locals, and the parts that vary are rendered by the helpers.
fn serve_fn(
    plan: &Plan,
    http: &HttpServerPlan,
    gate_init: &TokenStream,
    assemble: &TokenStream,
) -> TokenStream {
    let stateless = http
        .stateless
        .then(|| quote!(.with_legacy_session_mode(false).with_json_response(true)));
    let (auth_setup, auth_layer, metadata_route) = auth(plan, http);
    let session_manager = session_manager(http);
    let shared_metrics = shared_metrics(http, &auth_layer);
    quote! {
        /// Serves MCP streamable HTTP at `http://<bind>/mcp`, with `/healthz`, `/readyz`
        /// and the metrics, until SIGTERM or Ctrl-C; then answers the requests in flight
        /// (for up to [`DRAIN`]) and returns. Every session talks to the same server, so
        /// handlers and state are shared.
        pub async fn serve() -> Result<(), Box<dyn ::std::error::Error + Send + Sync>> {
            use ::rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
            use ::rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
            let server = Server::new();
            let life = Arc::new(http_server::Lifecycle::new(MAX_IN_FLIGHT));
            #auth_setup
            let config = StreamableHttpServerConfig::default()
                .with_allowed_hosts(ALLOWED_HOSTS.iter().copied())
                .with_allowed_origins(ALLOWED_ORIGINS.iter().copied())
                .enforce_origin_validation()
                .with_max_request_body_bytes(MAX_BODY_BYTES)
                #stateless;
            let sessions = config.cancellation_token.clone();
            #session_manager
            let mcp = StreamableHttpService::new(
                {
                    let server = server.clone();
                    move || Ok(server.clone())
                },
                Arc::clone(&session_manager),
                config,
            );
            let gate = Arc::new(Gate {
                life: Arc::clone(&life),
                #gate_init
            });
            let app = http_server::mcp_router(mcp)
                .layer(::axum::middleware::from_fn_with_state(gate, pass_gate))
                #shared_metrics
                #metadata_route;
            let (app, ops, ops_address): (::axum::Router, Option<::axum::Router>, Option<String>) = {
                #assemble
            };
            let addresses = http_server::Addresses {
                mcp: bind_address(),
                ops: ops_address,
                drain: DRAIN,
                limits: CONNECTIONS,
            };
            http_server::run(app, ops, life, move || sessions.cancel(), addresses).await
        }
    }
}

/// The consts of `forge.http`'s timeouts and caps.
fn limits_consts(http: &HttpServerPlan) -> TokenStream {
    let limits = &http.limits;
    let ms = Literal::u64_unsuffixed;
    let count = |n: u32| Literal::usize_unsuffixed(usize::try_from(n).unwrap_or(usize::MAX));
    let header_read = ms(limits.header_read_timeout_ms);
    let request = ms(limits.request_timeout_ms);
    let keep_alive = ms(limits.keep_alive_timeout_ms);
    let connections = count(limits.max_connections);
    let in_flight = count(limits.max_in_flight);
    let sessions = (!http.stateless).then(|| {
        let total = count(limits.max_sessions);
        let per_caller = count(limits.max_sessions_per_caller);
        quote! {
            /// Live sessions, in all (`forge.http.max_sessions`) and of one caller
            /// (`forge.http.max_sessions_per_caller`); the idlest goes to make room.
            pub const SESSIONS: http_server::SessionLimits = http_server::SessionLimits {
                max_sessions: #total,
                max_per_caller: #per_caller,
            };
        }
    });
    quote! {
        /// Connections open at once (`forge.http.max_connections`), and how long one may
        /// take to send a request head (`header_read_timeout`) and body (`request_timeout`)
        /// or stay idle (`keep_alive_timeout`).
        pub const CONNECTIONS: http_server::ConnectionLimits = http_server::ConnectionLimits {
            max_connections: #connections,
            header_read: ::std::time::Duration::from_millis(#header_read),
            request: ::std::time::Duration::from_millis(#request),
            keep_alive: ::std::time::Duration::from_millis(#keep_alive),
        };

        /// MCP requests answered at once (`forge.http.max_in_flight`); more wait.
        pub const MAX_IN_FLIGHT: usize = #in_flight;

        #sessions
    }
}

/// The session manager `serve` makes.
fn session_manager(http: &HttpServerPlan) -> TokenStream {
    if http.stateless {
        return quote!(let session_manager = Arc::new(LocalSessionManager::default()););
    }
    quote! {
        let session_manager = Arc::new(http_server::Sessions::new(LocalSessionManager::default(), SESSIONS));
    }
}

/// The one layer in front of `/mcp` (`Gate` and `pass_gate`), and the fields `serve` gives
/// it. One layer, not one per check: axum clones and boxes each layer's service for every
/// request, which cost the transport about a tenth of its throughput.
fn gate(http: &HttpServerPlan) -> (TokenStream, TokenStream) {
    let (auth_field, auth_init, auth_step) = match &http.auth {
        None => (quote!(), quote!(), quote!()),
        Some(ServerAuthPlan::Bearer { .. }) => (
            quote!(tokens: Arc<http_server::Tokens>,),
            quote!(tokens: Arc::clone(&tokens),),
            quote!(let request = gate.tokens.authenticate(request)?;),
        ),
        Some(ServerAuthPlan::OAuth(_)) => (
            quote!(verifier: Arc<http_server::Verifier>,),
            quote!(verifier: Arc::clone(&verifier),),
            quote!(let request = gate.verifier.authenticate(request).await?;),
        ),
    };
    let (sessions_field, sessions_init, answer) = if http.stateless {
        (quote!(), quote!(), quote!(next.run(request).await))
    } else {
        (
            quote!(sessions: Arc<http_server::Sessions>,),
            quote!(sessions: Arc::clone(&session_manager),),
            quote!(gate.sessions.serve(request, next).await),
        )
    };
    let definitions = quote! {
        /// What a request to `/mcp` passes before rmcp sees it.
        struct Gate {
            life: Arc<http_server::Lifecycle>,
            #auth_field
            #sessions_field
        }

        /// Lets a request to `/mcp` through the [`Gate`], in this order: refused while the
        /// server drains, refused without a good token, held until one of
        /// [`MAX_IN_FLIGHT`] places is free, refused on a session someone else opened.
        /// What it holds is released when the answer has been sent.
        async fn pass_gate(
            ::axum::extract::State(gate): ::axum::extract::State<Arc<Gate>>,
            request: ::axum::extract::Request,
            next: ::axum::middleware::Next,
        ) -> Result<::axum::response::Response, http_server::Refused> {
            let counted = gate.life.count_in(request.method())?;
            #auth_step
            let place = gate.life.take_place(request.method()).await?;
            let answer = #answer;
            Ok(answer.map(|body| http_server::holding(body, (counted, place))))
        }
    };
    let init = quote!(#auth_init #sessions_init);
    (definitions, init)
}

/// What `serve` sets up for auth, the auth layer of the shared `/metrics` route (`/mcp` is
/// behind the gate), and the metadata route.
fn auth(plan: &Plan, http: &HttpServerPlan) -> (TokenStream, TokenStream, TokenStream) {
    match &http.auth {
        None => (quote!(), quote!(), quote!()),
        Some(ServerAuthPlan::Bearer { env }) => (
            quote! {
                let tokens = Arc::new(http_server::Tokens::from_env(&[#(#env),*])?);
            },
            quote!(.layer(::axum::middleware::from_fn_with_state(Arc::clone(&tokens), http_server::require_token))),
            quote!(),
        ),
        Some(ServerAuthPlan::OAuth(oauth)) => {
            let OAuthPlan {
                issuer,
                audience,
                jwks_url,
                resource,
                metadata_url,
                metadata_path,
                leeway_secs,
            } = oauth;
            let leeway = Literal::u64_unsuffixed(*leeway_secs);
            let mut scopes: Vec<&str> = plan
                .tools
                .iter()
                .flat_map(|t| t.scopes.iter().map(String::as_str))
                .collect();
            scopes.sort_unstable();
            scopes.dedup();
            let scoped = plan.tools.iter().filter(|t| !t.scopes.is_empty()).map(|t| {
                let module = ident(&t.module);
                let needed = &t.scopes;
                quote!((tools::#module::NAME, &[#(#needed),*]))
            });
            (
                quote! {
                    let verifier = Arc::new(http_server::Verifier::new(http_server::OAuth {
                        issuer: #issuer,
                        audience: #audience,
                        jwks_url: #jwks_url,
                        resource: #resource,
                        metadata_url: #metadata_url,
                        leeway_secs: #leeway,
                        scopes: &[#(#scopes),*],
                        tool_scopes: &[#(#scoped),*],
                        max_body_bytes: MAX_BODY_BYTES,
                    })?);
                },
                quote!(.layer(::axum::middleware::from_fn_with_state(Arc::clone(&verifier), http_server::require_jwt))),
                quote!(.route(#metadata_path, ::axum::routing::get(http_server::metadata).with_state(verifier))),
            )
        }
    }
}
