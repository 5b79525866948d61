//! Adding the dependencies a plan needs to the user's Cargo.toml, preserving everything else.
//!
//! The rendered manifest says what the generated code needs; the user's file says everything
//! else. Every dependency table of the rendered one (`[dependencies]`, `[dev-dependencies]`,
//! `[build-dependencies]` and their `[target.'cfg(..)'.*]` forms) is merged in: a missing
//! entry is added whole, an existing one only gains the features it lacks. Nothing is ever
//! removed: an entry pforge added for a config that no longer needs it cannot be told apart
//! from one the user's own handlers came to rely on, and an unused dependency still compiles.
//! The version record (`[package.metadata.pforge]`, see `record.rs`) is set to the rendered one.

use toml_edit::{Array, DocumentMut, Item, Key, TableLike, Value};

/// The tables that hold dependencies, at the top level or under `[target.'cfg(..)']`.
const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

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
    for table in DEPENDENCY_TABLES {
        if let Some(deps) = wanted.get(table).and_then(Item::as_table_like) {
            merge_dependencies(&mut doc, &[Key::new(table)], deps)?;
        }
    }
    let targets = wanted.get("target").and_then(Item::as_table_like);
    for (cfg, tables) in targets.into_iter().flat_map(TableLike::iter) {
        // The rendered key, so that a new table is spelled `'cfg(unix)'` as cargo's docs do.
        let Some(cfg) = targets.and_then(|t| t.key(cfg)) else {
            continue;
        };
        for table in DEPENDENCY_TABLES {
            if let Some(deps) = tables.get(table).and_then(Item::as_table_like) {
                let path = [Key::new("target"), cfg.clone(), Key::new(table)];
                merge_dependencies(&mut doc, &path, deps)?;
            }
        }
    }
    super::record::write(&mut doc, &wanted)?;
    Ok(doc.to_string())
}

/// Merges the entries of `wanted` into the dependency table at `path`. A target-specific
/// entry the user already declares for every target gains its features there instead:
/// cargo unifies the two, and a second entry could ask for another version.
fn merge_dependencies(
    doc: &mut DocumentMut,
    path: &[Key],
    wanted: &dyn TableLike,
) -> Result<(), String> {
    let everywhere = path.last().filter(|_| path.len() > 1).cloned();
    for (name, spec) in wanted.iter() {
        if let Some(current) = entry_mut(doc, path, name) {
            raise_version(current, spec);
            add_features(current, spec);
            continue;
        }
        let plain = everywhere.as_ref().map(std::slice::from_ref);
        if let Some(current) = plain.and_then(|table| entry_mut(doc, table, name)) {
            raise_version(current, spec);
            add_features(current, spec);
            continue;
        }
        table_mut(doc, path)?.insert(name, spec.clone());
    }
    Ok(())
}

/// The entry `name` of the table at `path`, when both exist.
fn entry_mut<'a>(doc: &'a mut DocumentMut, path: &[Key], name: &str) -> Option<&'a mut Item> {
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for key in path {
        table = table.get_mut(key.get())?.as_table_like_mut()?;
    }
    table.get_mut(name)
}

/// The table at `path`, created when missing; the tables above the last are implicit, so a
/// new one reads `[target.'cfg(unix)'.dependencies]` as a user would write it.
fn table_mut<'a>(doc: &'a mut DocumentMut, path: &[Key]) -> Result<&'a mut dyn TableLike, String> {
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for (depth, key) in path.iter().enumerate() {
        let mut new = toml_edit::Table::new();
        new.set_implicit(depth + 1 < path.len());
        table = table
            .entry_format(key)
            .or_insert(Item::Table(new))
            .as_table_like_mut()
            .ok_or_else(|| {
                let path: Vec<&str> = path[..=depth].iter().map(Key::get).collect();
                format!("`{}` is not a table", path.join("."))
            })?;
    }
    Ok(table)
}

/// Raises the version `current` requires to the one `wanted` requires when both are plain
/// (`1.2`, `^1.2`) and the user's is lower: the generated code may use what that version
/// added, and the crate's Cargo.lock would otherwise keep an older one that satisfies the
/// old requirement. A higher version (the user's bump), any other form (`=1.2.3`,
/// `>=1, <2`) and a path or git dependency stay as they are.
fn raise_version(current: &mut Item, wanted: &Item) {
    let wanted = match wanted {
        Item::Value(Value::String(v)) => Some(v.value().as_str()),
        other => other.get("version").and_then(Item::as_str),
    };
    let Some((wanted, minimum)) = wanted.and_then(|w| Some((w, plain_version(w)?))) else {
        return;
    };
    let slot = match current {
        Item::Value(Value::String(_)) => current.as_value_mut(),
        _ => current
            .as_table_like_mut()
            .filter(|t| !t.contains_key("path") && !t.contains_key("git"))
            .and_then(|t| t.get_mut("version"))
            .and_then(Item::as_value_mut),
    };
    let Some(slot) = slot else {
        return;
    };
    if slot
        .as_str()
        .and_then(plain_version)
        .is_some_and(|have| have < minimum)
    {
        let decor = slot.decor().clone();
        *slot = Value::from(wanted);
        *slot.decor_mut() = decor;
    }
}

