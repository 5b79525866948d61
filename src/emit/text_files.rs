//! The project's files that are not Rust: `Cargo.toml`, `.gitignore` and `README.md`,
//! rendered from the minijinja templates in `templates/`.

use std::path::PathBuf;

use minijinja::{Environment, context};

use super::{EmitError, GeneratedFile, Ownership, params, policy_summary, versions};
use crate::plan::{HttpServerPlan, KindPlan, MetricsPlan, Plan, ServerAuthPlan};

/// The templates, by the name of the file each renders.
const TEMPLATES: [(&str, &str, Ownership); 3] = [
    (
        "Cargo.toml",
        include_str!("../../templates/Cargo.toml.j2"),
        Ownership::Manifest,
    ),
    (
        ".gitignore",
        include_str!("../../templates/gitignore.j2"),
        Ownership::User,
    ),
    (
        "README.md",
        include_str!("../../templates/README.md.j2"),
        Ownership::Generated,
    ),
];

/// The rendered templates.
pub fn files(plan: &Plan) -> Result<Vec<GeneratedFile>, EmitError> {
    let env = environment()?;
    let ctx = template_context(plan);
    let mut files = Vec::new();
    for (name, _, ownership) in TEMPLATES {
        let template = env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        let contents = template
            .render(&ctx)
            .map_err(|e| template_error(name, &e))?;
        files.push(GeneratedFile {
            path: PathBuf::from(name),
            contents,
            ownership,
        });
    }
    Ok(files)
}

/// The templates, keeping their trailing newlines.
fn environment() -> Result<Environment<'static>, EmitError> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| template_error("syntax", &e))?;
    env.set_syntax(syntax);
    // Templates name the crates they need; the versions come from the workspace manifest.
    env.add_function("version_of", |name: &str| {
        versions::dependency(name).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("`{name}` is not in the workspace manifest's `[workspace.dependencies]`"),
            )
        })
    });
    for (name, source, _) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

/// What the templates read.
fn template_context(plan: &Plan) -> minijinja::Value {
    let profile = if plan.release { "release" } else { "debug" };
    context! {
        name => &plan.crate_name,
        version => &plan.version,
        description => &plan.description,
        description_toml => plan.package_description.as_deref().map(|d| toml_edit::Value::from(d).to_string()),
        release => plan.release,
        http_client => plan.needs.http_client,
        regex => params::uses_patterns(&plan.tools),
        tokio_features => tokio_features(plan),
        tools => tool_rows(plan),
        pforge_version => versions::PFORGE,
        runtime_version => versions::runtime(),
        binary_path => format!("/path/to/{}/target/{profile}/{}", plan.crate_name, plan.crate_name),
        http_server => plan.needs.http_server,
        process => plan.needs.process,
        dev_tokio_features => dev_tokio_features(plan),
        monitoring => plan.needs.monitoring,
        jwt => plan.needs.jwt,
        bearer => plan.transport.http().is_some_and(|h| matches!(h.auth, Some(ServerAuthPlan::Bearer { .. }))),
        http => plan.transport.http().map(|http| http_readme(plan, http)),
    }
}

/// tokio's features the server uses.
fn tokio_features(plan: &Plan) -> Vec<&'static str> {
    let mut features = vec!["macros", "rt-multi-thread"];
    if plan.needs.process {
        // Reading a command's output up to a bound.
        features.extend(["process", "io-util"]);
    }
    if plan.needs.timers {
        features.push("time");
    }
    // The stdio transport's channels; a bulkhead's semaphore.
    if plan.needs.bulkhead || plan.transport.stdio().is_some() {
        features.push("sync");
    }
    if plan.needs.http_server {
        // The listener, SIGTERM, and the drain's counters and deadline.
        for feature in ["net", "signal", "sync", "time"] {
            if !features.contains(&feature) {
                features.push(feature);
            }
        }
    }
    if plan.needs.files {
        features.push("fs");
    }
    features
}

