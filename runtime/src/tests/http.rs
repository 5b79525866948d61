//! URL components and request errors of the http tools.

use std::time::Duration;

use crate::generated::runtime::{
    Auth, Method, Part, Request, ToolError, client, encode_component, request_error, send,
};

#[test]
fn a_value_cannot_change_the_structure_of_the_url() {
    assert_eq!(encode_component("aZ09-_.~"), "aZ09-_.~");
    assert_eq!(
        encode_component("a b/c?d#e@f%g&h=i"),
        "a%20b%2Fc%3Fd%23e%40f%25g%26h%3Di"
    );
    assert_eq!(encode_component("é"), "%C3%A9");
    assert_eq!(encode_component("..."), "...", "not a path step");
}

/// A loopback port nothing listens on any more.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port()
}

#[tokio::test]
async fn a_connection_error_names_its_causes_but_not_the_url() {
    let url = format!("http://127.0.0.1:{}/token-s3cret", closed_port());
    let error = match reqwest::Client::new().get(&url).send().await {
        Ok(response) => panic!("{url} answered {}", response.status()),
        Err(error) => request_error(error),
    };
    let ToolError::Connection(message) = error else {
        panic!("{error:?}")
    };
    assert!(!message.contains("s3cret"), "{message}");
    assert!(message.contains(": "), "the causes are chained: {message}");
}

#[tokio::test]
async fn a_request_timeout_is_a_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    // Accepts and never answers.
    let silent = tokio::spawn(async move {
        let accepted = listener.accept().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(accepted);
    });
    let outcome = reqwest::Client::new()
        .get(format!("http://{address}/"))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    silent.abort();
    match outcome {
        Ok(response) => panic!("answered {}", response.status()),
        Err(error) => assert_eq!(request_error(error), ToolError::Timeout(Duration::ZERO)),
    }
}

/// A loopback upstream that answers each connection with `answer(head)` (the request's
/// head as received), and reports every head it saw.
async fn upstream(
    answer: fn(&str) -> Vec<u8>,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (seen, heads) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1
                {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let _ = socket.write_all(&answer(&head)).await;
                let _ = seen.send(head);
            });
        }
    });
    (format!("http://{address}"), heads)
}

fn ok(_: &str) -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_vec()
}

const USER_PROFILE: Request = Request {
    method: Method::Get,
    origin: &[],
    path: &[
        Part::Text("/api/users/"),
        Part::Param("id"),
        Part::Text("/profile"),
    ],
    query: &[],
    headers: &[("X-API-Key", &[Part::Text("k3y")])],
    auth: Auth::None,
    rest: &[],
    follow_redirects: false,
    max_body_bytes: 1 << 20,
};

fn values(pairs: &[(&str, &str)]) -> rmcp::model::JsonObject {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
        .collect()
}

#[tokio::test]
async fn a_value_cannot_step_along_the_upstream_path() {
    let (base, mut heads) = upstream(ok).await;
    let client = client();
    for id in [
        "..",
        ".",
        "%2e%2E",
        "%252e%252e",
        "\u{FF0E}\u{FF0E}",
        "\u{2025}",
        ".\u{FE52}",
        "",
        // Read as steps by upstreams that decode `%2F` or `%5C`, take path parameters, or
        // trim trailing dots and spaces (Windows).
        "a/../b",
        "x\\..",
        "..;jsessionid=1",
        ".. ",
        "...",
        "\u{2026}",
        "a\u{FF0F}..",
    ] {
        let outcome = send(&client, &USER_PROFILE, &values(&[("id", id)]), Some(&base)).await;
        let Err(ToolError::InvalidArguments(message)) = outcome else {
            panic!("{id:?}: {outcome:?}")
        };
        assert!(message.contains("`id`"), "{message}");
    }
    const REPOS: Request = Request {
        path: &[
            Part::Text("/api/repos/"),
            Part::Param("owner"),
            Part::Text("/"),
            Part::Param("repo"),
            Part::Text("/issues"),
        ],
        ..USER_PROFILE
    };
    let two = send(
        &client,
        &REPOS,
        &values(&[("owner", ".."), ("repo", "..")]),
        Some(&base),
    )
    .await;
    assert!(
        matches!(two, Err(ToolError::InvalidArguments(_))),
        "{two:?}"
    );
    // Only the good calls below reach the upstream, each on the path forge.yaml names.
    for (id, path) in [
        ("a.b", "/api/users/a.b/profile"),
        ("a/b", "/api/users/a%2Fb/profile"),
    ] {
        let outcome = send(&client, &USER_PROFILE, &values(&[("id", id)]), Some(&base)).await;
        assert_eq!(outcome, Ok(serde_json::json!({})), "{id}");
        let head = heads.recv().await.unwrap_or_default();
        assert!(head.starts_with(&format!("GET {path} HTTP/1.1")), "{head}");
    }
    assert!(
        heads.try_recv().is_err(),
        "a refused call reached the upstream"
    );
}

fn elsewhere(_: &str) -> Vec<u8> {
    // The port of the test's second upstream is not known here: any other origin will do.
    b"HTTP/1.1 302 Found\r\nlocation: http://localhost:9/steal?x=1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
}

