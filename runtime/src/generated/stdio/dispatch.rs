//! The stdio server: the reader and writer threads around a dispatcher that answers
//! `tools/call` itself and hands every other message to rmcp's service (see `link`).
//!
//! Why: measured on pipelined calls, rmcp's service loop costs a task spawn, two channel hops,
//! a second spawn for the send and tracing spans per request, and its stdio transport a
//! blocking-pool round trip per read and per write. The dispatcher parses each line once into
//! rmcp's own message types, runs the tool in a task of its own (so calls overlap and a
//! `notifications/cancelled` can abort it) and batches the answers of a wake-up into one write.
//! A call before `notifications/initialized` goes to rmcp, so the handshake is rmcp's.

use std::collections::HashMap;
use std::io::{Read, Write};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientJsonRpcMessage,
    ClientNotification, ClientRequest, ErrorData, JsonRpcMessage, JsonRpcRequest, RequestId,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::{ServerHandler, ServiceExt};
use serde::Deserialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::{AbortHandle, JoinError, JoinSet};

use super::{Inbound, Link, Outbound, Outbox, Pending, Slot, Slots, spawn_reader, spawn_writer};

/// A server whose `tools/call` the stdio transport answers without rmcp's service loop.
pub trait Tools: ServerHandler + Clone {
    /// Answers a `tools/call` exactly as `ServerHandler::call_tool` does.
    fn call(
        &self,
        request: CallToolRequestParams,
    ) -> impl Future<Output = Result<CallToolResult, ErrorData>> + Send;
}

/// The bounds of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests read but not yet answered; the reader stops reading at this many.
    pub max_in_flight: usize,
    /// Bytes of the longest message; a longer one is refused without being held whole.
    pub max_line_bytes: usize,
}

