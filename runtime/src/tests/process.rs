//! The process group guard of the cli tools.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::generated::runtime::ProcessGroup;

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