/// tokio's features the generated tests add.
fn dev_tokio_features(plan: &Plan) -> Vec<&'static str> {
    let mut features = Vec::new();
    if plan.needs.http_client {
        features.extend(["net", "io-util", "sync"]);
    }
    if plan.has_policy_tests() {
        // The policy tests run on tokio's paused clock.
        features.push("test-util");
    }
    features
}

/// The README's table of tools.
fn tool_rows(plan: &Plan) -> Vec<minijinja::Value> {
    plan.tools
        .iter()
        .map(|t| {
            let kind = match t.kind {
                KindPlan::Native { .. } => "native",
                KindPlan::Cli(_) => "cli",
                KindPlan::Http { .. } => "http",
                KindPlan::Pipeline { .. } => "pipeline",
            };
            context! {
                name => &t.name,
                kind => kind,
                description => t.description.clone().unwrap_or_default().replace('|', "\\|"),
                policy => policy_summary::summary(t).map(|p| p.replace('|', "\\|")),
            }
        })
        .collect()
}

/// What the README says about the http transport: where it listens, who may call, and where
/// the probes and metrics are.
fn http_readme(plan: &Plan, http: &HttpServerPlan) -> minijinja::Value {
    let base = base_url(http);
    let (auth, bearer_env, oauth) = match &http.auth {
        None => (None, Vec::new(), None),
        Some(ServerAuthPlan::Bearer { env }) => (Some("bearer"), env.clone(), None),
        Some(ServerAuthPlan::OAuth(oauth)) => (
            Some("oauth"),
            Vec::new(),
            Some(context! {
                issuer => &oauth.issuer,
                audience => &oauth.audience,
                metadata_url => &oauth.metadata_url,
            }),
        ),
    };
    let scoped: Vec<_> = plan
        .tools
        .iter()
        .filter(|t| !t.scopes.is_empty())
        .map(|t| context! { name => &t.name, scopes => t.scopes.join(" ") })
        .collect();
    let (metrics, ops) = match http.metrics {
        MetricsPlan::Off => ("off", None),
        MetricsPlan::Shared => ("shared", None),
        MetricsPlan::Own(address) => (
            "own",
            Some(context! { bind => address.to_string(), base => reachable(address) }),
        ),
    };
    context! {
        bind => http.bind.to_string(),
        base => &base,
        url => format!("{base}/mcp"),
        hosts => &http.allowed_hosts,
        stateless => http.stateless,
        auth => auth,
        bearer_env => bearer_env,
        oauth => oauth,
        scoped => scoped,
        metrics => metrics,
        ops => ops,
        drain => policy_summary::human_ms(plan.drain_ms),
    }
}

/// The server's address as a client names it: the main address checks `Host`, so the URL
/// names a host it allows.
fn base_url(http: &HttpServerPlan) -> String {
    match http.bind.ip() {
        ip if !ip.is_unspecified() && http.allowed_hosts.contains(&ip.to_string()) => {
            format!("http://{}", http.bind)
        }
        _ => http.allowed_hosts.first().map_or_else(
            || reachable(http.bind),
            |host| match host.parse::<std::net::Ipv6Addr>() {
                Ok(ip) => format!("http://[{ip}]:{}", http.bind.port()),
                Err(_) if host.contains(':') => format!("http://{host}"),
                Err(_) => format!("http://{host}:{}", http.bind.port()),
            },
        ),
    }
}

/// `address` as a URL a client on this machine reaches: an unspecified address through the
/// loopback.
fn reachable(mut address: std::net::SocketAddr) -> String {
    match address.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            address.set_ip(std::net::Ipv6Addr::LOCALHOST.into());
        }
        _ => {}
    }
    format!("http://{address}")
}

fn template_error(name: &str, error: &minijinja::Error) -> EmitError {
    EmitError::Template {
        name: name.to_owned(),
        message: error.to_string(),
    }
}
