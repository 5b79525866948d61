//! The `pforge` binary: exit codes, both message formats, `schema`, help.

#[path = "common/harness.rs"]
mod harness;

use harness::{pforge, pforge_in as run_in, text};
use serde_json::Value;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/resilient-api.yaml");
const BAD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/bad/unknown-keys.yaml"
);

/// Runs pforge with `args` and waits for it.
fn run(args: &[&str]) -> std::process::Output {
    pforge()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_valid_file_exits_zero_and_keeps_stdout_clean() {
    let output = run(&["check", EXAMPLE]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).contains("ok (1 tools, 0 resources, 0 prompts)"));
}

#[test]
fn an_invalid_file_exits_one_with_reports_on_stderr() {
    let output = run(&["check", BAD]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("error: unknown key `retyr`"), "{stderr}");
    assert!(stderr.contains("unknown-keys.yaml:9:5"), "{stderr}");
    assert!(stderr.contains("= help: did you mean `retry`?"), "{stderr}");
    assert!(stderr.contains("invalid (5 errors)"), "{stderr}");
}

#[test]
fn json_format_prints_one_object_per_diagnostic_on_stdout() {
    let output = run(&["check", BAD, "--message-format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    let lines: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 5);
    let first = &lines[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["message"], "unknown key `descripton`");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(4), Some(13))
    );
    assert_eq!(first["pointer"], "/forge/descripton");
    assert_eq!(first["help"], "did you mean `description`?");
    assert!(
        first["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("unknown-keys.yaml"))
    );
    let keys: Vec<&str> = first
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "pointer",
            "help"
        ]
    );
    let missing = lines
        .iter()
        .find(|l| l["message"] == "missing required key `max_concurrent`");
    assert_eq!(
        missing.map(|l| l["pointer"].clone()),
        Some(Value::from("/tools/0/bulkhead"))
    );
}

#[test]
fn warnings_alone_exit_zero() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("forge.yaml");
    std::fs::write(
        &file,
        "forge:\n  name: w\n  version: 0.1.0\n  bind: 127.0.0.1:1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let output = pforge()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("warning: `bind` has no effect"), "{stderr}");
    assert!(
        stderr.contains("ok (0 tools, 0 resources, 0 prompts, 1 warning)"),
        "{stderr}"
    );
    let json = run_in(dir.path(), &["check", "--message-format=json"]);
    assert_eq!(json.status.code(), Some(0));
    assert!(text(&json.stdout).contains("\"severity\":\"warning\""));
}

