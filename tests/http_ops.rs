//! The http transport run as a service: OAuth tokens checked against a loopback JWKS server
//! and per-tool scopes; fixed bearer tokens; `/metrics`, `/healthz`, `/readyz`; two stateless
//! replicas behind nginx (the Debian package, installed with apt-get when absent and started
//! here) serving one rmcp client; and a
//! SIGTERM during a slow call, which is answered before the process exits 0.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use common::{Response, build, raw_request, stats_text};

const ISSUER: &str = "https://auth.test/";
const AUDIENCE: &str = "https://mcp.test/mcp";

/// A running server and the addresses it printed.
struct Server {
    child: tokio::process::Child,
    mcp: String,
    ops: Option<String>,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `binary` on ephemeral ports; waits until it says where it listens (and where
    /// its operators' endpoints are, when `ops`).
    async fn start(binary: &std::path::Path, env: &[(&str, &str)], ops: bool) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(binary)
            .env("PFORGE_BIND", "127.0.0.1:0")
            .env("PFORGE_METRICS_BIND", "127.0.0.1:0")
            // Debug, so that a token logged by the auth layer would be seen.
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let serving = line.contains("serving MCP on http://")
                    || line.contains("serving /metrics, /healthz and /readyz on http://");
                if let Some(address) = line.split("http://").nth(1).filter(|_| serving) {
                    let _ = tx.send(address.trim().trim_end_matches("/mcp").to_owned());
                }
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let wanted = if ops { 2 } else { 1 };
        let mut addresses = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            while addresses.len() < wanted {
                match rx.recv().await {
                    Some(address) => addresses.push(address),
                    None => break,
                }
            }
        })
        .await;
        let text = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(
            addresses.len(),
            wanted,
            "the server did not say where it listens:\n{text}"
        );
        Self {
            child,
            mcp: addresses[0].clone(),
            ops: addresses.get(1).cloned(),
            log,
        }
    }

    fn ops(&self) -> &str {
        self.ops.as_deref().unwrap_or(&self.mcp)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A response: status, head (lowercase) and body.
/// One HTTP/1.1 request on a new connection to `address`, named in its `Host` header.
async fn request(address: &str, method: &str, path: &str, headers: &str, body: &str) -> Response {
    raw_request(address, address, method, path, headers, body).await
}

async fn get(address: &str, path: &str) -> Response {
    request(address, "GET", path, "", "").await
}

fn bearer(token: &str) -> String {
    format!("authorization: Bearer {token}\r\n")
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// The samples of a Prometheus text exposition, each checked against the format's grammar.
fn prometheus(text: &str) -> std::collections::HashMap<String, f64> {
    let mut samples = std::collections::HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("{line}"));
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(typed.insert(name.to_owned()), "typed twice: {line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name = series.split('{').next().unwrap_or_default();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "a sample before its TYPE: {line}");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(samples.insert(series.to_owned(), value).is_none(), "{line}");
    }
    samples
}

/// An Ed25519 key from a 32-byte seed (PKCS#8 v1: a fixed prefix, then the seed).
fn key(seed: u8) -> EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[seed; 32]);
    EncodingKey::from_ed_der(&der)
}

fn token(seed: u8, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key(seed)).unwrap_or_else(|e| panic!("{e}"))
}

fn claims(scope: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "exp": now + 600, "scope": scope})
}

/// A loopback JWKS endpoint with the key of seed 1 as `k1`; its URL.
async fn jwks_server() -> String {
    let mut jwk: Jwk =
        Jwk::from_encoding_key(&key(1), Algorithm::EdDSA).unwrap_or_else(|e| panic!("{e}"));
    jwk.common.key_id = Some("k1".into());
    let body = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap_or_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/jwks.json",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if common::read_head(&mut socket).await.is_some() {
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                }
            });
        }
    });
    url
}

