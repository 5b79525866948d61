//! Adding the dependencies a plan needs to the user's Cargo.toml, preserving everything else.

use toml_edit::{Array, DocumentMut, Item, Value};

/// Merges `rendered` (the manifest pforge would write) into `existing` (the user's): missing
/// dependency tables and entries are added, missing features are appended; nothing the user
/// wrote is removed or reordered, and comments and formatting stay.
pub fn merge_manifest(existing: &str, rendered: &str) -> Result<String, String> {
    let mut doc: DocumentMut = existing
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_owned())?;
    let wanted: DocumentMut = rendered
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_owned())?;
    for table in ["dependencies", "dev-dependencies"] {
        let Some(wanted_deps) = wanted.get(table).and_then(Item::as_table_like) else {
            continue;
        };
        if doc.get(table).is_none() {
            doc[table] = toml_edit::table();
        }
        let Some(deps) = doc.get_mut(table).and_then(Item::as_table_like_mut) else {
            return Err(format!("`{table}` is not a table"));
        };
        for (name, spec) in wanted_deps.iter() {
            match deps.get_mut(name) {
                None => {
                    deps.insert(name, spec.clone());
                }
                Some(current) => add_features(current, spec),
            }
        }
    }
    Ok(doc.to_string())
}

/// Appends the features `wanted` lists that `current` lacks. A dependency given as a bare
/// version string becomes an inline table to carry them.
fn add_features(current: &mut Item, wanted: &Item) {
    let wanted_features: Vec<String> = wanted
        .get("features")
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if wanted_features.is_empty() {
        return;
    }
    if let Some(version) = current.as_str().map(str::to_owned) {
        let mut table = toml_edit::InlineTable::new();
        table.insert("version", version.into());
        *current = Item::Value(Value::InlineTable(table));
    }
    let Some(table) = current.as_table_like_mut() else {
        return;
    };
    if table.get("features").is_none() {
        table.insert("features", Item::Value(Value::Array(Array::new())));
    }
    let Some(features) = table.get_mut("features").and_then(Item::as_array_mut) else {
        return;
    };
    for feature in wanted_features {
        if !features
            .iter()
            .any(|f| f.as_str() == Some(feature.as_str()))
        {
            features.push(feature);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_dependencies_and_features_and_keeps_the_rest() {
        let existing = "[package]\nname = \"x\" # mine\n\n[dependencies]\n# pinned on purpose\ntokio = \"1.40\"\nanyhow = \"1\"\n";
        let rendered = "[dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt\"] }\nserde = \"1\"\n";
        let merged = merge_manifest(existing, rendered).unwrap_or_default();
        assert!(merged.contains("name = \"x\" # mine"));
        assert!(merged.contains("# pinned on purpose"));
        assert!(merged.contains("anyhow = \"1\""));
        assert!(
            merged.contains("tokio = { version = \"1.40\", features = [\"macros\", \"rt\"] }"),
            "{merged}"
        );
        assert!(merged.contains("serde = \"1\""));
        assert_eq!(
            merge_manifest(&merged, rendered).as_deref(),
            Ok(merged.as_str())
        );
    }

    #[test]
    fn reports_a_manifest_that_does_not_parse() {
        assert!(merge_manifest("[dependencies\n", "[dependencies]\n").is_err());
    }
}
