//! Tool parameters: the short form `name: string` and the long form with constraints.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;

/// Pattern of a parameter name: it becomes a Rust field and a `{{placeholder}}`.
pub const PARAM_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]{0,63}$";

/// A tool's parameters, in the order written.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(transparent)]
pub struct Params(pub IndexMap<String, ParamSpec>);

impl JsonSchema for Params {
    fn schema_name() -> Cow<'static, str> {
        "Params".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let spec = generator.subschema_for::<ParamSpec>();
        json_schema!({
            "type": "object",
            "description": "Parameters by name: `name: string` (required) or a mapping with `type` and constraints.",
            "propertyNames": { "pattern": PARAM_NAME_PATTERN },
            "additionalProperties": spec
        })
    }
}

/// One parameter, in either spelling.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamSpec {
    /// `name: string`: a required parameter of that type.
    Short(ParamType),
    /// `name: {type: integer, required: true, minimum: 0}`.
    Long(Box<ParamDetail>),
}

/// JSON type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A JSON string.
    String,
    /// A whole number.
    Integer,
    /// Any JSON number.
    Number,
    /// Same as `number` (pforge's spelling).
    Float,
    /// `true` or `false`.
    Boolean,
    /// A JSON array; `items` describes its elements.
    Array,
    /// A JSON object.
    Object,
}

impl ParamType {
    /// The JSON Schema type name (`float` becomes `number`).
    pub fn json_type(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number | Self::Float => "number",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
        }
    }

    /// Whether a JSON value has this type.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Number | Self::Float => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Array => value.is_array(),
            Self::Object => value.is_object(),
        }
    }

    /// Whether `minimum`/`maximum` apply.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Number | Self::Float)
    }
}

/// The long form of a parameter.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDetail {
    /// JSON type of the value.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Whether callers must supply it. Default: `false` in this long form.
    #[schemars(extend("default" = crate::defaults::REQUIRED))]
    pub required: Option<bool>,
    /// Value used when the caller leaves the parameter out.
    pub default: Option<Value>,
    /// What the parameter means; shown to the model.
    pub description: Option<String>,
    /// The only values allowed.
    #[serde(rename = "enum")]
    pub allowed: Option<Vec<Value>>,
    /// Smallest allowed number.
    pub minimum: Option<f64>,
    /// Largest allowed number.
    pub maximum: Option<f64>,
    /// Regular expression a string must match.
    pub pattern: Option<String>,
    /// Fewest characters in a string (or elements in an array).
    pub min_length: Option<u64>,
    /// Most characters in a string (or elements in an array).
    pub max_length: Option<u64>,
    /// Type of the elements of an array.
    pub items: Option<Box<ParamSpec>>,
    /// pforge's nested spelling of the constraints above.
    pub validation: Option<Validation>,
    /// Let a value that begins with `-` start a cli tool's argument. pforge refuses such a
    /// value by default, because the program would read it as an option: a caller could
    /// pass `--output=/some/file` to `git log`. Set it only when the program must take
    /// options from callers, and give the parameter an `enum` or a `pattern`. Default:
    /// `false`.
    #[schemars(extend("default" = crate::defaults::ALLOW_OPTIONS))]
    pub allow_options: Option<bool>,
}

/// pforge's nested constraints; each key means the same as its top-level twin.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// Same as `minimum`.
    pub min: Option<f64>,
    /// Same as `maximum`.
    pub max: Option<f64>,
    /// Same as `pattern`.
    pub pattern: Option<String>,
    /// Same as `min_length`.
    pub min_length: Option<u64>,
    /// Same as `max_length`.
    pub max_length: Option<u64>,
}

impl ParamSpec {
    /// The parameter's type.
    pub fn kind(&self) -> ParamType {
        match self {
            Self::Short(kind) => *kind,
            Self::Long(detail) => detail.kind,
        }
    }

    /// Whether a value may begin with `-` where it starts a cli tool's argument.
    pub fn allows_options(&self) -> bool {
        matches!(self, Self::Long(detail) if detail.allow_options.unwrap_or(crate::defaults::ALLOW_OPTIONS))
    }

    /// Whether pforge refuses a caller's value that begins with `-` where it starts a cli
    /// argument: the value can begin with one (any string; a number that may be negative, and
    /// a `number` may be `-0.0` unless its minimum is above 0), and neither `allow_options`
    /// nor an `enum` (every value the user's own) says options are meant.
    pub fn guards_options(&self) -> bool {
        let (minimum, listed) = match self {
            Self::Short(_) => (None, false),
            Self::Long(detail) => (
                detail
                    .minimum
                    .or(detail.validation.as_ref().and_then(|v| v.min)),
                detail.allowed.is_some(),
            ),
        };
        let may_dash = match self.kind() {
            ParamType::String => true,
            ParamType::Integer => !minimum.is_some_and(|m| m >= 0.0),
            ParamType::Number | ParamType::Float => !minimum.is_some_and(|m| m > 0.0),
            _ => false,
        };
        may_dash && !self.allows_options() && !listed
    }

    /// Short form is required; long form only when it says so.
    pub fn is_required(&self) -> bool {
        match self {
            Self::Short(_) => true,
            Self::Long(detail) => detail.required.unwrap_or(crate::defaults::REQUIRED),
        }
    }
}
