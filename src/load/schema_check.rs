//! JSON Schema validation of the document, with every error reworded and located.
//!
//! `oneOf`/`anyOf` failures are the hard part of schema diagnostics: the validator only says
//! "not valid under any branch". We pick the branch the user evidently meant (by the `type`
//! tag of tagged unions, else by the JSON type of the value) and report that branch's errors.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::suggest;
use super::yaml::Node;
use crate::config::{DURATION_PATTERN, HumanDuration};
use crate::diagnostics::Diagnostic;

/// The compiled schema, built once per process.
pub fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft7::options()
            .should_validate_formats(false)
            .build(schema())
            .unwrap_or_else(|error| panic!("the generated schema does not compile: {error}"))
    })
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(crate::schema::forge_schema)
}

/// Validates `document` (the JSON form of `tree`) and returns one diagnostic per problem.
pub fn check(document: &Value, tree: &Node) -> Vec<Diagnostic> {
    let cx = Cx {
        tree,
        schema: schema(),
    };
    let mut out = Vec::new();
    for error in validator().iter_errors(document) {
        cx.report(&error, &mut out);
    }
    out
}

struct Cx<'a> {
    tree: &'a Node,
    schema: &'a Value,
}

impl Cx<'_> {
    fn report(&self, error: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
        let pointer = error.instance_path().as_str();
        let instance = error.instance().as_ref();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                self.unknown_keys(error, unexpected, out);
            }
            ValidationErrorKind::Required { property } => {
                out.push(self.missing_key(error, property));
            }
            ValidationErrorKind::Type { kind } => out.push(self.wrong_type(error, kind)),
            ValidationErrorKind::Enum { options } => {
                let options: Vec<&str> = options
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                out.push(self.bad_choice(pointer, instance, &options));
            }
            ValidationErrorKind::Constant { expected_value } => {
                out.push(self.not_the_constant(pointer, instance, expected_value));
            }
            ValidationErrorKind::Pattern { pattern } => {
                out.push(self.pattern_error(pointer, instance, pattern))
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit }
            | ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                out.push(self.out_of_range(error, limit));
            }
            ValidationErrorKind::MinItems { .. } | ValidationErrorKind::UniqueItems => {
                out.push(self.bad_list(error));
            }
            ValidationErrorKind::PropertyNames { error: inner } => {
                out.push(self.bad_key_name(pointer, inner));
            }
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                self.report_alternatives(error, context, out);
            }
            _ => out.push(Diagnostic::error(
                error.to_string(),
                self.value_span(pointer),
                pointer,
            )),
        }
    }
    /// A value other than the one constant its place allows.
    fn not_the_constant(&self, pointer: &str, instance: &Value, expected: &Value) -> Diagnostic {
        if let (Some(expected), true) = (expected.as_str(), instance.is_string()) {
            return self.bad_choice(pointer, instance, &[expected]);
        }
        Diagnostic::error(
            format!("expected {expected}, found {}", describe_value(instance)),
            self.value_span(pointer),
            pointer,
        )
    }

    /// A list too short, or holding an entry twice.
    fn bad_list(&self, error: &ValidationError<'_>) -> Diagnostic {
        let pointer = error.instance_path().as_str();
        let message = match error.kind() {
            ValidationErrorKind::MinItems { limit } => format!(
                "this list needs at least {limit} {}",
                plural(*limit, "entry", "entries")
            ),
            _ => "this list holds the same entry twice".to_owned(),
        };
        Diagnostic::error(message, self.value_span(pointer), pointer)
    }

    /// Keys the schema does not know, each with the closest known key or a hint.
    fn unknown_keys(
        &self,
        error: &ValidationError<'_>,
        unexpected: &[String],
        out: &mut Vec<Diagnostic>,
    ) {
        let pointer = error.instance_path().as_str();
        let allowed = self.allowed_keys(error.schema_path().as_str());
        for key in unexpected {
            let key_pointer = format!("{pointer}/{}", escape(key));
            let (span, _) = self.key_span(&key_pointer);
            let help = legacy_key_hint(pointer, key)
                .or_else(|| self.other_tool_kinds(pointer, key, &allowed))
                .or_else(|| suggest::hint(key, &allowed, "key"));
            out.push(
                Diagnostic::error(format!("unknown key `{key}`"), span, key_pointer)
                    .with_optional_help(help),
            );
        }
    }

    /// A required key left out, with the first sentence of its description.
    fn missing_key(&self, error: &ValidationError<'_>, property: &Value) -> Diagnostic {
        let pointer = error.instance_path().as_str();
        let name = property.as_str().unwrap_or_default();
        let description = self
            .schema_at(error.schema_path().as_str(), 1)
            .and_then(|s| s.pointer(&format!("/properties/{}/description", escape(name))))
            .and_then(Value::as_str)
            .map(first_sentence);
        let help = match description {
            Some(text) => format!("add `{name}`: {text}"),
            None => format!("add `{name}`"),
        };
        Diagnostic::error(
            format!("missing required key `{name}`"),
            self.value_span(pointer),
            pointer,
        )
        .with_help(help)
    }

    /// A value of the wrong JSON type; a bare number where a duration belongs asks for a unit.
    fn wrong_type(&self, error: &ValidationError<'_>, kind: &TypeKind) -> Diagnostic {
        let pointer = error.instance_path().as_str();
        let instance = error.instance().as_ref();
        let expected = match kind {
            TypeKind::Single(t) => describe_json_type(&t.to_string()),
            TypeKind::Multiple(set) => set
                .iter()
                .map(|t| describe_json_type(&t.to_string()))
                .collect::<Vec<_>>()
                .join(" or "),
        };
        let is_duration = self
            .schema_at(error.schema_path().as_str(), 1)
            .and_then(|s| s.get("pattern"))
            .is_some_and(|p| p == DURATION_PATTERN);
        if !(is_duration && instance.is_number()) {
            return self.type_error(pointer, &expected, instance);
        }
        Diagnostic::error(
            format!("{} is not a duration", describe_value(instance)),
            self.value_span(pointer),
            pointer,
        )
        .with_help(format!("add a unit: `{instance}s` or `{instance}ms`"))
    }

    /// A number below a minimum or above a maximum.
    fn out_of_range(&self, error: &ValidationError<'_>, limit: &Value) -> Diagnostic {
        let pointer = error.instance_path().as_str();
        let instance = error.instance().as_ref();
        let (size, bound) = match error.kind() {
            ValidationErrorKind::Minimum { .. } => ("small", "at least"),
            ValidationErrorKind::ExclusiveMinimum { .. } => ("small", "more than"),
            ValidationErrorKind::Maximum { .. } => ("large", "at most"),
            _ => ("large", "less than"),
        };
        Diagnostic::error(
            format!(
                "{} is too {size}: it must be {bound} {limit}",
                describe_value(instance)
            ),
            self.value_span(pointer),
            pointer,
        )
    }

    /// A `params` key that is not a parameter name.
    fn bad_key_name(&self, pointer: &str, inner: &ValidationError<'_>) -> Diagnostic {
        let key = inner.instance().as_str().unwrap_or_default().to_owned();
        let key_pointer = format!("{pointer}/{}", escape(&key));
        let (span, _) = self.key_span(&key_pointer);
        Diagnostic::error(
            format!("`{key}` is not a valid parameter name"),
            span,
            key_pointer,
        )
        .with_help(
            "parameter names start with a letter or `_` and hold only letters, digits and `_`",
        )
    }

    /// Reports the errors of the branch the user meant.
    fn report_alternatives(
        &self,
        error: &ValidationError<'_>,
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let pointer = error.instance_path().as_str();
        let instance = error.instance().as_ref();
        let branches: Vec<&Value> = self
            .schema_at(error.schema_path().as_str(), 0)
            .and_then(Value::as_array)
            .map(|b| b.iter().map(|s| self.deref(s)).collect())
            .unwrap_or_default();
        if let Some(tags) = tags_of(&branches) {
            self.report_tagged((pointer, instance), &tags, context, out);
            return;
        }
        let choices: Option<Vec<&str>> = branches
            .iter()
            .map(|b| constants_of(b))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
        if let Some(choices) = choices.filter(|_| !branches.is_empty() && instance.is_string()) {
            out.push(self.bad_choice(pointer, instance, &choices));
            return;
        }
        self.report_closest((pointer, instance), &branches, context, out);
    }

    /// A tagged union: the errors of the branch its `type` names, or what is wrong with the
    /// tag. `tags` holds each branch's tags, in the order of `context`.
    fn report_tagged(
        &self,
        (pointer, instance): (&str, &Value),
        tags: &[Vec<&str>],
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let all_tags: Vec<&str> = tags.iter().flatten().copied().collect();
        match instance.get("type") {
            _ if !instance.is_object() => out.push(self.type_error(pointer, "a mapping", instance)),
            None => out.push(
                Diagnostic::error(
                    "missing required key `type`",
                    self.value_span(pointer),
                    pointer,
                )
                .with_help(format!(
                    "add `type:` with one of {}",
                    quoted_list(&all_tags)
                )),
            ),
            Some(tag) => {
                let chosen = tag
                    .as_str()
                    .and_then(|t| tags.iter().position(|ts| ts.contains(&t)));
                match chosen.and_then(|i| context.get(i)) {
                    Some(errors) => errors.iter().for_each(|e| self.report(e, out)),
                    None => out.push(self.bad_choice(&format!("{pointer}/type"), tag, &all_tags)),
                }
            }
        }
    }

    /// An untagged union: the errors of the branch with the fewest, among those whose type
    /// fits the value, or the types the branches expect when none fits.
    fn report_closest(
        &self,
        (pointer, instance): (&str, &Value),
        branches: &[&Value],
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let viable: Vec<usize> = (0..context.len())
            .filter(|&i| !mismatched_at(&context[i], pointer))
            .collect();
        match viable.as_slice() {
            [] => {
                let expected: Vec<String> =
                    branches.iter().map(|b| self.describe_schema(b)).collect();
                let mut expected: Vec<String> =
                    expected.into_iter().filter(|e| !e.is_empty()).collect();
                expected.dedup();
                out.push(self.type_error(pointer, &expected.join(" or "), instance));
            }
            candidates => {
                let best = candidates
                    .iter()
                    .copied()
                    .min_by_key(|&i| context[i].len())
                    .unwrap_or(0);
                context[best].iter().for_each(|e| self.report(e, out));
            }
        }
    }

    fn type_error(&self, pointer: &str, expected: &str, instance: &Value) -> Diagnostic {
        let help = match instance {
            Value::Null => Some("write a value after the colon, or remove the key".to_owned()),
            Value::String(s) if expected.contains("integer") || expected.contains("number") => s
                .trim()
                .parse::<f64>()
                .is_ok()
                .then(|| "remove the quotes around the number".to_owned()),
            Value::Number(_) | Value::Bool(_) if expected.starts_with("a string") => {
                Some(format!("put it in quotes to make it text: \"{instance}\""))
            }
            _ => None,
        };
        Diagnostic::error(
            format!("expected {expected}, found {}", describe_value(instance)),
            self.value_span(pointer),
            pointer,
        )
        .with_optional_help(help)
    }

    fn bad_choice(&self, pointer: &str, instance: &Value, options: &[&str]) -> Diagnostic {
        let shown = describe_value(instance);
        // An item of a list (`retry_on/1`) is named after the list's key, not its index.
        let last = pointer.rsplit('/').next().unwrap_or_default();
        let in_list = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
        let field = if in_list {
            pointer.rsplit('/').nth(1).unwrap_or_default()
        } else {
            last
        };
        let help = instance
            .as_str()
            .and_then(|value| legacy_value_hint(field, value))
            .or_else(|| {
                instance
                    .as_str()
                    .and_then(|v| suggest::hint(v, options, "value"))
            })
            .or_else(|| Some(format!("expected one of {}", quoted_list(options))));
        // Under `params:` and `arguments:` the last segment is the user's name, not a key of ours.
        let user_named = pointer
            .rsplit('/')
            .nth(1)
            .is_some_and(|parent| matches!(parent, "params" | "arguments"));
        let message = if user_named {
            format!("{shown} is not an allowed value")
        } else if in_list {
            format!("{shown} is not a valid `{field}` entry")
        } else {
            format!("{shown} is not a valid `{field}`")
        };
        Diagnostic::error(message, self.value_span(pointer), pointer).with_optional_help(help)
    }

    fn pattern_error(&self, pointer: &str, instance: &Value, pattern: &str) -> Diagnostic {
        use crate::config::{
            CRATE_NAME_PATTERN, METHOD_PATTERN, SEMVER_PATTERN, TOOL_NAME_PATTERN,
        };
        let text = instance.as_str().unwrap_or_default();
        let shown = describe_value(instance);
        let (message, help) = if pattern == DURATION_PATTERN {
            let why = match HumanDuration::parse(text) {
                Err(crate::config::DurationError::MissingUnit(n)) => {
                    format!("add a unit: `{n}s` or `{n}ms`")
                }
                Err(other) => format!(
                    "{other}; write an integer and a unit (ms, s, m, h), e.g. `100ms`, `60s`, `1m 30s`"
                ),
                Ok(_) => "write an integer and a unit (ms, s, m, h), e.g. `100ms`, `60s`, `1m 30s`"
                    .to_owned(),
            };
            (format!("{shown} is not a duration"), why)
        } else if pattern == TOOL_NAME_PATTERN {
            (
                format!("{shown} is not a valid tool name"),
                "a tool name starts with a letter and holds only letters, digits, `_`, `-` and `.` (64 characters at most)".to_owned(),
            )
        } else if pattern == CRATE_NAME_PATTERN {
            (
                format!("{shown} is not a valid crate name"),
                "a crate name starts with a letter and holds only letters, digits, `-` and `_` (64 characters at most)".to_owned(),
            )
        } else if pattern == SEMVER_PATTERN {
            (
                format!("{shown} is not a semantic version"),
                "write MAJOR.MINOR.PATCH, e.g. `1.0.0`".to_owned(),
            )
        } else if pattern == METHOD_PATTERN {
            let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
            let help = suggest::closest(text, methods)
                .map(|m| format!("did you mean `{m}`?"))
                .unwrap_or_else(|| {
                    "use GET, POST, PUT, PATCH or DELETE (any letter case)".to_owned()
                });
            (format!("{shown} is not an HTTP method"), help)
        } else {
            (
                format!("{shown} does not match the pattern `{pattern}`"),
                String::new(),
            )
        };
        let diagnostic = Diagnostic::error(message, self.value_span(pointer), pointer);
        if help.is_empty() {
            diagnostic
        } else {
            diagnostic.with_help(help)
        }
    }

    /// Schema node at a keyword location, `up` segments above it; `$ref`s on the way are
    /// followed.
    fn schema_at(&self, path: &str, up: usize) -> Option<&Value> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let keep = segments.len().checked_sub(up)?;
        let mut node = self.schema;
        for segment in &segments[..keep] {
            if *segment == "$ref" {
                node = self.deref(node);
                continue;
            }
            let segment = segment.replace("~1", "/").replace("~0", "~");
            node = match node {
                Value::Object(map) => map.get(&segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(self.deref(node))
    }

    /// Follows `$ref` and single-branch `allOf` wrappers.
    fn deref<'s>(&'s self, mut node: &'s Value) -> &'s Value {
        for _ in 0..16 {
            if let Some(target) = node.get("$ref").and_then(Value::as_str) {
                match target
                    .strip_prefix('#')
                    .and_then(|p| self.schema.pointer(p))
                {
                    Some(next) => node = next,
                    None => break,
                }
            } else if let Some([only]) = node
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                node = only;
            } else {
                break;
            }
        }
        node
    }

    /// For a key that belongs to other kinds of tool: which ones.
    fn other_tool_kinds(&self, pointer: &str, key: &str, allowed: &[&str]) -> Option<String> {
        let is_tool = pointer
            .strip_prefix("/tools/")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
        if !is_tool || suggest::closest(key, allowed.iter().copied()).is_some() {
            return None;
        }
        let branches = self.schema.pointer("/definitions/Tool/oneOf")?.as_array()?;
        let kinds: Vec<&str> = branches
            .iter()
            .filter(|b| b.pointer(&format!("/properties/{}", escape(key))).is_some())
            .filter_map(|b| b.pointer("/properties/type/const").and_then(Value::as_str))
            .collect();
        let this = match &self.tree.lookup(&format!("{pointer}/type")).1.kind {
            super::yaml::NodeKind::Str(kind) if pointer_ends_with_type(self.tree, pointer) => {
                format!("this is a {kind} tool")
            }
            _ => "this tool has another `type`".to_owned(),
        };
        match kinds.as_slice() {
            [] => None,
            _ => Some(format!(
                "`{key}` belongs to {} tools, but {this}",
                kinds.join(" and ")
            )),
        }
    }

    fn allowed_keys(&self, additional_properties_path: &str) -> Vec<&str> {
        self.schema_at(additional_properties_path, 1)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|props| props.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn describe_schema(&self, schema: &Value) -> String {
        let schema = self.deref(schema);
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            return describe_json_type(t);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let mut parts: Vec<String> =
                    branches.iter().map(|b| self.describe_schema(b)).collect();
                parts.dedup();
                return parts.join(" or ");
            }
        }
        String::new()
    }

    fn value_span(&self, pointer: &str) -> std::ops::Range<usize> {
        let (key, node) = self.tree.lookup(pointer);
        node.value_span(key)
    }

    fn key_span(&self, pointer: &str) -> (std::ops::Range<usize>, bool) {
        match self.tree.lookup(pointer) {
            (Some(key), _) if pointer.ends_with(&format!("/{}", escape(&key.name))) => {
                (key.span.clone(), true)
            }
            (key, node) => (node.value_span(key), false),
        }
    }
}

