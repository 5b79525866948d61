//! The endpoints of operators: liveness, readiness and Prometheus metrics.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Lifecycle;

/// `/healthz`: the process is alive and serving.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `/readyz`: 200 while the server takes requests, 503 once it drains.
pub async fn readyz(State(life): State<Arc<Lifecycle>>) -> Response {
    if life.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        "ready\n".into_response()
    }
}

/// `/metrics`: the tools' figures (`tools`, Prometheus text) and the server's own.
pub fn metrics(mut tools: String, life: &Lifecycle) -> Response {
    let _ = write!(
        tools,
        "# HELP pforge_http_requests_in_flight MCP requests whose answer is not yet sent.\n\
         # TYPE pforge_http_requests_in_flight gauge\n\
         pforge_http_requests_in_flight {}\n\
         # HELP pforge_draining 1 while the server is stopping.\n\
         # TYPE pforge_draining gauge\n\
         pforge_draining {}\n",
        life.in_flight(),
        u8::from(life.draining()),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        tools,
    )
        .into_response()
}
