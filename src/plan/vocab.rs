//! The plan's own small types for what the config language also names (a parameter's type,
//! a step condition), so that emit depends on the plan alone and the language can change its
//! spellings without touching the generator. Each is converted once, here, from its config
//! counterpart, with spellings resolved (`float` is `Number`). Words both share as they are
//! (an HTTP method, a retry class) are bottom vocabulary, `crate::vocab`.

use crate::config;

/// The JSON type of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// Any number (`number` or `float`).
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl ValueKind {
    /// Whether it is a number (`minimum` and `maximum` apply).
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Number)
    }
}

impl From<config::ParamType> for ValueKind {
    fn from(kind: config::ParamType) -> Self {
        match kind {
            config::ParamType::String => Self::String,
            config::ParamType::Integer => Self::Integer,
            config::ParamType::Number | config::ParamType::Float => Self::Number,
            config::ParamType::Boolean => Self::Boolean,
            config::ParamType::Array => Self::Array,
            config::ParamType::Object => Self::Object,
        }
    }
}

/// When a pipeline step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCondition {
    /// The variable tested.
    pub variable: String,
    /// Whether the step runs when the variable is *not* truthy.
    pub negated: bool,
}

impl From<crate::holes::Condition> for StepCondition {
    fn from(condition: crate::holes::Condition) -> Self {
        Self {
            variable: condition.variable,
            negated: condition.negated,
        }
    }
}
