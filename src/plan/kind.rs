//! What cli and pipeline tools run, resolved: command lines split into templates, pipeline
//! steps with their target tool found and their condition read.

use super::params::ParamPlan;
use crate::config::{CliFacts, CliTool, ErrorPolicy, PipelineStep};
use crate::holes::Template;

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

/// What one step argument becomes when the step runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgPlan {
    /// JSON without a placeholder, as written (serialized).
    Json(String),
    /// A string that is one `{{var}}`: the variable's value with its type (an empty string
    /// when it is not set).
    Variable(String),
    /// A string with placeholders among text: the variables' text filled in.
    Text(Template),
    /// An array holding a placeholder somewhere.
    Array(Vec<ArgPlan>),
    /// An object holding a placeholder somewhere.
    Object(Vec<(String, ArgPlan)>),
}

impl ArgPlan {
    fn of(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        let literal = || Self::Json(value.to_string());
        match value {
            Value::String(text) => {
                let template = Template::params_only(text);
                match template.single_param() {
                    Some(name) => Self::Variable(name.to_owned()),
                    None if template.is_literal() => literal(),
                    None => Self::Text(template),
                }
            }
            Value::Array(items) => {
                let items: Vec<Self> = items.iter().map(Self::of).collect();
                if items.iter().all(|i| matches!(i, Self::Json(_))) {
                    literal()
                } else {
                    Self::Array(items)
                }
            }
            Value::Object(map) => {
                let fields: Vec<(String, Self)> =
                    map.iter().map(|(k, v)| (k.clone(), Self::of(v))).collect();
                if fields.iter().all(|(_, v)| matches!(v, Self::Json(_))) {
                    literal()
                } else {
                    Self::Object(fields)
                }
            }
            _ => literal(),
        }
    }
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

/// Plans the steps of a pipeline; `module_of` finds a tool's module by name. The loader
/// reports a step whose tool does not exist, so a step is only left out of the plan for a
/// config that did not go through it.
pub fn steps(steps: &[PipelineStep], module_of: impl Fn(&str) -> Option<String>) -> Vec<StepPlan> {
    steps
        .iter()
        .filter_map(|step| {
            let arguments = step
                .arguments()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.clone(), ArgPlan::of(value)))
                .collect();
            Some(StepPlan {
                module: module_of(&step.tool)?,
                arguments,
                timeout_ms: step.timeout_ms,
                output_var: step.output_var.clone(),
                continue_on_error: step.error_policy == Some(ErrorPolicy::Continue),
                condition: step
                    .condition
                    .as_deref()
                    .and_then(crate::holes::condition)
                    .map(Into::into),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holes::Part;

    #[test]
    fn arguments_keep_literal_json_whole_and_split_only_what_has_placeholders() {
        let value = serde_json::json!({
            "user": " {{ user }} ",
            "label": "n={{n}}",
            "list": ["{{n}}", 1],
            "fixed": {"a": [1, "x"]},
            "cost": "${not_env}"
        });
        let ArgPlan::Object(fields) = ArgPlan::of(&value) else {
            panic!("an object with placeholders")
        };
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("user"), Some(ArgPlan::Variable("user".into())));
        assert_eq!(
            get("label"),
            Some(ArgPlan::Text(Template {
                parts: vec![Part::Text("n=".into()), Part::Param("n".into())]
            }))
        );
        assert_eq!(
            get("list"),
            Some(ArgPlan::Array(vec![
                ArgPlan::Variable("n".into()),
                ArgPlan::Json("1".into())
            ]))
        );
        assert_eq!(get("fixed"), Some(ArgPlan::Json(r#"{"a":[1,"x"]}"#.into())));
        assert_eq!(get("cost"), Some(ArgPlan::Json(r#""${not_env}""#.into())));
    }
}