/// The numbers of a caret requirement with up to three parts, padded with zeros (`1.2` is
/// `[1, 2, 0]`); `None` for any other form.
fn plain_version(requirement: &str) -> Option<[u64; 3]> {
    let digits = requirement.strip_prefix('^').unwrap_or(requirement);
    let mut parts = [0; 3];
    for (index, part) in digits.split('.').enumerate() {
        *parts.get_mut(index)? = part.parse().ok()?;
    }
    Some(parts)
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
    // The comment after a bare version (`tokio = "1" # why`) is the value's decor: it moves
    // to the table that replaces it.
    if let Some(Value::String(version)) = current.as_value() {
        let mut table = toml_edit::InlineTable::new();
        table.insert("version", version.value().as_str().into());
        let mut value = Value::InlineTable(table);
        *value.decor_mut() = version.decor().clone();
        *current = Item::Value(value);
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
    fn adds_target_specific_dependencies() {
        let existing = "[package]\nname = \"x\"\n\n[dependencies]\ntokio = \"1\"\n";
        let rendered = "[dependencies]\ntokio = \"1\"\n\n[target.'cfg(unix)'.dependencies]\nnix = { version = \"0.30\", features = [\"signal\"] }\n";
        let merged = merge_manifest(existing, rendered).unwrap_or_default();
        assert!(
            merged.ends_with(
                "\n[target.'cfg(unix)'.dependencies]\nnix = { version = \"0.30\", features = [\"signal\"] }\n"
            ),
            "{merged}"
        );
        assert_eq!(
            merge_manifest(&merged, rendered).as_deref(),
            Ok(merged.as_str())
        );
    }

    #[test]
    fn a_target_dependency_the_user_declared_gains_only_features() {
        // One declared for every target, and one in the target table with the user's version.
        let everywhere = "[dependencies]\nnix = \"0.31\" # mine\n";
        let rendered = "[target.'cfg(unix)'.dependencies]\nnix = { version = \"0.30\", features = [\"signal\"] }\n";
        let merged = merge_manifest(everywhere, rendered).unwrap_or_default();
        assert_eq!(
            merged,
            "[dependencies]\nnix = { version = \"0.31\", features = [\"signal\"] } # mine\n"
        );
        let targeted = "[target.'cfg(unix)'.dependencies]\nnix = { version = \"0.31\", features = [\"fs\"] }\n";
        let merged = merge_manifest(targeted, rendered).unwrap_or_default();
        assert_eq!(
            merged,
            "[target.'cfg(unix)'.dependencies]\nnix = { version = \"0.31\", features = [\"fs\", \"signal\"] }\n"
        );
    }

    #[test]
    fn a_dependency_table_that_is_not_a_table_is_an_error() {
        let rendered = "[target.'cfg(unix)'.dependencies]\nnix = \"0.30\"\n";
        assert!(merge_manifest("target = 1\n", rendered).is_err());
    }

    #[test]
    fn raises_a_lower_version_and_keeps_a_higher_or_pinned_one() {
        let rendered = "[dependencies]\nrmcp = { version = \"3.11\", features = [\"server\"] }\nserde = \"1\"\nnix = \"0.30\"\ntokio = \"1.40\"\n";
        let existing = "[dependencies]\nrmcp = { version = \"3.10.2\", features = [\"server\"] } # old\nserde = \"1.0.200\"\nnix = \"=0.29.0\"\ntokio = { path = \"../tokio\", version = \"1.30\" }\n";
        let merged = merge_manifest(existing, rendered).unwrap_or_default();
        assert_eq!(
            merged,
            "[dependencies]\nrmcp = { version = \"3.11\", features = [\"server\"] } # old\nserde = \"1.0.200\"\nnix = \"=0.29.0\"\ntokio = { path = \"../tokio\", version = \"1.30\" }\n"
        );
        let bare = merge_manifest("[dependencies]\nserde = \"0.9\" # mine\n", rendered)
            .unwrap_or_default();
        assert!(
            bare.starts_with("[dependencies]\nserde = \"1\" # mine\n"),
            "{bare}"
        );
    }

    #[test]
    fn reports_a_manifest_that_does_not_parse() {
        assert!(merge_manifest("[dependencies\n", "[dependencies]\n").is_err());
    }
}
