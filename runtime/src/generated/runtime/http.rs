//! The requests of http tools and fallbacks: each is a [`Request`] constant that pforge
//! writes from forge.yaml, sent by the one function [`send`].

use rmcp::model::JsonObject;
use serde_json::Value;

use super::{Part, ToolError, render, text_of, verbatim};

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
}

/// Sends `request` with the arguments `values`, to `origin` instead of the request's own
/// when one is given; a JSON answer is parsed, any other is text. A status outside 2xx is
/// [`ToolError::Status`] with the first 500 characters of the body and `Retry-After` in
/// seconds.
pub async fn send(
    client: &reqwest::Client,
    request: &Request,
    values: &JsonObject,
    origin: Option<&str>,
) -> Result<Value, ToolError> {
    let mut target = match origin {
        Some(origin) => origin.to_owned(),
        None => render(request.origin, values, encode_component),
    };
    target.push_str(&render(request.path, values, encode_component));
    let mut url = reqwest::Url::parse(&target)
        .map_err(|error| ToolError::Handler(format!("invalid URL: {error}")))?;
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
    let mut builder = client.request(request.method.of_reqwest(), url);
    for (key, value) in request.headers {
        builder = builder.header(*key, render(value, values, verbatim));
    }
    builder = match request.auth {
        Auth::None => builder,
        Auth::Bearer(token) => builder.bearer_auth(render(token, values, verbatim)),
        Auth::Basic(user, password) => builder.basic_auth(
            render(user, values, verbatim),
            Some(render(password, values, verbatim)),
        ),
        Auth::Header(name, key) => builder.header(name, render(key, values, verbatim)),
    };
    if request.method.has_body() {
        builder = builder.json(&rest);
    }
    answer(builder.send().await.map_err(request_error)?).await
}

/// The answer of an upstream: an error for a status outside 2xx, else its body.
async fn answer(response: reqwest::Response) -> Result<Value, ToolError> {
    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = response.text().await.unwrap_or_default();
        return Err(ToolError::Status {
            status: status.as_u16(),
            retry_after,
            body: body.chars().take(500).collect(),
        });
    }
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let text = response.text().await.map_err(request_error)?;
    if is_json {
        serde_json::from_str(&text)
            .map_err(|error| ToolError::Handler(format!("invalid JSON from upstream: {error}")))
    } else {
        Ok(Value::String(text))
    }
}
