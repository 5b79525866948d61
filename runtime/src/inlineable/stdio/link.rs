//! rmcp's side of the stdio transport: every message the dispatcher does not answer itself
//! (initialization, `tools/list`, resources, prompts, pings, anything new) reaches rmcp's
//! service through this [`Transport`], so rmcp stays the reference of the protocol. rmcp's
//! answers go to the same writer, each with the permit of the request it answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ProtocolVersion, RequestId, ServerResult};
use rmcp::transport::Transport;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Held, Outbound, Outbox, Slot};

/// The permits of requests rmcp is answering, by id: several for a reused id, all given back
/// with its one answer (rmcp answers a reused id once).
#[derive(Debug, Clone, Default)]
pub struct Pending(Arc<Mutex<HashMap<RequestId, Vec<OwnedSemaphorePermit>>>>);

impl Pending {
    /// Holds `permit` until `id` is answered or cancelled.
    pub fn hold(&self, id: RequestId, permit: OwnedSemaphorePermit) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_default()
            .push(permit);
    }

    /// The permits of `id`, if it is still unanswered.
    pub fn release(&self, id: &RequestId) -> Option<Vec<OwnedSemaphorePermit>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }
}

/// The transport rmcp's service runs on.
#[derive(Debug)]
pub struct Link {
    /// Messages for rmcp, in the order they were read, with the slot each still holds.
    pub inbound: UnboundedReceiver<(ClientJsonRpcMessage, Option<Slot>)>,
    /// The writer.
    pub outbox: Outbox,
    /// Requests rmcp has not answered yet.
    pub pending: Pending,
    /// Set when rmcp answers `initialize` with a protocol older than 2026-07-28.
    pub legacy: Arc<AtomicBool>,
}

/// stdout is closed: the writer has stopped.
#[derive(Debug)]
pub struct WriterStopped;

impl std::fmt::Display for WriterStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout is closed")
    }
}

impl std::error::Error for WriterStopped {}

impl Transport<RoleServer> for Link {
    type Error = WriterStopped;

    fn send(
        &mut self,
        message: rmcp::service::TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let id = match &message {
            JsonRpcMessage::Response(response) => {
                if let ServerResult::InitializeResult(result) = &response.result {
                    let legacy =
                        result.protocol_version.as_str() < ProtocolVersion::V_2026_07_28.as_str();
                    self.legacy.store(legacy, Ordering::Release);
                }
                Some(&response.id)
            }
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            _ => None,
        };
        let held = id
            .and_then(|id| self.pending.release(id))
            .unwrap_or_default()
            .into_iter()
            .map(Held::Call)
            .collect();
        let sent = match super::encode(&message) {
            Some(bytes) => self
                .outbox
                .send(Outbound { bytes, held })
                .map_err(|_| WriterStopped),
            None => Ok(()),
        };
        std::future::ready(sent)
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        // The slot is given back here: rmcp has taken the message.
        self.inbound.recv().await.map(|(message, _slot)| message)
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
