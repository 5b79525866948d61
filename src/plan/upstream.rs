//! One plan for every HTTP request a tool makes, whether the tool is an http tool or a
//! fallback: method and credentials resolved from the strings the loader split into
//! [`Template`]s, and the parameters no template uses assigned to the query or the body.

use crate::config::{AuthFacts, HttpFacts, HttpFallback, HttpTool};
use crate::defaults;
use crate::holes::Template;

use crate::vocab::HttpMethod;

/// A request, ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCallPlan {
    /// Method, `GET` unless written.
    pub method: HttpMethod,
    /// The endpoint as written, for documentation and labels.
    pub endpoint: String,
    /// Its host (or the leading `${VAR}` that supplies it), for one-line summaries.
    pub host: String,
    /// Scheme and host (or the leading `${VAR}` that supplies them).
    pub origin: Template,
    /// The rest of the endpoint.
    pub path: Template,
    /// Query pairs as written.
    pub query: Vec<(String, Template)>,
    /// Headers as written.
    pub headers: Vec<(String, Template)>,
    /// Credentials.
    pub auth: Option<AuthPlan>,
    /// Parameters used by no template, in declaration order: the query string of a GET or
    /// DELETE, the JSON body of the others.
    pub rest: Vec<String>,
    /// Whether redirects within the endpoint's origin are followed (never others).
    pub follow_redirects: bool,
    /// Bytes of the largest body read from the upstream.
    pub max_body_bytes: usize,
}

/// Credentials, each value read from the environment when the server runs.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthPlan {
    /// `Authorization: Bearer`.
    Bearer(Template),
    /// `Authorization: Basic`.
    Basic {
        /// User name.
        username: Template,
        /// Password.
        password: Template,
    },
    /// A header of its own (API keys), its name resolved.
    Header {
        /// Header name.
        name: String,
        /// Its value.
        value: Template,
    },
}

/// The request of an http tool whose parameters are `params`, reading bodies up to
/// `max_body_bytes`; `facts` are its strings as the loader split them.
pub fn tool_call(
    http: &HttpTool,
    facts: &HttpFacts,
    params: &[&str],
    max_body_bytes: usize,
) -> HttpCallPlan {
    HttpCallPlan {
        follow_redirects: http.follow_redirects.unwrap_or(defaults::FOLLOW_REDIRECTS),
        ..call(&http.endpoint, http.method, facts, params, max_body_bytes)
    }
}

/// The request of an http fallback of a tool whose parameters are `params`, reading bodies
/// up to `max_body_bytes`; it follows no redirect.
pub fn fallback_call(
    http: &HttpFallback,
    facts: &HttpFacts,
    params: &[&str],
    max_body_bytes: usize,
) -> HttpCallPlan {
    call(&http.endpoint, http.method, facts, params, max_body_bytes)
}

fn call(
    endpoint: &str,
    method: Option<HttpMethod>,
    facts: &HttpFacts,
    params: &[&str],
    max_body_bytes: usize,
) -> HttpCallPlan {
    let mut plan = HttpCallPlan {
        method: method.unwrap_or(HttpMethod::Get),
        endpoint: endpoint.to_owned(),
        host: facts.endpoint.host.clone(),
        origin: facts.endpoint.origin.clone(),
        path: facts.endpoint.path.clone(),
        query: facts.query.clone(),
        headers: facts.headers.clone(),
        auth: facts.auth.as_ref().map(auth_plan),
        rest: Vec::new(),
        follow_redirects: false,
        max_body_bytes,
    };
    let templated: Vec<&str> = plan
        .origin
        .params()
        .chain(plan.path.params())
        .chain(plan.query.iter().flat_map(|(_, t)| t.params()))
        .chain(plan.headers.iter().flat_map(|(_, t)| t.params()))
        .collect();
    let rest = params
        .iter()
        .filter(|name| !templated.contains(name))
        .map(|name| (*name).to_owned())
        .collect();
    plan.rest = rest;
    plan
}

/// Credentials as the loader split them, the API-key header's default resolved.
fn auth_plan(auth: &AuthFacts) -> AuthPlan {
    match auth {
        AuthFacts::Bearer(token) => AuthPlan::Bearer(token.clone()),
        AuthFacts::Basic { username, password } => AuthPlan::Basic {
            username: username.clone(),
            password: password.clone(),
        },
        AuthFacts::ApiKey { header, key } => AuthPlan::Header {
            name: header
                .clone()
                .unwrap_or_else(|| defaults::API_KEY_HEADER.to_owned()),
            value: key.clone(),
        },
    }
}

impl HttpCallPlan {
    /// Whether the leftover parameters travel in a JSON body.
    pub fn has_body(&self) -> bool {
        matches!(
            self.method,
            HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holes::Part;

    fn tool(yaml: &str) -> HttpTool {
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn leftover_parameters_and_the_api_key_default_are_resolved() {
        let http = tool(
            "endpoint: https://h.example/u/{{id}}\nheaders: {X-T: '{{trace}}'}\nauth: {type: api_key, key: '${KEY}'}",
        );
        let facts = HttpFacts {
            endpoint: crate::config::Endpoint {
                host: "h.example".into(),
                origin: Template::split("https://h.example"),
                path: Template::split("/u/{{id}}"),
            },
            headers: vec![("X-T".into(), Template::split("{{trace}}"))],
            query: Vec::new(),
            auth: Some(AuthFacts::ApiKey {
                header: None,
                key: Template::env_only("${KEY}"),
            }),
        };
        let plan = tool_call(&http, &facts, &["id", "trace", "q"], 1024);
        assert_eq!(plan.method, HttpMethod::Get);
        assert_eq!(plan.origin.parts, [Part::Text("https://h.example".into())]);
        assert_eq!(plan.rest, ["q"]);
        assert_eq!(plan.host, "h.example");
        let Some(AuthPlan::Header { name, .. }) = &plan.auth else {
            panic!("{:?}", plan.auth)
        };
        assert_eq!(name, defaults::API_KEY_HEADER);
        assert!(!plan.has_body());
    }
}
