//! The stdio server: the reader and writer threads around a dispatcher that answers
//! `tools/call` itself and hands every other message to rmcp's service (see `link`).
//!
//! Why: measured on pipelined calls, rmcp's service loop costs a task spawn, two channel hops,
//! a second spawn for the send and tracing spans per request, and its stdio transport a
//! blocking-pool round trip per read and per write. The dispatcher parses each line once into
//! rmcp's own message types, runs the tool in a task of its own (so calls overlap and a
//! `notifications/cancelled` can abort it) and batches the answers of a wake-up into one write.
//!
//! What stays rmcp's: the handshake and everything but `tools/call`, and `tools/call` itself
//! until the client has sent `notifications/initialized` in a session that negotiated a
//! protocol older than 2026-07-28 (the versions whose results rmcp strips of `resultType`, as
//! the dispatcher does), and any call whose `_meta` names a protocol version of its own.
//!
//! Two bounds (see `slots`): at most `max_in_flight` requests run at once (tool calls and
//! requests rmcp is answering), each holding a permit until its answer is written; and at most
//! `max_in_flight` lines are read ahead of them, each holding a slot until it starts, is
//! handed to rmcp or is answered. Reading ahead lets a `notifications/cancelled` reach a call
//! while every permit is taken, unless `max_in_flight` requests already wait before it: then
//! it is read when one of them starts.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientJsonRpcMessage,
    ClientNotification, ClientRequest, ErrorData, JsonRpcMessage, JsonRpcRequest, RequestId,
    RequestMetaObject, ServerJsonRpcMessage, ServerResult,
};
use rmcp::{ServerHandler, ServiceExt};
use serde::Deserialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinError, JoinSet};

use super::{
    Held, Inbound, Link, Outbound, Outbox, Pending, Slot, Slots, salvaged_id, spawn_reader,
    spawn_writer,
};

/// A server whose `tools/call` the stdio transport answers without rmcp's service loop.
pub trait Tools: ServerHandler + Clone {
    /// Answers a `tools/call` as `ServerHandler::call_tool` does (before rmcp shapes the
    /// result for the negotiated protocol version, which the dispatcher then does).
    fn call(
        &self,
        request: CallToolRequestParams,
    ) -> impl Future<Output = Result<CallToolResult, ErrorData>> + Send;
}

/// The bounds of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests running at once, and lines read ahead of them.
    pub max_in_flight: usize,
    /// Bytes of the longest message; a longer one is refused without being held whole.
    pub max_message_bytes: usize,
    /// How long calls still running when stdin closes may take to finish.
    pub drain: Duration,
}

/// The error `serve` ends with.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Serves MCP over standard input and output until stdin is closed and the calls it brought
/// are answered, or the drain timeout has passed (then rmcp gives its own requests as long); an
/// error when stdout was closed first.
pub async fn serve<S: Tools>(server: S) -> Result<(), ServeError> {
    let limits = Limits {
        max_in_flight: super::MAX_IN_FLIGHT,
        max_message_bytes: super::MAX_MESSAGE_BYTES,
        drain: super::DRAIN,
    };
    serve_on(server, std::io::stdin(), std::io::stdout(), limits).await
}

