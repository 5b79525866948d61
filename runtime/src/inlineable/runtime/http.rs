//! The requests of http tools and fallbacks: each is a [`Request`] constant that pforge
//! writes from forge.yaml, sent by the one function [`send`].

use rmcp::model::JsonObject;
use serde_json::Value;

use super::{Part, ToolError, is_dot_segment, render, text_of, verbatim};

/// Redirects a request that opts in follows, all within its origin.
const MAX_REDIRECTS: usize = 10;

/// Bytes of an error body read: enough for the 500 characters a [`ToolError::Status`] keeps.
const ERROR_BODY_BYTES: usize = 2_000;

/// The client every http tool and fallback shares. It follows no redirect (a [`Request`]
/// that opts in follows those within its own origin, in [`send`]) and sends no `Referer`, so
/// credentials and the query of a request never reach an origin forge.yaml did not name.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
        // Fails only when the TLS backend cannot start, where `Client::new` panics as well.
        .unwrap_or_else(|error| panic!("cannot start the HTTP client: {error}"))
}

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
/// URL component: `/`, `?`, `#`, `@` and `%` cannot change the URL's structure. A value that
/// would make a whole path segment `.` or `..` is refused before, by [`send`]: no escape of
/// a dot survives the WHATWG URL parser, which reads `%2E` as `.`.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: the parameters not in the URL or headers go to the query string.
    Get,
    /// POST: the other parameters go to a JSON body.
    Post,
    /// PUT: the other parameters go to a JSON body.
    Put,
    /// PATCH: the other parameters go to a JSON body.
    Patch,
    /// DELETE: the other parameters go to the query string.
    Delete,
}

impl Method {
    fn of_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
        }
    }

    /// Whether the parameters left over travel in a JSON body rather than the query.
    fn has_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }
}

/// Credentials sent with a request; each value is read from the environment per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// None.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(&'static [Part]),
    /// `Authorization: Basic <user:password>`.
    Basic(&'static [Part], &'static [Part]),
    /// A header of its own, as API keys are sent.
    Header(&'static str, &'static [Part]),
}

/// One request of an http tool or fallback, as forge.yaml describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Scheme and host (or a leading `${VAR}`): what a test points at a local upstream.
    pub origin: &'static [Part],
    /// The rest of the endpoint; parameters are percent-encoded into it.
    pub path: &'static [Part],
    /// Query pairs written in forge.yaml.
    pub query: &'static [(&'static str, &'static [Part])],
    /// Headers written in forge.yaml.
    pub headers: &'static [(&'static str, &'static [Part])],
    /// Credentials.
    pub auth: Auth,
    /// The parameters no template uses: the query string of a GET or DELETE, the JSON body
    /// of the others.
    pub rest: &'static [&'static str],
    /// Whether redirects within the request's origin are followed; others never are.
    pub follow_redirects: bool,
    /// Bytes of the largest body read from the upstream; a larger one fails the call.
    pub max_body_bytes: usize,
}

/// Sends `request` with the arguments `values`, to `origin` instead of the request's own
/// when one is given; a JSON answer is parsed, any other is text. A status outside 2xx is
/// [`ToolError::Status`] with the first 500 characters of the body and `Retry-After` in
/// seconds. Arguments that would move the request off its path or origin are refused.
pub async fn send(
    client: &reqwest::Client,
    request: &Request,
    values: &JsonObject,
    origin: Option<&str>,
) -> Result<Value, ToolError> {
    check_path(request.path, values)?;
    let origin = match origin {
        Some(origin) => origin.to_owned(),
        None => render(request.origin, values, encode_component),
    };
    let own = reqwest::Url::parse(&origin).map_err(invalid_url)?;
    let target = origin + &render(request.path, values, encode_component);
    let mut url = reqwest::Url::parse(&target).map_err(invalid_url)?;
    if url.origin() != own.origin() {
        return Err(ToolError::InvalidArguments(
            "the arguments would send the request to another host".to_owned(),
        ));
    }
    let rest: JsonObject = request
        .rest
        .iter()
        .filter_map(|name| {
            let value = values.get(*name).filter(|v| !v.is_null())?;
            Some(((*name).to_owned(), value.clone()))
        })
        .collect();
    if !request.query.is_empty() || (!request.method.has_body() && !rest.is_empty()) {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in request.query {
            pairs.append_pair(key, &render(value, values, verbatim));
        }
        if !request.method.has_body() {
            for (name, value) in &rest {
                pairs.append_pair(name, &text_of(value));
            }
        }
    }
    let mut method = request.method.of_reqwest();
    let mut body = request.method.has_body().then_some(&rest);
    for _ in 0..=MAX_REDIRECTS {
        let builder = prepare(client.request(method.clone(), url.clone()), request, values);
        let builder = match body {
            Some(body) => builder.json(body),
            None => builder,
        };
        let response = builder.send().await.map_err(request_error)?;
        let Some(next) = redirect(request, &url, &response) else {
            return answer(response, request.max_body_bytes).await;
        };
        // As browsers do: 303, and 301 or 302 after a POST, turn into a GET without a body.
        let status = response.status().as_u16();
        if status == 303 || (matches!(status, 301 | 302) && method == reqwest::Method::POST) {
            method = reqwest::Method::GET;
            body = None;
        }
        url = next;
    }
    Err(ToolError::Handler(format!(
        "the upstream redirected more than {MAX_REDIRECTS} times"
    )))
}