/// An rmcp client over streamable HTTP at `url`, presenting `token`.
async fn client(url: &str, token: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    config.allow_stateless = true;
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn call_text(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &'static str,
) -> Result<String, String> {
    let result = client
        .call_tool(CallToolRequestParams::new(tool))
        .await
        .map_err(|e| e.to_string())?;
    Ok(common::text(&result))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tokens_and_scopes_guard_the_tools() {
    let jwks = jwks_server().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let yaml = format!(
        "forge:\n  name: oauth-e2e\n  version: 0.1.0\n  transport: http\n  http:\n    auth:\n      oauth:\n        issuer: {ISSUER}\n        audience: {AUDIENCE}\n        jwks_url: {jwks}\nmiddleware:\n  - {{type: native, handler: handlers::Audit}}\ntools:\n  - {{type: cli, name: open, description: Open to every caller, command: echo, args: [open]}}\n  - {{type: cli, name: secret, description: Needs a scope, command: echo, args: [secret], scopes: [\"secret:read\"]}}\n"
    );
    let binary = build(dir.path(), &yaml, "oauth-e2e");
    let server = Server::start(&binary, &[], false).await;
    let address = server.mcp.clone();

    // The metadata tells clients where to get a token, and which scopes exist.
    let metadata = get(&address, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(metadata.status, 200, "{}", metadata.body);
    let document: Value = serde_json::from_str(&metadata.body).unwrap_or_default();
    assert_eq!(document["resource"], AUDIENCE);
    assert_eq!(document["authorization_servers"], json!([ISSUER]));
    assert_eq!(document["scopes_supported"], json!(["secret:read"]));

    // No token, a bad one, an expired one, one for another audience, one signed with a key
    // the authorization server does not publish: 401, pointing at the metadata.
    let metadata_url =
        "resource_metadata=\"https://mcp.test/.well-known/oauth-protected-resource/mcp\"";
    let now = jsonwebtoken::get_current_timestamp();
    let mut expired = claims("");
    expired["exp"] = json!(now - 600);
    let mut elsewhere = claims("");
    elsewhere["aud"] = json!("https://other.test/");
    let cases = [
        (String::new(), None),
        (bearer("not-a-jwt"), Some("not a jwt")),
        (bearer(&token(1, "k1", &expired)), Some("expired")),
        (
            bearer(&token(1, "k1", &elsewhere)),
            Some("another audience"),
        ),
        (bearer(&token(2, "k9", &claims(""))), Some("key is unknown")),
    ];
    for (header, why) in cases {
        let refused = request(&address, "POST", "/mcp", &header, INITIALIZE).await;
        assert_eq!(refused.status, 401, "{why:?}: {}", refused.head);
        assert!(
            refused
                .head
                .contains(&format!("www-authenticate: bearer {metadata_url}")),
            "{}",
            refused.head
        );
        if let Some(why) = why {
            assert!(
                refused.head.contains("error=\"invalid_token\"") && refused.head.contains(why),
                "{}",
                refused.head
            );
        }
    }

    // A caller without the scope sees and calls only the open tool.
    let url = format!("http://{address}/mcp");
    let plain_token = token(1, "k1", &claims("other:scope"));
    let plain = client(&url, &plain_token).await;
    let tools = plain
        .list_all_tools()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["open"]);
    assert_eq!(call_text(&plain, "open").await, Ok("open\n".to_owned()));
    // Calling it anyway gets MCP's scope challenge, which rmcp's client recognizes: 403
    // naming the scope to ask for.
    let denied = call_text(&plain, "secret").await;
    assert!(
        denied
            .as_ref()
            .is_err_and(|e| e.contains("Insufficient scope")),
        "{denied:?}"
    );
    let _ = plain.cancel().await;
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "secret", "arguments": {}}});
    let headers = format!(
        "{}mcp-session-id: none\r\n",
        bearer(&token(1, "k1", &claims("other:scope")))
    );
    let denied = request(&address, "POST", "/mcp", &headers, &call.to_string()).await;
    assert_eq!(denied.status, 403, "{}\n{}", denied.head, denied.body);
    assert!(
        denied
            .head
            .contains("error=\"insufficient_scope\", scope=\"secret:read\"")
            && denied.head.contains(metadata_url),
        "{}",
        denied.head
    );

    // A caller with it sees and calls both.
    let granted_token = token(1, "k1", &claims("other:scope secret:read"));
    let granted = client(&url, &granted_token).await;
    let tools = granted
        .list_all_tools()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tools.len(), 2);
    assert_eq!(
        call_text(&granted, "secret").await,
        Ok("secret\n".to_owned())
    );
    // `pforge://stats` shows each caller the tools it may call, and no others.
    assert!(stats_text(&granted).await.contains("\"secret\""));
    let _ = granted.cancel().await;
    let plain = client(&url, &plain_token).await;
    let stats = stats_text(&plain).await;
    assert!(
        stats.contains("\"open\"") && !stats.contains("secret"),
        "{stats}"
    );
    let _ = plain.cancel().await;

    // `/metrics` is Prometheus text and counts what ran: one call of each tool (the refused
    // call of `secret` never ran). A caller without `secret:read` does not see `secret` there.
    assert_eq!(
        get(&address, "/metrics").await.status,
        401,
        "metrics beside /mcp need a token"
    );
    let unscoped = request(
        &address,
        "GET",
        "/metrics",
        &bearer(&token(1, "k1", &claims(""))),
        "",
    )
    .await;
    assert_eq!(unscoped.status, 200);
    assert!(!unscoped.body.contains("secret"), "{}", unscoped.body);
    assert_eq!(
        prometheus(&unscoped.body).get(r#"pforge_tool_calls_total{tool="open"}"#),
        Some(&1.0)
    );
    let metrics = request(
        &address,
        "GET",
        "/metrics",
        &bearer(&token(1, "k1", &claims("secret:read"))),
        "",
    )
    .await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .head
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        metrics.head
    );
    let samples = prometheus(&metrics.body);
    let value = |series: &str| samples.get(series).copied();
    assert_eq!(
        value(r#"pforge_tool_calls_total{tool="secret"}"#),
        Some(1.0)
    );
    assert_eq!(value(r#"pforge_tool_calls_total{tool="open"}"#), Some(1.0));
    assert_eq!(
        value(r#"pforge_tool_duration_seconds_count{tool="secret"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"pforge_tool_duration_seconds_bucket{tool="secret",le="+Inf"}"#),
        Some(1.0)
    );
    assert_eq!(value("pforge_draining"), Some(0.0));
    let log = server.log();
    // The middleware pforge wrote (`handlers::Audit`, which logs each hook) ran around the
    // calls that passed authentication, over HTTP as over stdio; the refused calls of
    // `secret` never reached it.
    let hooks = |hook: &str, tool: &str| {
        log.matches(&format!("handlers::audit: {hook} tool=\"{tool}\""))
            .count()
    };
    assert_eq!(
        (hooks("call", "open"), hooks("answered", "open")),
        (1, 1),
        "{log}"
    );
    assert_eq!(
        (hooks("call", "secret"), hooks("answered", "secret")),
        (1, 1),
        "{log}"
    );
    // Tokens refused and accepted alike stay out of the log, at debug level.
    let expired_token = token(1, "k1", &expired);
    for secret in ["not-a-jwt", &expired_token, &plain_token, &granted_token] {
        assert!(!log.contains(secret), "a token reached the log:\n{log}");
    }
}

/// Where nginx is looked for first (Debian's path, then other distributions' usual one), before
/// the directories of `PATH`.
const NGINX_PATHS: [&str; 2] = ["/usr/sbin/nginx", "/usr/bin/nginx"];

/// nginx's binary. When it is absent, the Debian package `nginx` is installed with apt-get,
/// as root or through `sudo -n`, so that the README's test command needs nothing set up
/// beforehand; the first test to ask installs it and any other waits for that answer. Panics
/// saying what to do when it cannot be installed.
fn nginx_binary() -> std::path::PathBuf {
    static FOUND: std::sync::OnceLock<Result<std::path::PathBuf, String>> =
        std::sync::OnceLock::new();
    let sudo = (!running_as_root()).then(|| std::path::Path::new("sudo"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates: Vec<_> = NGINX_PATHS
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|dir| dir.join("nginx")))
        .collect();
    find_or_install_once(&FOUND, &candidates, std::path::Path::new("apt-get"), sudo)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// [`find_or_install`] once per `cell`: concurrent callers wait for the first one's answer,
/// so apt-get never runs twice at once from one test binary (and other processes wait for
/// apt's own lock, see [`find_or_install`]).
fn find_or_install_once(
    cell: &std::sync::OnceLock<Result<std::path::PathBuf, String>>,
    candidates: &[std::path::PathBuf],
    apt_get: &std::path::Path,
    sudo: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, String> {
    cell.get_or_init(|| find_or_install(candidates, apt_get, sudo))
        .clone()
}

/// The first of `candidates` that exists; when none does, `apt-get update` and
/// `apt-get install -y --no-install-recommends nginx` (through `sudo -n` when `sudo` is given,
/// waiting up to five minutes for another apt's lock) and the first candidate that then exists.
fn find_or_install(
    candidates: &[std::path::PathBuf],
    apt_get: &std::path::Path,
    sudo: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, String> {
    let found = || candidates.iter().find(|p| p.is_file()).cloned();
    if let Some(path) = found() {
        return Ok(path);
    }
    let needed =
        "nginx (the Debian package `nginx`) is needed by tests/http_ops.rs and is not installed";
    for step in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "--no-install-recommends", "nginx"],
    ] {
        let mut command = match sudo {
            Some(sudo) => {
                let mut command = std::process::Command::new(sudo);
                command.arg("-n").arg("env");
                command
            }
            None => std::process::Command::new("env"),
        };
        command
            .arg("DEBIAN_FRONTEND=noninteractive")
            .arg(apt_get)
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(step)
            .stdin(std::process::Stdio::null());
        let shown = format!("{command:?}").replace('"', "");
        let output = command.output().map_err(|e| {
            format!(
                "{needed}; installing it needs root or sudo, and `{shown}` could not start: {e}"
            )
        })?;
        if !output.status.success() {
            return Err(format!(
                "{needed}; `{shown}` failed ({}), so install it yourself \
                 (`sudo apt-get install nginx`, or your system's package):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    found()
        .ok_or_else(|| format!("{needed}; apt-get installed it, but not at any of {candidates:?}"))
}

#[test]
fn a_missing_nginx_is_installed_once_with_apt_get() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    let script = |name: &str, body: &str| {
        let path = root.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let log = root.join("log");
    let nginx = root.join("sbin/nginx");
    // An apt-get that records its calls, takes a while (so that unguarded callers would all
    // start one) and, on `install`, puts an nginx where it belongs.
    let apt_get = script(
        "apt-get",
        &format!(
            "echo \"apt-get $DEBIAN_FRONTEND $*\" >> {log}\nsleep 0.2\ncase \"$*\" in *install*) mkdir -p {sbin} && touch {nginx} ;; esac",
            log = log.display(),
            sbin = root.join("sbin").display(),
            nginx = nginx.display()
        ),
    );
    let sudo = script(
        "sudo",
        &format!("echo \"sudo $1\" >> {}\nshift\nexec \"$@\"", log.display()),
    );
    let candidates = [root.join("usr/sbin/nginx"), nginx.clone()];
    let cell = std::sync::OnceLock::new();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let found = find_or_install_once(&cell, &candidates, &apt_get, Some(&sudo));
                assert_eq!(found, Ok(nginx.clone()));
            });
        }
    });
    let calls = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        calls,
        "sudo -n\napt-get noninteractive -o DPkg::Lock::Timeout=300 update -qq\n\
         sudo -n\napt-get noninteractive -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends nginx\n",
        "four tests asked at once; apt-get must run once, through sudo"
    );

    // Found: nothing runs. As root: no sudo.
    std::fs::remove_file(&log).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        find_or_install(&candidates, &apt_get, None),
        Ok(nginx.clone())
    );
    assert!(!log.exists(), "apt-get ran with nginx installed");
    std::fs::remove_file(&nginx).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        find_or_install(&candidates, &apt_get, None),
        Ok(nginx.clone())
    );
    let calls = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !calls.contains("sudo") && calls.lines().count() == 2,
        "{calls}"
    );

    // Impossible: no sudo, or apt-get refusing, is an error that says what to do.
    std::fs::remove_file(&nginx).unwrap_or_else(|e| panic!("{e}"));
    let error = find_or_install(&candidates, &apt_get, Some(&root.join("no-sudo")))
        .expect_err("without sudo nothing can be installed");
    assert!(
        error.contains("`nginx`) is needed") && error.contains("root or sudo"),
        "{error}"
    );
    let refusing = script(
        "refusing",
        "echo 'E: Unable to locate package nginx' >&2; exit 100",
    );
    let error = find_or_install(&candidates, &refusing, None).expect_err("apt-get failed");
    assert!(
        error.contains("install it yourself") && error.contains("Unable to locate package"),
        "{error}"
    );
}