/// Transport settings that do nothing, or a server reachable from other machines that serves
/// only this machine's host names: warnings with the fix, and `check` passes.
#[test]
fn transport_settings_out_of_place_are_warnings() {
    let cases = [
        (
            "  transport: http\n  bind: 0.0.0.0:8080\n",
            "warning: the server listens beyond this machine",
            "allowed_hosts: [mcp.example.com]",
        ),
        (
            "  http: {max_body_bytes: 4096}\n",
            "warning: `http` has no effect with the stdio transport",
            "add `transport: http`",
        ),
        (
            "  transport: http\n  stdio: {max_in_flight: 8}\n",
            "warning: `stdio` has no effect with the http transport",
            "remove `stdio`",
        ),
        (
            "  transport: http\n  http: {auth: {bearer: {env: [MCP_TOKEN]}}}\ntools:\n  - {type: cli, name: a, command: date, scopes: [a:run]}\n",
            "warning: scopes are checked only when callers present OAuth tokens",
            "http: {auth: {oauth: ...}}",
        ),
    ];
    for (forge, warning, help) in cases {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let yaml = format!("forge:\n  name: w\n  version: 0.1.0\n{forge}");
        std::fs::write(dir.path().join("forge.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}"));
        let output = run_in(dir.path(), &["check"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{yaml}\n{stderr}");
        assert!(
            stderr.contains(warning) && stderr.contains(help),
            "{yaml}\n{stderr}"
        );
    }
}

#[test]
fn missing_file_and_bad_usage_exit_two() {
    let output = run(&["check", "/nonexistent/forge.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot read /nonexistent/forge.yaml"));
    let output = run(&["check", "--message-format", "xml"]);
    assert_eq!(output.status.code(), Some(2));
    let output = pforge()
        .arg("frobnicate")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn schema_prints_the_committed_schema() {
    let output = pforge()
        .arg("schema")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout),
        include_str!("../schema/forge.schema.json")
    );
}

#[test]
fn help_and_version_teach_the_tool() {
    let output = pforge()
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let help = text(&output.stdout);
    for word in ["check", "schema", "forge.yaml", "circuit breaker"] {
        assert!(help.contains(word), "{help}");
    }
    let output = run(&["check", "--help"]);
    let help = text(&output.stdout);
    assert!(
        help.contains("--message-format") && help.contains("Exit status"),
        "{help}"
    );
    let output = pforge()
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        text(&output.stdout).trim(),
        format!("pforge {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_are_generated() {
    let output = run(&["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("pforge"));
}

#[test]
fn new_creates_a_project_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = run_in(dir.path(), &["new", "my-server", "--no-build"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let project = dir.path().join("my-server");
    let yaml = std::fs::read_to_string(project.join("forge.yaml")).unwrap_or_default();
    assert_eq!(
        yaml.lines().next(),
        Some("# yaml-language-server: $schema=./forge.schema.json")
    );
    assert!(
        project.join("forge.schema.json").exists(),
        "the modeline works offline"
    );
    assert!(project.join("src/handlers/greet.rs").exists());
    assert!(
        text(&output.stdout).contains("\"my-server\": { \"command\":"),
        "{}",
        text(&output.stdout)
    );

    // The new project checks cleanly and rebuilding changes nothing.
    let check = pforge()
        .current_dir(&project)
        .arg("check")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let again = run_in(&project, &["build", "--check"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}{}",
        text(&again.stdout),
        text(&again.stderr)
    );

    let refused = run_in(dir.path(), &["new", "my-server", "--no-build"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("already exists and is not empty"));
}

#[test]
fn new_rejects_a_bad_name_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = run_in(dir.path(), &["new", "9lives", "--no-build"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("`9lives` is not a valid crate name"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(1),
        0
    );
}

#[test]
fn build_check_lists_what_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(EXAMPLE, dir.path().join("forge.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let output = run_in(dir.path(), &["build", "--check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("would create src/generated/tools/fetch_user_data.rs"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        1
    );
    let output = run_in(dir.path(), &["build", "--no-compile"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        !text(&output.stderr).contains("note:"),
        "every policy is generated, so nothing is announced as missing: {}",
        text(&output.stderr)
    );
    let output = run_in(dir.path(), &["build", "--check"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn build_of_an_invalid_config_exits_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(BAD, dir.path().join("forge.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let output = run_in(dir.path(), &["build", "--no-compile"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("nothing was written"));
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        1
    );
}

#[test]
fn build_shows_the_stub_a_kept_handler_file_lacks() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let yaml = "forge: {name: stubs, version: 0.1.0}\ntools:\n  - {type: native, name: hello, handler: handlers::greet::hello}\n";
    std::fs::write(dir.path().join("forge.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"));
    let first = run_in(dir.path(), &["build", "--no-compile"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        !text(&first.stderr).contains("did not add"),
        "{}",
        text(&first.stderr)
    );

    // A second tool in the same module: the file exists, so pforge shows the stub instead.
    let grown = format!("{yaml}  - {{type: native, name: bye, handler: handlers::greet::bye}}\n");
    std::fs::write(dir.path().join("forge.yaml"), grown).unwrap_or_else(|e| panic!("{e}"));
    let second = run_in(dir.path(), &["build", "--no-compile"]);
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains("note: src/handlers/greet.rs is yours, so pforge did not add `bye` to it"),
        "{stderr}"
    );
    assert!(stderr.contains("pub async fn bye("), "{stderr}");
    assert!(!stderr.contains("did not add `hello`"), "{stderr}");
}

#[test]
fn build_shows_the_impl_a_kept_fallback_type_lacks() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let tool = |name: &str| {
        format!(
            "  - type: http\n    name: {name}\n    endpoint: \"https://api.example.com/{name}\"\n    fallback: {{type: native, handler: handlers::Stale}}\n"
        )
    };
    let yaml = format!(
        "forge: {{name: fallbacks, version: 0.1.0}}\ntools:\n{}",
        tool("users")
    );
    std::fs::write(dir.path().join("forge.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}"));
    let first = run_in(dir.path(), &["build", "--no-compile"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(!text(&first.stderr).contains("did not add"));

    // A second tool falls back on the same type: its file is kept, so the impl is shown.
    let grown = format!("{yaml}{}", tool("orders"));
    std::fs::write(dir.path().join("forge.yaml"), grown).unwrap_or_else(|e| panic!("{e}"));
    let second = run_in(dir.path(), &["build", "--no-compile"]);
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains(
            "note: src/handlers/stale.rs is yours, so pforge did not add `impl Fallback<OrdersInput> for Stale` to it"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("impl crate::generated::Fallback<"),
        "{stderr}"
    );
    assert!(!stderr.contains("UsersInput> for Stale`"), "{stderr}");
}

#[test]
fn build_shows_the_trait_impl_a_type_lacks_in_its_new_role() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let with = |extra: &str| {
        format!(
            "forge: {{name: roles, version: 0.1.0}}\n{extra}tools:\n  - type: http\n    name: users\n    endpoint: \"https://api.example.com/users\"\n    fallback: {{type: native, handler: handlers::Shared}}\n"
        )
    };
    std::fs::write(dir.path().join("forge.yaml"), with("")).unwrap_or_else(|e| panic!("{e}"));
    let first = run_in(dir.path(), &["build", "--no-compile"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    // The type moves from the fallback to the middleware: its file is kept, so the
    // `Middleware` impl it now needs is shown.
    let moved = with("middleware: [{type: native, handler: handlers::Shared}]\n").replace(
        "    fallback: {type: native, handler: handlers::Shared}\n",
        "",
    );
    std::fs::write(dir.path().join("forge.yaml"), moved).unwrap_or_else(|e| panic!("{e}"));
    let second = run_in(dir.path(), &["build", "--no-compile"]);
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains("did not add `impl Middleware for Shared` to it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("impl crate::generated::runtime::Middleware for Shared"),
        "{stderr}"
    );
}

/// A default retry's caps bound only the tools that decide as it does: a tool's own policy
/// under a default schedule (or the reverse) is warned about each cap it does not get.
#[test]
fn default_caps_that_do_not_bound_a_tool_are_warnings() {
    let cases = [
        (
            "fault_tolerance:\n  retry: {max_attempts: 3, max_delay: 1s, initial_delay: 10ms}\ntools:\n  - {type: cli, name: a, command: date, retry: {policy: handlers::Patient}}\n",
            [
                "warning: the default `max_attempts: 3` does not bound this tool's policy",
                "warning: the default `max_delay: 1s` does not bound this tool's policy",
            ],
            "write `max_attempts: 3` in this tool's `retry`",
        ),
        (
            "middleware:\n  - type: recovery\n    retry: {policy: handlers::Patient, max_attempts: 7}\ntools:\n  - {type: cli, name: a, command: date, retry: {jitter: false}}\n",
            [
                "warning: the default `max_attempts: 7` does not bound this tool's schedule",
                "decides by a `policy`",
            ],
            "write `max_attempts: 7` in this tool's `retry`",
        ),
    ];
    for (rest, warnings, help) in cases {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let yaml = format!("forge:\n  name: w\n  version: 0.1.0\n{rest}");
        std::fs::write(dir.path().join("forge.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}"));
        let output = run_in(dir.path(), &["check"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{yaml}\n{stderr}");
        assert!(
            warnings.iter().all(|w| stderr.contains(w)) && stderr.contains(help),
            "{yaml}\n{stderr}"
        );
    }
    // Caps the tool writes itself, or defaults that only cap, are no news.
    for rest in [
        "fault_tolerance:\n  retry: {max_attempts: 3, initial_delay: 10ms}\ntools:\n  - {type: cli, name: a, command: date, retry: {policy: handlers::Patient, max_attempts: 4}}\n",
        "fault_tolerance:\n  retry: {max_attempts: 3}\ntools:\n  - {type: cli, name: a, command: date, retry: {policy: handlers::Patient}}\n",
    ] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let yaml = format!("forge:\n  name: w\n  version: 0.1.0\n{rest}");
        std::fs::write(dir.path().join("forge.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}"));
        let output = run_in(dir.path(), &["check"]);
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("warning"), "{yaml}\n{stderr}");
    }
}
