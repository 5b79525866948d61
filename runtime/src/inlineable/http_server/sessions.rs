//! Live MCP sessions: capped in all and per caller, the one idle the longest closed to make
//! room for a new one, and each bound to the credential that opened it, so that a session
//! id seen by someone else is worth nothing to them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{ServerSseMessage, SessionId};

use super::Caller;

tokio::task_local! {
    /// The principal of the request being answered, for the session it may open.
    static OPENER: Option<Arc<str>>;
}

/// How many sessions may be live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// In all (`forge.http.max_sessions`).
    pub max_sessions: usize,
    /// Of one caller, with auth on (`forge.http.max_sessions_per_caller`).
    pub max_per_caller: usize,
}

/// What is known of a live session.
#[derive(Debug)]
struct Entry {
    /// The credential that opened it; `None` without auth.
    owner: Option<Arc<str>>,
    /// When a request on it last began or ended.
    last_used: Instant,
    /// Requests on it whose answer is not yet sent (an open GET stream counts).
    busy: usize,
}

/// rmcp's in-memory sessions, with their caps and owners.
#[derive(Debug)]
pub struct Sessions {
    inner: LocalSessionManager,
    limits: SessionLimits,
    live: Mutex<HashMap<Arc<str>, Entry>>,
    /// Taken while a session is made room for and opened, so that concurrent `initialize`
    /// calls cannot all see the same free place.
    opening: tokio::sync::Mutex<()>,
}

/// Why no session could be opened: every session that would have to go is in use.
#[derive(Debug)]
pub enum SessionsError {
    /// rmcp's own.
    Local(LocalSessionManagerError),
    /// Every session is busy.
    Full,
}

impl std::fmt::Display for SessionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(error) => error.fmt(f),
            Self::Full => f.write_str("every session is in use (forge.http.max_sessions)"),
        }
    }
}

impl std::error::Error for SessionsError {}

impl From<LocalSessionManagerError> for SessionsError {
    fn from(error: LocalSessionManagerError) -> Self {
        Self::Local(error)
    }
}

impl Sessions {
    /// `inner`'s sessions, at most as many as `limits` says.
    pub fn new(inner: LocalSessionManager, limits: SessionLimits) -> Self {
        Self {
            inner,
            limits,
            live: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Entry>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a request on session `id` begun, if `principal` opened it; `None` for a
    /// session that is unknown or someone else's, which are told apart nowhere.
    fn enter(self: &Arc<Self>, id: &str, principal: Option<&Arc<str>>) -> Option<InUse> {
        let mut live = self.live();
        let entry = live.get_mut(id)?;
        if entry.owner.as_deref() != principal.map(|p| &**p) {
            return None;
        }
        entry.busy += 1;
        entry.last_used = Instant::now();
        Some(InUse {
            sessions: Arc::clone(self),
            id: Arc::from(id),
        })
    }

    /// Whether a session of `owner` could be opened now.
    fn has_room(&self, owner: Option<&Arc<str>>) -> bool {
        let live = self.live();
        let idle_of = |owner: Option<&Arc<str>>| {
            live.values()
                .any(|e| e.busy == 0 && owner.is_none_or(|o| e.owner.as_ref() == Some(o)))
        };
        let mine = owner.map_or(0, |o| {
            live.values()
                .filter(|e| e.owner.as_ref() == Some(o))
                .count()
        });
        (mine < self.limits.max_per_caller || idle_of(owner))
            && (live.len() < self.limits.max_sessions || idle_of(None))
    }

    /// Takes out of the table the sessions that must go for one of `owner` to fit: its own
    /// idlest past the per-caller cap, the idlest of all past the total.
    fn make_room(&self, owner: Option<&Arc<str>>) -> Result<Vec<Arc<str>>, SessionsError> {
        let mut live = self.live();
        let mut leaving = Vec::new();
        if let Some(owner) = owner {
            let mine = live
                .values()
                .filter(|e| e.owner.as_ref() == Some(owner))
                .count();
            if mine >= self.limits.max_per_caller {
                leaving.push(idlest(&mut live, Some(owner)).ok_or(SessionsError::Full)?);
            }
        }
        if live.len() >= self.limits.max_sessions {
            leaving.push(idlest(&mut live, None).ok_or(SessionsError::Full)?);
        }
        Ok(leaving)
    }
}

/// Removes the session of `owner` (of anyone, when `None`) idle the longest.
fn idlest(live: &mut HashMap<Arc<str>, Entry>, owner: Option<&Arc<str>>) -> Option<Arc<str>> {
    let id = live
        .iter()
        .filter(|(_, e)| e.busy == 0 && owner.is_none_or(|o| e.owner.as_ref() == Some(o)))
        .min_by_key(|(_, e)| e.last_used)
        .map(|(id, _)| Arc::clone(id))?;
    live.remove(&id);
    Some(id)
}

/// A request on a session, in flight; dropping it marks the session idle when it was the last.
#[derive(Debug)]
struct InUse {
    sessions: Arc<Sessions>,
    id: Arc<str>,
}

impl Drop for InUse {
    fn drop(&mut self) {
        if let Some(entry) = self.sessions.live().get_mut(&self.id) {
            entry.busy = entry.busy.saturating_sub(1);
            entry.last_used = Instant::now();
        }
    }
}

impl SessionManager for Sessions {
    type Error = SessionsError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let owner = OPENER.try_with(Clone::clone).ok().flatten();
        let _opening = self.opening.lock().await;
        let leaving = self.make_room(owner.as_ref())?;
        for id in leaving {
            tracing::info!("closed the session idle the longest to make room for a new one");
            let id: SessionId = id;
            self.inner.close_session(&id).await?;
        }
        let (id, transport) = self.inner.create_session().await?;
        let entry = Entry {
            owner,
            last_used: Instant::now(),
            busy: 0,
        };
        self.live().insert(Arc::clone(&id), entry);
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.live().remove(id);
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }
}

impl Sessions {
    /// Serves a request that names a session only with the credential that opened it: any
    /// other gets the 404 of an unknown session, for every method, DELETE included. A
    /// request that names none may open one; when every session is busy it gets 503.
    pub async fn serve(self: &Arc<Self>, request: Request, next: Next) -> Response {
        let principal: Option<Arc<str>> = request
            .extensions()
            .get::<Caller>()
            .and_then(|caller| caller.principal.as_deref())
            .map(Arc::from);
        if let Some(id) = request.headers().get("mcp-session-id") {
            let Some(in_use) = id
                .to_str()
                .ok()
                .and_then(|id| self.enter(id, principal.as_ref()))
            else {
                return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
            };
            return next
                .run(request)
                .await
                .map(|body| super::holding(body, in_use));
        }
        if request.method() == Method::POST && !self.has_room(principal.as_ref()) {
            tracing::warn!(
                "refused a new session: every session is in use (forge.http.max_sessions)"
            );
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                "every session is in use; try again later\n",
            )
                .into_response();
        }
        OPENER.scope(principal, next.run(request)).await
    }
}
