//! Checks of parameter declarations: defaults and enums of the right type, constraints that
//! apply to the type, bounds in order, patterns that compile.

use serde_json::Value;

use crate::config::{CliTool, ParamDetail, ParamSpec, ParamType, Params};
use crate::holes::leading_param;
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::schema_check::describe_value;

/// Checks every parameter of a `params` block.
pub fn check(params: &Params, at: &Pointer, reporter: &mut Reporter<'_>) {
    for (name, spec) in &params.0 {
        check_spec(spec, &at.key(name), reporter);
    }
}

/// How a cli tool's command uses its parameters: `allow_options` where no argument begins
/// with the parameter (it changes nothing), and unconstrained strings that choose the
/// working directory or a file (a caller could name any directory or file the server sees).
/// `params` is `None` when the tool declares none (each placeholder is then a plain string);
/// `at` is the tool's pointer.
pub fn check_cli_use(
    params: Option<&Params>,
    cli: Option<&CliTool>,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) {
    check_option_guards(params, cli, at, reporter);
    if let Some(cli) = cli {
        check_chosen_paths(params, cli, at, reporter);
    }
}

/// A default that begins with `-` where the parameter starts an argument, and
/// `allow_options` where it starts none.
fn check_option_guards(
    params: Option<&Params>,
    cli: Option<&CliTool>,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) {
    let leads = |name: &str| {
        cli.is_some_and(|cli| {
            cli.args
                .iter()
                .any(|arg| leading_param(arg).is_some_and(|lead| lead == name))
        })
    };
    for (name, spec) in params.iter().flat_map(|p| p.0.iter()) {
        if has_dashed_default(spec) && leads(name) && spec.guards_options() {
            reporter
                .error(
                    &at.key("params").key(name).key("default"),
                    Target::Value,
                    format!("the default of `{name}` begins with `-`, which a value starting an argument may not"),
                )
                .help("list the values in an `enum`, or set `allow_options: true` if callers may pass options")
                .emit();
        }
        if spec.allows_options() && !leads(name) {
            reporter
                .warning(
                    &at.key("params").key(name).key("allow_options"),
                    Target::Value,
                    format!("`allow_options` has no effect: no argument of a cli command begins with `{name}`"),
                )
                .help("remove it; it only lets a value that begins with `-` start a command's argument")
                .emit();
        }
    }
}

/// Whether the parameter's default would read as an option.
fn has_dashed_default(spec: &ParamSpec) -> bool {
    match spec {
        ParamSpec::Long(detail) => detail.default.as_ref().is_some_and(|d| match d {
            Value::String(text) => text.starts_with('-'),
            // `-0.0` prints with its sign.
            Value::Number(number) => number.as_f64().is_some_and(f64::is_sign_negative),
            _ => false,
        }),
        ParamSpec::Short(_) => false,
    }
}

/// Unconstrained strings that choose the command's working directory or a file it opens.
fn check_chosen_paths(
    params: Option<&Params>,
    cli: &CliTool,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) {
    for name in path_placeholders(cli) {
        let spec = params.and_then(|p| p.0.get(name));
        if spec.is_some_and(|s| s.kind() != ParamType::String || is_constrained(s)) {
            continue;
        }
        let in_cwd = cli.cwd.as_deref().is_some_and(|cwd| mentions(cwd, name));
        let as_file = name
            .to_ascii_lowercase()
            .split('_')
            .any(|word| FILE_WORDS.contains(&word))
            && cli.args.iter().any(|arg| mentions(arg, name));
        if !(in_cwd || as_file) {
            continue;
        }
        let what = if in_cwd {
            "the command's working directory"
        } else {
            "a file or directory the command opens"
        };
        let (pointer, target) = match spec {
            Some(_) => (at.key("params").key(name), Target::Key),
            None if in_cwd => (at.key("cwd"), Target::Value),
            None => (at.key("args"), Target::Key),
        };
        reporter
            .warning(
                &pointer,
                target,
                format!("a caller chooses {what} through `{name}`, which has no `pattern` or `enum`"),
            )
            .help(format!(
                "constrain it, e.g. `{name}: {{type: string, pattern: \"^[A-Za-z0-9_-]+$\"}}`, so that `..` and absolute paths are refused"
            ))
            .emit();
    }
}

/// The placeholder names of the command's arguments and working directory, in order, once.
fn path_placeholders(cli: &CliTool) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for text in cli.args.iter().chain(cli.cwd.iter()) {
        for rest in text.split("{{").skip(1) {
            if let Some((inside, _)) = rest.split_once("}}")
                && !names.contains(&inside.trim())
            {
                names.push(inside.trim());
            }
        }
    }
    names
}