fn invalid_url(error: impl std::fmt::Display) -> ToolError {
    ToolError::Handler(format!("invalid URL: {error}"))
}

/// Refuses values that would make a path segment `.` or `..`, or leave one empty: the
/// request would reach another resource than the one forge.yaml names. The segments are
/// those of the path as it will be sent, with each parameter's value as the caller wrote it.
fn check_path(path: &[Part], values: &JsonObject) -> Result<(), ToolError> {
    let mut segment = String::new();
    let mut filled: Vec<&str> = Vec::new();
    for part in path {
        let text = match part {
            Part::Param(name) => {
                filled.push(name);
                segment.push_str(&values.get(*name).map(text_of).unwrap_or_default());
                continue;
            }
            Part::Text(text) => (*text).to_owned(),
            Part::Env(name, default) => super::env_value(name, *default),
        };
        let (in_path, done) = match text.find(['?', '#']) {
            Some(end) => (&text[..end], true),
            None => (text.as_str(), false),
        };
        for (index, piece) in in_path.split('/').enumerate() {
            if index > 0 {
                shapes_path(&segment, &filled)?;
                segment.clear();
                filled.clear();
            }
            segment.push_str(piece);
        }
        if done {
            break;
        }
    }
    shapes_path(&segment, &filled)
}

/// One segment of [`check_path`]: refused when parameters made it empty, `.` or `..`.
fn shapes_path(segment: &str, filled: &[&str]) -> Result<(), ToolError> {
    if filled.is_empty() || !(segment.is_empty() || is_dot_segment(segment)) {
        return Ok(());
    }
    let names = filled
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let what = if segment.is_empty() {
        "an empty path segment".to_owned()
    } else {
        format!("the path segment `{segment}`, a step along the path")
    };
    Err(ToolError::InvalidArguments(format!(
        "{names} cannot make {what}: the request would reach another resource"
    )))
}

/// A request's headers and credentials.
fn prepare(
    mut builder: reqwest::RequestBuilder,
    request: &Request,
    values: &JsonObject,
) -> reqwest::RequestBuilder {
    for (key, value) in request.headers {
        builder = builder.header(*key, render(value, values, verbatim));
    }
    match request.auth {
        Auth::None => builder,
        Auth::Bearer(token) => builder.bearer_auth(render(token, values, verbatim)),
        Auth::Basic(user, password) => builder.basic_auth(
            render(user, values, verbatim),
            Some(render(password, values, verbatim)),
        ),
        Auth::Header(name, key) => builder.header(name, render(key, values, verbatim)),
    }
}

/// Where a redirect leads, when `request` follows it: only within the origin of `from`.
fn redirect(
    request: &Request,
    from: &reqwest::Url,
    response: &reqwest::Response,
) -> Option<reqwest::Url> {
    let status = response.status().as_u16();
    if !request.follow_redirects || !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION)?;
    let next = from.join(location.to_str().ok()?).ok()?;
    (next.origin() == from.origin()).then_some(next)
}

/// The answer of an upstream: an error for a status outside 2xx, else its body.
async fn answer(mut response: reqwest::Response, max_body: usize) -> Result<Value, ToolError> {
    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = if status.is_redirection() {
            "a redirect, not followed: an upstream's redirects are followed only within its \
             origin, and only with `follow_redirects: true`"
                .to_owned()
        } else {
            let start = body_start(&mut response).await;
            String::from_utf8_lossy(&start).chars().take(500).collect()
        };
        return Err(ToolError::Status {
            status: status.as_u16(),
            retry_after,
            body,
        });
    }
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let body = body(&mut response, max_body).await?;
    if is_json {
        serde_json::from_slice(&body)
            .map_err(|error| ToolError::Handler(format!("invalid JSON from upstream: {error}")))
    } else {
        Ok(Value::String(String::from_utf8_lossy(&body).into_owned()))
    }
}

/// The whole body, up to `max` bytes: a longer one fails the call as soon as it shows (its
/// `Content-Length`, or the byte past `max`), and the connection is dropped with it.
async fn body(response: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, ToolError> {
    let too_large = || {
        ToolError::Handler(format!(
            "the upstream's answer is larger than {max} bytes (forge.max_output_bytes)"
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first [`ERROR_BODY_BYTES`] of a body, or less when reading fails: all an error keeps.
async fn body_start(response: &mut reqwest::Response) -> Vec<u8> {
    let mut start = Vec::new();
    while start.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => start.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    start.truncate(ERROR_BODY_BYTES);
    start
}
