//! What cli and pipeline tools run, resolved from what the loader established: command lines
//! and pipeline steps.

use super::params::ParamPlan;
use crate::config::{CliFacts, CliTool, ErrorPolicy, PipelineStep, StepFacts};
use crate::holes::Template;
use crate::naming;

/// What one step argument becomes when the step runs: the loader split it at its placeholders.
pub use crate::holes::JsonTemplate as ArgPlan;

/// A command, run without a shell.
#[derive(Debug, Clone, PartialEq)]
pub struct CliPlan {
    /// The program, trimmed.
    pub program: String,
    /// Its arguments, each filled separately.
    pub args: Vec<CliArg>,
    /// Bytes of the largest stdout read.
    pub max_output_bytes: usize,
    /// Working directory.
    pub cwd: Option<Template>,
    /// Environment variables set for it.
    pub env: Vec<(String, Template)>,
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct CliArg {
    /// Its text.
    pub template: Template,
    /// The parameter it begins with (after `${VAR}`s), whose value may not begin with `-`:
    /// the program would read it as an option (`ParamSpec::guards_options` says which).
    pub guarded: Option<String>,
}

/// One step of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPlan {
    /// The module of the tool it calls.
    pub module: String,
    /// The step's arguments, by name.
    pub arguments: Vec<(String, ArgPlan)>,
    /// Its own timeout, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// The variable its output is stored in.
    pub output_var: Option<String>,
    /// Whether the pipeline goes on when it fails.
    pub continue_on_error: bool,
    /// When it runs.
    pub condition: Option<super::vocab::StepCondition>,
}

/// Plans a cli tool; `facts` are its strings as the loader split them.
pub fn cli(
    cli: &CliTool,
    facts: &CliFacts,
    params: &[ParamPlan],
    max_output_bytes: usize,
) -> CliPlan {
    let arg = |template: &Template| {
        let guarded = template
            .leading_param()
            .filter(|name| params.iter().any(|p| p.name == *name && p.guards_options))
            .map(str::to_owned);
        CliArg {
            template: template.clone(),
            guarded,
        }
    };
    CliPlan {
        program: cli.command.trim().to_owned(),
        args: facts.args.iter().map(arg).collect(),
        max_output_bytes,
        cwd: facts.cwd.clone(),
        env: facts.env.clone(),
    }
}

/// Plans the steps of a pipeline from what the loader established about each: the tool it
/// names exists, its arguments are split and its condition is read.
pub fn steps(steps: &[PipelineStep], facts: &[StepFacts]) -> Vec<StepPlan> {
    steps
        .iter()
        .zip(facts)
        .map(|(step, facts)| StepPlan {
            module: naming::tool_module(&step.tool),
            arguments: facts.arguments.clone(),
            timeout_ms: step.timeout_ms,
            output_var: step.output_var.clone(),
            continue_on_error: step.error_policy == Some(ErrorPolicy::Continue),
            condition: facts.condition.clone().map(Into::into),
        })
        .collect()
}
