//! The pipeline's layers are one-way: each module of `src/` refers only to the modules its
//! layer lists in [`LAYERS`], all of which sit below it. The check parses every file with
//! `syn` and resolves every path it names in the crate (`use crate::…`, `use super::…`,
//! inline `crate::a::b` and `super::super::c` in types, expressions, attributes and macro
//! arguments), so an alias or a relative path cannot slip past it.

mod exposure;
mod resolve;
mod self_tests;

use std::path::{Path, PathBuf};

use exposure::Exposure;
use resolve::{Collector, Found, Reference};

/// A top-level module of `src/` and what it may refer to.
struct Layer {
    /// The module (`lib` and `main` for the crate roots).
    module: &'static str,
    /// The modules it may use besides itself, each listed earlier in [`LAYERS`].
    uses: &'static [&'static str],
}

/// Bottom modules: vocabulary shared by every layer, using nothing of the crate.
const BOTTOM: &[&str] = &["holes", "naming", "diagnostics", "defaults", "vocab"];

/// The layers from the bottom up. Why each edge exists:
/// - `config` (the typed config language) names bottom vocabulary and reads its defaults
///   (schema attributes) from `defaults`.
/// - `schema` is generated from `config`'s types.
/// - `load` turns text into `config`, validating against `schema` and reporting with
///   `diagnostics`.
/// - `plan` resolves a checked `config` into the IR; it never sees the loader.
/// - `emit` reads the plan only: everything it writes was resolved once, in `plan`.
/// - `write` puts the files `emit` produced on disk (it knows their type, not the plan).
/// - `project` runs the pipeline end to end and writes `forge.schema.json` beside it.
/// - `lib` declares the modules and `main` is the CLI over all of them.
#[rustfmt::skip]
const LAYERS: &[Layer] = &[
    Layer { module: "holes", uses: &[] },
    Layer { module: "naming", uses: &[] },
    Layer { module: "diagnostics", uses: &[] },
    Layer { module: "defaults", uses: &[] },
    Layer { module: "vocab", uses: &[] },
    Layer { module: "config", uses: BOTTOM },
    Layer { module: "schema", uses: &["config"] },
    Layer { module: "load", uses: &["config", "schema", "holes", "naming", "diagnostics", "defaults", "vocab"] },
    Layer { module: "plan", uses: &["config", "holes", "naming", "defaults", "vocab"] },
    Layer { module: "emit", uses: &["plan", "holes", "naming", "defaults", "vocab"] },
    Layer { module: "write", uses: &["emit", "naming"] },
    Layer { module: "project", uses: &["config", "schema", "load", "plan", "emit", "write", "naming", "diagnostics", "defaults"] },
    Layer { module: "lib", uses: &["config", "diagnostics", "emit", "holes", "load", "naming", "plan", "project", "schema", "write", "defaults", "vocab"] },
    Layer { module: "main", uses: &["lib", "config", "diagnostics", "emit", "holes", "load", "naming", "plan", "project", "schema", "write", "defaults", "vocab"] },
];

fn layer(module: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.module == module)
}

#[test]
fn the_table_is_one_way() {
    for (index, layer) in LAYERS.iter().enumerate() {
        for used in layer.uses {
            assert!(
                LAYERS[..index].iter().any(|l| l.module == *used),
                "LAYERS: `{}` uses `{used}`, which is not listed below it",
                layer.module
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`load/semantic/mod.rs` is `["load", "semantic"]`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// One file of `src/`: what it names, with its own top-level module.
struct Scanned {
    own: String,
    found: Found,
    /// The crate types its `pub` items expose (plan files only).
    exposed: Vec<(String, String, Vec<String>)>,
}

/// Scans one file's text, shown as `shown`, holding `module` (`["lib"]` and `["main"]` for
/// the crate roots).
fn scan(shown: &str, module: &[String], text: &str) -> Scanned {
    let syntax = syn::parse_file(text).unwrap_or_else(|e| panic!("{shown}: does not parse: {e}"));
    let roots = module == ["lib"] || module == ["main"];
    let inner = if roots { Vec::new() } else { module.to_vec() };
    let found = Collector::collect(shown, inner.clone(), module == ["main"], &syntax);
    let exposed = if module[0] == "plan" {
        Exposure::collect(shown, inner, &found.imports, &syntax)
    } else {
        Vec::new()
    };
    Scanned {
        own: module[0].clone(),
        found,
        exposed,
    }
}

/// Every file under `src/`, scanned.
fn scanned() -> Vec<Scanned> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ has {} files", files.len());
    files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).unwrap_or(file).to_owned();
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{e}"));
            scan(
                &format!("src/{}", relative.display()),
                &module_of(&relative),
                &text,
            )
        })
        .collect()
}

/// What a reference breaks, if anything: `None` when `own` may use its target.
fn broken_rule(own: &str, reference: &Reference) -> Option<String> {
    let Some(target) = reference.target.first() else {
        // The crate root itself (`use crate::{…}` is split into its leaves).
        return None;
    };
    if target == own || (own == "main" && target == "lib" && reference.target.len() == 1) {
        return None;
    }
    let target = if target == "lib" {
        reference.target.get(1)?
    } else {
        target
    };
    let Some(layer) = layer(own) else {
        return Some(format!("module `{own}` is in no layer: add it to LAYERS"));
    };
    if layer.uses.contains(&target.as_str()) {
        return None;
    }
    Some(match crate::layer(target) {
        None => format!("`{target}` is in no layer: add it to LAYERS"),
        Some(_) => format!("`{own}` may use only {:?}, not `{target}`", layer.uses),
    })
}

/// Each reference of `files` that breaks its layer, as `file:line: path: rule`.
fn layer_breaks(files: &[Scanned]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        for reference in &file.found.references {
            if let Some(rule) = broken_rule(&file.own, reference) {
                broken.push(format!("{}: `{}`: {rule}", reference.at, reference.written));
            }
        }
    }
    broken
}

/// Each construct of `files` the resolver cannot see past.
fn forbidden(files: &[Scanned]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| f.found.forbidden.iter().cloned())
        .collect()
}

/// Each way the plan hands a `config` or `load` type to whoever uses it: a re-export of any
/// visibility but private, or a `pub` item whose field, return type or aliased type names one.
fn handed_through(files: &[Scanned]) -> Vec<String> {
    let config_or_load =
        |target: &[String]| matches!(target.first().map(String::as_str), Some("config" | "load"));
    let mut broken = Vec::new();
    for file in files.iter().filter(|f| f.own == "plan") {
        for reference in &file.found.references {
            if let Some(vis) = &reference.reexport
                && config_or_load(&reference.target)
            {
                broken.push(format!(
                    "{}: `{vis} use {}`: the plan re-exports a type of the config or the loader, \
                     which emit could then use: give the plan its own",
                    reference.at, reference.written
                ));
            }
        }
        for (at, written, target) in &file.exposed {
            if config_or_load(target) {
                broken.push(format!(
                    "{at}: `{written}`: a `pub` item of the plan shows a type of the config or \
                     the loader to emit: make the item `pub(crate)` or give the plan its own type"
                ));
            }
        }
    }
    broken
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let broken = layer_breaks(&scanned());
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn no_file_hides_a_path_from_the_check() {
    let broken = forbidden(&scanned());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_plan_does_not_hand_config_or_loader_types_through() {
    // emit may use the plan, so a type the plan re-exports or shows from `config` or `load`
    // would be a way around the layers. Bottom vocabulary (`vocab`) sits below config and may
    // be handed through.
    let broken = handed_through(&scanned());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
