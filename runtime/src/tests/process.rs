//! The process group guard of the cli tools.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::generated::runtime::{ProcessGroup, ToolError};

fn sleeper() -> tokio::process::Child {
    tokio::process::Command::new("sleep")
        .arg("30")
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sleep: {e}"))
}

#[tokio::test]
async fn dropping_the_guard_kills_the_group() {
    let mut child = sleeper();
    drop(ProcessGroup::of(&child));
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap_or_else(|_| panic!("the command outlived its guard"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

#[tokio::test]
async fn a_finished_command_is_left_alone() {
    let mut child = sleeper();
    let mut guard = ProcessGroup::of(&child);
    guard.finished();
    drop(guard);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let running = child.try_wait().unwrap_or_else(|e| panic!("{e}")).is_none();
    let _ = child.kill().await;
    assert!(running, "the guard killed a command that had finished");
}

fn sh(script: &str) -> tokio::process::Command {
    let mut command = crate::generated::runtime::command("sh");
    command.args(["-c", script]);
    command
}

#[tokio::test]
async fn a_command_that_writes_without_end_is_stopped_at_the_bound() {
    let dir = tempdir();
    let pid_file = dir.join("pid");
    // `cat` is the shell's child: only killing the whole group stops it.
    let script = format!("cat /dev/zero & echo $! > {}; wait", pid_file.display());
    let outcome = crate::generated::runtime::output(sh(&script), "sh", 1 << 20).await;
    let Err(ToolError::Handler(message)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(message.contains("more than 1048576 bytes"), "{message}");
    let pid = std::fs::read_to_string(&pid_file).unwrap_or_else(|e| panic!("{e}"));
    let proc = format!("/proc/{}", pid.trim());
    for _ in 0..100 {
        // Gone, or a zombie its parent (this test) has not reaped: either way not running.
        let state = std::fs::read_to_string(format!("{proc}/stat")).unwrap_or_default();
        if state.is_empty() || state.contains(") Z") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("what the command started still runs after its output passed the bound");
}

#[tokio::test]
async fn the_output_is_answered_and_the_end_of_stderr_is_kept() {
    let outcome = crate::generated::runtime::output(sh("printf 'out'"), "sh", 1024).await;
    assert_eq!(outcome, Ok(serde_json::Value::String("out".into())));
    let script = "head -c 100000 /dev/zero | tr '\\0' x >&2; echo the-end >&2; exit 3";
    let outcome = crate::generated::runtime::output(sh(script), "sh", 1024).await;
    let Err(ToolError::Exit { code, stderr }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(code, Some(3));
    assert!(stderr.ends_with("the-end"), "{stderr}");
    let kept = stderr.chars().count();
    assert!(
        (1_990..=2_000).contains(&kept),
        "the end of stderr, 2,000 characters: {kept}"
    );
}

#[tokio::test]
async fn a_command_inherits_only_the_allowed_variables() {
    let outcome = crate::generated::runtime::output(
        crate::generated::runtime::command("env"),
        "env",
        1 << 20,
    )
    .await;
    let Ok(serde_json::Value::String(seen)) = outcome else {
        panic!("{outcome:?}")
    };
    let names: Vec<&str> = seen
        .lines()
        .filter_map(|l| l.split_once('=').map(|(n, _)| n))
        .collect();
    assert!(names.contains(&"PATH"), "{seen}");
    // cargo runs tests with CARGO_* variables set: stand-ins for a server's secrets.
    let secrets: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("CARGO"))
        .collect();
    assert!(
        !secrets.is_empty(),
        "run under cargo, which sets CARGO_* variables"
    );
    for secret in &secrets {
        assert!(
            !names.contains(&secret.as_str()),
            "{secret} reached the command"
        );
    }
}

#[test]
fn a_value_that_would_be_an_option_is_refused() {
    use crate::generated::runtime::not_an_option;
    let values = |v: &str| {
        rmcp::model::JsonObject::from_iter([("ref".to_owned(), serde_json::Value::from(v))])
    };
    assert_eq!(
        not_an_option("ref", &values("main"), "main".into()),
        Ok("main".into())
    );
    assert_eq!(
        not_an_option("ref", &values("x"), "--from-config=x".into()),
        Ok("--from-config=x".into()),
        "a variable before the value wrote the dash"
    );
    let refused = not_an_option("ref", &values("--output=/tmp/x"), "--output=/tmp/x".into());
    let Err(ToolError::InvalidArguments(message)) = refused else {
        panic!("{refused:?}")
    };
    assert!(message.contains("`ref`"), "{message}");
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pforge-process-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}