/// Words of a parameter's name that say it names a file or a directory.
const FILE_WORDS: &[&str] = &[
    "path",
    "file",
    "dir",
    "filename",
    "filepath",
    "dirname",
    "directory",
    "folder",
];

/// Whether a `{{` is followed by exactly `name` and `}}`, spaces allowed.
fn placeholder_is(rest: &str, name: &str) -> bool {
    rest.split_once("}}")
        .is_some_and(|(inside, _)| inside.trim() == name)
}

/// Whether `text` holds the placeholder `{{name}}`.
fn mentions(text: &str, name: &str) -> bool {
    text.split("{{")
        .skip(1)
        .any(|rest| placeholder_is(rest, name))
}

/// Whether a string parameter's values are held to an `enum` or a `pattern`.
fn is_constrained(spec: &ParamSpec) -> bool {
    match spec {
        ParamSpec::Short(_) => false,
        ParamSpec::Long(detail) => {
            detail.allowed.is_some()
                || detail.pattern.is_some()
                || detail
                    .validation
                    .as_ref()
                    .is_some_and(|v| v.pattern.is_some())
        }
    }
}

/// Checks one parameter's declaration, and its `items` below it.
fn check_spec(spec: &ParamSpec, at: &Pointer, reporter: &mut Reporter<'_>) {
    let ParamSpec::Long(detail) = spec else {
        return;
    };
    check_default(detail, at, reporter);
    check_enum(detail, at, reporter);
    let constraints = Constraints::merge(detail, at, reporter);
    check_applicable(detail.kind, &constraints, reporter);
    check_bounds(&constraints, reporter);
    check_pattern(&constraints, reporter);
    if let Some(items) = &detail.items {
        if detail.kind != ParamType::Array {
            reporter
                .error(
                    &at.key("items"),
                    Target::Key,
                    format!(
                        "`items` applies to arrays, but this parameter is of type {}",
                        detail.kind.json_type()
                    ),
                )
                .emit();
        }
        check_spec(items, &at.key("items"), reporter);
    }
}

/// A default of the parameter's type, which a required parameter never uses.
fn check_default(detail: &ParamDetail, at: &Pointer, reporter: &mut Reporter<'_>) {
    let (kind, type_name) = (detail.kind, detail.kind.json_type());
    if let Some(default) = &detail.default {
        if !kind.accepts(default) {
            reporter
                .error(
                    &at.key("default"),
                    Target::Value,
                    format!(
                        "the default {} is not of type {type_name}",
                        describe_value(default)
                    ),
                )
                .emit();
        } else if detail.required == Some(true) {
            reporter
                .warning(
                    &at.key("default"),
                    Target::Value,
                    "a required parameter never uses its default",
                )
                .help(
                    "remove `required: true` to make the parameter optional, or remove the default",
                )
                .emit();
        }
    }
}

/// `enum` values of the parameter's type, the default among them.
fn check_enum(detail: &ParamDetail, at: &Pointer, reporter: &mut Reporter<'_>) {
    let (kind, type_name) = (detail.kind, detail.kind.json_type());
    if let Some(allowed) = &detail.allowed {
        for (i, value) in allowed.iter().enumerate() {
            if !kind.accepts(value) {
                reporter
                    .error(
                        &at.key("enum").index(i),
                        Target::Value,
                        format!("{} is not of type {type_name}", describe_value(value)),
                    )
                    .emit();
            }
        }
        if let Some(default) = detail.default.as_ref().filter(|d| kind.accepts(d))
            && !allowed.contains(default)
        {
            reporter
                .error(
                    &at.key("default"),
                    Target::Value,
                    format!(
                        "the default {} is not one of the `enum` values",
                        describe_value(default)
                    ),
                )
                .emit();
        }
    }
}

/// Each constraint applies to the parameter's type.
fn check_applicable(kind: ParamType, constraints: &Constraints, reporter: &mut Reporter<'_>) {
    let type_name = kind.json_type();
    let numeric = kind.is_numeric();
    let sized = matches!(kind, ParamType::String | ParamType::Array);
    for (key, applies, what) in [
        ("minimum", numeric, "numbers"),
        ("maximum", numeric, "numbers"),
        ("pattern", kind == ParamType::String, "strings"),
        ("min_length", sized, "strings and arrays"),
        ("max_length", sized, "strings and arrays"),
    ] {
        if let Some(written_at) = constraints.written_at(key).filter(|_| !applies) {
            reporter
                .error(
                    &written_at,
                    Target::Key,
                    format!("`{key}` applies to {what}, but this parameter is of type {type_name}"),
                )
                .emit();
        }
    }
}

