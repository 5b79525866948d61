//! Generating projects: one snapshot of the tree per example (runtime copies by path),
//! the copies checked against their sources, determinism, idempotent
//! writes, ownership of user files, and nothing written on failure.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use pforge::emit::fixed::{self, Fixed};
use pforge::write::{Outcome, Ownership};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

/// The copy of a runtime file that a generated crate has at `path`, if it is one.
fn fixed_at(path: &Path) -> Option<Fixed> {
    fixed::ALL.into_iter().find(|f| f.path() == path)
}

/// The tree a snapshot shows: every file the plan decides, in full, and the copies of runtime
/// files by path only, so that a runtime change touches no snapshot; what a copy holds is
/// checked by `every_copied_runtime_file_is_its_source_with_the_crate_renamed`.
fn tree(manifest: &Path) -> String {
    let (_, files, _) = pforge::project::render(manifest).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for file in files
        .iter()
        .filter(|f| f.path != Path::new("forge.schema.json"))
    {
        let path = file.path.display();
        let ownership = file.ownership;
        out.push_str(&match fixed_at(&file.path) {
            Some(copy) => format!(
                "==> {path} ({ownership:?}, copied from {})\n",
                copy.origin()
            ),
            None => format!("==> {path} ({ownership:?})\n{}\n", file.contents),
        });
    }
    out
}

#[test]
fn snapshot_of_every_example() {
    for example in examples() {
        let name = example
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        insta::assert_snapshot!(format!("tree-{name}"), tree(&example));
    }
}

/// A copied runtime file is its source in `runtime/src/inlineable/` with exactly the changes
/// `src/emit/fixed.rs` documents: the `@generated` header line and a blank line first, and
/// doctests naming the generated crate instead of `pforge_runtime`.
#[test]
fn every_copied_runtime_file_is_its_source_with_the_crate_renamed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in examples() {
        let (loaded, files, _) =
            pforge::project::render(&example).unwrap_or_else(|e| panic!("{e}"));
        let config = loaded
            .config
            .unwrap_or_else(|| panic!("{}", example.display()));
        let crate_ident = pforge::plan::plan(&config).crate_ident;
        let mut copies = 0;
        for file in &files {
            let Some(copy) = fixed_at(&file.path) else {
                continue;
            };
            copies += 1;
            let source = std::fs::read_to_string(root.join(copy.origin()))
                .unwrap_or_else(|e| panic!("{}: {e}", copy.origin()));
            let expected = format!(
                "{}\n\n{}",
                pforge::emit::generated_header(),
                source.replace(
                    fixed::DOCTEST_PREFIX,
                    &format!("{crate_ident}::generated::")
                )
            );
            assert!(
                file.contents == expected,
                "{}: {} is not {} under the header with doctests renamed; {}",
                example.display(),
                file.path.display(),
                copy.origin(),
                first_difference(&file.contents, &expected)
            );
        }
        assert!(copies >= 5, "{}: {copies} copies", example.display());
    }
}

/// The first line where `actual` and `expected` differ, for a failure message.
fn first_difference(actual: &str, expected: &str) -> String {
    let mut actual_lines = actual.lines();
    let mut expected_lines = expected.lines();
    for number in 1.. {
        match (actual_lines.next(), expected_lines.next()) {
            (None, None) => break,
            (a, e) if a != e => return format!("line {number} is {a:?}, expected {e:?}"),
            _ => {}
        }
    }
    "they differ in line endings".to_owned()
}

#[test]
fn generation_is_deterministic() {
    for example in examples() {
        assert_eq!(tree(&example), tree(&example));
    }
}

fn project(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let manifest = dir.path().join("forge.yaml");
    std::fs::write(&manifest, yaml).unwrap_or_else(|e| panic!("{e}"));
    (dir, manifest)
}

fn mtimes(root: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(meta) = entry.metadata() {
                out.push((path, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    out.sort();
    out
}

const MINIMAL: &str = include_str!("../examples/minimal.yaml");

#[test]
fn building_twice_changes_nothing() {
    let (dir, manifest) = project(MINIMAL);
    let first = pforge::project::generate(&manifest)
        .unwrap_or_else(|e| panic!("{e}"))
        .outcomes;
    assert!(
        first.iter().all(|(_, o)| *o == Outcome::Created),
        "{first:?}"
    );
    let before = mtimes(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = pforge::project::generate(&manifest)
        .unwrap_or_else(|e| panic!("{e}"))
        .outcomes;
    assert!(
        second
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Unchanged | Outcome::Kept)),
        "{second:?}"
    );
    assert_eq!(before, mtimes(dir.path()));
    let pending = pforge::project::check(&manifest)
        .unwrap_or_else(|e| panic!("{e}"))
        .outcomes;
    assert!(
        pending
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Unchanged | Outcome::Kept))
    );
}

