//! Pipeline checks: steps name existing tools, no cycles, variables defined before use,
//! arguments that the called tool accepts, step timeouts within the budget.

use std::collections::{HashMap, HashSet};

use super::tools::{Catalogue, ToolInfo, Use, all_tool_names, collect_json};
use crate::config::{PipelineStep, PipelineTool, ToolKind};
use crate::holes::{self, is_identifier};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::load::suggest;

/// Checks every pipeline tool.
pub fn check(sections: &Sections, catalogue: &Catalogue, reporter: &mut Reporter<'_>) {
    let mut calls: HashMap<&str, Vec<(usize, usize, &str)>> = HashMap::new();
    let all_names = all_tool_names(sections);
    for (index, tool) in &sections.tools {
        let ToolKind::Pipeline(pipeline) = &tool.kind else {
            continue;
        };
        let at = Pointer::tool(*index);
        let own_params: Vec<String> = catalogue
            .get(&tool.common.name)
            .filter(|info| info.index == *index)
            .map(|info| info.params.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        check_steps(
            pipeline,
            &at,
            tool.common.timeout_ms,
            &own_params,
            catalogue,
            &all_names,
            reporter,
        );
        for (step_index, step) in pipeline.steps.iter().enumerate() {
            calls.entry(tool.common.name.as_str()).or_default().push((
                *index,
                step_index,
                step.tool.as_str(),
            ));
        }
    }
    check_cycles(&calls, catalogue, reporter);
}

/// Checks each step in order; `own_params` are the variables set before the first one.
fn check_steps(
    pipeline: &PipelineTool,
    at: &Pointer,
    budget: Option<u64>,
    own_params: &[String],
    catalogue: &Catalogue,
    all_names: &HashSet<&str>,
    reporter: &mut Reporter<'_>,
) {
    let mut defined: Vec<String> = own_params.to_vec();
    let all_outputs: Vec<&str> = pipeline
        .steps
        .iter()
        .filter_map(|s| s.output_var.as_deref())
        .collect();
    for (step_index, step) in pipeline.steps.iter().enumerate() {
        let step_at = at.key("steps").index(step_index);
        check_target(step, &step_at, all_names, reporter);
        check_one_spelling(step, &step_at, reporter);
        check_uses_set_before(step, &step_at, (&defined, &all_outputs), reporter);
        if let Some(condition) = &step.condition {
            check_condition(condition, &step_at.key("condition"), &defined, reporter);
        }
        if let Some(info) = catalogue.get(&step.tool) {
            check_arguments(step, &step_at, info, reporter);
        }
        define_output(step, &step_at, &mut defined, reporter);
        check_step_timeout(step, (&step_at, at), budget, reporter);
    }
}

/// The key the step's arguments are written under.
fn arguments_key(step: &PipelineStep) -> &'static str {
    if step.params.is_some() {
        "params"
    } else {
        "input"
    }
}

/// The step names a tool that exists.
fn check_target(
    step: &PipelineStep,
    step_at: &Pointer,
    all_names: &HashSet<&str>,
    reporter: &mut Reporter<'_>,
) {
    if all_names.contains(step.tool.as_str()) {
        return;
    }
    let help = suggest::closest(&step.tool, all_names.iter().copied())
        .map(|t| format!("did you mean `{t}`?"))
        .unwrap_or_else(|| "name a tool defined under `tools:`".to_owned());
    reporter
        .error(
            &step_at.key("tool"),
            Target::Value,
            format!("no tool is named `{}`", step.tool),
        )
        .help(help)
        .emit();
}

/// `params` and `input` are not both written.
fn check_one_spelling(step: &PipelineStep, step_at: &Pointer, reporter: &mut Reporter<'_>) {
    if step.params.is_some() && step.input.is_some() {
        reporter
            .error(
                &step_at.key("input"),
                Target::Key,
                "`input` and `params` are two spellings of the step's arguments",
            )
            .related(&step_at.key("params"), Target::Key, "already given here")
            .help("keep one of them")
            .emit();
    }
}

/// Variables a step refers to must be set before it runs: `defined` are those set so far,
/// `all_outputs` those any step sets.
fn check_uses_set_before(
    step: &PipelineStep,
    step_at: &Pointer,
    (defined, all_outputs): (&[String], &[&str]),
    reporter: &mut Reporter<'_>,
) {
    let key = arguments_key(step);
    let mut uses: Vec<Use> = Vec::new();
    for (arg, value) in step.arguments().into_iter().flatten() {
        collect_json(value, &step_at.key(key).key(arg), &mut uses, reporter);
    }
    for u in &uses {
        if !defined.contains(&u.name) && all_outputs.contains(&u.name.as_str()) {
            reporter
                .error(
                    &u.pointer,
                    Target::Text(&u.text),
                    format!("`{}` is set by a later step", u.text),
                )
                .help("a step can only use the output of the steps before it")
                .emit();
        }
    }
}