/// The error `serve` ends with.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Serves MCP over standard input and output until stdin is closed and every call is answered.
pub async fn serve<S: Tools>(server: S) -> Result<(), ServeError> {
    let limits = Limits {
        max_in_flight: super::MAX_IN_FLIGHT,
        max_line_bytes: super::MAX_LINE_BYTES,
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
    // Not joined: at the end it may still wait in a read of a stdin nobody closes.
    spawn_reader(
        input,
        Slots::new(limits.max_in_flight),
        limits.max_line_bytes,
        lines_to,
    )?;
    let (to_rmcp, inbound) = unbounded_channel();
    let pending = Pending::default();
    let link = Link {
        inbound,
        outbox: outbox.clone(),
        pending: pending.clone(),
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
        calls: JoinSet::new(),
        running: HashMap::new(),
        initialized: false,
        out: Outbound::default(),
    };
    let rmcp_ended = tokio::select! {
        () = dispatcher.run(lines) => None,
        ended = &mut rmcp => Some(ended),
    };
    // rmcp sees the end of input once the dispatcher is gone.
    drop(dispatcher);
    let ended = match rmcp_ended {
        Some(ended) => ended,
        None => rmcp.await,
    };
    let _ = writer.join();
    ended?
}

/// The state of the dispatcher.
struct Dispatcher<S> {
    server: S,
    limits: Limits,
    outbox: Outbox,
    to_rmcp: UnboundedSender<ClientJsonRpcMessage>,
    pending: Pending,
    calls: JoinSet<(RequestId, Result<CallToolResult, ErrorData>)>,
    /// Calls running in `calls`, by request id.
    running: HashMap<RequestId, (AbortHandle, Option<Slot>)>,
    initialized: bool,
    /// Answers of this wake-up, written together.
    out: Outbound,
}

impl<S: Tools> Dispatcher<S> {
    /// Until stdin is closed and every call it brought is answered, or stdout is closed.
    async fn run(&mut self, mut lines: UnboundedReceiver<Vec<Inbound>>) {
        let mut reading = true;
        while reading || !self.calls.is_empty() {
            tokio::select! {
                batch = lines.recv(), if reading => match batch {
                    Some(batch) => batch.into_iter().for_each(|inbound| self.take(inbound)),
                    None => reading = false,
                },
                Some(done) = self.calls.join_next(), if !self.calls.is_empty() => self.finish(done),
            }
            while let Some(done) = self.calls.try_join_next() {
                self.finish(done);
            }
            if !self.flush() {
                return;
            }
        }
    }

    fn take(&mut self, inbound: Inbound) {
        let (line, slot) = match inbound {
            Inbound::Line(line, slot) => (line, slot),
            Inbound::Oversized(slot) => {
                let message = format!(
                    "a message is longer than {} bytes",
                    self.limits.max_line_bytes
                );
                return self.push(
                    &ServerJsonRpcMessage::error(ErrorData::invalid_request(message, None), None),
                    Some(slot),
                );
            }
        };
        match serde_json::from_slice::<ClientJsonRpcMessage>(&line) {
            Ok(message) => self.route(message, slot),
            // As rmcp and the other official SDKs do: no id to answer, and answering garbage
            // can start an error storm with a peer that echoes it.
            Err(error) if error.is_syntax() || error.is_eof() => {
                tracing::warn!(%error, "skipped a line that is not JSON");
            }
            Err(error) => self.malformed(&line, &error, slot),
        }
    }

    /// JSON, but not a message of the protocol: a request gets Invalid Request with its id
    /// when it has a readable one; a notification gets nothing, as JSON-RPC requires.
    fn malformed(&mut self, line: &[u8], error: &serde_json::Error, slot: Option<Slot>) {
        let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
        if value.get("method").is_some() && value.get("id").is_none() {
            tracing::warn!(%error, "skipped a notification that is not one of the protocol's");
            return;
        }
        let id = value
            .get("id")
            .and_then(|id| RequestId::deserialize(id).ok());
        let answer = ErrorData::invalid_request(format!("not an MCP message: {error}"), None);
        self.push(&ServerJsonRpcMessage::error(answer, id), slot);
    }

    fn route(&mut self, message: ClientJsonRpcMessage, slot: Option<Slot>) {
        match message {
            JsonRpcMessage::Request(JsonRpcRequest {
                id,
                request: ClientRequest::CallToolRequest(call),
                ..
            }) if self.initialized => self.call(id, call.params, slot),
            JsonRpcMessage::Request(request) => {
                if let Some(slot) = slot {
                    self.pending.hold(request.id.clone(), slot);
                }
                self.forward(JsonRpcMessage::Request(request));
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
                self.forward(JsonRpcMessage::Notification(notification));
            }
            other => self.forward(other),
        }
    }

    fn forward(&mut self, message: ClientJsonRpcMessage) {
        if self.to_rmcp.send(message).is_err() {
            tracing::debug!("rmcp's service has stopped; a message is dropped");
        }
    }

    fn call(&mut self, id: RequestId, params: CallToolRequestParams, slot: Option<Slot>) {
        if self.running.contains_key(&id) {
            let error =
                ErrorData::invalid_request(format!("request id {id} is already in use"), None);
            return self.push(&ServerJsonRpcMessage::error(error, Some(id)), slot);
        }
        let server = self.server.clone();
        let task_id = id.clone();
        let handle = self
            .calls
            .spawn(async move { (task_id, server.call(params).await) });
        self.running.insert(id, (handle, slot));
    }

    /// The client gave up on `id`: its call stops, and no answer is sent (as rmcp does).
    fn cancel(&mut self, id: &RequestId) {
        if let Some((handle, _slot)) = self.running.remove(id) {
            handle.abort();
        } else {
            drop(self.pending.release(id));
        }
    }

    fn finish(&mut self, done: Result<(RequestId, Result<CallToolResult, ErrorData>), JoinError>) {
        match done {
            Ok((id, answer)) => {
                // Not running: cancelled while it finished; the client expects no answer.
                let Some((_, slot)) = self.running.remove(&id) else {
                    return;
                };
                let message = match answer {
                    Ok(result) => ServerJsonRpcMessage::response(
                        ServerResult::from(CallToolResponse::from(result)),
                        id,
                    ),
                    Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
                };
                self.push(&message, slot);
            }
            Err(error) if error.is_cancelled() => {}
            Err(error) => self.panicked(&error),
        }
    }

    /// A tool panicked: its caller still gets an answer.
    fn panicked(&mut self, error: &JoinError) {
        tracing::error!(%error, "a tool call panicked");
        let task = error.id();
        let Some(id) = self
            .running
            .iter()
            .find(|(_, (handle, _))| handle.id() == task)
            .map(|(id, _)| id.clone())
        else {
            return;
        };
        if let Some((_, slot)) = self.running.remove(&id) {
            let error = ErrorData::internal_error("the tool panicked", None);
            self.push(&ServerJsonRpcMessage::error(error, Some(id)), slot);
        }
    }

    fn push(&mut self, message: &ServerJsonRpcMessage, slot: impl IntoIterator<Item = Slot>) {
        if let Some(bytes) = encode(message) {
            self.out.bytes.extend_from_slice(&bytes);
        }
        self.out.slots.extend(slot);
    }

    /// Hands this wake-up's answers to the writer; false once the writer has stopped.
    fn flush(&mut self) -> bool {
        if self.out.bytes.is_empty() && self.out.slots.is_empty() {
            return true;
        }
        self.outbox.send(std::mem::take(&mut self.out)).is_ok()
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