#[test]
fn user_edits_survive_a_rebuild_and_new_stubs_are_added() {
    let (dir, manifest) = project(MINIMAL);
    pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let handler = dir.path().join("src/handlers/greet.rs");
    let cargo = dir.path().join("Cargo.toml");
    std::fs::write(&handler, "// my handler\n").unwrap_or_else(|e| panic!("{e}"));
    let mut manifest_text = std::fs::read_to_string(&cargo).unwrap_or_default();
    manifest_text = manifest_text.replace(
        "[dependencies]\n",
        "[dependencies]\n# keep me\nitoa = \"1\"\n",
    );
    std::fs::write(&cargo, &manifest_text).unwrap_or_else(|e| panic!("{e}"));

    // Two more tools under the example's `tools:`, the last key of the file.
    let grown = format!(
        "{MINIMAL}\n{}",
        include_str!("fixtures/generate/more-tools.yaml")
    );
    std::fs::write(&manifest, grown).unwrap_or_else(|e| panic!("{e}"));
    let outcomes = pforge::project::generate(&manifest)
        .unwrap_or_else(|e| panic!("{e}"))
        .outcomes;

    assert_eq!(
        std::fs::read_to_string(&handler).unwrap_or_default(),
        "// my handler\n"
    );
    let cargo_text = std::fs::read_to_string(&cargo).unwrap_or_default();
    assert!(
        cargo_text.contains("# keep me\nitoa = \"1\""),
        "{cargo_text}"
    );
    assert!(
        cargo_text.contains("reqwest"),
        "the http tool needs reqwest: {cargo_text}"
    );
    assert!(dir.path().join("src/handlers/farewell.rs").exists());
    let outcome = |p: &str| {
        outcomes
            .iter()
            .find(|(path, _)| path == Path::new(p))
            .map(|(_, o)| *o)
    };
    assert_eq!(outcome("src/handlers/greet.rs"), Some(Outcome::Kept));
    assert_eq!(outcome("src/handlers/farewell.rs"), Some(Outcome::Created));
    assert_eq!(outcome("Cargo.toml"), Some(Outcome::Updated));
}

/// Issue 17: a cli tool added to a crate first generated without one brought tokio's
/// `process` but not `nix`, which is a `cfg(unix)` dependency.
#[test]
fn a_tool_added_later_brings_every_dependency_and_keeps_the_users() {
    let without_cli = &MINIMAL[..MINIMAL.find("  - type: cli").unwrap_or(MINIMAL.len())];
    let (dir, manifest) = project(without_cli);
    pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let cargo = dir.path().join("Cargo.toml");
    let generated = std::fs::read_to_string(&cargo).unwrap_or_default();
    assert!(!generated.contains("nix"), "{generated}");
    let edited = generated.replace("tokio = { version = \"1\"", "tokio = { version = \"1.44\"")
        + "itoa = \"1\" # mine\n";
    std::fs::write(&cargo, &edited).unwrap_or_else(|e| panic!("{e}"));
    let dependencies = |doc: &toml_edit::DocumentMut, table: &str| {
        doc.get(table).map(ToString::to_string).unwrap_or_default()
    };
    for config in [MINIMAL, without_cli] {
        std::fs::write(&manifest, config).unwrap_or_else(|e| panic!("{e}"));
        pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&cargo).unwrap_or_default();
        let doc: toml_edit::DocumentMut = text.parse().unwrap_or_else(|e| panic!("{e}"));
        let nix = doc
            .get("target")
            .and_then(|t| t.get("cfg(unix)"))
            .and_then(|t| t.get("dependencies"))
            .and_then(|t| t.get("nix"));
        // Kept after the cli tool is gone again: pforge removes nothing.
        assert!(nix.is_some(), "no nix for the cli tool:\n{text}");
        let deps = dependencies(&doc, "dependencies");
        assert!(deps.contains("\"process\""), "{text}");
        assert!(deps.contains("version = \"1.44\""), "{text}");
        assert!(text.contains("itoa = \"1\" # mine\n"), "{text}");
    }
}