/// Whether the tool at `pointer` has a `type` key (lookup stops at the deepest node found).
fn pointer_ends_with_type(tree: &Node, pointer: &str) -> bool {
    matches!(tree.lookup(&format!("{pointer}/type")).0, Some(key) if key.name == "type")
}

/// For a tagged union, the `type` values each branch accepts.
fn tags_of<'a>(branches: &[&'a Value]) -> Option<Vec<Vec<&'a str>>> {
    if branches.len() < 2 {
        return None;
    }
    branches
        .iter()
        .map(|branch| {
            let tag = branch.pointer("/properties/type")?;
            if let Some(c) = tag.get("const").and_then(Value::as_str) {
                return Some(vec![c]);
            }
            tag.get("enum")
                .and_then(Value::as_array)
                .map(|e| e.iter().filter_map(Value::as_str).collect())
        })
        .collect()
}

/// The values a `const`/`enum` branch allows (schemars spells documented enums that way).
fn constants_of(branch: &Value) -> Option<Vec<&str>> {
    if let Some(c) = branch.get("const").and_then(Value::as_str) {
        return Some(vec![c]);
    }
    branch
        .get("enum")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(Value::as_str).collect())
}

/// Whether a branch failed because the value has the wrong JSON type altogether.
fn mismatched_at(errors: &[ValidationError<'_>], pointer: &str) -> bool {
    errors.iter().any(|e| {
        e.instance_path().as_str() == pointer
            && match e.kind() {
                ValidationErrorKind::Type { .. } => true,
                ValidationErrorKind::OneOfNotValid { context }
                | ValidationErrorKind::AnyOf { context } => {
                    context.iter().all(|branch| mismatched_at(branch, pointer))
                }
                _ => false,
            }
    })
}

fn legacy_key_hint(pointer: &str, key: &str) -> Option<String> {
    match (pointer, key) {
        ("/state", "path" | "options") => Some(
            "only the `memory` backend exists, and it takes `ttl_seconds` and `max_size`".into(),
        ),
        (
            "/forge",
            "tools" | "resources" | "prompts" | "fault_tolerance" | "middleware" | "state",
        ) => Some(format!(
            "`{key}` belongs at the top level, not under `forge`: remove its indentation"
        )),
        ("", "name" | "version" | "transport" | "description") => {
            Some(format!("`{key}` belongs under `forge:`"))
        }
        _ if key == "supports" => {
            Some("resources support `resources/read`; remove this key".into())
        }
        _ => None,
    }
}

fn legacy_value_hint(field: &str, value: &str) -> Option<String> {
    match (field, value) {
        ("transport", "sse" | "websocket" | "ws") => Some(
            "SSE and WebSocket transports were replaced by MCP streamable HTTP: write `transport: http` (and `bind: 127.0.0.1:8080` to choose the address)".into(),
        ),
        ("backend", other) if other != "memory" => Some(format!(
            "the `{other}` backend is not supported; pforge generates an in-memory store: write `backend: memory`"
        )),
        _ => None,
    }
}

fn describe_json_type(t: &str) -> String {
    match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        other => other,
    }
    .to_owned()
}

/// A short, quoted rendering of a value for messages.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                format!("`{short}…`")
            } else {
                format!("`{s}`")
            }
        }
        other => format!("`{other}`"),
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_sentence(text: &str) -> String {
    let flat = text.replace('\n', " ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_owned(),
        None => flat,
    }
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Escapes a key for use in a JSON pointer.
pub fn escape(key: &str) -> String {
    super::pointer::escape(key)
}