fn same_origin_then_ok(head: &str) -> Vec<u8> {
    if head.starts_with("GET /api/users/1/profile") {
        b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /moved?api_key=q\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
    } else {
        ok(head)
    }
}

#[tokio::test]
async fn redirects_are_followed_only_within_the_origin_and_only_when_asked() {
    let client = client();
    let one = values(&[("id", "1")]);
    let (base, mut heads) = upstream(elsewhere).await;
    const FOLLOWS: Request = Request {
        follow_redirects: true,
        ..USER_PROFILE
    };
    for request in [&USER_PROFILE, &FOLLOWS] {
        let outcome = send(&client, request, &one, Some(&base)).await;
        let Err(ToolError::Status {
            status: 302, body, ..
        }) = outcome
        else {
            panic!("{outcome:?}")
        };
        assert!(body.contains("not followed"), "{body}");
        assert!(heads.recv().await.is_some());
    }
    let (base, mut heads) = upstream(same_origin_then_ok).await;
    let outcome = send(&client, &USER_PROFILE, &one, Some(&base)).await;
    assert!(
        matches!(outcome, Err(ToolError::Status { status: 307, .. })),
        "{outcome:?}"
    );
    let _ = heads.recv().await;
    let outcome = send(&client, &FOLLOWS, &one, Some(&base)).await;
    assert_eq!(outcome, Ok(serde_json::json!({})));
    let first = heads.recv().await.unwrap_or_default();
    let second = heads.recv().await.unwrap_or_default();
    assert!(first.starts_with("GET /api/users/1/profile"), "{first}");
    assert!(second.starts_with("GET /moved?api_key=q"), "{second}");
    assert!(
        second.to_ascii_lowercase().contains("x-api-key: k3y"),
        "same origin: {second}"
    );
    assert!(!second.to_ascii_lowercase().contains("referer"), "{second}");
}

fn endless(_: &str) -> Vec<u8> {
    let mut answer =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n".to_vec();
    answer.resize(answer.len() + (3 << 20), b'x');
    answer
}

fn announced(_: &str) -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000000000\r\nconnection: close\r\n\r\nxx".to_vec()
}

#[tokio::test]
async fn a_body_larger_than_the_bound_fails_the_call() {
    let client = client();
    for answer in [endless as fn(&str) -> Vec<u8>, announced] {
        let (base, _heads) = upstream(answer).await;
        let outcome = send(&client, &USER_PROFILE, &values(&[("id", "1")]), Some(&base)).await;
        let Err(ToolError::Handler(message)) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(message.contains("larger than 1048576 bytes"), "{message}");
    }
}

fn large_error(_: &str) -> Vec<u8> {
    let mut answer =
        b"HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n".to_vec();
    answer.resize(answer.len() + (64 << 20), b'e');
    answer
}

#[tokio::test]
async fn an_error_body_is_read_only_as_far_as_the_error_keeps() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let base = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    // Writes a 64 MiB error body in pieces and counts what the server let it write.
    let written = tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return 0;
        };
        let _ = read_all_head(&mut socket).await;
        let body = large_error("");
        let mut sent = 0;
        for piece in body.chunks(64 * 1024) {
            if socket.write_all(piece).await.is_err() {
                break;
            }
            sent += piece.len();
        }
        sent
    });
    let outcome = send(
        &client(),
        &USER_PROFILE,
        &values(&[("id", "1")]),
        Some(&base),
    )
    .await;
    let Err(ToolError::Status {
        status: 500, body, ..
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(body.len(), 500);
    let sent = written.await.unwrap_or_default();
    assert!(
        sent < 16 << 20,
        "the server read {sent} bytes of an error body"
    );
}

/// Reads a request head off `socket`.
pub async fn read_all_head(socket: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    head
}

fn moves(head: &str) -> Vec<u8> {
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let (status, to) = match path {
        "/api/users/307/profile" => ("307 Temporary Redirect", "/kept"),
        "/api/users/303/profile" => ("303 See Other", "/seen"),
        "/api/users/300/profile" => ("300 Multiple Choices", "/choice"),
        _ => return ok(head),
    };
    format!("HTTP/1.1 {status}\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}

#[tokio::test]
async fn a_followed_redirect_keeps_or_drops_the_method_as_its_status_says() {
    let (base, mut heads) = upstream(moves).await;
    const POSTS: Request = Request {
        method: Method::Post,
        rest: &["name"],
        follow_redirects: true,
        ..USER_PROFILE
    };
    let client = client();
    for (id, second) in [("307", "POST /kept"), ("303", "GET /seen")] {
        let arguments = values(&[("id", id), ("name", "n")]);
        let outcome = send(&client, &POSTS, &arguments, Some(&base)).await;
        assert_eq!(outcome, Ok(serde_json::json!({})), "{id}");
        let _ = heads.recv().await;
        let head = heads.recv().await.unwrap_or_default().to_ascii_lowercase();
        assert!(head.starts_with(&second.to_ascii_lowercase()), "{head}");
        assert_eq!(
            head.contains("content-length: 12"),
            id == "307",
            "the body: {head}"
        );
    }
    let arguments = values(&[("id", "300"), ("name", "n")]);
    let outcome = send(&client, &POSTS, &arguments, Some(&base)).await;
    assert!(
        matches!(outcome, Err(ToolError::Status { status: 300, .. })),
        "{outcome:?}"
    );
}