#[test]
fn a_build_after_a_hand_edit_is_a_full_one() {
    let (dir, manifest) = project(MINIMAL);
    pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
    assert!(dir.path().join("target/pforge/build-stamp").exists());
    let lib = dir.path().join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap_or_default();
    std::fs::write(&lib, "// edited\n").unwrap_or_else(|e| panic!("{e}"));
    let outcomes = pforge::project::generate(&manifest)
        .unwrap_or_else(|e| panic!("{e}"))
        .outcomes;
    let lib_outcome = outcomes.iter().find(|(p, _)| p.ends_with("src/lib.rs"));
    assert_eq!(lib_outcome.map(|(_, o)| *o), Some(Outcome::Updated));
    assert_eq!(std::fs::read_to_string(&lib).unwrap_or_default(), original);
    // A handler file that loses its function is reported on every build until it is fixed.
    let handler = dir.path().join("src/handlers/greet.rs");
    std::fs::write(&handler, "// emptied\n").unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..2 {
        let built = pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(built.missing.len(), 1, "{:?}", built.missing);
    }
}

/// A handler named by a keyword is written `fn r#gen`; pforge must find it there, not print
/// the stub it has just written as missing.
#[test]
fn a_keyword_handler_in_its_stub_is_not_reported_missing() {
    let (_dir, manifest) = project(
        "forge: {name: raw, version: 0.1.0}\ntools:\n  - {type: native, name: a, handler: handlers::m::gen}\n",
    );
    for _ in 0..2 {
        let built = pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
        assert!(built.missing.is_empty(), "{:?}", built.missing);
    }
}

#[test]
fn an_invalid_config_writes_nothing() {
    let (dir, manifest) = project(
        "forge: {name: x, version: 1.0.0}\ntools:\n  - {type: native, name: a, handler: crate::A}\n",
    );
    let result = pforge::project::generate(&manifest);
    assert!(matches!(
        result,
        Err(pforge::project::ProjectError::Invalid(_))
    ));
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries, [std::ffi::OsString::from("forge.yaml")]);
}

#[test]
fn every_generated_file_says_who_owns_it() {
    let (_, files, _) = pforge::project::render(&examples()[0]).unwrap_or_else(|e| panic!("{e}"));
    for file in files {
        let first = file.contents.lines().next().unwrap_or_default();
        match file.ownership {
            Ownership::Generated if file.path.extension().is_some_and(|e| e == "rs") => {
                assert!(
                    first.starts_with("// @generated by pforge"),
                    "{}",
                    file.path.display()
                );
            }
            Ownership::User if file.path.extension().is_some_and(|e| e == "rs") => {
                assert!(
                    first.contains("This file is yours"),
                    "{}",
                    file.path.display()
                );
            }
            _ if file.path == Path::new("forge.schema.json") => {
                assert!(
                    file.contents
                        .contains("\"$comment\": \"@generated by pforge"),
                    "{}",
                    file.path.display()
                );
            }
            _ => {}
        }
    }
}

/// The Cargo.toml generated for an example.
fn manifest_of(example: &str) -> String {
    let (_, files, _) = pforge::project::render(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    files
        .into_iter()
        .find(|f| f.path == Path::new("Cargo.toml"))
        .map(|f| f.contents)
        .unwrap_or_default()
}

#[test]
fn dependencies_follow_the_tools() {
    let cargo = manifest_of("minimal.yaml");
    assert!(!cargo.contains("reqwest"), "no http tool, no HTTP client");
    assert!(
        cargo.contains("\"process\""),
        "a cli tool needs tokio's process feature"
    );
    assert!(!cargo.contains("axum"), "stdio servers need no HTTP server");
    let cargo = manifest_of("resilient-api.yaml");
    assert!(cargo.contains("reqwest") && !cargo.contains("\"process\""));
    let cargo = manifest_of("full.yaml");
    assert!(cargo.contains("axum") && cargo.contains("transport-streamable-http-server"));
}

fn file_of(example: &str, path: &str) -> Option<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let (_, files, _) = pforge::project::render(&manifest).unwrap_or_else(|e| panic!("{e}"));
    files
        .into_iter()
        .find(|f| f.path == Path::new(path))
        .map(|f| f.contents)
}

/// The module root `src/generated/resilience.rs` and the files under
/// `src/generated/resilience/`, one after the other.
fn resilience_files(example: &str) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let (_, files, _) = pforge::project::render(&manifest).unwrap_or_else(|e| panic!("{e}"));
    files
        .into_iter()
        .filter(|f| {
            f.path == Path::new("src/generated/resilience.rs")
                || f.path.starts_with("src/generated/resilience/")
        })
        .map(|f| f.contents)
        .collect()
}

