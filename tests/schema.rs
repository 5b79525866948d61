//! The committed JSON Schema is the one the types generate, and it is complete enough for an
//! editor: every property described, closed objects, draft-07.

use serde_json::Value;

const COMMITTED: &str = include_str!("../schema/forge.schema.json");

#[test]
fn committed_schema_is_up_to_date() {
    let generated = pforge::schema::forge_schema_text();
    if generated != COMMITTED {
        if std::env::var_os("PFORGE_BLESS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/forge.schema.json");
            std::fs::write(path, &generated).unwrap_or_else(|e| panic!("{e}"));
        }
        panic!(
            "schema/forge.schema.json is stale: run `cargo run -- schema > schema/forge.schema.json` (or set PFORGE_BLESS=1)"
        );
    }
}

#[test]
fn schema_is_draft_07() {
    let schema: Value = serde_json::from_str(COMMITTED).unwrap_or_default();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema.get("definitions").is_some());
    assert!(schema.get("$defs").is_none());
}

/// Walks every subschema, calling `f` with its JSON pointer.
fn walk<'a>(value: &'a Value, at: String, f: &mut impl FnMut(&str, &'a Value)) {
    f(&at, value);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                walk(v, format!("{at}/{k}"), f);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, format!("{at}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn every_property_has_a_description() {
    let schema: Value = serde_json::from_str(COMMITTED).unwrap_or_default();
    let mut missing = Vec::new();
    walk(&schema, String::new(), &mut |at, node| {
        if at.ends_with("/properties") {
            for (name, property) in node.as_object().into_iter().flatten() {
                // The `type` tag of a tagged union is described by its branch.
                let described = property.get("description").is_some();
                if !described && name != "type" {
                    missing.push(format!("{at}/{name}"));
                }
            }
        }
    });
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:#?}"
    );
}

#[test]
fn every_object_is_closed() {
    let schema: Value = serde_json::from_str(COMMITTED).unwrap_or_default();
    let mut open = Vec::new();
    walk(&schema, String::new(), &mut |at, node| {
        if node.get("properties").is_some()
            && node.get("additionalProperties") != Some(&Value::Bool(false))
        {
            open.push(at.to_owned());
        }
    });
    assert!(
        open.is_empty(),
        "objects that accept unknown keys: {open:#?}"
    );
}

#[test]
fn closed_sets_are_enums_and_defaults_are_documented() {
    let schema: Value = serde_json::from_str(COMMITTED).unwrap_or_default();
    let defs = &schema["definitions"];
    let transport = serde_json::to_string(&defs["Transport"]).unwrap_or_default();
    assert!(transport.contains("\"stdio\"") && transport.contains("\"http\""));
    assert_eq!(
        defs["CircuitBreaker"]["properties"]["failure_threshold"]["default"],
        5
    );
    assert_eq!(defs["Retry"]["properties"]["max_attempts"]["default"], 3);
    assert_eq!(defs["Duration"]["examples"][0], "100ms");
}

#[test]
fn the_schema_accepts_the_examples_and_rejects_an_unknown_key() {
    let validator = pforge::load::validator();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let value: Value = serde_saphyr::from_str(&text).unwrap_or_default();
        assert!(validator.is_valid(&value), "{}", entry.path().display());
        checked += 1;
    }
    assert!(checked > 0);
    let bad = serde_json::json!({"forge": {"name": "x", "version": "1.0.0", "colour": "red"}});
    assert!(!validator.is_valid(&bad));
}

/// A retry `policy` defaults to the most attempts the schema allows, so that the policy's own
/// limit is the one that counts.
#[test]
fn a_policys_default_attempts_are_the_schemas_maximum() {
    let schema = pforge::schema::forge_schema();
    let maximum = &schema["definitions"]["Retry"]["properties"]["max_attempts"]["maximum"];
    assert_eq!(
        maximum.as_u64(),
        Some(u64::from(pforge::defaults::POLICY_MAX_ATTEMPTS)),
        "{maximum}"
    );
}
