//! Serving an http server's routes until it is told to stop, then draining it.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use super::{Lifecycle, StopSignal};

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
    let mcp = axum::serve(nodelay(listener), app).with_graceful_shutdown(drain);
    let ops = async {
        match ops {
            Some((listener, router)) => {
                axum::serve(nodelay(listener), router)
                    .with_graceful_shutdown(has_ended(ended.clone()))
                    .await
            }
            None => Ok(()),
        }
    };
    let linger = async {
        has_ended(ended.clone()).await;
        tokio::time::sleep(LINGER).await;
    };
    tokio::select! {
        served = async { tokio::try_join!(mcp.into_future(), ops) } => { served?; }
        () = linger => tracing::warn!("closing connections still open after the drain"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves once the drain has ended.
async fn has_ended(mut ended: tokio::sync::watch::Receiver<bool>) {
    let _ = ended.wait_for(|ended| *ended).await;
}

/// rmcp writes an answer's SSE stream in several small pieces; with Nagle's algorithm each
/// call would wait for the client's delayed ACK (about 40 ms).
fn nodelay(listener: TcpListener) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    })
}
