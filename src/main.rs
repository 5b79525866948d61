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
    /// Create a new server project in ./NAME and compile it.
    ///
    /// NAME becomes the crate and binary name. The project holds forge.yaml (whose first line
    /// points editors at forge.schema.json), handler stubs that are yours to edit, and the
    /// generated crate. An existing non-empty directory is refused.
    New {
        /// Name of the server, its crate and its directory.
        name: PathBuf,
        /// Starter config.
        #[arg(long, value_enum, default_value_t = TemplateArg::Minimal)]
        template: TemplateArg,
        /// Do not run cargo build.
        #[arg(long)]
        no_build: bool,
    },
    /// Generate the server crate beside forge.yaml, then compile it with cargo.
    ///
    /// The crate lives in the directory holding forge.yaml; a forge.yaml alone in a folder
    /// becomes a complete project. pforge owns src/lib.rs, src/main.rs and src/generated/;
    /// you own forge.yaml, Cargo.toml (pforge only adds dependencies) and src/handlers/.
    /// Only files whose contents change are written.
    Build {
        /// The forge.yaml to build.
        #[arg(long, default_value = "forge.yaml")]
        manifest: PathBuf,
        /// Compile with `cargo build --release`.
        #[arg(long)]
        release: bool,
        /// Generate the files but do not run cargo.
        #[arg(long)]
        no_compile: bool,
        /// Write nothing; exit 1 and list the files that would change (for CI).
        #[arg(long)]
        check: bool,
        /// Build even if Cargo.toml records a newer pforge than this one, putting this
        /// pforge's generated code and runtime files in place of the newer ones.
        #[arg(long)]
        force: bool,
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
enum TemplateArg {
    /// A native handler and a command.
    Minimal,
    /// The reference chapter's complete example: an http tool with every policy.
    ResilientApi,
    /// Two native steps chained by a pipeline with a time budget.
    Pipeline,
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
        Command::New {
            name,
            template,
            no_build,
        } => new(&name, template, no_build),
        Command::Build {
            manifest,
            release,
            no_compile,
            check,
            force,
        } => build(&manifest, release, no_compile, check, force),
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

fn report(loaded: &pforge::load::Loaded) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut err = std::io::stderr().lock();
    for diagnostic in &loaded.diagnostics {
        let _ = writeln!(err, "{}\n", render_human(diagnostic, &loaded.source, color));
    }
}

fn build(manifest: &Path, release: bool, no_compile: bool, check: bool, force: bool) -> ExitCode {
    use pforge::project::{self, Downgrade, ProjectError};
    use pforge::write::Outcome;
    let downgrade = if force {
        Downgrade::Allow
    } else {
        Downgrade::Refuse
    };
    let result = if check {
        project::check_with(manifest, downgrade)
    } else {
        project::generate_with(manifest, downgrade)
    };
    let project::Generated {
        loaded,
        outcomes,
        formatting,
        missing,
    } = match result {
        Ok(done) => done,
        Err(ProjectError::Invalid(loaded)) => {
            report(&loaded);
            eprintln!("{}: invalid, nothing was written", loaded.source.name());
            return ExitCode::from(1);
        }
        Err(error @ ProjectError::Read { .. }) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    report(&loaded);
    if let pforge::write::rustfmt::Formatting::Skipped(reason) = &formatting {
        eprintln!(
            "note: the generated Rust is not rustfmt-formatted ({reason}); it compiles all the same. \
             Install rustfmt (`rustup component add rustfmt`) or point $RUSTFMT at it."
        );
    }
    let root = project::root_of(manifest);
    // A handler file the user already has is never edited: show what it lacks instead.
    for stub in missing {
        eprintln!(
            "note: {} is yours, so pforge did not add `{}` to it; add this:\n{}",
            stub.path.display(),
            stub.name,
            stub.code
        );
    }
    let changed: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Created | Outcome::Updated))
        .collect();
    if check {
        for (path, outcome) in &changed {
            let verb = if *outcome == Outcome::Created {
                "would create"
            } else {
                "would update"
            };
            println!("{verb} {}", path.display());
        }
        return if changed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    for (path, outcome) in &changed {
        let verb = if *outcome == Outcome::Created {
            "created"
        } else {
            "updated"
        };
        eprintln!("  {verb} {}", path.display());
    }
    eprintln!(
        "{} files up to date, {} written",
        outcomes.len() - changed.len(),
        changed.len()
    );
    if no_compile {
        return ExitCode::SUCCESS;
    }
    let mut cargo =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.arg("build").current_dir(&root);
    if release {
        cargo.arg("--release");
    }
    match cargo.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("error: cargo build failed in {}", root.display());
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            ExitCode::from(2)
        }
    }
}

fn new(target: &Path, template: TemplateArg, no_build: bool) -> ExitCode {
    use pforge::project::{NewError, Template};
    let template = match template {
        TemplateArg::Minimal => Template::Minimal,
        TemplateArg::ResilientApi => Template::ResilientApi,
        TemplateArg::Pipeline => Template::Pipeline,
    };
    let manifest = match pforge::project::create(target, template) {
        Ok(manifest) => manifest,
        Err(NewError::InvalidName(name, loaded)) => {
            report(&loaded);
            eprintln!(
                "error: `{name}` cannot name a server: it must be a valid crate name (a letter, then letters, digits, `-` or `_`)"
            );
            return ExitCode::from(1);
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "created {} from the `{}` template",
        target.display(),
        template.name()
    );
    if !no_build {
        // A new directory has no version record to go back from.
        let code = build(&manifest, false, false, false, false);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let binary = std::fs::canonicalize(target)
        .unwrap_or_else(|_| target.to_owned())
        .join("target/debug")
        .join(&name);
    println!("Next:");
    println!("  cd {}", target.display());
    println!("  edit forge.yaml and src/handlers/, then run `pforge build`");
    println!("  run the server: cargo run   (MCP over stdio; logs on stderr)");
    println!("Register it with an MCP client, e.g. in its mcpServers settings:");
    println!(
        "  {{ \"{name}\": {{ \"command\": \"{}\" }} }}",
        binary.display()
    );
    ExitCode::SUCCESS
}
