//! The state a tool's policy keeps between calls, its circuit breaker and its bulkhead, and
//! the one way an attempt passes them. A tool without one of them has `()` in its place, which
//! admits everything and costs nothing once the generic code is specialized for the tool.

use crate::generated::runtime::ToolError;

/// A tool's guards, held by the server, one per tool.
#[derive(Debug, Default)]
pub struct Guards<B, H> {
    /// The circuit breaker, or `()`.
    pub breaker: B,
    /// The bulkhead, or `()`.
    pub bulkhead: H,
}

/// What a circuit breaker does for one attempt: admit it or not, then learn its outcome.
pub trait Admit: Send + Sync {
    /// The ticket of an admitted attempt.
    type Probe<'a>: Send
    where
        Self: 'a;

    /// Admits an attempt of `tool`, or rejects it at once.
    fn admit(&self, tool: &'static str) -> Result<Self::Probe<'_>, ToolError>;

    /// Records the outcome of an admitted attempt.
    fn settle<T>(probe: Self::Probe<'_>, outcome: &Result<T, ToolError>);
}

/// What a bulkhead does for one attempt: hold a slot while it runs, or reject it.
pub trait Enter: Send + Sync {
    /// The slot, released when dropped.
    type Permit<'a>: Send
    where
        Self: 'a;

    /// Waits for a slot, or rejects the attempt.
    fn enter(&self) -> impl Future<Output = Result<Self::Permit<'_>, ToolError>> + Send;
}

impl Admit for () {
    type Probe<'a> = ();

    fn admit(&self, _tool: &'static str) -> Result<(), ToolError> {
        Ok(())
    }

    fn settle<T>(_probe: (), _outcome: &Result<T, ToolError>) {}
}

impl Enter for () {
    type Permit<'a> = ();

    fn enter(&self) -> impl Future<Output = Result<(), ToolError>> + Send {
        std::future::ready(Ok(()))
    }
}

impl<B: Admit, H: Enter> Guards<B, H> {
    /// Runs one attempt of `tool` through the breaker, in a bulkhead slot, within `timeout`
    /// when there is one. The operation is dropped when it is late (a request aborted, a
    /// command's process group killed); a rejection never runs it.
    pub async fn run<T>(
        &self,
        tool: &'static str,
        timeout: Option<std::time::Duration>,
        operation: impl Future<Output = Result<T, ToolError>>,
    ) -> Result<T, ToolError> {
        let probe = self.breaker.admit(tool)?;
        let permit = self.bulkhead.enter().await?;
        let outcome = match timeout {
            Some(limit) => super::with_timeout(limit, operation).await,
            None => operation.await,
        };
        drop(permit);
        B::settle(probe, &outcome);
        outcome
    }
}