/// A running nginx; dropping it stops it with SIGTERM, on which the master process stops
/// its workers too (SIGKILL would leave them running).
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// nginx in front of `replicas`, round robin; its address.
async fn nginx(dir: &std::path::Path, replicas: &[&str]) -> (Nginx, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let servers: String = replicas
        .iter()
        .map(|r| format!("    server {r};\n"))
        .collect();
    let root = dir.display();
    let conf = format!(
        "worker_processes 1;\ndaemon off;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  upstream mcp {{\n{servers}  }}\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://mcp;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Host $http_host;\n      proxy_buffering off;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap_or_else(|e| panic!("{e}"));
    let binary = nginx_binary();
    let child = std::process::Command::new(&binary)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(Nginx)
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let address = format!("127.0.0.1:{port}");
    let up = tokio::time::timeout(Duration::from_secs(10), async {
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let errors = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    assert!(up.is_ok(), "nginx did not start:\n{errors}");
    (child, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_replicas_share_a_client_and_a_sigterm_drains() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let yaml = "forge:\n  name: replica-e2e\n  version: 0.1.0\n  transport: http\n  drain_timeout: 20s\n  http:\n    stateless: true\n    metrics: {bind: 127.0.0.1:9464}\n    auth: {bearer: {env: [MCP_TOKEN]}}\ntools:\n  - {type: cli, name: replica, description: Which replica answers, command: printenv, args: [REPLICA], env: {REPLICA: \"${REPLICA}\"}}\n  - {type: cli, name: slow, description: Takes five seconds, command: sleep, args: [\"5\"], timeout_ms: 30000}\n";
    let binary = build(dir.path(), yaml, "replica-e2e");
    let token = "t0k3n-for-the-replicas";
    let a = Server::start(&binary, &[("MCP_TOKEN", token), ("REPLICA", "a")], true).await;
    let b = Server::start(&binary, &[("MCP_TOKEN", token), ("REPLICA", "b")], true).await;

    // Fixed tokens: none, or a wrong one, is refused.
    let none = request(&a.mcp, "POST", "/mcp", "", INITIALIZE).await;
    assert_eq!(none.status, 401);
    assert!(
        none.head.contains("www-authenticate: bearer realm=\"mcp\""),
        "{}",
        none.head
    );
    let wrong = request(&a.mcp, "POST", "/mcp", &bearer("t0k3n"), INITIALIZE).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.head.contains("invalid_token"), "{}", wrong.head);

    // One rmcp client through nginx: round robin sends its requests to both replicas, and
    // with no session either answers any of them.
    let nginx_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_nginx, front) = nginx(nginx_dir.path(), &[&a.mcp, &b.mcp]).await;
    let client = client(&format!("http://{front}/mcp"), token).await;
    let mut answers = Vec::new();
    for _ in 0..10 {
        answers.push(
            call_text(&client, "replica")
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let _ = client.cancel().await;
    let from = |name: &str| answers.iter().filter(|a| a.trim() == name).count();
    assert_eq!(from("a") + from("b"), 10, "{answers:?}");
    assert!(from("a") >= 3 && from("b") >= 3, "{answers:?}");

    // SIGTERM during a five-second call: the call is answered, new requests and `/readyz` get 503
    // meanwhile, `/healthz` stays 200, and the process exits 0.
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "slow", "arguments": {}}}).to_string();
    let slow = {
        let (address, header) = (a.mcp.clone(), bearer(token));
        tokio::spawn(async move { request(&address, "POST", "/mcp", &header, &call).await })
    };
    let in_flight = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let metrics = prometheus(&get(a.ops(), "/metrics").await.body);
            if metrics.get("pforge_http_requests_in_flight") == Some(&1.0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(in_flight.is_ok(), "the slow call never showed as in flight");
    let mut a = a;
    let pid = a.child.id().unwrap_or_else(|| panic!("no pid"));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(killed.success());
    let draining = tokio::time::timeout(Duration::from_secs(5), async {
        while get(a.ops(), "/readyz").await.status != 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        draining.is_ok(),
        "/readyz never said the server drains:\n{}",
        a.log()
    );
    assert_eq!(get(a.ops(), "/healthz").await.status, 200);
    let refused = request(&a.mcp, "POST", "/mcp", &bearer(token), INITIALIZE).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    // The drain answers before auth: a client without a token is sent elsewhere too, not
    // asked for credentials by a server that is going away.
    let anonymous = request(&a.mcp, "POST", "/mcp", "", INITIALIZE).await;
    assert_eq!(anonymous.status, 503, "{}", anonymous.body);
    let answered = slow.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answered.status, 200, "{}\n{}", answered.head, a.log());
    let result: Value = serde_json::from_str(&answered.body).unwrap_or_default();
    assert!(
        result["result"]["content"].is_array() && result["result"]["isError"] != true,
        "{}",
        answered.body
    );
    let status = tokio::time::timeout(Duration::from_secs(10), a.child.wait())
        .await
        .unwrap_or_else(|_| panic!("the server did not exit after the drain:\n{}", a.log()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(0), "{}", a.log());
    // The tokens, refused and accepted, stay out of both replicas' logs, at debug level.
    for log in [a.log(), b.log()] {
        assert!(!log.contains("t0k3n"), "a token reached the log:\n{log}");
    }
    drop(b);
}
