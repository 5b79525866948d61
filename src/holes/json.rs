//! A JSON value whose strings may hold `{{var}}` placeholders (a pipeline step's argument),
//! split once: what holds no placeholder stays JSON text, the rest is split into templates.

use serde_json::Value;

use super::Template;

/// What a JSON value becomes when its placeholders are filled.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// JSON without a placeholder, as written (serialized).
    Json(String),
    /// A string that is one `{{var}}`: the variable's value with its type (an empty string
    /// when it is not set).
    Variable(String),
    /// A string with placeholders among text: the variables' text filled in.
    Text(Template),
    /// An array holding a placeholder somewhere.
    Array(Vec<JsonTemplate>),
    /// An object holding a placeholder somewhere.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Splits `value` at the placeholders of its strings (`${` is text in them).
    pub fn split(value: &Value) -> Self {
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
                let items: Vec<Self> = items.iter().map(Self::split).collect();
                if items.iter().all(|i| matches!(i, Self::Json(_))) {
                    literal()
                } else {
                    Self::Array(items)
                }
            }
            Value::Object(map) => {
                let fields: Vec<(String, Self)> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), Self::split(v)))
                    .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holes::Part;

    #[test]
    fn literal_json_stays_whole_and_only_what_has_placeholders_is_split() {
        let value = serde_json::json!({
            "user": " {{ user }} ",
            "label": "n={{n}}",
            "list": ["{{n}}", 1],
            "fixed": {"a": [1, "x"]},
            "cost": "${not_env}"
        });
        let JsonTemplate::Object(fields) = JsonTemplate::split(&value) else {
            panic!("an object with placeholders")
        };
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("user"), Some(JsonTemplate::Variable("user".into())));
        assert_eq!(
            get("label"),
            Some(JsonTemplate::Text(Template {
                parts: vec![Part::Text("n=".into()), Part::Param("n".into())]
            }))
        );
        assert_eq!(
            get("list"),
            Some(JsonTemplate::Array(vec![
                JsonTemplate::Variable("n".into()),
                JsonTemplate::Json("1".into())
            ]))
        );
        assert_eq!(
            get("fixed"),
            Some(JsonTemplate::Json(r#"{"a":[1,"x"]}"#.into()))
        );
        assert_eq!(
            get("cost"),
            Some(JsonTemplate::Json(r#""${not_env}""#.into()))
        );
    }
}
