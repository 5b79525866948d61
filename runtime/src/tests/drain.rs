//! The http server's count of requests in flight and its drain.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::generated::http_server::{Lifecycle, Refused, holding};

/// What the gate in front of `/mcp` does with the lifecycle: count a POST until answered.
async fn track(
    State(life): State<Arc<Lifecycle>>,
    request: Request,
    next: Next,
) -> Result<Response, Refused> {
    let counted = life.count_in(request.method())?;
    Ok(next.run(request).await.map(|body| holding(body, counted)))
}

/// A router whose POSTs answer after `wait`, behind `track`.
fn app(life: &Arc<Lifecycle>, wait: Duration) -> axum::Router {
    axum::Router::new()
        .route(
            "/mcp",
            axum::routing::post(move || async move {
                tokio::time::sleep(wait).await;
                "done"
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(life),
            track,
        ))
}

async fn post(address: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let request = "POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_counts_until_answered_and_the_drain_refuses_new_ones() {
    let life = Arc::new(Lifecycle::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = app(&life, Duration::from_millis(300));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let slow = tokio::spawn(post(address));
    tokio::time::timeout(Duration::from_secs(5), async {
        while life.in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the request was never counted"));
    life.drain();
    let refused = post(address).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    // The drain waits for the slow request, which is answered in full.
    tokio::time::timeout(Duration::from_secs(5), life.idle())
        .await
        .unwrap_or_else(|_| panic!("never idle"));
    let answered = slow.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        answered.starts_with("HTTP/1.1 200") && answered.ends_with("done"),
        "{answered}"
    );
    assert_eq!(life.in_flight(), 0);
}
