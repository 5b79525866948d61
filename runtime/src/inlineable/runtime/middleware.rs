//! Middleware of yours around every tool call ([`Middleware`]), composed statically into a
//! [`Chain`]: each `before` in the order forge.yaml lists them, the tool, then each `after`
//! (or `on_error`) in reverse order. The chain is a nested tuple, `(First, (Second, ()))`, so
//! the compiler sees every call: no `dyn`, no registry, and nothing at all for a server
//! without middleware.

use std::future::Future;

use rmcp::model::JsonObject;

use super::{Answer, ToolError};

/// One tool call as middleware sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The tool's name.
    pub tool: &'static str,
    /// The arguments the tool gets: as the client sent them, then as each `before` left them.
    pub arguments: JsonObject,
}

/// Code of yours that runs around every tool call (forge.yaml: `middleware: [{type: native,
/// handler: handlers::YourType}]`). The server keeps one instance, made with `Default`; the
/// type need not implement `Debug`.
/// Every method has a default that passes the call through, so implement only what you need.
///
/// It sits outside the tool's whole policy: `after` sees the final answer (a fallback's
/// included) and `on_error` the final failure, once per call however many attempts it took.
/// A pipeline's steps run inside its call, without middleware of their own. A call the client
/// cancels, or whose tool panics, is dropped without `after` or `on_error`: release what
/// `before` took in a guard's `Drop`, not in `after`.
pub trait Middleware: Send + Sync {
    /// Runs before the tool, in the listed order; it may change the arguments. An error ends
    /// the call there: the later middleware and the tool do not run, and the client gets the
    /// error, as the earlier middleware's `on_error` leaves it.
    fn before(&self, call: &mut Call) -> impl Future<Output = Result<(), ToolError>> + Send {
        let _ = call;
        std::future::ready(Ok(()))
    }

    /// Runs after the tool answered, in reverse order; it may change the answer, or turn it
    /// into an error.
    fn after(
        &self,
        call: &Call,
        answer: Answer,
    ) -> impl Future<Output = Result<Answer, ToolError>> + Send {
        let _ = call;
        std::future::ready(Ok(answer))
    }

    /// Runs after the tool (or a later `before`) failed, in reverse order; it may replace the
    /// error, or answer instead.
    fn on_error(
        &self,
        call: &Call,
        error: ToolError,
    ) -> impl Future<Output = Result<Answer, ToolError>> + Send {
        let _ = call;
        std::future::ready(Err(error))
    }
}

/// Middleware composed in order: `()` is the empty chain, `(M, Rest)` runs `M` around `Rest`.
/// A call is [`enter`](Chain::enter)ed, run, then [`leave`](Chain::leave)n, so that the
/// tool's own future is awaited by the server, not inside the chain.
pub trait Chain: Send + Sync {
    /// Runs each `before` in order. When one refuses, the error and how many ran before it,
    /// whose `on_error` then runs.
    fn enter(&self, call: &mut Call)
    -> impl Future<Output = Result<(), (usize, ToolError)>> + Send;

    /// Runs `after` or `on_error` of the first `depth` entries, innermost first
    /// (`usize::MAX`: all of them).
    fn leave(
        &self,
        call: &Call,
        outcome: Result<Answer, ToolError>,
        depth: usize,
    ) -> impl Future<Output = Result<Answer, ToolError>> + Send;
}

impl Chain for () {
    fn enter(
        &self,
        _call: &mut Call,
    ) -> impl Future<Output = Result<(), (usize, ToolError)>> + Send {
        std::future::ready(Ok(()))
    }

    fn leave(
        &self,
        _call: &Call,
        outcome: Result<Answer, ToolError>,
        _depth: usize,
    ) -> impl Future<Output = Result<Answer, ToolError>> + Send {
        std::future::ready(outcome)
    }
}

impl<M: Middleware, Rest: Chain> Chain for (M, Rest) {
    async fn enter(&self, call: &mut Call) -> Result<(), (usize, ToolError)> {
        self.0.before(call).await.map_err(|error| (0, error))?;
        self.1
            .enter(call)
            .await
            .map_err(|(depth, error)| (depth + 1, error))
    }

    async fn leave(
        &self,
        call: &Call,
        outcome: Result<Answer, ToolError>,
        depth: usize,
    ) -> Result<Answer, ToolError> {
        if depth == 0 {
            return outcome;
        }
        match self.1.leave(call, outcome, depth - 1).await {
            Ok(answer) => self.0.after(call, answer).await,
            Err(error) => self.0.on_error(call, error).await,
        }
    }
}

/// Runs `tool` with `arguments` inside `chain`: each `before`, the tool (unless one refused),
/// then each `after` or `on_error` of those whose `before` ran.
pub async fn through<C, F, Fut>(
    chain: &C,
    tool_name: &'static str,
    arguments: JsonObject,
    tool: F,
) -> Result<Answer, ToolError>
where
    C: Chain,
    F: FnOnce(JsonObject) -> Fut,
    Fut: Future<Output = Result<Answer, ToolError>>,
{
    let mut call = Call {
        tool: tool_name,
        arguments,
    };
    let (outcome, depth) = match chain.enter(&mut call).await {
        // The tool gets a copy, so that `after` and `on_error` still see the arguments.
        Ok(()) => (tool(call.arguments.clone()).await, usize::MAX),
        Err((depth, error)) => (Err(error), depth),
    };
    chain.leave(&call, outcome, depth).await
}