/// Serves MCP over `input` and `output`.
pub async fn serve_on<S: Tools>(
    server: S,
    input: impl Read + Send + 'static,
    output: impl Write + Send + 'static,
    limits: Limits,
) -> Result<(), ServeError> {
    let (outbox, writer) = spawn_writer(output)?;
    let (lines_to, lines) = unbounded_channel();
    let slots = Slots::new(limits.max_in_flight);
    // Not joined: at the end it may still wait in a read of a stdin nobody closes.
    spawn_reader(input, slots, limits.max_message_bytes, lines_to)?;
    let (to_rmcp, inbound) = unbounded_channel();
    let pending = Pending::default();
    let legacy = Arc::new(AtomicBool::new(false));
    let link = Link {
        inbound,
        outbox: outbox.clone(),
        pending: pending.clone(),
        legacy: Arc::clone(&legacy),
    };
    let service = server.clone();
    let mut rmcp = tokio::spawn(async move {
        let running = service.serve(link).await?;
        running.waiting().await?;
        Ok::<(), ServeError>(())
    });
    let mut dispatcher = Dispatcher {
        server,
        limits,
        outbox,
        to_rmcp,
        pending,
        legacy,
        permits: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
        queue: VecDeque::new(),
        calls: JoinSet::new(),
        running: HashMap::new(),
        by_request: HashMap::new(),
        initialized: false,
        out: Outbound::default(),
    };
    let (dispatched, rmcp_ended) = tokio::select! {
        dispatched = dispatcher.run(lines) => (dispatched, None),
        ended = &mut rmcp => (Ok(()), Some(ended)),
    };
    // rmcp sees the end of input once the dispatcher is gone.
    drop(dispatcher);
    let ended = match rmcp_ended {
        Some(ended) => ended,
        None => rmcp.await,
    };
    let _ = writer.join();
    dispatched?;
    ended?
}

/// A request read but not started: every permit was taken.
struct Queued {
    id: RequestId,
    work: Work,
    /// Given back when the request starts or is cancelled.
    _slot: Slot,
}

/// What starting a request does (boxed, as rmcp's types are large and a queue holds many).
enum Work {
    /// A tool call the dispatcher runs.
    Call(Box<CallToolRequestParams>),
    /// A request for rmcp.
    Rmcp(Box<ClientJsonRpcMessage>),
}

/// A call running in the dispatcher's `JoinSet`.
struct Running {
    id: RequestId,
    permit: OwnedSemaphorePermit,
}

/// stdout was closed: nobody reads the answers any more.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout is closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// The state of the dispatcher.
struct Dispatcher<S> {
    server: S,
    limits: Limits,
    outbox: Outbox,
    to_rmcp: UnboundedSender<(ClientJsonRpcMessage, Option<Slot>)>,
    pending: Pending,
    /// The session negotiated a protocol older than 2026-07-28 (set by the link).
    legacy: Arc<AtomicBool>,
    permits: Arc<Semaphore>,
    queue: VecDeque<Queued>,
    calls: JoinSet<Result<CallToolResult, ErrorData>>,
    running: HashMap<tokio::task::Id, Running>,
    /// The request ids still to answer, with their newest call, to cancel it. As in rmcp, a
    /// reused id is answered once: by whichever of its calls ends first.
    by_request: HashMap<RequestId, AbortHandle>,
    initialized: bool,
    /// Answers of this wake-up, written together.
    out: Outbound,
}

impl<S: Tools> Dispatcher<S> {
    /// Until stdin is closed and the calls it brought are answered (for at most
    /// `limits.drain` after that), or until stdout is closed.
    async fn run(
        &mut self,
        mut lines: UnboundedReceiver<Vec<Inbound>>,
    ) -> Result<(), StdoutClosed> {
        let mut reading = true;
        let drain = tokio::time::sleep(Duration::MAX);
        tokio::pin!(drain);
        while reading || !self.calls.is_empty() || !self.queue.is_empty() {
            tokio::select! {
                batch = lines.recv(), if reading => match batch {
                    Some(batch) => batch.into_iter().for_each(|inbound| self.take(inbound)),
                    None => {
                        reading = false;
                        drain.as_mut().reset(tokio::time::Instant::now() + self.limits.drain);
                    }
                },
                Some(done) = self.calls.join_next_with_id(), if !self.calls.is_empty() => {
                    self.finish(done);
                }
                permit = Arc::clone(&self.permits).acquire_owned(), if !self.queue.is_empty() => {
                    match (permit, self.queue.pop_front()) {
                        (Ok(permit), Some(queued)) => self.start(queued.id, queued.work, permit),
                        // Never closed; were it, nothing queued could ever start.
                        (Err(_), _) => self.queue.clear(),
                        (Ok(_), None) => {}
                    }
                }
                () = &mut drain, if !reading => {
                    tracing::warn!(calls = self.calls.len(), "stdin closed; calls still running are stopped");
                    self.queue.clear();
                    self.calls.shutdown().await;
                    break;
                }
            }
            while let Some(done) = self.calls.try_join_next_with_id() {
                self.finish(done);
            }
            self.flush()?;
        }
        Ok(())
    }

