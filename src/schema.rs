//! The JSON Schema of `forge.yaml`, generated from [`crate::config::Config`].

use schemars::generate::SchemaSettings;
use serde_json::Value;

/// Draft-07, the dialect the YAML language server understands.
pub fn forge_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator
        .into_root_schema_for::<crate::config::Config>()
        .to_value();
    // `key:` with nothing after it must not silently mean "no policy", so optional keys do not
    // accept null.
    strip_null(&mut schema);
    schema
}

/// The schema as committed in `schema/forge.schema.json`: pretty-printed, newline-terminated.
pub fn forge_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&forge_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Removes the `null` alternative schemars adds to every `Option` field.
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    branches.retain(|b| b.get("type").and_then(Value::as_str) != Some("null"));
                    if branches.len() == 1
                        && let Some(Value::Object(only)) = branches.pop()
                    {
                        map.remove(key);
                        for (k, v) in only {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
