//! Helpers of the http tools and fallbacks: request errors and URL components.

use super::ToolError;

/// A failed request as a tool error: a timeout, or a connection error that names each
/// cause but not the URL, which may carry a secret from a `${VAR}`.
pub fn request_error(error: reqwest::Error) -> ToolError {
    if error.is_timeout() {
        return ToolError::Timeout(std::time::Duration::ZERO);
    }
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ToolError::Connection(message)
}

/// Percent-encodes everything but unreserved characters, so a value stays inside its
/// URL component: `/`, `?`, `#`, `@`, `%` and `..` cannot change the URL's structure.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    // A lone `.` or `..` segment would still be read as a path step.
    match out.as_str() {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => out,
    }
}