    fn take(&mut self, inbound: Inbound) {
        let (line, slot) = match inbound {
            Inbound::Line(line, slot) => (line, slot),
            Inbound::Oversized(slot) => {
                let message = format!(
                    "a message is longer than {} bytes",
                    self.limits.max_message_bytes
                );
                let error = ErrorData::invalid_request(message, None);
                return self.push(&ServerJsonRpcMessage::error(error, None), Held::Slot(slot));
            }
        };
        match serde_json::from_slice::<ClientJsonRpcMessage>(&line) {
            Ok(message) => self.route(message, slot),
            // As rmcp and the other official SDKs do: no id to answer, and answering garbage
            // can start an error storm with a peer that echoes it. A request whose id can
            // still be read is answered, or its client would wait for ever.
            Err(error) if error.is_syntax() || error.is_eof() => match salvaged_id(&line) {
                Some(id) => {
                    let answer = ErrorData::parse_error(format!("not JSON: {error}"), None);
                    self.push(
                        &ServerJsonRpcMessage::error(answer, Some(id)),
                        Held::Slot(slot),
                    );
                }
                None => tracing::warn!(%error, "skipped a line that is not JSON"),
            },
            Err(error) => self.malformed(&line, &error, slot),
        }
    }

    /// JSON, but not a message of the protocol: a request gets Invalid Request with its id
    /// when it has a readable one, as rmcp answers it; a notification gets nothing, as JSON-RPC
    /// requires.
    fn malformed(&mut self, line: &[u8], error: &serde_json::Error, slot: Slot) {
        let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
        if value.get("method").is_some() && value.get("id").is_none() {
            tracing::warn!(%error, "skipped a notification that is not one of the protocol's");
            return;
        }
        let id = value
            .get("id")
            .and_then(|id| RequestId::deserialize(id).ok());
        let answer = ErrorData::invalid_request(format!("not an MCP message: {error}"), None);
        self.push(&ServerJsonRpcMessage::error(answer, id), Held::Slot(slot));
    }

    fn route(&mut self, message: ClientJsonRpcMessage, slot: Slot) {
        match message {
            JsonRpcMessage::Request(JsonRpcRequest {
                id,
                request: ClientRequest::CallToolRequest(call),
                ..
            }) if self.answers_calls(&call) => {
                self.request(id, Work::Call(Box::new(call.params)), slot)
            }
            JsonRpcMessage::Request(request) => {
                let id = request.id.clone();
                let message = Box::new(JsonRpcMessage::Request(request));
                self.request(id, Work::Rmcp(message), slot);
            }
            JsonRpcMessage::Notification(notification) => {
                match &notification.notification {
                    ClientNotification::InitializedNotification(_) => self.initialized = true,
                    ClientNotification::CancelledNotification(cancelled) => {
                        if let Some(id) = &cancelled.params.request_id {
                            self.cancel(id);
                        }
                    }
                    _ => {}
                }
                self.forward(JsonRpcMessage::Notification(notification), Some(slot));
            }
            other => self.forward(other, Some(slot)),
        }
    }

    /// Whether this call is the dispatcher's to answer (see the module's documentation).
    fn answers_calls(&self, call: &rmcp::model::CallToolRequest) -> bool {
        // rmcp's parser moves `params._meta` into the request's extensions.
        let own_version = call
            .extensions
            .get::<RequestMetaObject>()
            .is_some_and(|meta| {
                meta.0
                    .0
                    .keys()
                    .any(|key| key.starts_with("io.modelcontextprotocol/"))
            });
        self.initialized && self.legacy.load(Ordering::Acquire) && !own_version
    }

