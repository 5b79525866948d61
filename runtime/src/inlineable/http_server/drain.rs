//! The life of an http server: the requests it is answering, whether it is ready, and the
//! drain when it is told to stop.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Method, StatusCode, header};
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

    /// Counts a POST to `/mcp` in until its answer has been sent, which for a streamed
    /// answer is when the stream ends; once the server is draining, refuses it with 503 and
    /// `Retry-After` (a client retries elsewhere; a load balancer told to retry POSTs on 503
    /// does it for the client). GET streams and DELETE carry no work, so they are not
    /// counted: the drain ends them.
    pub fn count_in(self: &Arc<Self>, method: &Method) -> Result<Option<InFlight>, Refused> {
        if method != Method::POST {
            return Ok(None);
        }
        // Counted before the flag is read: a drain that starts in between either sees this
        // request in flight or is seen by it, never neither.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let counted = InFlight(Arc::clone(self));
        if self.draining() {
            return Err(stopping().into());
        }
        Ok(Some(counted))
    }

    /// Holds a POST to `/mcp` until one of `max_in_flight` places is free; the place is kept
    /// until its answer has been sent. As on stdio, a burst is slowed, not refused. Taken
    /// after auth, so that requests without a good token never take a place.
    pub async fn take_place(
        &self,
        method: &Method,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Refused> {
        if method != Method::POST {
            return Ok(None);
        }
        // The semaphore is never closed; an error would mean the server is going away.
        match Arc::clone(&self.slots).acquire_owned().await {
            Ok(place) => Ok(Some(place)),
            Err(_) => Err(stopping().into()),
        }
    }
}

/// The answer to a request refused before it is served (503, 401, 404, …), boxed so that
/// the results of the checks stay small on the path of the requests that pass.
#[derive(Debug)]
pub struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A request counted in flight; dropping it counts the request out.
#[derive(Debug)]
pub struct InFlight(Arc<Lifecycle>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
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
