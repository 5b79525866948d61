//! Resolved parameters and the `inputSchema` clients see.

use serde_json::{Map, Value, json};

use super::vocab::ValueKind;
use crate::config::{ParamSpec, ParamType, Params};
use crate::naming::param_field;

/// One parameter, every spelling resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamPlan {
    /// Name on the wire.
    pub name: String,
    /// Rust field name (escaped).
    pub field: String,
    /// JSON type.
    pub kind: ValueKind,
    /// Whether callers must pass it.
    pub required: bool,
    /// Value used when it is left out.
    pub default: Option<Value>,
    /// Shown to the model.
    pub description: Option<String>,
    /// The JSON Schema of the value (type and constraints).
    pub schema: Value,
    /// Whether a value that begins with `-` is refused where it starts a cli tool's argument
    /// (`ParamSpec::guards_options`).
    pub guards_options: bool,
}

/// Resolves declared params, or derives one required string per placeholder when the tool has
/// no `params` key.
pub fn resolve(declared: Option<&Params>, placeholders: &[String]) -> Vec<ParamPlan> {
    match declared {
        Some(params) => params
            .0
            .iter()
            .map(|(name, spec)| ParamPlan {
                name: name.clone(),
                field: param_field(name),
                kind: spec.kind().into(),
                required: spec.is_required(),
                default: match spec {
                    ParamSpec::Long(detail) => detail.default.clone(),
                    ParamSpec::Short(_) => None,
                },
                description: match spec {
                    ParamSpec::Long(detail) => detail.description.clone(),
                    ParamSpec::Short(_) => None,
                },
                schema: value_schema(spec),
                guards_options: spec.guards_options(),
            })
            .collect(),
        None => placeholders
            .iter()
            .map(|name| ParamPlan {
                name: name.clone(),
                field: param_field(name),
                kind: ValueKind::String,
                required: true,
                default: None,
                description: None,
                schema: json!({"type": "string"}),
                guards_options: true,
            })
            .collect(),
    }
}

/// The JSON Schema of one parameter's value.
pub fn value_schema(spec: &ParamSpec) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), spec.kind().json_type().into());
    let ParamSpec::Long(detail) = spec else {
        return Value::Object(schema);
    };
    let nested = detail.validation.clone().unwrap_or_default();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            schema.insert(key.into(), value);
        }
    };
    put("description", detail.description.clone().map(Value::from));
    put("default", detail.default.clone());
    put("enum", detail.allowed.clone().map(Value::from));
    put("minimum", detail.minimum.or(nested.min).map(number));
    put("maximum", detail.maximum.or(nested.max).map(number));
    put(
        "pattern",
        detail.pattern.clone().or(nested.pattern).map(Value::from),
    );
    let (min_key, max_key) = if detail.kind == ParamType::Array {
        ("minItems", "maxItems")
    } else {
        ("minLength", "maxLength")
    };
    put(
        min_key,
        detail.min_length.or(nested.min_length).map(Value::from),
    );
    put(
        max_key,
        detail.max_length.or(nested.max_length).map(Value::from),
    );
    put("items", detail.items.as_deref().map(value_schema));
    Value::Object(schema)
}

/// Whole numbers print without a fraction (`minimum: 1`, not `1.0`).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// The `inputSchema` of a tool.
pub fn input_schema(params: &[ParamPlan]) -> Value {
    let properties: Map<String, Value> = params
        .iter()
        .map(|p| (p.name.clone(), p.schema.clone()))
        .collect();
    let required: Vec<&str> = params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.as_str())
        .collect();
    let mut schema =
        json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}