#[test]
fn a_tool_without_policy_has_no_resilience_code() {
    let plain = file_of("policies.yaml", "src/generated/tools/plain.rs")
        .unwrap_or_else(|| panic!("no plain.rs"));
    for word in [
        "resilience",
        "retried",
        "guarded",
        "Breaker",
        "Bulkhead",
        "TIMEOUT",
        "fall_back",
        "tokio::time",
        "#[cfg(test)]",
    ] {
        assert!(
            !plain.contains(word),
            "plain.rs contains `{word}`:\n{plain}"
        );
    }
    assert!(plain.contains("attempt(server, input).await"), "{plain}");
    // A server whose only policy is a timeout gets no stats, and only the timeout primitive.
    assert_eq!(file_of("minimal.yaml", "src/generated/stats.rs"), None);
    let primitives = resilience_files("minimal.yaml");
    assert!(
        primitives.contains("pub async fn with_timeout"),
        "{primitives}"
    );
    assert!(primitives.contains("\nmod timeout;\n"), "{primitives}");
    for word in ["CircuitBreaker", "Bulkhead", "jittered", "retry"] {
        assert!(!primitives.contains(word), "{word}: {primitives}");
    }
}

#[test]
fn each_tool_module_states_its_policy_in_one_line() {
    let module = file_of(
        "resilient-api.yaml",
        "src/generated/tools/fetch_user_data.rs",
    )
    .unwrap_or_else(|| panic!("no module"));
    assert_eq!(
        policy_paragraph(&module),
        "Policy: timeout 10 s/attempt · 3 attempts 100 ms→200 ms ±25 % (waits ≤5 s) · breaker 5/60 s/2 · bulkhead 20 · fallback UserDataFallback",
    );
    // A policy tool's line shows both caps that bound its policy.
    let custom = file_of("policies.yaml", "src/generated/tools/custom_retry.rs")
        .unwrap_or_else(|| panic!("no module"));
    assert!(
        policy_paragraph(&custom).contains("≤5 attempts by CustomRetryPolicy (waits ≤2 s)"),
        "{}",
        policy_paragraph(&custom)
    );
    let chain = file_of("policies.yaml", "src/generated/tools/with_chain.rs")
        .unwrap_or_else(|| panic!("no module"));
    assert_eq!(
        policy_paragraph(&chain),
        "Policy: timeout 300 ms/attempt · fallback http ${BACKUP:-http://127.0.0.1:9}→cached→Stale→value",
    );
}

/// The module doc's paragraph that starts with `Policy:`, its wrapped lines joined.
fn policy_paragraph(module: &str) -> String {
    let lines: Vec<&str> = module
        .lines()
        .skip_while(|l| !l.starts_with("//!"))
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .skip_while(|l| !l.starts_with("Policy:"))
        .take_while(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

#[test]
fn only_the_policies_a_tool_has_are_emitted() {
    let retried = file_of("policies.yaml", "src/generated/tools/retried_listed.rs")
        .unwrap_or_else(|| panic!("no module"));
    assert!(
        retried.contains("backoff_ms: &[50, 120, 120],"),
        "{retried}"
    );
    let compact: String = retried.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(compact.contains("*status == 418 || *status == 429 || (500..=502).contains(status) || (504..=599).contains(status)"), "{retried}");
    assert!(!retried.contains("jittered"), "jitter: false");
    assert!(
        !retried.contains("fn guarded"),
        "no breaker, bulkhead or timeout"
    );
    let guarded = file_of("policies.yaml", "src/generated/tools/guarded.rs")
        .unwrap_or_else(|| panic!("no module"));
    let breaker = file_of("policies.yaml", "src/generated/tools/guarded.rs").and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("pub type Breaker"))
            .map(str::to_owned)
    });
    assert!(
        breaker.is_some_and(|l| l.contains("resilience::CircuitBreaker<")),
        "{guarded}"
    );
    assert!(
        guarded.contains("pub type Bulkhead = resilience::Bulkhead<"),
        "{guarded}"
    );
    assert!(
        guarded.contains(", 3, 200>;"),
        "max_queued 3, timeout 200 ms: {guarded}"
    );
    assert!(!guarded.contains("fn retried"), "no retry");
}

