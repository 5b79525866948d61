//! The life of an http server: the requests it is answering, whether it is ready, and the
//! drain when it is told to stop.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Requests being answered, and whether the server is stopping.
#[derive(Debug)]
pub struct Lifecycle {
    in_flight: AtomicUsize,
    draining: AtomicBool,
    idle: tokio::sync::Notify,
    /// One permit per request answered at once (`forge.http.max_in_flight`).
    slots: Arc<tokio::sync::Semaphore>,
}

impl Default for Lifecycle {
    /// No bound on requests answered at once.
    fn default() -> Self {
        Self::new(tokio::sync::Semaphore::MAX_PERMITS)
    }
}

impl Lifecycle {
    /// A server that answers at most `max_in_flight` MCP requests at once; more wait.
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            idle: tokio::sync::Notify::new(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                max_in_flight.clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            )),
        }
    }

    /// Whether the server is stopping: it takes no new request and is not ready.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// MCP requests whose answer is not yet sent.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// From now on, new requests are refused.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Waits until no request is being answered.
    pub async fn idle(&self) {
        loop {
            // Registered before looking, so an answer sent in between still wakes us.
            let mut woken = std::pin::pin!(self.idle.notified());
            woken.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            woken.await;
        }
    }

    /// Counts a request in, unless the server is draining.
    fn enter(self: &Arc<Self>) -> Option<Busy> {
        // Counted before the flag is read: a drain that starts in between either sees this
        // request in flight or is seen by it, never neither.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let busy = Busy(Arc::clone(self));
        (!self.draining()).then_some(busy)
    }
}

/// One request being answered; dropping it counts the request out.
#[derive(Debug)]
struct Busy(Arc<Lifecycle>);

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Counts each POST to `/mcp` until its answer has been sent, which for a streamed answer is
/// when the stream ends, and refuses new ones with 503 and `Retry-After` once the server is
/// draining, cancellations included (a client retries elsewhere; a load balancer told to
/// retry POSTs on 503 does it for the client). GET streams and DELETE carry no work, so
/// they are not counted: the drain ends them.
pub async fn track(State(life): State<Arc<Lifecycle>>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(busy) = life.enter() else {
        return stopping();
    };
    next.run(request).await.map(|body| holding(body, busy))
}

/// Holds each POST to `/mcp` until one of `max_in_flight` places is free, and keeps the place
/// until its answer has been sent: as on stdio, a burst is slowed, not refused. It runs after
/// auth, so that requests without a good token never take a place.
pub async fn admit(State(life): State<Arc<Lifecycle>>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    // The semaphore is never closed; an error would mean the server is going away.
    let Ok(place) = Arc::clone(&life.slots).acquire_owned().await else {
        return stopping();
    };
    next.run(request).await.map(|body| holding(body, place))
}

fn stopping() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1"), (header::CONNECTION, "close")],
        "the server is stopping\n",
    )
        .into_response()
}

/// `body`, keeping `held` (a request counted, a place taken, a connection or a session in
/// use) until it is sent or dropped: for a streamed answer, until the stream ends.
pub fn holding<T: Send + Unpin + 'static>(body: Body, held: T) -> Body {
    Body::new(Tracked { body, _held: held })
}

/// A response body that keeps what it holds until it is sent or dropped.
struct Tracked<T> {
    body: Body,
    _held: T,
}

impl<T: Send + Unpin + 'static> HttpBody for Tracked<T> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// SIGTERM (what an orchestrator sends) and SIGINT (Ctrl-C), listened for from the moment it
/// is made, so that a signal that comes while the server starts is not lost.
#[derive(Debug)]
pub struct StopSignal {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    /// Starts listening.
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| {
                signal(kind)
                    .inspect_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
                    .ok()
            };
            Self {
                term: listen(SignalKind::terminate(), "SIGTERM"),
                interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves on the next SIGTERM or SIGINT; never, when neither can be listened for.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn on(signal: Option<&mut tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = on(self.term.as_mut()) => {}
                () = on(self.interrupt.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
