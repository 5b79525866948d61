//! rmcp's side of the stdio transport: every message the dispatcher does not answer itself
//! (initialization, `tools/list`, resources, prompts, pings, anything new) reaches rmcp's
//! service through this [`Transport`], so rmcp stays the reference of the protocol. rmcp's
//! answers go to the same writer, each with the slot of the request it answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, RequestId};
use rmcp::transport::Transport;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Outbound, Outbox, Slot};

/// The slots of requests rmcp is answering, by id.
#[derive(Debug, Clone, Default)]
pub struct Pending(Arc<Mutex<HashMap<RequestId, Slot>>>);

impl Pending {
    /// Holds `slot` until `id` is answered or cancelled.
    pub fn hold(&self, id: RequestId, slot: Slot) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, slot);
    }

    /// The slot of `id`, if it is still unanswered.
    pub fn release(&self, id: &RequestId) -> Option<Slot> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }
}

/// The transport rmcp's service runs on.
#[derive(Debug)]
pub struct Link {
    /// Messages for rmcp, in the order they were read.
    pub inbound: UnboundedReceiver<ClientJsonRpcMessage>,
    /// The writer.
    pub outbox: Outbox,
    /// Requests rmcp has not answered yet.
    pub pending: Pending,
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
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            _ => None,
        };
        let slots = id
            .and_then(|id| self.pending.release(id))
            .into_iter()
            .collect();
        let sent = match super::encode(&message) {
            Some(bytes) => self
                .outbox
                .send(Outbound { bytes, slots })
                .map_err(|_| WriterStopped),
            None => Ok(()),
        };
        std::future::ready(sent)
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        self.inbound.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