/// The files copied from the runtime crate are rustfmt-clean as emit copies them (before the
/// rustfmt pass of `render`), header and renamed doctests included.
#[test]
fn copied_runtime_files_are_formatted() {
    for example in examples() {
        let text = std::fs::read(&example).unwrap_or_else(|e| panic!("{e}"));
        let loaded = pforge::load::load_bytes("forge.yaml", &text);
        let config = loaded
            .config
            .unwrap_or_else(|| panic!("{}", example.display()));
        let files =
            pforge::emit::generate(&pforge::plan::plan(&config)).unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut copies = Vec::new();
        for file in files.iter().filter(|f| {
            ["runtime", "resilience", "stats"]
                .iter()
                .any(|m| f.path.starts_with(Path::new("src/generated").join(m)))
        }) {
            let path = dir.path().join(file.path.file_name().unwrap_or_default());
            std::fs::write(&path, &file.contents).unwrap_or_else(|e| panic!("{e}"));
            copies.push(path);
        }
        assert!(copies.len() >= 5, "{}: {copies:?}", example.display());
        let output = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .args(&copies)
            .output()
            .unwrap_or_else(|e| panic!("rustfmt: {e}"));
        assert!(
            output.status.success(),
            "{}:\n{}{}",
            example.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A project's own rustfmt.toml is honoured, so `cargo fmt --check` passes there too.
#[test]
fn the_projects_rustfmt_settings_are_honoured() {
    let (dir, manifest) = project(MINIMAL);
    std::fs::write(dir.path().join("rustfmt.toml"), "max_width = 70\n")
        .unwrap_or_else(|e| panic!("{e}"));
    pforge::project::generate(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["fmt", "--check"])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let widest = std::fs::read_to_string(dir.path().join("src/generated/mod.rs"))
        .unwrap_or_default()
        .lines()
        // rustfmt leaves comments and string literals as they are.
        .filter(|l| !l.contains('"') && !l.trim_start().starts_with("//"))
        .map(|l| l.chars().count())
        .max();
    assert!(widest.is_some_and(|w| w <= 70), "{widest:?}");
}

/// The README of a project generated from `yaml`.
fn readme_of(yaml: &str) -> String {
    let (_dir, manifest) = project(yaml);
    let (_, files, _) = pforge::project::render(&manifest).unwrap_or_else(|e| panic!("{e}"));
    files
        .into_iter()
        .find(|f| f.path == Path::new("README.md"))
        .map(|f| f.contents)
        .unwrap_or_default()
}

/// The generated README tells how the crate is really served: a stdio server is a command a
/// client starts; an http server is a URL, with its bind variable, its tokens and probes.
#[test]
fn the_readme_states_the_transport_served() {
    let stdio = readme_of(MINIMAL);
    assert!(stdio.contains("standard input and output"), "{stdio}");
    assert!(stdio.contains(r#"{ "command": "/path/to/"#), "{stdio}");
    assert!(!stdio.contains("http://"), "{stdio}");

    let http = readme_of(
        "forge:\n  name: web\n  version: 0.1.0\n  transport: http\n  bind: 0.0.0.0:9000\n  http:\n    allowed_hosts: [mcp.example.com]\n    stateless: true\n    auth: {bearer: {env: [MCP_TOKEN, MCP_TOKEN_NEXT]}}\ntools:\n  - {type: cli, name: now, command: date}\n",
    );
    assert!(!http.contains("standard input"), "{http}");
    for expected in [
        "streamable HTTP at `http://mcp.example.com:9000/mcp`",
        "listens on `0.0.0.0:9000`",
        "`PFORGE_BIND=host:port`",
        "`mcp.example.com`",
        "It is stateless",
        "one of the environment variables `MCP_TOKEN`, `MCP_TOKEN_NEXT`",
        "export MCP_TOKEN=\"$(openssl rand -hex 32)\"",
        "export MCP_TOKEN_NEXT=\"$(openssl rand -hex 32)\"",
        "\n./target/debug/web\n",
        "`http://mcp.example.com:9000/healthz`",
        "`http://mcp.example.com:9000/readyz`",
        "`http://mcp.example.com:9000/metrics` (Prometheus text), behind\nthe same auth as `/mcp`",
        r#""type": "http", "url": "http://mcp.example.com:9000/mcp", "headers": { "Authorization": "Bearer ${MCP_TOKEN}" }"#,
    ] {
        assert!(http.contains(expected), "missing {expected:?} in\n{http}");
    }

    let quiet = readme_of(
        "forge:\n  name: quiet\n  version: 0.1.0\n  transport: http\n  http: {metrics: false}\ntools:\n  - {type: cli, name: now, command: date}\n",
    );
    assert!(quiet.contains("no `/metrics`"), "{quiet}");
    assert!(!quiet.contains("Auth."), "{quiet}");
    assert!(!quiet.contains("\"headers\""), "{quiet}");
}
