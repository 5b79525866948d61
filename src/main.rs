//! The `pforge` command line: argument parsing and I/O around the library.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use pforge::diagnostics::{Severity, render_human, render_json_line};

/// Generate resilient MCP servers from one forge.yaml.
///
/// A forge.yaml describes an MCP server's tools (native Rust handlers, commands, HTTP calls,
/// pipelines) and how each survives failure: circuit breaker, retry with backoff and jitter,
/// fallback, bulkhead and timeout.
#[derive(Debug, Parser)]
#[command(
    name = "pforge",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a forge.yaml and report every problem with its line and column.
    ///
    /// Exit status: 0 when the file is valid (warnings allowed), 1 when it is not, 2 when it
    /// cannot be read or the command line is wrong.
    Check {
        /// The file to check.
        #[arg(default_value = "forge.yaml")]
        file: PathBuf,
        /// `human`: rustc-like reports on stderr. `json`: one JSON object per diagnostic per
        /// line on stdout, with severity, message, file, line, column, end_line, end_column,
        /// pointer and help.
        #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
        message_format: MessageFormat,
    },
    /// Print the JSON Schema of forge.yaml (draft-07), for editors and CI.
    ///
    /// Point the YAML language server at it with a first line such as
    /// `# yaml-language-server: $schema=./forge.schema.json`.
    Schema,
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            file,
            message_format,
        } => check(&file, message_format),
        Command::Schema => {
            print!("{}", pforge::schema::forge_schema_text());
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "pforge", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}

fn check(file: &Path, format: MessageFormat) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", file.display());
            return ExitCode::from(2);
        }
    };
    let name = file.display().to_string();
    let loaded = pforge::load::load_bytes(&name, &bytes);
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = loaded.diagnostics.len() - errors;

    match format {
        MessageFormat::Json => {
            let mut out = std::io::stdout().lock();
            for diagnostic in &loaded.diagnostics {
                // A closed pipe is not worth a panic; the exit status still tells the result.
                let _ = writeln!(out, "{}", render_json_line(diagnostic, &loaded.source));
            }
        }
        MessageFormat::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut err = std::io::stderr().lock();
            for diagnostic in &loaded.diagnostics {
                let _ = writeln!(err, "{}\n", render_human(diagnostic, &loaded.source, color));
            }
            let _ = match (&loaded.config, errors) {
                (Some(config), _) => writeln!(
                    err,
                    "{name}: ok ({} tools, {} resources, {} prompts{})",
                    config.tools.len(),
                    config.resources.len(),
                    config.prompts.len(),
                    plural_suffix(warnings, "warning")
                ),
                (None, _) => writeln!(
                    err,
                    "{name}: invalid ({errors} {}{})",
                    if errors == 1 { "error" } else { "errors" },
                    plural_suffix(warnings, "warning")
                ),
            };
        }
    }
    if loaded.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural_suffix(count: usize, word: &str) -> String {
    match count {
        0 => String::new(),
        1 => format!(", 1 {word}"),
        n => format!(", {n} {word}s"),
    }
}
