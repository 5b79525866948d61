//! URL components and request errors of the http tools.

use std::time::Duration;

use crate::generated::runtime::{ToolError, encode_component, request_error};

#[test]
fn a_value_cannot_change_the_structure_of_the_url() {
    assert_eq!(encode_component("aZ09-_.~"), "aZ09-_.~");
    assert_eq!(
        encode_component("a b/c?d#e@f%g&h=i"),
        "a%20b%2Fc%3Fd%23e%40f%25g%26h%3Di"
    );
    assert_eq!(encode_component("é"), "%C3%A9");
    assert_eq!(encode_component("."), "%2E");
    assert_eq!(encode_component(".."), "%2E%2E");
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
