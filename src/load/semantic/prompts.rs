//! Checks of prompts: unique names and arguments, template placeholders declared and used.

use std::collections::HashMap;

use crate::config::{Prompt, PromptArguments};
use crate::holes::{self, Placeholder, is_identifier};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;
use crate::load::suggest;

/// Checks prompts: unique names and arguments, template placeholders declared.
pub fn check(sections: &Sections, reporter: &mut Reporter<'_>) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (index, prompt) in &sections.prompts {
        let at = Pointer::prompt(index);
        if let Some(first) = names.get(prompt.name.as_str()) {
            reporter
                .error(
                    &at.key("name"),
                    Target::Value,
                    format!("a second prompt is named `{}`", prompt.name),
                )
                .related(
                    &Pointer::prompt(first).key("name"),
                    Target::Value,
                    "first defined here",
                )
                .emit();
        } else {
            names.insert(&prompt.name, *index);
        }
        let declared = declared_arguments(prompt, &at, reporter);
        check_argument_names(&declared, reporter);
        check_template(prompt, &declared, &at, reporter);
    }
}

/// The arguments the prompt declares, with their pointers; a name declared twice is an error.
fn declared_arguments(
    prompt: &Prompt,
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) -> Vec<(String, Pointer)> {
    let mut declared: Vec<(String, Pointer)> = Vec::new();
    match &prompt.arguments {
        Some(PromptArguments::List(list)) => {
            for (i, argument) in list.iter().enumerate() {
                let arg_at = at.key("arguments").index(i).key("name");
                if let Some((_, first)) = declared.iter().find(|(n, _)| *n == argument.name) {
                    reporter
                        .error(
                            &arg_at,
                            Target::Value,
                            format!("a second argument is named `{}`", argument.name),
                        )
                        .related(first, Target::Value, "first defined here")
                        .emit();
                }
                declared.push((argument.name.clone(), arg_at));
            }
        }
        Some(PromptArguments::Map(map)) => {
            declared.extend(map.keys().map(|k| (k.clone(), at.key("arguments").key(k))));
        }
        None => {}
    }
    declared
}

/// Argument names are identifiers.
fn check_argument_names(declared: &[(String, Pointer)], reporter: &mut Reporter<'_>) {
    for (name, arg_at) in declared {
        if !is_identifier(name) {
            reporter
                .error(arg_at, Target::Key, format!("`{name}` is not a valid argument name"))
                .help("argument names start with a letter or `_` and hold only letters, digits and `_`")
                .emit();
        }
    }
}

/// The template's placeholders are well formed and, when the prompt declares its arguments,
/// each one of them; each declared argument is used.
fn check_template(
    prompt: &Prompt,
    declared: &[(String, Pointer)],
    at: &Pointer,
    reporter: &mut Reporter<'_>,
) {
    let Some(text) = &prompt.template else {
        return;
    };
    let template_at = at.key("template");
    let placeholders = match holes::placeholders(text) {
        Ok(found) => found,
        Err(error) => {
            reporter
                .error(
                    &template_at,
                    Target::Text(&text[error.range.clone()]),
                    error.message,
                )
                .emit();
            return;
        }
    };
    if prompt.arguments.is_none() {
        return;
    }
    let written = (text.as_str(), &template_at);
    check_placeholders_declared(prompt, written, &placeholders, declared, reporter);
    for (name, arg_at) in declared {
        if !placeholders.iter().any(|p| p.name == *name) {
            reporter
                .warning(
                    arg_at,
                    Target::Value,
                    format!("argument `{name}` is not used in the template"),
                )
                .help(format!(
                    "write `{{{{{name}}}}}` where the argument belongs, or remove it"
                ))
                .emit();
        }
    }
}

/// Each placeholder of the template `text`, written at `template_at`, is a declared argument.
fn check_placeholders_declared(
    prompt: &Prompt,
    (text, template_at): (&str, &Pointer),
    placeholders: &[Placeholder],
    declared: &[(String, Pointer)],
    reporter: &mut Reporter<'_>,
) {
    let known: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
    for placeholder in placeholders {
        if known.contains(&placeholder.name.as_str()) {
            continue;
        }
        let written = &text[placeholder.range.clone()];
        let help = suggest::closest(&placeholder.name, known.iter().copied())
            .map(|k| format!("did you mean `{{{{{k}}}}}`?"))
            .unwrap_or_else(|| format!("add `{}` to the prompt's `arguments`", placeholder.name));
        reporter
            .error(
                template_at,
                Target::Text(written),
                format!("`{written}` is not an argument of prompt `{}`", prompt.name),
            )
            .help(help)
            .emit();
    }
}
