//! The input struct of a tool and the code that reads and checks its arguments.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::ident;
use crate::plan::ValueKind as ParamType;
use crate::plan::{ParamPlan, ToolPlan};

/// The Rust type of a parameter's value.
fn value_type(param: &ParamPlan) -> TokenStream {
    match param.kind {
        ParamType::String => quote!(String),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::Array => quote!(Vec<::serde_json::Value>),
        ParamType::Object => quote!(::serde_json::Map<String, ::serde_json::Value>),
    }
}

/// Whether the field holds a value even when the caller leaves it out.
fn always_present(param: &ParamPlan) -> bool {
    param.required || param.default.is_some()
}

/// `pub struct <Prefix>Input { ... }` with its `from_arguments`.
pub fn input_struct(tool: &ToolPlan) -> TokenStream {
    let name = format_ident!("{}Input", tool.type_prefix);
    let doc = crate::emit::doc(&(format!("Arguments of the `{}` tool.", tool.name)));
    let fields = tool.params.iter().map(|p| {
        let field = ident(&p.field);
        let ty = value_type(p);
        let ty = if always_present(p) {
            ty
        } else {
            quote!(Option<#ty>)
        };
        let doc = crate::emit::doc(
            &(p.description
                .as_deref()
                .map(crate::emit::user_text)
                .unwrap_or_else(|| format!("The `{}` argument.", p.name))),
        );
        let rename = (crate::naming::unraw(&p.field) != p.name).then(|| {
            let wire = &p.name;
            quote!(#[serde(rename = #wire)])
        });
        quote! {
            #doc
            #rename
            pub #field: #ty,
        }
    });
    // Fields are read straight into the struct and checked through `input`, so that no
    // parameter name can meet a local variable of this function.
    let reads = tool.params.iter().map(|p| {
        let field = ident(&p.field);
        let value = read_param(p);
        quote!(#field: #value,)
    });
    let checks = tool.params.iter().map(check_param);
    let arguments = if tool.params.is_empty() {
        quote!(arguments)
    } else {
        quote!(mut arguments)
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize)]
        pub struct #name {
            #(#fields)*
        }

        impl #name {
            /// Reads and checks the arguments of a `tools/call`, naming the parameter at fault.
            pub fn from_arguments(#arguments: JsonObject) -> Result<Self, ToolError> {
                let input = Self { #(#reads)* };
                #(#checks)*
                runtime::no_extra(&arguments)?;
                Ok(input)
            }
        }
    }
}

/// The expression that reads one parameter (its default filled in, presence required).
fn read_param(param: &ParamPlan) -> TokenStream {
    let wire = &param.name;
    let ty = value_type(param);
    let read = quote!(runtime::take::<#ty>(&mut arguments, #wire)?);
    if param.required {
        quote!(runtime::require(#read, #wire)?)
    } else if let Some(default) = &param.default {
        let json = default.to_string();
        quote! {
            match #read {
                Some(value) => value,
                None => ::serde_json::from_str(#json).map_err(|error| ToolError::InvalidArguments(format!("default of `{}`: {error}", #wire)))?,
            }
        }
    } else {
        read
    }
}

/// The constraint checks of one parameter, on `input`'s field.
fn check_param(param: &ParamPlan) -> TokenStream {
    let field = ident(&param.field);
    let checks = checks(param);
    if checks.is_empty() {
        quote!()
    } else if always_present(param) {
        quote! { { let value = &input.#field; #(#checks)* } }
    } else {
        quote! { if let Some(value) = &input.#field { #(#checks)* } }
    }
}

/// Constraint checks on `value` (a reference to the typed field).
fn checks(param: &ParamPlan) -> Vec<TokenStream> {
    let mut out = range_checks(param);
    out.extend(length_checks(param));
    out.extend(pattern_check(param));
    out.extend(enum_check(param));
    out
}

/// `minimum` and `maximum` of a number.
fn range_checks(param: &ParamPlan) -> Vec<TokenStream> {
    if !param.kind.is_numeric() {
        return Vec::new();
    }
    let (wire, schema) = (&param.name, &param.schema);
    let as_f64 = match param.kind {
        ParamType::Integer => quote!((*value as f64)),
        _ => quote!(*value),
    };
    let mut out = Vec::new();
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let rule = format!("must be at least {}", schema["minimum"]);
        out.push(quote!(runtime::check(#as_f64 >= #min, #wire, #rule)?;));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let rule = format!("must be at most {}", schema["maximum"]);
        out.push(quote!(runtime::check(#as_f64 <= #max, #wire, #rule)?;));
    }
    out
}

/// The bounds of a string's characters or an array's entries.
fn length_checks(param: &ParamPlan) -> Vec<TokenStream> {
    let (len, min_key, max_key, unit) = match param.kind {
        ParamType::String => (
            quote!(value.chars().count()),
            "minLength",
            "maxLength",
            "characters",
        ),
        ParamType::Array => (quote!(value.len()), "minItems", "maxItems", "entries"),
        _ => return Vec::new(),
    };
    let (wire, schema) = (&param.name, &param.schema);
    let count = |key: &str| schema.get(key).and_then(Value::as_u64);
    let mut out = Vec::new();
    // A minimum of 0 holds for every length; `len >= 0` would not compile warning-free.
    if let Some(min) = count(min_key).filter(|min| *min > 0) {
        let min = min as usize;
        let rule = format!("must have at least {min} {unit}");
        out.push(quote!(runtime::check(#len >= #min, #wire, #rule)?;));
    }
    if let Some(max) = count(max_key) {
        let max = max as usize;
        let rule = format!("must have at most {max} {unit}");
        out.push(quote!(runtime::check(#len <= #max, #wire, #rule)?;));
    }
    out
}

/// A string's `pattern`, compiled once.
fn pattern_check(param: &ParamPlan) -> Option<TokenStream> {
    let pattern = param.schema.get("pattern").and_then(Value::as_str)?;
    let wire = &param.name;
    let rule = format!("must match the pattern `{pattern}`");
    Some(quote! {
        static PATTERN: ::std::sync::LazyLock<Option<::regex::Regex>> = ::std::sync::LazyLock::new(|| ::regex::Regex::new(#pattern).ok());
        runtime::check(PATTERN.as_ref().is_some_and(|re| re.is_match(value)), #wire, #rule)?;
    })
}

/// The values an `enum` allows.
fn enum_check(param: &ParamPlan) -> Option<TokenStream> {
    let allowed = param.schema.get("enum").and_then(Value::as_array)?;
    let wire = &param.name;
    let json = Value::Array(allowed.clone()).to_string();
    let shown: Vec<String> = allowed.iter().map(Value::to_string).collect();
    let rule = format!("must be one of {}", shown.join(", "));
    Some(quote! {
        let allowed: Vec<::serde_json::Value> = ::serde_json::from_str(#json).unwrap_or_default();
        let given = ::serde_json::to_value(value).unwrap_or_default();
        runtime::check(allowed.contains(&given), #wire, #rule)?;
    })
}

/// Whether any parameter of the plan has a `pattern` (the crate then needs `regex`).
pub fn uses_patterns(tools: &[ToolPlan]) -> bool {
    tools
        .iter()
        .flat_map(|t| &t.params)
        .any(|p| p.schema.get("pattern").is_some())
}