/// Lower bounds are not above upper ones.
fn check_bounds(constraints: &Constraints, reporter: &mut Reporter<'_>) {
    if let (Some((min, _)), Some((max, max_at))) = (&constraints.minimum, &constraints.maximum)
        && min > max
    {
        reporter
            .error(
                max_at,
                Target::Value,
                format!("maximum {max} is below minimum {min}"),
            )
            .emit();
    }
    if let (Some((min, _)), Some((max, max_at))) =
        (&constraints.min_length, &constraints.max_length)
        && min > max
    {
        reporter
            .error(
                max_at,
                Target::Value,
                format!("max_length {max} is below min_length {min}"),
            )
            .emit();
    }
}

/// A `pattern` compiles.
fn check_pattern(constraints: &Constraints, reporter: &mut Reporter<'_>) {
    if let Some((pattern, pattern_at)) = &constraints.pattern
        && let Err(error) = regex::Regex::new(pattern)
    {
        let text = error.to_string();
        let reason = text.lines().last().unwrap_or_default().trim();
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        reporter
            .error(
                pattern_at,
                Target::Value,
                format!("invalid regular expression: {reason}"),
            )
            .emit();
    }
}

/// The constraints of a parameter, from the top-level keys and `validation`, each with the
/// pointer it was written at.
#[derive(Default)]
struct Constraints {
    minimum: Option<(f64, Pointer)>,
    maximum: Option<(f64, Pointer)>,
    pattern: Option<(String, Pointer)>,
    min_length: Option<(u64, Pointer)>,
    max_length: Option<(u64, Pointer)>,
}

impl Constraints {
    fn merge(detail: &ParamDetail, at: &Pointer, reporter: &mut Reporter<'_>) -> Self {
        let nested = detail.validation.clone().unwrap_or_default();
        let v = at.key("validation");
        Self {
            minimum: one(
                detail.minimum,
                nested.min,
                (&at.key("minimum"), &v.key("min")),
                reporter,
            ),
            maximum: one(
                detail.maximum,
                nested.max,
                (&at.key("maximum"), &v.key("max")),
                reporter,
            ),
            pattern: one(
                detail.pattern.clone(),
                nested.pattern,
                (&at.key("pattern"), &v.key("pattern")),
                reporter,
            ),
            min_length: one(
                detail.min_length,
                nested.min_length,
                (&at.key("min_length"), &v.key("min_length")),
                reporter,
            ),
            max_length: one(
                detail.max_length,
                nested.max_length,
                (&at.key("max_length"), &v.key("max_length")),
                reporter,
            ),
        }
    }

    fn written_at(&self, key: &str) -> Option<Pointer> {
        match key {
            "minimum" => self.minimum.as_ref().map(|(_, at)| at.clone()),
            "maximum" => self.maximum.as_ref().map(|(_, at)| at.clone()),
            "pattern" => self.pattern.as_ref().map(|(_, at)| at.clone()),
            "min_length" => self.min_length.as_ref().map(|(_, at)| at.clone()),
            "max_length" => self.max_length.as_ref().map(|(_, at)| at.clone()),
            _ => None,
        }
    }
}

/// A constraint written at the top level, in `validation`, or in both with the same value.
fn one<T: PartialEq + Into<Value> + Clone>(
    top: Option<T>,
    nested: Option<T>,
    (top_at, nested_at): (&Pointer, &Pointer),
    reporter: &mut Reporter<'_>,
) -> Option<(T, Pointer)> {
    let name = |at: &Pointer| at.rsplit('/').next().unwrap_or_default().to_owned();
    match (top, nested) {
        (Some(a), Some(b)) if a != b => {
            let message = format!(
                "`validation.{}` is {} but `{}` is {}",
                name(nested_at),
                describe_value(&b.clone().into()),
                name(top_at),
                describe_value(&a.clone().into())
            );
            reporter
                .error(nested_at, Target::Value, message)
                .related(top_at, Target::Value, "set here too")
                .help("the keys under `validation` mean the same as the top-level ones; keep one")
                .emit();
            Some((a, top_at.clone()))
        }
        (Some(a), _) => Some((a, top_at.clone())),
        (None, Some(b)) => Some((b, nested_at.clone())),
        (None, None) => None,
    }
}
