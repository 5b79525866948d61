//! What cli and pipeline tools run, resolved: command lines split into templates, pipeline
//! steps with their target tool found and their condition read.

use super::template::Template;
use crate::config::{CliTool, ErrorPolicy, PipelineStep};

/// A command, run without a shell.
#[derive(Debug, Clone, PartialEq)]
pub struct CliPlan {
    /// The program, trimmed.
    pub program: String,
    /// Its arguments, each filled separately.
    pub args: Vec<Template>,
    /// Working directory.
    pub cwd: Option<Template>,
    /// Environment variables set for it.
    pub env: Vec<(String, Template)>,
}

/// One step of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPlan {
    /// The module of the tool it calls.
    pub module: String,
    /// The step's arguments as JSON text; `{{var}}` strings are filled when it runs.
    pub arguments: String,
    /// Its own timeout, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// The variable its output is stored in.
    pub output_var: Option<String>,
    /// Whether the pipeline goes on when it fails.
    pub continue_on_error: bool,
    /// When it runs.
    pub condition: Option<crate::load::template::Condition>,
}

/// Plans a cli tool.
pub fn cli(cli: &CliTool) -> CliPlan {
    CliPlan {
        program: cli.command.trim().to_owned(),
        args: cli.args.iter().map(|a| Template::split(a)).collect(),
        cwd: cli.cwd.as_deref().map(Template::split),
        env: cli
            .env
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), Template::split(value)))
            .collect(),
    }
}

/// Plans the steps of a pipeline; `module_of` finds a tool's module by name. The loader
/// reports a step whose tool does not exist, so a step is only left out of the plan for a
/// config that did not go through it.
pub fn steps(steps: &[PipelineStep], module_of: impl Fn(&str) -> Option<String>) -> Vec<StepPlan> {
    steps
        .iter()
        .filter_map(|step| {
            let arguments: serde_json::Map<String, serde_json::Value> = step
                .arguments()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            Some(StepPlan {
                module: module_of(&step.tool)?,
                arguments: serde_json::Value::Object(arguments).to_string(),
                timeout_ms: step.timeout_ms,
                output_var: step.output_var.clone(),
                continue_on_error: step.error_policy == Some(ErrorPolicy::Continue),
                condition: step
                    .condition
                    .as_deref()
                    .and_then(crate::load::template::condition),
            })
        })
        .collect()
}