    /// A request starts now if a permit is free and none waits before it.
    fn request(&mut self, id: RequestId, work: Work, slot: Slot) {
        if self.queue.is_empty()
            && let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned()
        {
            return self.start(id, work, permit);
        }
        self.queue.push_back(Queued {
            id,
            work,
            _slot: slot,
        });
    }

    /// Starts a request with its permit; the permit is held until its answer is written.
    fn start(&mut self, id: RequestId, work: Work, permit: OwnedSemaphorePermit) {
        match work {
            Work::Call(params) => {
                let server = self.server.clone();
                let handle = self.calls.spawn(async move { server.call(*params).await });
                let running = Running {
                    id: id.clone(),
                    permit,
                };
                self.running.insert(handle.id(), running);
                self.by_request.insert(id, handle);
            }
            Work::Rmcp(message) => {
                self.pending.hold(id, permit);
                self.forward(*message, None);
            }
        }
    }

    /// Hands a message to rmcp; its slot, if it has one, comes back when rmcp takes it.
    fn forward(&mut self, message: ClientJsonRpcMessage, slot: Option<Slot>) {
        if self.to_rmcp.send((message, slot)).is_err() {
            tracing::debug!("rmcp's service has stopped; a message is dropped");
        }
    }

    /// The client gave up on `id`: it stops wherever it is, and no answer is sent (as rmcp
    /// does).
    fn cancel(&mut self, id: &RequestId) {
        if let Some(handle) = self.by_request.remove(id) {
            handle.abort();
        } else if let Some(at) = self.queue.iter().position(|queued| &queued.id == id) {
            self.queue.remove(at);
        } else {
            drop(self.pending.release(id));
        }
    }

    fn finish(
        &mut self,
        done: Result<(tokio::task::Id, Result<CallToolResult, ErrorData>), JoinError>,
    ) {
        let (task, answer) = match done {
            Ok((task, answer)) => (task, Ok(answer)),
            Err(error) => (error.id(), Err(error)),
        };
        let Some(running) = self.running.remove(&task) else {
            return;
        };
        // Cancelled, or its id already answered by another call of the same id.
        if self.by_request.remove(&running.id).is_none() {
            return;
        }
        let message = match answer {
            Ok(Ok(result)) => {
                let mut result = ServerResult::from(CallToolResponse::from(result));
                // What rmcp does to a result for a peer older than 2026-07-28.
                result.strip_result_type_for_legacy_peer();
                result.strip_non_object_output_for_legacy_peer();
                ServerJsonRpcMessage::response(result, running.id)
            }
            Ok(Err(error)) => ServerJsonRpcMessage::error(error, Some(running.id)),
            Err(error) => {
                tracing::error!(%error, "a tool call panicked");
                let error = ErrorData::internal_error("the tool panicked", None);
                ServerJsonRpcMessage::error(error, Some(running.id))
            }
        };
        self.push(&message, Held::Call(running.permit));
    }

    fn push(&mut self, message: &ServerJsonRpcMessage, held: Held) {
        if let Some(bytes) = encode(message) {
            self.out.bytes.extend_from_slice(&bytes);
        }
        self.out.held.push(held);
    }

    /// Hands this wake-up's answers to the writer.
    fn flush(&mut self) -> Result<(), StdoutClosed> {
        if self.out.bytes.is_empty() && self.out.held.is_empty() {
            return Ok(());
        }
        self.outbox
            .send(std::mem::take(&mut self.out))
            .map_err(|_| StdoutClosed)
    }
}

/// A message as one line of JSON.
pub fn encode(message: &ServerJsonRpcMessage) -> Option<Vec<u8>> {
    match serde_json::to_vec(message) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            Some(bytes)
        }
        Err(error) => {
            tracing::error!(%error, "an answer cannot be written as JSON");
            None
        }
    }
}
