//! The http transport's bounds, on a real listener: the Host check of `/metrics`, half-sent
//! requests and idle connections closed, the connection cap, and sessions bound to the
//! credential that opened them.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::generated::http_server::{ConnectionLimits, host_allowed, serve_connections};

#[test]
fn metrics_hosts_match_as_rmcp_matches_them() {
    let allowed = ["localhost", "127.0.0.1", "::1", "mcp.example.com:8443"];
    for host in [
        "localhost",
        "LOCALHOST:8080",
        "127.0.0.1:1",
        "[::1]:9",
        "mcp.example.com:8443",
    ] {
        assert!(host_allowed(host, &allowed), "{host}");
    }
    for host in [
        "evil.test",
        "evil.test:8080",
        "mcp.example.com",
        "mcp.example.com:443",
        "",
        "localhost.evil.test",
    ] {
        assert!(!host_allowed(host, &allowed), "{host}");
    }
}

fn limits(max_connections: usize) -> ConnectionLimits {
    ConnectionLimits {
        max_connections,
        header_read: Duration::from_millis(400),
        request: Duration::from_millis(400),
        keep_alive: Duration::from_secs(30),
    }
}

/// Serves a router answering `ok` on `/` on a loopback port, with `limits`.
async fn start(limits: ConnectionLimits) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { "ok" }).post(|body: String| async move { body }),
    );
    tokio::spawn(serve_connections(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    address
}

/// Sends `GET /` and reads the answer to its end; `None` when the connection was closed
/// first or nothing came within 10 s.
async fn get(address: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).await.ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .ok()?
        .ok()?;
    (!answer.is_empty()).then_some(answer)
}

/// Whether the server closed `stream` (EOF or reset) within 10 s, whatever it answered
/// first.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_or_body_loses_its_connection() {
    let address = start(limits(16)).await;
    let mut head = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    head.write_all(b"GET / HTTP/1.1\r\nhost: local")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        closed(&mut head).await,
        "a half-sent head holds its connection"
    );
    let mut body = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    body.write_all(b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\nabc")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        closed(&mut body).await,
        "a half-sent body holds its connection"
    );
    assert!(get(&address).await.is_some_and(|a| a.ends_with("ok")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_makes_room_for_a_client() {
    // Timeouts far away: only the cap can make room.
    let address = start(ConnectionLimits {
        header_read: Duration::from_secs(60),
        keep_alive: Duration::from_secs(60),
        ..limits(8)
    })
    .await;
    let mut flood = Vec::new();
    for _ in 0..64 {
        let mut stream = TcpStream::connect(&address)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nhost: lo").await;
        flood.push(stream);
    }
    for _ in 0..3 {
        assert!(get(&address).await.is_some_and(|a| a.ends_with("ok")));
    }
    // The flood's oldest connections were closed to make room; at most 8 stay open.
    let mut open = 0;
    for stream in &mut flood {
        let mut byte = [0u8; 1];
        if tokio::time::timeout(Duration::from_millis(50), stream.read(&mut byte))
            .await
            .is_err()
        {
            open += 1;
        }
    }
    assert!(open <= 8, "{open} flood connections still open");
}
