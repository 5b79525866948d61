//! Running a cli tool's command: a clean environment, output read up to a bound, and the
//! guard that kills what the command started when its call is dropped.

use rmcp::model::JsonObject;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::ToolError;

/// The variables a command inherits from the server: what programs need to find
/// themselves, a home, a locale and a temporary directory. Everything else (the server's
/// bearer tokens, an upstream's API keys) stays out unless forge.yaml's `env:` passes it.
const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "TMP",
    "TEMP",
    "SYSTEMROOT",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
];

/// Characters of a command's stderr an error keeps: its end, where programs say what failed.
const STDERR_CHARS: usize = 2_000;

/// A command for `program` whose environment is the allow-list `INHERITED` and the
/// locale's `LC_*` variables; the tool's own `env:` entries are added after.
pub fn command(program: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command.env_clear();
    for (name, value) in std::env::vars_os() {
        let inherited = name
            .to_str()
            .is_some_and(|name| INHERITED.contains(&name) || name.starts_with("LC_"));
        if inherited {
            command.env(name, value);
        }
    }
    command
}

/// Keeps the commands this server runs, which run as the same user, from reading its memory
/// and its environment (bearer tokens, upstream keys) through `/proc/<pid>/environ` and
/// `/proc/<pid>/mem`: the process is made not dumpable, which also turns off its core dumps.
/// Root can still read them.
pub fn shield() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(%error, "cannot hide this process's environment from its commands");
    }
}

/// Refuses `argument`, which `param` begins (after `${VAR}`s, which may be empty), when it
/// and the parameter's value begin with `-`: a caller's value that starts an argument must
/// not become an option of the program (`--output=/some/file`).
pub fn not_an_option(
    param: &str,
    values: &JsonObject,
    argument: String,
) -> Result<String, ToolError> {
    let value = values.get(param).map(super::text_of).unwrap_or_default();
    if argument.starts_with('-') && value.starts_with('-') {
        return Err(ToolError::InvalidArguments(format!(
            "`{param}` cannot begin with `-`: it would be read as an option of the command"
        )));
    }
    Ok(argument)
}

/// Runs `command` to its end with stdin closed, in a process group of its own, and answers
/// what it wrote to stdout. Stdout is read up to `max_output` bytes: past that the command is
/// killed and the call fails, so a command that writes without end cannot fill the server's
/// memory. Of stderr only the end is kept, for the error of a non-zero exit.
pub async fn output(
    mut command: tokio::process::Command,
    program: &str,
    max_output: usize,
) -> Result<Value, ToolError> {
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so that a timeout or a cancellation (which drops this future)
    // kills everything the command started, not just the command.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|error| ToolError::Handler(format!("cannot run `{program}`: {error}")))?;
    let mut group = ProcessGroup::of(&child);
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ToolError::Handler(format!(
            "`{program}` has no output pipes"
        )));
    };
    let failed = |error: std::io::Error| ToolError::Handler(format!("`{program}` failed: {error}"));
    let (stdout, stderr, status) = tokio::try_join!(
        async { bounded(stdout, max_output, program).await },
        async { Ok(tail(stderr).await) },
        async { child.wait().await.map_err(failed) },
    )?;
    group.finished();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let start = stderr
            .char_indices()
            .rev()
            .nth(STDERR_CHARS - 1)
            .map_or(0, |(at, _)| at);
        return Err(ToolError::Exit {
            code: status.code(),
            stderr: stderr[start..].trim().to_owned(),
        });
    }
    Ok(Value::String(String::from_utf8_lossy(&stdout).into_owned()))
}

/// All of `pipe`, failing once it holds more than `max` bytes.
async fn bounded(
    mut pipe: impl AsyncRead + Unpin,
    max: usize,
    program: &str,
) -> Result<Vec<u8>, ToolError> {
    let mut out = Vec::new();
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let read = pipe.read(&mut buffer).await.map_err(|error| {
            ToolError::Handler(format!("cannot read `{program}`'s output: {error}"))
        })?;
        if read == 0 {
            return Ok(out);
        }
        if out.len() + read > max {
            return Err(ToolError::Handler(format!(
                "`{program}` wrote more than {max} bytes to stdout and was stopped \
                 (forge.max_output_bytes)"
            )));
        }
        out.extend_from_slice(&buffer[..read]);
    }
}

/// The last bytes of `pipe` (enough for [`STDERR_CHARS`] characters), read to its end so
/// the command never blocks on a full pipe; what comes before them is dropped as it comes.
async fn tail(mut pipe: impl AsyncRead + Unpin) -> Vec<u8> {
    const KEEP: usize = STDERR_CHARS * 4;
    let mut kept = Vec::new();
    let mut buffer = vec![0_u8; 16 * 1024];
    while let Ok(read) = pipe.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        kept.extend_from_slice(&buffer[..read]);
        if kept.len() > 2 * KEEP {
            kept.drain(..kept.len() - KEEP);
        }
    }
    if kept.len() > KEEP {
        kept.drain(..kept.len() - KEEP);
    }
    kept
}

/// Kills a command's whole process group if it is dropped before the command finished.
#[derive(Debug)]
pub struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    /// Watches the group a just-spawned child leads.
    pub fn of(child: &tokio::process::Child) -> Self {
        Self(child.id())
    }

    /// The command finished by itself: nothing to kill.
    pub fn finished(&mut self) {
        self.0 = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.0.and_then(|id| i32::try_from(id).ok()) {
            // The group may already be gone; there is nothing useful to do about an error.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(id),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
