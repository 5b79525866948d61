//! Serving an http server's routes until it is told to stop, then draining it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::{SessionManager, StreamableHttpService};
use tokio::net::TcpListener;

use super::{ConnectionLimits, Lifecycle, StopSignal, serve_connections};

/// The error `run` ends with.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Where and how long.
#[derive(Debug, Clone)]
pub struct Addresses {
    /// Where MCP (and, unless `ops` is set, the operators' endpoints) is served.
    pub mcp: String,
    /// Where the operators' endpoints are served, when on an address of their own.
    pub ops: Option<String>,
    /// How long calls in flight may take to finish once the server is told to stop.
    pub drain: Duration,
    /// How many connections each address keeps open, and for how long.
    pub limits: ConnectionLimits,
}

/// How long connections may stay open once sessions have ended, to send what is still
/// buffered: a client that keeps a request body open must not keep the process alive.
const LINGER: Duration = Duration::from_secs(5);

/// Serves `app` (and `ops` on its own address) until SIGTERM or Ctrl-C, then drains: new
/// requests get 503 and `/readyz` says so, while requests in flight are answered for up to
/// `drain` (a second signal cuts that short); then `end_sessions` closes what is left (SSE
/// streams, sessions) and it returns.
pub async fn run(
    app: Router,
    ops: Option<Router>,
    life: Arc<Lifecycle>,
    end_sessions: impl FnOnce() + Send + 'static,
    addresses: Addresses,
) -> Result<(), ServeError> {
    let mut signal = StopSignal::listen();
    let listener = TcpListener::bind(&addresses.mcp).await?;
    tracing::info!("serving MCP on http://{}/mcp", listener.local_addr()?);
    let ops = match (ops, &addresses.ops) {
        (Some(router), Some(bind)) => {
            let listener = TcpListener::bind(bind).await?;
            tracing::info!(
                "serving /metrics, /healthz and /readyz on http://{}",
                listener.local_addr()?
            );
            Some((listener, router))
        }
        _ => None,
    };
    let (ended_tx, ended) = tokio::sync::watch::channel(false);
    let drain = async move {
        signal.next().await;
        life.drain();
        tracing::info!(
            in_flight = life.in_flight(),
            "stopping: answering the requests in flight"
        );
        tokio::select! {
            () = life.idle() => {}
            () = tokio::time::sleep(addresses.drain) => {
                tracing::warn!(
                    in_flight = life.in_flight(),
                    "the drain timeout passed; stopping the requests still running"
                );
            }
            () = signal.next() => {
                tracing::warn!(in_flight = life.in_flight(), "stopping now, on a second signal");
            }
        }
        end_sessions();
        let _ = ended_tx.send(true);
    };
    let limits = addresses.limits;
    let mcp = serve_connections(listener, app, limits, drain);
    let ops = async {
        if let Some((listener, router)) = ops {
            serve_connections(listener, router, limits, has_ended(ended.clone())).await;
        }
    };
    let linger = async {
        has_ended(ended.clone()).await;
        tokio::time::sleep(LINGER).await;
    };
    tokio::select! {
        ((), ()) = async { tokio::join!(mcp, ops) } => {}
        () = linger => tracing::warn!("closing connections still open after the drain"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// A router that serves rmcp's MCP `service` at `/mcp`. The service sits behind one `Arc`
/// as a handler: every layer in front of it clones what is below it for each request, and
/// a clone of rmcp's service copies its whole config (the allowed hosts and origins), about
/// 20 allocations per layer and request; an axum method router costs 5 more.
pub fn mcp_router<S, M>(service: StreamableHttpService<S, M>) -> Router
where
    S: ServerHandler + Send + 'static,
    M: SessionManager,
{
    let service = Arc::new(service);
    let handler = move |request: Request| {
        let service = Arc::clone(&service);
        async move { service.handle(request).await }
    };
    Router::new().nest_service("/mcp", handler.into_service())
}

/// Resolves once the drain has ended.
async fn has_ended(mut ended: tokio::sync::watch::Receiver<bool>) {
    let _ = ended.wait_for(|ended| *ended).await;
}