/// A condition is a variable name, set before the step.
fn check_condition(
    condition: &str,
    cond_at: &Pointer,
    defined: &[String],
    reporter: &mut Reporter<'_>,
) {
    let Some(parsed) = holes::condition(condition) else {
        reporter
            .error(cond_at, Target::Value, format!("`{condition}` is not a condition"))
            .help("write a variable name (a pipeline parameter or an earlier `output_var`), or `!name` to negate it")
            .emit();
        return;
    };
    let name = &parsed.variable;
    if defined.iter().any(|d| d == name) {
        return;
    }
    let help = suggest::closest(name, defined.iter().map(String::as_str))
        .map(|d| format!("did you mean `{d}`?"))
        .unwrap_or_else(|| {
            "conditions test a pipeline parameter or the `output_var` of an earlier step".to_owned()
        });
    reporter
        .error(
            cond_at,
            Target::Value,
            format!("`{name}` is not set before this step"),
        )
        .help(help)
        .emit();
}

/// The step passes only parameters the tool declares, and every one it requires.
fn check_arguments(
    step: &PipelineStep,
    step_at: &Pointer,
    target: &ToolInfo,
    reporter: &mut Reporter<'_>,
) {
    let key = arguments_key(step);
    let given = step.arguments();
    if let Some(arguments) = given
        && target.declared
    {
        let names: Vec<&str> = target.params.iter().map(|(n, _)| n.as_str()).collect();
        for arg in arguments.keys().filter(|a| !names.contains(&a.as_str())) {
            let help = suggest::hint(arg, &names, "parameter");
            reporter
                .error(
                    &step_at.key(key).key(arg),
                    Target::Key,
                    format!("tool `{}` has no parameter `{arg}`", step.tool),
                )
                .maybe_help(help)
                .emit();
        }
    }
    for (param, required) in &target.params {
        if *required && !given.is_some_and(|g| g.contains_key(param)) {
            reporter
                .error(
                    &step_at.key("tool"),
                    Target::Value,
                    format!(
                        "this step does not pass `{param}`, a required parameter of `{}`",
                        step.tool
                    ),
                )
                .help(format!("add `{key}: {{{param}: ...}}` to the step"))
                .emit();
        }
    }
}

/// The step's `output_var` is a new variable name; it is defined for the steps after it.
fn define_output(
    step: &PipelineStep,
    step_at: &Pointer,
    defined: &mut Vec<String>,
    reporter: &mut Reporter<'_>,
) {
    let Some(output) = &step.output_var else {
        return;
    };
    let out_at = step_at.key("output_var");
    if !is_identifier(output) {
        reporter
            .error(
                &out_at,
                Target::Value,
                format!("`{output}` is not a valid variable name"),
            )
            .help("use letters, digits and `_`, starting with a letter")
            .emit();
    } else if defined.contains(output) {
        reporter
            .error(
                &out_at,
                Target::Value,
                format!("`{output}` is already defined in this pipeline"),
            )
            .help("give each output its own name, different from the pipeline's parameters")
            .emit();
    } else {
        defined.push(output.clone());
    }
}

/// A step's timeout above the pipeline's budget never applies in full.
fn check_step_timeout(
    step: &PipelineStep,
    (step_at, pipeline_at): (&Pointer, &Pointer),
    budget: Option<u64>,
    reporter: &mut Reporter<'_>,
) {
    if let (Some(step_ms), Some(budget_ms)) = (step.timeout_ms, budget)
        && step_ms > budget_ms
    {
        reporter
            .warning(
                &step_at.key("timeout_ms"),
                Target::Value,
                format!(
                    "this step's timeout ({step_ms} ms) exceeds the pipeline's budget ({budget_ms} ms)"
                ),
            )
            .related(
                &pipeline_at.key("timeout_ms"),
                Target::Value,
                "the pipeline's budget",
            )
            .help("a step never gets more than what is left of the pipeline's budget")
            .emit();
    }
}

/// A pipeline that ends up calling itself would never finish.
fn check_cycles(
    calls: &HashMap<&str, Vec<(usize, usize, &str)>>,
    catalogue: &Catalogue,
    reporter: &mut Reporter<'_>,
) {
    let mut names: Vec<&str> = calls.keys().copied().collect();
    names.sort_by_key(|n| catalogue.get(*n).map_or(usize::MAX, |i| i.index));
    let mut reported: Vec<&str> = Vec::new();
    for start in names {
        // Depth-first search from `start`, iterative so that long chains cannot overflow.
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
        let mut visited: Vec<&str> = Vec::new();
        while let Some((node, path)) = stack.pop() {
            for &(index, step_index, callee) in calls.get(node).into_iter().flatten() {
                if callee == start && !reported.contains(&start) {
                    if path.len() == 1 {
                        reporter
                            .error(
                                &Pointer::tool(index)
                                    .key("steps")
                                    .index(step_index)
                                    .key("tool"),
                                Target::Value,
                                format!("pipeline `{start}` calls itself"),
                            )
                            .help("a pipeline cannot be one of its own steps")
                            .emit();
                    } else {
                        let mut cycle = path.clone();
                        cycle.push(start);
                        reporter
                            .error(
                                &Pointer::tool(index)
                                    .key("steps")
                                    .index(step_index)
                                    .key("tool"),
                                Target::Value,
                                format!(
                                    "pipelines call each other in a cycle: {}",
                                    cycle.join(" → ")
                                ),
                            )
                            .help("break the cycle; a pipeline cannot end up calling itself")
                            .emit();
                    }
                    reported.extend(path.iter().copied());
                } else if calls.contains_key(callee)
                    && !visited.contains(&callee)
                    && callee != start
                {
                    visited.push(callee);
                    let mut next = path.clone();
                    next.push(callee);
                    stack.push((callee, next));
                }
            }
        }
    }
}
