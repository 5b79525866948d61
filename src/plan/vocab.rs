//! The plan's own small types for what the config language also names (a parameter's type,
//! an HTTP method, an error class, a step condition), so that emit depends on the plan alone
//! and the language can change its spellings without touching the generator. Each is
//! converted once, here, from its config counterpart, with spellings resolved (`float` is
//! `Number`).

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

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl HttpMethod {
    /// The method as sent (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

impl HttpMethod {
    /// Whether repeating the request is safe: GET, PUT, DELETE (HTTP 500 is retried then).
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Put | Self::Delete)
    }
}

impl From<config::HttpMethod> for HttpMethod {
    fn from(method: config::HttpMethod) -> Self {
        match method {
            config::HttpMethod::Get => Self::Get,
            config::HttpMethod::Post => Self::Post,
            config::HttpMethod::Put => Self::Put,
            config::HttpMethod::Patch => Self::Patch,
            config::HttpMethod::Delete => Self::Delete,
        }
    }
}

/// An error class a `retry_on` list names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// Timeouts.
    Timeout,
    /// Connection errors.
    Connection,
    /// HTTP 429.
    RateLimit,
    /// HTTP 503.
    ServiceUnavailable,
    /// Any other HTTP 5xx.
    ServerError,
    /// Handler errors and non-zero exits.
    HandlerError,
}

impl RetryClass {
    /// Its name in forge.yaml.
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::RateLimit => "rate_limit",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ServerError => "server_error",
            Self::HandlerError => "handler_error",
        }
    }
}

impl From<config::ErrorClass> for RetryClass {
    fn from(class: config::ErrorClass) -> Self {
        match class {
            config::ErrorClass::Timeout => Self::Timeout,
            config::ErrorClass::Connection => Self::Connection,
            config::ErrorClass::RateLimit => Self::RateLimit,
            config::ErrorClass::ServiceUnavailable => Self::ServiceUnavailable,
            config::ErrorClass::ServerError => Self::ServerError,
            config::ErrorClass::HandlerError => Self::HandlerError,
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
